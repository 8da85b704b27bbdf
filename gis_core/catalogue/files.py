"""The catalogue as a file: CSV (UTF-8 with BOM, so Excel opens Chinese correctly) or
XLSX (openpyxl), one entry per row, English column names in the header row; an XLSX file
has a second sheet ``columns`` with each column's Chinese name.

Reading checks every row (``parse_entries``) and refuses the whole file on the first bad
row, naming the row and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gis_core.catalogue.entries import COLUMNS, CatalogueError, Entry, parse_entries

MAX_FILE_BYTES = 10 * 1024 * 1024
FORMATS = ("csv", "xlsx")


def file_format(path: Path | str) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise CatalogueError(f"catalogue files are .csv or .xlsx, not {path}", "file")
    return suffix


def _row(entry: Entry) -> list[Any]:
    values = entry.as_dict()
    values["co_unit_codes"] = " ".join(entry.co_unit_codes)
    return ["" if values[c] is None else values[c] for c in COLUMNS]


def write_catalogue(entries: Iterable[Entry], path: Path | str) -> int:
    """Write the entries; returns how many."""
    entries = list(entries)
    path = Path(path)
    if file_format(path) == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS)
            for e in entries:
                writer.writerow(
                    [str(v).lower() if isinstance(v, bool) else v for v in _row(e)]
                )
        return len(entries)
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "catalogue"
    sheet.append(list(COLUMNS))
    for e in entries:
        sheet.append(_row(e))
    legend = book.create_sheet("columns")
    legend.append(["column", "说明"])
    for name, label in COLUMNS.items():
        legend.append([name, label])
    book.save(path)
    return len(entries)


def _rows_from_table(header: list[Any], rows: Iterable[list[Any]]) -> list[dict[str, Any]]:
    names = [str(h).strip() if h is not None else "" for h in header]
    out = []
    for values in rows:
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        out.append({n: v for n, v in zip(names, values, strict=False) if n})
    return out


def read_catalogue(path: Path | str) -> list[Entry]:
    """The entries of a CSV or XLSX file (CatalogueError on any bad row)."""
    path = Path(path)
    kind = file_format(path)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise CatalogueError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MB", "file")
    if kind == "csv":
        text = path.read_text(encoding="utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        if not rows:
            raise CatalogueError(f"{path} is empty", "file")
        return parse_entries(_rows_from_table(rows[0], rows[1:]))
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book["catalogue"] if "catalogue" in book.sheetnames else book.worksheets[0]
        table = [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    if not table:
        raise CatalogueError(f"{path} is empty", "file")
    return parse_entries(_rows_from_table(table[0], table[1:]))
