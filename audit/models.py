"""The audit table: one append-only, hash-chained row per recorded action.

Invariant: a row is written once (by `audit.services.audit_record`, in the business
transaction) with seq/prev_hash/hash NULL, and sealed exactly once by the chain integrator,
which sets those three columns; the database refuses every other UPDATE, every DELETE and
TRUNCATE (triggers installed by migration 0002). Nothing here has a foreign key: ids are
plain strings, so deleting a user, patient or practice cannot cascade into their history.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.utils import timezone

from audit.actions import AuditAction
from audit.chain import canonical_detail


class CanonicalJSONField(models.TextField):
    """JSON stored as text in its canonical form (sorted keys, no spaces, UTF-8).

    Stored as text, not jsonb, so the database keeps the exact bytes the chain hashed and the
    fast verifier can splice them into the canonical event without re-serialising.
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        """Parse the stored canonical text."""
        return None if value is None else json.loads(value)

    def to_python(self, value: Any) -> Any:
        """Accept a dict or its JSON text."""
        return json.loads(value) if isinstance(value, str) else value

    def get_prep_value(self, value: Any) -> str | None:
        """Serialise to the canonical text."""
        return None if value is None else canonical_detail(value)


class AuditEvent(models.Model):
    """One recorded action; see audit/chain.py for the canonical form and the hash rule."""

    # Insertion order of pending rows; the chain order is `seq`, assigned on integration.
    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    ts = models.DateTimeField(default=timezone.now, db_index=True)
    actor_type = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - NULL is "no id", hashed as JSON null
    actor_label = models.CharField(max_length=150, blank=True, default="")
    action = models.PositiveIntegerField(db_index=True)
    resource_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - ditto
    practice_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - ditto
    detail = CanonicalJSONField(default=dict)
    request_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - ditto
    ip = models.CharField(max_length=45, null=True, blank=True)  # noqa: DJ001 - ditto
    prev_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001 - NULL until sealed
    hash = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001 - ditto

    class Meta:
        ordering = ["seq", "id"]
        verbose_name = "audit event"
        permissions = [
            ("export_auditevent", "Can export audit events and accounting-of-disclosures reports"),
        ]
        indexes = [
            models.Index(fields=["practice_id", "ts"], name="audit_practice_ts"),
            models.Index(fields=["resource_type", "resource_id", "ts"], name="audit_resource_ts"),
            models.Index(fields=["actor_type", "actor_id", "ts"], name="audit_actor_ts"),
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_pending"),
        ]

    def __str__(self) -> str:
        where = f"#{self.seq}" if self.seq is not None else f"pending {self.id}"
        return f"{where} {self.action_label} {self.resource_type}:{self.resource_id or '-'}"

    @property
    def action_label(self) -> str:
        """The action's name, or its number when this code base no longer knows it."""
        try:
            return AuditAction(self.action).label
        except ValueError:
            return str(self.action)

    @property
    def is_sealed(self) -> bool:
        """True once the integrator has given the event its place in the chain."""
        return self.seq is not None
