"""Text and number types of request bodies: bounded, clean, and of the type they claim.

Every string a client sends through a body model is ``Text(n)``: at most ``n`` characters
(documented in ``/openapi.json`` as ``maxLength``), no NUL, no lone surrogate, so it can
be stored on SQLite and PostGIS alike. Limits come from :mod:`gis_core.standards.limits`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictFloat, StrictInt

from gis_core.standards.limits import check_text


def Text(limit: int) -> Any:
    """A string of at most ``limit`` characters without NUL or lone surrogates."""
    return Annotated[str, Field(max_length=limit), AfterValidator(lambda v: check_text(v))]


def _time_text(value: Any) -> Any:
    """JSON has no time type: a time must be an ISO 8601 string, not a number of seconds."""
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 time string with a UTC offset, not a number")
    if isinstance(value, str):
        check_text(value, 64)
    return value


IsoTime = Annotated[datetime, BeforeValidator(_time_text)]
"""A time sent as an ISO 8601 string (a bare number is refused, not read as 1970)."""

Coordinate = StrictInt | StrictFloat
"""A JSON number (``true`` is not 1)."""
