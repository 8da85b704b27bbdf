"""Report periods, grouped counts and rendering (PDF with the Chinese font embedded)."""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd
import pypdf
import pytest

from gis_core.cases.calendar import TZ
from gis_core.reports import parse_period, render_html, render_pdf
from gis_core.reports.hotspots import hotspots, recurrent
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


def test_grouped_counts() -> None:
    frame = pd.DataFrame(
        {
            "grid_code": ["g1", "g1", "g1", "g2", None, "g2"],
            "category_code": ["06001", "06001", "06001", "06002", "06001", "06001"],
        }
    )
    assert hotspots(frame) == [{"grid_code": "g1", "events": 3}, {"grid_code": "g2", "events": 2}]
    assert recurrent(frame) == [{"grid_code": "g1", "category_code": "06001", "events": 3}]


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
    "map_svg": "",
}


def test_html_and_pdf_render_chinese() -> None:
    html = render_html(FIGURES)
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
