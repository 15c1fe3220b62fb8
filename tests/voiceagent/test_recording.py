"""Call recordings: a stereo mu-law WAV, sealed with the practice key, stored WORM in S3."""

import datetime as dt
import hashlib
import struct

import boto3
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from moto import mock_aws

from audit.actions import AuditAction
from audit.models import AuditEvent
from voiceagent.errors import RecordingError
from voiceagent.recording import (
    MULAW_SILENCE,
    WAVE_FORMAT_MULAW,
    ObjectLockS3Storage,
    TwoTrackRecorder,
    mulaw_stereo_wav,
    recording_read,
    recording_save,
    recording_storage,
)

pytestmark = pytest.mark.django_db
BUCKET = "clarion-voice-recordings"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _chunks(wav: bytes) -> dict[bytes, bytes]:
    assert wav[:4] == b"RIFF"
    assert wav[8:12] == b"WAVE"
    assert struct.unpack("<I", wav[4:8])[0] == len(wav) - 8
    chunks, offset = {}, 12
    while offset < len(wav):
        name, size = wav[offset : offset + 4], struct.unpack("<I", wav[offset + 4 : offset + 8])[0]
        chunks[name] = wav[offset + 8 : offset + 8 + size]
        offset += 8 + size + (size % 2)
    return chunks


def test_wav_is_stereo_mulaw_at_8khz_without_transcoding():
    wav = mulaw_stereo_wav(b"\x01\x02\x03", b"\x81")

    chunks = _chunks(wav)
    tag, channels, rate, byte_rate, align, bits, extra = struct.unpack("<HHIIHHH", chunks[b"fmt "])
    assert (tag, channels, rate, byte_rate, align, bits, extra) == (
        WAVE_FORMAT_MULAW,
        2,
        8000,
        16000,
        2,
        8,
        0,
    )
    assert struct.unpack("<I", chunks[b"fact"])[0] == 3
    # Interleaved left (caller) / right (agent), the shorter track padded with mu-law silence.
    assert chunks[b"data"] == bytes([1, 0x81, 2, MULAW_SILENCE, 3, MULAW_SILENCE])


def test_recorder_places_audio_on_the_timeline_and_drops_cleared_agent_audio():
    recorder = TwoTrackRecorder(max_seconds=10)

    recorder.add_inbound(b"\x10" * 160, timestamp_ms=20)
    recorder.add_outbound(b"\x20" * 800, at_ms=0)  # 100 ms of agent speech queued at once
    recorder.clear_outbound(at_ms=50)  # the caller barged in at 50 ms

    assert recorder.inbound[:160] == bytes([MULAW_SILENCE]) * 160
    assert recorder.inbound[160:320] == b"\x10" * 160
    assert len(recorder.outbound) == 400
    assert recorder.duration_seconds == 0.05


def test_recorder_queues_agent_audio_after_what_is_still_playing():
    recorder = TwoTrackRecorder(max_seconds=10)

    recorder.add_outbound(b"\x20" * 160, at_ms=0)
    recorder.add_outbound(b"\x21" * 160, at_ms=5)

    assert recorder.outbound == bytearray(b"\x20" * 160 + b"\x21" * 160)


def test_recorder_stops_at_the_maximum_length():
    recorder = TwoTrackRecorder(max_seconds=1)

    recorder.add_inbound(b"\x10" * 16000, timestamp_ms=0)
    recorder.add_inbound(b"\x10" * 160, timestamp_ms=5000)

    assert len(recorder.inbound) == 8000


def _recorder() -> TwoTrackRecorder:
    recorder = TwoTrackRecorder(max_seconds=5)
    recorder.add_inbound(b"\x11" * 1600, timestamp_ms=0)
    recorder.add_outbound(b"\x22" * 800, at_ms=100)
    return recorder


def test_saved_recording_is_sealed_and_reads_back_with_an_audited_read(call, django_user_model):
    recorder = _recorder()
    staff = django_user_model.objects.create_user(username="officer", password="x")

    recording = recording_save(call=call, recorder=recorder)

    with recording_storage().open(recording.storage_name, "rb") as handle:
        stored = handle.read()
    assert b"RIFF" not in stored
    assert b"\x11" * 32 not in stored
    assert recording.sha256 == hashlib.sha256(stored).hexdigest()
    assert recording.retain_until > timezone.now() + dt.timedelta(days=6 * 365 - 1)
    assert recording_read(recording=recording, actor=staff) == recorder.wav()
    assert AuditEvent.objects.filter(
        action=AuditAction.RECORD_VIEW, resource_id=str(recording.pk), actor_id=str(staff.pk)
    ).exists()


def test_recording_moved_to_another_row_does_not_decrypt(call, practice):
    from voiceagent import services

    first = recording_save(call=call, recorder=_recorder())
    other_call = services.call_start(
        call_sid="CA" + "9" * 32,
        practice=practice,
        caller_number="",
        dialled_number="+12015550100",
    )
    second = recording_save(call=other_call, recorder=TwoTrackRecorder(max_seconds=1))
    # Point the second row at the first row's object (and its digest): the AAD still differs.
    second.storage_name, second.sha256 = first.storage_name, first.sha256

    with pytest.raises(RecordingError, match="could not be decrypted"):
        recording_read(recording=second, actor=None)


def test_tampered_object_is_refused(call):
    recording = recording_save(call=call, recorder=_recorder())
    storage = recording_storage()
    storage.delete(recording.storage_name)
    storage.save(recording.storage_name, ContentFile(b"\x01" * 64))

    with pytest.raises(RecordingError, match="digest"):
        recording_read(recording=recording, actor=None)


@pytest.fixture
def s3_bucket(monkeypatch, settings):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.AWS_ENDPOINT_URL = ""
    with mock_aws():
        client = boto3.client("s3", region_name=settings.AWS_REGION)
        client.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        settings.VOICE_RECORDING_STORAGE = "s3"
        settings.VOICE_RECORDING_BUCKET = BUCKET
        yield client


def test_s3_recordings_are_written_under_compliance_object_lock(call, s3_bucket, settings):
    settings.VOICE_RECORDING_RETENTION_DAYS = 2191

    recording = recording_save(call=call, recorder=_recorder())

    head = s3_bucket.head_object(Bucket=BUCKET, Key=recording.storage_name)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    retain = head["ObjectLockRetainUntilDate"]
    assert retain > timezone.now() + dt.timedelta(days=2190)
    assert recording_read(recording=recording, actor=None) == _recorder().wav()


def test_s3_storage_needs_a_bucket():
    with pytest.raises(RecordingError, match="VOICE_RECORDING_BUCKET"):
        ObjectLockS3Storage(bucket_name="", retention_days=1)


def test_call_recording_is_saved_only_for_practices_that_record(call):
    from voiceagent.models import CallRecording, PracticeVoiceSettings
    from voiceagent.recording import call_recording_save

    assert call_recording_save(call_id=call.pk, recorder=_recorder()) is None
    PracticeVoiceSettings.objects.create(practice=call.practice, record_calls=True)

    assert call_recording_save(call_id=call.pk, recorder=TwoTrackRecorder(max_seconds=1)) is None
    saved = call_recording_save(call_id=call.pk, recorder=_recorder())

    assert saved is not None
    assert CallRecording.objects.get().call == call


def test_bridge_recorder_records_both_sides_and_saves_once(call):
    import base64

    from voiceagent.models import PracticeVoiceSettings
    from voiceagent.recording import call_recorder_open

    assert call_recorder_open(practice_id=call.practice_id, call_id=call.pk) is None
    PracticeVoiceSettings.objects.create(practice=call.practice, record_calls=True)
    now = [100.0]
    recorder = call_recorder_open(practice_id=call.practice_id, call_id=call.pk)
    recorder._clock = lambda: now[0]
    recorder._started = 100.0

    for _ in range(5):
        recorder.inbound(base64.b64encode(b"\x11" * 160).decode())
    recorder.outbound(base64.b64encode(b"\x22" * 400).decode())
    now[0] = 100.02
    recorder.clear()  # barge-in 20 ms into 50 ms of agent audio
    recorder.inbound("not base64!")

    assert len(recorder.track.inbound) == 800
    assert len(recorder.track.outbound) == 160
    first = recorder.save()
    assert recorder.save() is first
    assert recording_read(recording=first, actor=None) == recorder.track.wav()


def test_no_recorder_when_s3_recording_has_no_bucket(call, settings, caplog):
    from voiceagent.models import PracticeVoiceSettings
    from voiceagent.recording import call_recorder_open

    PracticeVoiceSettings.objects.create(practice=call.practice, record_calls=True)
    settings.VOICE_RECORDING_STORAGE = "s3"
    settings.VOICE_RECORDING_BUCKET = ""

    assert call_recorder_open(practice_id=call.practice_id, call_id=call.pk) is None
    assert "VOICE_RECORDING_BUCKET" in caplog.text
