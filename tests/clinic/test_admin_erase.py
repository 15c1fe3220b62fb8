"""Erasing a patient's PHI from the admin: who may, what goes, what stays."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils.html import escape

from audit.actions import AuditAction
from clinic.admin import ERASE_DONE_MESSAGE, ERASE_REASON_REQUIRED
from clinic.models import Patient
from clinic.roles import Role
from tests.clinic.conftest import Tenants, audit_events
from tests.clinic.factories import AppointmentFactory, PatientFactory
from voiceagent.models import Call, CallbackRequest, TranscriptTurn
from voiceagent.receivers import ERASED_TEXT

pytestmark = pytest.mark.django_db


def erase_url(patient: Patient) -> str:
    return reverse("admin:clinic_patient_erase_phi", args=[patient.pk])


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.PRACTICE_ADMIN, HTTPStatus.OK),
        (Role.FRONT_DESK, HTTPStatus.FORBIDDEN),
        (Role.CLINICIAN, HTTPStatus.FORBIDDEN),
        (Role.COMPLIANCE_OFFICER, HTTPStatus.FORBIDDEN),
    ],
)
def test_only_a_practice_admin_may_open_the_erase_page(client, tenants: Tenants, role, status):
    patient = PatientFactory(practice=tenants.a)
    client.force_login(tenants.staff[role])
    assert client.get(erase_url(patient)).status_code == status


def test_anonymous_is_sent_to_login(client, tenants: Tenants):
    response = client.get(erase_url(PatientFactory(practice=tenants.a)))
    assert response.status_code == HTTPStatus.FOUND
    assert "/admin/login/" in response["Location"]


def test_another_practices_patient_answers_404(client, tenants: Tenants):
    client.force_login(tenants.staff[Role.PRACTICE_ADMIN])
    other = PatientFactory(practice=tenants.b)
    assert client.get(erase_url(other)).status_code == HTTPStatus.NOT_FOUND
    assert client.post(erase_url(other), {"reason": "x"}).status_code == HTTPStatus.NOT_FOUND
    other.refresh_from_db()
    assert other.phi_erased_at is None


def test_erase_needs_a_reason(client, tenants: Tenants):
    patient = PatientFactory(practice=tenants.a)
    client.force_login(tenants.staff[Role.PRACTICE_ADMIN])
    response = client.post(erase_url(patient), {"reason": ""})
    assert response.status_code == HTTPStatus.OK
    assert escape(ERASE_REASON_REQUIRED) in response.content.decode()
    patient.refresh_from_db()
    assert patient.phi_erased_at is None


def test_erase_removes_phi_everywhere_and_keeps_the_record_and_history(client, tenants: Tenants):
    patient = PatientFactory(practice=tenants.a, first_name="Odalys", last_name="Testerson")
    appointment = AppointmentFactory(practice=tenants.a, patient=patient, reason="Synthetic rash")
    call = Call.objects.create(
        practice=tenants.a,
        call_sid="CA" + "0" * 32,
        caller_number="+12015550111",
        verified_patient=patient,
    )
    turn = TranscriptTurn.objects.create(
        call=call, practice=tenants.a, role="caller", text="this is odalys testerson", seq=1
    )
    message = CallbackRequest.objects.create(
        practice=tenants.a,
        call=call,
        patient=patient,
        caller_name="Odalys Testerson",
        callback_number="+12015550111",
        message="please call me back",
    )
    client.force_login(tenants.staff[Role.PRACTICE_ADMIN])

    response = client.post(erase_url(patient), {"reason": "Request REF-0001"}, follow=True)

    assert escape(ERASE_DONE_MESSAGE) in response.content.decode()
    patient = Patient.objects.get(pk=patient.pk)
    assert patient.phi_erased_at is not None
    assert (patient.first_name, patient.last_name, patient.date_of_birth, patient.mrn) == (
        None,
        None,
        None,
        None,
    )
    appointment.refresh_from_db()
    assert appointment.reason is None
    assert TranscriptTurn.objects.get(pk=turn.pk).text == ERASED_TEXT
    assert Call.objects.get(pk=call.pk).caller_number is None
    message = CallbackRequest.objects.get(pk=message.pk)
    assert (message.caller_name, message.message) == (ERASED_TEXT, ERASED_TEXT)
    erase_events = audit_events(action=AuditAction.PATIENT_PHI_ERASE, resource_id=patient.pk)
    assert len(erase_events) == 1
    assert "REF-0001" not in str(erase_events[0].detail)
    assert audit_events(action=AuditAction.PATIENT_CREATE, resource_id=patient.pk)


def test_erased_patient_page_offers_no_second_erase(client, tenants: Tenants):
    patient = PatientFactory(practice=tenants.a)
    client.force_login(tenants.staff[Role.PRACTICE_ADMIN])
    change = reverse("admin:clinic_patient_change", args=[patient.pk])
    assert "Erase PHI" in client.get(change).content.decode()
    client.post(erase_url(patient), {"reason": "Request REF-0002"})
    assert "Erase PHI" not in client.get(change).content.decode()
    assert client.get(erase_url(patient)).status_code == HTTPStatus.FORBIDDEN


def test_patient_change_page_fetches_the_patient_once(client, tenants: Tenants):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    patient = PatientFactory(practice=tenants.a)
    client.force_login(tenants.staff[Role.PRACTICE_ADMIN])
    change = reverse("admin:clinic_patient_change", args=[patient.pk])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(change).status_code == HTTPStatus.OK
    table = Patient._meta.db_table
    patient_reads = [
        q
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT")
        and f'FROM "{table}"' in q["sql"]
        and "WHERE" in q["sql"]
        and patient.pk.hex in q["sql"].replace("-", "")
    ]
    assert len(patient_reads) == 1
