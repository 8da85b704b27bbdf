"""Two pure-ASGI middlewares every route gets: CORS and HEAD.

CORS (why not Starlette's ``CORSMiddleware``: it gives every allowed origin the same
rights, while gridgov has two kinds of origin):

* an origin listed in ``GRIDGOV_CORS_ORIGINS`` (the city's own web apps) is trusted: any
  method, any request header (``Authorization``, ``X-API-Key``) and
  ``Access-Control-Allow-Credentials: true``, on every route;
* any other origin gets ``Access-Control-Allow-Origin: *`` on the public, read-only
  resources only (map layers, tiles, styles, OGC documents, lookups, MapIt, Open311
  reads): ``GET``/``HEAD`` with the CORS-safe headers, no credentials, so a web map on
  another site can load them while nothing that needs a key is opened to it.

A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered here: 204
with the grant, or 403 when the origin may not do what it asks.

HEAD: FastAPI routes answer only the methods they declare, so ``HEAD`` would be a 405.
This middleware runs the GET route and drops the body (headers, status and
``Content-Length`` stay those of the GET, as RFC 9110 asks).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PUBLIC_PREFIXES = (
    "/collections",
    "/conformance",
    "/tiles",
    "/tileMatrixSets",
    "/point/",
    "/area/",
    "/areas/",
    "/code/",
    "/generations",
    "/v1/locate",
    "/openapi",
    "/api",
    "/open311/v2/",
    "/static/docs/",
    "/media/",
)
"""Path prefixes any origin may read (besides ``/`` itself)."""
SAFE_METHODS = frozenset({"GET", "HEAD"})
SAFE_HEADERS = frozenset(
    {"accept", "accept-language", "content-language", "content-type", "if-none-match", "range"}
)
EXPOSED = "ETag, Content-Crs, Link, Content-Length, Retry-After"
PREFLIGHT_MAX_AGE = "600"


def is_public(path: str) -> bool:
    """Whether ``path`` is a public read-only resource (open to any origin)."""
    return path == "/" or path.startswith(PUBLIC_PREFIXES)


def _header_list(value: str) -> set[str]:
    return {h.strip().lower() for h in value.split(",") if h.strip()}


class CORSMiddleware:
    """Trusted origins get everything with credentials; others the public reads only."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted = frozenset(o.rstrip("/") for o in trusted)

    def grant(self, origin: str, path: str, method: str, headers: set[str]) -> dict[str, str]:
        """The CORS response headers for this request (empty: refused)."""
        if origin in self.trusted or "*" in self.trusted:
            return {
                "access-control-allow-origin": origin,
                "access-control-allow-credentials": "true",
                "vary": "Origin",
            }
        if is_public(path) and method in SAFE_METHODS and headers <= SAFE_HEADERS:
            return {"access-control-allow-origin": "*"}
        return {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        wanted = headers.get("access-control-request-method")
        if scope["method"] == "OPTIONS" and wanted is not None:
            asked = _header_list(headers.get("access-control-request-headers", ""))
            grant = self.grant(origin, path, wanted.upper(), asked)
            if not grant:
                await _plain(send, 403, {"vary": "Origin"}, b"CORS request refused")
                return
            grant |= {
                "access-control-allow-methods": wanted.upper()
                if "access-control-allow-credentials" in grant
                else "GET, HEAD, OPTIONS",
                "access-control-max-age": PREFLIGHT_MAX_AGE,
            }
            if asked:
                grant["access-control-allow-headers"] = ", ".join(sorted(asked))
            await _plain(send, 204, grant, b"")
            return
        grant = self.grant(origin, path, scope["method"], set())
        if grant:
            grant["access-control-expose-headers"] = EXPOSED

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and grant:
                raw = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if not k.lower().startswith(b"access-control-")
                ]
                raw += [(k.encode(), v.encode()) for k, v in grant.items()]
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def _plain(send: Send, status: int, headers: dict[str, str], body: bytes) -> None:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    if body:
        raw.append((b"content-type", b"text/plain; charset=utf-8"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class HeadMiddleware:
    """HEAD = the GET route without its body (and without waiting for a stream's end)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        started = False
        done = False

        async def head_receive() -> Message:
            if started:  # a streaming route polling for a disconnect: stop it now
                return {"type": "http.disconnect"}
            return await receive()

        async def head_send(message: Message) -> None:
            nonlocal started, done
            if message["type"] == "http.response.start":
                started = True
                await send(message)
            elif message["type"] == "http.response.body" and not done:
                done = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        get_scope: dict[str, Any] = {**scope, "method": "GET"}
        await self.app(get_scope, head_receive, head_send)
