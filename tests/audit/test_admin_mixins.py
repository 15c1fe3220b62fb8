"""AuditedReadAdminMixin records admin reads: change view (one object), changelist (ids shown)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage

from audit.actions import AuditAction
from audit.admin_mixins import AuditedReadAdminMixin
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def thing_admin(audited_thing_model):
    class ThingAdmin(AuditedReadAdminMixin, admin.ModelAdmin):
        audit_resource_type = "tests.auditedthing"
        audit_view_action = AuditAction.PATIENT_VIEW
        audit_list_action = AuditAction.PATIENT_LIST_VIEW
        list_per_page = 2

    return ThingAdmin(audited_thing_model, admin.site)


@pytest.fixture
def admin_request(rf, django_user_model):
    def make(path="/", **params):
        request = rf.get(path, params)
        request.user = django_user_model.objects.create_superuser(
            username=f"su{len(params)}", password="x" * 12
        )
        request.session = {}
        request._messages = FallbackStorage(request)
        return request

    return make


def test_change_view_records_one_view_of_the_object(
    thing_admin, admin_request, audited_thing_model, practice_id
):
    thing = audited_thing_model.objects.create(practice_id=practice_id, name="n")
    request = admin_request()
    thing_admin.change_view(request, str(thing.pk))
    event = AuditEvent.objects.get(action=AuditAction.PATIENT_VIEW)
    assert (event.resource_id, event.practice_id) == (str(thing.pk), str(practice_id))
    assert event.actor_label == request.user.username


def test_changelist_records_only_the_ids_on_the_page(
    thing_admin, admin_request, audited_thing_model, practice_id
):
    things = [
        audited_thing_model.objects.create(practice_id=practice_id, name=str(i)) for i in range(3)
    ]
    thing_admin.changelist_view(admin_request())
    event = AuditEvent.objects.get(action=AuditAction.PATIENT_LIST_VIEW)
    assert event.detail["count"] == 2  # list_per_page
    assert set(event.detail["ids"]) <= {str(t.pk) for t in things}
    assert len(event.detail["ids"]) == 2
    assert event.practice_id == str(practice_id)
