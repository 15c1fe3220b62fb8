"""App config for audit: wires the database switch and the auth-event receivers."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Immutable, hash-chained audit trail."""

    name = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect per-connection setup and the auth/permission signal receivers."""
        from django.db.backends.signals import connection_created

        from audit import db, receivers  # noqa: F401 - receivers connect on import

        connection_created.connect(db.on_connection_created, dispatch_uid="audit.db")
