"""A test-only app: one model per encrypted field type, independent of the clinic."""

import uuid

from django.db import models

from phi.fields import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedJSONField,
    EncryptedTextField,
)


class SecretRecord(models.Model):
    """Every encrypted field type, scoped by a plain practice id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice_id = models.UUIDField()
    name = EncryptedCharField(max_length=100, null=True, blank=True)
    notes = EncryptedTextField(null=True, blank=True)
    birth_date = EncryptedDateField(null=True, blank=True)
    email = EncryptedEmailField(null=True, blank=True)
    extra = EncryptedJSONField(null=True, blank=True)
    label = models.CharField(max_length=20, blank=True)

    class Meta:
        app_label = "fieldapp"

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class OtherSecretRecord(models.Model):
    """A second model, to prove a ciphertext cannot move between tables."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice_id = models.UUIDField()
    name = EncryptedCharField(max_length=100, null=True)

    class Meta:
        app_label = "fieldapp"

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"
