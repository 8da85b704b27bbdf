"""Service configuration, from environment variables prefixed GRIDGOV_ (or a .env file)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


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


@lru_cache(maxsize=1)
def get_settings() -> ApiSettings:
    return ApiSettings()
