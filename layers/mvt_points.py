"""Point-only MVT layers written directly as protobuf bytes (clustered event tiles).

`mapbox_vector_tile.encode` builds a protobuf object per feature and checks every property
through several Python calls: for the ~1,000 cluster points of a z11 event tile that was
as slow as the whole database query. A cluster tile is nothing but points with the same
few integer (and one boolean) properties, so it is written here straight from arrays, byte
for byte what `mapbox_vector_tile.encode` writes for the same features (tests compare the
bytes): keys and values in order of first use, ``int_value`` for integers,
``bool_value`` for booleans, layer version 2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

_SMALL = 1 << 14
"""Varints below this are looked up, not computed (tag and coordinate values)."""


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_VARINTS = [_varint(i) for i in range(_SMALL)]


def varint(n: int) -> bytes:
    """Protobuf base-128 varint of a non-negative int (negatives as 64-bit two's complement)."""
    if 0 <= n < _SMALL:
        return _VARINTS[n]
    return _varint(n & 0xFFFFFFFFFFFFFFFF)


def _field(tag: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2) with a one-byte tag."""
    return bytes((tag,)) + varint(len(payload)) + payload


def _zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def encode_points(
    name: str,
    x: Sequence[int] | np.ndarray,
    y: Sequence[int] | np.ndarray,
    properties: Mapping[str, Sequence[int] | Sequence[bool] | np.ndarray],
    extent: int = 4096,
) -> bytes:
    """One MVT layer of points at integer tile coordinates (y down), each with the given
    properties (one value per point: int or bool); ``b""`` for no points."""
    n = len(x)
    if n == 0:
        return b""
    keys = list(properties)
    columns = [np.asarray(properties[k]).tolist() for k in keys]
    key_index = {k: i for i, k in enumerate(keys)}
    values: list[bytes] = []
    seen: dict[tuple[bool, int], int] = {}  # (is bool, value): bools apart, True != 1 here
    features = []
    xs, ys = np.asarray(x, dtype=np.int64).tolist(), np.asarray(y, dtype=np.int64).tolist()
    geometry_head = b"\x22"  # field 4 (geometry), packed
    for i in range(n):
        tags = bytearray()
        for k, col in zip(keys, columns, strict=True):
            v = col[i]
            is_bool = isinstance(v, bool)
            at = seen.get((is_bool, v))
            if at is None:
                at = seen[is_bool, v] = len(values)
                values.append(
                    b"\x38\x01" if v is True else b"\x38\x00" if is_bool else b"\x20" + varint(v)
                )
            tags += varint(key_index[k])
            tags += varint(at)
        geometry = b"\x09" + varint(_zigzag(xs[i])) + varint(_zigzag(ys[i]))
        body = (
            _field(0x12, bytes(tags))
            + b"\x18\x01"
            + geometry_head
            + varint(len(geometry))
            + geometry
        )
        features.append(_field(0x12, body))
    layer = (
        _field(0x0A, name.encode())
        + b"".join(features)
        + b"".join(_field(0x1A, k.encode()) for k in keys)
        + b"".join(_field(0x22, v) for v in values)
        + b"\x28"
        + varint(extent)
        + b"\x78\x02"
    )
    return _field(0x1A, layer)


__all__ = ["encode_points", "varint"]
