"""GET /v1/locate without the framework's per-request work, for the common request.

The documented route (`api.routers.locate.locate_point`) solves a dozen FastAPI
dependencies per request (settings, security, store, three credential readers, access,
CRS, generation, two Pydantic-validated numbers): about three quarters of a lookup's
time. This route answers the plain, anonymous request (``lon``, ``lat`` and optionally
``crs``, with lookups public) with the same document and the same errors, and declines
to match anything else, which then reaches the documented route unchanged: credentials
(checked and rate-limited there), ``generation``/``at``, unknown parameters, numbers
written other than plainly, unknown CRS names. It sits inside every middleware (limits,
request ids, security headers, CORS) and inside the exception handlers, so an outside
point or a bad coordinate is the same problem+json as before.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from api.dependencies import GenerationQuery
from api.routers.locate import locate_document
from api.security import API_KEY_HEADER
from gis_core.spatial.crs import CRSError, parse_crs

PATH = "/v1/locate"
CRS_MAX = 32
"""The documented route's ``crs`` max_length: longer values go there for its 422."""
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_CREDENTIAL_HEADERS = frozenset({b"authorization", API_KEY_HEADER.lower().encode()})
_CURRENT = GenerationQuery(None, None)
_JSON = b"application/json"


def _plain_query(scope: Scope) -> tuple[float, float, str] | None:
    """(lon, lat, crs) when this route may answer the request, else None."""
    state = scope["app"].state
    settings = getattr(state, "settings", None)
    if settings is None or not settings.lookups_public or not hasattr(state, "lookup"):
        return None
    for key, _ in scope["headers"]:
        if key in _CREDENTIAL_HEADERS:
            return None
    try:
        pairs = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        return None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name not in ("lon", "lat", "crs") or name in values:
            return None
        values[name] = value
    lon, lat = values.get("lon"), values.get("lat")
    if lon is None or lat is None or not (_NUMBER.fullmatch(lon) and _NUMBER.fullmatch(lat)):
        return None
    x, y = float(lon), float(lat)
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    crs = values.get("crs", "wgs84")
    if len(crs) > CRS_MAX:
        return None
    try:
        parse_crs(crs)
    except CRSError:
        return None
    return x, y, crs


class LeanLocateRoute(BaseRoute):
    """Matches plain anonymous GET /v1/locate requests only (see the module docstring)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != PATH:
            return Match.NONE, {}
        query = _plain_query(scope)
        if query is None:
            return Match.NONE, {}
        return Match.FULL, {"gridgov.lean_locate": query}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """Unnamed: ``url_for`` (templates, links) walks past it to the documented route."""
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        x, y, crs = scope["gridgov.lean_locate"]
        doc: dict[str, Any] = locate_document(scope["app"].state.lookup, x, y, crs, _CURRENT)
        body = orjson.dumps(doc)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", _JSON),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def install(app: Any) -> None:
    """Put the lean route first in the app's router (before every included router)."""
    app.router.routes.insert(0, LeanLocateRoute())
