"""Records of the phone receptionist: calls, transcripts, callback requests, recordings,
per-practice voice settings, and single-use media-stream tokens.

Invariants:
- Every PHI-bearing row (caller number, transcript text, message) belongs to a practice and
  stores its PHI in encrypted fields (phi.fields), so it is sealed under that practice's key.
- A Call holds tool *names and outcomes* only (`tool_calls`), never arguments or results.
- Calls and transcripts are never deleted through the app: foreign keys to them are PROTECT.
- A StreamToken row stores only the SHA-256 of its token, so a database reader cannot open a
  media stream; each token is consumed by one conditional UPDATE (single use across processes).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from phi.fields import EncryptedCharField, EncryptedTextField


class VoiceProvider(models.TextChoices):
    """Realtime speech providers a practice may choose."""

    OPENAI = "openai", "OpenAI Realtime"
    AZURE_OPENAI = "azure-openai", "Azure OpenAI Realtime"


class TurnDetection(models.TextChoices):
    """How the provider decides the caller has finished speaking."""

    SERVER_VAD = "server_vad", "Server VAD (silence)"
    SEMANTIC_VAD = "semantic_vad", "Semantic VAD"


class PracticeVoiceSettings(models.Model):
    """How one practice's phone receptionist behaves (off until a practice admin turns it on)."""

    practice = models.OneToOneField(
        "clinic.Practice", on_delete=models.CASCADE, related_name="voice_settings"
    )
    agent_enabled = models.BooleanField(
        default=False, help_text="Answer calls with the voice receptionist (else forward)."
    )
    provider = models.CharField(
        max_length=32, choices=VoiceProvider.choices, default=VoiceProvider.OPENAI
    )
    voice = models.CharField(max_length=32, default="marin", help_text="Provider voice name.")
    instructions = models.TextField(
        blank=True,
        help_text="Extra instructions for the receptionist (no patient data). Added to the built-in rules.",
    )
    turn_detection = models.CharField(
        max_length=16, choices=TurnDetection.choices, default=TurnDetection.SERVER_VAD
    )
    record_calls = models.BooleanField(
        default=False, help_text="Keep an encrypted recording of both sides of each call."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "practice voice settings"
        verbose_name_plural = "practice voice settings"

    def __str__(self) -> str:
        return f"Voice settings of {self.practice}"


class CallOutcome(models.TextChoices):
    """How a call ended, as far as the receptionist knows."""

    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed by the receptionist"
    TRANSFERRED = "transferred", "Transferred to staff"
    MESSAGE_TAKEN = "message_taken", "Message taken"
    ABANDONED = "abandoned", "Caller hung up"
    FAILED = "failed", "Failed"
    FORWARDED_NO_AGENT = "forwarded_no_agent", "Forwarded (receptionist off or unavailable)"


class Call(models.Model):
    """One inbound call to a practice's number."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey("clinic.Practice", on_delete=models.PROTECT, related_name="calls")
    call_sid = models.CharField("CallSid", max_length=64, unique=True)
    caller_number = EncryptedCharField(max_length=32, null=True, blank=True)
    dialled_number = models.CharField(
        max_length=32, help_text="The practice number called (E.164)."
    )
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    outcome = models.CharField(
        max_length=24, choices=CallOutcome.choices, default=CallOutcome.IN_PROGRESS
    )
    verified_patient = models.ForeignKey(
        "clinic.Patient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
    )
    transferred = models.BooleanField(default=False)
    # [{"tool": name, "outcome": outcome}, ...]: names and outcomes only, never arguments.
    tool_calls = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["practice", "-started_at"], name="voice_call_recent")]

    def __str__(self) -> str:
        return f"Call {self.call_sid}"

    @property
    def duration_seconds(self) -> int | None:
        """Whole seconds from start to end, or None while the call is open."""
        if self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds())


class TurnRole(models.TextChoices):
    """Who spoke a transcript turn."""

    CALLER = "caller", "Caller"
    AGENT = "agent", "Receptionist"


class TranscriptTurn(models.Model):
    """One utterance of a call's transcript (text encrypted)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="turns")
    practice = models.ForeignKey("clinic.Practice", on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveIntegerField()
    role = models.CharField(max_length=8, choices=TurnRole.choices)
    text = EncryptedTextField()
    ts = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["call", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["call", "seq"], name="voice_turn_unique_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} turn {self.seq}"


class CallbackStatus(models.TextChoices):
    """Where a callback request is."""

    OPEN = "open", "Open"
    DONE = "done", "Done"


class CallbackRequest(models.Model):
    """A message the receptionist took for staff to call someone back."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(
        "clinic.Practice", on_delete=models.PROTECT, related_name="callback_requests"
    )
    call = models.ForeignKey(
        Call, on_delete=models.PROTECT, null=True, blank=True, related_name="callback_requests"
    )
    patient = models.ForeignKey(
        "clinic.Patient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="callback_requests",
        help_text="Set when the caller verified their identity on the call.",
    )
    caller_name = EncryptedCharField(max_length=120)
    callback_number = EncryptedCharField(max_length=40, null=True, blank=True)
    message = EncryptedTextField()
    status = models.CharField(
        max_length=8, choices=CallbackStatus.choices, default=CallbackStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["status", "-created_at"]

    def __str__(self) -> str:
        return f"Callback request {str(self.pk)[:8]}"


class CallRecording(models.Model):
    """An encrypted WAV recording of both sides of a call."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    call = models.OneToOneField(Call, on_delete=models.PROTECT, related_name="recording")
    practice = models.ForeignKey("clinic.Practice", on_delete=models.PROTECT, related_name="+")
    # Path in the recording storage; the object there is an envelope, not a playable WAV.
    storage_name = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField()
    duration_seconds = models.FloatField()
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the stored (encrypted) object.")
    retain_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Recording of {self.call.call_sid}"


class StreamToken(models.Model):
    """A single-use, short-lived grant to open one call's media stream."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token_hash = models.CharField(max_length=64, unique=True)
    call_sid = models.CharField(max_length=64, db_index=True)
    # Plain ids: a token outlives nothing and must not hold rows in place.
    practice_id = models.UUIDField()
    call_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "stream token"

    def __str__(self) -> str:
        return f"stream token for {self.call_sid}"
