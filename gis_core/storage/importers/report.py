"""What an import tells its caller: the report (accepted, rejected rows and why, what
was loaded), the progress sink, and the file-level failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Rejection:
    row: int
    reason: str
    key: str | None = None


@dataclass
class ImportReport:
    """What happened to a file: accepted/rejected rows, what was written, warnings."""

    kind: str
    path: str
    total: int = 0
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    loaded: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    generation_id: int | None = None
    generation_name: str | None = None
    activated: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Something was loaded and nothing failed at file level."""
        return self.error is None and self.accepted > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "total": self.total,
            "accepted": self.accepted,
            "rejected": [r.__dict__ for r in self.rejected],
            "loaded": self.loaded,
            "warnings": self.warnings,
            "generation_id": self.generation_id,
            "generation_name": self.generation_name,
            "activated": self.activated,
            "error": self.error,
        }


class ImportProgress(Protocol):
    """Progress sink (the CLI drives a rich progress bar with it)."""

    def start(self, phase: str, total: int | None) -> None: ...

    def advance(self, n: int) -> None: ...


class NoProgress:
    def start(self, phase: str, total: int | None) -> None:
        pass

    def advance(self, n: int) -> None:
        pass


class ImportFailure(Exception):
    """A file-level problem; its message goes to ``ImportReport.error``."""
