"""A test-only app: an audited stand-in for a PHI model (tables made without migrations).

Installed by config/settings/test.py, so its table exists in every test database and Django's
flush between transactional tests finds it, whichever tests run.
"""

import uuid

from django.db import models

from audit.actions import AuditAction
from audit.registry import audit_register


class AuditedThing(models.Model):
    """A stand-in for a PHI model: UUID pk and a practice id, like clinic.Patient."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    practice_id = models.UUIDField()
    name = models.CharField(max_length=100)
    note = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        app_label = "auditapp"
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
