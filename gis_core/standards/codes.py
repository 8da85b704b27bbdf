"""Code formats, defined once: admin codes (6/9/12/15 digits, nested by prefix) and
component ids.

Grid code = district 6 + street 3 + community 3 + serial 3 (GB/T 47678.3 unit grid
identifier), so an area's parents are prefixes of its code and "is this inside that" is a
prefix test. Component id = 6-digit admin code + 2-digit major class + 3-digit minor
class + 6-digit serial (GB/T 47678.5). Every other module imports these tables; none
keeps its own copy of a length.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from gis_core.standards import component_classes, event_classes

ADMIN_LEVELS = ("district", "street", "community", "grid")
"""Admin levels from the largest to the smallest."""
ADMIN_CODE_LENGTHS = {"district": 6, "street": 9, "community": 12, "grid": 15}
"""Code length of each admin level."""
LEVEL_BY_LENGTH = {length: level for level, length in ADMIN_CODE_LENGTHS.items()}
"""Admin level of a code of each length."""
ADMIN_PARENT_LEVEL = {"street": "district", "community": "street", "grid": "community"}
"""The level directly above each level but the district."""
COMPONENT_ID_LENGTH = 17
"""6-digit admin code + 5-digit class + 6-digit serial."""


def is_digits(value: str | None, length: int) -> bool:
    return value is not None and len(value) == length and value.isascii() and value.isdigit()


def validate_area_code(code: str | None) -> str | None:
    """The code stripped, or ValueError unless it is 6/9/12/15 digits (None passes)."""
    if code is None:
        return None
    code = code.strip()
    if not code.isascii() or not code.isdigit() or len(code) not in LEVEL_BY_LENGTH:
        raise ValueError(
            f"area code {code!r} must be 6 (district), 9 (street), 12 (community) or"
            " 15 (grid) digits"
        )
    return code


def area_level(code: str) -> str:
    """'district', 'street', 'community' or 'grid', from the code's length."""
    return LEVEL_BY_LENGTH[len(validate_area_code(code) or "")]


def ancestors(code: str) -> dict[str, str]:
    """The district/street/community codes that prefix ``code`` (itself included)."""
    out = {}
    for level, length in ADMIN_CODE_LENGTHS.items():
        if level != "grid" and len(code) >= length:
            out[f"{level}_code"] = code[:length]
    return out


@dataclass(frozen=True)
class ComponentClass:
    code: str
    name: str
    major_code: str
    major_name: str


@lru_cache(maxsize=1)
def component_class_table() -> dict[str, ComponentClass]:
    df = component_classes()
    return {
        r.code: ComponentClass(r.code, r.name, r.major_code, r.major_name)
        for r in df.itertuples(index=False)
    }


def component_class_of(component_id: str) -> str:
    """The 5-digit class part of a 17-digit component id."""
    district = ADMIN_CODE_LENGTHS["district"]
    return component_id[district : district + 5]


@lru_cache(maxsize=1)
def event_class_codes() -> frozenset[str]:
    return frozenset(event_classes()["code"])


@lru_cache(maxsize=1)
def event_major_codes() -> frozenset[str]:
    return frozenset(event_classes()["major_code"])
