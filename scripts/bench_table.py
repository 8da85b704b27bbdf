"""Rebuild the README's benchmark table from `benchmarks/results/*.json`.

Each benchmark script records the rows it contributes (`benchmarks/results.py`); this
script writes them, with each file's date and load note, between the
``<!-- bench:start -->`` and ``<!-- bench:end -->`` markers in README.md, so the table
is never typed in by hand.

    python scripts/bench_table.py            # rewrite README.md
    python scripts/bench_table.py --check    # exit 1 if README.md is stale (CI)
    python scripts/bench_table.py --readme X.md --results DIR

Exit codes: 0 done (or up to date), 1 stale (--check), 2 bad input (no markers, a
results file that is not a valid record), with a one-line message.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- bench:start -->"
END = "<!-- bench:end -->"
ROW_KEYS = ("path", "gridgov", "peer", "ratio", "goal")
HEADER = ("path (script)", "gridgov", "peer or floor, same run", "ratio", "goal")
ALIGN = (":--", "--:", "--:", "--:", ":--")
ORDER = (
    "locate",
    "api",
    "batch_locate",
    "province",
    "tiles",
    "event_list",
    "event_tiles",
    "intake",
    "analytics",
    "integrations",
)
"""Row order of the table (the hot paths of issue 15 first); other benches follow by name."""


class TableError(Exception):
    """Bad input: the message is shown as is, exit code 2."""


def load_results(folder: Path) -> list[dict]:
    """Every `<bench>.json` in `folder`, checked, in table order."""
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TableError(f"{path}: not readable JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise TableError(f"{path}: expected an object with bench, date, load, rows")
        for key in ("bench", "date", "load", "rows"):
            if key not in data:
                raise TableError(f"{path}: no {key!r}")
        if data["bench"] != path.stem:
            raise TableError(f"{path}: bench {data['bench']!r} differs from the file name")
        rows = data["rows"]
        if not isinstance(rows, list) or not rows:
            raise TableError(f"{path}: 'rows' must be a non-empty list")
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or any(k not in row for k in ROW_KEYS):
                raise TableError(f"{path}: row {i} needs keys {', '.join(ROW_KEYS)}")
        records.append(data)
    if not records:
        raise TableError(f"no results in {folder} (run a benchmark script first)")
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(records, key=lambda d: (rank.get(d["bench"], len(ORDER)), d["bench"]))


def cell(value: object) -> str:
    """One table cell: pipes escaped, line breaks flattened, empty shown as a dash."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text or "—"


def render(records: list[dict]) -> str:
    """The markdown between the markers: the table, then each run's date and load."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join(ALIGN) + "|"]
    for data in records:
        script = data.get("script") or f"benchmarks/bench_{data['bench']}.py"
        name = Path(script).name
        for row in data["rows"]:
            first = f"{cell(row['path'])} (`{name}`)"
            rest = [cell(row[k]) for k in ROW_KEYS[1:]]
            lines.append("| " + " | ".join([first, *rest]) + " |")
    lines += ["", "Runs (each file in `benchmarks/results/`; the machine is shared, so compare "
              "within a row):", ""]
    for data in records:
        name = Path(data.get("script") or f"bench_{data['bench']}.py").name
        lines.append(f"- `{name}`: {cell(data['date'])}, {cell(data['load'])}")
    return "\n".join(lines)


def replace_between(text: str, body: str) -> str:
    """`text` with everything between the markers replaced by `body`."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < 0:
        raise TableError(f"README has no {START} ... {END} markers")
    if end < start or text.count(START) != 1 or text.count(END) != 1:
        raise TableError(f"README needs exactly one {START} before one {END}")
    head = text[: start + len(START)]
    return f"{head}\n{body}\n{text[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--check", action="store_true", help="exit 1 if README is stale")
    args = parser.parse_args(argv)
    try:
        text = args.readme.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"bench_table: cannot read {args.readme}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        new = replace_between(text, render(load_results(args.results)))
    except TableError as exc:
        print(f"bench_table: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if new != text:
            print(f"bench_table: {args.readme} is stale; run python scripts/bench_table.py",
                  file=sys.stderr)
            return 1
        print(f"{args.readme}: benchmark table up to date")
        return 0
    if new != text:
        args.readme.write_text(new, encoding="utf-8")
        print(f"{args.readme}: benchmark table rewritten")
    else:
        print(f"{args.readme}: benchmark table already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
