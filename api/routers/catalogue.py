"""The matter catalogue (事项清单): read any version, replace it with a new one (admins).

``PUT`` writes a new immutable version from the whole list; open cases keep the version
they pinned, new ones take the new version. ``GET ?format=csv|xlsx`` downloads the file
``gridgov catalogue import`` reads.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.dependencies import EventsDep
from api.security import Principal, require
from gis_core.catalogue.entries import COLUMNS, MAX_ENTRIES, parse_entries
from gis_core.catalogue.files import write_catalogue
from gis_core.storage.types import INTEGER_MAX

router = APIRouter(prefix="/v1", tags=["catalogue"])

_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class CatalogueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: list[dict[str, Any]] = Field(
        max_length=MAX_ENTRIES, description="Every entry; columns: " + ", ".join(COLUMNS)
    )
    note: str = Field("", max_length=500, description="Why this version (on record).")


@router.get("/catalogue", summary="The matter catalogue (current or one version)")
def get_catalogue(
    principal: Annotated[Principal, Depends(require())],
    service: EventsDep,
    version: Annotated[int | None, Query(ge=1, le=INTEGER_MAX)] = None,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
) -> Any:
    """Entries with their stages, limits, closure standard and visibility; ``versions``
    lists every version, newest first."""
    meta, entries = service.catalogue.load(version)
    if format != "json":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"catalogue-v{meta['version']}.{format}"
            write_catalogue(entries, path)
            content = path.read_bytes()
        return Response(
            content,
            media_type=_MEDIA[format],
            headers={"Content-Disposition": f'attachment; filename="{path.name}"'},
        )
    return {
        **meta,
        "columns": COLUMNS,
        "entries": [e.as_dict() for e in entries],
        "versions": service.catalogue.versions(),
    }


@router.put("/catalogue", summary="Save a new catalogue version (admin)")
def put_catalogue(
    body: CatalogueIn,
    principal: Annotated[Principal, Depends(require("admin"))],
    service: EventsDep,
) -> dict[str, Any]:
    """422 naming ``entries[i].column`` for a bad entry; nothing is saved then."""
    entries = parse_entries(body.entries)
    version = service.catalogue.save(entries, principal.name, body.note)
    meta, _ = service.catalogue.load(version)
    return meta
