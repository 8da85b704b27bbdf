"""Writes the analysts' notebooks (outputs stripped) from the cells below.

Run ``python notebooks/build_notebooks.py`` after editing; the suite executes every
``*.ipynb`` here (tests/analytics/test_notebooks.py) with a smaller sample year.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

SETUP = '''import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gis_core import GridIndex
from gis_core.analytics import Filters, prepare_events, unit_set
from gis_core.paths import SAMPLE_DIR
from gis_core.sample_data.events.generator import generate_events

# The sample year: 250,000 reports (the test suite runs these notebooks with fewer).
N = int(os.environ.get("GRIDGOV_NB_EVENTS", "250000"))
OUT = Path(os.environ.get("GRIDGOV_NB_OUT", "out"))
OUT.mkdir(parents=True, exist_ok=True)
grids = gpd.read_file(SAMPLE_DIR / "grids.geojson")
index = GridIndex.from_geodataframe(grids, code_column="code")
CACHE = os.environ.get("GRIDGOV_NB_EVENTS_FILE")  # a saved sample year, if one is at hand
if CACHE and Path(CACHE).exists():
    raw = pd.read_parquet(CACHE)
else:
    raw = generate_events(SAMPLE_DIR, n=N, year=2025, seed=20260701)
events = prepare_events(raw, index)
print(f"{len(events):,} events, {events.grid_code.notna().sum():,} located in a grid")'''

NOTEBOOKS = {
    "01_quickstart.ipynb": [
        ("md", "# gridgov analytics: quick start\n\nThe Python API in five calls: "
               "prepare events, pick units, aggregate, hot spots, density. Every map uses "
               "the Leaflet copies gridgov ships, so this notebook works offline."),
        ("code", SETUP),
        ("code", '''from gis_core.analytics import aggregate, density, hotspots
from gis_core.analytics.units import households_by_grid

buildings = gpd.read_file(SAMPLE_DIR / "buildings.geojson")
units = unit_set("grid", grids, households_by_grid(buildings))
counts = aggregate(events, units, Filters(start=pd.Timestamp("2025-07-01"), end=pd.Timestamp("2025-10-01")))
print(counts.params)
counts.table.drop(columns="geometry").sort_values("count", ascending=False).head(10)'''),
        ("code", '''for by in ("street", "h3:8", "square:500"):
    res = aggregate(events, unit_set(by, grids))
    print(f"{by:12s} {res.params['units']:5d} units, busiest {res.table['count'].max():,}")'''),
        ("code", '''dens = density(events, cell_m=50)
print(dens.params["bandwidth_rule"], dens.params["bandwidth_m"], "m", dens.values.shape)'''),
        ("code", '''from gis_core.analytics.maps import choropleth_map, heat_map

m = choropleth_map(counts.table, "rate_per_1000_households", "每千户事件数")
m.save(OUT / "quickstart_rate.html")
m'''),
        ("code", '''h = heat_map(events.sample(min(len(events), 20000), random_state=0))
h.save(OUT / "quickstart_heat.html")
h'''),
    ],
    "02_hotspots.ipynb": [
        ("md", "# Hot spots of the sample year (Getis-Ord Gi*, FDR)\n\nQueen contiguity, "
               "binary star weights, 999 permutations (seed 0), Benjamini-Hochberg FDR; "
               "bins as Esri reports them (±3 = 99 %, ±2 = 95 %, ±1 = 90 %)."),
        ("code", SETUP),
        ("code", '''from gis_core.analytics import hotspots

res = hotspots(events, unit_set("grid", grids))
print(res.params)
pd.Series(res.summary, name="grids per bin")'''),
        ("code", '''without_fdr = hotspots(events, unit_set("grid", grids), fdr=False, permutations=0)
pd.DataFrame({"FDR": res.summary, "no correction": without_fdr.summary})'''),
        ("code", '''from gis_core.analytics.maps import hotspot_map

m = hotspot_map(res.table)
m.save(OUT / "hotspots.html")
m'''),
        ("code", '''import matplotlib.pyplot as plt

ax = res.table.plot(column="z", cmap="RdBu_r", figsize=(6, 6), legend=True)
ax.set_axis_off()
ax.set_title("Gi* z")
plt.show()'''),
    ],
    "03_emerging_hotspots.ipynb": [
        ("md", "# Emerging hot spots by month\n\nSpace-time Gi* (this and the previous "
               "month), Mann-Kendall trend of each grid's z, Esri's categories."),
        ("code", SETUP),
        ("code", '''from gis_core.analytics import emerging_hotspots

res = emerging_hotspots(events, unit_set("grid", grids), step="month")
print(res.params)
res.table["category"].value_counts()'''),
        ("code", '''from gis_core.analytics.maps import choropleth_map

res.table["hot_share"] = res.table["hot_steps"] / len(res.steps)
m = choropleth_map(res.table, "hot_share", "显著热点月份占比")
m.save(OUT / "emerging.html")
m'''),
        ("code", '''import matplotlib.pyplot as plt

monthly = pd.Series(res.counts.sum(axis=1), index=res.steps)
ax = monthly.plot(kind="bar", figsize=(8, 3), title="events per month")
plt.show()'''),
        ("code", '''from gis_core.analytics.maps import heat_map_with_time

t = heat_map_with_time(events, freq="M", max_points=2000)
t.save(OUT / "emerging_heat_time.html")
t'''),
    ],
    "04_recurrent_problems.ipynb": [
        ("md", "# Recurrent problems (统一解决高频事件)\n\nThe same class at the same place "
               "again and again: DBSCAN in metres and days per class, ranked by days."),
        ("code", SETUP),
        ("code", '''from gis_core.analytics import recurrent

res = recurrent(events, eps_m=50, eps_days=14, min_events=5, min_days=3, limit=20)
print(res.params)
res.problems.drop(columns="event_ids").head(10)'''),
        ("code", '''import folium
from gis_core.analytics.maps import OfflineMap

top = res.problems.head(20)
minx, miny, maxx, maxy = grids.total_bounds
m = OfflineMap(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=12)
folium.GeoJson(grids[["code", "geometry"]].to_json(), name="网格",
               style_function=lambda f: {"color": "#999", "weight": 0.3, "fillOpacity": 0}).add_to(m)
for row in top.itertuples():
    folium.Circle([row.lat, row.lon], radius=max(row.radius_m, 30), color="#d62f27",
                  tooltip=f"#{row.rank} {row.category_code}: {row.events} 件 / {row.days} 天").add_to(m)
m.save(OUT / "recurrent.html")
m'''),
    ],
    "05_workload_vs_staff.ipynb": [
        ("md", "# Grid workload versus staff\n\nEvents per grid member: where the grid "
               "members carry the most."),
        ("code", SETUP),
        ("code", '''import json

from gis_core.analytics import aggregate

work = aggregate(events, unit_set("grid", grids)).table.set_index("unit")
staff = grids.set_index("code")["staff"].map(lambda s: len(json.loads(s)) if s else 0)
work["staff"] = staff.reindex(work.index).fillna(0)
work["events_per_member"] = work["count"] / work["staff"].where(work["staff"] > 0)
work[["count", "staff", "events_per_member"]].sort_values("events_per_member", ascending=False).head(10)'''),
        ("code", '''import matplotlib.pyplot as plt

ax = work.plot.scatter(x="staff", y="count", alpha=0.4, figsize=(5, 4))
ax.set_xlabel("grid members")
ax.set_ylabel("events in the year")
plt.show()'''),
        ("code", '''from gis_core.analytics.maps import choropleth_map

m = choropleth_map(work.reset_index(), "events_per_member", "人均事件数")
m.save(OUT / "workload.html")
m'''),
    ],
}


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src)
                    for kind, src in cells]
        nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    main()
