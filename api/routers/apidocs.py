"""API documentation served from gridgov itself: Swagger UI, ReDoc, the OGC OpenAPI 3.0.

FastAPI's own ``/docs`` loads Swagger UI and its favicon from public CDNs, a white page
on a city's offline network. The assets are the ones the ``fastapi-offline`` package
ships (Swagger UI bundle and CSS, ReDoc standalone, favicon; MIT), served under
``/static/docs/``, so every request the pages make stays on this server.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

import fastapi_offline
from fastapi import APIRouter, Query, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from api.errors import Problem
from api.openapi30 import ogc_openapi
from layers.ogc import OPENAPI_30
from layers.registry import LAYERS

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
STATIC = "/static/docs"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"

CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)
"""The pages may load from this server only: ReDoc's bundle would otherwise fetch its
footer logo from a CDN (the browser now refuses, and the page is whole without it)."""

REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _redoc_bundle() -> bytes:
    """ReDoc's bundle with its one hard-coded CDN address (the footer logo) pointed here."""
    return (ASSETS / "redoc.standalone.js").read_bytes().replace(
        REDOC_LOGO, f"{STATIC}/favicon.png".encode()
    )


@router.get(f"{STATIC}/redoc.standalone.js")
def redoc_bundle() -> Response:
    return Response(
        _redoc_bundle(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )
assets = StaticFiles(directory=ASSETS)
"""Mounted at ``STATIC`` by ``api.app`` (a router cannot mount)."""


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    base = _base(request)
    page = get_swagger_ui_html(
        openapi_url=f"{base}/openapi.json",
        title=f"{request.app.title} — API 文档",
        swagger_js_url=f"{base}{STATIC}/swagger-ui-bundle.js",
        swagger_css_url=f"{base}{STATIC}/swagger-ui.css",
        swagger_favicon_url=f"{base}{STATIC}/favicon.png",
        oauth2_redirect_url=OAUTH2_REDIRECT,
    )
    page.headers["Content-Security-Policy"] = CSP
    return page


@router.get(OAUTH2_REDIRECT)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    base = _base(request)
    page = get_redoc_html(
        openapi_url=f"{base}/openapi.json",
        title=f"{request.app.title} — API 文档 (ReDoc)",
        redoc_js_url=f"{base}{STATIC}/redoc.standalone.js",
        redoc_favicon_url=f"{base}{STATIC}/favicon.png",
        with_google_fonts=False,
    )
    page.headers["Content-Security-Policy"] = CSP
    return page


@router.get("/api")
def ogc_api_definition(
    request: Request, f: Annotated[str | None, Query(max_length=8)] = None
) -> JSONResponse:
    """The OGC API part as OpenAPI 3.0 (the landing page's ``service-desc``)."""
    extra = set(request.query_params) - {"f", "api_key"}
    if extra:
        name = sorted(extra)[0]
        raise Problem(400, "Invalid parameter", f"unknown query parameter {name!r}", name)
    if f not in (None, "json"):
        raise Problem(400, "Invalid parameter", "f must be json", "f")
    return JSONResponse(ogc_openapi(request.app, LAYERS.values()), media_type=OPENAPI_30)
