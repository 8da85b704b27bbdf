"""OGC API – Features Part 1 documents built from the layer registry (no web framework here).

Every function takes absolute URLs from the caller (the request's base URL) and returns
plain JSON-ready data, so the router only chooses JSON or HTML. Item bodies are
assembled as bytes with GEOS writing the geometries (``shapely.to_geojson``): a page of
10,000 features serialises in tens of milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import shapely

from gis_core.storage.features import Extent, Feature
from layers.model import Layer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    # Part 3: queryables, equality filters on them, the filter parameter, CQL2
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    # OGC API – Tiles (layers.ogc_tiles) and its tile matrix set
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
"""Only what is implemented in full: not CQL2 temporal-functions (T_MEETS ... need
intervals in the data), spatial-functions (S_WITHIN ...), arithmetic or arrays."""
JSON_SCHEMA = "application/schema+json"
GEOMETRY_FORMATS = {
    "Point": "geometry-point",
    "Polygon": "geometry-polygon",
    "MultiPolygon": "geometry-multipolygon",
    "MultiLineString": "geometry-multilinestring",
}


def link(href: str, rel: str, type: str, title: str | None = None) -> dict[str, str]:
    out = {"href": href, "rel": rel, "type": type}
    if title:
        out["title"] = title
    return out


def with_query(url: str, **changes: Any) -> str:
    """``url`` with query parameters set (None removes one); others are kept in order."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return urlunsplit(parts._replace(query=urlencode(params)))


def json_value(value: Any) -> Any:
    """RFC 3339 UTC text for times, ISO dates; everything else unchanged."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def rfc3339_now() -> str:
    return json_value(datetime.now(UTC).replace(microsecond=0))


OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"


def landing(base: str, title: str, description: str) -> dict[str, Any]:
    """The landing page; ``service-desc`` is the OpenAPI 3.0 document of the OGC API."""
    return {
        "title": title,
        "description": description,
        "links": [
            link(base, "self", JSON, "本页 (this document)"),
            link(with_query(base, f="html"), "alternate", HTML, "网页版 (HTML)"),
            link(f"{base}api", "service-desc", OPENAPI_30, "API 定义 (OpenAPI 3.0)"),
            link(f"{base}openapi.json", "service-desc", JSON, "完整 API 定义 (OpenAPI 3.1)"),
            link(f"{base}docs", "service-doc", HTML, "API 文档"),
            link(f"{base}conformance", "conformance", JSON, "符合的标准 (conformance)"),
            link(f"{base}collections", "data", JSON, "数据集合 (collections)"),
            link(
                f"{base}tileMatrixSets",
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                JSON,
                "瓦片矩阵集 (tile matrix sets)",
            ),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": list(CONFORMANCE)}


def _extent(layer: Layer, ext: Extent | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ext is not None and ext.bbox is not None:
        out["spatial"] = {"bbox": [list(ext.bbox)], "crs": CRS84}
    if layer.datetime_field is not None:
        low, high = ext.interval if ext is not None and ext.interval else (None, None)
        out["temporal"] = {"interval": [[json_value(low), json_value(high)]], "trs": GREGORIAN}
    return out


def collection(
    layer: Layer, base: str, ext: Extent | None, extra_links: Sequence[dict[str, str]] = ()
) -> dict[str, Any]:
    """Collection metadata: extent, CRS, the items/tiles/style links and the properties."""
    here = f"{base}collections/{layer.id}"
    doc: dict[str, Any] = {
        "id": layer.id,
        "title": layer.title,
        "description": f"{layer.title_en}. {layer.description}",
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": _extent(layer, ext),
        "links": [
            link(here, "self", JSON, layer.title),
            link(with_query(here, f="html"), "alternate", HTML, f"{layer.title} (网页)"),
            link(f"{here}/items", "items", GEOJSON, f"{layer.title}要素 (GeoJSON)"),
            link(with_query(f"{here}/items", f="html"), "items", HTML, f"{layer.title}要素 (网页)"),
            link(
                f"{here}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                JSON_SCHEMA,
                "可查询属性 (queryables)",
            ),
            link(
                f"{here}/tiles",
                "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                JSON,
                "矢量瓦片集 (OGC API – Tiles)",
            ),
            link(f"{base}tiles/{layer.id}.json", "describedby", JSON, "矢量瓦片 (TileJSON)"),
            link(f"{base}tiles/{layer.id}/style.json", "describedby", JSON, "样式 (MapLibre)"),
            *extra_links,
        ],
        "gridgov:titleEn": layer.title_en,
        "gridgov:geometryType": layer.geometry_type,
        "gridgov:properties": [
            {"name": p.name, "title": p.title, "type": p.json_type, "filter": not p.computed}
            for p in layer.properties
        ],
    }
    # Which property `datetime` filters on; None: the features have no time, so every
    # `datetime` matches them all.
    doc["gridgov:datetimeProperty"] = layer.datetime_field
    return doc


def queryables(layer: Layer, base: str) -> dict[str, Any]:
    """Part 3 queryables: a JSON Schema of what ``filter`` and ``name=value`` may use.

    ``queryables`` (a list of ``{id, type}``) repeats the properties in the shape of the
    draft standard, which GDAL up to 3.6 reads; newer clients read ``properties``.
    """
    props: dict[str, Any] = {
        "geometry": {
            "title": "几何 (geometry)",
            "format": GEOMETRY_FORMATS[layer.geometry_type],
            "x-ogc-role": "primary-geometry",
        }
    }
    for p in layer.properties:
        if p.computed:
            continue
        schema: dict[str, Any] = {"title": p.title, "type": p.json_type}
        if p.type == "date":
            schema["format"] = "date"
        elif p.type == "datetime":
            schema["format"] = "date-time"
        if p.name == layer.datetime_field:
            schema["x-ogc-role"] = "primary-instant"
        if p.name == layer.id_field:
            schema["x-ogc-role"] = "id"
        props[p.name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}collections/{layer.id}/queryables",
        "type": "object",
        "title": f"{layer.title} (queryables)",
        "properties": props,
        "additionalProperties": False,
        "queryables": [
            {"id": name, "type": spec.get("format", spec.get("type", "geometry"))}
            for name, spec in props.items()
        ],
    }


def collections(
    layers: Iterable[Layer],
    base: str,
    extents: Mapping[str, Extent | None],
    extra_links: Sequence[dict[str, str]] = (),
) -> dict[str, Any]:
    return {
        "links": [
            link(f"{base}collections", "self", JSON, "数据集合"),
            link(with_query(f"{base}collections", f="html"), "alternate", HTML, "数据集合 (网页)"),
            *extra_links,
        ],
        "collections": [
            collection(layer, base, extents.get(layer.id), extra_links) for layer in layers
        ],
    }


def feature_properties(layer: Layer, feature: Feature, now: datetime) -> dict[str, Any]:
    return {k: json_value(v) for k, v in layer.exposed(feature, now).items()}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _feature_json(
    layer: Layer, feature: Feature, geometry: str, now: datetime, extra: str = ""
) -> str:
    return (
        f'{{"type":"Feature","id":{_dumps(feature.id)},"geometry":{geometry},'
        f'"properties":{_dumps(feature_properties(layer, feature, now))}{extra}}}'
    )


def _geometries(features: Sequence[Feature]) -> list[str]:
    geoms = [f.geometry for f in features]
    texts = shapely.to_geojson(geoms) if geoms else []
    return ["null" if t is None else t for t in texts]


def item_url(base: str, layer: Layer, fid: Any) -> str:
    return f"{base}collections/{layer.id}/items/{fid}"


def feature_body(layer: Layer, feature: Feature, base: str, now: datetime) -> bytes:
    """One feature as GeoJSON with its self/alternate/collection links."""
    here = item_url(base, layer, feature.id)
    links = [
        link(here, "self", GEOJSON, "本要素"),
        link(with_query(here, f="html"), "alternate", HTML, "网页版"),
        link(f"{base}collections/{layer.id}", "collection", JSON, layer.title),
    ]
    text = _feature_json(
        layer, feature, _geometries([feature])[0], now, f',"links":{_dumps(links)}'
    )
    return text.encode()


def page_links(
    url: str, base: str, layer: Layer, offset: int, limit: int, returned: int, matched: int
) -> list[dict[str, str]]:
    """self/alternate/next/prev/collection links of one items page (``url`` = this request)."""
    self_url = with_query(url, f=None)
    links = [
        link(self_url, "self", GEOJSON, "本页"),
        link(with_query(url, f="html"), "alternate", HTML, "网页版"),
    ]
    if offset + returned < matched or (matched < 0 and returned == limit):
        links.append(
            link(
                with_query(self_url, offset=offset + limit, limit=limit), "next", GEOJSON, "下一页"
            )
        )
    if offset > 0:
        links.append(
            link(
                with_query(self_url, offset=max(0, offset - limit) or None, limit=limit),
                "prev",
                GEOJSON,
                "上一页",
            )
        )
    links.append(link(f"{base}collections/{layer.id}", "collection", JSON, layer.title))
    return links


def items_body(
    layer: Layer,
    features: Sequence[Feature],
    matched: int,
    links: list[dict[str, str]],
    now: datetime,
) -> bytes:
    """A FeatureCollection page: features, links, numberMatched/Returned, timeStamp."""
    parts = [
        _feature_json(layer, f, g, now)
        for f, g in zip(features, _geometries(features), strict=True)
    ]
    meta = {
        "links": links,
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": rfc3339_now(),
    }
    if matched < 0:
        del meta["numberMatched"]
    head = '{"type":"FeatureCollection","features":['
    return (head + ",".join(parts) + "]," + _dumps(meta)[1:]).encode()
