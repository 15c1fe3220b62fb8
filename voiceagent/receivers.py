"""Receivers: the receptionist erases what it holds about a patient when clinic erases PHI.

Runs inside clinic's erase transaction. Transcripts of calls where the caller was verified as
the patient, those calls' caller numbers, and the patient's callback requests lose their PHI;
rows, times and audit history stay. Recordings kept under S3 Object Lock cannot be deleted
before their retention ends (that is the point of WORM storage); they stay encrypted under the
practice's data key and their erasure is reported in the audit detail as retained.
"""

from typing import Any

from django.dispatch import receiver

from clinic.signals import patient_phi_erased
from voiceagent.models import Call, CallbackRequest, CallRecording, TranscriptTurn

ERASED_TEXT = "[erased]"


@receiver(patient_phi_erased, dispatch_uid="voiceagent.erase_patient_phi")
def erase_patient_call_phi(sender: Any, *, patient: Any, actor: Any, **kwargs: Any) -> dict:
    """Erase transcripts, caller numbers and messages tied to the patient; returns counts."""
    calls = list(Call.objects.filter(verified_patient=patient))
    turns = 0
    for turn in TranscriptTurn.objects.filter(call__in=calls):
        turn.text = ERASED_TEXT
        turn.save(update_fields=["text"])
        turns += 1
    for call in calls:
        call.caller_number = None
        call.save(update_fields=["caller_number"])
    messages = 0
    for request in CallbackRequest.objects.filter(patient=patient):
        request.caller_name = ERASED_TEXT
        request.callback_number = None
        request.message = ERASED_TEXT
        request.save(update_fields=["caller_name", "callback_number", "message"])
        messages += 1
    return {
        "calls": len(calls),
        "transcript_turns": turns,
        "callback_requests": messages,
        "recordings_retained": CallRecording.objects.filter(call__in=calls).count(),
    }
