"""From a coordinate in any CRS to its grid, community, street and district.

`Locator` joins the pure `GridIndex` to the administrative hierarchy (codes and names of
the parents of every grid) and to coordinate conversion. It is what the CLI, the API
and batch assignment call; it reads no files and knows no database: build it from
GeoDataFrames, from a directory of layer files, or from the store.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from gis_core.spatial.crs import STORAGE_EPSG, parse_crs, to_wgs84, valid_lonlat
from gis_core.spatial.grid_index import GridIndex
from gis_core.spatial.io import read_layer
from gis_core.standards.codes import ADMIN_CODE_LENGTHS

LEVELS = ("grid", "community", "street", "district")
RESULT_COLUMNS = [f"{level}_{part}" for level in LEVELS for part in ("code", "name")]


class CoordinateError(ValueError):
    """Coordinates that are missing, not numbers, or out of range; ``field`` names the
    offending one (``lon`` or ``lat``) where one alone is wrong."""

    def __init__(self, message: str, field: str = "lon") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class LayerSet:
    """The four administrative layers of one boundary generation."""

    grids: gpd.GeoDataFrame
    communities: pd.DataFrame | None = None
    streets: pd.DataFrame | None = None
    districts: pd.DataFrame | None = None

    @classmethod
    def from_directory(cls, path: str | Path) -> LayerSet:
        """Read grids.geojson (required) and its parent layers (optional) from a folder.

        Parameters
        ----------
        path : str or pathlib.Path
            A folder with ``grids.*`` and optionally ``communities.*``, ``streets.*`` and
            ``districts.*`` (any format `read_layer` reads).

        Returns
        -------
        LayerSet

        Raises
        ------
        FileNotFoundError
            The folder has no grids layer.
        """
        path = Path(path)
        layers: dict[str, gpd.GeoDataFrame | None] = {}
        for name in ("grids", "communities", "streets", "districts"):
            files = sorted(path.glob(f"{name}.*"))
            layers[name] = read_layer(files[0]) if files else None
        if layers["grids"] is None:
            raise FileNotFoundError(f"no grids layer (grids.geojson, .gpkg, ...) in {path}")
        return cls(**layers)  # type: ignore[arg-type]


def _names(df: pd.DataFrame | None) -> dict[str, str]:
    if df is None or "code" not in df.columns or "name" not in df.columns:
        return {}
    return dict(zip(df["code"].astype(str), df["name"].astype(str), strict=True))


class Locator:
    """Grid lookup with the full administrative answer, in any supported input CRS.

    Parameters
    ----------
    layers : LayerSet
        The grids (``code``; ``name``, ``community_code`` ..., ``unit_name`` and
        ``staff`` where present) and their parent layers for names. Parents missing
        from the grid layer are taken from the code's prefix (see
        `gis_core.standards.codes`).
    generation : str, optional
        The boundary generation the layers belong to (kept as ``self.generation``).
    **index_kw
        `cell_m` and `max_cells` for the `GridIndex`.

    Examples
    --------
    The shipped sample (Baohe district, Hefei):

    >>> from gis_core.paths import SAMPLE_DIR
    >>> locator = Locator.from_directory(SAMPLE_DIR)
    >>> answer = locator.locate_one(117.273, 31.8489)
    >>> answer["grid_code"], answer["community_name"], answer["street_name"]
    ('340111001001001', '凤湾社区', '包公街道')
    >>> x, y = 117.27850426, 31.8468964  # the same point read off an AMap (GCJ-02) map
    >>> locator.locate_one(x, y, crs="gcj02")["grid_code"]
    '340111001001001'
    >>> table = locator.locate([117.273, 0.0], [31.8489, 0.0])
    >>> table["district_name"][0], table["district_name"].isna().tolist()
    ('包河区', [False, True])
    """

    def __init__(self, layers: LayerSet, *, generation: str | None = None, **index_kw: float):
        grids = layers.grids.reset_index(drop=True)
        self.generation = generation
        self.index = GridIndex.from_geodataframe(grids, "code", **index_kw)
        codes = grids["code"].astype(str)
        parent = {
            "community": grids["community_code"].astype(str)
            if "community_code" in grids
            else codes.str[: ADMIN_CODE_LENGTHS["community"]],
            "street": grids["street_code"].astype(str)
            if "street_code" in grids
            else codes.str[: ADMIN_CODE_LENGTHS["street"]],
            "district": grids["district_code"].astype(str)
            if "district_code" in grids
            else codes.str[: ADMIN_CODE_LENGTHS["district"]],
        }
        names = {
            "grid": dict(
                zip(codes, grids.get("name", pd.Series([None] * len(grids))), strict=True)
            ),
            "community": _names(layers.communities),
            "street": _names(layers.streets),
            "district": _names(layers.districts),
        }
        # One row per grid, aligned with the index's polygon order, plus a final all-None
        # row that index -1 (no grid) selects.
        table: dict[str, NDArray[np.object_]] = {}
        for level in LEVELS:
            level_codes = codes if level == "grid" else parent[level]
            table[f"{level}_code"] = np.append(level_codes.to_numpy(dtype=object), None)
            table[f"{level}_name"] = np.append(
                np.array([names[level].get(c) for c in level_codes], dtype=object), None
            )
        self._table = table
        self.grids = grids
        extra = [c for c in ("unit_name", "staff") if c in grids.columns]
        self._records: dict[str, dict] = {
            code: {c: _json_or_value(v) for c, v in zip(extra, values, strict=True)}
            for code, *values in zip(codes, *(grids[c] for c in extra), strict=True)
        }

    @classmethod
    def from_directory(cls, path: str | Path, **kw: float) -> Locator:
        """A locator over the layer files in a folder (see `LayerSet.from_directory`).

        Parameters
        ----------
        path : str or pathlib.Path
            A folder with ``grids.geojson`` (or .gpkg ...) and optional parent layers.
        **kw
            Passed to the constructor (``generation``, ``cell_m`` ...).

        Returns
        -------
        Locator

        Raises
        ------
        FileNotFoundError
            The folder has no grids layer.

        Examples
        --------
        >>> Locator.from_directory("/nonexistent")
        Traceback (most recent call last):
        ...
        FileNotFoundError: no grids layer (grids.geojson, .gpkg, ...) in /nonexistent
        """
        return cls(LayerSet.from_directory(path), **kw)

    # --------------------------------------------------------------- bulk

    def locate(self, x: ArrayLike, y: ArrayLike, crs: str | int | None = "wgs84") -> pd.DataFrame:
        """Administrative answer for every point; rows of None where no grid covers it.

        Invalid coordinates (NaN, out of range) also get None rows: callers that must
        report why use `validate` first.

        Parameters
        ----------
        x, y : array_like
            Coordinates in `crs` (lon/lat, or metres for a projected CRS).
        crs : str, int or None, default "wgs84"
            Anything `gis_core.spatial.crs.parse_crs` accepts.

        Returns
        -------
        pandas.DataFrame
            One row per point: ``grid_code``, ``grid_name``, ``community_code`` ...
            ``district_name`` (`RESULT_COLUMNS`); missing values where no grid covers
            the point.

        Raises
        ------
        gis_core.spatial.crs.CRSError
            `crs` is not a supported CRS.

        Examples
        --------
        >>> import shapely
        >>> import geopandas as gpd
        >>> grids = gpd.GeoDataFrame(
        ...     {"code": ["340111001001001"], "name": ["第1网格"]},
        ...     geometry=[shapely.box(117.0, 31.0, 117.01, 31.01)], crs=4326)
        >>> locator = Locator(LayerSet(grids))
        >>> table = locator.locate([117.005, 117.5, 500.0], [31.005, 31.5, 31.0])
        >>> table.loc[0, ["grid_code", "community_code", "street_code"]].tolist()
        ['340111001001001', '340111001001', '340111001']
        >>> table["grid_code"].isna().tolist()  # outside every grid; lon 500 is invalid
        [False, True, True]
        """
        lon, lat = self.to_wgs84(x, y, crs)
        idx = self.index.locate_index(lon, lat)
        return pd.DataFrame({col: arr[idx] for col, arr in self._table.items()})

    def locate_rows(
        self, x: ArrayLike, y: ArrayLike, crs: str | int | None = "wgs84"
    ) -> tuple[NDArray[np.int64], dict[str, NDArray[np.object_]]]:
        """The answer-table row of every point and the table (`RESULT_COLUMNS`, one row
        per grid, and a last all-None row for points in no grid): `locate` without
        building a frame, for columnar output (Arrow dictionary arrays).

        WGS84 input goes to the index as it is (no copies, no range mask): the raster
        spans the grids' own bounds and every test in it is exact, so a NaN or
        out-of-range point finds no grid without being masked first."""
        if parse_crs(crs).epsg == STORAGE_EPSG:
            idx = self.index.locate_index(x, y)
        else:
            idx = self.index.locate_index(*self.to_wgs84(x, y, crs))
        idx[idx < 0] = len(self.grids)
        return idx, self._table

    def to_wgs84(
        self, x: ArrayLike, y: ArrayLike, crs: str | int | None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Arrays in `crs` to WGS84; out-of-range lon/lat become NaN (never projected)."""
        xs = np.asarray(x, dtype=np.float64)
        ys = np.asarray(y, dtype=np.float64)
        parsed = parse_crs(crs)
        if parsed.is_geographic:
            # Out-of-range input must not be pushed through a projection into range.
            bad = ~valid_lonlat(xs, ys)
            xs = np.where(bad, np.nan, xs)
            ys = np.where(bad, np.nan, ys)
        return to_wgs84(xs, ys, parsed.name if parsed.epsg is None else parsed.epsg)

    # --------------------------------------------------------------- single point

    def locate_one(self, x: float, y: float, crs: str | int | None = "wgs84") -> dict | None:
        """One point: the administrative answer as a dict, or None outside coverage.

        Raises CoordinateError for coordinates that are not finite or out of range.

        Parameters
        ----------
        x, y : float
            One point in `crs`.
        crs : str, int or None, default "wgs84"
            Anything `gis_core.spatial.crs.parse_crs` accepts.

        Returns
        -------
        dict or None
            The `RESULT_COLUMNS` plus ``lon`` and ``lat`` (WGS84), or None where no grid
            covers the point.

        Raises
        ------
        CoordinateError
            Not numbers, not finite, out of range, or not mapping to a valid lon/lat.
        gis_core.spatial.crs.CRSError
            `crs` is not a supported CRS.

        Examples
        --------
        >>> import shapely
        >>> import geopandas as gpd
        >>> grids = gpd.GeoDataFrame(
        ...     {"code": ["340111001001001"]},
        ...     geometry=[shapely.box(117.0, 31.0, 117.01, 31.01)], crs=4326)
        >>> locator = Locator(LayerSet(grids))
        >>> answer = locator.locate_one(117.005, 31.005)
        >>> answer["grid_code"], answer["district_code"], answer["lon"]
        ('340111001001001', '340111', 117.005)
        >>> locator.locate_one(117.5, 31.5) is None
        True
        >>> locator.locate_one(117.0, 95.0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        gis_core.spatial.locator.CoordinateError: coordinates out of range: lon 117.0 must ...
        """
        lon, lat = self.point_to_wgs84(x, y, crs)
        i = self.index.locate_one_index(lon, lat)
        if i < 0:
            return None
        answer = {col: arr[i] for col, arr in self._table.items()}
        answer["lon"], answer["lat"] = lon, lat
        return answer

    def point_to_wgs84(self, x: float, y: float, crs: str | int | None) -> tuple[float, float]:
        """One point in `crs` to WGS84 floats, or CoordinateError saying what is wrong."""
        try:
            fx = float(x)
        except (TypeError, ValueError) as exc:
            raise CoordinateError(f"coordinates must be numbers, got {x!r}, {y!r}") from exc
        try:
            fy = float(y)
        except (TypeError, ValueError) as exc:
            raise CoordinateError(f"coordinates must be numbers, got {x!r}, {y!r}", "lat") from exc
        parsed = parse_crs(crs)
        # Plain float checks: numpy's valid_lonlat costs ~10 µs on scalars.
        lon_ok = math.isfinite(fx) and -180.0 <= fx <= 180.0
        if parsed.is_geographic and not (lon_ok and math.isfinite(fy) and -90.0 <= fy <= 90.0):
            raise CoordinateError(
                f"coordinates out of range: lon {x} must be within ±180 and lat {y} within ±90",
                "lon" if not lon_ok else "lat",
            )
        if parsed.epsg == 4326:
            return fx, fy
        lon, lat = to_wgs84(fx, fy, crs)
        lon_f, lat_f = float(lon), float(lat)
        if not valid_lonlat(lon_f, lat_f):
            raise CoordinateError(f"coordinates ({x}, {y}) in {crs} do not map to a valid lon/lat")
        return lon_f, lat_f

    def grid_extra(self, code: str) -> dict:
        """The grid's unit name and staff (parsed), where the layer has them."""
        return self._records.get(code, {})

    def document(self, answer: dict[str, Any]) -> dict[str, Any]:
        """The JSON shape of one lookup, shared by the CLI and the HTTP API."""
        out: dict[str, Any] = {
            level: {"code": answer[f"{level}_code"], "name": answer[f"{level}_name"]}
            for level in LEVELS
        }
        out["grid"].update(self.grid_extra(answer["grid_code"]))
        out["wgs84"] = {"lon": round(answer["lon"], 8), "lat": round(answer["lat"], 8)}
        return out


def _json_or_value(value: Any) -> Any:
    """Staff lists travel as JSON text in flat layers; hand them out parsed."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value
