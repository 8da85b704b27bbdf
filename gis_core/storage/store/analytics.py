"""Vital-sign thresholds with their alert state, and class problems (专项) with their
events: small tables read and written whole rows at a time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from gis_core.storage.models import (
    ClassProblem,
    ClassProblemEvent,
    VitalAlertState,
    VitalThreshold,
)
from gis_core.storage.store.core import StoreCore
from gis_core.storage.types import utcnow

THRESHOLD_FIELDS = ("indicator", "area_code", "category_code", "op", "value", "window_days",
                    "label", "alert_category", "created_by")
STATE_FIELDS = ("crossed", "since", "last_value", "checked_at", "event_id", "alerts")


def _threshold(t: VitalThreshold, s: VitalAlertState | None) -> dict[str, Any]:
    out = {"id": t.id, **{f: getattr(t, f) for f in THRESHOLD_FIELDS}, "updated_at": t.updated_at}
    state = {f: getattr(s, f) if s is not None else None for f in STATE_FIELDS}
    state["crossed"] = bool(state["crossed"])
    state["alerts"] = int(state["alerts"] or 0)
    out["state"] = state
    return out


class AnalyticsStore(StoreCore):
    """Thresholds, alert states and class problems."""

    def list_thresholds(self) -> list[dict[str, Any]]:
        with self.session(write=False) as s:
            rows = s.execute(
                select(VitalThreshold, VitalAlertState)
                .outerjoin(VitalAlertState, VitalAlertState.threshold_id == VitalThreshold.id)
                .order_by(VitalThreshold.id)
            ).all()
            return [_threshold(t, st) for t, st in rows]

    def upsert_threshold(self, **values: Any) -> dict[str, Any]:
        """Create the threshold, or update the one with the same indicator, area,
        class and direction (its alert state is kept)."""
        key = {k: values.get(k) for k in ("indicator", "area_code", "category_code", "op")}
        with self.session() as s:
            stmt = select(VitalThreshold)
            for name, value in key.items():
                col = getattr(VitalThreshold, name)
                stmt = stmt.where(col.is_(None) if value is None else col == value)
            row = s.scalars(stmt).first()
            if row is None:
                row = VitalThreshold(**{f: values.get(f) for f in THRESHOLD_FIELDS})
                s.add(row)
            else:
                for f in THRESHOLD_FIELDS:
                    setattr(row, f, values.get(f))
                row.updated_at = utcnow()
            s.flush()
            state = s.get(VitalAlertState, row.id)
            return _threshold(row, state)

    def delete_threshold(self, threshold_id: int) -> bool:
        with self.session() as s:
            s.execute(delete(VitalAlertState).where(VitalAlertState.threshold_id == threshold_id))
            done = s.execute(delete(VitalThreshold).where(VitalThreshold.id == threshold_id))
            return bool(done.rowcount)

    def save_alert_state(self, threshold_id: int, **state: Any) -> None:
        with self.session() as s:
            row = s.get(VitalAlertState, threshold_id)
            if row is None:
                row = VitalAlertState(threshold_id=threshold_id)
                s.add(row)
            for f in STATE_FIELDS:
                if f in state:
                    setattr(row, f, state[f])

    def create_class_problem(
        self, *, title: str, event_ids: list[int], category_code: str | None = None,
        grid_code: str | None = None, lon: float | None = None, lat: float | None = None,
        note: str | None = None, created_by: str | None = None,
    ) -> dict[str, Any]:
        with self.session() as s:
            row = ClassProblem(title=title, category_code=category_code, grid_code=grid_code,
                               lon=lon, lat=lat, note=note, created_by=created_by)
            s.add(row)
            s.flush()
            s.add_all([ClassProblemEvent(problem_id=row.id, event_id=e)
                       for e in sorted(set(event_ids))])
            s.flush()
            return self._problem(row, sorted(set(event_ids)))

    @staticmethod
    def _problem(row: ClassProblem, event_ids: list[int]) -> dict[str, Any]:
        return {"id": row.id, "title": row.title, "category_code": row.category_code,
                "grid_code": row.grid_code, "lon": row.lon, "lat": row.lat,
                "status": row.status, "note": row.note, "created_by": row.created_by,
                "created_at": row.created_at, "event_ids": event_ids}

    def list_class_problems(self, area_prefix: str | None = None) -> list[dict[str, Any]]:
        """Class problems, newest first; ``area_prefix`` keeps those in its grids."""
        with self.session(write=False) as s:
            stmt = select(ClassProblem).order_by(ClassProblem.id.desc())
            if area_prefix:
                stmt = stmt.where(ClassProblem.grid_code.startswith(area_prefix, autoescape=True))
            problems = s.scalars(stmt).all()
            links = s.execute(select(ClassProblemEvent.problem_id, ClassProblemEvent.event_id)
                              .order_by(ClassProblemEvent.event_id)).all()
            by_problem: dict[int, list[int]] = {}
            for pid, eid in links:
                by_problem.setdefault(pid, []).append(eid)
            return [self._problem(p, by_problem.get(p.id, [])) for p in problems]


__all__ = ["AnalyticsStore"]


