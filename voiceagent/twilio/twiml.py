"""Pure TwiML builders for the receptionist's answers (no I/O, no models).

Every answer Twilio gets from us is TwiML, so a caller always hears something: the stream,
a forward to the practice's line, or a short message and a hang-up.
"""

from twilio.twiml.voice_response import Connect, Dial, VoiceResponse

STREAM_TOKEN_PARAMETER = "token"  # noqa: S105 -- the <Parameter> name, not a secret
UNKNOWN_NUMBER_MESSAGE = (
    "Sorry, this number is not connected to a practice. Please check the number and call again."
)
UNAVAILABLE_MESSAGE = (
    "Sorry, our phone assistant is not available right now. Please call back during office hours."
)
FORWARDING_MESSAGE = "Please hold while we connect you to the practice."


def connect_stream(url: str, token: str) -> str:
    """TwiML connecting the call to our media-stream WebSocket, with the stream token."""
    if not url.startswith("wss://") and not url.startswith("ws://"):
        raise ValueError("the media stream URL must be a ws:// or wss:// URL")
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=url)
    stream.parameter(name=STREAM_TOKEN_PARAMETER, value=token)
    response.append(connect)
    return str(response)


def forward_to(number: str, *, say: str | None = FORWARDING_MESSAGE) -> str:
    """TwiML forwarding the call to `number`; a message and hang-up if there is no number."""
    response = VoiceResponse()
    if not number:
        response.say(UNAVAILABLE_MESSAGE)
        response.hangup()
        return str(response)
    if say:
        response.say(say)
    dial = Dial()
    dial.number(number)
    response.append(dial)
    return str(response)


def message_and_hangup(message: str) -> str:
    """TwiML that speaks `message` and ends the call."""
    response = VoiceResponse()
    response.say(message)
    response.hangup()
    return str(response)


def handoff_dial(number: str, *, say: str | None = None) -> str:
    """TwiML used to redirect a live call to staff: optional line, then `<Dial>` the number."""
    if not number:
        raise ValueError("a hand-off needs the practice's phone number")
    return forward_to(number, say=say)


def empty() -> str:
    """An empty TwiML response (status callbacks expect a 2xx with XML)."""
    return str(VoiceResponse())
