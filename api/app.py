"""The FastAPI application factory: configuration, state and routers, nothing else."""

from __future__ import annotations

import gc
import inspect
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import Depends, FastAPI

from api.dependencies import make_tile_cache
from api.errors import register_error_handlers
from api.hardening import install_hardening
from api.middleware import CORSMiddleware, HeadMiddleware
from api.routers import (
    analytics,
    analytics_tiles,  # issue 11: MVT of aggregations
    apidocs,
    auth,
    calendar,
    casework,
    catalog,
    catalogue,
    cockpit,
    console,
    events,
    events_lean,
    features,
    field,
    generations,
    grids,
    health,
    intake_lean,
    integrations,
    locate,
    locate_lean,
    mapit,
    media,
    ogc_tiles,
    open311,
    reports,
    stream,
    tiles,
    vitals,
)
from api.security import install_security, lookup_access
from api.settings import (
    ApiSettings,
    InteropSettings,
    Open311Settings,
    StreamSettings,
    get_interop_settings,
    get_open311_settings,
    get_scale_settings,
    get_settings,
    get_stream_settings,
)
from gis_core.boundaries.generations import LookupService
from gis_core.events import EventService, intake
from gis_core.field.verifier import NearestVerifier
from gis_core.storage import Store
from gis_core.storage.async_pool import open_pool as open_async_pool
from layers import cluster_points
from layers.registry import LAYERS

TELEMETRY_OFF = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
"""FastAPI's native telemetry off (``ApiSettings.telemetry``): no per-request check."""
_HAS_TELEMETRY = "telemetry" in inspect.signature(FastAPI.__init__).parameters
"""FastAPI releases before its native telemetry take no ``telemetry`` argument."""


def create_app(
    settings: ApiSettings | None = None,
    *,
    stream_settings: StreamSettings | None = None,
    open311_settings: Open311Settings | None = None,
    interop_settings: InteropSettings | None = None,
) -> FastAPI:
    """The app; settings not given are read from the environment (api.settings)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(settings.database_url)
        store.ensure_current()
        app.state.store = store
        app.state.security.share_state(store, get_scale_settings().shared_state)  # issue 15
        app.state.lookup = LookupService(store, active_ttl=settings.active_generation_ttl)
        app.state.events = EventService(store, app.state.lookup)
        app.state.events.pages.ttl = settings.event_page_ttl  # issue 15: list pages reused
        app.state.events.list_version.ttl = settings.event_version_ttl  # perf-list2
        app.state.events.verifier = NearestVerifier(store)  # issue 16: nearest grid member verifies
        with suppress(LookupError):  # no grids yet: /readyz says so, lookups answer 503
            app.state.lookup.locator()  # build the active generation's index before serving
        intake.warm(app.state.events)  # perf-intake: rules, units, transformers built once
        watcher = generations.watch(store, app.state.lookup)  # issue 10: switches, auto sweep
        vitals_ticker = vitals.start_ticker(app.state.events)  # issue 11: scheduled vitals
        generations.recover_jobs(store, app.state.lookup)  # issue 10: resume jobs cut off
        app.state.tile_cache = make_tile_cache()  # issue 15: tiles kept per generation
        if watcher is not None:
            watcher.listeners.append(app.state.tile_cache.clear)
        app.state.tile_pool = await open_async_pool(store)  # perf-tiles: tiles on the loop
        if app.state.tile_pool is not None:  # issue 15: intake's batches written on the loop
            intake.write_on_loop(app.state.events, app.state.tile_pool)
        clustered = [lyr.source for lyr in LAYERS.values() if lyr.cluster_maxzoom is not None]
        cluster_points.warm(store, clustered)  # issue 15: the first low-zoom event tile
        gc.freeze()  # perf-intake2: startup's ~300k objects out of the collector's full scans
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(settings.switch_interval_ms / 1000)  # perf-intake3
        yield
        sys.setswitchinterval(switch_interval)  # perf-intake3: tests start many apps
        gc.unfreeze()  # perf-intake2: collectable again (tests start many apps in a process)
        intake.write_on_loop(app.state.events, None)  # issue 15: before its pool closes
        if app.state.tile_pool is not None:  # perf-tiles
            await app.state.tile_pool.close()
        if vitals_ticker is not None:  # issue 11
            vitals_ticker.stop()
        if watcher is not None:
            watcher.stop()
        field.stop_field_jobs(store)  # issue 13: the background coverage job
        store.dispose()

    app = FastAPI(
        title=settings.title,
        summary="Grid-based city governance: which grid owns a coordinate, events, map layers.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc: api.routers.apidocs, with vendored assets
        redoc_url=None,
        **({} if settings.telemetry or not _HAS_TELEMETRY else {"telemetry": TELEMETRY_OFF}),
    )
    app.state.settings = settings
    app.state.stream_settings = stream_settings or get_stream_settings()
    app.state.open311_settings = open311_settings or get_open311_settings()
    app.state.interop_settings = interop = interop_settings or get_interop_settings()
    register_error_handlers(app)
    install_security(app)
    install_hardening(app)  # issue 14: limits, request ids, headers, 500s as problems
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(locate.router, dependencies=[Depends(lookup_access)])
    locate_lean.install(app)  # issue 15: plain GET /v1/locate without dependency solving
    app.include_router(grids.router, dependencies=[Depends(lookup_access)])
    app.include_router(mapit.router, dependencies=[Depends(lookup_access)])
    app.include_router(features.router)
    app.include_router(tiles.router)
    app.include_router(ogc_tiles.router)
    app.include_router(stream.router)
    app.include_router(events.router)
    events_lean.install(app)  # perf-list2: plain GET /v1/events without dependency solving
    intake_lean.install(app)  # perf-intake2: common POST /v1/events, commit awaited
    app.include_router(catalog.router)
    app.include_router(catalogue.router)  # issue 16: matter catalogue
    app.include_router(casework.router)  # issue 16: co-tasks, calls, follow-ups
    app.include_router(reports.router)  # issue 16: area health reports
    app.include_router(open311.router)
    app.include_router(media.router)
    app.include_router(console.router)
    app.include_router(integrations.router)  # devices, platform pushes, outbox
    app.include_router(field.field_force)  # tracks, coverage, rotation, volunteers (issue 13)
    app.include_router(generations.router)  # boundary planning (issue 10)
    app.include_router(apidocs.router)
    app.mount(apidocs.STATIC, apidocs.assets, name="docs-assets")
    app.add_middleware(HeadMiddleware)
    app.add_middleware(CORSMiddleware, trusted=interop.cors_origins)
    app.include_router(analytics.router)
    app.include_router(vitals.router)
    app.include_router(calendar.router)  # issue 14: holiday-schedule warnings
    app.include_router(cockpit.router)
    app.include_router(analytics_tiles.router)  # issue 11: MVT of aggregations
    return app
