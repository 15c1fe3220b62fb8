"""The audit tables: append-only events, their links in the hash chain, and the work queue.

Invariant: an event row is written once, by `audit.services.audit_record` in the business
transaction, together with a `PendingEvent` row naming it. The chain integrator later gives
it its place in the chain by inserting one `ChainLink` (seq, prev_hash, hash) and deleting the
pending row, in one transaction. Events and links are never updated or deleted: the database
refuses UPDATE, DELETE and TRUNCATE on both (triggers, `audit/db.py`). The link is a separate
narrow table so that sealing is an INSERT of ~150 bytes instead of an UPDATE that would
rewrite the wide event row and every one of its indexes (see audit/__init__.py). Nothing here
has a foreign-key constraint: ids are plain strings, so deleting a user, patient or practice
cannot cascade into their history.
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

    # Insertion order; the chain order is the link's `seq`, assigned on integration.
    id = models.BigAutoField(primary_key=True)
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

    class Meta:
        ordering = ["id"]
        verbose_name = "audit event"
        permissions = [
            ("export_auditevent", "Can export audit events and accounting-of-disclosures reports"),
        ]
        indexes = [
            models.Index(fields=["practice_id", "ts"], name="audit_practice_ts"),
            models.Index(fields=["resource_type", "resource_id", "ts"], name="audit_resource_ts"),
            models.Index(fields=["actor_type", "actor_id", "ts"], name="audit_actor_ts"),
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
    def chain_link(self) -> ChainLink | None:
        """The event's place in the chain, or None while it is pending.

        Querysets that show seq or hash should `select_related("link")` so this costs no query.
        """
        try:
            return self.link
        except ChainLink.DoesNotExist:
            return None

    @property
    def seq(self) -> int | None:
        """Position in the chain (1, 2, 3...), None while pending."""
        link = self.chain_link
        return None if link is None else link.seq

    @property
    def prev_hash(self) -> str | None:
        """The previous event's hash (genesis for seq 1), None while pending."""
        link = self.chain_link
        return None if link is None else link.prev_hash

    @property
    def hash(self) -> str | None:
        """This event's chain hash (see audit/chain.py), None while pending."""
        link = self.chain_link
        return None if link is None else link.hash

    @property
    def is_sealed(self) -> bool:
        """True once the integrator has given the event its place in the chain."""
        return self.chain_link is not None


class ChainLink(models.Model):
    """An event's place in the chain: written once by the integrator, never changed."""

    seq = models.BigIntegerField(primary_key=True)
    # No database constraint: the integrator inserts links for events it has just read, and a
    # constraint would add a lookup per sealed row; audit_verify checks every link's event.
    event = models.OneToOneField(
        AuditEvent,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="link",
    )
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name = "chain link"

    def __str__(self) -> str:
        return f"#{self.seq} event {self.event_id}"


class PendingEvent(models.Model):
    """The integrator's work queue: events committed but not yet in the chain.

    Written in the same statement as the event, deleted by the integrator in the transaction
    that inserts the event's link. It holds no evidence: the event row and its link do.
    """

    event_id = models.BigIntegerField(primary_key=True)

    class Meta:
        verbose_name = "pending audit event"

    def __str__(self) -> str:
        return f"pending event {self.event_id}"
