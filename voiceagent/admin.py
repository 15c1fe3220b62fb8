"""The receptionist's admin: calls with their transcripts, callback requests, voice settings,
and recordings.

Invariants:
- Every class is scoped to the staff member's practices (clinic's PracticeScopedAdminMixin:
  another practice's row answers 404) and further to the practices where their role grants
  the permission (voiceagent.roles); reads of call pages are audited (audit's
  AuditedReadAdminMixin; opening a call with its transcript is CALL_TRANSCRIPT_VIEW).
- Calls, transcripts and recordings are read-only: nobody adds, edits or deletes them here.
  A recording is decrypted only by its audited download view, for roles that see PHI.
- Callback requests change only through the "Mark as done" action (a service).
- PHI (caller number and name, transcript text, messages) is shown in clear only to roles
  holding clinic.view_patient_phi in that practice; others see it masked, as in the clinic admin.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from audit.actions import AuditAction
from audit.admin_mixins import AuditedReadAdminMixin
from clinic.admin import MASK, phi_visibility
from clinic.admin_scoping import PracticeScopedAdminMixin, ScopedRelatedFieldListFilter
from clinic.selectors import roles_for_user
from voiceagent import services
from voiceagent.models import (
    Call,
    CallbackRequest,
    CallbackStatus,
    CallRecording,
    PracticeVoiceSettings,
    TranscriptTurn,
)
from voiceagent.recording import recording_read
from voiceagent.roles import voice_role_allows


def _masked_tail(value: str | None, keep: int = 2) -> str:
    return f"{MASK}{value[-keep:]}" if value else ""


class VoiceModelAdmin(AuditedReadAdminMixin, PracticeScopedAdminMixin, admin.ModelAdmin):
    """Base: practice-scoped, audited reads, permissions from the role in each practice."""

    list_per_page = 100

    def _practices_granting(self, request: HttpRequest, *actions: str) -> list[uuid.UUID]:
        perms = [f"voiceagent.{get_permission_codename(a, self.opts)}" for a in actions]
        return [
            practice_id
            for practice_id, role in roles_for_user(request.user).items()
            if any(voice_role_allows(role, perm) for perm in perms)
        ]

    def _grants(self, request: HttpRequest, action: str, obj: Any = None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        if obj is None:
            return bool(self._practices_granting(request, action))
        return self.practice_id_of(obj) in self._practices_granting(request, action)

    def role_allows(self, request: HttpRequest, obj: Any, action: str) -> bool:
        """Whether the user's role in obj's practice grants `action` (voiceagent.roles)."""
        return self._grants(request, action, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        """The app shows on the index for staff whose role anywhere may view it."""
        return self._grants(request, "view")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """View (or change) granted by the role in the object's practice."""
        return self._grants(request, "view", obj) or self._grants(request, "change", obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Change granted by the role in the object's practice."""
        return self._grants(request, "change", obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Add granted by a role somewhere."""
        return self._grants(request, "add")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Nothing here is deleted through the admin: records are evidence."""
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Rows of the user's practices where their role may view this model."""
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(practice_id__in=self._practices_granting(request, "view", "change"))

    def _practices_where_role_may_write(
        self, request: HttpRequest, practices: QuerySet
    ) -> QuerySet:
        # Practice choices on add/change forms: where the role may add or change this model.
        if request.user.is_superuser:
            return practices
        return practices.filter(pk__in=self._practices_granting(request, "add", "change"))


class TranscriptTurnInline(admin.TabularInline):
    """The call's transcript, in order; text masked unless the role may see PHI."""

    model = TranscriptTurn
    readonly_fields = ("seq", "ts", "role", "text", "masked_text")
    extra = 0
    can_delete = False
    ordering = ("seq",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """Clear text for roles with PHI access in the call's practice, a mask otherwise."""
        show = obj is not None and phi_visibility(request)(obj)
        return ("seq", "ts", "role", "text" if show else "masked_text")

    @admin.display(description="text")
    def masked_text(self, turn: TranscriptTurn) -> str:
        """A mask in place of the utterance (the ciphertext is not even decrypted)."""
        return MASK

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Transcripts are written by calls only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Read-only."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never deleted."""
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Whoever may view the call may view its transcript (the call view is audited)."""
        return True


CALL_FIELDS = (
    "practice",
    "call_sid",
    "{caller}",
    "dialled_number",
    "started_at",
    "connected_at",
    "ended_at",
    "duration",
    "provider",
    "outcome",
    "transferred",
    "verified",
    "patient_record",
    "tools_used",
)


@admin.register(Call)
class CallAdmin(VoiceModelAdmin):
    """Calls the receptionist answered or forwarded; read-only, with the transcript inline."""

    audit_resource_type = "voiceagent.call"
    audit_view_action = AuditAction.CALL_TRANSCRIPT_VIEW
    list_filter = (("practice", ScopedRelatedFieldListFilter), "outcome", "transferred")
    search_fields = ("=call_sid",)
    date_hierarchy = "started_at"
    inlines = (TranscriptTurnInline,)
    readonly_fields = (
        *(f for f in CALL_FIELDS if not f.startswith("{")),
        "caller_number",
        "masked_caller_number",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Calls are recorded by the receptionist only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Calls are evidence: view only, for everyone."""
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Calls in scope, with the practice joined."""
        return super().get_queryset(request).select_related("practice")

    def get_list_display(self, request: HttpRequest) -> tuple[Any, ...]:
        """Columns; the caller's number in clear only where the role may see PHI."""
        show = phi_visibility(request)

        @admin.display(description="caller")
        def caller(call: Call) -> str:
            return (call.caller_number or "") if show(call) else _masked_tail(call.caller_number)

        return (
            "started_at",
            "practice",
            "call_sid",
            caller,
            "outcome",
            "transferred",
            "verified",
            "duration",
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """Detail fields; the caller's number in clear only where the role may see PHI."""
        show = obj is not None and phi_visibility(request)(obj)
        caller = "caller_number" if show else "masked_caller_number"
        return tuple(caller if f == "{caller}" else f for f in CALL_FIELDS)

    @admin.display(description="caller number")
    def masked_caller_number(self, call: Call) -> str:
        """The caller's number reduced to its last two digits."""
        return _masked_tail(call.caller_number)

    @admin.display(boolean=True, description="identity verified")
    def verified(self, call: Call) -> bool:
        """Whether the caller verified as a patient (who is on the patient's page, not here)."""
        return call.verified_patient_id is not None

    @admin.display(description="patient")
    def patient_record(self, call: Call) -> str:
        """A link to the verified patient's record (the patient admin decides what it shows)."""
        if call.verified_patient_id is None:
            return "-"
        url = reverse("admin:clinic_patient_change", args=[call.verified_patient_id])
        return format_html('<a href="{}">Patient record</a>', url)

    @admin.display(description="duration (s)")
    def duration(self, call: Call) -> int | None:
        """Seconds from start to end."""
        return call.duration_seconds

    @admin.display(description="tools used")
    def tools_used(self, call: Call) -> str:
        """Tool names and outcomes, in order (no arguments were ever stored)."""
        return ", ".join(f"{t.get('tool')} ({t.get('outcome')})" for t in call.tool_calls) or "-"


CALLBACK_CLEAR_FIELDS = ("caller_name", "callback_number", "message")
CALLBACK_MASKED_FIELDS = ("masked_caller_name", "masked_callback_number", "masked_message")


@admin.register(CallbackRequest)
class CallbackRequestAdmin(VoiceModelAdmin):
    """Messages the receptionist took; staff call back and mark them done."""

    audit_resource_type = "voiceagent.callbackrequest"
    list_filter = (("practice", ScopedRelatedFieldListFilter), "status")
    readonly_fields = (
        "practice",
        "status",
        "created_at",
        *CALLBACK_CLEAR_FIELDS,
        *CALLBACK_MASKED_FIELDS,
        "call",
        "caller_verified",
        "done_at",
        "done_by",
    )
    actions = ("mark_done",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Callback requests in scope, open first."""
        return super().get_queryset(request).select_related("practice", "call", "done_by")

    def get_list_display(self, request: HttpRequest) -> tuple[Any, ...]:
        """Columns; name and number in clear only where the role may see PHI."""
        show = phi_visibility(request)

        @admin.display(description="caller name")
        def name(obj: CallbackRequest) -> str:
            return obj.caller_name if show(obj) else MASK

        @admin.display(description="callback number")
        def number(obj: CallbackRequest) -> str:
            return (obj.callback_number or "") if show(obj) else _masked_tail(obj.callback_number)

        return ("created_at", "practice", "status", name, number, "call")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """Detail fields; the message and caller details in clear only with PHI access."""
        show = obj is not None and phi_visibility(request)(obj)
        return (
            "practice",
            "status",
            "created_at",
            *(CALLBACK_CLEAR_FIELDS if show else CALLBACK_MASKED_FIELDS),
            "call",
            "caller_verified",
            "done_at",
            "done_by",
        )

    @admin.display(description="caller name")
    def masked_caller_name(self, obj: CallbackRequest) -> str:
        """A mask in place of the name."""
        return MASK

    @admin.display(description="callback number")
    def masked_callback_number(self, obj: CallbackRequest) -> str:
        """The number reduced to its last two digits."""
        return _masked_tail(obj.callback_number)

    @admin.display(description="message")
    def masked_message(self, obj: CallbackRequest) -> str:
        """A mask in place of the message."""
        return MASK

    @admin.display(boolean=True, description="caller verified")
    def caller_verified(self, obj: CallbackRequest) -> bool:
        """Whether the caller had verified their identity when leaving the message."""
        return obj.patient_id is not None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Callback requests come from calls only."""
        return False

    @admin.action(description="Mark as done (called back)", permissions=["change"])
    def mark_done(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Close the selected requests through the service (audited)."""
        closed = 0
        for callback_request in queryset.filter(status=CallbackStatus.OPEN):
            if self.has_change_permission(request, callback_request):
                services.callback_request_close(
                    callback_request=callback_request, actor=request.user
                )
                closed += 1
        self.message_user(request, f"{closed} callback request(s) marked done.", messages.SUCCESS)


@admin.register(PracticeVoiceSettings)
class PracticeVoiceSettingsAdmin(VoiceModelAdmin):
    """Per-practice receptionist settings: on/off, provider, voice, instructions, recording."""

    audit_resource_type = "voiceagent.practicevoicesettings"
    list_display = (
        "practice",
        "agent_enabled",
        "provider",
        "voice",
        "turn_detection",
        "record_calls",
    )
    list_filter = ("agent_enabled", "provider")
    fields = (
        "practice",
        "agent_enabled",
        "provider",
        "voice",
        "turn_detection",
        "instructions",
        "record_calls",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """A row never moves to another practice."""
        return ("practice",) if obj is not None else ()

    def save_model(
        self, request: HttpRequest, obj: PracticeVoiceSettings, form: Any, change: bool
    ) -> None:
        """Save through the service (validated and audited)."""
        services.practice_voice_settings_save(actor=request.user, voice_settings=obj)


@admin.register(CallRecording)
class CallRecordingAdmin(VoiceModelAdmin):
    """Encrypted call recordings: metadata for reviewers, playback for roles that see PHI."""

    audit_resource_type = "voiceagent.callrecording"
    list_display = ("created_at", "practice", "call", "duration_seconds", "size_bytes", "download")
    list_filter = (("practice", ScopedRelatedFieldListFilter),)
    fields = (
        "practice",
        "call",
        "created_at",
        "duration_seconds",
        "size_bytes",
        "sha256",
        "retain_until",
        "download",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Recordings are written by calls only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Evidence: view only (the object itself is under Object Lock in production)."""
        return False

    def get_urls(self) -> list:
        """The admin's URLs plus the audited download."""
        download = path(
            "<path:object_id>/download/",
            self.admin_site.admin_view(self.download_view),
            name="voiceagent_callrecording_download",
        )
        return [download, *super().get_urls()]

    @admin.display(description="recording")
    def download(self, recording: CallRecording) -> str:
        """A link to the WAV (the download view decides who may play it)."""
        url = reverse("admin:voiceagent_callrecording_download", args=[recording.pk])
        return format_html('<a href="{}">Download WAV</a>', url)

    def download_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The decrypted WAV, for roles that may see PHI in this practice; the read is audited."""
        recording = self.get_object(request, object_id)  # 404 outside the user's practices
        if not self.has_view_permission(request, recording) or not phi_visibility(request)(
            recording
        ):
            raise PermissionDenied
        wav = recording_read(recording=recording, actor=request.user)
        response = HttpResponse(wav, content_type="audio/wav")
        response["Content-Disposition"] = f'attachment; filename="call-{recording.call_id}.wav"'
        response["Cache-Control"] = "no-store"
        return response
