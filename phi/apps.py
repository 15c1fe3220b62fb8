"""App config for phi."""

from django.apps import AppConfig


class PhiConfig(AppConfig):
    """Protecting PHI at rest and in transit."""

    name = "phi"
    verbose_name = "PHI protection"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Refuse to start when the key provider is misconfigured (names the setting to fix)."""
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        from phi.crypto.providers import get_provider
        from phi.errors import KeyConfigurationError

        try:
            get_provider(settings.PHI_KEY_PROVIDER).check()
        except KeyConfigurationError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
