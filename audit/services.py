"""Writing to the audit trail: `audit_record` is the one way any app records an event.

Invariant: the event row and its pending-queue row are inserted in the caller's transaction
(so they commit or roll back with the change they describe) and without taking any chain
lock; the event is sealed into the chain after commit by `audit.chain.chain_integrate`,
scheduled here with transaction.on_commit (or left to a dedicated integrator).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from audit.actions import AuditAction
from audit.actors import actor_resolve
from audit.chain import (
    PENDING_TABLE,
    TABLE,
    canonical_detail,
    chain_integrate_result,
    chain_integrate_round,
)
from audit.context import current_audit_context
from audit.db import prepared_cursor
from audit.models import AuditEvent

logger = logging.getLogger(__name__)

MAX_DETAIL_CHARS = 8000
_FIELD_ORDER = tuple(f.attname for f in AuditEvent._meta.concrete_fields)


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
    # Positional, in the model's field order: about half the cost of keyword arguments in
    # Django's Model.__init__, on a path every audited read and write takes.
    values = {
        "id": None,
        "ts": ts or timezone.now(),
        "actor_type": who.type,
        "actor_id": who.id,
        "actor_label": who.label[:150],
        "action": int(action),
        "resource_type": resource_type,
        "resource_id": None if resource_id is None else str(resource_id),
        "practice_id": None if practice_id is None else str(practice_id),
        "detail": detail,
        "request_id": ctx.request_id,
        "ip": ctx.ip,
    }
    event = AuditEvent(*[values[name] for name in _FIELD_ORDER])
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
    # The event and its pending-queue row, without the ORM's save machinery: this runs on
    # every audited read and write. Inside a transaction it joins it (no savepoint: if the
    # INSERT fails the caller's transaction is broken anyway). On Postgres both rows go in one
    # statement, so in autocommit mode it is its own transaction in one round trip; SQLite
    # (no INSERT in WITH) takes two statements in one transaction, which is in-process.
    connection = connections[using]
    field = AuditEvent._meta.get_field("ts")
    values = [
        field.get_db_prep_value(event.ts, connection),
        *(getattr(event, c) for c in _INSERT_COLUMNS[1:8]),
        detail_text,
        event.request_id,
        event.ip,
    ]
    insert = (
        f"INSERT INTO {TABLE} ({', '.join(_INSERT_COLUMNS)}) "  # noqa: S608 - constant names
        f"VALUES ({', '.join(['%s'] * len(_INSERT_COLUMNS))}) RETURNING id"
    )
    if connection.vendor == "postgresql":
        prepared = getattr(settings, "AUDIT_PREPARED_INSERT", True)
        with prepared_cursor(connection) if prepared else connection.cursor() as cursor:
            cursor.execute(
                f"WITH e AS ({insert}) INSERT INTO {PENDING_TABLE} (event_id) "  # noqa: S608 - constant names
                "SELECT id FROM e RETURNING event_id",
                values,
            )
            event.id = cursor.fetchone()[0]
    else:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(insert, values)
            event.id = cursor.fetchone()[0]
            cursor.execute(f"INSERT INTO {PENDING_TABLE} (event_id) VALUES (%s)", [event.id])  # noqa: S608 - constant table name
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
                if self.stopping is me:
                    return
                # Let commits gather: one seal of many events costs far less per event than
                # a seal after every commit (the batch's round trip, lock, head read, commit).
                time.sleep(settings.AUDIT_INTEGRATE_BATCH_WAIT)
                self.wake.clear()  # a commit from here on wakes us for another round
                try:
                    _integrate_round_and_checkpoint()
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


def _integrate_round_and_checkpoint() -> None:
    from audit.checkpoints import checkpoint_maybe_write

    if chain_integrate_round():
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
