"""`json_depth` counts nesting alike on its two paths (few brackets: a Python loop; many:
numpy), skipping brackets inside strings."""

from __future__ import annotations

import json

import pytest

from api.hardening import _FEW_BRACKETS, json_depth


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"", 0),
        (b"1", 0),
        (b"{}", 1),
        (b'{"a": [1, {"b": "[[[{{{"}], "c": "\\"]]"}', 3),
        (b'[[["]"]]]', 3),
        (b"]]]", 0),  # broken JSON: never deeper than what opened
    ],
)
def test_depth(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth


@pytest.mark.parametrize("levels", [_FEW_BRACKETS // 2, _FEW_BRACKETS, 5 * _FEW_BRACKETS])
def test_deep_and_wide_bodies_on_either_path(levels: int) -> None:
    deep = b"[" * levels + b"]" * levels
    assert json_depth(deep) == levels
    wide = json.dumps([[i, {"s": "[{"}] for i in range(levels)]).encode()
    assert json_depth(wide) == 3
