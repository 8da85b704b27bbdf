"""City components (部件) as points: manholes, lamps, trees ... along the roads of each grid.

Grid edges are the generated roads, so most components sit 2-8 m inside a grid edge (the
kerb side of the road); classes that live on plots (green space, toilets, car parks,
transformers) are scattered inside the grid, away from buildings. Class frequencies follow
what a real census finds: manhole covers, street lamps and street trees everywhere,
bridges and monuments rare.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gis_core.spatial.crs import Projector
from gis_core.standards.codes import COMPONENT_ID_LENGTH
from gis_core.storage.columns import SAMPLE_COMPONENT_COLUMNS

from .assemble import DECIMALS
from .departments import responsibility, uscc
from .model import Grid

EDGE_OFFSET_M = (2.0, 8.0)
_MIN_EDGE_DISTANCE_M = 1.5

# (pattern on the class name, relative weight); first match wins, everything else 0.25.
_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("^行道树$", 40.0),
    ("^路灯$", 22.0),
    ("^污水井盖$", 12.0),
    ("^雨水井盖$", 12.0),
    ("^雨水箅子$", 14.0),
    ("^树池树穴$", 8.0),
    ("^垃圾箱$", 9.0),
    ("^供水井盖$", 6.0),
    ("^电力井盖$", 6.0),
    ("^通信井盖$", 6.0),
    ("^门（楼号）牌$", 6.0),
    ("^便道桩$", 5.0),
    ("^牌匾标识$", 5.0),
    ("^电力立杆$", 4.0),
    ("^通信立杆$", 4.0),
    ("^交通标志牌及标线$", 4.0),
    ("^消防设施$", 4.0),
    ("^路灯井盖$", 3.5),
    ("^燃气井盖$", 3.0),
    ("^交通护栏$", 3.0),
    ("^监控电子眼设施$", 2.5),
    ("^户外广告$", 2.5),
    ("^绿地$", 2.5),
    ("^通信交接箱$", 2.0),
    ("^路名牌$", 2.0),
    ("^公交站设施$", 2.0),
    ("^电缆井盖$", 2.0),
    ("^化粪池井盖$", 2.0),
    ("^非机动车停放点$", 2.0),
    ("^交通信号灯$", 1.5),
    ("^街头座椅$", 1.5),
    ("^变压器（箱）$", 1.5),
    ("^宣传栏$", 1.2),
    ("^不明井盖$", 1.2),
    ("^存车支架$", 1.0),
    ("^充电桩$", 1.0),
    ("^快递柜$", 1.0),
    ("^绿地护栏$", 1.0),
    ("^独立树$", 1.0),
    ("^户外健身设施$", 0.8),
    ("^停车场$", 0.8),
    ("^地名牌$", 0.8),
    ("^综合杆$", 0.8),
    ("^人行横道桩$", 0.8),
    ("^公共厕所$", 0.6),
    ("^环卫工具间（箱）$", 0.6),
    ("^垃圾间（楼）$", 0.6),
    ("^停车计费设备$", 0.6),
    ("^燃气调压站（箱）$", 0.4),
    ("^景观灯$", 0.8),
    ("^地灯$", 0.5),
    ("^热力井盖$", 0.1),
    ("^露天供热管道$", 0.03),
    ("^古树名木$", 0.05),
    ("^水塔$", 0.03),
    ("^高压线铁塔$", 0.15),
    ("^过街天桥$", 0.06),
    ("^立交桥$", 0.03),
    ("^跨河桥$", 0.15),
    ("^铁道口设施$", 0.02),
    ("^公路隧道$", 0.01),
    ("^铁路桥涵$", 0.02),
    ("^文物古迹$", 0.04),
    ("^车辆加油（气、电）站$", 0.08),
    ("^喷泉$", 0.08),
    ("^水鹤$", 0.02),
    ("^栈桥$", 0.03),
    ("^港监设施$", 0.02),
    ("^地下通道$", 0.04),
    ("^雕塑$", 0.15),
    ("^牌楼（门楼）$", 0.05),
    ("^电话亭$", 0.05),
    ("^报刊亭$", 0.1),
    ("^邮筒$", 0.15),
    ("^排水泵站$", 0.05),
)
_INTERIOR = re.compile(
    "绿地$|停车场|立体车库|公共厕所|垃圾间|化粪池$|户外健身|变压器|充电桩|快递柜|公用电梯|古树|独立树|"
    "喷泉|雕塑|花架|林地|文物|加油|水塔|通信基站|公房地下室|晒衣架|旧衣物|自动售货机|气象|环保监测"
)
_STATUS = (("完好", 0.925), ("破损", 0.045), ("丢失", 0.01), ("废弃", 0.015), ("移除", 0.005))
_SOURCE = (("实测", 0.72), ("地形图", 0.14), ("基础地理数据", 0.1), ("其他", 0.04))
_CENSUS_START = date(2019, 3, 1)
_CENSUS_DAYS = (date(2025, 12, 31) - _CENSUS_START).days

PROPERTIES = SAMPLE_COMPONENT_COLUMNS


def class_table(district_name: str, city: str, district_code: str) -> pd.DataFrame:
    """Component classes with draw weight, placement and responsible parties."""
    from gis_core.standards import component_classes

    df = component_classes().copy()
    weights = [
        next((w for pattern, w in _WEIGHTS if re.search(pattern, name)), 0.25)
        for name in df["name"]
    ]
    df["weight"] = np.asarray(weights) / np.sum(weights)
    df["interior"] = [bool(_INTERIOR.search(n)) for n in df["name"]]
    resp = [
        responsibility(m, n, district_name, city)
        for m, n in zip(df["major_code"], df["name"], strict=True)
    ]
    df["department_name"] = [r.department for r in resp]
    df["department_code"] = [uscc(r.department, district_code) for r in resp]
    df["owner_name"] = [r.owner for r in resp]
    df["maintainer_name"] = [r.maintainer for r in resp]
    return df


def _edge_points(geom_m: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """n candidate points 2-8 m inside the grid's edges (the polygon interior is on the left
    of every ring once polygons are oriented counter-clockwise)."""
    segs = []
    for ring in shapely.get_rings(shapely.get_parts(geom_m)):
        c = shapely.get_coordinates(ring)
        segs.append(np.column_stack([c[:-1], c[1:]]))
    s = np.vstack(segs)
    vec = s[:, 2:] - s[:, :2]
    length = np.hypot(vec[:, 0], vec[:, 1])
    keep = length > 0
    s, vec, length = s[keep], vec[keep], length[keep]
    cum = np.concatenate([[0.0], np.cumsum(length)])
    at = rng.uniform(0, cum[-1], size=n)
    i = np.clip(np.searchsorted(cum, at, side="right") - 1, 0, len(length) - 1)
    frac = (at - cum[i]) / length[i]
    unit = vec[i] / length[i, None]
    left = np.column_stack([-unit[:, 1], unit[:, 0]])
    off = rng.uniform(*EDGE_OFFSET_M, size=n)
    return s[i, :2] + vec[i] * frac[:, None] + left * off[:, None]


def _inside_points(geom_m: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    x0, y0, x1, y1 = geom_m.bounds
    return np.column_stack([rng.uniform(x0, x1, size=n), rng.uniform(y0, y1, size=n)])


def _place(
    grid: Grid,
    n: int,
    interior: bool,
    rng: np.random.Generator,
    blocked: BaseGeometry | None,
    projector: Projector,
) -> np.ndarray:
    """n points (lon, lat, rounded) in the grid, at least 1.5 m from its edges."""
    got: list[np.ndarray] = []
    need = n
    boundary = grid.geom_m.boundary
    for _ in range(30):
        if need <= 0:
            break
        m = max(8, 3 * need)
        pts = _inside_points(grid.geom_m, m, rng) if interior else _edge_points(grid.geom_m, m, rng)
        ok = shapely.contains_xy(grid.geom_m, pts[:, 0], pts[:, 1])
        pts = pts[ok]
        ok = shapely.distance(boundary, shapely.points(pts)) >= _MIN_EDGE_DISTANCE_M
        pts = pts[ok]
        if not len(pts):
            continue
        lon, lat = projector.to_lonlat(pts[:, 0], pts[:, 1])
        ll = np.round(np.column_stack([lon, lat]), DECIMALS)
        ll = ll[shapely.contains_xy(grid.geom, ll[:, 0], ll[:, 1])]
        if interior and blocked is not None and len(ll):
            ll = ll[~shapely.intersects_xy(blocked, ll[:, 0], ll[:, 1])]
        ll = ll[:need]
        got.append(ll)
        need -= len(ll)
    return np.vstack(got) if got else np.empty((0, 2))


def component_id(district_code: str, class_code: str, serial: int) -> str:
    """Admin code + class code + serial, zero-padded to the standard id length."""
    width = COMPONENT_ID_LENGTH - len(district_code) - len(class_code)
    return f"{district_code}{class_code}{serial:0{width}d}"


def build(
    grids: Sequence[Grid],
    buildings_by_grid: dict[str, BaseGeometry],
    classes: pd.DataFrame,
    district_code: str,
    projector: Projector,
    rng: np.random.Generator,
    per_grid: float,
    on_grid: Callable[[], None] | None = None,
) -> list[tuple[dict, BaseGeometry]]:
    """Components for all grids; ids are numbered per class in grid-code order."""
    statuses = [s for s, _ in _STATUS]
    status_p = np.array([p for _, p in _STATUS])
    sources = [s for s, _ in _SOURCE]
    source_p = np.array([p for _, p in _SOURCE])
    weights = classes["weight"].to_numpy()
    interior = classes["interior"].to_numpy()
    rows = classes.to_dict("records")
    serial: dict[str, int] = {}
    out: list[tuple[dict, BaseGeometry]] = []
    for grid in grids:
        n = int(np.clip(rng.poisson(per_grid), 6, 3 * per_grid))
        drawn = rng.choice(len(rows), size=n, p=weights)
        roll = rng.random(n)
        inside = np.where(interior[drawn], roll < 0.85, roll < 0.1)
        pts = np.empty((n, 2))
        found = np.zeros(n, dtype=bool)
        blocked = buildings_by_grid.get(grid.code)
        for flag in (False, True):
            sel = np.flatnonzero(inside == flag)
            if len(sel):
                placed = _place(grid, len(sel), flag, rng, blocked, projector)
                pts[sel[: len(placed)]] = placed
                found[sel[: len(placed)]] = True
        drawn, pts = drawn[found], pts[found]
        order = np.lexsort((pts[:, 0], -np.round(pts[:, 1], 3)))
        comm = grid.community
        status = rng.choice(len(statuses), size=len(order), p=status_p)
        source = rng.choice(len(sources), size=len(order), p=source_p)
        days = rng.integers(_CENSUS_DAYS + 1, size=len(order))
        for j, k in enumerate(order):
            row = rows[drawn[k]]
            code = row["code"]
            serial[code] = serial.get(code, 0) + 1
            day = _CENSUS_START + timedelta(days=int(days[j]))
            props = {
                "component_id": component_id(district_code, code, serial[code]),
                "class_code": code,
                "class_name": row["name"],
                "major_code": row["major_code"],
                "major_name": row["major_name"],
                "department_code": row["department_code"],
                "department_name": row["department_name"],
                "owner_name": row["owner_name"],
                "maintainer_name": row["maintainer_name"],
                "status": statuses[status[j]],
                "initial_date": day.strftime("%Y%m%d"),
                "data_source": sources[source[j]],
                "grid_code": grid.code,
                "community_code": comm.code,
                "community_name": comm.name,
                "street_code": comm.street.code,
                "street_name": comm.street.name,
            }
            out.append((props, shapely.points(pts[k])))
        if on_grid is not None:
            on_grid()
    return out
