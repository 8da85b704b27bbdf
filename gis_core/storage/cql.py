"""CQL2 filters (OGC API – Features Part 3) as SQL, evaluated in the database.

Parsing and validation are the ``cql2`` package's (developmentseed's cql2-rs, text and
JSON); it hands back CQL2-JSON, which :class:`CQLCompiler` turns into one SQLAlchemy
condition for either backend. Supported: ``and``/``or``/``not``; ``= <> < <= > >=``;
``like`` (``%``/``_``, ``\\`` escapes); ``in``; ``between``; ``isNull``; ``casei``;
``s_intersects``/``s_disjoint`` with a bbox or any WKT/GeoJSON geometry (exact on both
backends, see :func:`~gis_core.storage.sql_geo.intersects_clause`); temporal comparisons
and ``t_before``/``t_after``/``t_during``/``t_equals``/``t_intersects``/``t_disjoint``
with ``TIMESTAMP``, ``DATE`` and ``INTERVAL`` literals. Literals are converted to the
column's type (``initial_date >= '2025-01-01'``, as GDAL writes it, compares dates).
Anything else (unknown property or operator, wrong types) is a :class:`FilterError` on
field ``filter``: the API's 400.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import cql2
import shapely
from sqlalchemy import ColumnElement, Date, Float, Integer, and_, func, not_, or_, true

from gis_core.storage import sql_geo
from gis_core.storage.features import (
    LOCAL_TZ,
    FeatureSource,
    FilterError,
    parse_instant,
)
from gis_core.storage.types import UTCDateTime, fits_integer

LANGS = ("cql2-text", "cql2-json")
LEGACY_LANGS = {"cql-text": "cql2-text", "cql-json": "cql2-json"}
"""Draft names older clients send (GDAL 3.6: ``filter-lang=cql-text``)."""
GEOMETRY_NAMES = frozenset({"geometry", "geom"})
MAX_FILTER_LENGTH = 20_000
"""Characters of a ``filter`` parameter (the query string's own limit is about this)."""
MAX_DEPTH = 50
COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
OPEN = ".."


def _bad(message: str) -> FilterError:
    return FilterError("filter", message)


def parse_filter(text: str, lang: str | None) -> dict[str, Any]:
    """A ``filter`` parameter as CQL2-JSON (FilterError on field ``filter`` otherwise)."""
    lang = LEGACY_LANGS.get(lang or "cql2-text", lang or "cql2-text")
    if lang not in LANGS:
        raise FilterError("filter-lang", f"filter-lang must be one of {', '.join(LANGS)}")
    if len(text) > MAX_FILTER_LENGTH:
        raise _bad(f"filter is longer than {MAX_FILTER_LENGTH} characters")
    try:
        if lang == "cql2-json":
            expr = cql2.Expr(json.loads(text))
        else:
            if text.lstrip().startswith("{"):
                raise _bad("this filter is JSON: send filter-lang=cql2-json")
            expr = cql2.Expr(text)
        tree = expr.to_json()
    except FilterError:
        raise
    except Exception as exc:  # cql2 raises plain Exceptions with the parser's message
        said = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise _bad(f"not valid {lang}: {said[:300] or type(exc).__name__}") from None
    if not isinstance(tree, dict):
        raise _bad("a filter must be a boolean expression")
    return tree


class CQLFilter:
    """A parsed filter and the properties it may use: what ``FeatureQuery.filter`` holds
    (``storage.features`` calls :meth:`clause` without knowing CQL)."""

    def __init__(self, tree: dict[str, Any], queryables: Collection[str]) -> None:
        self.tree = tree
        self.queryables = frozenset(queryables)

    @classmethod
    def parse(cls, text: str, lang: str | None, queryables: Collection[str]) -> CQLFilter:
        return cls(parse_filter(text, lang), queryables)

    def clause(self, dialect: str, source: FeatureSource) -> ColumnElement[bool]:
        return CQLCompiler(dialect, source, self.queryables).clause(self.tree)


class CQLCompiler:
    """CQL2-JSON -> a WHERE condition on ``source``'s table for ``dialect``.

    ``queryables`` are the property names a client may use (the layer's exposed stored
    properties); ``geometry`` names the geometry.
    """

    def __init__(self, dialect: str, source: FeatureSource, queryables: Collection[str]) -> None:
        self.dialect = dialect
        self.source = source
        self.table = source.sql_table
        self.queryables = frozenset(queryables)

    # -- booleans ---------------------------------------------------------------------

    def clause(self, node: Any, depth: int = 0) -> ColumnElement[bool]:
        if depth > MAX_DEPTH:
            raise _bad(f"filter nested deeper than {MAX_DEPTH}")
        if node is True:
            return true()
        if not isinstance(node, dict) or "op" not in node:
            raise _bad(f"expected a predicate, got {json.dumps(node, ensure_ascii=False)}")
        op = str(node["op"]).lower()
        args = node.get("args") or []
        if op in ("and", "or"):
            parts = [self.clause(a, depth + 1) for a in args]
            return and_(*parts) if op == "and" else or_(*parts)
        if op == "not":
            return not_(self.clause(self._one(args, op), depth + 1))
        if op in COMPARISONS:
            return self._compare(op, *self._two(args, op))
        if op == "like":
            prop, pattern = self._two(args, op)
            if not isinstance(pattern, str):
                raise _bad("like needs a text pattern")
            return self._value_side(prop).like(pattern, escape="\\")
        if op == "in":
            prop, values = self._two(args, op)
            if not isinstance(values, list) or not values:
                raise _bad("in needs a non-empty list")
            column = self._column(prop)
            return column.in_([self._literal(column, v) for v in values])
        if op == "between":
            if len(args) != 3:
                raise _bad("between needs a property and two bounds")
            column = self._column(args[0])
            return column.between(self._literal(column, args[1]), self._literal(column, args[2]))
        if op == "isnull":
            return self._column(self._one(args, op)).is_(None)
        if op in ("s_intersects", "s_disjoint"):
            hit = self._spatial(*self._two(args, op))
            return hit if op == "s_intersects" else not_(hit)
        if op.startswith("t_"):
            return self._temporal(op, *self._two(args, op))
        raise _bad(f"unsupported operator {node['op']!r}")

    @staticmethod
    def _one(args: Sequence[Any], op: str) -> Any:
        if len(args) != 1:
            raise _bad(f"{op} takes one argument")
        return args[0]

    @staticmethod
    def _two(args: Sequence[Any], op: str) -> tuple[Any, Any]:
        if len(args) != 2:
            raise _bad(f"{op} takes two arguments")
        return args[0], args[1]

    # -- properties and literals ---------------------------------------------------------

    def _column(self, node: Any) -> Any:
        if not (isinstance(node, dict) and set(node) == {"property"}):
            raise _bad(f"expected a property, got {json.dumps(node, ensure_ascii=False)}")
        name = str(node["property"])
        if name not in self.queryables:
            known = ", ".join(sorted(self.queryables))
            raise _bad(f"{name!r} is not a queryable of this collection (queryables: {known})")
        return self.table.c[name]

    def _value_side(self, node: Any) -> Any:
        """A property, or ``casei(property)`` (lower case on both sides is the caller's)."""
        if isinstance(node, dict) and str(node.get("op", "")).lower() == "casei":
            return func.lower(self._value_side(self._one(node.get("args") or [], "casei")))
        return self._column(node)

    def _literal(self, column: Any, value: Any) -> Any:
        """A CQL2 literal as the column's type (FilterError when it cannot be one)."""
        kind = column.type
        if isinstance(value, dict) and "op" in value and str(value["op"]).lower() == "casei":
            inner = self._one(value.get("args") or [], "casei")
            return func.lower(self._literal(column, inner))
        if isinstance(value, dict):
            if "timestamp" in value:
                value = parse_instant(str(value["timestamp"]), "filter").start
            elif "date" in value:
                value = _date(str(value["date"]))
            else:
                raise _bad(f"unexpected value {json.dumps(value, ensure_ascii=False)}")
        if value is None or isinstance(value, bool | list):
            raise _bad(f"cannot compare {column.name} with {value!r}")
        try:
            if isinstance(kind, Integer):
                number = float(value)
                if not number.is_integer() or not fits_integer(int(number)):
                    raise ValueError(value)
                return int(number)
            if isinstance(kind, Float):
                return float(value)
            if isinstance(kind, UTCDateTime):
                return value if isinstance(value, datetime) else _moment(value)
            if isinstance(kind, Date):
                return _day(value)
        except (TypeError, ValueError):
            raise _bad(f"{value!r} is not a valid {column.name}") from None
        if isinstance(value, datetime | date):
            raise _bad(f"{column.name} is text, not a time")
        return str(value) if not isinstance(value, str) else value

    def _compare(self, op: str, left: Any, right: Any) -> ColumnElement[bool]:
        if not _is_property(left) and _is_property(right):
            flipped = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
            return self._compare(flipped, right, left)
        column = self._value_side(left)
        if _is_property(right) or (_is_casei(right) and _is_property(right["args"][0])):
            return COMPARISONS[op](column, self._value_side(right))
        base = self._column(left) if _is_property(left) else None
        if base is not None and isinstance(base.type, UTCDateTime) and _is_date(right):
            return self._day_compare(op, base, _date(str(right["date"])))
        target = base if base is not None else self._column(left["args"][0])
        return COMPARISONS[op](column, self._literal(target, right))

    def _day_compare(self, op: str, column: Any, day: date) -> ColumnElement[bool]:
        """A time column against a whole day (China time): ``t < DATE(d)`` is before it."""
        start = datetime.combine(day, time(0), LOCAL_TZ)
        end = start + timedelta(days=1)
        return {
            "=": and_(column >= start, column < end),
            "<>": or_(column < start, column >= end),
            "<": column < start,
            "<=": column < end,
            ">": column >= end,
            ">=": column >= start,
        }[op]

    # -- space and time ------------------------------------------------------------------

    def _spatial(self, left: Any, right: Any) -> ColumnElement[bool]:
        if _is_geometry_property(right) and not _is_geometry_property(left):
            left, right = right, left
        if not _is_geometry_property(left):
            raise _bad("spatial operators compare the geometry property with a geometry")
        return sql_geo.intersects_clause(self.dialect, self.table, _shape(right))

    def _temporal(self, op: str, left: Any, right: Any) -> ColumnElement[bool]:
        if not _is_property(left):
            left, right = right, left
        column = self._column(left)
        if not isinstance(column.type, UTCDateTime | Date):
            raise _bad(f"{column.name} is not a time")
        if isinstance(right, dict) and "interval" in right:
            bounds = right["interval"]
            if not isinstance(bounds, list) or len(bounds) != 2:
                raise _bad("an interval has two ends")
            low, high = (None if b in (OPEN, "") else self._instant(column, b) for b in bounds)
        else:
            low = high = self._instant(column, right)
        conditions = {
            "t_before": lambda: column < low if low is not None else true(),
            "t_after": lambda: column > high if high is not None else true(),
            "t_equals": lambda: column == low,
            "t_during": lambda: _within(column, low, high),
            "t_intersects": lambda: _within(column, low, high),
            "t_disjoint": lambda: not_(_within(column, low, high)),
        }
        if op not in conditions:
            raise _bad(f"unsupported temporal operator {op!r} (instants have no duration)")
        return conditions[op]()

    def _instant(self, column: Any, value: Any) -> Any:
        if isinstance(value, str):
            value = {"date": value} if len(value) == 10 else {"timestamp": value}
        if isinstance(column.type, UTCDateTime) and _is_date(value):
            return datetime.combine(_date(str(value["date"])), time(0), LOCAL_TZ)
        return self._literal(column, value)


def _within(column: Any, low: Any, high: Any) -> ColumnElement[bool]:
    parts = ([column >= low] if low is not None else []) + (
        [column <= high] if high is not None else []
    )
    return and_(*parts) if parts else column.isnot(None)


def _is_property(node: Any) -> bool:
    return isinstance(node, dict) and set(node) == {"property"}


def _is_casei(node: Any) -> bool:
    return isinstance(node, dict) and str(node.get("op", "")).lower() == "casei"


def _is_date(node: Any) -> bool:
    return isinstance(node, dict) and set(node) == {"date"}


def _is_geometry_property(node: Any) -> bool:
    return _is_property(node) and node["property"] in GEOMETRY_NAMES


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _bad(f"not a date: {text!r}") from None


def _day(value: Any) -> date:
    """A date column's value: a date, or the China-time day of a time or text."""
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_TZ).date()
    if isinstance(value, date):
        return value
    text = str(value).strip().removesuffix("T")
    return _date(text) if len(text) == 10 else _moment(text).astimezone(LOCAL_TZ).date()


def _moment(value: Any) -> datetime:
    """A time from text: RFC 3339; a date; or, as GDAL writes them, ``2020-01-01T`` (a
    date) and times without an offset (read in China time, as bare dates are)."""
    text = str(value).strip().removesuffix("T")
    if len(text) == 10:
        return datetime.combine(_date(text), time(0), LOCAL_TZ)
    try:
        naive = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        naive = None
    if naive is not None and naive.tzinfo is None:
        text = naive.replace(tzinfo=LOCAL_TZ).isoformat()
    moment = parse_instant(text, "filter").start
    assert moment is not None
    return moment


def _shape(node: Any) -> shapely.Geometry:
    """A bbox or GeoJSON geometry literal (CRS84) as a valid shapely geometry."""
    if not isinstance(node, dict):
        raise _bad("expected a geometry or a bbox")
    try:
        if "bbox" in node:
            box = [float(v) for v in node["bbox"]]
            if len(box) == 6:
                box = [box[0], box[1], box[3], box[4]]
            if len(box) != 4:
                raise ValueError("a bbox has 4 or 6 numbers")
            minx, miny, maxx, maxy = box
            if minx > maxx:  # across the antimeridian
                return shapely.union(
                    shapely.box(minx, miny, 180, maxy), shapely.box(-180, miny, maxx, maxy)
                )
            return shapely.box(minx, miny, maxx, maxy)
        shape = shapely.from_geojson(json.dumps(node))
    except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
        raise _bad(f"not a usable geometry: {exc}") from None
    if shape.is_empty:
        raise _bad("the filter geometry is empty")
    if not shape.is_valid:
        shape = shapely.make_valid(shape)
    return shape
