"""Code formats: admin codes (6/9/12/15 digits, hierarchical prefixes) and component ids.

Component id = 6-digit admin code + 2-digit major class + 3-digit minor class + 6-digit
serial (GB/T 47678.5); grid code = district 6 + street 3 + community 3 + serial 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from gis_core.standards import component_classes, event_classes
from gis_core.storage.models import ADMIN_CODE_LENGTHS


def is_digits(value: str | None, length: int) -> bool:
    return value is not None and len(value) == length and value.isascii() and value.isdigit()


def admin_level_of(code: str) -> str | None:
    """'district' | 'street' | 'community' | 'grid' by length, None if not a digit code."""
    for level, length in ADMIN_CODE_LENGTHS.items():
        if is_digits(code, length):
            return level
    return None


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
    return component_id[6:11]


@lru_cache(maxsize=1)
def event_class_codes() -> frozenset[str]:
    return frozenset(event_classes()["code"])


@lru_cache(maxsize=1)
def event_major_codes() -> frozenset[str]:
    return frozenset(event_classes()["major_code"])
