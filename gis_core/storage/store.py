"""The Store: the one door to the system of record, whether SQLite or PostGIS.

Bulk loads go through SQLAlchemy Core ``executemany`` in chunks (insertmanyvalues
batches on PostgreSQL, native executemany on SQLite) inside one transaction each, so a
failed load leaves the previous data untouched. Reads return GeoDataFrames in EPSG:4326.
Spatial filters use ``ST_Intersects`` (GiST) on PostGIS and the bbox columns plus an
exact shapely test on SQLite: the same answer from both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    URL,
    ColumnElement,
    Connection,
    Integer,
    LargeBinary,
    Select,
    Table,
    and_,
    delete,
    func,
    insert,
    inspect,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gis_core.spatial.crs import STORAGE_EPSG
from gis_core.standards import codes
from gis_core.standards.codes import ADMIN_CODE_LENGTHS, ADMIN_LEVELS, ADMIN_PARENT_LEVEL
from gis_core.storage import geo, rows
from gis_core.storage.engine import (
    SQLITE_BEGIN_OPTION,
    creating_allowed,
    display_url,
    make_engine,
    resolve_url,
)
from gis_core.storage.models import (
    TABLES,
    AdminUnit,
    Base,
    BoundaryGeneration,
    Building,
    Component,
    ResponsibilityLayer,
    ResponsibleUnit,
    RoutingRule,
    UnitMember,
)
from gis_core.storage.types import utcnow

CHUNK_ROWS = 2000
"""Rows per executemany: big enough to amortise round trips, small enough for progress."""

Progress = Callable[[int], None]
"""Called with the number of rows just written (for progress bars)."""

BUILDING_COLUMNS = (
    "building_id",
    "address",
    "name",
    "floors",
    "households",
    "use",
    "grid_code",
    "community_code",
    "street_code",
)
COMPONENT_COLUMNS = (
    "component_id",
    "class_code",
    "class_name",
    "major_code",
    "major_name",
    "department_code",
    "department_name",
    "owner_code",
    "owner_name",
    "maintainer_code",
    "maintainer_name",
    "status",
    "initial_date",
    "change_date",
    "data_source",
    "note",
    "grid_code",
    "street_code",
    "street_name",
    "community_code",
    "community_name",
)
ADMIN_COLUMNS = (
    "code",
    "name",
    "parent_code",
    "district_code",
    "street_code",
    "community_code",
    "area_m2",
)
GRID_EXTRA_COLUMNS = ("unit_name", "staff")
UNIT_COLUMNS = ("code", "name", "kind", "parent_code", "area_code", "phone")
RULE_COLUMNS = (
    "category_code",
    "area_code",
    "layer_kind",
    "unit_id",
    "precedence",
    "priority",
    "time_limit_value",
    "time_limit_unit",
    "note",
)


class SchemaNotCurrent(RuntimeError):
    """The database is not migrated to the code's head revision."""


@dataclass(frozen=True)
class Generation:
    """A boundary generation as plain data (no session attached)."""

    id: int
    name: str
    description: str
    created_at: datetime
    active: bool
    activated_at: datetime | None


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    twice = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if twice:
        raise ValueError(f"{what}: duplicate column(s) {', '.join(twice)}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}")


def _chunks(items: list[dict[str, Any]], size: int = CHUNK_ROWS) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _geometries(gdf: gpd.GeoDataFrame, what: str) -> np.ndarray:
    """The geometry array in EPSG:4326, refusing missing or empty geometries."""
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise ValueError(f"{what}: expected a GeoDataFrame with a geometry column")
    geoms = np.asarray(geo.to_storage_crs(gdf).geometry.values, dtype=object)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        raise ValueError(f"{what}: {int(bad.sum())} row(s) without geometry")
    return geoms


class Store:
    """Typed access to the gridgov database (see the module docstring).

    ``Store(url)`` resolves the URL as :func:`gis_core.storage.engine.resolve_url` does;
    nothing is created until :meth:`upgrade` runs the migrations.
    """

    def __init__(self, url: str | URL | None = None, *, echo: bool = False) -> None:
        self._url = resolve_url(url)
        self.engine = make_engine(self._url, echo=echo)
        # Writers take SQLite's write lock at BEGIN: a deferred transaction that read
        # before another writer committed could not write later (SQLITE_BUSY_SNAPSHOT,
        # "database is locked" at once); IMMEDIATE waits for the lock (busy_timeout).
        self._write_engine = self.engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)

    # -- plumbing --------------------------------------------------------------------

    @property
    def url(self) -> URL:
        """The resolved URL (``str()`` of it masks the password)."""
        return self._url

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({display_url(self._url)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    def dispose(self) -> None:
        """Close pooled connections (needed before dropping or deleting the database)."""
        self.engine.dispose()

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """An ORM session in a transaction: committed on success, rolled back on error.

        ``write=True`` (read-modify-write work) takes SQLite's write lock at BEGIN, so
        concurrent writers queue (up to the busy timeout) instead of failing with
        "database is locked"; pass ``write=False`` for read-only work, which then never
        blocks writers. PostgreSQL ignores the flag. Sessions expire nothing on commit,
        so loaded objects stay usable afterwards.
        """
        factory = self._write_sessions if write else self._sessions
        with factory() as session, session.begin():
            yield session

    @contextmanager
    def connection(self, *, write: bool = True) -> Iterator[Connection]:
        """A Core connection in a transaction (committed on success); ``write`` as above."""
        with (self._write_engine if write else self.engine).begin() as conn:
            yield conn

    # -- schema ----------------------------------------------------------------------

    def alembic_config(self) -> Config:
        """Alembic configuration for this database, for `alembic.command` calls (e.g.
        drafting a revision with `command.revision(cfg, "msg", autogenerate=True)`)."""
        cfg = Config()
        cfg.set_main_option("script_location", "gis_core.storage:migrations")
        cfg.set_main_option(
            "sqlalchemy.url",
            self._url.render_as_string(hide_password=False).replace("%", "%%"),
        )
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Migrate to ``revision`` in one transaction; a no-op when already there."""
        cfg = self.alembic_config()
        with creating_allowed(), self._write_engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self.alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def ensure_current(self) -> None:
        """Raise :class:`SchemaNotCurrent` (with the fix in the message) unless at head."""
        current, head = self.current_revision(), self.head_revision()
        if current != head:
            state = "not initialised" if current is None else f"at revision {current}"
            raise SchemaNotCurrent(
                f"database {display_url(self._url)} is {state}, code expects {head};"
                " run `gridgov db upgrade`"
            )

    def counts(self) -> dict[str, int]:
        """Row count of every gridgov table that exists."""
        existing = set(inspect(self.engine).get_table_names())
        out = {}
        with self.engine.connect() as conn:
            for name in TABLES:
                if name in existing:
                    table = Base.metadata.tables[name]
                    out[name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
        return out

    def server_info(self) -> dict[str, str]:
        """Versions of the database server (and PostGIS) for `gridgov db info`."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                info = {"server": conn.exec_driver_sql("SHOW server_version").scalar_one()}
                postgis = conn.exec_driver_sql(
                    "SELECT extversion FROM pg_extension WHERE extname = 'postgis'"
                ).scalar()
                info["postgis"] = postgis or "not installed"
                return info
            version = conn.exec_driver_sql("SELECT sqlite_version()").scalar_one()
            return {"server": f"SQLite {version}"}

    # -- boundary generations ----------------------------------------------------------

    @staticmethod
    def _generation(g: BoundaryGeneration) -> Generation:
        return Generation(g.id, g.name, g.description, g.created_at, g.active, g.activated_at)

    def create_generation(self, name: str, description: str = "", activate: bool = False) -> int:
        """A new, empty boundary generation; its id."""
        try:
            with self.session() as s:
                gen = BoundaryGeneration(name=name, description=description or "")
                s.add(gen)
                s.flush()
                gen_id = gen.id
        except IntegrityError as exc:
            raise ValueError(f"a boundary generation named {name!r} already exists") from exc
        if activate:
            self.activate_generation(gen_id)
        return gen_id

    def activate_generation(self, generation_id: int) -> None:
        """Make ``generation_id`` the active one, atomically deactivating the previous.

        Two statements, deactivate then activate, because a partial unique index is
        checked row by row in PostgreSQL and a single swapping UPDATE could trip it.
        """
        with self.session() as s:
            gen = s.get(BoundaryGeneration, generation_id, with_for_update=True)
            if gen is None:
                raise LookupError(f"no boundary generation with id {generation_id}")
            s.execute(
                update(BoundaryGeneration)
                .where(BoundaryGeneration.active, BoundaryGeneration.id != generation_id)
                .values(active=False)
            )
            s.flush()
            if not gen.active:
                gen.active = True
                gen.activated_at = utcnow()

    def active_generation(self) -> Generation | None:
        with self.session(write=False) as s:
            gen = s.scalars(select(BoundaryGeneration).where(BoundaryGeneration.active)).first()
            return None if gen is None else self._generation(gen)

    def list_generations(self) -> list[Generation]:
        with self.session(write=False) as s:
            gens = s.scalars(select(BoundaryGeneration).order_by(BoundaryGeneration.id))
            return [self._generation(g) for g in gens]

    def get_generation(self, key: int | str) -> Generation | None:
        """A generation by id (int) or by name (str)."""
        with self.session(write=False) as s:
            if isinstance(key, int):
                gen = s.get(BoundaryGeneration, key)
            else:
                gen = s.scalars(
                    select(BoundaryGeneration).where(BoundaryGeneration.name == key)
                ).first()
            return None if gen is None else self._generation(gen)

    def _resolve_generation(self, conn: Connection, generation_id: int | None) -> int:
        if generation_id is not None:
            return generation_id
        gen_id = conn.execute(
            select(BoundaryGeneration.id).where(BoundaryGeneration.active)
        ).scalar()
        if gen_id is None:
            raise LookupError(
                "no active boundary generation: pass generation_id or activate one"
                " (gridgov import grids FILE --activate)"
            )
        return gen_id

    # -- admin units -----------------------------------------------------------------

    def load_admin_units(
        self,
        generation_id: int,
        layers: Mapping[str, gpd.GeoDataFrame],
        *,
        progress: Progress | None = None,
    ) -> dict[str, int]:
        """Replace the given levels of a generation with ``layers`` (one transaction).

        ``layers`` maps 'district'|'street'|'community'|'grid' to GeoDataFrames with at
        least ``code`` and ``name``; missing ancestor codes are taken from the code prefix
        (codes are hierarchical). ``area_m2`` is always recomputed in a metric CRS.
        Polygons are stored as one-part MultiPolygons. Returns rows written per level.
        """
        unknown = set(layers) - set(ADMIN_LEVELS)
        if unknown:
            raise ValueError(f"unknown admin level(s): {', '.join(sorted(unknown))}")
        prepared = {
            level: self._admin_rows(generation_id, level, gdf) for level, gdf in layers.items()
        }
        table = AdminUnit.__table__
        with self._write_engine.begin() as conn:
            exists = conn.execute(
                select(BoundaryGeneration.id).where(BoundaryGeneration.id == generation_id)
            ).scalar()
            if exists is None:
                raise LookupError(f"no boundary generation with id {generation_id}")
            conn.execute(
                delete(table).where(
                    table.c.generation_id == generation_id, table.c.level.in_(list(prepared))
                )
            )
            for level in ADMIN_LEVELS:
                for chunk in _chunks(prepared.get(level, [])):
                    conn.execute(insert(table), chunk)
                    if progress:
                        progress(len(chunk))
        return {level: len(r) for level, r in prepared.items()}

    @staticmethod
    def _admin_rows(generation_id: int, level: str, gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
        what = f"{level} layer"
        _require(gdf, ("code", "name"), what)
        geoms = geo.as_multipolygons(_geometries(gdf, what))
        kinds = set(shapely.get_type_id(geoms).tolist()) - {shapely.GeometryType.MULTIPOLYGON}
        if kinds:
            raise ValueError(f"{what}: geometries must be Polygon or MultiPolygon")
        box = geo.bounds(geoms)
        area = geo.areas_m2(geoms)
        length = ADMIN_CODE_LENGTHS[level]
        parent_level = ADMIN_PARENT_LEVEL.get(level)
        cols = {
            c: [rows.code(v) for v in rows.column(gdf, c)]
            for c in ("code", "district_code", "street_code", "community_code")
        }
        names = [rows.text(v) for v in rows.column(gdf, "name")]
        is_grid = level == "grid"
        unit_names = [rows.text(v) for v in rows.column(gdf, "unit_name")] if is_grid else None
        staff = [rows.json_text(v) for v in rows.column(gdf, "staff")] if is_grid else None
        out = []
        for i, unit_code in enumerate(cols["code"]):
            if unit_code is None or len(unit_code) != length:
                raise ValueError(f"{what}: row {i + 1}: code {unit_code!r} is not {length} chars")
            derived = codes.ancestors(unit_code)
            row = {
                "generation_id": generation_id,
                "level": level,
                "code": unit_code,
                "name": names[i] or unit_code,
                "district_code": cols["district_code"][i] or derived.get("district_code"),
                "street_code": cols["street_code"][i] or derived.get("street_code"),
                "community_code": cols["community_code"][i] or derived.get("community_code"),
                "area_m2": float(area[i]),
                "unit_name": unit_names[i] if unit_names else None,
                "staff": staff[i] if staff else None,
                "geom": geoms[i],
                "minx": float(box[i, 0]),
                "miny": float(box[i, 1]),
                "maxx": float(box[i, 2]),
                "maxy": float(box[i, 3]),
            }
            row["parent_code"] = row[f"{parent_level}_code"] if parent_level else None
            out.append(row)
        return out

    def read_admin_layer(
        self,
        level: str,
        generation_id: int | None = None,
        *,
        bbox: geo.BBox | None = None,
    ) -> gpd.GeoDataFrame:
        """One level of a generation (None = the active one), ordered by code."""
        if level not in ADMIN_LEVELS:
            raise ValueError(f"level must be one of {', '.join(ADMIN_LEVELS)}, got {level!r}")
        t = AdminUnit.__table__
        cols = list(ADMIN_COLUMNS) + (list(GRID_EXTRA_COLUMNS) if level == "grid" else [])
        with self.engine.connect() as conn:
            gen_id = self._resolve_generation(conn, generation_id)
            stmt = (
                select(*[t.c[c] for c in cols])
                .where(t.c.generation_id == gen_id, t.c.level == level)
                .order_by(t.c.code)
            )
            return self._read_frame(conn, t, stmt, cols, bbox)

    # -- buildings and components --------------------------------------------------------

    def replace_buildings(self, gdf: gpd.GeoDataFrame, *, progress: Progress | None = None) -> int:
        """Replace all buildings with ``gdf`` (needs ``building_id`` and geometry)."""
        _require(gdf, ("building_id",), "buildings")
        geoms = _geometries(gdf, "buildings")
        data: dict[str, list[Any]] = {
            c: [rows.text(v) for v in rows.column(gdf, c)] for c in ("address", "name", "use")
        }
        for c in ("building_id", "grid_code", "community_code", "street_code"):
            data[c] = [rows.code(v) for v in rows.column(gdf, c)]
        for c in ("floors", "households"):
            data[c] = [rows.integer(v) for v in rows.column(gdf, c)]
        return self._replace(Building.__table__, data, geoms, progress)

    def read_buildings(self, bbox: geo.BBox | None = None) -> gpd.GeoDataFrame:
        t = Building.__table__
        with self.engine.connect() as conn:
            stmt = select(*[t.c[c] for c in BUILDING_COLUMNS]).order_by(t.c.building_id)
            return self._read_frame(conn, t, stmt, list(BUILDING_COLUMNS), bbox)

    def replace_components(self, gdf: gpd.GeoDataFrame, *, progress: Progress | None = None) -> int:
        """Replace all components. Class/major codes and names default from the 17-digit
        id and the standard's code table; dates accept YYYYMMDD or ISO."""
        _require(gdf, ("component_id",), "components")
        geoms = _geometries(gdf, "components")
        if (shapely.get_type_id(geoms) != shapely.GeometryType.POINT).any():
            raise ValueError("components: geometries must be Points")
        data: dict[str, list[Any]] = {}
        for c in COMPONENT_COLUMNS:
            if c in ("initial_date", "change_date"):
                data[c] = [rows.day(v) for v in rows.column(gdf, c)]
            elif c.endswith("_code") or c == "component_id":
                data[c] = [rows.code(v) for v in rows.column(gdf, c)]
            else:
                data[c] = [rows.text(v) for v in rows.column(gdf, c)]
        table = codes.component_class_table()
        for i, cid in enumerate(data["component_id"]):
            if cid is None:
                raise ValueError(f"components: row {i + 1} has no component_id")
            cls_code = data["class_code"][i] or codes.component_class_of(cid)
            data["class_code"][i] = cls_code
            data["major_code"][i] = data["major_code"][i] or cls_code[:2]
            known = table.get(cls_code)
            if known is not None:
                data["class_name"][i] = data["class_name"][i] or known.name
                data["major_name"][i] = data["major_name"][i] or known.major_name
        return self._replace(Component.__table__, data, geoms, progress)

    def read_components(
        self, bbox: geo.BBox | None = None, class_code: str | None = None
    ) -> gpd.GeoDataFrame:
        """Components, optionally inside ``bbox`` and of a class (5 digits) or major (2)."""
        t = Component.__table__
        stmt = select(*[t.c[c] for c in COMPONENT_COLUMNS]).order_by(t.c.component_id)
        if class_code is not None:
            column = t.c.major_code if len(class_code) == 2 else t.c.class_code
            stmt = stmt.where(column == class_code)
        with self.engine.connect() as conn:
            return self._read_frame(conn, t, stmt, list(COMPONENT_COLUMNS), bbox)

    def _replace(
        self,
        table: Table,
        data: dict[str, list[Any]],
        geoms: np.ndarray,
        progress: Progress | None,
    ) -> int:
        box = geo.bounds(geoms)
        names = list(data)
        records = [
            {
                **{n: data[n][i] for n in names},
                "geom": geoms[i],
                "minx": float(box[i, 0]),
                "miny": float(box[i, 1]),
                "maxx": float(box[i, 2]),
                "maxy": float(box[i, 3]),
            }
            for i in range(len(geoms))
        ]
        with self._write_engine.begin() as conn:
            conn.execute(delete(table))
            for chunk in _chunks(records):
                conn.execute(insert(table), chunk)
                if progress:
                    progress(len(chunk))
        return len(records)

    # -- responsibility: units, members, layers, rules ------------------------------------

    def add_units(self, df: pd.DataFrame) -> dict[str, int]:
        """Insert or update responsible units by ``code`` (needs code, name, kind).

        ``parent_code`` may name a unit in the same frame (any order) or already stored.
        Returns {'inserted': n, 'updated': m}.
        """
        _require(df, ("code", "name", "kind"), "units")
        data = {
            c: [rows.code(v) for v in rows.column(df, c)]
            for c in ("code", "parent_code", "area_code")
        }
        for c in ("name", "kind", "phone"):
            data[c] = [rows.text(v) for v in rows.column(df, c)]
        t = ResponsibleUnit.__table__
        inserted = updated = 0
        with self._write_engine.begin() as conn:
            ids = dict(conn.execute(select(t.c.code, t.c.id)).all())
            for i, unit_code in enumerate(data["code"]):
                if unit_code is None:
                    raise ValueError(f"units: row {i + 1} has no code")
                values = {c: data[c][i] for c in ("name", "kind", "area_code", "phone")}
                if unit_code in ids:
                    conn.execute(update(t).where(t.c.id == ids[unit_code]).values(**values))
                    updated += 1
                else:
                    ids[unit_code] = conn.execute(
                        insert(t).values(code=unit_code, **values).returning(t.c.id)
                    ).scalar_one()
                    inserted += 1
            for i, unit_code in enumerate(data["code"]):
                parent = data["parent_code"][i]
                if parent is not None and parent not in ids:
                    raise ValueError(f"units: row {i + 1}: unknown parent_code {parent!r}")
                conn.execute(
                    update(t)
                    .where(t.c.id == ids[unit_code])
                    .values(parent_id=ids[parent] if parent else None)
                )
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
        _require(df, ("unit_code", "name", "role"), "members")
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
            for chunk in _chunks(records):
                conn.execute(insert(UnitMember.__table__), chunk)
        return len(records)

    def add_responsibility_layers(self, gdf: gpd.GeoDataFrame) -> int:
        """Append bureau-owned areas (name, kind, unit_code, Polygon/MultiPolygon)."""
        _require(gdf, ("name", "kind", "unit_code"), "responsibility layers")
        geoms = geo.as_multipolygons(_geometries(gdf, "responsibility layers"))
        ids = self.unit_ids()
        box = geo.bounds(geoms)
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
                    "geom": geoms[i],
                    "minx": float(box[i, 0]),
                    "miny": float(box[i, 1]),
                    "maxx": float(box[i, 2]),
                    "maxy": float(box[i, 3]),
                }
            )
        with self._write_engine.begin() as conn:
            for chunk in _chunks(records):
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
            return self._read_frame(conn, t, stmt, cols, bbox)

    def add_rules(self, df: pd.DataFrame, *, replace: bool = False) -> int:
        """Append routing rules; exact duplicates of stored rules are skipped, so
        re-importing a rule file is harmless. ``replace`` deletes all rules first.

        The unit is given by ``unit_code`` (or ``unit_id``). Returns rules inserted.
        """
        if "unit_code" not in df.columns and "unit_id" not in df.columns:
            raise ValueError("rules: missing column unit_code")
        ids = self.unit_ids()
        known_ids = set(ids.values())
        col = {c: rows.column(df, c) for c in (*RULE_COLUMNS, "unit_code")}
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
                existing = {tuple(r) for r in conn.execute(select(*[t.c[c] for c in RULE_COLUMNS]))}
            fresh = []
            for rec in records:
                key = tuple(rec[c] for c in RULE_COLUMNS)
                if key not in existing:
                    existing.add(key)
                    fresh.append(rec)
            for chunk in _chunks(fresh):
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

    # -- reading geometry --------------------------------------------------------------

    def _wkb(self, table: Table) -> ColumnElement[bytes]:
        """The geometry as raw WKB, decoded below in one vectorised shapely call."""
        if self.dialect == "postgresql":
            return func.ST_AsBinary(table.c.geom, type_=LargeBinary).label("geom_wkb")
        return type_coerce(table.c.geom, LargeBinary).label("geom_wkb")

    def _bbox_filter(self, table: Table, bbox: geo.BBox) -> ColumnElement[bool]:
        if self.dialect == "postgresql":
            shape = shapely.to_wkb(geo.bbox_geometry(bbox), byte_order=1)
            query = func.ST_GeomFromWKB(literal(shape, LargeBinary), literal(STORAGE_EPSG, Integer))
            return func.ST_Intersects(table.c.geom, query)
        minx, miny, maxx, maxy = bbox
        return and_(
            table.c.maxx >= minx, table.c.minx <= maxx, table.c.maxy >= miny, table.c.miny <= maxy
        )

    def _read_frame(
        self,
        conn: Connection,
        table: Table,
        stmt: Select[Any],
        columns: list[str],
        bbox: geo.BBox | None,
    ) -> gpd.GeoDataFrame:
        bbox = geo.check_bbox(bbox)
        stmt = stmt.add_columns(self._wkb(table))
        if bbox is not None:
            stmt = stmt.where(self._bbox_filter(table, bbox))
        result = conn.execute(stmt).all()
        data = {c: [r[i] for r in result] for i, c in enumerate(columns)}
        wkb = np.array([bytes(r[-1]) for r in result], dtype=object)
        geoms = shapely.from_wkb(wkb) if len(wkb) else np.array([], dtype=object)
        frame = pd.DataFrame(data, columns=columns)
        for name, col in zip(columns, stmt.selected_columns, strict=False):
            if isinstance(col.type, Integer):  # keep whole numbers whole despite NULLs
                frame[name] = frame[name].astype("Int64")
        gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs=STORAGE_EPSG)
        if bbox is not None and self.dialect != "postgresql" and len(gdf):
            # The bbox columns only prefilter; keep what really intersects, as PostGIS does.
            gdf = gdf[shapely.intersects(gdf.geometry.values, geo.bbox_geometry(bbox))]
            gdf = gdf.reset_index(drop=True)
        return gdf
