"""App config for clinic: registers the clinic models with the audit trail."""

from django.apps import AppConfig


class ClinicConfig(AppConfig):
    """The medical practice domain."""

    name = "clinic"
    verbose_name = "Clinic"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Audit every write of every clinic model (create, update with field names, delete)."""
        from audit.actions import AuditAction
        from audit.registry import audit_register
        from clinic import models

        audit_register(
            models.Patient,
            resource_type="clinic.patient",
            actions={
                "create": AuditAction.PATIENT_CREATE,
                "update": AuditAction.PATIENT_UPDATE,
                "delete": AuditAction.PATIENT_DELETE,
            },
        )
        # Creating an appointment is booking it, whichever path creates it.
        audit_register(
            models.Appointment,
            resource_type="clinic.appointment",
            actions={
                "create": AuditAction.APPOINTMENT_BOOK,
                "update": AuditAction.APPOINTMENT_UPDATE,
                "delete": AuditAction.APPOINTMENT_DELETE,
            },
        )
        audit_register(
            models.StaffMembership,
            resource_type="clinic.staffmembership",
            actions=dict.fromkeys(
                ("create", "update", "delete"), AuditAction.STAFF_MEMBERSHIP_CHANGE
            ),
        )
        audit_register(models.Practice, resource_type="clinic.practice")
        audit_register(models.Provider, resource_type="clinic.provider")
        audit_register(models.PracticePhoneNumber, resource_type="clinic.practicephonenumber")
