"""``/media/<sha256>.<ext>``: photos uploaded by Open311 clients (``media``), from the store.

Names are the SHA-256 of the bytes (unguessable from an event id); the answer is
immutable, so clients and proxies may cache it for good.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.dependencies import StoreDep
from api.errors import Problem

router = APIRouter(tags=["media"])
NAME = re.compile(r"^(?P<digest>[0-9a-f]{64})\.(?P<ext>jpg|png|gif|webp)$")


@router.get(
    "/media/{name}",
    summary="An uploaded photo",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
async def media(store: StoreDep, name: Annotated[str, Path(max_length=80)]) -> Response:
    match = NAME.match(name)
    found = None if match is None else await run_in_threadpool(store.get_media, match["digest"])
    if found is None:
        raise Problem(404, "Media not found", f"no uploaded photo {name!r}", "name")
    content_type, data = found
    return Response(
        data,
        media_type=content_type,
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
