"""The outermost guard of every request: limits checked before any work, and no surprises out.

One pure ASGI middleware (no per-request thread, no body copies beyond the limit):

* a request id (``X-Request-ID``: the client's when it is a short token, else a new one)
  on every answer and every log line about the request;
* the body read up to its limit (``BODY_MAX_BYTES``; ``BATCH_BODY_MAX_BYTES`` on batch
  paths), before any route runs: 413 beyond, whatever Content-Length claimed;
* JSON bodies nested deeper than ``JSON_DEPTH_MAX`` refused (400) before parsing, found
  with one regular expression and a numpy running sum;
* paths over ``PATH_MAX`` characters (or a segment over ``SEGMENT_MAX``) refused (414);
* query strings with NUL, invalid UTF-8, lone surrogates or values over
  ``QUERY_VALUE_MAX`` characters refused (400 naming the parameter);
* security headers on every answer (``X-Content-Type-Options``, ``Referrer-Policy``,
  ``X-Frame-Options``; the console sends its own CSP);
* any unexpected exception answered as problem+json 500 carrying only the request id,
  and logged with it (the traceback goes to the log, never to the client);
* credentials in query strings (``access_token``, ``api_key``) redacted from the access
  log (:class:`RedactCredentials`).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import numpy as np

from api.errors import PROBLEM_JSON
from api.settings import get_batch_settings, get_interop_settings
from gis_core.standards.limits import (
    BATCH_BODY_MAX_BYTES,
    BODY_MAX_BYTES,
    JSON_DEPTH_MAX,
    QUERY_VALUE_MAX,
    text_problem,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("gridgov.api")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
BATCH_PATHS = ("/v1/locate",)
"""Paths whose POST bodies may be batches (up to BATCH_BODY_MAX_BYTES)."""
PATH_MAX = 2048
SEGMENT_MAX = 256
"""A path segment longer than this is no id of gridgov's (and a 5,000-digit one would
reach Python's int-digits limit in the router)."""
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_FEW_BRACKETS = 512
"""Up to this many brackets a Python loop beats numpy's fixed cost (an intake report has
two: numpy's ``isin`` over the body was a tenth of a report's CPU in the server)."""


def json_depth(body: bytes) -> int:
    """Deepest nesting of arrays and objects in a JSON text (strings skipped)."""
    if not body:
        return 0
    marks = _JSON_STRING.sub(b'""', body).translate(None, _NOT_BRACKETS)
    if len(marks) <= _FEW_BRACKETS:
        depth = deepest = 0
        for c in marks:
            depth += 1 if c in (0x5B, 0x7B) else -1
            deepest = max(deepest, depth)
        return deepest
    bare = np.frombuffer(marks, dtype=np.uint8)
    steps = np.isin(bare, _OPEN).astype(np.int32) - np.isin(bare, _CLOSE).astype(np.int32)
    return int(np.cumsum(steps).max(initial=0))


def query_problem(raw: bytes) -> tuple[str, str] | None:
    """(parameter, reason) for the first unusable query-string value, or None."""
    if not raw:
        return None
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return "query", "query string must be valid UTF-8"
    for name, value in pairs:
        for part in (name, value):
            problem = text_problem(part, QUERY_VALUE_MAX)
            if problem is not None:
                return (name if text_problem(name) is None else "query")[:64], problem
    return None


def _content_type(scope: Scope) -> bytes:
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            return bytes(value).lower()
    return b""


def body_limit(scope: Scope) -> int:
    """The largest body this request may send: batches on /v1/locate (columnar bodies up
    to the batch settings' bytes, spooled to disk), multipart photo uploads on Open311 up
    to the media limit, everything else ``BODY_MAX_BYTES``."""
    path = scope.get("path", "")
    ctype = _content_type(scope)
    if any(path == p or path.startswith(p + "/") for p in BATCH_PATHS):
        if ctype and b"json" not in ctype:  # Arrow IPC, Parquet, CSV: read in blocks
            return max(BATCH_BODY_MAX_BYTES, get_batch_settings().columnar_max_bytes)
        return BATCH_BODY_MAX_BYTES
    if path.startswith("/open311/") and ctype.startswith(b"multipart/"):
        return BODY_MAX_BYTES + get_interop_settings().open311_media_max_bytes
    return BODY_MAX_BYTES


def _is_json(scope: Scope) -> bool:
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            return b"json" in value.lower()
    return False


class _TooLarge(Exception):
    pass


class _BadText(Exception):
    """A JSON string no store can keep: ``args`` = (where, reason)."""


def json_text_problem(body: bytes) -> tuple[str, str] | None:
    """(JSON path, reason) of the first string or key with NUL or a lone surrogate, so that
    no endpoint's body model can pass one to the database (a 500 on PostGIS otherwise)."""
    if b"\\u" not in body and b"\x00" not in body:
        return None  # neither can appear without an escape or a raw NUL byte
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None  # the route's own parser answers a syntax error
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem is not None:
                return (where or "body")[:200], problem
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = text_problem(key)
                if problem is not None:
                    return (where or "body")[:200], f"a key {problem}"
                stack.append((f"{where}.{key}" if where else key, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
    return None


class _TooDeep(Exception):
    pass


class HardeningMiddleware:
    """See the module docstring; ``create_app`` installs it outermost but for Starlette's own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_wrapped(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        path = scope.get("path", "")
        if len(path) > PATH_MAX or any(len(part) > SEGMENT_MAX for part in path.split("/")):
            detail = f"paths are at most {PATH_MAX} characters, {SEGMENT_MAX} per segment"
            await _problem(send_wrapped, 414, "URI too long", detail, "path")
            return
        bad = query_problem(scope.get("query_string", b""))
        if bad is not None:
            name, reason = bad
            await _problem(send_wrapped, 400, "Invalid query parameter", f"{name}: {reason}", name)
            return
        try:
            receive = await _buffered(scope, receive)
        except _TooLarge:
            limit = body_limit(scope)
            await _problem(
                send_wrapped, 413, "Body too large", f"at most {limit} bytes", "body", limit=limit
            )
            return
        except _TooDeep as exc:
            detail = f"JSON nested {exc.args[0]} levels deep; at most {JSON_DEPTH_MAX}"
            await _problem(send_wrapped, 400, "Unreadable body", detail, "body")
            return
        except _BadText as exc:
            where, reason = exc.args
            field = where.split(".")[0].split("[")[0]  # the body field, as the models name it
            await _problem(send_wrapped, 422, "Invalid text", f"{where}: {reason}", field)
            return
        try:
            await self.app(scope, receive, send_wrapped)
        except Exception:
            method, path = scope.get("method"), scope["path"]
            log.exception("unexpected error [request %s] %s %s", request_id, method, path)
            if started:
                raise
            await _problem(
                send_wrapped,
                500,
                "Internal error",
                f"an unexpected error occurred; quote request id {request_id} to the operator",
                None,
                request_id=request_id,
            )


def _request_id(scope: Scope) -> str:
    for key, value in scope.get("headers", ()):
        if key == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID.match(text):
                return text
    return secrets.token_hex(8)


async def _buffered(scope: Scope, receive: Receive) -> Receive:
    """The body read now, up to the path's limit; a receive that replays it, then waits."""
    if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return receive
    limit = body_limit(scope)
    for key, value in scope.get("headers", ()):
        if key == b"content-length" and value.isdigit() and len(value) < 20 and int(value) > limit:
            raise _TooLarge
    if limit > BATCH_BODY_MAX_BYTES:
        return receive  # a columnar batch: spooled to disk by its reader, never held here
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return receive
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    if _is_json(scope) or body[:1] in (b"[", b"{"):
        depth = json_depth(body)
        if depth > JSON_DEPTH_MAX:
            raise _TooDeep(depth)
        if size <= BODY_MAX_BYTES:
            bad = json_text_problem(body)
            if bad is not None:
                raise _BadText(*bad)
    return replay_body(body, receive)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A receive that hands ``body`` (already read) over once, then passes on to ``receive``."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _problem(
    send: Send, status: int, title: str, detail: str, field: str | None, **extra: Any
) -> None:
    body: dict[str, Any] = {"type": "about:blank", "status": status, "title": title}
    body["detail"] = detail
    if field is not None:
        body["field"] = field
    body.update(extra)
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


SECRET_PARAMS = re.compile(r"(?i)([?&](?:access_token|api_key|token|password)=)[^&\s]*")


def redact(text: str) -> str:
    """A URL or request line with credential query values replaced by ``***``."""
    return SECRET_PARAMS.sub(r"\1***", text)


class RedactCredentials(logging.Filter):
    """Access-log filter: tokens and API keys sent in query strings (EventSource, Open311)
    never reach the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


_REDACTOR = RedactCredentials()


def install_hardening(app: Any) -> None:
    """Add the middleware (outermost of the app's own middleware) and the log filter."""
    app.add_middleware(HardeningMiddleware)
    for name in ("uvicorn.access", "uvicorn.error", "gridgov.api"):
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)
