"""The registry and the rules without a broker, on an empty store (no boundaries loaded:
alarms still become events, for the command centre), on SQLite and PostGIS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from gis_core.cli import integrations as integrations_cli
from gis_core.events import EventService
from gis_core.integrations.devices import DeviceError, import_file, list_devices
from gis_core.integrations.readings import RawMessage, ingest
from gis_core.storage import Store
from gis_core.storage.models import DeviceMessage, Event, ReadingReject


def msg(device: str, mid: str, second: int, kind: str = "reading", value: float | None = None):
    body = {"id": mid, "ts": f"2026-12-01T10:00:{second:02d}+08:00", "kind": kind}
    if value is not None:
        body["value"] = value
    return RawMessage(device, json.dumps(body).encode(), f"gridgov/devices/{device}/readings")


def test_import_and_rules(store: Store, tmp_path: Path) -> None:
    csv = tmp_path / "d.csv"
    csv.write_text(
        "device_id,kind,lon,lat,category_code,threshold,threshold_count\n"
        "WL-1,water_level,117.29,31.81,01003,10,2\n"
        "CAM-1,lift_camera,117.30,31.80,06010,,\n",
        encoding="utf-8",
    )
    cli = typer.Typer()
    integrations_cli.register(cli)
    url = store.url.render_as_string(hide_password=False)
    done = CliRunner().invoke(cli, ["devices", "import", str(csv), "--url", url])
    assert done.exit_code == 0 and json.loads(done.stdout) == {"imported": 2}, done.output
    geo = tmp_path / "d.geojson"
    point = {"type": "Point", "coordinates": [117.31, 31.82]}
    props = {"device_id": "SM-1", "kind": "smoke", "category_code": "06027"}
    feature = {"type": "Feature", "geometry": point, "properties": props}
    geo.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    assert import_file(store, geo) == 1
    assert {d["device_id"]: d["source"] for d in list_devices(store)} == {
        "CAM-1": "ai_camera", "SM-1": "iot", "WL-1": "iot"}  # fmt: skip
    bad = tmp_path / "bad.csv"
    bad.write_text("device_id,kind,lon,lat,category_code,threshold\nX,Bad Kind,1,2,01003,\n")
    with pytest.raises(DeviceError, match="row 1 kind"):
        import_file(store, bad)
    done = CliRunner().invoke(cli, ["devices", "import", str(bad), "--url", url])
    assert done.exit_code == 2 and "row 1 kind" in done.output

    svc = EventService(store)
    out = ingest(svc, [
        msg("WL-1", "a", 0, value=12),          # over, 1 of 2
        msg("WL-1", "b", 1, value=8),           # below: the run restarts
        msg("WL-1", "c", 2, value=11),          # over, 1 of 2
        msg("WL-1", "d", 3, value=13),          # over, 2 of 2: opens
        msg("WL-1", "e", 4, value=14),          # collapses
        msg("WL-1", "e", 4, value=14),          # the same message again
        msg("WL-1", "f", 1, value=20),          # out of order
        msg("WL-1", "g", 5, kind="clear"),      # a note on the open event
        msg("GHOST", "h", 5, kind="alarm"),     # unknown device
        RawMessage("WL-1", b"{not json", "t"),  # bad payload
        msg("WL-1", "i", 6, kind="sideways"),   # bad kind
        msg("WL-1", "j", 6, kind="reading"),    # a reading without a value
    ])  # fmt: skip
    assert [o.outcome for o in out] == [
        "over", "reading", "over", "opened", "collapsed", "duplicate", "rejected", "cleared",
        "rejected", "rejected", "rejected", "rejected"]  # fmt: skip
    event = svc.get(out[3].event_id)
    assert event["source"] == "iot" and event["category_code"] == "01003"
    assert event["alarm_count"] == 2 and event["routing"]["queue"] == "district_centre"
    assert event["first_alarm_at"] == "2026-12-01T10:00:03+08:00"
    assert event["last_alarm_at"] == "2026-12-01T10:00:04+08:00"
    assert event["device"]["clear_count"] == 1
    with store.session(write=False) as s:
        reasons = [r.reason for r in s.scalars(select(ReadingReject).order_by(ReadingReject.id))]
        stored = s.scalar(select(func.count()).select_from(DeviceMessage))
        events = s.scalar(select(func.count()).select_from(Event))
    assert [r.split(":")[0] for r in reasons] == [
        "out of order", "unknown device 'GHOST'", "payload is not JSON", "kind", "value"
    ]  # fmt: skip
    assert stored == 7 and events == 1  # each parsed message of a known device, once
