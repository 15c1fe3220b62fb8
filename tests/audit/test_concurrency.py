"""The chain never forks under concurrent writers (Postgres, real threads and connections)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

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
            "SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM audit_auditevent"
        )
        total, distinct, low, high = cursor.fetchone()
    assert total == distinct == high == result.events
    assert low == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_event_committed_while_the_holder_seals_is_sealed_by_the_holder(settings, monkeypatch):
    # The race: a writer commits after the lock holder has read the pending rows but before
    # it releases the lock; the writer's try-lock fails, so only the holder can seal it.
    from audit import chain

    settings.AUDIT_INTEGRATE_ON_COMMIT = False
    (first,) = record_events(1)
    settings.AUDIT_INTEGRATE_ON_COMMIT = True
    original_seal = chain._seal
    late: list = []

    def seal_while_a_writer_commits(rows, head):
        if not late:
            thread = threading.Thread(target=_commit_one_event, args=(late,))
            thread.start()
            thread.join()
            assert pending_count() == 2, "the writer's try-lock should have failed"
        return original_seal(rows, head)

    monkeypatch.setattr(chain, "_seal", seal_while_a_writer_commits)

    assert chain_integrate(wait=False) == 2

    assert pending_count() == 0
    assert [e.seq for e in late] == [None]  # it was still pending when its writer returned
    assert set(AuditEvent.objects.values_list("id", "seq")) == {(first.id, 1), (late[0].id, 2)}
    assert chain_verify(check_checkpoints=False).ok


def _commit_one_event(out: list) -> None:
    try:
        out.extend(record_events(1))  # autocommit: commits, then its integration try-locks
    finally:
        connection.close()
