"""Key records: wrapped data keys and per-scope key policies (bring your own key).

Invariant: no row here holds key material in the clear; `wrapped_key` is only usable through
the KMS (or local master key) that wrapped it.
"""

import uuid

from django.db import models


class DataKeyPurpose(models.TextChoices):
    """What a data key is for: sealing values, or keying blind indexes."""

    ENCRYPTION = "enc", "Field encryption"
    BLIND_INDEX = "idx", "Blind index"


class DataKey(models.Model):
    """One data-encryption key of a key scope (a practice), purpose and version, stored wrapped."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    scope_id = models.CharField(max_length=64, db_index=True)
    purpose = models.CharField(max_length=3, choices=DataKeyPurpose.choices)
    version = models.PositiveIntegerField()
    provider = models.CharField(max_length=32)
    kek_id = models.CharField(max_length=2048)
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Retired keys still decrypt; they are no longer used for new writes.
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope_id", "purpose", "version"], name="phi_datakey_unique_version"
            )
        ]
        ordering = ["scope_id", "purpose", "version"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} key v{self.version} of scope {self.scope_id}"

    def encryption_context(self) -> dict[str, str]:
        """The context the key is wrapped with: a wrapped key cannot be moved to another scope."""
        return {
            "clarion:scope": self.scope_id,
            "clarion:purpose": self.purpose,
            "clarion:version": str(self.version),
        }


class KeyScopePolicy(models.Model):
    """A scope's own key-encryption key (bring your own key); absent means the default KEK."""

    scope_id = models.CharField(max_length=64, unique=True)
    provider = models.CharField(max_length=32)
    kek_id = models.CharField(max_length=2048)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "key scope policies"

    def __str__(self) -> str:
        return f"{self.provider} KEK for scope {self.scope_id}"
