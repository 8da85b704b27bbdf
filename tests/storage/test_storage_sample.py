"""The committed sample district (data/sample_grids) through the importers, both backends."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import shapely

from gis_core.storage import Store, import_file


def test_sample_district_imports_completely(store: Store, sample_dir: Path) -> None:
    counts = json.loads((sample_dir / "manifest.json").read_text(encoding="utf-8"))["counts"]
    grids = import_file(store, "grids", sample_dir / "grids.geojson", generation_name="sample")
    assert (grids.error, grids.rejected, grids.warnings) == (None, [], [])
    assert grids.loaded == {
        "community": counts["communities"],
        "street": counts["streets"],
        "district": counts["districts"],
        "grid": counts["grids"],
    }
    for kind in ("buildings", "components"):
        report = import_file(store, kind, sample_dir / f"{kind}.geojson")
        assert (report.error, report.rejected) == (None, [])
        assert report.loaded == {kind: counts[kind]}
    stored = store.counts()
    assert stored["admin_units"] == sum(
        counts[k] for k in ("districts", "streets", "communities", "grids")
    )
    assert (stored["buildings"], stored["components"]) == (
        counts["buildings"],
        counts["components"],
    )
    # Communities derived from the grids are the generator's communities.
    derived = store.read_admin_layer("community").set_index("code")
    shipped = gpd.read_file(sample_dir / "communities.geojson").set_index("code")
    assert list(derived.index) == list(shipped.index)
    sym = shapely.area(
        shapely.symmetric_difference(derived.geometry.values, shipped.geometry.values)
    )
    assert float(sym.max()) < 1e-12
    grid = store.read_admin_layer("grid").iloc[0]
    assert json.loads(grid.staff)[0]["role"] in {"网格长", "专职网格员", "兼职网格员"}
