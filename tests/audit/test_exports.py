"""audit_export command and auth-event recording."""

from __future__ import annotations

import csv
import io
from http import HTTPStatus

import pytest
from django.core.management import call_command

from audit.actions import AuditAction
from audit.models import AuditEvent
from tests.audit.conftest import record_events

pytestmark = pytest.mark.django_db


def test_export_command_writes_csv_for_one_patient(tmp_path):
    record_events(2, resource_id="patient-1")
    record_events(1, resource_id="patient-2")
    out = tmp_path / "export.csv"
    call_command("audit_export", "--patient", "patient-1", "--format", "csv", "--output", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["resource_id"] for r in rows] == ["patient-1", "patient-1"]
    assert AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORT).count() == 1


def test_login_logout_and_failed_login_are_recorded(client, django_user_model):
    django_user_model.objects.create_user(
        username="carol", password="right-password-1", is_staff=True
    )
    client.post("/admin/login/", {"username": "carol", "password": "wrong-password-1"})
    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert failed.actor_label == "carol"
    assert "wrong-password" not in repr(failed.detail)
    # Through the login form: the lockout backend (django-axes) needs the request.
    response = client.post("/admin/login/", {"username": "carol", "password": "right-password-1"})
    assert response.status_code == HTTPStatus.FOUND
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, actor_label="carol").exists()
    client.logout()
    assert AuditEvent.objects.filter(action=AuditAction.LOGOUT, actor_label="carol").exists()


def test_group_and_permission_changes_are_recorded(django_user_model):
    from django.contrib.auth.models import Group, Permission

    user = django_user_model.objects.create_user(username="dave", password="x" * 12)
    group = Group.objects.create(name="Audit test group")
    user.groups.add(group)
    permission = Permission.objects.get(codename="export_auditevent")
    group.permissions.add(permission)
    user.groups.clear()
    changes = list(AuditEvent.objects.filter(action=AuditAction.GROUP_CHANGE).order_by("id"))
    assert [c.detail["op"] for c in changes] == ["add", "clear"]
    assert changes[0].detail["groups"] == [str(group.pk)]
    perm = AuditEvent.objects.get(action=AuditAction.PERMISSION_CHANGE, resource_type="auth.group")
    assert perm.detail == {"op": "add", "permissions": [str(permission.pk)]}
