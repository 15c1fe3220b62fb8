"""Twilio Media Streams messages: pure parse (inbound) and build (outbound) functions.

Invariant: an inbound frame is either one of the six events Twilio sends (connected, start,
media, mark, dtmf, stop) with every field the bridge relies on present and well typed, or it
raises `FrameError`; nothing is defaulted. Outbound frames are only media, mark and clear,
each carrying the stream's sid. Audio payloads stay base64 text end to end (no transcoding and
no decode on the hot path); only their alphabet and size are checked.

Protocol: https://www.twilio.com/docs/voice/media-streams/websocket-messages
"""

import json
import re
from dataclasses import dataclass
from typing import NamedTuple

from voiceagent.errors import VoiceAgentError

# 20 ms of 8 kHz mu-law is 160 bytes; Twilio never sends more than a few hundred ms per frame.
MAX_PAYLOAD_CHARS = 16 * 1024
MAX_NAME_CHARS = 256
MULAW_BYTES_PER_MS = 8
MEDIA_FORMAT = {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
DTMF_DIGITS = frozenset("0123456789*#ABCD")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_SID = re.compile(r"[A-Za-z0-9]{2,64}")
_TRACKS = frozenset({"inbound", "outbound"})
_MARK_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class FrameError(VoiceAgentError):
    """A media-stream frame is not valid JSON or not a well-formed Twilio event."""


@dataclass(frozen=True, slots=True)
class Connected:
    """First message on a stream: the protocol in use."""

    protocol: str


@dataclass(frozen=True, slots=True)
class Start:
    """Stream metadata: sids, tracks, format and the `<Parameter>` values from TwiML."""

    stream_sid: str
    call_sid: str
    account_sid: str
    tracks: tuple[str, ...]
    custom_parameters: dict[str, str]


class Media(NamedTuple):
    """One chunk of caller audio, base64 mu-law as Twilio sent it.

    A named tuple, not a frozen dataclass like the rare events: one is built for every 20 ms
    caller frame, and a tuple is built in C (a frozen dataclass sets each field through
    object.__setattr__). Equally immutable.
    """

    stream_sid: str
    track: str
    chunk: int
    timestamp: int
    payload: str


@dataclass(frozen=True, slots=True)
class Mark:
    """Twilio's echo of a mark we sent: the audio before it has been played (or cleared)."""

    stream_sid: str
    name: str


@dataclass(frozen=True, slots=True)
class Dtmf:
    """A key the caller pressed."""

    stream_sid: str
    digit: str


@dataclass(frozen=True, slots=True)
class Stop:
    """The stream ended (hang-up, redirect or the websocket closing)."""

    stream_sid: str
    call_sid: str


Frame = Connected | Start | Media | Mark | Dtmf | Stop


def _str(obj: dict, key: str, *, pattern: re.Pattern | None = None, limit: int = 256) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise FrameError(f"field {key!r} must be a non-empty string of at most {limit} chars")
    if pattern is not None and not pattern.fullmatch(value):
        raise FrameError(f"field {key!r} has an invalid format")
    return value


def _obj(obj: dict, key: str) -> dict:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise FrameError(f"field {key!r} must be an object")
    return value


def _int_str(obj: dict, key: str) -> int:
    # Twilio sends chunk and timestamp as decimal strings.
    value = obj.get(key)
    if isinstance(value, bool):
        raise FrameError(f"field {key!r} must be a decimal integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        number = int(value)
    else:
        raise FrameError(f"field {key!r} must be a decimal integer")
    if number < 0:
        raise FrameError(f"field {key!r} must not be negative")
    return number


def _parse_media(msg: dict) -> Media:
    media = _obj(msg, "media")
    payload = media.get("payload")
    if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD_CHARS or len(payload) % 4:
        raise FrameError("media payload must be base64 text of bounded size")
    if not _BASE64.fullmatch(payload):
        raise FrameError("media payload must be base64 text of bounded size")
    track = media.get("track", "inbound")
    if track not in _TRACKS:
        raise FrameError("media track must be inbound or outbound")
    return Media(
        stream_sid=_str(msg, "streamSid", pattern=_SID),
        track=track,
        chunk=_int_str(media, "chunk"),
        timestamp=_int_str(media, "timestamp"),
        payload=payload,
    )


def _parse_start(msg: dict) -> Start:
    start = _obj(msg, "start")
    stream_sid = _str(start, "streamSid", pattern=_SID)
    if msg.get("streamSid", stream_sid) != stream_sid:
        raise FrameError("start.streamSid differs from the message streamSid")
    tracks = start.get("tracks")
    if not isinstance(tracks, list) or not tracks or not set(tracks) <= _TRACKS:
        raise FrameError("start.tracks must list inbound/outbound")
    media_format = _obj(start, "mediaFormat")
    if (
        media_format.get("encoding") != MEDIA_FORMAT["encoding"]
        or media_format.get("sampleRate") != MEDIA_FORMAT["sampleRate"]
    ):
        raise FrameError("only audio/x-mulaw at 8000 Hz is supported")
    params = start.get("customParameters", {})
    if not isinstance(params, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) <= 1024 for k, v in params.items()
    ):
        raise FrameError("start.customParameters must map strings to strings")
    return Start(
        stream_sid=stream_sid,
        call_sid=_str(start, "callSid", pattern=_SID),
        account_sid=_str(start, "accountSid", pattern=_SID),
        tracks=tuple(tracks),
        custom_parameters=dict(params),
    )


def _parse_mark(msg: dict) -> Mark:
    return Mark(
        stream_sid=_str(msg, "streamSid", pattern=_SID),
        name=_str(_obj(msg, "mark"), "name", limit=MAX_NAME_CHARS),
    )


def _parse_dtmf(msg: dict) -> Dtmf:
    digit = _obj(msg, "dtmf").get("digit")
    if not isinstance(digit, str) or digit not in DTMF_DIGITS:
        raise FrameError("dtmf.digit must be one key of 0-9, *, #, A-D")
    return Dtmf(stream_sid=_str(msg, "streamSid", pattern=_SID), digit=digit)


def _parse_stop(msg: dict) -> Stop:
    stop = _obj(msg, "stop")
    return Stop(
        stream_sid=_str(msg, "streamSid", pattern=_SID),
        call_sid=_str(stop, "callSid", pattern=_SID),
    )


def _parse_connected(msg: dict) -> Connected:
    return Connected(protocol=_str(msg, "protocol", limit=64))


_PARSERS = {
    "media": _parse_media,  # first: by far the most frequent
    "mark": _parse_mark,
    "start": _parse_start,
    "connected": _parse_connected,
    "dtmf": _parse_dtmf,
    "stop": _parse_stop,
}


def parse_frame(text: str | bytes) -> Frame:
    """Parse one inbound Twilio message; raise FrameError for anything else."""
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FrameError("frame is not valid JSON") from exc
    if not isinstance(msg, dict):
        raise FrameError("frame must be a JSON object")
    parser = _PARSERS.get(msg.get("event"))  # type: ignore[arg-type]
    if parser is None:
        raise FrameError("unknown event type")
    return parser(msg)


def _check_sid(stream_sid: str) -> None:
    if not _SID.fullmatch(stream_sid):
        raise ValueError("streamSid must be 2-64 letters and digits")


def build_media(stream_sid: str, payload: str) -> str:
    """Outbound media message: base64 mu-law audio to play to the caller."""
    # Hot path (every audio chunk): formatting beats json.dumps; the alphabet checks keep a
    # hostile provider payload or sid from injecting JSON.
    if not _SID.fullmatch(stream_sid) or not _BASE64.fullmatch(payload):
        raise ValueError("media needs a valid streamSid and a base64 payload")
    return f'{{"event":"media","streamSid":"{stream_sid}","media":{{"payload":"{payload}"}}}}'


def build_mark(stream_sid: str, name: str) -> str:
    """Outbound mark: Twilio echoes it back once the audio sent before it has played."""
    _check_sid(stream_sid)
    if _MARK_NAME.fullmatch(name):  # the bridge's own names: nothing to escape (several a second)
        return f'{{"event":"mark","streamSid":"{stream_sid}","mark":{{"name":"{name}"}}}}'
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def build_clear(stream_sid: str) -> str:
    """Outbound clear: drop the audio Twilio has buffered (barge-in)."""
    _check_sid(stream_sid)
    return json.dumps({"event": "clear", "streamSid": stream_sid})


def payload_ms(payload: str) -> float:
    """Milliseconds of 8 kHz mu-law audio in a base64 payload."""
    padding = payload[-2:].count("=") if payload else 0
    return (len(payload) * 3 // 4 - padding) / MULAW_BYTES_PER_MS
