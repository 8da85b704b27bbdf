"""`gridgov serve`: run the HTTP API with uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from gis_core.cli.spatial import UrlOpt, user_errors

HostOpt = Annotated[str, typer.Option("--host", help="Interface to listen on.")]
PortOpt = Annotated[int, typer.Option("--port", min=1, max=65535)]


def run_server(host: str, port: int, url: str | None, workers: int = 1) -> None:
    """Start uvicorn on the app factory; the database URL travels in the environment so
    that every worker process builds the same app."""
    import uvicorn

    if url is not None:
        os.environ["GRIDGOV_DATABASE_URL"] = url
    uvicorn.run(
        "api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info"
    )


def serve(
    url: UrlOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64)] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    from gis_core.storage import Store

    Store(url).ensure_current()  # refuse to start on an unmigrated database, clearly
    run_server(host, port, url, workers)


def register(app: typer.Typer) -> None:
    app.command("serve")(user_errors(serve))
