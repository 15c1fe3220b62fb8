"""Request- and call-scoped audit context: request id, client ip and the acting user.

Invariant: the context lives in a ContextVar, so it follows a request through sync and async
code (asgiref copies context into database_sync_to_async) and never leaks between requests;
`audit_context` always restores the outer value on exit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class AuditContext:
    """What every event recorded in this scope inherits unless told otherwise."""

    request_id: str | None = None
    ip: str | None = None
    # A Django user, an audit.actors.Actor, or None (no one known: model signals record "system").
    actor: Any = None


_current: ContextVar[AuditContext] = ContextVar("audit_context", default=AuditContext())  # noqa: B039 - frozen, never mutated


def current_audit_context() -> AuditContext:
    """The audit context in force here (empty outside any request or call)."""
    return _current.get()


@contextmanager
def audit_context(
    *, request_id: Any = _UNSET, ip: Any = _UNSET, actor: Any = _UNSET
) -> Iterator[AuditContext]:
    """Set request id, ip and/or actor for the events recorded inside the block."""
    outer = _current.get()
    changes = {
        name: value
        for name, value in (("request_id", request_id), ("ip", ip), ("actor", actor))
        if value is not _UNSET
    }
    token = _current.set(replace(outer, **changes))
    try:
        yield _current.get()
    finally:
        _current.reset(token)
