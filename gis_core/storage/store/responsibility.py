"""Who is responsible: responsible units and their members, duty (responsibility)
layers, and routing rules."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import bindparam, delete, insert, select, update

from gis_core.storage import geo, rows
from gis_core.storage.columns import RULE_ROW_COLUMNS
from gis_core.storage.models import ResponsibilityLayer, ResponsibleUnit, RoutingRule, UnitMember
from gis_core.storage.store import frames
from gis_core.storage.store.core import StoreCore


class ResponsibilityStore(StoreCore):
    """Responsible units, members, duty layers and routing rules."""

    def add_units(self, df: pd.DataFrame) -> dict[str, int]:
        """Insert or update responsible units by ``code`` (needs code, name, kind).

        ``parent_code`` may name a unit in the same frame (any order) or already stored.
        Returns {'inserted': n, 'updated': m}.
        """
        frames.require(df, ("code", "name", "kind"), "units")
        data = {
            c: [rows.code(v) for v in rows.column(df, c)]
            for c in ("code", "parent_code", "area_code")
        }
        for c in ("name", "kind", "phone"):
            data[c] = [rows.text(v) for v in rows.column(df, c)]
        t = ResponsibleUnit.__table__
        fields = ("name", "kind", "area_code", "phone")
        for i, unit_code in enumerate(data["code"]):
            if unit_code is None:
                raise ValueError(f"units: row {i + 1} has no code")
        # One executemany per kind of statement (a district's ~1,000 units in ~0.1 s, not
        # one compiled statement per row).
        with self._write_engine.begin() as conn:
            ids = dict(conn.execute(select(t.c.code, t.c.id)).all())
            seen: set[str] = set()
            new_rows, changed = [], []
            for i, unit_code in enumerate(data["code"]):
                values = {c: data[c][i] for c in fields}
                if unit_code in ids or unit_code in seen:
                    changed.append({"code_": unit_code, **{f"v_{c}": v for c, v in values.items()}})
                else:
                    seen.add(unit_code)
                    new_rows.append({"code": unit_code, **values})
            if new_rows:
                made = conn.execute(
                    insert(t).returning(t.c.code, t.c.id, sort_by_parameter_order=True), new_rows
                )
                ids.update((code, id_) for code, id_ in made)
            if changed:
                for row in changed:
                    row["unit_id"] = ids[row.pop("code_")]
                conn.execute(
                    update(t)
                    .where(t.c.id == bindparam("unit_id"))
                    .values({c: bindparam(f"v_{c}") for c in fields}),
                    changed,
                )
            parents = []
            for i, unit_code in enumerate(data["code"]):
                parent = data["parent_code"][i]
                if parent is not None and parent not in ids:
                    raise ValueError(f"units: row {i + 1}: unknown parent_code {parent!r}")
                parents.append(
                    {"unit_id": ids[unit_code], "parent": ids[parent] if parent else None}
                )
            conn.execute(
                update(t)
                .where(t.c.id == bindparam("unit_id"))
                .values(parent_id=bindparam("parent")),
                parents,
            )
        inserted, updated = len(new_rows), len(changed)
        return {"inserted": inserted, "updated": updated}

    def unit_ids(self) -> dict[str, int]:
        """code -> id of every responsible unit."""
        t = ResponsibleUnit.__table__
        with self.engine.connect() as conn:
            return dict(conn.execute(select(t.c.code, t.c.id)).all())

    def read_units(self) -> pd.DataFrame:
        t = ResponsibleUnit.__table__
        parent = t.alias("parent")
        stmt = (
            select(
                t.c.id,
                t.c.code,
                t.c.name,
                t.c.kind,
                parent.c.code.label("parent_code"),
                t.c.area_code,
                t.c.phone,
            )
            .outerjoin(parent, parent.c.id == t.c.parent_id)
            .order_by(t.c.id)
        )
        with self.engine.connect() as conn:
            return pd.DataFrame(
                conn.execute(stmt).mappings().all(), columns=list(stmt.selected_columns.keys())
            )

    def add_members(self, df: pd.DataFrame) -> int:
        """Append unit members (unit_code, name, role, phone, user_id)."""
        frames.require(df, ("unit_code", "name", "role"), "members")
        ids = self.unit_ids()
        records = []
        for i, row in enumerate(df.itertuples(index=False)):
            unit_code = rows.code(row.unit_code)
            if unit_code not in ids:
                raise ValueError(f"members: row {i + 1}: unknown unit_code {unit_code!r}")
            records.append(
                {
                    "unit_id": ids[unit_code],
                    "name": rows.text(row.name),
                    "role": rows.text(row.role),
                    "phone": rows.text(getattr(row, "phone", None)),
                    "user_id": rows.code(getattr(row, "user_id", None)),
                }
            )
        with self._write_engine.begin() as conn:
            for chunk in frames.chunks(records):
                conn.execute(insert(UnitMember.__table__), chunk)
        return len(records)

    def add_responsibility_layers(self, gdf: gpd.GeoDataFrame) -> int:
        """Append bureau-owned areas (name, kind, unit_code, Polygon/MultiPolygon)."""
        frames.require(gdf, ("name", "kind", "unit_code"), "responsibility layers")
        geoms = geo.as_multipolygons(frames.geometries(gdf, "responsibility layers"))
        ids = self.unit_ids()
        records = []
        for i, (name, kind, unit_code) in enumerate(
            zip(
                rows.column(gdf, "name"),
                rows.column(gdf, "kind"),
                rows.column(gdf, "unit_code"),
                strict=True,
            )
        ):
            uc = rows.code(unit_code)
            if uc not in ids:
                raise ValueError(f"responsibility layers: row {i + 1}: unknown unit_code {uc!r}")
            records.append(
                {
                    "name": rows.text(name),
                    "kind": rows.text(kind),
                    "unit_id": ids[uc],
                }
            )
        records = frames.with_bbox(records, geoms)
        with self._write_engine.begin() as conn:
            for chunk in frames.chunks(records):
                conn.execute(insert(ResponsibilityLayer.__table__), chunk)
        return len(records)

    def read_responsibility_layers(
        self, kind: str | None = None, bbox: geo.BBox | None = None
    ) -> gpd.GeoDataFrame:
        t = ResponsibilityLayer.__table__
        u = ResponsibleUnit.__table__
        cols = ["id", "name", "kind", "unit_id", "unit_code"]
        stmt = (
            select(t.c.id, t.c.name, t.c.kind, t.c.unit_id, u.c.code.label("unit_code"))
            .join(u, u.c.id == t.c.unit_id)
            .order_by(t.c.id)
        )
        if kind is not None:
            stmt = stmt.where(t.c.kind == kind)
        with self.engine.connect() as conn:
            return frames.read_frame(conn, self.dialect, t, stmt, cols, bbox)

    def add_rules(self, df: pd.DataFrame, *, replace: bool = False) -> int:
        """Append routing rules; exact duplicates of stored rules are skipped, so
        re-importing a rule file is harmless. ``replace`` deletes all rules first.

        The unit is given by ``unit_code`` (or ``unit_id``). Returns rules inserted.
        """
        if "unit_code" not in df.columns and "unit_id" not in df.columns:
            raise ValueError("rules: missing column unit_code")
        ids = self.unit_ids()
        known_ids = set(ids.values())
        col = {c: rows.column(df, c) for c in (*RULE_ROW_COLUMNS, "unit_code")}
        records = []
        for i in range(len(df)):
            rec: dict[str, Any] = {
                "category_code": rows.code(col["category_code"][i]),
                "area_code": rows.code(col["area_code"][i]),
                "layer_kind": rows.text(col["layer_kind"][i]),
                "precedence": rows.integer(col["precedence"][i], minimum=None) or 0,
                "priority": rows.text(col["priority"][i]),
                "time_limit_value": rows.number(col["time_limit_value"][i]),
                "time_limit_unit": rows.text(col["time_limit_unit"][i]),
                "note": rows.text(col["note"][i]),
            }
            unit_code = rows.code(col["unit_code"][i])
            unit_id = rows.integer(col["unit_id"][i])
            if unit_code is not None:
                unit_id = ids.get(unit_code)
                if unit_id is None:
                    raise ValueError(f"rules: row {i + 1}: unknown unit_code {unit_code!r}")
            elif unit_id not in known_ids:
                raise ValueError(f"rules: row {i + 1}: unknown unit_id {unit_id!r}")
            rec["unit_id"] = unit_id
            records.append(rec)
        t = RoutingRule.__table__
        with self._write_engine.begin() as conn:
            if replace:
                conn.execute(delete(t))
                existing: set[tuple[Any, ...]] = set()
            else:
                existing = {
                    tuple(r) for r in conn.execute(select(*[t.c[c] for c in RULE_ROW_COLUMNS]))
                }
            fresh = []
            for rec in records:
                key = tuple(rec[c] for c in RULE_ROW_COLUMNS)
                if key not in existing:
                    existing.add(key)
                    fresh.append(rec)
            for chunk in frames.chunks(fresh):
                conn.execute(insert(t), chunk)
        return len(fresh)

    def read_rules(self) -> pd.DataFrame:
        t = RoutingRule.__table__
        u = ResponsibleUnit.__table__
        stmt = (
            select(t, u.c.code.label("unit_code"))
            .join(u, u.c.id == t.c.unit_id)
            .order_by(t.c.precedence.desc(), t.c.id)
        )
        with self.engine.connect() as conn:
            return pd.DataFrame(
                conn.execute(stmt).mappings().all(), columns=list(stmt.selected_columns.keys())
            )
