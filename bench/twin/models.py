"""PatientPlainTwin: clinic.Patient's columns and indexes, in plaintext (benchmark baseline)."""

import uuid

from django.db import models
from django.utils import timezone

from clinic.models import Practice


class PatientPlainTwin(models.Model):
    """The same row as clinic.Patient without encryption."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    first_name = models.CharField(max_length=100, null=True)  # noqa: DJ001 - mirrors Patient
    last_name = models.CharField(max_length=100, null=True)  # noqa: DJ001 - mirrors Patient
    date_of_birth = models.DateField(null=True)
    phone = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001 - mirrors Patient
    email = models.EmailField(null=True, blank=True)  # noqa: DJ001 - mirrors Patient
    address = models.TextField(null=True, blank=True)  # noqa: DJ001 - mirrors Patient
    mrn = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001 - mirrors Patient
    insurance_member_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - mirrors Patient
    notes = models.TextField(null=True, blank=True)  # noqa: DJ001 - mirrors Patient
    last_name_dob_bidx = models.CharField(max_length=64, blank=True, default="")
    phone_bidx = models.CharField(max_length=64, blank=True, default="")
    mrn_bidx = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    phi_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["practice", "-created_at"], name="twin_recent"),
            models.Index(fields=["practice", "last_name_dob_bidx"], name="twin_lndob"),
        ]

    def __str__(self) -> str:
        return f"Twin {str(self.pk)[:8]}"
