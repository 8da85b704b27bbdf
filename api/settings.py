"""Every setting of the service, from environment variables prefixed GRIDGOV_ (or a .env file).

One class per concern, all here: :class:`ApiSettings` (the service), :class:`AuthSettings`
(access control), :class:`StreamSettings` (the live event stream, GRIDGOV_STREAM_*) and
:class:`Open311Settings` (GeoReport, GRIDGOV_OPEN311_*). Routes receive them through
``api.dependencies``, never by reading the environment themselves.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from gis_core.auth import Rate
from gis_core.auth.tokens import MIN_SECRET_LENGTH


class ApiSettings(BaseSettings):
    """Everything an operator may set; defaults run the embedded SQLite demo."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", env_file=".env", extra="ignore")

    database_url: str | None = None
    """SQLAlchemy URL; None = the embedded SQLite file (gridgov.sqlite)."""
    title: str = "gridgov"
    lookups_public: bool = True
    """Whether /v1/locate and /point need no API key (a city's choice)."""
    max_batch_points: int = 200_000
    active_generation_ttl: float = 5.0
    """Seconds a cached 'which generation is active' answer is trusted."""
    event_page_ttl: float = 1.0
    """Seconds an encoded GET /v1/events page may be reused while the events table's data
    version is unchanged (time-dependent fields: overdue, light); 0 turns reuse off."""
    event_version_ttl: float = 0.5
    """Seconds the events table's data version, once read, is trusted for cached list
    pages while this process writes nothing: how late another worker's or node's write
    may show in a list (0: read on every request)."""
    switch_interval_ms: float = Field(0.5, gt=0, le=100)
    """Python's thread switch interval while the app serves (``sys.setswitchinterval``;
    Python's default is 5 ms). Intake's group-commit writer is a thread beside the event
    loop: every time it comes back from the database it waits for the loop to give up the
    GIL, up to a whole interval while requests are being parsed, several times per
    batch; 0.5 ms cut those waits (the interval is restored when the app stops)."""
    telemetry: bool = False
    """FastAPI's native OpenTelemetry (request spans, metrics, error logs) to the
    providers the process configured. Off by default: FastAPI asks on EVERY request
    whether a provider is configured (about 20-45 us a request on this machine, a sixth
    of a served lookup); a city that runs a collector turns it on (GRIDGOV_TELEMETRY=1)."""
    basemap_url: str | None = None
    """XYZ tile URL template of the basemap (e.g. a Tianditu or local tile server)."""
    basemap_crs: str = "wgs84"
    """CRS of the basemap's tiles: wgs84 or gcj02 (overlays are shifted to match)."""


class AuthSettings(BaseSettings):
    """Access-control settings, from the same GRIDGOV_ environment as ``ApiSettings``."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", env_file=".env", extra="ignore")

    secret_key: SecretStr | None = None
    """Token-signing secret (32+ characters). Unset: read from ``secret_key_file``."""
    secret_key_file: Path | None = None
    """A file holding the secret, mode 0600 (refused when others may read it). Unset: one
    is created 0600 beside the SQLite file, or in ~/.config/gridgov/ for PostgreSQL (see
    gis_core.auth.keyfile). Never kept in the database."""
    token_ttl_minutes: int = 480
    """Bearer-token lifetime: a dispatcher's shift."""
    login_rate: str = "10/min"
    """Failed logins allowed per client address and per account (per process) before a
    growing delay; see api.routers.auth."""

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"GRIDGOV_SECRET_KEY needs at least {MIN_SECRET_LENGTH} characters")
        return value

    @field_validator("login_rate")
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        Rate.parse(value)
        return value


class StreamSettings(BaseSettings):
    """Timing of the event stream, from GRIDGOV_STREAM_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_STREAM_", env_file=".env", extra="ignore")

    poll_seconds: float = 1.0
    heartbeat_seconds: float = 15.0
    lag_seconds: float = 10.0
    retry_ms: int = 3000
    """Reconnection delay the browser is told to use."""
    max_per_principal: int = 4
    """Open streams one token or key may hold per worker process (429 beyond)."""


class Open311Settings(BaseSettings):
    """GeoReport v2 endpoints, from GRIDGOV_OPEN311_* environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="GRIDGOV_OPEN311_", env_file=".env", extra="ignore"
    )

    public_reads: bool = True
    """Whether GET services/requests need no key (GeoReport clients read without one).
    Anonymous readers see only the public subset below: never case notes, addresses,
    photos or exact places, never other sources (110, cameras, patrols)."""
    public_sources: list[str] = ["resident_app"]
    """Sources whose events anonymous readers may see (comma-separated in the env)."""
    public_categories: list[str] = []
    """Event classes or class prefixes anonymous readers may see; empty = every class."""
    public_decimals: int = 3
    """Decimal degrees of the locations shown to anonymous readers (3 = about 100 m)."""
    contact: str = "12345政务服务便民热线"


@lru_cache(maxsize=1)
def get_settings() -> ApiSettings:
    return ApiSettings()


@lru_cache(maxsize=1)
def get_stream_settings() -> StreamSettings:
    return StreamSettings()


@lru_cache(maxsize=1)
def get_open311_settings() -> Open311Settings:
    return Open311Settings()


# -- field force (issue 13): tracks, coverage, alerts, volunteers' points -----------------
class FieldSettings(BaseSettings):
    """The field force, from GRIDGOV_FIELD_* environment variables (docs/field.md)."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_FIELD_", env_file=".env", extra="ignore")

    retention_days: float = 90.0
    """Fixes older than this are refused at ingest and deleted by `gridgov field prune`."""
    max_batch_fixes: int = 10_000
    max_speed_kmh: float = 162.0
    max_future_seconds: float = 120.0
    max_accuracy_m: float = 500.0
    patrol_radius_m: float = 30.0
    max_gap_seconds: float = 120.0
    patrol_min_minutes: float = 5.0
    silent_minutes: float = 15.0
    idle_minutes: float = 30.0
    idle_radius_m: float = 50.0
    patrol_by_hour: int = 17
    nearest_max_age_minutes: float = 30.0
    coverage_refresh_seconds: float = 180.0
    """Stored daily coverage is recomputed this often when fixes arrived (and on demand)."""
    alert_push_seconds: float = 15.0
    """Streams with ``field_alerts=true`` re-check the alerts this often (sent on change)."""
    points: str = '{"*": 10}'
    """Volunteer points per verified report: JSON {event-class prefix: points, "*": rest}."""


@lru_cache(maxsize=1)
def get_field_settings() -> FieldSettings:
    return FieldSettings()
# -- interoperability (issue 9): CORS, licence links, Open311 media, MapIt -----------------


class InteropSettings(BaseSettings):
    """What other clients (web maps, GIS desktops, Open311 apps) are allowed and told."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", env_file=".env", extra="ignore")

    cors_origins: Annotated[list[str], NoDecode] = []
    """Trusted web origins (comma-separated, e.g. ``https://console.example.gov.cn``): any
    method, auth headers and credentials. Every other origin may only read the public
    layers, tiles, styles and lookups (``Access-Control-Allow-Origin: *``)."""
    data_license_url: str = "https://creativecommons.org/licenses/by/4.0/"
    """The ``license`` link of the OGC API documents (the data's terms of use)."""
    data_license_title: str = "CC BY 4.0"
    media_base_url: str | None = None
    """Where stored photo paths (``photos/2026-01-05/x.jpg``) are served from, e.g. the
    city's photo store; None: this server's ``/media/`` (uploads are kept there)."""
    open311_media_max_bytes: int = 5_000_000
    """Largest photo a GeoReport client may upload as ``media`` (multipart)."""

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value


@lru_cache(maxsize=1)
def get_interop_settings() -> InteropSettings:
    return InteropSettings()


# -- analytics (issue 11): GRIDGOV_ANALYTICS_* -------------------------------------------


class AnalyticsSettings(BaseSettings):
    """Statistics endpoints (/v1/analytics, /v1/vitals), from GRIDGOV_ANALYTICS_*."""

    model_config = SettingsConfigDict(
        env_prefix="GRIDGOV_ANALYTICS_", env_file=".env", extra="ignore"
    )

    cache_seconds: float = 60.0
    """How long the events frame the statistics read is reused (answers are that fresh)."""
    max_permutations: int = 999
    """Upper bound of `permutations` a caller may ask for (CPU per request)."""
    vitals_check_seconds: float = 0.0
    """Every API worker checks the vital-sign thresholds this often (seconds; 0 = off, then
    run `gridgov vitals check` from cron). Workers checking together raise one alert."""


@lru_cache(maxsize=1)
def get_analytics_settings() -> AnalyticsSettings:
    return AnalyticsSettings()
# -- issue 15 (performance): columnar batch locate --------------------------------------


class BatchSettings(BaseSettings):
    """Columnar batch-locate bodies (CSV with ``Accept: text/csv``, Arrow IPC, Parquet),
    from GRIDGOV_BATCH_* environment variables. Bodies are spooled to disk and read in
    blocks, so these bound disk and time, not memory (JSON bodies keep
    ``max_batch_points``)."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_BATCH_", env_file=".env", extra="ignore")

    columnar_max_points: int = 5_000_000
    """Points per columnar request (413 above)."""
    columnar_max_bytes: int = 512 * 1024 * 1024
    """Bytes per columnar body (413 above); 1 M points of CSV are ~40 MB."""


@lru_cache(maxsize=1)
def get_batch_settings() -> BatchSettings:
    return BatchSettings()
# -- issue 16 (cross-department cases, second pass): area health reports ---------------


class ReportSettings(BaseSettings):
    """Area health reports, from GRIDGOV_REPORT_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_REPORT_", env_file=".env", extra="ignore")

    wait_seconds: float = 20.0
    """How long a request awaits a rendering report (no server thread held) before 202."""
    cache_items: int = 64
    """Rendered reports kept per process (keyed by area, period, format, data version)."""


@lru_cache(maxsize=1)
def get_report_settings() -> ReportSettings:
    return ReportSettings()


# -- issue 10 (planners, second pass): background jobs and validation thresholds ------


class PlanningSettings(BaseSettings):
    """Boundary planning, from GRIDGOV_PLANNING_* environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="GRIDGOV_PLANNING_", env_file=".env", extra="ignore"
    )

    watch_seconds: float = 1.0
    """How often each worker checks for a switch of the active generation (0: never; then
    run `gridgov grids sweep` after an activation by hand)."""
    sweep_margin_seconds: float = 2.0
    """The automatic sweep runs this long after every worker must have seen a switch."""
    job_min_grids: int = 1_000
    """Drafts with at least this many grids validate, compare and activate as background
    jobs (202 and a job to poll); smaller ones answer in the request (well under 1 s)."""
    target_area_m2: float = 10_000.0
    """Validation: urban unit-grid guidance (m² per grid)."""
    area_low_ratio: float = 0.1
    area_high_ratio: float = 10.0
    overlap_m2: float = 1.0
    gap_m2: float = 1.0
    outside_m2: float = 1.0
    sliver_thinness: float = 0.05
    load_ratio: float = 3.0
    isolate_switch: bool = False
    """Activation and rollback run in a child process of the worker (its lookups and the
    switch cannot convoy on the GIL); the worker swaps its index after the commit. Off by
    default: with the set-based switch the worker's own thread measured faster (median
    1.0 s against 4.3 s, lookup p99 1.6x against 1.9x: benchmarks/bench_planning.py), the
    child having to read the new generation's grids the worker already holds."""


@lru_cache(maxsize=1)
def get_planning_settings() -> PlanningSettings:
    return PlanningSettings()


# -- issue 15 (tiles, scale-out): the tile cache and the shared state of several nodes ----


class ScaleSettings(BaseSettings):
    """Tile cache and shared limiter state, from GRIDGOV_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", env_file=".env", extra="ignore")

    tile_cache_mb: int = 64
    """Memory per worker for tiles of generation-bound layers (0: no cache)."""
    tile_cache_seconds: float = 300.0
    """How long a cached tile is served before it is drawn again (a re-import of buildings
    or components shows within this time; a generation switch at once)."""
    shared_state: str = "auto"
    """Where rate limits and the login guard keep their counts: ``memory`` (this process
    only), ``database`` (the store: several workers and nodes on one database),
    ``redis://host:port/db``, or ``auto`` (the database on PostgreSQL, memory on SQLite)."""


@lru_cache(maxsize=1)
def get_scale_settings() -> ScaleSettings:
    return ScaleSettings()
