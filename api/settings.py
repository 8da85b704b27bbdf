"""Every setting of the service, from environment variables prefixed GRIDGOV_ (or a .env file).

One class per concern, all here: :class:`ApiSettings` (the service), :class:`AuthSettings`
(access control), :class:`StreamSettings` (the live event stream, GRIDGOV_STREAM_*) and
:class:`Open311Settings` (GeoReport, GRIDGOV_OPEN311_*). Routes receive them through
``api.dependencies``, never by reading the environment themselves.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    basemap_url: str | None = None
    """XYZ tile URL template of the basemap (e.g. a Tianditu or local tile server)."""
    basemap_crs: str = "wgs84"
    """CRS of the basemap's tiles: wgs84 or gcj02 (overlays are shifted to match)."""


class AuthSettings(BaseSettings):
    """Access-control settings, from the same GRIDGOV_ environment as ``ApiSettings``."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", env_file=".env", extra="ignore")

    secret_key: SecretStr | None = None
    """Token-signing secret (32+ characters). Unset: one is generated and kept in the
    database (table auth_secrets), fine for the embedded demo; set it in production so a
    database dump does not carry the signing key."""
    token_ttl_minutes: int = 480
    """Bearer-token lifetime: a dispatcher's shift."""
    login_rate: str = "10/min"
    """Login attempts allowed per username (per process), against password guessing."""

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


class Open311Settings(BaseSettings):
    """GeoReport v2 endpoints, from GRIDGOV_OPEN311_* environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="GRIDGOV_OPEN311_", env_file=".env", extra="ignore"
    )

    public_reads: bool = True
    """Whether GET services/requests need no key (GeoReport clients read without one)."""
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
