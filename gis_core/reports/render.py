"""The report as HTML (Jinja2, one self-contained page: styles and the SVG map inline)
and as PDF (WeasyPrint, with the WenQuanYi Micro Hei font embedded so Chinese renders on
any reader; Debian's ``fonts-wqy-microhei``, found through fontconfig)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

FONT_FAMILY = "WenQuanYi Micro Hei"


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("gis_core.reports", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    env.filters["pct"] = lambda v: "—" if v is None else f"{100 * v:.1f}%"
    env.filters["num"] = lambda v: "—" if v is None else (f"{v:.2f}" if isinstance(v, float) else v)
    return env


def render_html(figures: dict[str, Any]) -> str:
    """The report page (zh-CN)."""
    return _env().get_template("report.html").render(r=figures, font=FONT_FAMILY)


def render_pdf(figures: dict[str, Any]) -> bytes:
    """The report as PDF bytes (fonts embedded by WeasyPrint)."""
    from weasyprint import HTML

    return HTML(string=render_html(figures)).write_pdf()
