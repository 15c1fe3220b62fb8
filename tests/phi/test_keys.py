"""Data keys: created on first use, cached, rotated, re-wrapped; every key event audited."""

import datetime
import uuid

import pytest
from django.db import transaction

from audit.actions import AuditAction
from audit.models import AuditEvent
from phi.crypto import keys
from phi.crypto.providers import LocalFileKeyProvider, get_provider
from phi.errors import DecryptionError
from phi.models import DataKey, DataKeyPurpose, KeyScopePolicy
from tests.phi.fieldapp.models import SecretRecord

pytestmark = pytest.mark.django_db


def test_first_write_creates_a_wrapped_data_key_and_audits_it():
    practice_id = uuid.uuid4()
    SecretRecord.objects.create(practice_id=practice_id, name="Synthetic")
    data_key = DataKey.objects.get(scope_id=str(practice_id), purpose=DataKeyPurpose.ENCRYPTION)
    assert data_key.version == 1
    assert len(bytes(data_key.wrapped_key)) > 32  # wrapped, not raw material
    event = AuditEvent.objects.get(action=AuditAction.DATA_KEY_CREATE, resource_id=str(data_key.id))
    assert event.practice_id == str(practice_id)
    assert "wrapped" not in str(event.detail)


def test_cached_key_serves_reads_without_a_query(django_assert_num_queries):
    record = SecretRecord.objects.create(practice_id=uuid.uuid4(), name="Synthetic")
    loaded = SecretRecord.objects.get(pk=record.pk)
    with django_assert_num_queries(0):
        assert loaded.name == "Synthetic"


@pytest.mark.django_db(transaction=True)
def test_committed_current_key_serves_writes_without_a_query(django_assert_num_queries):
    practice_id = uuid.uuid4()
    SecretRecord.objects.create(practice_id=practice_id, name="Warm the cache")
    record = SecretRecord(practice_id=practice_id, name="Synthetic")
    with django_assert_num_queries(0):
        SecretRecord._meta.get_field("name").seal(record, "Synthetic")


@pytest.mark.django_db(transaction=True)
def test_a_key_created_in_a_rolled_back_transaction_is_never_used_again():
    practice_id = uuid.uuid4()

    def write_then_fail() -> None:
        with transaction.atomic():
            SecretRecord.objects.create(practice_id=practice_id, name="Rolled back")
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert not DataKey.objects.filter(scope_id=str(practice_id)).exists()
    record = SecretRecord.objects.create(practice_id=practice_id, name="Kept")
    keys.clear_key_caches()
    assert SecretRecord.objects.get(pk=record.pk).name == "Kept"


def test_rotation_writes_with_the_new_version_and_old_values_still_decrypt():
    practice_id = uuid.uuid4()
    old = SecretRecord.objects.create(practice_id=practice_id, name="Before rotation")
    new_key = keys.data_key_rotate(scope_id=str(practice_id), actor=None)
    keys.clear_key_caches()
    new = SecretRecord.objects.create(practice_id=practice_id, name="After rotation")
    assert new_key.version == 2
    assert SecretRecord.objects.get(pk=old.pk).name == "Before rotation"
    assert SecretRecord.objects.get(pk=new.pk).name == "After rotation"
    old_key = DataKey.objects.get(scope_id=str(practice_id), purpose="enc", version=1)
    assert old_key.retired_at is not None
    assert AuditEvent.objects.filter(
        action=AuditAction.DATA_KEY_ROTATE, resource_id=str(new_key.id)
    ).exists()


def test_resaving_a_row_moves_it_to_the_current_key():
    practice_id = uuid.uuid4()
    record = SecretRecord.objects.create(practice_id=practice_id, name="Re-encrypt me")
    keys.data_key_rotate(scope_id=str(practice_id), actor=None)
    keys.clear_key_caches()
    loaded = SecretRecord.objects.get(pk=record.pk)
    loaded.save()
    from phi.crypto import envelope

    stored = SecretRecord.objects.filter(pk=record.pk).values_list("name", flat=True).get()
    key_id = envelope.parse(bytes(stored)).key_id
    assert DataKey.objects.get(id=uuid.UUID(bytes=key_id)).version == 2


def test_keys_older_than_the_rotation_period_are_due():
    practice_id = uuid.uuid4()
    SecretRecord.objects.create(practice_id=practice_id, name="Synthetic")
    DataKey.objects.filter(scope_id=str(practice_id)).update(
        created_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    due = keys.data_keys_due_for_rotation()
    assert list(due.values_list("scope_id", flat=True)) == [str(practice_id)]


def test_rewrap_under_another_kek_leaves_data_readable_and_audits_each_key():
    practice_id = uuid.uuid4()
    record = SecretRecord.objects.create(practice_id=practice_id, name="Synthetic")
    count = keys.data_keys_rewrap(
        scope_id=str(practice_id), provider="local", kek_id="practice-own-kek", actor=None
    )
    keys.clear_key_caches()
    assert count == 1  # the one encryption key this scope has
    assert set(
        DataKey.objects.filter(scope_id=str(practice_id)).values_list("kek_id", flat=True)
    ) == {"practice-own-kek"}
    assert KeyScopePolicy.objects.get(scope_id=str(practice_id)).kek_id == "practice-own-kek"
    assert SecretRecord.objects.get(pk=record.pk).name == "Synthetic"
    assert AuditEvent.objects.filter(action=AuditAction.DATA_KEY_REWRAP).count() == count


def test_a_wrong_master_key_fails_with_a_clear_decryption_error(tmp_path, settings):
    record = SecretRecord.objects.create(practice_id=uuid.uuid4(), name="Synthetic")
    keys.clear_key_caches()
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(b"\x01" * 32)
    get_provider.cache_clear()
    settings.PHI_MASTER_KEY_FILE = wrong
    try:
        with pytest.raises(DecryptionError, match=r"SecretRecord\.name"):
            _ = SecretRecord.objects.get(pk=record.pk).name
    finally:
        get_provider.cache_clear()
        keys.clear_key_caches()


def test_local_master_key_is_created_with_owner_only_permissions(tmp_path):
    path = tmp_path / "keys" / "master.key"
    provider = LocalFileKeyProvider(master_key_file=path, autocreate=True)
    wrapped = provider.wrap(kek_id="k", plaintext_key=b"x" * 32, context={"a": "b"})
    assert path.stat().st_mode & 0o777 == 0o600
    assert provider.unwrap(kek_id="k", wrapped_key=wrapped, context={"a": "b"}) == b"x" * 32
