"""One catalogue entry: its columns (English names with the Chinese beside them), its
checks, and the closure standard it implies.

Every text column has a maximum length, every limit a range; a bad row is refused with the
row number and the column, never half-loaded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from gis_core.cases.closure import ClosureStandard
from gis_core.cases.deadlines import TimeLimit
from gis_core.standards import event_classes

#: column -> Chinese name (the header of exported files is the English name).
COLUMNS: dict[str, str] = {
    "category_code": "事项小类编码（GB/T 47678.5）",
    "area_code": "适用区域编码（空=全区）",
    "major_no": "大类序号",
    "major_name": "大类名称",
    "name": "小类名称",
    "filing_body": "立案责任主体",
    "filing_limit_hours": "立案时限（工作小时）",
    "handling_body": "处置责任主体",
    "handling_limit_value": "处置时限",
    "handling_limit_unit": "处置时限单位（working_hours/working_days）",
    "verification_body": "核查责任主体",
    "verification_limit_hours": "核查时限（工作小时）",
    "after_photo": "结案需处置后照片",
    "measurement": "结案需测量值",
    "site_check": "结案需网格员现场核查",
    "co_handling_required": "需协办单位",
    "co_unit_codes": "默认协办单位编码（空格分隔）",
    "visibility": "公开范围（public/private）",
}
MAX_TEXT = 100
"""Longest name or body text, in characters."""
MAX_ENTRIES = 5000
"""Most entries in one catalogue version (萧山's list of difficult matters has 2,361)."""
MAX_CO_UNITS = 10
VISIBILITY = ("public", "private")
_TRUE = {"1", "true", "yes", "y", "是", "x", "✓"}
_FALSE = {"", "0", "false", "no", "n", "否"}


class CatalogueError(ValueError):
    """A catalogue refused: ``field`` names the column, ``row`` the 1-based entry."""

    def __init__(self, message: str, field: str | None = None, row: int | None = None) -> None:
        where = f"entry {row}: " if row is not None else ""
        super().__init__(where + message)
        self.field = field if row is None or field is None else f"entries[{row - 1}].{field}"
        self.row = row


@dataclass(frozen=True)
class Entry:
    """One matter class of the catalogue (see :data:`COLUMNS` for each field's meaning)."""

    category_code: str
    major_no: int
    major_name: str
    name: str
    area_code: str = ""
    filing_body: str = ""
    filing_limit_hours: float | None = None
    handling_body: str = ""
    handling_limit_value: float | None = None
    handling_limit_unit: str = "working_hours"
    verification_body: str = ""
    verification_limit_hours: float | None = None
    after_photo: bool = False
    measurement: bool = False
    site_check: bool = False
    co_handling_required: bool = False
    co_unit_codes: tuple[str, ...] = ()
    visibility: str = "public"

    @property
    def closure(self) -> ClosureStandard:
        return ClosureStandard(
            after_photo=self.after_photo,
            measurement=self.measurement,
            site_check=self.site_check,
            co_unit=self.co_handling_required,
        )

    @property
    def handling_limit(self) -> TimeLimit | None:
        if self.handling_limit_value is None:
            return None
        return TimeLimit(self.handling_limit_value, self.handling_limit_unit)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["co_unit_codes"] = list(self.co_unit_codes)
        return out

    def data(self) -> dict[str, Any]:
        """The part kept in the ``data`` JSON column (all but the indexed columns)."""
        keys = ("category_code", "area_code", "major_no", "major_name", "name")
        return {k: v for k, v in self.as_dict().items() if k not in keys}


_FIELDS = {f.name for f in fields(Entry)}


def _text(row: Mapping[str, Any], name: str, required: bool = False) -> str:
    value = row.get(name)
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise CatalogueError(f"{name} is required", name)
    if len(text) > MAX_TEXT:
        raise CatalogueError(f"{name} is longer than {MAX_TEXT} characters", name)
    return text


def _bool(row: Mapping[str, Any], name: str) -> bool:
    value = row.get(name)
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CatalogueError(f"{name} must be true or false, got {value!r}", name)


def _number(row: Mapping[str, Any], name: str, high: float) -> float | None:
    value = row.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CatalogueError(f"{name} must be a number, got {value!r}", name) from None
    if isinstance(value, bool) or not math.isfinite(number) or not 0 < number <= high:
        raise CatalogueError(f"{name} must be a number in (0, {high:g}], got {value!r}", name)
    return number


def parse_entry(row: Mapping[str, Any], known_codes: Mapping[str, str] | None = None) -> Entry:
    """One entry from a mapping of column -> value (CSV strings or JSON values)."""
    unknown = sorted(set(row) - _FIELDS)
    if unknown:
        raise CatalogueError(f"unknown column(s) {', '.join(unknown)}", unknown[0])
    code = _text(row, "category_code", required=True)
    known = known_codes if known_codes is not None else event_class_table()
    if code not in known:
        raise CatalogueError(
            f"category_code {code!r} is not a GB/T 47678.5 event class", "category_code"
        )
    area = _text(row, "area_code")
    if area and not (area.isascii() and area.isdigit() and len(area) <= 15):
        raise CatalogueError("area_code must be up to 15 digits", "area_code")
    major = row.get("major_no")
    try:
        major_no = int(str(major).strip())
    except (TypeError, ValueError):
        raise CatalogueError(f"major_no must be an integer, got {major!r}", "major_no") from None
    if not 1 <= major_no <= 99:
        raise CatalogueError("major_no must be from 1 to 99", "major_no")
    unit = _text(row, "handling_limit_unit") or "working_hours"
    if unit not in ("working_hours", "working_days"):
        raise CatalogueError(
            "handling_limit_unit must be working_hours or working_days", "handling_limit_unit"
        )
    codes_value = row.get("co_unit_codes") or ()
    codes = tuple(
        str(c).strip()
        for c in (codes_value.split() if isinstance(codes_value, str) else codes_value)
        if str(c).strip()
    )
    if len(codes) > MAX_CO_UNITS or any(len(c) > 32 for c in codes):
        raise CatalogueError(
            f"co_unit_codes: at most {MAX_CO_UNITS} codes of 32 characters", "co_unit_codes"
        )
    visibility = _text(row, "visibility") or "public"
    if visibility not in VISIBILITY:
        raise CatalogueError("visibility must be public or private", "visibility")
    return Entry(
        category_code=code,
        area_code=area,
        major_no=major_no,
        major_name=_text(row, "major_name", required=True),
        name=_text(row, "name") or known[code],
        filing_body=_text(row, "filing_body"),
        filing_limit_hours=_number(row, "filing_limit_hours", 24 * 30),
        handling_body=_text(row, "handling_body"),
        handling_limit_value=_number(row, "handling_limit_value", 24 * 365),
        handling_limit_unit=unit,
        verification_body=_text(row, "verification_body"),
        verification_limit_hours=_number(row, "verification_limit_hours", 24 * 30),
        after_photo=_bool(row, "after_photo"),
        measurement=_bool(row, "measurement"),
        site_check=_bool(row, "site_check"),
        co_handling_required=_bool(row, "co_handling_required"),
        co_unit_codes=codes,
        visibility=visibility,
    )


def event_class_table() -> dict[str, str]:
    """GB/T 47678.5 event class code -> name."""
    table = event_classes()
    return dict(zip(table["code"], table["name"], strict=True))


def parse_entries(rows: Iterable[Mapping[str, Any]]) -> list[Entry]:
    """Every entry checked (first error wins, with its row); no two for one class and area."""
    known = event_class_table()
    out: list[Entry] = []
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(rows, start=1):
        if i > MAX_ENTRIES:
            raise CatalogueError(f"more than {MAX_ENTRIES} entries", "entries")
        try:
            entry = parse_entry(row, known)
        except CatalogueError as exc:
            raise CatalogueError(str(exc), exc.field, i) from None
        key = (entry.category_code, entry.area_code)
        if key in seen:
            raise CatalogueError(
                f"a second entry for class {key[0]} in area {key[1] or '(all)'}", "category_code", i
            )
        seen.add(key)
        out.append(entry)
    return out
