"""Area health reports (体检报告): ``GET /v1/reports/{area_code}?period=2026-11``.

JSON (the figures), HTML (a self-contained zh-CN page) or PDF (Chinese font embedded).
The area must be inside the caller's jurisdiction (404 otherwise, like an unknown area).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, Response

from api.dependencies import EventsDep
from api.security import Principal, require
from gis_core.reports import area_report, parse_period, render_html, render_pdf

router = APIRouter(prefix="/v1", tags=["reports"])


@router.get(
    "/reports/{area_code}",
    summary="An area health report for a month (YYYY-MM) or ISO week (YYYY-Www)",
    responses={
        200: {
            "content": {"text/html": {}, "application/pdf": {}},
            "description": "The report",
        },
        404: {"description": "No such area in the caller's jurisdiction"},
        422: {"description": "Bad period"},
    },
)
def report(
    area_code: Annotated[str, Path(max_length=15, pattern=r"^\d{6,15}$")],
    principal: Annotated[Principal, Depends(require("indicators"))],
    service: EventsDep,
    period: Annotated[str, Query(max_length=8, description="2026-11 or 2026-W45")],
    format: Annotated[Literal["json", "html", "pdf"], Query()] = "html",
) -> Any:
    figures = area_report(service, area_code, parse_period(period), principal.jurisdiction)
    if format == "json":
        return figures
    name = f"report-{area_code}-{period}"
    if format == "html":
        return HTMLResponse(render_html(figures))
    return Response(
        render_pdf(figures),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )
