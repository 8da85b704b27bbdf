"""The device registry: sensors and AI cameras, what they raise, and their thresholds.

Devices are registered one by one (API) or imported from CSV (the default contract:
``device_id,kind,lon,lat,category_code,threshold``, optional ``threshold_count``,
``name``, ``building_id``, ``component_id``, ``owner_unit_id``) or GeoJSON (points, the
same names as properties). An import is one transaction: a bad row fails the whole file
with its row number, so a half-imported registry never exists. Re-importing a device
updates it (its counters and last message are kept).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gis_core.cases.vocab import SOURCE_LABELS
from gis_core.events.reports import event_class_names
from gis_core.storage.models import Device, ResponsibleUnit
from gis_core.storage.protocol import StoreLike

#: Known device kinds and their Chinese names; other kinds (lowercase slugs) are allowed.
DEVICE_KINDS: dict[str, str] = {
    "water_level": "积水监测",
    "smoke": "烟感报警",
    "range_hood": "油烟监测",
    "electricity": "智慧用电",
    "gas": "燃气泄漏报警",
    "manhole": "井盖位移监测",
    "lift_camera": "电梯AI摄像头",
    "camera": "AI视频摄像头",
}
#: Kinds whose events have source ``ai_camera`` (every other kind is ``iot``).
CAMERA_KINDS = frozenset({"lift_camera", "camera"})
#: Kinds whose event closes itself on a ``clear`` message (the condition is physically
#: over: water gone, smoke gone); a camera's alarm needs a person to check and close it.
AUTO_CLOSE_KINDS = frozenset({"water_level", "smoke", "range_hood", "electricity", "gas"})
MAX_DEVICES_PER_FILE = 100_000
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


class DeviceError(ValueError):
    """A device that cannot be registered: the field at fault and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class DeviceNotFound(LookupError):
    """No device with that id."""


@dataclass
class DeviceSpec:
    """One device as registered; ``threshold`` applies to ``reading`` messages (a value
    above it for ``threshold_count`` readings in a row raises the alarm)."""

    device_id: str
    kind: str
    category_code: str
    lon: float | None = None
    lat: float | None = None
    threshold: float | None = None
    threshold_count: int = 1
    name: str | None = None
    building_id: str | None = None
    component_id: str | None = None
    owner_unit_id: int | None = None


def source_for_kind(kind: str) -> str:
    """``ai_camera`` for camera kinds, else ``iot`` (both are event sources in vocab)."""
    source = "ai_camera" if kind in CAMERA_KINDS or kind.endswith("_camera") else "iot"
    assert source in SOURCE_LABELS
    return source


def _number(field: str, value: Any, *, required: bool = False) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DeviceError(field, "is required")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DeviceError(field, f"must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise DeviceError(field, "must be finite")
    return number


def _text(field: str, value: Any, limit: int) -> str | None:
    text = None if value is None else str(value).strip()
    if text and len(text) > limit:
        raise DeviceError(field, f"at most {limit} characters")
    return text or None


def check_spec(raw: dict[str, Any]) -> DeviceSpec:
    """A validated spec from loose values (CSV strings, JSON); DeviceError otherwise."""
    device_id = str(raw.get("device_id") or "").strip()
    if not _ID.match(device_id):
        raise DeviceError("device_id", "1-64 letters, digits, '_', '.', ':' or '-'")
    kind = str(raw.get("kind") or "").strip()
    if not _KIND.match(kind):
        raise DeviceError("kind", "a lowercase name like water_level or lift_camera")
    code = str(raw.get("category_code") or "").strip()
    if code not in event_class_names():
        raise DeviceError("category_code", f"unknown event class {code!r}")
    lon, lat = _number("lon", raw.get("lon")), _number("lat", raw.get("lat"))
    if (lon is None) != (lat is None):
        raise DeviceError("lon", "give both lon and lat, or neither")
    if lon is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise DeviceError("lon", "lon/lat out of range (WGS84 degrees)")
    building = _text("building_id", raw.get("building_id"), 64)
    if lon is None and building is None:
        raise DeviceError("lon", "a device needs coordinates or the building it is mounted in")
    count = _number("threshold_count", raw.get("threshold_count")) or 1
    if count != int(count) or not 1 <= count <= 1000:
        raise DeviceError("threshold_count", "a whole number from 1 to 1000")
    unit = _number("owner_unit_id", raw.get("owner_unit_id"))
    return DeviceSpec(
        device_id=device_id,
        kind=kind,
        category_code=code,
        lon=lon,
        lat=lat,
        threshold=_number("threshold", raw.get("threshold")),
        threshold_count=int(count),
        name=_text("name", raw.get("name"), 100),
        building_id=building,
        component_id=_text("component_id", raw.get("component_id"), 64),
        owner_unit_id=None if unit is None else int(unit),
    )


def register(store: StoreLike, specs: list[DeviceSpec]) -> int:
    """Insert or update devices in one transaction; returns how many."""
    with store.session() as session:
        units = {s.owner_unit_id for s in specs if s.owner_unit_id is not None}
        known = set(
            session.scalars(select(ResponsibleUnit.id).where(ResponsibleUnit.id.in_(units)))
        )
        if units - known:
            raise DeviceError("owner_unit_id", f"no responsible unit {min(units - known)}")
        for spec in specs:
            device = session.get(Device, spec.device_id)
            values = asdict(spec) | {"source": source_for_kind(spec.kind)}
            if device is None:
                session.add(Device(**values))
            else:
                for key, value in values.items():
                    setattr(device, key, value)
    return len(specs)


def read_device_file(path: Path) -> list[DeviceSpec]:
    """Devices from CSV or GeoJSON; DeviceError names the row (1 = first data row)."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".geojson", ".json"):
        rows = _geojson_rows(text)
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
        if rows and "device_id" not in rows[0]:
            raise DeviceError("header", "the CSV needs a device_id column")
    if len(rows) > MAX_DEVICES_PER_FILE:
        raise DeviceError("file", f"at most {MAX_DEVICES_PER_FILE} devices per file")
    specs, seen = [], set()
    for i, row in enumerate(rows, start=1):
        try:
            spec = check_spec(row)
        except DeviceError as exc:
            raise DeviceError(f"row {i} {exc.field}", exc.reason) from None
        if spec.device_id in seen:
            raise DeviceError(f"row {i} device_id", f"{spec.device_id!r} appears twice")
        seen.add(spec.device_id)
        specs.append(spec)
    return specs


def _geojson_rows(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DeviceError("file", f"not JSON: {exc}") from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise DeviceError("file", "expected a GeoJSON FeatureCollection")
    rows = []
    for i, feature in enumerate(features, start=1):
        props = dict((feature or {}).get("properties") or {})
        geom = (feature or {}).get("geometry")
        if geom is not None:
            if geom.get("type") != "Point" or len(geom.get("coordinates") or ()) < 2:
                raise DeviceError(f"row {i} geometry", "devices are points")
            props["lon"], props["lat"] = geom["coordinates"][:2]
        rows.append(props)
    return rows


def import_file(store: StoreLike, path: Path) -> int:
    """Read and register a device file (all or nothing)."""
    return register(store, read_device_file(path))


def device_view(device: Device) -> dict[str, Any]:
    return {
        "device_id": device.device_id,
        "kind": device.kind,
        "kind_label": DEVICE_KINDS.get(device.kind),
        "source": device.source,
        "category_code": device.category_code,
        "name": device.name,
        "lon": device.lon,
        "lat": device.lat,
        "building_id": device.building_id,
        "component_id": device.component_id,
        "owner_unit_id": device.owner_unit_id,
        "threshold": device.threshold,
        "threshold_count": device.threshold_count,
        "last_message_at": None
        if device.last_message_at is None
        else device.last_message_at.isoformat(),
        "last_message": device.last_message,
    }


def list_devices(
    store: StoreLike, *, kind: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    with store.session(write=False) as session:
        query = select(Device).order_by(Device.device_id).limit(limit).offset(offset)
        if kind is not None:
            query = query.where(Device.kind == kind)
        return [device_view(d) for d in session.scalars(query)]


def get_device(store: StoreLike, device_id: str) -> dict[str, Any]:
    with store.session(write=False) as session:
        device = session.get(Device, device_id)
        if device is None:
            raise DeviceNotFound(f"no device {device_id!r}")
        return device_view(device)


__all__ = [
    "AUTO_CLOSE_KINDS",
    "CAMERA_KINDS",
    "DEVICE_KINDS",
    "DeviceError",
    "DeviceNotFound",
    "DeviceSpec",
    "check_spec",
    "device_view",
    "get_device",
    "import_file",
    "list_devices",
    "read_device_file",
    "register",
    "source_for_kind",
]
