"""App config for the benchmark twin."""

from django.apps import AppConfig


class TwinConfig(AppConfig):
    """Unencrypted twin of clinic.Patient (benchmark baseline only)."""

    name = "bench.twin"
    label = "twin"
    default_auto_field = "django.db.models.BigAutoField"
