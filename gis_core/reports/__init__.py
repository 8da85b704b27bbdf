"""Area health reports (体检报告): one street (or any area) over a week or a month.

``periods`` parses ``2026-11`` / ``2026-W45``; ``figures`` computes every number of the
report from the events store (``hotspots`` holds the grouped counts the analytics package
may replace); ``render`` turns the figures into HTML (Jinja2) and PDF (WeasyPrint, the
Chinese font embedded); ``maps`` draws the area's grids as an SVG shaded by events.
"""

from __future__ import annotations

from gis_core.reports.figures import ReportNotFound, area_report
from gis_core.reports.periods import Period, parse_period
from gis_core.reports.render import render_html, render_pdf

__all__ = ["Period", "ReportNotFound", "area_report", "parse_period", "render_html", "render_pdf"]
