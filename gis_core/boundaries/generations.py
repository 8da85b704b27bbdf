"""Grid lookup against the store, generation-aware (MapIt-style) and cached.

A `Locator` is built once per boundary generation and kept in memory; a lookup can name a
generation (by id or name) or a moment (`at`): the generation that was active then. The
active generation is re-read at most every `active_ttl` seconds, so a planner activating
a new generation in another process is picked up without a database query per lookup.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from gis_core.boundaries.sources import StoreSource, build_locator
from gis_core.spatial.locator import Locator
from gis_core.storage.protocol import StoreLike
from gis_core.storage.store import Generation
from gis_core.storage.types import fits_integer


class GenerationNotFound(LookupError):
    """A named generation that does not exist, or no generation active at a moment."""


class NoActiveGeneration(LookupError):
    """The store has no active boundary generation to answer from."""


@dataclass(frozen=True)
class GenerationInfo:
    id: int
    name: str
    active: bool
    activated_at: datetime | None


class LookupService:
    """Locators per generation over one `Store`, plus the units responsible for each area."""

    def __init__(self, store: StoreLike, *, active_ttl: float = 5.0) -> None:
        self.store = store
        self.active_ttl = active_ttl
        self._locators: dict[int, Locator] = {}
        self._units: pd.DataFrame | None = None
        self._units_index: dict[str, list[dict[str, Any]]] | None = None
        self._active: tuple[float, GenerationInfo | None] | None = None
        self._lock = threading.Lock()
        self._ids: dict[str, int] = {}

    # ---------------------------------------------------------------- generations

    def active_generation(self) -> GenerationInfo | None:
        now = time.monotonic()
        cached = self._active
        if cached is not None and now - cached[0] < self.active_ttl:
            return cached[1]
        gen = self.store.active_generation()
        info = None if gen is None else _info(gen)
        self._active = (now, info)
        return info

    def generations(self) -> list[GenerationInfo]:
        return [_info(g) for g in self.store.list_generations()]

    def resolve(
        self, generation: int | str | None = None, at: datetime | None = None
    ) -> GenerationInfo:
        """The generation a request asks about: by id/name, by moment, or the active one."""
        if generation is not None:
            key: int | str = generation
            # A digit string short enough to be a 64-bit id is tried as one; anything
            # longer is a name (and int() of thousands of digits would raise).
            if isinstance(generation, str) and generation.isdecimal() and len(generation) <= 19:
                key = int(generation)
                if not fits_integer(key):  # cannot be an id: look it up as a name
                    key = generation
            gen = self.store.get_generation(key)
            if gen is None:
                raise GenerationNotFound(f"no boundary generation {generation!r}")
            return _info(gen)
        if at is not None:
            return self._active_at(at)
        info = self.active_generation()
        if info is None:
            raise NoActiveGeneration(
                "no active boundary generation: import grids with `gridgov import grids FILE "
                "--activate` or run `gridgov demo`"
            )
        return info

    def _active_at(self, at: datetime) -> GenerationInfo:
        """The generation switched to last at or before `at`, by the activation log (a
        rollback re-activates an old generation without rewriting what was active when)."""
        if at.tzinfo is None:
            raise ValueError("`at` needs a timezone (e.g. 2026-07-01T08:00:00+08:00)")
        try:
            at = at.astimezone(UTC)
        except (OverflowError, ValueError):  # e.g. year 1 at +14:00: before any generation
            raise GenerationNotFound(
                f"no boundary generation was active at {at.isoformat()}"
            ) from None
        switches = [a for a in self.store.activation_log() if a.at <= at]
        if not switches:
            raise GenerationNotFound(f"no boundary generation was active at {at.isoformat()}")
        last = max(switches, key=lambda a: a.at)
        gen = self.store.get_generation(last.generation_id)
        if gen is None:
            raise GenerationNotFound(f"no boundary generation was active at {at.isoformat()}")
        return _info(gen)

    def prewarm(self, generation_id: int) -> None:
        """Build a generation's index before it becomes active, so the switch costs no
        lookup the build time."""
        self.locator(generation_id)

    def forget_active(self) -> None:
        """Re-read which generation is active on the next lookup (after a switch here)."""
        self._active = None

    def locator(
        self, generation: int | str | None = None, at: datetime | None = None
    ) -> tuple[Locator, GenerationInfo]:
        info = self.resolve(generation, at)
        loc = self._locators.get(info.id)
        if loc is None:
            with self._lock:
                loc = self._locators.get(info.id)
                if loc is None:
                    loc = build_locator(StoreSource(self.store, info.id))
                    loc.generation = info.name
                    self._locators[info.id] = loc
        return loc, info

    def invalidate(self) -> None:
        """Forget cached locators and units (after boundaries or units change)."""
        with self._lock:
            self._locators.clear()
            self._units = None
            self._units_index = None
            self._active = None

    # ---------------------------------------------------------------- lookups

    def locate(
        self,
        x: float,
        y: float,
        crs: str = "wgs84",
        *,
        generation: int | str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any] | None:
        """One point: administrative answer, grid unit and staff, responsible units; None
        outside coverage. Raises CoordinateError/CRSError for bad input."""
        return self.locate_pinned(x, y, crs, generation=generation, at=at)[0]

    def locate_pinned(
        self,
        x: float,
        y: float,
        crs: str = "wgs84",
        *,
        generation: int | str | None = None,
        at: datetime | None = None,
    ) -> tuple[dict[str, Any] | None, Locator]:
        """`locate` plus the locator that answered: the generation is resolved once, so a
        caller documenting the answer cannot mix it with a generation switched to since."""
        loc, info = self.locator(generation, at)
        answer = loc.locate_one(x, y, crs)
        if answer is None:
            return None, loc
        answer["generation"] = info.name
        answer["units"] = self.units_for(answer)
        self._ids[info.name] = info.id
        return answer, loc

    def generation_id(self, name: str) -> int:
        """The id of a generation an answer named (no query for one this service answered
        from), so what is stored with an answer is the generation that gave it."""
        known = self._ids.get(name)
        return known if known is not None else self.resolve(name).id

    def locate_many(
        self,
        x: ArrayLike,
        y: ArrayLike,
        crs: str = "wgs84",
        *,
        generation: int | str | None = None,
        at: datetime | None = None,
    ) -> tuple[pd.DataFrame, GenerationInfo]:
        loc, info = self.locator(generation, at)
        return loc.locate(np.asarray(x, dtype=float), np.asarray(y, dtype=float), crs), info

    def units(self) -> pd.DataFrame:
        if self._units is None:
            self._units = self.store.read_units()
        return self._units

    def _units_by_area(self) -> dict[str, list[dict[str, Any]]]:
        """Units grouped by the area they answer for: a dict read per lookup, not a scan."""
        if self._units_index is None:
            index: dict[str, list[dict[str, Any]]] = {}
            for r in self.units().itertuples():
                if isinstance(r.area_code, str):
                    index.setdefault(r.area_code, []).append(
                        {
                            "code": r.code,
                            "name": r.name,
                            "kind": r.kind,
                            "phone": None if pd.isna(r.phone) else r.phone,
                        }
                    )
            self._units_index = index
        return self._units_index

    def units_for(self, answer: dict[str, Any]) -> list[dict[str, Any]]:
        """Units whose area is the point's grid, community, street or district, nearest first."""
        index = self._units_by_area()
        out: list[dict[str, Any]] = []
        for level in ("grid", "community", "street", "district"):
            for unit in index.get(answer.get(f"{level}_code") or "", ()):
                out.append(unit | {"level": level})
        return out


def _info(gen: Generation) -> GenerationInfo:
    return GenerationInfo(gen.id, gen.name, gen.active, gen.activated_at)
