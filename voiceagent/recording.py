"""Optional call recordings: both tracks as one stereo mu-law WAV, encrypted, in WORM storage.

Invariants:
- Audio is kept exactly as Twilio carries it (G.711 mu-law, 8 kHz): the WAV uses format tag 7
  (WAVE_FORMAT_MULAW), caller on the left channel, receptionist on the right; no transcoding.
- Nothing playable is ever written: the WAV is sealed with the practice's current data key
  (phi envelope, AES-256-GCM, associated data binding it to the recording row and practice)
  before it reaches storage. `recording_read` returns the WAV only after authentication.
- Storage is django-storages: the default storage locally, or (VOICE_RECORDING_STORAGE="s3")
  an S3 bucket where every object is written with Object Lock COMPLIANCE retention of
  VOICE_RECORDING_RETENTION_DAYS (6 years by default), so not even the account can delete it
  early. Only practices with `record_calls` switched on are recorded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import struct
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from django.utils import timezone
from storages.backends.s3 import S3Storage

from audit.actions import AuditAction
from audit.actors import Actor
from audit.services import audit_record
from phi.crypto import envelope
from phi.crypto.keys import decryption_key, encryption_key
from phi.errors import DataKeyNotFoundError, KeyProviderError
from voiceagent.errors import RecordingError
from voiceagent.models import Call, CallRecording, PracticeVoiceSettings

logger = logging.getLogger(__name__)

SAMPLE_RATE = 8000
BYTES_PER_MS = SAMPLE_RATE // 1000
MULAW_SILENCE = 0xFF
WAVE_FORMAT_MULAW = 7
RECORDING_LABEL = "voiceagent.callrecording.audio"
RECORDING_PREFIX = "voice-recordings"


class TwoTrackRecorder:
    """Collects inbound (caller) and outbound (agent) mu-law audio on one timeline."""

    def __init__(self, *, max_seconds: int | None = None) -> None:
        seconds = max_seconds if max_seconds is not None else settings.VOICE_MAX_CALL_SECONDS
        self.max_bytes = max(1, seconds) * SAMPLE_RATE
        self.inbound = bytearray()
        self.outbound = bytearray()

    @staticmethod
    def _place(track: bytearray, offset: int, payload: bytes, limit: int) -> None:
        if offset >= limit:
            return
        payload = payload[: limit - offset]
        if offset > len(track):
            track.extend(bytes([MULAW_SILENCE]) * (offset - len(track)))
        track[offset : offset + len(payload)] = payload

    def add_inbound(self, payload: bytes, *, timestamp_ms: int) -> None:
        """Caller audio from a Twilio `media` frame at its stream timestamp."""
        self._place(self.inbound, max(0, timestamp_ms) * BYTES_PER_MS, payload, self.max_bytes)

    def add_outbound(self, payload: bytes, *, at_ms: int) -> None:
        """Agent audio sent at `at_ms`; it plays after whatever is still queued (as Twilio does)."""
        offset = max(len(self.outbound), max(0, at_ms) * BYTES_PER_MS)
        self._place(self.outbound, offset, payload, self.max_bytes)

    def clear_outbound(self, *, at_ms: int) -> None:
        """Barge-in: agent audio queued after `at_ms` was never played; drop it."""
        del self.outbound[max(0, at_ms) * BYTES_PER_MS :]

    @property
    def duration_seconds(self) -> float:
        """Length of the longer track, in seconds."""
        return max(len(self.inbound), len(self.outbound)) / SAMPLE_RATE

    def wav(self) -> bytes:
        """Stereo mu-law WAV of both tracks (left caller, right agent)."""
        return mulaw_stereo_wav(bytes(self.inbound), bytes(self.outbound))


def mulaw_stereo_wav(left: bytes, right: bytes) -> bytes:
    """A WAV (format tag 7, 8 kHz, 2 channels, 8 bits) interleaving two mu-law tracks."""
    frames = max(len(left), len(right))
    left = left.ljust(frames, bytes([MULAW_SILENCE]))
    right = right.ljust(frames, bytes([MULAW_SILENCE]))
    data = bytearray(frames * 2)
    data[0::2] = left
    data[1::2] = right
    channels, bits = 2, 8
    block_align = channels * bits // 8
    # Non-PCM formats carry an 18-byte fmt chunk (cbSize = 0) and a fact chunk with the frame count.
    fmt = struct.pack(
        "<HHIIHHH",
        WAVE_FORMAT_MULAW,
        channels,
        SAMPLE_RATE,
        SAMPLE_RATE * block_align,
        block_align,
        bits,
        0,
    )
    fact = struct.pack("<I", frames)
    pad = b"\x00" if len(data) % 2 else b""
    body = (
        b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"fact"
        + struct.pack("<I", len(fact))
        + fact
        + b"data"
        + struct.pack("<I", len(data))
        + bytes(data)
        + pad
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def recording_storage() -> Storage:
    """Where recordings go: the default storage, or S3 with Object Lock when configured."""
    if settings.VOICE_RECORDING_STORAGE == "s3":
        return ObjectLockS3Storage(
            bucket_name=settings.VOICE_RECORDING_BUCKET,
            retention_days=settings.VOICE_RECORDING_RETENTION_DAYS,
            file_overwrite=False,
            endpoint_url=settings.AWS_ENDPOINT_URL or None,
            region_name=settings.AWS_REGION,
        )
    return default_storage


def _retain_until() -> datetime:
    return timezone.now() + timedelta(days=settings.VOICE_RECORDING_RETENTION_DAYS)


def _context(recording_id: uuid.UUID, practice_id: uuid.UUID) -> bytes:
    return envelope.value_context(label=RECORDING_LABEL, row_id=recording_id, scope_id=practice_id)


def recording_save(*, call: Call, recorder: TwoTrackRecorder) -> CallRecording:
    """Encrypt the call's WAV with the practice's data key, store it, and record it."""
    recording_id = uuid.uuid4()
    key_id, aead = encryption_key(str(call.practice_id))
    sealed = envelope.seal(
        aead=aead,
        key_id=key_id,
        plaintext=recorder.wav(),
        context=_context(recording_id, call.practice_id),
    )
    name = f"{RECORDING_PREFIX}/{call.practice_id}/{recording_id}.wav.enc"
    storage = recording_storage()
    # The object is written before the row: a row never points at nothing. An orphan object
    # (row insert failed) is sealed and unreadable without its row id, so it leaks nothing.
    stored_name = storage.save(name, ContentFile(sealed))
    with transaction.atomic():
        recording = CallRecording.objects.create(
            id=recording_id,
            call=call,
            practice_id=call.practice_id,
            storage_name=stored_name,
            size_bytes=len(sealed),
            duration_seconds=recorder.duration_seconds,
            sha256=hashlib.sha256(sealed).hexdigest(),
            retain_until=_retain_until(),
        )
        audit_record(
            action=AuditAction.RECORD_CREATE,
            actor=Actor.voice_agent(call.call_sid),
            resource_type="voiceagent.callrecording",
            resource_id=recording.pk,
            practice_id=call.practice_id,
            detail={"call_id": str(call.pk), "size_bytes": len(sealed)},
        )
    return recording


def recording_read(*, recording: CallRecording, actor: object) -> bytes:
    """The decrypted WAV of a recording (audited read); RecordingError if it fails to open."""
    with recording_storage().open(recording.storage_name, "rb") as handle:
        sealed = handle.read()
    if hashlib.sha256(sealed).hexdigest() != recording.sha256:
        raise RecordingError(f"recording {recording.pk} does not match its stored digest")
    try:
        parsed = envelope.parse(sealed)
        wav = envelope.open_sealed(
            aead=decryption_key(parsed.key_id),
            parsed=parsed,
            context=_context(recording.pk, recording.practice_id),
        )
    except (envelope.InvalidEnvelope, DataKeyNotFoundError, KeyProviderError) as exc:
        raise RecordingError(f"recording {recording.pk} could not be decrypted") from exc
    with transaction.atomic():
        audit_record(
            action=AuditAction.RECORD_VIEW,
            actor=actor,
            resource_type="voiceagent.callrecording",
            resource_id=recording.pk,
            practice_id=recording.practice_id,
            detail={"call_id": str(recording.call_id)},
        )
    return wav


class ObjectLockS3Storage(S3Storage):
    """S3 storage writing every object under Object Lock COMPLIANCE until its retention ends."""

    def __init__(self, *, retention_days: int, **kwargs) -> None:
        if not kwargs.get("bucket_name"):
            raise RecordingError("VOICE_RECORDING_BUCKET must be set for S3 recording storage")
        self.retention_days = retention_days
        super().__init__(**kwargs)

    def get_object_parameters(self, name: str) -> dict:
        """Upload parameters: the usual ones plus Object Lock mode and retain-until date."""
        params = super().get_object_parameters(name)
        params["ObjectLockMode"] = "COMPLIANCE"
        params["ObjectLockRetainUntilDate"] = timezone.now() + timedelta(days=self.retention_days)
        return params


def call_recording_save(
    *, call_id: uuid.UUID | str, recorder: TwoTrackRecorder
) -> CallRecording | None:
    """Save the call's recording if its practice records calls and anything was heard."""
    call = Call.objects.select_related("practice").get(pk=call_id)
    voice = PracticeVoiceSettings.objects.filter(practice_id=call.practice_id).first()
    if voice is None or not voice.record_calls or recorder.duration_seconds == 0:
        return None
    return recording_save(call=call, recorder=recorder)


class CallRecorder:
    """The bridge's recorder for one call: base64 mu-law frames in, one encrypted WAV out.

    Caller audio arrives as a continuous 20 ms stream, so it is appended in order; agent audio
    is placed at the moment it is sent, after whatever is still queued (as Twilio plays it),
    and `clear()` drops what a barge-in cut off.
    """

    def __init__(self, *, call_id: uuid.UUID | str, clock: Callable[[], float] = time.monotonic):
        self.call_id = call_id
        self.track = TwoTrackRecorder()
        self._clock = clock
        self._started = clock()
        self.saved: CallRecording | None = None

    def _now_ms(self) -> int:
        return round((self._clock() - self._started) * 1000)

    def inbound(self, payload: str) -> None:
        """One caller `media` payload (base64 mu-law)."""
        data = _b64(payload)
        if data:
            self.track.add_inbound(data, timestamp_ms=len(self.track.inbound) // BYTES_PER_MS)

    def outbound(self, payload: str) -> None:
        """One chunk of agent audio sent to Twilio (base64 mu-law)."""
        data = _b64(payload)
        if data:
            self.track.add_outbound(data, at_ms=self._now_ms())

    def clear(self) -> None:
        """Barge-in: agent audio not yet played is dropped from the recording too."""
        self.track.clear_outbound(at_ms=self._now_ms())

    def save(self) -> CallRecording | None:
        """Encrypt and store the recording (once); sync, call it through database_sync_to_async."""
        if self.saved is None:
            self.saved = call_recording_save(call_id=self.call_id, recorder=self.track)
        return self.saved


def _b64(payload: str) -> bytes:
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return b""


def call_recorder_open(
    *, practice_id: uuid.UUID | str, call_id: uuid.UUID | str
) -> CallRecorder | None:
    """A recorder for the call if its practice records calls, else None (sync)."""
    voice = PracticeVoiceSettings.objects.filter(practice_id=practice_id).first()
    if voice is None or not voice.record_calls:
        return None
    if settings.VOICE_RECORDING_STORAGE == "s3" and not settings.VOICE_RECORDING_BUCKET:
        # Say so at the start of the call, not after it when the audio would be lost anyway.
        logger.error(
            "voice.recording.not_configured call_id=%s setting=VOICE_RECORDING_BUCKET", call_id
        )
        return None
    return CallRecorder(call_id=call_id)
