"""Twilio Media Streams frames: every valid event parses, everything else is rejected."""

import base64
import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceagent.twilio import frames
from voiceagent.twilio.frames import FrameError

SIDS = st.text(alphabet="ABCDEFabcdef0123456789", min_size=2, max_size=64)
AUDIO = st.binary(min_size=0, max_size=800).map(lambda b: base64.b64encode(b).decode())


def _start(stream_sid="MZ1", call_sid="CA1", params=None) -> dict:
    return {
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": stream_sid,
        "start": {
            "streamSid": stream_sid,
            "callSid": call_sid,
            "accountSid": "AC1",
            "tracks": ["inbound"],
            "customParameters": {"token": "t"} if params is None else params,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    }


@given(sid=SIDS, payload=AUDIO, chunk=st.integers(0, 10**9), ts=st.integers(0, 10**9))
def test_media_frame_round_trips_payload_untouched(sid, payload, chunk, ts):
    text = json.dumps(
        {
            "event": "media",
            "sequenceNumber": "3",
            "streamSid": sid,
            "media": {
                "track": "inbound",
                "chunk": str(chunk),
                "timestamp": str(ts),
                "payload": payload,
            },
        }
    )
    frame = frames.parse_frame(text)
    assert frame == frames.Media(sid, "inbound", chunk, ts, payload)


@given(sid=SIDS, call_sid=SIDS, params=st.dictionaries(st.text(max_size=20), st.text(max_size=50)))
def test_start_frame_keeps_custom_parameters(sid, call_sid, params):
    frame = frames.parse_frame(json.dumps(_start(sid, call_sid, params)))
    assert isinstance(frame, frames.Start)
    assert (frame.stream_sid, frame.call_sid, frame.custom_parameters) == (sid, call_sid, params)


@given(name=st.text(min_size=1, max_size=256), sid=SIDS)
def test_mark_echo_parses_any_name(name, sid):
    frame = frames.parse_frame(
        json.dumps({"event": "mark", "streamSid": sid, "mark": {"name": name}})
    )
    assert frame == frames.Mark(sid, name)


@pytest.mark.parametrize("digit", list("0123456789*#"))
def test_dtmf_digit_parses(digit):
    text = json.dumps(
        {"event": "dtmf", "streamSid": "MZ1", "dtmf": {"track": "inbound_track", "digit": digit}}
    )
    assert frames.parse_frame(text) == frames.Dtmf("MZ1", digit)


def test_connected_and_stop_parse():
    assert frames.parse_frame('{"event":"connected","protocol":"Call","version":"1.0.0"}') == (
        frames.Connected("Call")
    )
    stop = {"event": "stop", "streamSid": "MZ1", "stop": {"accountSid": "AC1", "callSid": "CA9"}}
    assert frames.parse_frame(json.dumps(stop)) == frames.Stop("MZ1", "CA9")


@given(st.binary(max_size=200))
def test_arbitrary_bytes_are_rejected_or_parsed_never_crash(data):
    with contextlib.suppress(FrameError):
        frames.parse_frame(data)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda c: st.lists(c) | st.dictionaries(st.text(max_size=8), c),
        max_leaves=10,
    )
)
def test_arbitrary_json_is_rejected_unless_a_known_event(value):
    try:
        frame = frames.parse_frame(json.dumps(value))
    except FrameError:
        return
    assert isinstance(frame, frames.Frame.__args__)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "message",
    [
        {
            "event": "media",
            "streamSid": "MZ1",
            "media": {"chunk": "1", "timestamp": "20", "payload": "not base64!"},
        },
        {"event": "media", "streamSid": "MZ1", "media": {"chunk": "1", "timestamp": "20"}},
        {
            "event": "media",
            "streamSid": "MZ1",
            "media": {"chunk": "-1", "timestamp": "20", "payload": ""},
        },
        {
            "event": "media",
            "streamSid": "MZ1",
            "media": {"chunk": "1", "timestamp": "x", "payload": ""},
        },
        {
            "event": "media",
            "streamSid": "MZ1",
            "media": {"chunk": "1", "timestamp": "2", "payload": "A" * 20000},
        },
        {
            "event": "media",
            "streamSid": 'M"Z',
            "media": {"chunk": "1", "timestamp": "2", "payload": ""},
        },
        {"event": "media", "media": {"chunk": "1", "timestamp": "2", "payload": ""}},
        {"event": "mark", "streamSid": "MZ1", "mark": {}},
        {"event": "dtmf", "streamSid": "MZ1", "dtmf": {"digit": "12"}},
        {"event": "stop", "streamSid": "MZ1"},
        {"event": "clear", "streamSid": "MZ1"},
        {"event": "Media"},
        {"streamSid": "MZ1"},
        [],
    ],
)
def test_malformed_or_unknown_frames_are_rejected(message):
    with pytest.raises(FrameError):
        frames.parse_frame(json.dumps(message))


def test_start_with_other_audio_format_is_rejected():
    message = _start()
    message["start"]["mediaFormat"]["encoding"] = "audio/l16"
    with pytest.raises(FrameError):
        frames.parse_frame(json.dumps(message))


@given(sid=SIDS, payload=AUDIO, name=st.text(max_size=40))
def test_outbound_frames_are_valid_twilio_json(sid, payload, name):
    assert json.loads(frames.build_media(sid, payload)) == {
        "event": "media",
        "streamSid": sid,
        "media": {"payload": payload},
    }
    assert json.loads(frames.build_mark(sid, name)) == {
        "event": "mark",
        "streamSid": sid,
        "mark": {"name": name},
    }
    assert json.loads(frames.build_clear(sid)) == {"event": "clear", "streamSid": sid}


@pytest.mark.parametrize(
    ("sid", "payload"), [('a"b', "AAAA"), ("MZ1", 'AA","x":"'), ("MZ1", "AA\nA")]
)
def test_build_media_refuses_values_that_would_inject_json(sid, payload):
    with pytest.raises(ValueError, match="base64"):
        frames.build_media(sid, payload)


@given(st.binary(max_size=2000))
def test_payload_ms_counts_mulaw_bytes(audio):
    assert frames.payload_ms(base64.b64encode(audio).decode()) == len(audio) / 8
