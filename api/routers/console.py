"""The dispatcher console (网格化指挥调度台): a single page served at ``/console/``.

The page and its assets are the committed build in ``web/dist/`` (``web/README.md`` says
how to rebuild it); nothing is loaded from another host at run time, so a strict
Content-Security-Policy is sent with the page: scripts, styles and data come from this
service only, plus the configured basemap's tile host for images.

* ``/console/`` — the page (``/console`` redirects there);
* ``/console/config.json`` — what the page needs to start: the basemap (URL template and
  CRS, from ``GRIDGOV_BASEMAP_URL`` / ``GRIDGOV_BASEMAP_CRS``), the API base, the
  Chinese labels of statuses, actions, roles and sources, and the case vocabulary (the
  statuses in display order, which are open and which closed, which actions need a
  reason, the roles, the levels and the admin code lengths). One source of truth:
  ``gis_core.cases.vocab`` and ``gis_core.standards.codes``; ``web/src`` keeps no copy,
  only colours and styles keyed by these values;
* ``/console/assets/{path}`` — the built scripts, styles and the vendored MapLibre GL JS.

The page itself is public (it holds no data); everything it shows comes from the API with
the user's bearer token.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from api.dependencies import SettingsDep
from api.errors import Problem
from api.settings import ApiSettings
from gis_core.cases.calendar import calendar_status
from gis_core.paths import WEB_DIST

DIST = WEB_DIST
"""The built console (committed; shipped in the package); ``web/build.mjs`` writes it."""
ASSETS = DIST / "assets"
BASEMAP_CRS = ("wgs84", "gcj02")

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)


@lru_cache(maxsize=1)
def _labels() -> dict[str, dict[str, str]]:
    from gis_core.cases.calendar import TimeUnit
    from gis_core.cases.deadlines import Priority
    from gis_core.cases.vocab import (
        ACCOUNT_ROLE_LABELS,
        ACTION_LABELS,
        ROLE_LABELS,
        SOURCE_LABELS,
        STATUS_LABELS,
        TASK_ACTION_LABELS,
        Level,
    )

    return {
        "statuses": {s.value: label for s, label in STATUS_LABELS.items()},
        "actions": {a.value: label for a, label in ACTION_LABELS.items()},
        "roles": {**{r.value: label for r, label in ROLE_LABELS.items()}, **ACCOUNT_ROLE_LABELS},
        "sources": dict(SOURCE_LABELS),
        "priorities": {p.value: p.label for p in Priority},
        "levels": {lv.value: lv.label for lv in Level},
        "time_units": {u.value: u.label for u in TimeUnit},
        "task_actions": dict(TASK_ACTION_LABELS),
    }


@lru_cache(maxsize=1)
def _vocab() -> dict[str, Any]:
    """The case vocabulary as the console needs it: what exists, in order, and its sets."""
    from gis_core.cases.vocab import (
        LEVELS_BY_RANK,
        OPEN,
        REASON_REQUIRED,
        TERMINAL,
        Action,
        Role,
        Status,
    )
    from gis_core.standards.codes import ADMIN_CODE_LENGTHS

    # Display order: the open statuses as the loop runs, then the closed ones (closed
    # before the terminal ones), each in the vocabulary's own order.
    order = sorted(Status, key=lambda s: (s not in OPEN, s in TERMINAL))
    return {
        "statuses": [
            {"value": s.value, "label": s.label, "open": s in OPEN, "terminal": s in TERMINAL}
            for s in order
        ],
        "open": [s.value for s in order if s in OPEN],
        "closed": [s.value for s in order if s not in OPEN],
        "actions": [
            {"value": a.value, "label": a.label, "reason_required": a in REASON_REQUIRED}
            for a in Action
        ],
        "reason_required": sorted(a.value for a in REASON_REQUIRED),
        "roles": [{"value": r.value, "label": r.label} for r in Role],
        "levels": [{"value": lv.value, "label": lv.label} for lv in LEVELS_BY_RANK],
        "code_lengths": dict(ADMIN_CODE_LENGTHS),
    }


def basemap(settings: ApiSettings) -> dict[str, Any]:
    url = (settings.basemap_url or "").strip() or None
    crs = (settings.basemap_crs or "wgs84").strip().lower().replace("-", "")
    if crs not in BASEMAP_CRS:
        crs = "wgs84"
    return {"url": url, "crs": crs}


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url.replace("{", "").replace("}", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(basemap_url: str | None) -> str:
    """Only this service, plus the basemap's host for tiles (fetched, then drawn)."""
    extra = _origin(basemap_url)
    tiles = f" {extra}" if extra else ""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",  # MapLibre positions markers by style=
            f"img-src 'self' data: blob:{tiles}",
            f"connect-src 'self'{tiles}",
            "worker-src 'self' blob:",  # MapLibre's worker is a blob: URL
            "child-src blob:",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'self'",
            "form-action 'self'",
        ]
    )


def _missing_build() -> Problem:
    return Problem(
        503,
        "Console not built",
        f"{DIST} has no build: run `cd web && npm ci && npm run build` (see web/README.md)",
    )


@router.get("", summary="The console (redirect to /console/)")
def console_redirect() -> RedirectResponse:
    return RedirectResponse("console/", status_code=307)  # relative: works behind a prefix


@router.api_route("/", methods=["GET", "HEAD"], summary="The dispatcher console page")
def console_page(settings: SettingsDep) -> Response:
    return page_response("index.html", settings)


@router.api_route("/planner", methods=["GET", "HEAD"], summary="The planner page (网格规划)")
def planner_page(settings: SettingsDep) -> Response:
    """Drafts, validation, impact and activation of boundary generations (planner role)."""
    return page_response("planner.html", settings)


def page_response(name: str, settings: ApiSettings) -> FileResponse:
    """A built console page (``web/dist/<name>``) with the console's CSP and headers."""
    page = DIST / name
    if not page.is_file():
        raise _missing_build()
    headers = {
        "Content-Security-Policy": content_security_policy(basemap(settings)["url"]),
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    return FileResponse(page, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/config.json", summary="What the console needs to start")
def console_config(settings: SettingsDep) -> JSONResponse:
    doc = {
        "title": settings.title,
        "api_base": "",
        "basemap": basemap(settings),
        "labels": _labels(),
        "vocab": _vocab(),
        "calendar": calendar_status(),  # warnings shown as a banner (issue 14)
    }
    return JSONResponse(doc, headers={"Cache-Control": "no-cache"})


_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".pbf": "application/x-protobuf",
}


@router.get("/assets/{path:path}", summary="Built console assets")
def console_asset(path: Annotated[str, PathParam(max_length=200)]) -> FileResponse:
    target = (ASSETS / path).resolve()
    if not target.is_relative_to(ASSETS.resolve()) or not target.is_file():
        raise Problem(404, "Not found", f"no console asset {path!r}", "path")
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return FileResponse(target, media_type=_TYPES.get(target.suffix), headers=headers)
