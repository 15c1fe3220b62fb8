"""The egress registry: BAA status per processor, redaction on the way out, refusal of raw PHI."""

import json
from collections.abc import Iterator

import pytest
from django.test import override_settings

from phi import egress
from phi.egress import (
    EgressRefusedError,
    NoTransportError,
    ProcessorKind,
    RawPHI,
    UnknownProcessorError,
    egress_send,
    egress_transport_set,
    processor_allowed_for_phi,
    processor_get,
    processor_list,
)
from phi.redaction.context import add_known, redaction_scope

from .phi_asserts import PATIENT, assert_no_phi


class FakeSink:
    """Records what a processor would have received."""

    def __init__(self) -> None:
        self.received: list[object] = []

    def __call__(self, payload: object) -> None:
        self.received.append(payload)

    def dump(self) -> str:
        return json.dumps(self.received)


@pytest.fixture
def sinks() -> Iterator[dict[str, FakeSink]]:
    names = ["openai", "analytics-webhook", "summary-webhook", "alert-chat", "alert-email", "siem"]
    fakes = {name: FakeSink() for name in names}
    for name, fake in fakes.items():
        egress_transport_set(name, fake)
    try:
        yield fakes
    finally:
        for name in names:
            egress_transport_set(name, None)


def test_realtime_providers_are_declared_without_baa_by_default() -> None:
    declared = {p.name: p for p in processor_list()}
    assert declared["openai"].kind == ProcessorKind.REALTIME
    assert declared["azure-openai"].kind == ProcessorKind.REALTIME
    assert not processor_allowed_for_phi("openai")
    assert not processor_allowed_for_phi("azure-openai")


@override_settings(PHI_EGRESS_BAA={"azure-openai": True})
def test_settings_flip_a_processors_baa_flag() -> None:
    assert processor_get("azure-openai").baa
    assert processor_allowed_for_phi("azure-openai")
    assert not processor_allowed_for_phi("openai")


@override_settings(PHI_EGRESS_STRICT=False)
def test_strict_mode_off_allows_phi_to_processors_without_baa() -> None:
    assert processor_allowed_for_phi("openai")


@override_settings(
    PHI_EGRESS_PROCESSORS={"billing-export": {"kind": "webhook", "baa": True, "description": "x"}}
)
def test_processors_can_be_declared_in_settings() -> None:
    assert processor_get("billing-export").baa


def test_unknown_processor_is_refused() -> None:
    with pytest.raises(UnknownProcessorError, match="PHI_EGRESS_PROCESSORS"):
        egress_send(processor="random-saas", payload="hello")


def test_processor_without_transport_says_so() -> None:
    with pytest.raises(NoTransportError, match="egress_transport_set"):
        egress_send(processor="siem", payload="login failed")


def test_text_to_a_processor_without_baa_is_redacted(sinks: dict[str, FakeSink]) -> None:
    sent = egress_send(
        processor="analytics-webhook",
        payload={"summary": "Caller Jane at 312-555-0147 wants a refill", "turns": 12},
    )
    assert sent == {"summary": "Caller [NAME] at [PHONE] wants a refill", "turns": 12}
    assert sinks["analytics-webhook"].received == [sent]


def test_raw_phi_marker_cannot_go_to_a_processor_without_baa(sinks: dict[str, FakeSink]) -> None:
    with pytest.raises(EgressRefusedError, match="RawPHI"):
        egress_send(processor="alert-chat", payload={"patient": RawPHI("Zephyrine Thornquist")})
    assert sinks["alert-chat"].received == []


@override_settings(PHI_EGRESS_BAA={"summary-webhook": True})
def test_processor_with_baa_receives_the_payload_as_given(sinks: dict[str, FakeSink]) -> None:
    egress_send(processor="summary-webhook", payload={"patient": RawPHI("Zephyrine Thornquist")})
    assert sinks["summary-webhook"].received == [{"patient": "Zephyrine Thornquist"}]


def test_payload_that_still_holds_phi_after_redaction_is_refused(
    sinks: dict[str, FakeSink], monkeypatch: pytest.MonkeyPatch
) -> None:
    # If redaction ever let something through, the second look must stop the send.
    monkeypatch.setattr(egress, "redact_text", lambda text: text)
    with pytest.raises(EgressRefusedError, match="still holds PHI"):
        egress_send(processor="alert-chat", payload="callback 312-555-0147")
    assert sinks["alert-chat"].received == []


def test_objects_that_are_not_plain_data_are_refused(sinks: dict[str, FakeSink]) -> None:
    with pytest.raises(EgressRefusedError, match="only str"):
        egress_send(processor="siem", payload={"user": object()})


def test_full_call_flow_leaves_no_phi_with_processors_without_baa(
    sinks: dict[str, FakeSink],
) -> None:
    transcript = [
        "Agent: Thank you for calling, how can I help?",
        "Caller: Hi, this is Zephyrine Thornquist, I need to move my appointment.",
        "Agent: Can you confirm your date of birth?",
        "Caller: march third nineteen eighty",
        "Agent: And a callback number?",
        "Caller: three one two, five five five, oh one four seven",
        "Caller: my last name is spelled T H O R N Q U I S T",
        "Caller: my member id is a seven six five four three two one",
        "Caller: email me at jane.doe@example.com, my social is 912-34-5678",
        "Agent: You're booked for Thursday at three fifteen, room 4.",
    ]
    with redaction_scope():
        # The voice consumer adds the verified caller's values once identity is confirmed.
        add_known(PATIENT)
        for turn in transcript:
            egress_send(processor="openai", payload={"type": "transcript", "text": turn})
        egress_send(
            processor="analytics-webhook",
            payload={
                "call_id": "CA0001",
                "summary": "Zephyrine Thornquist (DOB 03/03/1980, 312-555-0147) rescheduled; "
                "member A7654321.",
                "transcript": transcript,
                "duration_s": 184,
            },
        )
        egress_send(
            processor="alert-chat",
            payload={"text": "Call CA0001 from 3125550147 (Thornquist) transferred to front desk"},
        )
    for name in ("openai", "analytics-webhook", "alert-chat"):
        dumped = sinks[name].dump()
        assert sinks[name].received
        assert_no_phi(dumped)
    # What is not PHI still reads well downstream.
    analytics = sinks["analytics-webhook"].received[0]
    assert analytics["duration_s"] == 184
    assert "Thursday at three fifteen, room 4" in analytics["transcript"][-1]
    assert "[NAME]" in analytics["summary"]
