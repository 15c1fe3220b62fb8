"""Reading the audit trail, always within a practice scope.

Invariant: every read takes `practice_ids` (a list, or None meaning all practices, which only
`audit_practice_scope` returns, and only for superusers or when the configured resolver says
so); there is no unscoped variant. Events without a practice (logins, key events) are visible
only with the all-practices scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils.module_loading import import_string

from audit.actions import PHI_ACCESS_ACTIONS, AuditAction
from audit.models import AuditEvent

# Reads that name patients in detail["ids"] instead of resource_id.
LIST_ACTIONS = (
    AuditAction.PATIENT_LIST_VIEW,
    AuditAction.PATIENT_SEARCH,
    AuditAction.PATIENT_EXPORT,
)


def audit_practice_scope(user: Any) -> list[str] | None:
    """Practice ids whose events the user may see; None for all (superusers)."""
    if getattr(user, "is_superuser", False):
        return None
    path = getattr(settings, "AUDIT_PRACTICE_SCOPE_RESOLVER", "")
    if not path:
        return []
    try:
        resolver = import_string(path)
    except ImportError:
        return []  # fail closed: without a resolver, a non-superuser sees no practice
    scope = resolver(user)
    return None if scope is None else [str(p) for p in scope]


# Chain order, pending events (no link yet) last in the order they were recorded.
CHAIN_ORDER = (F("link__seq").asc(nulls_last=True), "id")


def audit_event_list(
    *,
    practice_ids: Iterable[Any] | None,
    since: datetime | None = None,
    until: datetime | None = None,
    patient_id: str | None = None,
    actor_id: str | None = None,
    action: int | None = None,
) -> QuerySet[AuditEvent]:
    """Events in the scope, filtered, in chain order (pending events last)."""
    events = _scoped(practice_ids)
    if since is not None:
        events = events.filter(ts__gte=since)
    if until is not None:
        events = events.filter(ts__lt=until)
    if patient_id:
        events = events.filter(resource_id=str(patient_id))
    if actor_id:
        events = events.filter(actor_id=str(actor_id))
    if action is not None:
        events = events.filter(action=int(action))
    return events.select_related("link").order_by(*CHAIN_ORDER)


def disclosure_event_list(
    *,
    practice_ids: Iterable[Any] | None,
    patient_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Every access to one patient's PHI (164.528): direct events and lists that showed them."""
    patient_id = str(patient_id)
    events = _scoped(practice_ids).filter(
        Q(resource_id=patient_id, action__in=[int(a) for a in PHI_ACCESS_ACTIONS])
        | Q(action__in=[int(a) for a in LIST_ACTIONS], detail__contains=f'"{patient_id}"')
        | Q(detail__contains=f'"patient_id":"{patient_id}"')
    )
    if since is not None:
        events = events.filter(ts__gte=since)
    if until is not None:
        events = events.filter(ts__lt=until)
    return events.select_related("link").order_by("ts", "id")


def _scoped(practice_ids: Iterable[Any] | None) -> QuerySet[AuditEvent]:
    if practice_ids is None:
        return AuditEvent.objects.all()
    return AuditEvent.objects.filter(practice_id__in=[str(p) for p in practice_ids])
