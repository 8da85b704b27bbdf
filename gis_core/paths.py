"""Where the project's own data lives: in a checkout, or inside the installed package.

A checkout (and an editable install) reads ``data/`` and ``web/dist`` beside the code. A
regular ``pip install .`` copies the same files into ``gis_core/_shipped/`` (setup.py's
``build_py``), so ``gridgov demo`` works from any directory without the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGED = Path(__file__).resolve().parent / "_shipped"
"""The data a non-editable install carries (sample_grids, districts, web_dist)."""


def _located(checkout: Path, packaged: Path) -> Path:
    return checkout if checkout.exists() else packaged


IN_CHECKOUT = (REPO_ROOT / "data" / "sample_grids").is_dir()
SAMPLE_DIR = Path(
    os.environ.get(
        "GRIDGOV_SAMPLE_DIR",
        _located(REPO_ROOT / "data" / "sample_grids", PACKAGED / "sample_grids"),
    )
)
DISTRICTS_DIR = _located(REPO_ROOT / "data" / "districts", PACKAGED / "districts")
WEB_DIST = _located(REPO_ROOT / "web" / "dist", PACKAGED / "web_dist")
"""The built console (committed in the checkout; shipped in the package)."""
CACHE_DIR = Path(
    os.environ.get(
        "GRIDGOV_CACHE_DIR",
        REPO_ROOT / "data" / "cache" if IN_CHECKOUT else Path.home() / ".cache" / "gridgov",
    )
)
