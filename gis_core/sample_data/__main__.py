"""``python -m gis_core.sample_data 340111 --out data/sample_grids``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .config import DEFAULT_SEED, DISTRICTS, UnknownDistrictError
from .generate import generate


def main(argv: list[str] | None = None) -> int:
    known = ", ".join(f"{c} ({s.name})" for c, s in sorted(DISTRICTS.items()))
    parser = argparse.ArgumentParser(
        prog="python -m gis_core.sample_data",
        description="Generate seeded sample grids, buildings and components for a district.",
    )
    parser.add_argument("district", help=f"district code: {known}")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--grids", type=int, default=None, help="override the grid count")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        counts = generate(
            args.district, args.out, seed=args.seed, grids=args.grids, progress=not args.quiet
        )
    except UnknownDistrictError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    print(f"wrote {args.out}: {summary} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
