"""Clinic services: each write validates, saves and leaves its audit event(s) under its actor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.actions import AuditAction
from audit.actors import ActorType
from clinic import errors, services
from clinic.models import AppointmentStatus, Patient
from clinic.roles import GROUP_NAMES, Role
from tests.clinic.conftest import audit_events
from tests.clinic.factories import (
    AppointmentFactory,
    PatientFactory,
    PracticeFactory,
    ProviderFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk():
    return UserFactory(username="clerk")


def _tomorrow_at(hour: int) -> dt.datetime:
    return (timezone.now() + dt.timedelta(days=1)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def test_practice_create_records_its_creation(clerk):
    practice = services.practice_create(
        actor=clerk, name="Example Clinic", slug="example", main_phone="(201) 555-0100"
    )
    assert practice.main_phone == "+12015550100"
    [event] = audit_events(action=AuditAction.RECORD_CREATE, resource_id=practice.pk)
    assert event.resource_type == "clinic.practice"
    assert event.actor_id == str(clerk.pk)


def test_staff_membership_create_grants_the_role_group_and_staff_flag(clerk):
    user = UserFactory()
    practice = PracticeFactory()
    membership = services.staff_membership_create(
        actor=clerk, user=user, practice=practice, role=Role.CLINICIAN
    )
    user.refresh_from_db()
    assert user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == [GROUP_NAMES[Role.CLINICIAN]]
    [event] = audit_events(action=AuditAction.STAFF_MEMBERSHIP_CHANGE, resource_id=membership.pk)
    assert event.practice_id == str(practice.pk)
    assert event.actor_id == str(clerk.pk)


def test_staff_membership_update_and_delete_resync_groups(clerk):
    user = UserFactory()
    membership = services.staff_membership_create(
        actor=clerk, user=user, practice=PracticeFactory(), role=Role.FRONT_DESK
    )
    services.staff_membership_update(actor=clerk, membership=membership, role=Role.PRACTICE_ADMIN)
    assert set(user.groups.values_list("name", flat=True)) == {GROUP_NAMES[Role.PRACTICE_ADMIN]}
    [*_, change] = audit_events(
        action=AuditAction.STAFF_MEMBERSHIP_CHANGE, resource_id=membership.pk
    )
    assert change.detail["fields"] == ["role"]
    assert audit_events(action=AuditAction.GROUP_CHANGE, resource_id=user.pk)
    services.staff_membership_delete(actor=clerk, membership=membership)
    assert not user.groups.filter(name__in=GROUP_NAMES.values()).exists()
    assert Group.objects.filter(name=GROUP_NAMES[Role.PRACTICE_ADMIN]).exists()


def test_provider_create_and_phone_number_create_are_audited(clerk):
    practice = PracticeFactory()
    provider = services.provider_create(
        actor=clerk, practice=practice, first_name="Ada", last_name="Example", title="Dr."
    )
    number = services.practice_phone_number_create(
        actor=clerk, practice=practice, e164="312 555 0142"
    )
    assert number.e164 == "+13125550142"
    assert audit_events(action=AuditAction.RECORD_CREATE, resource_id=provider.pk)
    assert audit_events(action=AuditAction.RECORD_CREATE, resource_id=number.pk)


def test_patient_create_encrypts_indexes_and_audits_without_phi(clerk):
    patient = services.patient_create(
        actor=clerk,
        practice=PracticeFactory(),
        first_name="Edie",
        last_name="Mockford",
        date_of_birth=dt.date(1970, 5, 17),
        phone="415-555-0100",
        mrn="T-1",
    )
    assert patient.phone == "+14155550100"
    assert patient.last_name_dob_bidx
    assert patient.phone_bidx
    assert patient.mrn_bidx
    [event] = audit_events(action=AuditAction.PATIENT_CREATE, resource_id=patient.pk)
    assert event.actor_id == str(clerk.pk)
    assert event.practice_id == str(patient.practice_id)
    assert "Mockford" not in str(event.detail)
    assert "last_name" in event.detail["fields"]


def test_patient_create_rejects_future_birth_date_and_writes_nothing(clerk):
    with pytest.raises(ValidationError) as caught:
        services.patient_create(
            actor=clerk,
            practice=PracticeFactory(),
            first_name="Finn",
            last_name="Fakeley",
            date_of_birth=timezone.localdate() + dt.timedelta(days=3),
        )
    assert caught.value.message_dict["date_of_birth"] == [errors.DOB_IN_FUTURE]
    assert not Patient.objects.exists()
    assert not audit_events(action=AuditAction.PATIENT_CREATE)


def test_patient_update_records_changed_field_names(clerk):
    patient = PatientFactory()
    services.patient_update(actor=clerk, patient=patient, phone="+1 415 555 0199", notes="")
    [event] = audit_events(action=AuditAction.PATIENT_UPDATE, resource_id=patient.pk)
    assert {"phone", "notes"} <= set(event.detail["fields"])
    assert "first_name" not in event.detail["fields"]
    assert event.actor_id == str(clerk.pk)


def test_patient_update_refuses_unknown_fields(clerk):
    with pytest.raises(TypeError, match="cannot change"):
        services.patient_update(actor=clerk, patient=PatientFactory(), practice=PracticeFactory())


def test_patient_phi_erase_removes_phi_keeps_row_and_history(clerk):
    appointment = AppointmentFactory(reason="Synthetic cough")
    patient = appointment.patient
    services.patient_phi_erase(actor=clerk, patient=patient, reason="right to erasure request")
    fresh = Patient.objects.get(pk=patient.pk)
    assert fresh.first_name is None
    assert fresh.date_of_birth is None
    assert fresh.phone is None
    assert (fresh.last_name_dob_bidx, fresh.phone_bidx, fresh.mrn_bidx) == ("", "", "")
    assert fresh.phi_erased_at is not None
    appointment.refresh_from_db()
    assert appointment.reason is None
    [event] = audit_events(action=AuditAction.PATIENT_PHI_ERASE, resource_id=patient.pk)
    assert event.actor_id == str(clerk.pk)
    assert audit_events(action=AuditAction.PATIENT_CREATE, resource_id=patient.pk)


def test_appointment_book_defaults_to_one_slot_and_is_audited(clerk):
    patient = PatientFactory()
    provider = ProviderFactory(practice=patient.practice, slot_minutes=20)
    appointment = services.appointment_book(
        actor=clerk, patient=patient, provider=provider, start=_tomorrow_at(9), reason="Flu shot"
    )
    assert appointment.end - appointment.start == dt.timedelta(minutes=20)
    assert appointment.practice_id == patient.practice_id
    [event] = audit_events(action=AuditAction.APPOINTMENT_BOOK, resource_id=appointment.pk)
    assert event.actor_id == str(clerk.pk)


def test_appointment_book_refuses_double_booking(clerk):
    booked = AppointmentFactory()
    other = PatientFactory(practice=booked.practice)
    with pytest.raises(ValidationError, match="already has an appointment"):
        services.appointment_book(
            actor=clerk, patient=other, provider=booked.provider, start=booked.start
        )


def test_appointment_book_refuses_provider_of_another_practice(clerk):
    with pytest.raises(ValidationError) as caught:
        services.appointment_book(
            actor=clerk, patient=PatientFactory(), provider=ProviderFactory(), start=_tomorrow_at(9)
        )
    assert errors.APPOINTMENT_PRACTICE_MISMATCH in caught.value.messages


def test_appointment_cancel_frees_the_slot_and_is_audited(clerk):
    appointment = AppointmentFactory()
    services.appointment_cancel(actor=clerk, appointment=appointment, reason="patient called")
    assert appointment.status == AppointmentStatus.CANCELLED
    [event] = audit_events(action=AuditAction.APPOINTMENT_CANCEL, resource_id=appointment.pk)
    assert event.detail["patient_id"] == str(appointment.patient_id)
    services.appointment_book(
        actor=clerk,
        patient=appointment.patient,
        provider=appointment.provider,
        start=appointment.start,
    )


def test_appointment_cancel_refuses_completed_visit(clerk):
    appointment = AppointmentFactory(status=AppointmentStatus.COMPLETED)
    with pytest.raises(ValidationError, match="this one is completed"):
        services.appointment_cancel(actor=clerk, appointment=appointment)


def test_appointment_reschedule_moves_keeps_length_and_is_audited(clerk):
    appointment = AppointmentFactory()
    new_start = appointment.start + dt.timedelta(days=2)
    services.appointment_reschedule(actor=clerk, appointment=appointment, start=new_start)
    assert appointment.end - appointment.start == dt.timedelta(minutes=30)
    [event] = audit_events(action=AuditAction.APPOINTMENT_RESCHEDULE, resource_id=appointment.pk)
    assert event.detail["to_start"] == new_start.isoformat()
    assert event.detail["provider_changed"] is False


def test_appointment_reschedule_onto_a_taken_slot_is_refused(clerk):
    first = AppointmentFactory()
    second = AppointmentFactory(
        practice=first.practice, provider=first.provider, patient=first.patient
    )
    with pytest.raises(ValidationError, match="already has an appointment"):
        services.appointment_reschedule(actor=clerk, appointment=second, start=first.start)


def test_system_actor_is_recorded_as_system():
    practice = services.practice_create(
        actor=None, name="System Made", slug="system-made", main_phone="+12015550100"
    )
    [event] = audit_events(action=AuditAction.RECORD_CREATE, resource_id=practice.pk)
    assert event.actor_type == ActorType.SYSTEM


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_one_slot_cannot_both_succeed():
    import threading

    from django.db import connection

    first = PatientFactory()
    second = PatientFactory(practice=first.practice)
    provider = ProviderFactory(practice=first.practice)
    start = _tomorrow_at(11)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def book(patient: Patient) -> None:
        try:
            barrier.wait()
            services.appointment_book(actor=None, patient=patient, provider=provider, start=start)
            outcomes.append("booked")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(p,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked", "refused"]
    assert provider.appointments.count() == 1
