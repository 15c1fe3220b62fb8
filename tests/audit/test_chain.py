"""The canonical form and hash rule, and sealing pending events into one gap-free chain."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from django.db import connection

from audit.actions import AuditAction
from audit.chain import (
    GENESIS_HASH,
    PG_HASH_INPUT_SQL,
    PG_VERIFY_CANONICAL_SQL,
    canonical_bytes,
    canonical_detail,
    chain_head,
    chain_integrate,
    chain_integrate_round,
    event_canonical_bytes,
    event_hash,
    pending_count,
)
from audit.models import AuditEvent, ChainLink
from audit.services import audit_record

AWKWARD_STRINGS = [
    'quote " backslash \\ slash /',
    "control \x01\x1f tab\t newline\n cr\r bs\b ff\f del\x7f",
    "non-ascii é ß 漢字 🙂",
    "",
]


def _record(**overrides):
    fields = {
        "action": AuditAction.RECORD_VIEW,
        "actor": None,
        "resource_type": "tests.thing",
        "resource_id": "r1",
        "practice_id": "p1",
        "detail": {"fields": ["a"]},
    }
    fields.update(overrides)
    return audit_record(**fields)


def test_canonical_bytes_follow_the_documented_rule():
    ts = datetime(2026, 11, 23, 9, 30, 0, 5, tzinfo=UTC)
    body = canonical_bytes(
        seq=1,
        prev_hash=GENESIS_HASH,
        ts=ts,
        actor_type="system",
        actor_id=None,
        actor_label="system",
        action=101,
        resource_type="clinic.patient",
        resource_id="abc",
        practice_id=None,
        detail={"z": 1, "a": ["x"]},
        request_id=None,
        ip="10.0.0.1",
    )
    assert body == (
        b'{"action":101,"actor_id":null,"actor_label":"system","actor_type":"system",'
        b'"detail":{"a":["x"],"z":1},"ip":"10.0.0.1","practice_id":null,'
        b'"prev_hash":"' + GENESIS_HASH.encode() + b'","request_id":null,"resource_id":"abc",'
        b'"resource_type":"clinic.patient","seq":1,"ts":"2026-11-23T09:30:00.000005Z","v":1}'
    )


def test_detail_refuses_floats_and_non_json_values():
    with pytest.raises(TypeError, match="float"):
        canonical_detail({"seconds": 1.5})
    with pytest.raises(TypeError, match="must be"):
        canonical_detail({"when": datetime.now(tz=UTC)})
    with pytest.raises(TypeError, match="dict"):
        canonical_detail(["a"])


@pytest.mark.django_db
def test_integration_seals_pending_events_into_a_linked_chain():
    first = _record()
    second = _record(action=AuditAction.PATIENT_VIEW)
    assert pending_count() == 2

    assert chain_integrate() == 2

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert first.hash == event_hash(first)
    assert second.hash == event_hash(second)
    assert chain_head().seq == 2
    assert pending_count() == 0


@pytest.mark.django_db
def test_integration_in_small_batches_keeps_seq_gap_free():
    for _ in range(7):
        _record()
    assert chain_integrate(batch_size=3) == 7
    seqs = list(ChainLink.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 8))
    assert set(ChainLink.objects.values_list("event_id", flat=True)) == set(
        AuditEvent.objects.values_list("id", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_a_round_seals_full_batches_until_a_short_one(settings):
    # What the background thread and `audit_integrate --follow` run between their pauses.
    settings.AUDIT_INTEGRATE_ON_COMMIT = False
    for _ in range(7):
        _record()
    assert chain_integrate_round(batch_size=3) == 7  # batches of 3, 3, then a short 1
    assert pending_count() == 0
    assert list(ChainLink.objects.values_list("seq", flat=True)) == list(range(1, 8))
    assert chain_integrate_round(batch_size=3) == 0


@pytest.mark.django_db
def test_a_round_refuses_to_run_inside_a_transaction():
    # It commits each batch; inside a caller's transaction it could not.
    with pytest.raises(RuntimeError, match="outside atomic"):
        chain_integrate_round()


@pytest.mark.django_db
def test_hash_recomputes_from_stored_detail_with_awkward_strings():
    for text in AWKWARD_STRINGS:
        _record(detail={"reason": text}, resource_id=text or None)
    chain_integrate()
    for event in AuditEvent.objects.select_related("link"):
        assert event.hash == event_hash(event)


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_builds_the_same_canonical_bytes_as_python():
    # The fast verifier's trick: Postgres builds the hash input; it must match Python's bytes.
    for text in AWKWARD_STRINGS:
        _record(
            detail={"reason": text, "n": 3, "ok": True, "none": None, "nested": {"b": [1, "é"]}},
            resource_id=text or None,
            practice_id=None,
        )
    chain_integrate()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT l.seq, {PG_HASH_INPUT_SQL} FROM audit_chainlink l "
            "JOIN audit_auditevent e ON e.id = l.event_id ORDER BY l.seq"
        )
        from_sql = dict(cursor.fetchall())
    for event in AuditEvent.objects.select_related("link"):
        python_bytes = bytes.fromhex(event.prev_hash) + event_canonical_bytes(event)
        assert bytes(from_sql[event.seq]) == python_bytes
        assert hashlib.sha256(bytes(from_sql[event.seq])).hexdigest() == event.hash


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_verifiers_plain_and_escaped_forms_both_give_the_canonical_bytes():
    # Plain rows take concat(), rows with a quote, backslash or control character in any text
    # column take to_json(): both must give exactly canonical_bytes().
    plain = {"resource_id": "r-1", "practice_id": None}
    _record(**plain)
    awkward = [
        {column: text}
        for column in ("resource_id", "resource_type", "practice_id")
        for text in AWKWARD_STRINGS
        if text or column != "resource_type"  # a resource type is required
    ]
    for fields in awkward:
        _record(**fields)
    _record(detail={"reason": 'said "hi"\n'}, resource_id="plain")  # escapes only in detail
    chain_integrate()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT l.seq, {PG_VERIFY_CANONICAL_SQL} FROM audit_chainlink l "
            "JOIN audit_auditevent e ON e.id = l.event_id ORDER BY l.seq"
        )
        from_sql = dict(cursor.fetchall())
    events = list(AuditEvent.objects.select_related("link"))
    assert len(events) == 2 + len(awkward)
    for event in events:
        assert bytes(from_sql[event.seq]) == event_canonical_bytes(event)
