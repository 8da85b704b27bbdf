"""Area health reports (体检报告): ``GET /v1/reports/{area_code}?period=2026-11``.

JSON (the figures), HTML (a self-contained zh-CN page) or PDF (Chinese font embedded).
The area must be inside the caller's jurisdiction (404 otherwise, like an unknown area).
Reports render on a pool of their own and are cached per data version
(gis_core.reports.cache); a report still rendering after ``GRIDGOV_REPORT_WAIT_SECONDS``
answers 202 with ``Retry-After`` and a ``Location`` to ask again.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.dependencies import EventsDep, ReportCacheDep
from api.security import Principal, require
from api.settings import get_report_settings
from gis_core.reports import parse_period

RETRY_AFTER = 3

router = APIRouter(prefix="/v1", tags=["reports"])


@router.get(
    "/reports/{area_code}",
    summary="An area health report for a month (YYYY-MM) or ISO week (YYYY-Www)",
    responses={
        200: {
            "content": {"text/html": {}, "application/pdf": {}},
            "description": "The report",
        },
        202: {"description": "Still rendering: ask again at Location after Retry-After"},
        404: {"description": "No such area in the caller's jurisdiction"},
        422: {"description": "Bad period"},
    },
)
async def report(
    request: Request,
    area_code: Annotated[str, Path(max_length=15, pattern=r"^\d{6,15}$")],
    principal: Annotated[Principal, Depends(require("indicators"))],
    service: EventsDep,
    cache: ReportCacheDep,
    period: Annotated[str, Query(max_length=8, description="2026-11 or 2026-W45")],
    format: Annotated[Literal["json", "html", "pdf"], Query()] = "html",
) -> Any:
    when = parse_period(period)
    # the data fingerprint is one short query; the rendering runs on the cache's own pool,
    # and this request awaits it without holding a server thread
    job = await run_in_threadpool(
        cache.submit, service, area_code, when, format, principal.jurisdiction
    )
    try:
        content = await asyncio.wait_for(
            asyncio.shield(asyncio.wrap_future(job)), get_report_settings().wait_seconds
        )
    except TimeoutError:
        return JSONResponse(
            {"status": "rendering", "retry_after": RETRY_AFTER, "href": str(request.url)},
            status_code=202,
            headers={"Retry-After": str(RETRY_AFTER), "Location": str(request.url)},
        )
    if format == "json":
        return content
    name = f"report-{area_code}-{period}"
    if format == "html":
        return HTMLResponse(content)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )
