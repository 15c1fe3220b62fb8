"""Encrypted model fields: round trips, no plaintext in the database, moved ciphertexts refused."""

import datetime
import uuid

import pytest
from django.db import connection

from phi.errors import DecryptionError
from tests.phi.fieldapp.models import OtherSecretRecord, SecretRecord

pytestmark = pytest.mark.django_db

SYNTHETIC = {
    "name": "Testperson Zeta",
    "notes": "Synthetic note: allergic to fictionalium",
    "birth_date": datetime.date(1980, 3, 3),
    "email": "zeta.testperson@example.test",
    "extra": {"insurance": "SYN-000123", "tags": ["demo"]},
}


def make_record(practice_id: uuid.UUID | None = None, **overrides) -> SecretRecord:
    record = SecretRecord(practice_id=practice_id or uuid.uuid4(), **{**SYNTHETIC, **overrides})
    record.save()
    return record


def raw_row(model, pk) -> dict:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {table} WHERE id = %s",
            [pk.hex if connection.vendor == "sqlite" else pk],
        )
        columns = [col[0] for col in cursor.description]
        return dict(zip(columns, cursor.fetchone(), strict=True))


def test_every_field_type_round_trips():
    record = make_record()
    loaded = SecretRecord.objects.get(pk=record.pk)
    for field, value in SYNTHETIC.items():
        assert getattr(loaded, field) == value


def test_database_never_sees_plaintext():
    record = make_record()
    row = raw_row(SecretRecord, record.pk)
    stored = b" ".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row.values()
    )
    for needle in [
        "Testperson",
        "fictionalium",
        "1980-03-03",
        "1980",
        "zeta.testperson",
        "SYN-000123",
    ]:
        assert needle.encode() not in stored
    assert row["name"]
    assert row["name"] != SYNTHETIC["name"]


def test_decryption_is_lazy_until_attribute_access():
    record = make_record()
    loaded = SecretRecord.objects.get(pk=record.pk)
    assert type(loaded.__dict__["name"]) is bytes
    assert loaded.name == SYNTHETIC["name"]
    assert loaded.__dict__["name"] == SYNTHETIC["name"]


def test_same_value_encrypts_differently_each_time():
    practice_id = uuid.uuid4()
    first, second = make_record(practice_id), make_record(practice_id)
    assert raw_row(SecretRecord, first.pk)["name"] != raw_row(SecretRecord, second.pk)["name"]


def test_null_stays_null():
    record = make_record(name=None, birth_date=None, extra=None)
    loaded = SecretRecord.objects.get(pk=record.pk)
    assert loaded.name is None
    assert loaded.birth_date is None
    assert loaded.extra is None
    assert raw_row(SecretRecord, record.pk)["name"] is None


def _copy_column(model, *, from_pk, from_column, to_pk, to_column) -> None:
    value = raw_row(model, from_pk)[from_column]
    model.objects.filter(pk=to_pk).update(**{to_column: bytes(value)})


def test_decrypt_rejects_ciphertext_moved_to_another_row_of_the_same_practice():
    practice_id = uuid.uuid4()
    source, target = (
        make_record(practice_id),
        make_record(practice_id, birth_date=datetime.date(1990, 1, 1)),
    )
    _copy_column(
        SecretRecord,
        from_pk=source.pk,
        from_column="birth_date",
        to_pk=target.pk,
        to_column="birth_date",
    )
    loaded = SecretRecord.objects.get(pk=target.pk)
    with pytest.raises(
        DecryptionError, match=rf"fieldapp.SecretRecord.birth_date of row {target.pk}"
    ):
        _ = loaded.birth_date


def test_decrypt_rejects_ciphertext_moved_to_another_column():
    record = make_record()
    _copy_column(
        SecretRecord, from_pk=record.pk, from_column="name", to_pk=record.pk, to_column="notes"
    )
    with pytest.raises(DecryptionError, match="notes"):
        _ = SecretRecord.objects.get(pk=record.pk).notes


def test_decrypt_rejects_ciphertext_moved_to_another_practice():
    source = make_record(uuid.uuid4())
    target = make_record(uuid.uuid4())
    # Same row id and column in another practice: simulate by re-pointing the row's practice.
    SecretRecord.objects.filter(pk=source.pk).update(practice_id=target.practice_id)
    with pytest.raises(DecryptionError):
        _ = SecretRecord.objects.get(pk=source.pk).name


def test_decrypt_rejects_ciphertext_moved_to_another_table():
    record = make_record()
    other = OtherSecretRecord.objects.create(practice_id=record.practice_id, name="Placeholder")
    value = raw_row(SecretRecord, record.pk)["name"]
    OtherSecretRecord.objects.filter(pk=other.pk).update(name=bytes(value))
    with pytest.raises(DecryptionError):
        _ = OtherSecretRecord.objects.get(pk=other.pk).name


@pytest.mark.parametrize("position", [0, 5, 20, 30, -2])
def test_tampered_ciphertext_raises_never_garbage(position):
    record = make_record()
    blob = bytearray(raw_row(SecretRecord, record.pk)["name"])
    blob[position] ^= 0x40
    SecretRecord.objects.filter(pk=record.pk).update(name=bytes(blob))
    with pytest.raises(DecryptionError):
        _ = SecretRecord.objects.get(pk=record.pk).name


def test_decryption_error_message_does_not_reveal_the_failed_check():
    record = make_record()
    SecretRecord.objects.filter(pk=record.pk).update(name=b"\x01short")
    with pytest.raises(DecryptionError) as excinfo:
        _ = SecretRecord.objects.get(pk=record.pk).name
    message = str(excinfo.value)
    assert "tag" not in message.lower()
    assert "base64" not in message.lower()


def test_filtering_on_plaintext_is_refused_with_the_rule():
    with pytest.raises(TypeError, match="blind index"):
        list(SecretRecord.objects.filter(name="Testperson Zeta"))


def test_queryset_update_with_plaintext_is_refused():
    record = make_record()
    with pytest.raises(TypeError, match="encrypted"):
        SecretRecord.objects.filter(pk=record.pk).update(name="Plain")


def test_saving_without_a_key_scope_names_the_field_to_set():
    with pytest.raises(ValueError, match="practice_id"):
        SecretRecord(practice_id=None, name="x").save()


def test_values_returns_ciphertext_not_plaintext():
    record = make_record()
    values = SecretRecord.objects.filter(pk=record.pk).values("name").get()
    assert values["name"] != SYNTHETIC["name"]


def test_resaving_an_untouched_row_keeps_every_value():
    record = make_record()
    loaded = SecretRecord.objects.get(pk=record.pk)
    loaded.label = "touched"
    loaded.save()
    again = SecretRecord.objects.get(pk=record.pk)
    assert again.name == SYNTHETIC["name"]
    assert again.birth_date == SYNTHETIC["birth_date"]


def test_deferred_encrypted_field_loads_and_decrypts_on_access():
    record = make_record()
    loaded = SecretRecord.objects.defer("notes").get(pk=record.pk)
    assert loaded.notes == SYNTHETIC["notes"]
