"""Clinic models: validation messages, E.164 normalisation, encryption at rest, blind indexes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from clinic import errors
from clinic.models import Appointment, AppointmentStatus, Patient, Practice
from phi.errors import DecryptionError
from tests.clinic.factories import (
    AppointmentFactory,
    PatientFactory,
    PracticeFactory,
    ProviderFactory,
)

pytestmark = pytest.mark.django_db

PHI_COLUMNS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "phone",
    "email",
    "address",
    "mrn",
    "insurance_member_id",
    "notes",
)


def _raw_row(table: str, pk: object, columns: tuple[str, ...]) -> dict[str, bytes]:
    """The stored column values as bytes, read with SQL (no model field involved)."""
    pk_value = pk.hex if connection.vendor == "sqlite" else str(pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE id = %s", [pk_value])
        row = cursor.fetchone()
    assert row is not None
    return {column: bytes(value) for column, value in zip(columns, row, strict=True)}


def test_patient_phi_is_stored_encrypted_and_reads_back_in_clear():
    patient = PatientFactory(
        first_name="Cleo",
        last_name="Fakeley",
        date_of_birth=dt.date(1980, 3, 3),
        phone="+14155550123",
        email="cleo@example.test",
        address="1 Nowhere Lane",
        mrn="TEST-77",
        insurance_member_id="SYNTH-1",
        notes="Allergic to placeholders",
    )
    raw = _raw_row("clinic_patient", patient.pk, PHI_COLUMNS)
    for column, stored in raw.items():
        plaintext = str(getattr(patient, column)).encode()
        assert stored, column
        assert plaintext.lower() not in stored.lower(), f"{column} stored in clear"
    fresh = Patient.objects.get(pk=patient.pk)
    assert (fresh.first_name, fresh.last_name) == ("Cleo", "Fakeley")
    assert fresh.date_of_birth == dt.date(1980, 3, 3)
    assert fresh.phone == "+14155550123"
    assert fresh.notes == "Allergic to placeholders"


def test_appointment_reason_is_stored_encrypted():
    appointment = AppointmentFactory(reason="Synthetic rash")
    raw = _raw_row("clinic_appointment", appointment.pk, ("reason",))
    assert b"rash" not in raw["reason"].lower()
    assert Appointment.objects.get(pk=appointment.pk).reason == "Synthetic rash"


def test_patient_ciphertext_moved_to_other_practice_does_not_decrypt():
    mine = PatientFactory(first_name="Iris")
    theirs = PatientFactory()
    sealed = Patient.objects.filter(pk=mine.pk).values_list("first_name", flat=True).get()
    Patient.objects.filter(pk=theirs.pk).update(first_name=sealed)
    with pytest.raises(DecryptionError):
        _ = Patient.objects.get(pk=theirs.pk).first_name


def test_blind_indexes_follow_the_plaintext_on_change():
    patient = PatientFactory(phone="+14155550111")
    before = patient.phone_bidx
    patient.phone = "+14155550112"
    patient.save()
    assert patient.phone_bidx not in ("", before)
    assert Patient.objects.get(pk=patient.pk).phone_bidx == patient.phone_bidx


def test_equal_values_in_two_practices_index_differently():
    one = PatientFactory(mrn="SAME-1")
    two = PatientFactory(mrn="SAME-1")
    assert one.mrn_bidx != two.mrn_bidx


def test_date_of_birth_in_the_future_is_rejected_with_clear_message():
    patient = PatientFactory.build(
        practice=PracticeFactory(), date_of_birth=timezone.localdate() + dt.timedelta(days=1)
    )
    with pytest.raises(ValidationError) as caught:
        patient.full_clean()
    assert caught.value.message_dict["date_of_birth"] == [errors.DOB_IN_FUTURE]


@pytest.mark.parametrize("garbage", ["call me", "123", "+1 555", "not-a-number-at-all"])
def test_patient_phone_garbage_is_rejected(garbage):
    patient = PatientFactory.build(practice=PracticeFactory(), phone=garbage)
    with pytest.raises(ValidationError) as caught:
        patient.full_clean()
    assert caught.value.message_dict["phone"] == [errors.PHONE_INVALID]


def test_patient_phone_is_normalised_to_e164():
    patient = PatientFactory.build(practice=PracticeFactory(), phone="(415) 555-0123")
    patient.full_clean()
    assert patient.phone == "+14155550123"


def test_practice_main_phone_is_normalised_and_garbage_rejected():
    practice = Practice(name="P", slug="p", main_phone="201.555.0100")
    practice.full_clean()
    assert practice.main_phone == "+12015550100"
    practice.main_phone = "garbage"
    with pytest.raises(ValidationError) as caught:
        practice.full_clean()
    assert caught.value.message_dict["main_phone"] == [errors.PHONE_INVALID]


def test_practice_rejects_unknown_timezone_and_malformed_opening_hours():
    practice = Practice(
        name="P",
        slug="p",
        main_phone="+12015550100",
        timezone="Mars/Olympus",
        opening_hours={"mon": [["17:00", "08:00"]]},
    )
    with pytest.raises(ValidationError) as caught:
        practice.full_clean()
    assert "Mars/Olympus" in caught.value.message_dict["timezone"][0]
    assert "closes before it opens" in caught.value.message_dict["opening_hours"][0]


def test_mrn_is_unique_within_a_practice():
    first = PatientFactory(mrn="MRN-1")
    duplicate = PatientFactory.build(practice=first.practice, mrn="mrn 1")
    with pytest.raises(ValidationError) as caught:
        duplicate.full_clean()
    assert errors.MRN_TAKEN in caught.value.messages


def test_appointment_must_end_after_start():
    appointment = AppointmentFactory.build(practice=PracticeFactory())
    appointment.patient = PatientFactory(practice=appointment.practice)
    appointment.provider = ProviderFactory(practice=appointment.practice)
    appointment.end = appointment.start
    with pytest.raises(ValidationError) as caught:
        appointment.full_clean()
    assert caught.value.message_dict["end"] == [errors.APPOINTMENT_END_BEFORE_START]


def test_provider_cannot_be_double_booked():
    booked = AppointmentFactory()
    clash = Appointment(
        practice=booked.practice,
        patient=PatientFactory(practice=booked.practice),
        provider=booked.provider,
        start=booked.start + dt.timedelta(minutes=15),
        end=booked.end + dt.timedelta(minutes=15),
    )
    with pytest.raises(ValidationError) as caught:
        clash.full_clean()
    assert "already has an appointment" in caught.value.messages[0]
    assert str(booked.provider) in caught.value.messages[0]


def test_cancelled_appointment_frees_the_slot():
    booked = AppointmentFactory(status=AppointmentStatus.CANCELLED)
    again = Appointment(
        practice=booked.practice,
        patient=booked.patient,
        provider=booked.provider,
        start=booked.start,
        end=booked.end,
    )
    again.full_clean()


def test_appointment_patient_and_provider_must_share_its_practice():
    appointment = AppointmentFactory.build(practice=PracticeFactory())
    appointment.patient = PatientFactory()  # another practice
    appointment.provider = ProviderFactory(practice=appointment.practice)
    with pytest.raises(ValidationError) as caught:
        appointment.full_clean()
    assert errors.APPOINTMENT_PRACTICE_MISMATCH in caught.value.messages


@pytest.mark.postgres
def test_database_refuses_appointment_ending_before_start():
    from django.db import IntegrityError, transaction

    appointment = AppointmentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(end=appointment.start)
