"""App config for phi."""

from django.apps import AppConfig


class PhiConfig(AppConfig):
    """Protecting PHI at rest and in transit."""

    name = "phi"
    verbose_name = "PHI protection"
    default_auto_field = "django.db.models.BigAutoField"
