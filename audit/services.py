"""Writing to the audit trail: `audit_record` is the one way any app records an event.

Invariant: the event row is inserted in the caller's transaction (so it commits or rolls back
with the change it describes) and without taking any chain lock; it is sealed into the chain
after commit by `audit.chain.chain_integrate`, scheduled here with transaction.on_commit.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from audit.actions import AuditAction
from audit.actors import actor_resolve
from audit.chain import canonical_detail, chain_integrate_result
from audit.context import current_audit_context
from audit.models import AuditEvent

logger = logging.getLogger(__name__)

MAX_DETAIL_CHARS = 8000


def audit_record(
    *,
    action: AuditAction | int,
    actor: Any,
    resource_type: str,
    resource_id: Any | None,
    practice_id: Any | None,
    detail: dict | None = None,
    ts: datetime | None = None,
) -> AuditEvent:
    """Record one event in the current transaction (detail: ids, field names, counts; no PHI)."""
    action = AuditAction(action)  # an unknown code is a programming error: ValueError
    if not resource_type:
        raise ValueError("audit resource_type is required (e.g. 'clinic.patient')")
    who = actor_resolve(actor)
    ctx = current_audit_context()
    detail = dict(detail or {})
    text = canonical_detail(detail)  # validates types before anything is written
    if len(text) > MAX_DETAIL_CHARS:
        raise ValueError(
            f"audit detail is {len(text)} characters; keep it under {MAX_DETAIL_CHARS} "
            "(ids, field names and counts, not documents)"
        )
    event = AuditEvent(
        ts=ts or timezone.now(),
        actor_type=who.type,
        actor_id=who.id,
        actor_label=who.label[:150],
        action=int(action),
        resource_type=resource_type,
        resource_id=None if resource_id is None else str(resource_id),
        practice_id=None if practice_id is None else str(practice_id),
        detail=detail,
        request_id=ctx.request_id,
        ip=ctx.ip,
    )
    _insert(event, text)
    _schedule_integration()
    return event


_INSERT_COLUMNS = (
    "ts",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "resource_type",
    "resource_id",
    "practice_id",
    "detail",
    "request_id",
    "ip",
)


def _insert(event: AuditEvent, detail_text: str, using: str = DEFAULT_DB_ALIAS) -> None:
    # One INSERT ... RETURNING id, without the ORM's save machinery: this runs on every
    # audited read and write. Inside a transaction it joins it (no savepoint: if the INSERT
    # fails the caller's transaction is broken anyway); in autocommit mode the single
    # statement is its own transaction, so BEGIN/COMMIT round trips are not needed.
    connection = connections[using]
    field = AuditEvent._meta.get_field("ts")
    values = [
        field.get_db_prep_value(event.ts, connection),
        *(getattr(event, c) for c in _INSERT_COLUMNS[1:8]),
        detail_text,
        event.request_id,
        event.ip,
    ]
    placeholders = ", ".join(["%s"] * len(_INSERT_COLUMNS))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(_INSERT_COLUMNS)}) "  # noqa: S608 - constant names
            f"VALUES ({placeholders}) RETURNING id",
            values,
        )
        event.id = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = using


def _schedule_integration(using: str = DEFAULT_DB_ALIAS) -> None:
    if not getattr(settings, "AUDIT_INTEGRATE_ON_COMMIT", True):
        return  # a dedicated integrator (`manage.py audit_integrate --follow`) does it
    connection = connections[using]
    # One callback per transaction is enough: it seals everything pending at that moment.
    if any(func is _integrate_after_commit for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_integrate_after_commit, using=using)


def _integrate_after_commit() -> None:
    if getattr(settings, "AUDIT_INTEGRATE_IN_BACKGROUND", False):
        _background.notify()  # the writer returns at once; a per-process thread seals
    else:
        _integrate_and_checkpoint()


class _BackgroundIntegrator:
    """One integrating thread per process, woken after each commit that recorded events.

    notify() runs after the writer's commit and sets the wake flag; the thread clears the
    flag before it integrates, so a commit that lands while it integrates sets the flag
    again and it integrates once more: no committed event is left for a later commit.
    """

    def __init__(self) -> None:
        self.wake = threading.Event()
        self.mutex = threading.Lock()
        self.thread: threading.Thread | None = None
        self.stopping: threading.Thread | None = None
        self.pid = 0

    def notify(self) -> None:
        with self.mutex:
            # Started lazily, and again in a forked child (threads do not survive fork).
            if self.thread is None or self.pid != os.getpid() or not self.thread.is_alive():
                self.pid = os.getpid()
                self.thread = threading.Thread(
                    target=self._run, name="audit-integrator", daemon=True
                )
                self.thread.start()
        self.wake.set()

    def stop(self) -> None:
        """Let the thread finish and close its connection (tests; process shutdown)."""
        with self.mutex:
            thread, self.thread = self.thread, None
        if thread is not None and thread.is_alive():
            self.stopping = thread
            self.wake.set()
            thread.join(timeout=10)

    def _run(self) -> None:
        me = threading.current_thread()
        try:
            while True:
                self.wake.wait()
                self.wake.clear()
                if self.stopping is me:
                    return
                try:
                    _integrate_and_checkpoint()
                except Exception:  # never let the thread die; the next wake retries
                    logger.exception("audit background integration failed")
                    connections[DEFAULT_DB_ALIAS].close()  # reconnect next time
        finally:
            connections[DEFAULT_DB_ALIAS].close()


_background = _BackgroundIntegrator()


def _integrate_and_checkpoint() -> None:
    from audit.checkpoints import checkpoint_maybe_write

    try:
        # Don't queue behind another integrator: it re-checks after releasing the lock.
        sealed, head = chain_integrate_result(wait=False)
    except Exception:
        # The event is committed and stays pending; the next integration seals it.
        logger.exception("audit chain integration failed; events stay pending")
        return
    # Only when this integration crossed a multiple of AUDIT_CHECKPOINT_EVERY: the full check
    # costs two queries, which every writer would otherwise pay after every event.
    every = settings.AUDIT_CHECKPOINT_EVERY
    if sealed and every > 0 and head // every > (head - sealed) // every:
        checkpoint_maybe_write()


@transaction.atomic
def audit_export_record(
    *,
    actor: Any,
    kind: str,
    fmt: str,
    filters: dict[str, str],
    practice_id: Any | None = None,
    patient_id: str | None = None,
) -> AuditEvent:
    """Record that an export or disclosure report was produced (its filters, not its rows)."""
    action = AuditAction.DISCLOSURE_REPORT if kind == "disclosures" else AuditAction.AUDIT_EXPORT
    return audit_record(
        action=action,
        actor=actor,
        resource_type="clinic.patient" if patient_id else "audit.auditevent",
        resource_id=patient_id,
        practice_id=practice_id,
        detail={"format": fmt, "filters": {k: str(v) for k, v in sorted(filters.items())}},
    )
