"""What routes receive through ``Depends``: the app's settings and services, and the
request parsing several routers share (CRS, generation, times, lists, area codes, bbox).

This module is the one place that reads ``request.app.state`` for the services
``create_app`` puts there; routes declare ``store: StoreDep``, ``service: EventsDep``...
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import AfterValidator

from api.errors import Problem
from api.settings import (
    ApiSettings,
    FieldSettings,
    InteropSettings,
    Open311Settings,
    StreamSettings,
    get_analytics_settings,
    get_field_settings,
    get_report_settings,
    get_scale_settings,
)
from gis_core.analytics.service import AnalyticsService
from gis_core.boundaries.generations import LookupService
from gis_core.boundaries.mapit import MapItAreas
from gis_core.cases.calendar import TZ
from gis_core.events import EventService
from gis_core.events.related import NearbyComponents
from gis_core.reports.cache import ReportCache
from gis_core.spatial.crs import parse_crs
from gis_core.storage import Store
from gis_core.storage.types import TIME_YEARS, plausible_time
from layers.query import parse_bbox
from layers.tile_cache import TileCache

_LOCK = threading.Lock()

# -- the app's settings and services -----------------------------------------------------


async def app_settings(request: Request) -> ApiSettings:
    return request.app.state.settings


async def app_stream_settings(request: Request) -> StreamSettings:
    return request.app.state.stream_settings


async def app_open311_settings(request: Request) -> Open311Settings:
    return request.app.state.open311_settings


async def app_interop_settings(request: Request) -> InteropSettings:
    return request.app.state.interop_settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_lookup(request: Request) -> LookupService:
    return request.app.state.lookup


async def get_events(request: Request) -> EventService:
    return request.app.state.events


def get_nearby(request: Request) -> NearbyComponents:
    """Components near events, indexed on first use (not at start-up: most requests never
    need them)."""
    state = request.app.state
    nearby = getattr(state, "nearby_components", None)
    if nearby is None:
        with _LOCK:
            nearby = getattr(state, "nearby_components", None)
            if nearby is None:
                nearby = state.nearby_components = NearbyComponents(state.store)
    return nearby


async def get_tile_cache(request: Request) -> TileCache:
    """This worker's tile cache (issue 15), made on first use for apps built by hand.
    Async: a plain function dependency costs every tile request a threadpool hop."""
    state = request.app.state
    cache = getattr(state, "tile_cache", None)
    if cache is None:
        with _LOCK:
            cache = getattr(state, "tile_cache", None)
            if cache is None:
                cache = state.tile_cache = make_tile_cache()
    return cache


def make_tile_cache() -> TileCache:
    conf = get_scale_settings()
    return TileCache(conf.tile_cache_mb * 1024 * 1024, conf.tile_cache_seconds)


def get_mapit(request: Request) -> MapItAreas:
    """MapIt's view of the boundaries, built on first use and kept with the app."""
    state = request.app.state
    areas = getattr(state, "mapit_areas", None)
    if areas is None:
        with _LOCK:
            areas = getattr(state, "mapit_areas", None)
            if areas is None:
                areas = state.mapit_areas = MapItAreas(state.store)
    return areas
class StreamSlots:
    """Open event streams per principal (this process), so that one token cannot hold
    hundreds of polling streams (issue 14): ``take`` refuses past the cap."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple[str, int], cap: int) -> bool:
        with self._lock:
            if self._open.get(key, 0) >= cap:
                return False
            self._open[key] = self._open.get(key, 0) + 1
            return True

    def release(self, key: tuple[str, int]) -> None:
        with self._lock:
            left = self._open.get(key, 0) - 1
            if left > 0:
                self._open[key] = left
            else:
                self._open.pop(key, None)

    def count(self, key: tuple[str, int]) -> int:
        return self._open.get(key, 0)


def get_stream_slots(request: Request) -> StreamSlots:
    state = request.app.state
    with _LOCK:
        slots = getattr(state, "stream_slots", None)
        if slots is None:
            slots = state.stream_slots = StreamSlots()
    return slots


SettingsDep = Annotated[ApiSettings, Depends(app_settings)]
StreamSettingsDep = Annotated[StreamSettings, Depends(app_stream_settings)]
Open311SettingsDep = Annotated[Open311Settings, Depends(app_open311_settings)]
InteropSettingsDep = Annotated[InteropSettings, Depends(app_interop_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
LookupDep = Annotated[LookupService, Depends(get_lookup)]
EventsDep = Annotated[EventService, Depends(get_events)]
NearbyDep = Annotated[NearbyComponents, Depends(get_nearby)]
MapItDep = Annotated[MapItAreas, Depends(get_mapit)]
TileCacheDep = Annotated[TileCache, Depends(get_tile_cache)]
StreamSlotsDep = Annotated[StreamSlots, Depends(get_stream_slots)]

# -- coordinates and boundary generations -----------------------------------------------


def check_crs(crs: str) -> str:
    """The CRS name if gridgov knows it, else CRSError (a 422 problem on field `crs`)."""
    parse_crs(crs)
    return crs


async def crs_param(
    crs: Annotated[
        str,
        Query(description="Input CRS: wgs84, cgcs2000, gcj02, bd09 or EPSG:<code>.", max_length=32),
    ] = "wgs84",
) -> str:
    return check_crs(crs)


class GenerationQuery:
    """`generation=` (id or name) or `at=` (ISO time): which boundary version to ask."""

    def __init__(self, generation: str | None, at: datetime | None) -> None:
        self.generation = generation
        self.at = at


async def generation_query(
    generation: Annotated[
        str | None, Query(description="Boundary generation id or name.", max_length=100)
    ] = None,
    at: Annotated[
        datetime | None,
        Query(description="Answer with the generation active at this time (ISO 8601 with offset)."),
    ] = None,
) -> GenerationQuery:
    """Async on purpose: a sync dependency costs a thread hop on every lookup."""
    if generation is not None and at is not None:
        raise Problem(
            422, "Conflicting parameters", "give generation or at, not both", "generation"
        )
    if at is not None and at.tzinfo is None:
        raise Problem(422, "Invalid time", "`at` needs a UTC offset, e.g. +08:00", "at")
    return GenerationQuery(generation, at)


CrsDep = Annotated[str, Depends(crs_param)]
GenerationDep = Annotated[GenerationQuery, Depends(generation_query)]

# -- query-string values -----------------------------------------------------------------


def plausible(value: datetime) -> datetime:
    if not plausible_time(value):
        raise ValueError(f"must be in the years {TIME_YEARS.start}-{TIME_YEARS.stop - 1}")
    return value


QueryTime = Annotated[datetime, AfterValidator(plausible)]
"""A time in a query string: validated to lie in ``TIME_YEARS`` (422 otherwise), so that
moving it to UTC or China time, or a period around it, cannot overflow."""

QueryBBox = Annotated[str, AfterValidator(parse_bbox)]
"""``minlon,minlat,maxlon,maxlat`` in a query string, parsed to four floats by the one bbox
parser (:func:`layers.query.parse_bbox`); a bad box is a 422 on field ``bbox``."""


def local_time(value: datetime | None) -> datetime | None:
    """A query-string time; one without a UTC offset is read in Asia/Shanghai (the time
    zone every case time is kept in)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=TZ)


def comma_list(values: list[str] | None) -> list[str]:
    """Repeated and/or comma-separated query values, flattened, blanks dropped."""
    return [p.strip() for v in values or () for p in v.split(",") if p.strip()]


def area_code_param(value: str | None, name: str) -> str | None:
    if value is not None and not (value.isascii() and value.isdigit() and len(value) <= 15):
        raise Problem(422, "Invalid area code", f"{name} must be up to 15 digits", name)
    return value


# -- field force (issue 13) ---------------------------------------------------------------
FieldSettingsDep = Annotated[FieldSettings, Depends(get_field_settings)]
"""GRIDGOV_FIELD_* settings (tests override ``get_field_settings``)."""
# -- analytics (issue 11) ----------------------------------------------------------------


def get_analytics(request: Request) -> AnalyticsService:
    """The analytics caches, made on first use over the app's event service."""
    state = request.app.state
    found = getattr(state, "analytics", None)
    if found is None:
        with _LOCK:
            found = getattr(state, "analytics", None)
            if found is None:
                ttl = get_analytics_settings().cache_seconds
                found = state.analytics = AnalyticsService(state.events, ttl=ttl)
    return found


AnalyticsDep = Annotated[AnalyticsService, Depends(get_analytics)]
# -- area health reports (issue 16) -------------------------------------------------------


def get_report_cache(request: Request) -> ReportCache:
    """Rendered reports and their render pool, made on first use."""
    state = request.app.state
    found = getattr(state, "report_cache", None)
    if found is None:
        with _LOCK:
            found = getattr(state, "report_cache", None)
            if found is None:
                found = state.report_cache = ReportCache(get_report_settings().cache_items)
    return found


ReportCacheDep = Annotated[ReportCache, Depends(get_report_cache)]
