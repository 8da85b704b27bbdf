"""The OGC API part of gridgov as an OpenAPI 3.0 document (``/api``).

OGC API – Features' ``conf/oas30`` asks for an OpenAPI **3.0** definition, and GDAL and
QGIS read the ``service-desc`` expecting one; FastAPI writes 3.1 (JSON Schema 2020-12).
:func:`ogc_openapi` takes FastAPI's own document of the OGC routes (features, queryables,
tiles) and rewrites the few 3.1-only constructs it uses into their 3.0 spelling:
``anyOf [X, null]`` / ``type: [X, "null"]`` -> ``nullable``, ``const`` -> ``enum``,
``examples`` -> ``example``, numeric ``exclusiveMinimum/Maximum`` -> the boolean form, and
drops keywords 3.0 does not know. The result is checked by ``openapi-spec-validator``
in the tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI

from layers.model import Layer

OGC_TAGS = frozenset({"OGC API – Features", "OGC API – Tiles"})
UNKNOWN_IN_30 = frozenset({"contentMediaType", "contentEncoding", "$schema", "$id", "$comment"})


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    """``anyOf``/``oneOf`` with a null branch -> the other branch(es) + nullable."""
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if not isinstance(options, list) or {"type": "null"} not in options:
            continue
        rest = [o for o in options if o != {"type": "null"}]
        out = {k: v for k, v in node.items() if k != key}
        if len(rest) == 1 and "$ref" not in rest[0]:
            out.update(rest[0])
        elif len(rest) == 1:
            out["allOf"] = rest
        else:
            out[key] = rest
        out["nullable"] = True
        return out
    return node


def to_30(node: Any) -> Any:
    """One OpenAPI 3.1 (sub)document rewritten as 3.0."""
    if isinstance(node, list):
        return [to_30(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = _nullable(node)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in UNKNOWN_IN_30:
            continue
        if key == "type" and isinstance(value, list):
            kinds = [t for t in value if t != "null"]
            out["type"] = kinds[0] if kinds else "string"
            if "null" in value:
                out["nullable"] = True
        elif key == "const":
            out["enum"] = [value]
        elif key == "examples" and isinstance(value, list):
            if value:
                out["example"] = to_30(value[0])
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        elif key in ("properties", "responses", "paths", "schemas", "content", "headers"):
            out[key] = {k: to_30(v) for k, v in value.items()}  # keys here are names
        else:
            out[key] = to_30(value)
    return out


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def ogc_subset(full: dict[str, Any]) -> dict[str, Any]:
    """The operations tagged OGC, with only the component schemas they reach."""
    paths: dict[str, Any] = {}
    for path, item in full.get("paths", {}).items():
        ops = {m: op for m, op in item.items() if OGC_TAGS & set(op.get("tags", ()))}
        if ops:
            paths[path] = ops
    schemas = full.get("components", {}).get("schemas", {})
    wanted: set[str] = set()
    todo = _refs(paths)
    while todo:
        name = todo.pop()
        if name in wanted or name not in schemas:
            continue
        wanted.add(name)
        todo |= _refs(schemas[name])
    doc: dict[str, Any] = {"paths": paths}
    if wanted:
        doc["components"] = {"schemas": {n: schemas[n] for n in sorted(wanted)}}
    return doc


def per_collection(doc: dict[str, Any], layers: Iterable[Layer]) -> None:
    """Add ``/collections/<id>/items`` of every layer, with a query parameter for each
    queryable: the form clients (GDAL's OAPIF driver) read to learn what the server can
    filter, so they send ``name=value`` and ``filter=`` instead of filtering locally."""
    template = doc["paths"].get("/collections/{collectionId}/items", {}).get("get")
    if template is None:
        return
    base = [p for p in template.get("parameters", []) if p.get("name") != "collectionId"]
    for layer in layers:
        extra = [
            {
                "name": p.name,
                "in": "query",
                "required": False,
                "description": f"{p.title}: equality filter",
                "schema": {"type": p.json_type},
                "style": "form",
                "explode": False,
            }
            for p in layer.properties
            if not p.computed
        ]
        op = {
            **template,
            "operationId": f"items_{layer.id}",
            "summary": f"{layer.title} ({layer.title_en})",
            "parameters": base + extra,
        }
        doc["paths"][f"/collections/{layer.id}/items"] = {"get": op}


def ogc_openapi(app: FastAPI, layers: Iterable[Layer] = ()) -> dict[str, Any]:
    """The OGC routes of ``app`` as an OpenAPI 3.0.3 document (cached on the app)."""
    cached = getattr(app.state, "ogc_openapi", None)
    if cached is not None:
        return cached
    full = app.openapi()
    info = {
        "title": f"{app.title} — OGC API",
        "version": app.version,
        "description": "OGC API – Features (Part 1 Core, Part 3 Filtering) and OGC API – "
        "Tiles of gridgov's map layers. The whole service: /openapi.json (OpenAPI 3.1).",
    }
    doc = {"openapi": "3.0.3", "info": info, **to_30(ogc_subset(full))}
    per_collection(doc, layers)
    app.state.ogc_openapi = doc
    return doc
