"""TwiML builders: stream with its token, forwards, and a message when there is no number."""

from xml.etree import ElementTree  # our own TwiML output, not untrusted input

import pytest

from voiceagent.twilio import twiml


def _parse(document: str) -> ElementTree.Element:
    return ElementTree.fromstring(document)  # noqa: S314 -- parses our own builder's output


def test_connect_stream_carries_url_and_token_parameter():
    root = _parse(twiml.connect_stream("wss://example.test/voice/twilio/stream/", "tok"))

    stream = root.find("./Connect/Stream")
    assert stream.get("url") == "wss://example.test/voice/twilio/stream/"
    parameter = stream.find("./Parameter")
    assert (parameter.get("name"), parameter.get("value")) == ("token", "tok")


def test_connect_stream_refuses_a_non_websocket_url():
    with pytest.raises(ValueError, match="wss://"):
        twiml.connect_stream("https://example.test/", "tok")


def test_forward_dials_the_number():
    root = _parse(twiml.forward_to("+15550100000"))

    assert root.find("./Dial/Number").text == "+15550100000"


def test_forward_without_a_number_plays_a_message_and_hangs_up():
    root = _parse(twiml.forward_to(""))

    assert root.find("./Say").text == twiml.UNAVAILABLE_MESSAGE
    assert root.find("./Hangup") is not None
    assert root.find("./Dial") is None


def test_handoff_dial_requires_a_number():
    with pytest.raises(ValueError, match="phone number"):
        twiml.handoff_dial("")
