"""Errors raised by the audit app; one base class, one subclass per way things go wrong."""


class AuditError(Exception):
    """Base class for every audit error."""


class AuditBulkOperationRefused(AuditError):
    """A bulk queryset operation on an audited model that the audit trail cannot record."""


class AuditImmutableError(AuditError):
    """Something tried to change or delete a recorded audit event."""


class CheckpointError(AuditError):
    """A checkpoint could not be signed, written, read or parsed."""
