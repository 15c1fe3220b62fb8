"""Online re-encryption after rotation: every value moves to the current key, audited, resumable."""

import io
import uuid

import pytest
from django.core.management import call_command

from audit.actions import AuditAction
from audit.models import AuditEvent
from phi.crypto import envelope
from phi.crypto.keys import clear_key_caches, data_key_rotate
from phi.models import DataKey
from tests.phi.fieldapp.models import SecretRecord

pytestmark = pytest.mark.django_db


def key_versions(practice_id) -> set[int]:
    versions = set()
    for stored in SecretRecord.objects.filter(practice_id=practice_id).values_list(
        "name", flat=True
    ):
        key_id = envelope.parse(bytes(stored)).key_id
        versions.add(DataKey.objects.get(id=uuid.UUID(bytes=key_id)).version)
    return versions


def test_reencrypt_moves_every_value_to_the_current_key_and_keeps_it_readable():
    practice_id = uuid.uuid4()
    records = [
        SecretRecord.objects.create(practice_id=practice_id, name=f"Synthetic {i}")
        for i in range(7)
    ]
    data_key_rotate(scope_id=str(practice_id), actor=None)
    clear_key_caches()
    assert key_versions(practice_id) == {1}

    call_command("phi_reencrypt", batch_size=3, no_progress=True, stdout=io.StringIO())

    assert key_versions(practice_id) == {2}
    clear_key_caches()
    for i, record in enumerate(records):
        assert SecretRecord.objects.get(pk=record.pk).name == f"Synthetic {i}"
    events = AuditEvent.objects.filter(action=AuditAction.DATA_REENCRYPT)
    assert sum(len(e.detail["row_ids"]) for e in events) == 7
    assert "Synthetic" not in str([e.detail for e in events])


def test_a_second_run_finds_nothing_left_to_do():
    practice_id = uuid.uuid4()
    SecretRecord.objects.create(practice_id=practice_id, name="Synthetic")
    data_key_rotate(scope_id=str(practice_id), actor=None)
    call_command("phi_reencrypt", no_progress=True, stdout=io.StringIO())
    before = AuditEvent.objects.filter(action=AuditAction.DATA_REENCRYPT).count()
    call_command("phi_reencrypt", no_progress=True, stdout=io.StringIO())
    assert AuditEvent.objects.filter(action=AuditAction.DATA_REENCRYPT).count() == before


def test_rotate_command_rotates_a_named_scope(capsys):
    practice_id = uuid.uuid4()
    SecretRecord.objects.create(practice_id=practice_id, name="Synthetic")
    call_command("phi_rotate_keys", scope=str(practice_id))
    assert "version 2" in capsys.readouterr().out
