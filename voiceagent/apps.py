"""App config for voiceagent: registers the practice voice settings with the audit trail."""

from django.apps import AppConfig


class VoiceagentConfig(AppConfig):
    """The voice receptionist."""

    name = "voiceagent"
    verbose_name = "Voice receptionist"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Audit every change of a practice's voice settings (calls are audited by services)."""
        from audit.registry import audit_register
        from voiceagent import models, receivers  # noqa: F401 - receivers connect on import

        audit_register(
            models.PracticeVoiceSettings, resource_type="voiceagent.practicevoicesettings"
        )
