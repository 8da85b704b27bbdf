"""Volunteers (志愿者) and their points (金豆): registration, linking reports, awards on
verified and closed reports, redemptions, and the ledger. Phones are stored, never shown."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from api.access import visible_event
from api.dependencies import EventsDep, FieldSettingsDep, StoreDep
from api.errors import Problem
from api.security import Principal, require
from gis_core.field import volunteers
from gis_core.storage.types import INTEGER_MAX

router = APIRouter(prefix="/v1/volunteers", tags=["field"])
Reader = Annotated[Principal, Depends(require("events:read"))]
Writer = Annotated[Principal, Depends(require("events:write"))]
VolunteerId = Annotated[int, Path(ge=1, le=INTEGER_MAX)]


class VolunteerIn(BaseModel):
    name: str = Field(min_length=1, max_length=volunteers.MAX_NAME)
    phone: str | None = Field(None, max_length=volunteers.MAX_PHONE)
    community_code: str | None = Field(None, pattern=r"^\d{1,12}$")


class ReportLinkIn(BaseModel):
    event_id: int = Field(ge=1, le=INTEGER_MAX)


class RedeemIn(BaseModel):
    points: int = Field(ge=1, le=volunteers.MAX_REDEEM)
    note: str | None = Field(None, max_length=volunteers.MAX_NOTE)


def points_table(raw: str) -> dict[str, int]:
    try:
        table = json.loads(raw)
        if not isinstance(table, dict) or not all(isinstance(v, int) for v in table.values()):
            raise ValueError
    except ValueError:
        raise Problem(
            500, "Bad points table", "GRIDGOV_FIELD_POINTS must be a JSON object"
        ) from None
    return table


@router.post("", summary="Register a volunteer")
def register(body: VolunteerIn, principal: Writer, store: StoreDep) -> dict[str, Any]:
    vid = volunteers.register(store, body.name, body.phone, body.community_code)
    return {"id": vid}


@router.get("/{volunteer_id}", summary="A volunteer's balance and points ledger")
def account(volunteer_id: VolunteerId, principal: Reader, store: StoreDep) -> dict[str, Any]:
    return volunteers.account(store, volunteer_id)


@router.post("/{volunteer_id}/reports", summary="Link an event reported by this volunteer")
def link(
    volunteer_id: VolunteerId, body: ReportLinkIn, principal: Writer, service: EventsDep
) -> dict[str, Any]:
    visible_event(service, principal, body.event_id)
    volunteers.link_report(service.store, volunteer_id, body.event_id)
    return {"volunteer_id": volunteer_id, "event_id": body.event_id}


@router.post("/awards", summary="Award points for a verified, closed volunteer report")
def award(
    body: ReportLinkIn, principal: Writer, service: EventsDep, settings: FieldSettingsDep
) -> dict[str, Any]:
    visible_event(service, principal, body.event_id)
    return volunteers.award(service.store, body.event_id, points_table(settings.points))


@router.post("/{volunteer_id}/redemptions", summary="Redeem points (never below zero)")
def redeem(
    volunteer_id: VolunteerId, body: RedeemIn, principal: Writer, store: StoreDep
) -> dict[str, Any]:
    return volunteers.redeem(store, volunteer_id, body.points, body.note)
