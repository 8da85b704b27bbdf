"""Sizes of what callers may send, defined once (docs/limits.md lists them for clients).

Every text field has a maximum length in characters and every request body a maximum size
in bytes, checked before any work: a report, a note or a query string that is too long,
holds a NUL character or a lone UTF-16 surrogate (which no database can store as UTF-8)
is refused with the field's name. The storage columns are at least as wide as these
limits, so a value accepted here always fits.
"""

from __future__ import annotations

import re

# -- text fields (characters) -------------------------------------------------------------
EXTERNAL_ID_MAX = 64
DESCRIPTION_MAX = 4000
ADDRESS_MAX = 200
BUILDING_ID_MAX = 64
REPORTER_NAME_MAX = 64
REPORTER_PHONE_MAX = 32
PHOTO_URL_MAX = 2048
PHOTOS_MAX = 20
NOTE_MAX = 2000
"""Notes of case actions (urge, reject, extend ...) and relocations: kept forever in the
append-only history, so they are short."""
SHORT_TEXT_MAX = 64
"""Codes, names and other one-word values (source, crs, category, action, unit)."""
PASSWORD_MAX = 1024
"""Passwords at login: argon2 work must not grow with what a caller sends."""
QUERY_VALUE_MAX = 2048
"""Any single query-string value."""

TEXT_LIMITS: dict[str, int] = {
    "external_id": EXTERNAL_ID_MAX,
    "description": DESCRIPTION_MAX,
    "address": ADDRESS_MAX,
    "building_id": BUILDING_ID_MAX,
    "reporter_name": REPORTER_NAME_MAX,
    "reporter_phone": REPORTER_PHONE_MAX,
    "photos": PHOTO_URL_MAX,
    "note": NOTE_MAX,
}
"""The report's and actions' free-text fields and their maxima."""

# -- bodies (bytes) -----------------------------------------------------------------------
BODY_MAX_BYTES = 256 * 1024
"""Any request body but a batch: a report at its longest is about 20 kB."""
BATCH_BODY_MAX_BYTES = 32 * 1024 * 1024
"""POST /v1/locate batches (CSV or JSON, up to ``max_batch_points`` points)."""
JSON_DEPTH_MAX = 32
"""Nesting of JSON arrays and objects; gridgov's deepest body is 3 levels."""

# -- case actions ---------------------------------------------------------------------------
EXTENSION_MAX_DAYS = 30
"""One extension (延期) may add at most 30 working days (or the same in working hours)."""
EXTENSIONS_PER_CASE_MAX = 5
"""At most five extensions per case: beyond that, escalate."""

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str, limit: int | None = None) -> str | None:
    """Why ``value`` cannot be stored (too long, NUL, lone surrogate), or None."""
    if limit is not None and len(value) > limit:
        return f"at most {limit} characters (got {len(value)})"
    if "\x00" in value:
        return "must not contain NUL characters"
    if _SURROGATE.search(value):
        return "must be valid Unicode (a lone UTF-16 surrogate was sent)"
    return None


def check_text(value: str, limit: int | None = None) -> str:
    """``value`` unchanged, or ValueError saying what is wrong (pydantic validators use it)."""
    problem = text_problem(value, limit)
    if problem is not None:
        raise ValueError(problem)
    return value
