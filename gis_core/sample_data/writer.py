"""Deterministic GeoJSON: same data in, same bytes out.

The committed sample files must rebuild byte for byte, and diff well in git, so this does
not go through GDAL: one feature per line, features sorted by their key, properties in a
fixed order, coordinates rounded to 7 decimals (about 1 cm), UTF-8 without escapes, no
timestamps, and a trailing newline. Which columns a file of each kind carries is not
decided here: :func:`write_layer` takes them from ``gis_core.storage.columns``, the table
the importers and the Store read too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis_core.storage.columns import SAMPLE_FILE_COLUMNS

from .assemble import DECIMALS


def _coords(arr: np.ndarray) -> list:
    return np.round(arr, DECIMALS).tolist()


def geometry_json(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry dict (Point, [Multi]LineString, [Multi]Polygon), rounded coordinates."""
    kind = geom.geom_type
    if kind == "Point":
        return {"type": "Point", "coordinates": _coords(shapely.get_coordinates(geom)[0])}
    if kind == "Polygon":
        rings = [_coords(shapely.get_coordinates(r)) for r in shapely.get_rings(geom)]
        return {"type": "Polygon", "coordinates": rings}
    if kind == "LineString":
        return {"type": "LineString", "coordinates": _coords(shapely.get_coordinates(geom))}
    if kind == "MultiLineString":
        parts = [_coords(shapely.get_coordinates(g)) for g in geom.geoms]
        return {"type": "MultiLineString", "coordinates": parts}
    if kind == "MultiPolygon":
        polys = [
            [_coords(shapely.get_coordinates(r)) for r in shapely.get_rings(p)] for p in geom.geoms
        ]
        return {"type": "MultiPolygon", "coordinates": polys}
    raise TypeError(f"unsupported geometry type {kind}")


def write_collection(
    path: Path,
    rows: Iterable[tuple[dict[str, Any], BaseGeometry]],
    columns: Sequence[str],
    key: str,
    name: str,
) -> int:
    """Write a FeatureCollection sorted by ``key``; returns the number of features."""
    items = sorted(rows, key=lambda r: r[0][key])
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    lines = []
    for props, geom in items:
        feature = {
            "type": "Feature",
            "properties": {c: props[c] for c in columns},
            "geometry": geometry_json(geom),
        }
        lines.append(dumps(feature))
    head = dumps({"type": "FeatureCollection", "name": name})[:-1]
    text = head + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8", newline="\n")
    return len(items)


def write_layer(
    path: Path, kind: str, rows: Iterable[tuple[dict[str, Any], BaseGeometry]], key: str
) -> int:
    """A sample layer file of ``kind`` (grids, buildings, components, duty_layers) with
    the columns ``gis_core.storage.columns.SAMPLE_FILE_COLUMNS`` gives for it."""
    return write_collection(path, rows, SAMPLE_FILE_COLUMNS[kind], key, kind)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Small JSON file (the manifest), sorted keys, trailing newline."""
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8", newline="\n")
