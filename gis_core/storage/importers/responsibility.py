"""Checking responsible-unit and routing-rule tables (against the units stored)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from gis_core.standards import codes
from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage import rows
from gis_core.storage.importers.checks import Checked, RowChecks, accepted_frame, require_columns
from gis_core.storage.models import TIME_LIMIT_UNITS, UNIT_KINDS, ResponsibleUnit, RoutingRule
from gis_core.storage.protocol import StoreLike


def check_units(df: pd.DataFrame, store: StoreLike) -> Checked:
    require_columns(df, ("code", "name", "kind"))
    checks = RowChecks(len(df))
    values: dict[str, list[Any]] = {}
    values["code"] = checks.convert(df, "code", rows.code, required=True)
    checks.keys = list(values["code"])
    values["name"] = checks.convert(df, "name", rows.text, required=True)
    values["kind"] = checks.convert(df, "kind", rows.text, required=True)
    values["parent_code"] = checks.convert(df, "parent_code", rows.code)
    values["area_code"] = checks.convert(df, "area_code", rows.code)
    values["phone"] = checks.convert(df, "phone", rows.text)
    for i, kind in enumerate(values["kind"]):
        if kind is not None and kind not in UNIT_KINDS:
            checks.reject(i, f"unknown kind {kind!r} (one of {', '.join(UNIT_KINDS)})")
    checks.check_digits("area_code", values["area_code"], tuple(ADMIN_CODE_LENGTHS.values()))
    checks.check_duplicates("code", values["code"])
    checks.check_lengths(values, ResponsibleUnit)
    for i, (unit_code, parent) in enumerate(
        zip(values["code"], values["parent_code"], strict=True)
    ):
        if parent is not None and parent == unit_code:
            checks.reject(i, "parent_code is the unit itself")
    stored = set(store.unit_ids())
    _reject_orphans(checks, values["code"], values["parent_code"], stored)
    return Checked(accepted_frame(values, None, checks), checks)


def _reject_orphans(
    checks: RowChecks, unit_codes: list[str | None], parents: list[str | None], stored: set[str]
) -> None:
    """A parent must be stored or accepted in this file; repeat until stable, since
    rejecting a parent orphans its children."""
    changed = True
    while changed:
        changed = False
        good = {c for i, c in enumerate(unit_codes) if c is not None and checks.ok(i)}
        for i, parent in enumerate(parents):
            if parent is None or not checks.ok(i) or parent in stored or parent in good:
                continue
            in_file = parent in unit_codes
            checks.reject(
                i,
                f"parent_code {parent} was rejected"
                if in_file
                else f"unknown parent_code {parent}",
            )
            changed = True


def check_rules(df: pd.DataFrame, store: StoreLike) -> Checked:
    require_columns(df, ("unit_code",))
    checks = RowChecks(len(df))
    values: dict[str, list[Any]] = {}
    values["unit_code"] = checks.convert(df, "unit_code", rows.code, required=True)
    values["category_code"] = checks.convert(df, "category_code", rows.code)
    values["area_code"] = checks.convert(df, "area_code", rows.code)
    values["layer_kind"] = checks.convert(df, "layer_kind", rows.text)
    values["precedence"] = checks.convert(df, "precedence", lambda v: rows.integer(v, minimum=None))
    values["priority"] = checks.convert(df, "priority", rows.text)
    values["time_limit_value"] = checks.convert(df, "time_limit_value", rows.number)
    values["time_limit_unit"] = checks.convert(df, "time_limit_unit", rows.text)
    values["note"] = checks.convert(df, "note", rows.text)
    units = store.unit_ids()
    majors, classes = codes.event_major_codes(), codes.event_class_codes()
    for i in range(len(df)):
        unit_code = values["unit_code"][i]
        checks.keys[i] = unit_code
        if unit_code is not None and unit_code not in units:
            checks.reject(i, f"unknown unit_code {unit_code} (import units first)")
        cat = values["category_code"][i]
        if cat is not None and not (
            (codes.is_digits(cat, 2) and cat in majors)
            or (codes.is_digits(cat, 5) and cat in classes)
        ):
            checks.reject(
                i, f"unknown event category {cat!r} (a 5-digit class or 2-digit major code)"
            )
        value, unit = values["time_limit_value"][i], values["time_limit_unit"][i]
        if unit is not None and unit not in TIME_LIMIT_UNITS:
            checks.reject(
                i, f"time_limit_unit {unit!r} is not one of {', '.join(TIME_LIMIT_UNITS)}"
            )
        if (value is None) != (unit is None):
            checks.reject(i, "time_limit_value and time_limit_unit go together")
        if value is not None and value <= 0:
            checks.reject(i, f"time_limit_value must be positive, got {value:g}")
    checks.check_digits("area_code", values["area_code"], tuple(ADMIN_CODE_LENGTHS.values()))
    checks.check_lengths(values, RoutingRule)
    return Checked(accepted_frame(values, None, checks), checks)
