"""App config for audit."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Immutable, hash-chained audit trail."""

    name = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"
