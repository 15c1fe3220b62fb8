"""Audit test fixtures: an audited test model (table made here, no migration), users, helpers."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, models

from audit.actions import AuditAction
from audit.registry import audit_register


class AuditedThing(models.Model):
    """A stand-in for a PHI model: UUID pk and a practice id, like clinic.Patient."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    practice_id = models.UUIDField()
    name = models.CharField(max_length=100)
    note = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        app_label = "audit"
        db_table = "audit_test_auditedthing"

    def __str__(self) -> str:
        return f"thing {self.pk}"


audit_register(
    AuditedThing,
    resource_type="tests.auditedthing",
    actions={
        "create": AuditAction.PATIENT_CREATE,
        "update": AuditAction.PATIENT_UPDATE,
        "delete": AuditAction.PATIENT_DELETE,
    },
)


@pytest.fixture(scope="session")
def _audited_thing_table(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        editor.create_model(AuditedThing)


@pytest.fixture
def audited_thing_model(_audited_thing_table):
    """The audited test model, with its table."""
    return AuditedThing


@pytest.fixture
def practice_id() -> uuid.UUID:
    """A practice id (audit knows practices only by id)."""
    return uuid.uuid4()
