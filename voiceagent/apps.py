"""App config for voiceagent."""

from django.apps import AppConfig


class VoiceagentConfig(AppConfig):
    """The voice receptionist."""

    name = "voiceagent"
    verbose_name = "Voice receptionist"
    default_auto_field = "django.db.models.BigAutoField"
