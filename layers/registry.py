"""Every map layer gridgov serves, defined once (the OGC collections and the tile layers).

Order matters: it is the listing order of ``/collections`` and the drawing order of the
combined style (areas first, from the district down, then buildings, components, events).
"""

from __future__ import annotations

from gis_core.cases.vocab import OPEN, STATUS_LABELS, Status
from layers.events import LIGHT_COLOURS, LIGHT_INPUTS, LIGHT_LABELS, NO_LIGHT, event_light
from layers.model import Layer, Property
from layers.style import ByProperty, Style

CODE = Property("code", "编码")
NAME = Property("name", "名称")
AREA = Property("area_m2", "面积(平方米)", "number")
DISTRICT = Property("district_code", "区县编码")
STREET = Property("street_code", "街道编码")
COMMUNITY = Property("community_code", "社区编码")
GRID = Property("grid_code", "网格编码")

# Admin areas: coarse simplification when zoomed out, almost none when zoomed in.
AREA_SIMPLIFY = ((0, 2.0), (14, 1.0), (17, 0.5))

CLOSED_STATUSES = tuple(s.value for s in Status if s not in OPEN)
"""Closed or terminal cases: drawn faded on the events layer."""


def _admin(
    id: str,
    level: str,
    title: str,
    title_en: str,
    props: tuple[Property, ...],
    zooms: tuple[int, int],
    style: Style,
) -> Layer:
    return Layer(
        id=id,
        title=title,
        title_en=title_en,
        description=f"{title_en} ({title}) of the active boundary generation; "
        "`generation=` (id or name) reads another.",
        table="admin_units",
        id_field="code",
        fixed={"level": level},
        versioned=True,
        properties=(CODE, NAME, *props, AREA),
        geometry_type="MultiPolygon",
        minzoom=zooms[0],
        maxzoom=zooms[1],
        simplify=AREA_SIMPLIFY,
        numeric_id=True,
        style=style,
        generation_cached=True,
    )


DISTRICTS = _admin(
    "districts",
    "district",
    "区县",
    "Districts",
    (),
    (6, 16),
    Style("polygon", fill="#7e57c2", fill_opacity=0.0, stroke="#4a148c", stroke_width=3.0),
)
STREETS = _admin(
    "streets",
    "street",
    "街道",
    "Streets (sub-districts and towns)",
    (DISTRICT,),
    (9, 18),
    Style("polygon", fill="#ce93d8", fill_opacity=0.08, stroke="#6a1b9a", stroke_width=2.0),
)
COMMUNITIES = _admin(
    "communities",
    "community",
    "社区",
    "Communities (residents' and villagers' committees)",
    (STREET, DISTRICT),
    (11, 19),
    Style("polygon", fill="#90caf9", fill_opacity=0.1, stroke="#1565c0", stroke_width=1.5),
)
GRIDS = _admin(
    "grids",
    "grid",
    "网格",
    "Unit grids",
    (COMMUNITY, STREET, DISTRICT, Property("unit_name", "责任单位")),
    (12, 20),
    Style("polygon", fill="#80cbc4", fill_opacity=0.15, stroke="#00897b", stroke_width=1.0),
)

BUILDINGS = Layer(
    id="buildings",
    title="建筑物",
    title_en="Buildings",
    description="Buildings (建筑物) with their address and grid.",
    table="buildings",
    id_field="building_id",
    properties=(
        Property("building_id", "建筑物编码"),
        NAME,
        Property("address", "地址"),
        Property("floors", "层数", "integer"),
        Property("households", "户数", "integer"),
        Property("use", "用途"),
        GRID,
        COMMUNITY,
        STREET,
    ),
    geometry_type="MultiPolygon",
    minzoom=14,
    maxzoom=20,
    simplify=((0, 0.5), (17, 0.0)),
    style=Style("polygon", fill="#bcaaa4", fill_opacity=0.7, stroke="#6d4c41", stroke_width=0.5),
    generation_cached=True,
)

COMPONENTS = Layer(
    id="components",
    title="部件",
    title_en="City components",
    description="City components (管理部件, GB/T 47678.5): `class_code=` (5 digits) or "
    "`major_code=` (2 digits) selects a class; `datetime=` filters on initial_date.",
    table="components",
    id_field="component_id",
    properties=(
        Property("component_id", "部件标识码"),
        Property("class_code", "小类代码"),
        Property("class_name", "小类名称"),
        Property("major_code", "大类代码"),
        Property("major_name", "大类名称"),
        Property("status", "状态"),
        Property("department_name", "主管部门"),
        Property("owner_name", "权属单位"),
        Property("maintainer_name", "养护单位"),
        Property("initial_date", "初始日期", "date"),
        GRID,
        COMMUNITY,
        STREET,
    ),
    geometry_type="Point",
    minzoom=15,
    maxzoom=20,
    datetime_field="initial_date",
    numeric_id=True,
    style=Style("point", fill="#546e7a", stroke="#ffffff", stroke_width=0.5, radius=3.0),
    generation_cached=True,
)

EVENTS = Layer(
    id="events",
    title="事件",
    title_en="Events (cases)",
    description="Reported events (事件) and their case status; `datetime=` filters on "
    "reported_at; `light` is the deadline traffic light while a case is dispatched.",
    table="events",
    id_field="id",
    properties=(
        Property("id", "事件编号", "integer"),
        Property("status", "状态"),
        Property("category_code", "事件类别"),
        Property("source", "来源"),
        Property("priority", "紧急程度"),
        Property("reported_at", "上报时间", "datetime"),
        GRID,
        STREET,
        Property("deadline_at", "处置时限", "datetime"),
        Property("light", "红黄绿灯", computed=True),
    ),
    geometry_type="Point",
    minzoom=10,
    maxzoom=20,
    datetime_field="reported_at",
    compute=event_light,
    inputs=LIGHT_INPUTS,
    cache_seconds=0,
    scope="events:read",
    area_column="grid_code",
    cluster_maxzoom=13,  # a year of events: counts per cell up to z13, points from z14
    style=Style(
        "point",
        fill=ByProperty("light", LIGHT_COLOURS, NO_LIGHT),
        fill_opacity=ByProperty("status", dict.fromkeys(CLOSED_STATUSES, 0.35), 0.9),
        stroke=ByProperty(
            "status",
            {
                Status.REPORTED.value: "#1565c0",
                Status.FILED.value: "#1565c0",
                Status.DISPATCHED.value: "#212121",
                Status.HANDLED.value: "#6a1b9a",
                Status.VERIFIED.value: "#6a1b9a",
                Status.PARKED.value: "#795548",
                **dict.fromkeys(CLOSED_STATUSES, "#bdbdbd"),
            },
            "#212121",
        ),
        stroke_width=1.5,
        radius=5.0,
        legend={
            "light": LIGHT_LABELS,
            "status": {s.value: label for s, label in STATUS_LABELS.items()},
        },
    ),
)

# The offline basemap (gis_core.sample_data.basemap): what the console draws beneath the
# areas when no raster basemap is configured. Listed after the data layers; style
# documents draw them first (``basemap=True``).
BASEMAP_ID = Property("id", "编号", "integer")
RIVERS = Layer(
    id="rivers",
    title="河流",
    title_en="Rivers (offline basemap)",
    description="Rivers (河流) of the offline basemap, drawn when no raster basemap is set.",
    table="basemap_features",
    id_field="id",
    fixed={"layer": "rivers"},
    properties=(BASEMAP_ID, NAME),
    geometry_type="MultiPolygon",
    minzoom=8,
    maxzoom=20,
    simplify=AREA_SIMPLIFY,
    basemap=True,
    style=Style(
        "polygon",
        fill="#a5d1e8",
        fill_opacity=1.0,
        stroke="#7fb3d0",
        stroke_width=0.8,
        text_size=12.0,
        text_color="#1f5f8b",
    ),
)
ROAD_CLASS_LABELS = {"main": "主干道", "secondary": "次干道", "minor": "支路"}
ROADS = Layer(
    id="roads",
    title="道路",
    title_en="Roads (offline basemap)",
    description="Road centrelines (道路) of the offline basemap; `kind` is the class "
    "(main 主干道, secondary 次干道, minor 支路).",
    table="basemap_features",
    id_field="id",
    fixed={"layer": "roads"},
    properties=(BASEMAP_ID, NAME, Property("kind", "道路等级")),
    geometry_type="MultiLineString",
    minzoom=8,
    maxzoom=20,
    simplify=AREA_SIMPLIFY,
    basemap=True,
    style=Style(
        "line",
        fill="#ffffff",
        stroke=ByProperty("kind", {"main": "#f3b562", "secondary": "#fbe3a6"}, "#ffffff"),
        line_width=ByProperty("kind", {"main": 6.0, "secondary": 4.0}, 2.5),
        text_size=12.0,
        text_color="#5d4037",
        legend={"kind": ROAD_CLASS_LABELS},
    ),
)
PLACE_NAMES = Layer(
    id="place_names",
    title="地名",
    title_en="Place names (offline basemap)",
    description="Street and community name points (地名注记) of the offline basemap; "
    "`kind` is the level (street, community), `code` the area named.",
    table="basemap_features",
    id_field="id",
    fixed={"layer": "place_names"},
    properties=(BASEMAP_ID, NAME, Property("kind", "级别"), CODE),
    geometry_type="Point",
    minzoom=8,
    maxzoom=20,
    basemap=True,
    style=Style(
        "label",
        fill="#263238",
        text_color="#263238",
        text_classes={"street": (9, 15.0), "community": (12, 12.0)},
    ),
)

LAYERS: dict[str, Layer] = {
    layer.id: layer
    for layer in (DISTRICTS, STREETS, COMMUNITIES, GRIDS, BUILDINGS, COMPONENTS, EVENTS)
}
LAYERS |= {layer.id: layer for layer in (RIVERS, ROADS, PLACE_NAMES)}
