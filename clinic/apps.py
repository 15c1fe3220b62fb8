"""App config for clinic."""

from django.apps import AppConfig


class ClinicConfig(AppConfig):
    """The medical practice domain."""

    name = "clinic"
    verbose_name = "Clinic"
    default_auto_field = "django.db.models.BigAutoField"
