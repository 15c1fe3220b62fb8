"""Update events name exactly the fields that changed, even after encrypted fields were read."""

import pytest

from audit.actions import AuditAction
from audit.models import AuditEvent
from clinic.models import Patient
from tests.clinic.factories import PatientFactory

pytestmark = pytest.mark.django_db


def last_update_detail(patient: Patient) -> dict:
    event = (
        AuditEvent.objects.filter(action=AuditAction.PATIENT_UPDATE, resource_id=str(patient.pk))
        .order_by("-id")
        .first()
    )
    return event.detail


def test_reading_encrypted_fields_does_not_mark_them_changed():
    patient = Patient.objects.get(pk=PatientFactory().pk)
    _ = (patient.first_name, patient.last_name, patient.date_of_birth, patient.phone, patient.mrn)
    patient.notes = "Synthetic follow-up note"
    patient.save()
    assert last_update_detail(patient)["fields"] == ["notes"]


def test_an_encrypted_field_set_to_a_new_value_is_named():
    patient = Patient.objects.get(pk=PatientFactory().pk)
    patient.first_name = "Renamed"
    patient.save()
    assert "first_name" in last_update_detail(patient)["fields"]
    assert "Renamed" not in str(last_update_detail(patient))
