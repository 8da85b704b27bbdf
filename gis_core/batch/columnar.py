"""Batch locate over columnar files: CSV, Arrow IPC and (Geo)Parquet in, the same out.

A million points as JSON cost ~2 GB of Python objects; as columns they are two float64
arrays. Bodies are read by pyarrow batch by batch from a file the HTTP layer spooled to
disk (so memory stays bounded whatever the body's size), located with
:meth:`gis_core.spatial.locator.Locator.locate_rows`, and written batch by batch in the
body's own format. Answer columns are Arrow dictionary arrays (one entry per grid, an
int16 index per point, int32 beyond 32,767 grids): no string is built per point.

Input columns: ``lon``/``lat`` (or ``lng``, ``x``/``y``; case-insensitive) or, for
GeoParquet and Arrow, a WKB point ``geometry`` column; an ``id`` column is echoed. Output,
one row per input row in order: ``index``, ``id`` (if given), the codes and names of grid,
community, street and district, and ``error`` (null, "outside coverage", "missing or
non-numeric coordinate", "coordinate out of range") as the JSON answer words it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import shapely

from gis_core.batch.points import BatchTooLarge, InvalidBatch, UnreadableBatch
from gis_core.spatial.crs import STORAGE_EPSG, parse_crs, valid_lonlat
from gis_core.spatial.locator import Locator

MEDIA_TYPES = {
    "text/csv": "csv",
    "application/vnd.apache.arrow.stream": "arrow",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/geo+parquet": "parquet",
}
"""Content types of columnar bodies (and of their answers) and the format each names."""
FORMAT_MEDIA_TYPE = {
    "csv": "text/csv; charset=utf-8",
    "arrow": "application/vnd.apache.arrow.stream",
    "parquet": "application/vnd.apache.parquet",
}
CSV_BLOCK_BYTES = 4 << 20
"""pyarrow reads CSV in blocks of this size: memory per request stays near a few blocks."""
MISSING = "missing or non-numeric coordinate"
OUT_OF_RANGE = "coordinate out of range"
OUTSIDE = "outside coverage"
_LON = ("lon", "lng", "longitude", "x")
_LAT = ("lat", "latitude", "y")


def media_format(content_type: str) -> str | None:
    """'csv', 'arrow' or 'parquet' for a columnar content type, else None."""
    return MEDIA_TYPES.get(content_type.split(";")[0].strip().lower())


@dataclass
class ColumnarResult:
    points: int = 0
    located: int = 0


def _batches(path: Path, fmt: str) -> Iterator[pa.RecordBatch]:
    try:
        if fmt == "csv":
            reader = pacsv.open_csv(
                path, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES)
            )
            yield from reader
        elif fmt == "arrow":
            with pa.memory_map(str(path)) as source:
                yield from ipc.open_stream(source)
        else:
            yield from pq.ParquetFile(path).iter_batches(batch_size=262_144)
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableBatch(f"Unreadable {fmt}", str(exc)[:300]) from exc


def _column(batch: pa.RecordBatch, names: tuple[str, ...]) -> pa.Array | None:
    lower = {n.lower(): i for i, n in enumerate(batch.schema.names)}
    for name in names:
        if name in lower:
            return batch.column(lower[name])
    return None


def _numbers(column: pa.Array) -> np.ndarray:
    """float64 with NaN for nulls and for text that is not a number."""
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_null(column.type):
        return np.full(len(column), np.nan)
    text = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
    numeric = pc.match_substring_regex(text, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$").fill_null(
        False
    )
    safe = pc.if_else(numeric, text, pa.scalar(None, pa.string()))
    return pc.cast(safe, pa.float64()).to_numpy(zero_copy_only=False)


def _points(batch: pa.RecordBatch) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _column(batch, _LON), _column(batch, _LAT)
    if lon is not None and lat is not None:
        return _numbers(lon), _numbers(lat)
    geometry = _column(batch, ("geometry", "geom", "wkb_geometry"))
    if geometry is not None and pa.types.is_binary(geometry.type):
        geoms = shapely.from_wkb(geometry.to_numpy(zero_copy_only=False), on_invalid="ignore")
        return shapely.get_x(geoms), shapely.get_y(geoms)
    raise InvalidBatch(
        "Missing columns", "needs lon and lat (or x and y) columns, or a WKB geometry column"
    )


class _Writer:
    """Batches out in one format to ``path``; the schema comes with the first batch."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.fmt = path, fmt
        self._writer: Any = None

    def write(self, batch: pa.RecordBatch) -> None:
        if self._writer is None:
            if self.fmt == "csv":
                self._writer = pacsv.CSVWriter(self.path, batch.schema)
            elif self.fmt == "arrow":
                self._writer = ipc.new_stream(str(self.path), batch.schema)
            else:
                # No column statistics: min/max of the answer's dictionary columns serve
                # no reader of an answer file, and they were a third of the write time.
                self._writer = pq.ParquetWriter(self.path, batch.schema, write_statistics=False)
        if self.fmt == "csv":  # CSV has no dictionaries: write the values
            batch = pa.RecordBatch.from_arrays(
                [
                    c.dictionary_decode() if pa.types.is_dictionary(c.type) else c
                    for c in batch.columns
                ],
                names=batch.schema.names,
            )
        self._writer.write_batch(batch)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def locate_file(
    locator: Locator,
    source: Path,
    fmt: str,
    crs: str,
    target: Path,
    max_points: int | None = None,
) -> ColumnarResult:
    """Locate every point of ``source`` (format ``fmt``) and write the answer to
    ``target`` in the same format; BatchError when the body cannot be used."""
    parsed = parse_crs(crs)
    geographic = parsed.is_geographic
    # WGS84 needs no masking: the index finds no grid for NaN or out-of-range points.
    identity = parsed.epsg == STORAGE_EPSG
    result = ColumnarResult()
    dictionaries: dict[str, pa.Array] | None = None
    errors = pa.array([MISSING, OUT_OF_RANGE, OUTSIDE])
    writer = _Writer(target, fmt)
    try:
        for batch in _batches(source, fmt):
            n = batch.num_rows
            if max_points is not None and result.points + n > max_points:
                raise BatchTooLarge(
                    "Batch too large", f"more than {max_points} points; the limit is {max_points}"
                )
            x, y = _points(batch)
            missing = ~(np.isfinite(x) & np.isfinite(y))
            bad_range = ~missing & ~valid_lonlat(x, y) if geographic else np.zeros(n, bool)
            usable = ~missing & ~bad_range
            if identity:
                rows, table = locator.locate_rows(x, y, crs)
            else:
                rows, table = locator.locate_rows(
                    np.where(usable, x, np.nan), np.where(usable, y, np.nan), crs
                )
            if dictionaries is None:
                dictionaries = {name: pa.array(values[:-1]) for name, values in table.items()}
            inside = usable & (rows < len(table["grid_code"]) - 1)
            code = np.where(missing, 0, np.where(bad_range, 1, 2))
            arrays: list[pa.Array] = [pa.array(np.arange(result.points, result.points + n))]
            names = ["index"]
            ident = _column(batch, ("id",))
            if ident is not None:
                arrays.append(ident)
                names.append("id")
            # Narrowest index type the grids fit in: eight answer columns each carry
            # their own indices, so int16 instead of int32 cuts a third of the answer.
            width = np.int16 if len(table["grid_code"]) <= np.iinfo(np.int16).max else np.int32
            indices = pa.array(rows.astype(width), mask=~inside)
            for name, dictionary in dictionaries.items():
                arrays.append(pa.DictionaryArray.from_arrays(indices, dictionary))
                names.append(name)
            error = pa.array(code.astype(np.int8), mask=inside)
            arrays.append(pa.DictionaryArray.from_arrays(error, errors))
            names.append("error")
            writer.write(pa.RecordBatch.from_arrays(arrays, names=names))
            result.points += n
            result.located += int(inside.sum())
    finally:
        writer.close()
    if result.points == 0:
        raise InvalidBatch("Empty batch", "the body holds no points")
    return result


__all__ = [
    "FORMAT_MEDIA_TYPE",
    "MEDIA_TYPES",
    "ColumnarResult",
    "locate_file",
    "media_format",
]
