"""OGC API – Features Part 1 (Core, GeoJSON, HTML, OpenAPI) over the layer registry.

:class:`FeaturesEndpoints` is an endpoint factory (tipg style): give it layers, include its
``router``. Route functions only pick the layer, parse, and choose JSON or HTML; the
documents come from :mod:`layers.ogc`, the features from :mod:`gis_core.storage.features`.

HTML (zh-CN, no external scripts, styles or fonts) when ``f=html`` or when the Accept
header prefers text/html over JSON; JSON otherwise (``application/geo+json`` for items).
Errors are problem+json: unknown collection or feature 404; an unknown query parameter
or an invalid bbox/limit/offset/datetime/property value 400 with the parameter in
``field`` (OGC requirement /req/core/query-param-invalid); a limit above 10,000 is
lowered to 10,000, as the standard asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates

from api.access import restrict, shows_extent, visible
from api.dependencies import InteropSettingsDep, LookupDep, StoreDep
from api.errors import Problem
from api.security import OptionalPrincipal, Principal
from gis_core.boundaries.generations import LookupService, NoActiveGeneration
from gis_core.storage import Store
from gis_core.storage import features as store_features
from gis_core.storage.features import Extent, Feature, FeaturePage, FeatureQuery
from gis_core.storage.types import INTEGER_MAX
from layers import ogc
from layers.model import Layer, UnknownCollection
from layers.preview import svg_preview
from layers.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    LayerRequest,
    check_document_params,
    parse_item_request,
    parse_layer_request,
)
from layers.registry import LAYERS

TEMPLATES = Jinja2Templates(directory=FilePath(__file__).resolve().parent.parent / "templates")
CONTENT_CRS = {"Content-Crs": f"<{ogc.CRS84}>"}
JSON_TYPES = ("application/json", "application/geo+json", "application/*", "*/*")

FormatParam = Annotated[
    str | None,
    Query(
        description="Response format: json (default) or html.",
        json_schema_extra={"enum": ["json", "html"]},
    ),
]
CollectionId = Annotated[str, Path(description="Collection id, e.g. grids.", max_length=64)]


def _param(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        **extra,
    }


ITEMS_PARAMETERS = [
    _param(
        "bbox",
        "minx,miny,maxx,maxy in CRS84 (lon/lat): features intersecting the box.",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        style="form",
        explode=False,
    ),
    _param(
        "limit",
        f"Page size, 1..{MAX_LIMIT} (larger values are lowered to {MAX_LIMIT}).",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
    _param(
        "offset",
        "Features to skip (follow the `next` link).",
        {"type": "integer", "minimum": 0, "maximum": INTEGER_MAX, "default": 0},
    ),
    _param(
        "datetime",
        "RFC 3339 instant or interval start/end (`..` = open) on the collection's time "
        "property (events: reported_at).",
        {"type": "string"},
    ),
    _param(
        "generation",
        "Boundary generation id or name (admin collections; default: the active one).",
        {"type": "string"},
    ),
    _param(
        "at",
        "Read the boundary generation active at this time (admin collections; ISO 8601 with"
        " offset).",
        {"type": "string", "format": "date-time"},
    ),
    _param("crs", "Output CRS: only CRS84 (the default).", {"type": "string", "format": "uri"}),
    _param(
        "bbox-crs", "CRS of bbox: only CRS84 (the default).", {"type": "string", "format": "uri"}
    ),
    _param("f", "Response format.", {"type": "string", "enum": ["json", "html"]}),
    _param(
        "filter",
        "CQL2 filter on the queryables (see `/collections/{collectionId}/queryables`), "
        "evaluated in the database, e.g. `floors > 10 AND name LIKE '%社区%'` or "
        "`S_INTERSECTS(geometry, BBOX(117.28,31.78,117.31,31.80))`.",
        {"type": "string", "maxLength": 20_000},
    ),
    _param(
        "filter-lang",
        "Language of `filter` (default cql2-text).",
        {"type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"], "default": "cql2-text"},
    ),
    _param(
        "filter-crs",
        "CRS of geometries in `filter`: only CRS84 (the default).",
        {"type": "string", "format": "uri"},
    ),
]
PROPERTY_FILTERS_NOTE = (
    "Every queryable (`/collections/{collectionId}/queryables`) is also an equality "
    "filter, e.g. `status=dispatched` or `class_code=01001`; `filter` takes CQL2."
)


def wants_html(request: Request, fmt: str | None) -> bool:
    """``f`` decides; else the Accept header's q-values (browsers get HTML, curl JSON)."""
    if fmt is not None:
        return fmt == "html"
    html_q = json_q = 0.0
    for item in request.headers.get("accept", "").split(","):
        media, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                with suppress(ValueError):
                    q = float(p[2:])
        if media == "text/html":
            html_q = max(html_q, q)
        elif media in JSON_TYPES:
            json_q = max(json_q, q)
    return html_q > json_q


def _check_format(request: Request) -> str | None:
    """Document resources take only ``f`` (FilterError: 400 naming the parameter)."""
    return check_document_params(request.query_params.multi_items())


def listed(layer: Layer, principal: Principal | None) -> bool:
    """Whether a caller sees the collection in listings (events: only with its scope)."""
    return layer.scope is None or (principal is not None and principal.satisfies((layer.scope,)))


def licence(settings: Any) -> list[dict[str, str]]:
    return [ogc.link(settings.data_license_url, "license", ogc.HTML, settings.data_license_title)]


class FeaturesEndpoints:
    """OGC API – Features endpoints for ``layers`` (one collection per layer)."""

    def __init__(
        self,
        layers: Mapping[str, Layer],
        *,
        title: str = "gridgov 网格化管理地图服务",
        description: str = "OGC API – Features: districts, streets, communities, grids, "
        "buildings, city components and events (WGS84 / CRS84).",
        templates: Jinja2Templates = TEMPLATES,
    ) -> None:
        self.layers = layers
        self.title = title
        self.description = description
        self.templates = templates
        self.router = APIRouter(tags=["OGC API – Features"])
        self._register()

    # -- helpers the routes share ---------------------------------------------------------

    def layer(self, collection_id: str) -> Layer:
        """The collection's layer; UnknownCollection (404) when there is none."""
        layer = self.layers.get(collection_id)
        if layer is None:
            raise UnknownCollection(collection_id)
        return layer

    @staticmethod
    def parse(layer: Layer, request: Request, *, paging: bool) -> LayerRequest:
        """The query string as a feature query (FilterError: 400 naming the parameter)."""
        return parse_layer_request(layer, request.query_params.multi_items(), paging=paging)

    @staticmethod
    def generation_id(
        lookup: LookupService, layer: Layer, generation: str | None, at: datetime | None = None
    ) -> int | None:
        """The boundary generation to read for admin layers (404/503 via the error map)."""
        if not layer.versioned:
            return None
        return lookup.resolve(generation, at).id

    def extent(
        self, store: Store, lookup: LookupService, layer: Layer, principal: Principal | None
    ) -> Extent | None:
        if not shows_extent(layer, principal):
            return None
        try:
            gen = self.generation_id(lookup, layer, None)
        except NoActiveGeneration:
            return None
        return store_features.extent(store, layer.source, gen)

    def respond(
        self, request: Request, html: bool, template: str, doc: Any, **context: Any
    ) -> Response:
        if html:
            return self.templates.TemplateResponse(
                request, template, {"doc": doc, "title": self.title, **context}
            )
        return JSONResponse(doc, media_type=ogc.JSON)

    # -- routes ---------------------------------------------------------------------------

    def _register(self) -> None:
        router = self.router

        @router.get("/", summary="Landing page (OGC API)", name="ogc_landing")
        def landing(
            request: Request, interop: InteropSettingsDep, f: FormatParam = None
        ) -> Response:
            html = wants_html(request, _check_format(request))
            doc = ogc.landing(str(request.base_url), self.title, self.description)
            doc["links"] += licence(interop)
            return self.respond(request, html, "landing.html", doc, layers=self.layers.values())

        @router.get("/conformance", summary="Conformance classes", name="ogc_conformance")
        def conformance(request: Request, f: FormatParam = None) -> Response:
            html = wants_html(request, _check_format(request))
            return self.respond(request, html, "conformance.html", ogc.conformance())

        @router.get("/collections", summary="Feature collections", name="ogc_collections")
        def collections(
            request: Request,
            principal: OptionalPrincipal,
            store: StoreDep,
            lookup: LookupDep,
            interop: InteropSettingsDep,
            f: FormatParam = None,
        ) -> Response:
            html = wants_html(request, _check_format(request))
            shown = [layer for layer in self.layers.values() if listed(layer, principal)]
            extents = {layer.id: self.extent(store, lookup, layer, principal) for layer in shown}
            doc = ogc.collections(shown, str(request.base_url), extents, licence(interop))
            return self.respond(request, html, "collections.html", doc)

        @router.get(
            "/collections/{collectionId}", summary="One feature collection", name="ogc_collection"
        )
        def collection(
            request: Request,
            principal: OptionalPrincipal,
            store: StoreDep,
            lookup: LookupDep,
            interop: InteropSettingsDep,
            collection_id: Annotated[str, Path(alias="collectionId", max_length=64)],
            f: FormatParam = None,
        ) -> Response:
            layer = self.layer(collection_id)
            html = wants_html(request, _check_format(request))
            restrict(layer, principal, FeatureQuery())  # events: 401/403 before any work
            extent = self.extent(store, lookup, layer, principal)
            doc = ogc.collection(layer, str(request.base_url), extent, licence(interop))
            return self.respond(request, html, "collection.html", doc, layer=layer)

        @router.get(
            "/collections/{collectionId}/queryables",
            name="ogc_queryables",
            summary="Queryables of a collection (JSON Schema)",
            response_class=Response,
            responses={200: {"content": {ogc.JSON_SCHEMA: {}}}},
        )
        def queryables(
            request: Request,
            principal: OptionalPrincipal,
            collection_id: Annotated[str, Path(alias="collectionId", max_length=64)],
            f: FormatParam = None,
        ) -> Response:
            layer = self.layer(collection_id)
            if _check_format(request) == "html":
                raise Problem(400, "Invalid parameter", "queryables are JSON only", "f")
            restrict(layer, principal, FeatureQuery())
            doc = ogc.queryables(layer, str(request.base_url))
            return JSONResponse(doc, media_type=ogc.JSON_SCHEMA)

        @router.get(
            "/collections/{collectionId}/items",
            name="ogc_items",
            summary="Features of a collection",
            description=PROPERTY_FILTERS_NOTE,
            response_class=Response,
            responses={200: {"content": {ogc.GEOJSON: {}, ogc.HTML: {}}}},
            openapi_extra={"parameters": ITEMS_PARAMETERS},
        )
        def items(
            request: Request,
            principal: OptionalPrincipal,
            store: StoreDep,
            lookup: LookupDep,
            collection_id: Annotated[str, Path(alias="collectionId", max_length=64)],
        ) -> Response:
            layer = self.layer(collection_id)
            req = self.parse(layer, request, paging=True)
            html = wants_html(request, req.format)
            gen = self.generation_id(lookup, layer, req.generation, req.at)
            query = restrict(layer, principal, replace(req.query, generation_id=gen))
            page = store_features.query_features(store, layer.source, query)
            base, now = str(request.base_url), datetime.now(UTC)
            limit = query.limit or DEFAULT_LIMIT
            links = ogc.page_links(
                str(request.url),
                base,
                layer,
                query.offset,
                limit,
                len(page.features),
                page.number_matched,
            )
            if html:
                return self._items_html(request, layer, page, links, query, now)
            body = ogc.items_body(layer, page.features, page.number_matched, links, now)
            return Response(body, media_type=ogc.GEOJSON, headers=CONTENT_CRS)

        @router.get(
            "/collections/{collectionId}/items/{featureId}",
            name="ogc_item",
            summary="One feature",
            response_class=Response,
            responses={200: {"content": {ogc.GEOJSON: {}, ogc.HTML: {}}}},
            openapi_extra={
                "parameters": [
                    p for p in ITEMS_PARAMETERS if p["name"] in ("generation", "crs", "f")
                ]
            },
        )
        def item(
            request: Request,
            principal: OptionalPrincipal,
            store: StoreDep,
            lookup: LookupDep,
            collection_id: Annotated[str, Path(alias="collectionId", max_length=64)],
            feature_id: Annotated[str, Path(alias="featureId", max_length=128)],
        ) -> Response:
            layer = self.layer(collection_id)
            req = parse_item_request(layer, request.query_params.multi_items())
            gen = self.generation_id(lookup, layer, req.generation)
            feature = store_features.get_feature(store, layer.source, feature_id, gen)
            if feature is None or not visible(layer, principal, feature.properties):
                raise Problem(
                    404,
                    "Feature not found",
                    f"no feature {feature_id!r} in {layer.id}",
                    "featureId",
                )
            now = datetime.now(UTC)
            if wants_html(request, req.format):
                return self._item_html(request, layer, feature, now)
            body = ogc.feature_body(layer, feature, str(request.base_url), now)
            return Response(body, media_type=ogc.GEOJSON, headers=CONTENT_CRS)

    def _item_html(
        self, request: Request, layer: Layer, feature: Feature, now: datetime
    ) -> Response:
        context = {
            "title": self.title,
            "layer": layer,
            "feature": feature,
            "properties": ogc.feature_properties(layer, feature, now),
            "svg": svg_preview([feature.geometry], layer.style),
            "json_url": ogc.with_query(str(request.url), f="json"),
            "collection_url": f"{request.base_url}collections/{layer.id}",
        }
        return self.templates.TemplateResponse(request, "item.html", context)

    def _items_html(
        self,
        request: Request,
        layer: Layer,
        page: FeaturePage,
        links: list[dict[str, str]],
        query: FeatureQuery,
        now: datetime,
    ) -> Response:
        base = str(request.base_url)
        rows = [
            {
                "id": f.id,
                "url": ogc.with_query(ogc.item_url(base, layer, f.id), f="html"),
                "properties": ogc.feature_properties(layer, f, now),
            }
            for f in page.features
        ]
        nav = {
            lk["rel"]: ogc.with_query(lk["href"], f="html")
            for lk in links
            if lk["rel"] in ("next", "prev")
        }
        return self.templates.TemplateResponse(
            request,
            "items.html",
            {
                "title": self.title,
                "layer": layer,
                "rows": rows,
                "matched": page.number_matched,
                "offset": query.offset,
                "nav": nav,
                "params": dict(request.query_params),
                "svg": svg_preview([f.geometry for f in page.features], layer.style),
                "json_url": ogc.with_query(str(request.url), f="json"),
                "collection_url": f"{base}collections/{layer.id}",
            },
        )


router = FeaturesEndpoints(LAYERS).router
