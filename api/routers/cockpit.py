"""The cockpit (城市运行驾驶舱): ``/console/cockpit``, one screen with live counts, vital
signs and thresholds, the 30-day trend, heat map and Gi* hot spots with a month slider,
and the top recurrent problems. The page is the committed build ``web/dist/cockpit.html``
(its script and style are console assets); it holds no data: everything comes from
``/v1/events``, ``/v1/vitals`` and ``/v1/analytics`` with the user's token, under the
console's Content-Security-Policy (nothing from another host)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.dependencies import SettingsDep
from api.routers.console import page_response

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)


@router.api_route("/cockpit", methods=["GET", "HEAD"], summary="The cockpit page")
def cockpit_page(settings: SettingsDep) -> Response:
    return page_response("cockpit.html", settings)
