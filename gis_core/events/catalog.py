"""Lists for pickers in user interfaces: event classes and responsible units."""

from __future__ import annotations

from typing import Any

from gis_core.standards import event_classes
from gis_core.storage.protocol import Database


def categories(major_code: str | None = None) -> list[dict[str, str]]:
    """Event classes of GB/T 47678.5: code, name, major_code, major_name (code order)."""
    frame = event_classes()
    if major_code is not None:
        frame = frame[frame["major_code"] == major_code]
    return [
        {"code": r.code, "name": r.name, "major_code": r.major_code, "major_name": r.major_name}
        for r in frame.sort_values("code").itertuples()
    ]


def _text(value: Any) -> str | None:
    return None if value is None or value != value else str(value)  # NaN != NaN


def responsible_units(
    store: Database, area: str | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    """Responsible units, optionally those that can take an event in ``area``.

    ``area`` (an area-code prefix) keeps the units whose own area lies inside it (the
    street office and the community and grid teams of a street) and those whose area
    contains it (the district's bureaus and command centre): every unit a dispatcher of
    that area may send a case to. Units without an area are kept only without ``area``.
    """
    frame = store.read_units()
    out = []
    for r in frame.itertuples():
        unit_area = _text(r.area_code)
        if area is not None and (
            unit_area is None or not (unit_area.startswith(area) or area.startswith(unit_area))
        ):
            continue
        if kind is not None and r.kind != kind:
            continue
        out.append(
            {
                "id": int(r.id),
                "code": r.code,
                "name": r.name,
                "kind": r.kind,
                "area_code": unit_area,
                "parent_code": _text(r.parent_code),
                "phone": _text(r.phone),
            }
        )
    return out


__all__ = ["categories", "responsible_units"]
