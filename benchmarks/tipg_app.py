"""tipg's FastAPI app as a factory, so ``bench_tiles.py`` can run it under the same
supervisor, socket and worker count as ``gridgov serve`` (benchmark only; needs the
``bench`` extra: ``pip install -e ".[bench]"``)."""

from __future__ import annotations

from typing import Any


def create() -> Any:
    from tipg.main import app

    return app
