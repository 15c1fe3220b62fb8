"""The chain never forks under concurrent writers (Postgres, real threads and connections)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from audit.actions import AuditAction
from audit.chain import chain_integrate, pending_count
from audit.models import AuditEvent
from audit.services import audit_record
from audit.verify import chain_verify
from tests.audit.conftest import record_events

WRITERS = 8
EVENTS_PER_WRITER = 500


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_writers_times_500_events_make_one_gap_free_chain(worm_dir):
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(EVENTS_PER_WRITER):
                audit_record(
                    action=AuditAction.PATIENT_VIEW,
                    actor=None,
                    resource_type="clinic.patient",
                    resource_id=f"writer-{n}",
                    practice_id="practice-1",
                    detail={"i": i},
                )
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    chain_integrate()  # the tail a skipped try-lock may have left

    result = chain_verify(check_checkpoints=False)
    assert result.ok, result.failure
    assert result.pending == 0
    # Every event is sealed exactly once (checkpoint events come on top of the writers' ones).
    assert result.events >= WRITERS * EVENTS_PER_WRITER
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT l.seq), count(DISTINCT l.event_id), min(l.seq), "
            "max(l.seq) FROM audit_auditevent e JOIN audit_chainlink l ON l.event_id = e.id"
        )
        total, distinct, distinct_events, low, high = cursor.fetchone()
    assert total == distinct == distinct_events == high == result.events
    assert low == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_event_committed_while_the_holder_holds_the_lock_is_sealed_by_the_holder(
    settings, monkeypatch
):
    # The race: a writer commits after the lock holder has read the pending rows but before
    # it releases the lock; the writer's try-lock fails, so only the holder's re-check can
    # seal it. Integrating inside a transaction keeps the lock held after the first call.
    from audit import chain

    settings.AUDIT_INTEGRATE_ON_COMMIT = False
    (first,) = record_events(1)
    settings.AUDIT_INTEGRATE_ON_COMMIT = True
    late: list = []

    def a_writer_commits_meanwhile(ids):
        if not late:
            thread = threading.Thread(target=_commit_one_event, args=(late,))
            thread.start()
            thread.join()
            assert pending_count() == 1, "the writer's try-lock should have failed"

    monkeypatch.setattr(chain, "SEAL_LISTENERS", [a_writer_commits_meanwhile])

    with transaction.atomic():
        assert chain_integrate(wait=False) == 2

    assert pending_count() == 0
    assert set(AuditEvent.objects.values_list("id", "link__seq")) == {
        (first.id, 1),
        (late[0].id, 2),
    }
    assert chain_verify(check_checkpoints=False).ok


def _commit_one_event(out: list) -> None:
    try:
        out.extend(record_events(1))  # autocommit: commits, then its integration try-locks
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_after_commit_holder_rechecks_after_releasing_the_lock(settings):
    # The same race through the one-CALL procedure (autocommit): the holder is made to hold
    # the lock after reading the pending rows by a row lock on the first event's queue row,
    # which blocks the DELETE that ends its seal.
    import psycopg

    settings.AUDIT_INTEGRATE_ON_COMMIT = False
    (first,) = record_events(1)
    settings.AUDIT_INTEGRATE_ON_COMMIT = True
    blocker = psycopg.connect(**connection.get_connection_params())
    blocker.execute("SELECT 1 FROM audit_pendingevent WHERE event_id = %s FOR UPDATE", [first.id])
    holder_sealed: list = []
    holder = threading.Thread(target=_integrate_in_thread, args=(holder_sealed,))
    holder.start()
    try:
        _wait_for_the_holder_to_block()
        (late,) = record_events(1)  # commits; its try-lock fails: the holder has the lock
        assert pending_count() == 2
    finally:
        blocker.commit()  # the holder's DELETE proceeds; it commits and releases
        blocker.close()
        holder.join()

    assert holder_sealed == [2]
    assert pending_count() == 0
    assert set(AuditEvent.objects.values_list("id", "link__seq")) == {(first.id, 1), (late.id, 2)}


def _integrate_in_thread(out: list) -> None:
    try:
        out.append(chain_integrate(wait=False))
    finally:
        connection.close()


def _wait_for_the_holder_to_block() -> None:
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        # Autocommit: each query sees fresh activity (it is sampled once per transaction).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'CALL audit_chain_integrate_all%%'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.01)
    raise AssertionError("the integrator never blocked on the row lock")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_background_integration_seals_every_writers_events(settings):
    import time

    from audit.services import _background

    settings.AUDIT_INTEGRATE_IN_BACKGROUND = True
    threads = [threading.Thread(target=_record_in_thread, args=(50,)) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deadline = time.monotonic() + 20
        while pending_count() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        _background.stop()
    assert pending_count() == 0
    result = chain_verify(check_checkpoints=False)
    assert result.ok, result.failure
    assert result.events == 200


def _record_in_thread(n: int) -> None:
    try:
        record_events(n)
    finally:
        connection.close()
