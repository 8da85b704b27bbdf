"""Report periods, grouped counts and rendering (PDF with the Chinese font embedded)."""

from __future__ import annotations

import io
from datetime import datetime

import geopandas as gpd
import pandas as pd
import pypdf
import pytest
import shapely

from gis_core.analytics.frame import prepare_events
from gis_core.analytics.hotspots import hotspots as gi_star_hotspots
from gis_core.analytics.units import unit_set
from gis_core.cases.calendar import TZ
from gis_core.reports import parse_period, render_html, render_pdf
from gis_core.reports.hotspots import hotspots, recurrent, vital_alerts
from gis_core.reports.periods import PeriodError


def test_periods() -> None:
    nov = parse_period("2026-11")
    assert (nov.start, nov.end) == (
        datetime(2026, 11, 1, tzinfo=TZ),
        datetime(2026, 12, 1, tzinfo=TZ),
    )
    assert nov.previous_start == datetime(2026, 10, 1, tzinfo=TZ) and nov.label == "2026年11月"
    jan = parse_period("2027-01")
    assert jan.previous_start == datetime(2026, 12, 1, tzinfo=TZ)
    dec = parse_period("2026-12")
    assert dec.end == datetime(2027, 1, 1, tzinfo=TZ)
    week = parse_period("2026-W45")
    assert week.start == datetime(2026, 11, 2, tzinfo=TZ) and (week.end - week.start).days == 7
    for bad in ("2026-13", "2026-W60", "26-11", "", "2026-11-01"):
        with pytest.raises(PeriodError):
            parse_period(bad)


def _grids(n: int = 5, size: float = 0.005) -> gpd.GeoDataFrame:
    """An n x n block of square grids (codes g00..g44) near Hefei."""
    codes, boxes = [], []
    for i in range(n):
        for j in range(n):
            codes.append(f"g{i}{j}")
            x0, y0 = round(117.2 + i * size, 6), round(31.8 + j * size, 6)
            x1, y1 = round(117.2 + (i + 1) * size, 6), round(31.8 + (j + 1) * size, 6)
            boxes.append(shapely.box(x0, y0, x1, y1))  # shared edges: queen neighbours
    return gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=boxes, crs=4326)


def _events(points: list[tuple[str, float, float, str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(points, columns=["grid_code", "lon", "lat", "category_code", "day"])
    frame["reported_at"] = [datetime(2026, 11, 1 + d, 9, tzinfo=TZ) for d in frame["day"]]
    frame["event_id"] = range(1, len(frame) + 1)
    frame["source"] = "12345"
    return prepare_events(frame.drop(columns="day"))


def test_hotspots_are_gi_star_over_every_grid_and_recurrent_is_space_time() -> None:
    grids = _grids()
    rows = []
    for code, n in (("g00", 12), ("g01", 10), ("g10", 10), ("g11", 9)):  # a hot corner
        i, j = int(code[1]), int(code[2])
        rows += [(code, 117.2 + i * 0.005 + 0.001, 31.8 + j * 0.005 + 0.001, "06002", k % 20)
                 for k in range(n)]
    rows += [("g44", 117.2225, 31.8225, "06001", d) for d in (1, 3, 5, 5)]  # recurs at one spot
    events = _events(rows)
    hot = hotspots(events, grids)
    # the independent check: Gi* bins straight from analytics on the same counts
    direct = gi_star_hotspots(events, unit_set("grid", grids[["code", "geometry"]]),
                              permutations=0, fdr=True).table
    expected = set(direct.loc[direct["bin"] > 0, "unit"])
    assert {h["grid_code"] for h in hot} == expected and "g00" in expected
    assert "g44" not in expected and all(h["bin"] > 0 and h["confidence"] for h in hot)
    order = [(-h["bin"], -h["z"]) for h in hot]
    assert order == sorted(order)
    again = recurrent(events)
    assert [(r["grid_code"], r["category_code"], r["events"]) for r in again][-1] == (
        "g44", "06001", 4)
    # a quiet area: no hot spot, no recurrence
    calm = _events([("g22", 117.2125, 31.8125, "06001", 1)])
    assert hotspots(calm, grids) == [] and recurrent(calm) == []
    views = [
        {"id": 7, "source": "vitals", "reported_at": "2026-11-03T10:00:00+08:00",
         "category_code": "06001", "status": "reported", "description": "告警",
         "reporter_phone": "13800000000"},
        {"id": 8, "source": "12345", "reported_at": "2026-11-02T10:00:00+08:00"},
    ]
    assert vital_alerts(views) == [{"id": 7, "reported_at": "2026-11-03T10:00:00+08:00",
                                     "category_code": "06001", "status": "reported",
                                     "description": "告警"}]


FIGURES = {
    "area_code": "340111001",
    "area_level": "street",
    "area_name": "芜湖路街道",
    "period": "2026-11",
    "period_label": "2026年11月",
    "from": "2026-11-01T00:00:00+08:00",
    "to": "2026-12-01T00:00:00+08:00",
    "generated_at": "2026-12-01T09:00:00+08:00",
    "reported": 3,
    "reported_previous": 1,
    "by_class": [{"category_code": "06001", "category_name": "暴露垃圾", "events": 3}],
    "by_source": [{"source": "12345", "source_label": "12345政务服务便民热线", "events": 3}],
    "indicators": {
        "closure_rate": 0.5,
        "on_time_closure_rate": None,
        "on_time_handling_rate": 1.0,
        "overdue": 1,
    },
    "indicators_previous": {
        "closure_rate": None,
        "on_time_closure_rate": None,
        "on_time_handling_rate": None,
        "overdue": 0,
    },
    "overdue_open": 1,
    "overdue_events": [],
    "parked": 0,
    "calls": [
        {
            "unit_name": "包河区城市管理局",
            "calls": 1,
            "answered": 1,
            "refused": 0,
            "late": 1,
            "response_rate": 1.0,
            "on_time_rate": 0.0,
            "mean_response_hours": 30.5,
        }
    ],
    "satisfaction": {
        "followups": 1,
        "answered": 1,
        "unreachable": 0,
        "pending": 0,
        "mean_satisfaction": 1.0,
        "satisfaction_rate": 0.0,
        "reopened": 1,
    },
    "hotspots": [],
    "recurrent": [],
    "vital_alerts": [
        {"id": 9, "reported_at": "2026-11-03T10:00:00+08:00", "category_code": "06001",
         "status": "reported", "status_label": "已上报",
         "description": "【城市体征告警】每日事件数"}
    ],
    "map_svg": "",
}


def test_html_and_pdf_render_chinese() -> None:
    html = render_html(FIGURES)
    assert "【城市体征告警】每日事件数" in html and "城市体征告警" in html
    assert "芜湖路街道 城市运行体检报告" in html and "50.0%" in html and "包河区城市管理局" in html
    pdf = pypdf.PdfReader(io.BytesIO(render_pdf(FIGURES)))
    text = "".join(p.extract_text() for p in pdf.pages)
    assert "芜湖路街道" in text and "街呼区应" in text
    fonts = [f.get_object() for p in pdf.pages for f in p["/Resources"]["/Font"].values()]
    assert any(
        "WenQuanYi" in f["/BaseFont"]
        and "/FontFile2" in f["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        for f in fonts
    )
