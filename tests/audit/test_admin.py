"""The audit admin: read-only for everyone, practice-scoped, exports and disclosures permissioned."""

from __future__ import annotations

import json
import uuid
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.actions import AuditAction
from audit.models import AuditEvent
from audit.services import audit_record

pytestmark = pytest.mark.django_db

PRACTICE_A = str(uuid.uuid4())
PRACTICE_B = str(uuid.uuid4())
PATIENT_A = str(uuid.uuid4())
PATIENT_B = str(uuid.uuid4())
SCOPES: dict[str, list[str]] = {}


def practice_ids_for_test_user(user) -> list[str]:
    """The test scope resolver: practices by username."""
    return SCOPES.get(user.get_username(), [])


@pytest.fixture(autouse=True)
def _scope_resolver(settings):
    settings.AUDIT_PRACTICE_SCOPE_RESOLVER = "tests.audit.test_admin.practice_ids_for_test_user"
    SCOPES.clear()


@pytest.fixture
def events():
    a = audit_record(
        action=AuditAction.PATIENT_VIEW,
        actor=None,
        resource_type="clinic.patient",
        resource_id=PATIENT_A,
        practice_id=PRACTICE_A,
        detail={"fields": ["mrn"]},
    )
    listed = audit_record(
        action=AuditAction.PATIENT_LIST_VIEW,
        actor=None,
        resource_type="clinic.patient",
        resource_id=None,
        practice_id=PRACTICE_A,
        detail={"ids": [PATIENT_A]},
    )
    b = audit_record(
        action=AuditAction.PATIENT_VIEW,
        actor=None,
        resource_type="clinic.patient",
        resource_id=PATIENT_B,
        practice_id=PRACTICE_B,
        detail={},
    )
    return a, listed, b


def _officer(django_user_model, *, export=True, practices=(PRACTICE_A,)):
    user = django_user_model.objects.create_user(
        username=f"officer{uuid.uuid4().hex[:6]}", password="pw-123456789", is_staff=True
    )
    codenames = ["view_auditevent", *(["export_auditevent"] if export else [])]
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="audit", codename__in=codenames)
    )
    SCOPES[user.username] = list(practices)
    return user


CHANGELIST = "admin:audit_auditevent_changelist"
EXPORT = "admin:audit_auditevent_export"
DISCLOSURES = "admin:audit_auditevent_disclosures"


@pytest.mark.parametrize("name", [CHANGELIST, EXPORT, DISCLOSURES])
def test_anonymous_is_sent_to_login(client, name):
    assert client.get(reverse(name)).status_code == HTTPStatus.FOUND


@pytest.mark.parametrize("name", [CHANGELIST, EXPORT, DISCLOSURES])
def test_staff_without_permission_is_forbidden(client, django_user_model, name):
    user = django_user_model.objects.create_user(
        username="clerk", password="pw-123456789", is_staff=True
    )
    client.force_login(user)
    assert client.get(reverse(name)).status_code == HTTPStatus.FORBIDDEN


def test_viewer_without_export_permission_cannot_export(client, django_user_model, events):
    client.force_login(_officer(django_user_model, export=False))
    assert client.get(reverse(CHANGELIST)).status_code == HTTPStatus.OK
    assert client.get(reverse(EXPORT)).status_code == HTTPStatus.FORBIDDEN


def test_officer_sees_only_their_practices_events(client, django_user_model, events):
    client.force_login(_officer(django_user_model))
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == HTTPStatus.OK
    shown = {e.pk for e in response.context["cl"].result_list}
    assert shown == {events[0].pk, events[1].pk}


def test_other_practices_event_is_not_found(client, django_user_model, events):
    client.force_login(_officer(django_user_model))
    response = client.get(reverse("admin:audit_auditevent_change", args=[events[2].pk]))
    assert response.status_code in {
        HTTPStatus.NOT_FOUND,
        HTTPStatus.FOUND,
    }  # Django redirects "does not exist"
    assert PATIENT_B not in response.content.decode()


def test_admin_is_read_only_even_for_superusers(client, django_user_model, events):
    admin_user = django_user_model.objects.create_superuser(
        username="root", password="pw-123456789"
    )
    client.force_login(admin_user)
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == HTTPStatus.FORBIDDEN
    url = reverse("admin:audit_auditevent_delete", args=[events[0].pk])
    assert client.post(url, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    response = client.get(reverse(CHANGELIST))
    assert "delete_selected" not in response.content.decode()
    assert AuditEvent.objects.filter(pk=events[0].pk).exists()


def test_superuser_sees_all_practices(client, django_user_model, events):
    client.force_login(
        django_user_model.objects.create_superuser(username="root", password="pw-123456789")
    )
    response = client.get(reverse(CHANGELIST))
    assert {e.pk for e in response.context["cl"].result_list} >= {e.pk for e in events}


def test_csv_export_streams_scoped_rows_with_seq_and_hash_and_is_audited(
    client, django_user_model, events
):
    client.force_login(_officer(django_user_model))
    response = client.get(reverse(EXPORT), {"format": "csv"})
    assert response.status_code == HTTPStatus.OK
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    header = body.splitlines()[0].split(",")
    assert {"seq", "hash", "prev_hash", "detail"} <= set(header)
    assert PATIENT_A in body
    assert PATIENT_B not in body
    assert AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORT).exists()


def test_jsonl_export_filters_by_patient(client, django_user_model, events):
    client.force_login(_officer(django_user_model))
    response = client.get(reverse(EXPORT), {"format": "jsonl", "resource_id": PATIENT_A})
    lines = [
        json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()
    ]
    assert [line["resource_id"] for line in lines] == [PATIENT_A]
    assert lines[0]["action_name"] == "PATIENT_VIEW"
    assert lines[0]["detail"] == {"fields": ["mrn"]}


def test_disclosure_report_lists_direct_and_list_accesses(client, django_user_model, events):
    client.force_login(_officer(django_user_model))
    response = client.get(reverse(DISCLOSURES), {"patient": PATIENT_A})
    assert response.status_code == HTTPStatus.OK
    assert {e.pk for e in response.context["events"]} == {events[0].pk, events[1].pk}
    assert AuditEvent.objects.filter(
        action=AuditAction.DISCLOSURE_REPORT, resource_id=PATIENT_A
    ).exists()
    csv_response = client.get(reverse(DISCLOSURES), {"patient": PATIENT_A, "format": "csv"})
    assert PATIENT_A in b"".join(csv_response.streaming_content).decode()


def test_disclosure_report_for_other_practices_patient_is_not_found(
    client, django_user_model, events
):
    client.force_login(_officer(django_user_model))
    assert (
        client.get(reverse(DISCLOSURES), {"patient": PATIENT_B}).status_code == HTTPStatus.NOT_FOUND
    )


def test_disclosure_report_rejects_a_malformed_patient_id(client, django_user_model):
    client.force_login(_officer(django_user_model))
    assert (
        client.get(reverse(DISCLOSURES), {"patient": "not-a-uuid"}).status_code
        == HTTPStatus.BAD_REQUEST
    )
