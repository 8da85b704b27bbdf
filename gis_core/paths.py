"""Where the project's own data lives in a checkout."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = Path(os.environ.get("GRIDGOV_SAMPLE_DIR", REPO_ROOT / "data" / "sample_grids"))
DISTRICTS_DIR = REPO_ROOT / "data" / "districts"
CACHE_DIR = Path(os.environ.get("GRIDGOV_CACHE_DIR", REPO_ROOT / "data" / "cache"))
