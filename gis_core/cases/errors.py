"""Why the case workflow refuses an action: three kinds, so callers can answer 422/409/403."""

from __future__ import annotations

from collections.abc import Callable

from gis_core.cases.vocab import Action, Role, Status


class TransitionError(ValueError):
    """An action refused: bad parameters or data (base class of the more specific two)."""

    def __init__(
        self, message: str, *, status: Status | None, action: Action | None, role: Role | None
    ) -> None:
        super().__init__(message)
        self.status, self.action, self.role = status, action, role


class StatusError(TransitionError):
    """The action does not exist from the case's status (a conflict, HTTP 409)."""


class RoleError(TransitionError):
    """The actor's role (or unit) may not take this action (forbidden, HTTP 403)."""


Fail = Callable[[str], TransitionError]
"""Builds the error to raise from a message, with the context of the action at hand."""
