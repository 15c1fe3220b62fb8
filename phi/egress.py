"""The egress registry: every outside processor, its BAA status, and the one way to send to it.

Each processor that text can leave for (realtime speech providers, analytics and summary
webhooks, alert e-mail and chat, the SIEM) is declared here with whether a Business Associate
Agreement covers it. Settings may flip a BAA flag (`PHI_EGRESS_BAA = {"openai": True}`) once
the contract is signed, or add processors (`PHI_EGRESS_PROCESSORS`).

`egress_send(processor=..., payload=...)` is how code hands data to a processor's transport:
- to a processor with a BAA the payload goes as given;
- to one without, every string in the payload (nested dicts and lists too) is redacted first,
  with the current scope's known values, and then checked again: if the engine still finds
  PHI, or the payload carries a `RawPHI` value (data someone marked as PHI on purpose), the
  send is refused with `EgressRefusedError` and nothing leaves.
`processor_allowed_for_phi(name)` answers whether raw PHI may flow to a processor (BAA, or
strict mode off: `PHI_EGRESS_STRICT`, default True); the voice receptionist asks it before
opening a realtime session.

Invariant: no code path sends a non-BAA processor anything the engine would still mask.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from django.conf import settings

from phi.errors import PHIError
from phi.redaction import find_spans, redact_text

logger = logging.getLogger(__name__)


class ProcessorKind(StrEnum):
    """What sort of outside service a processor is."""

    REALTIME = "realtime"
    WEBHOOK = "webhook"
    EMAIL = "email"
    CHAT = "chat"
    SIEM = "siem"


class EgressError(PHIError):
    """Base class for egress failures."""


class UnknownProcessorError(EgressError):
    """The processor is not declared in the egress registry; declare it with its BAA status."""


class EgressRefusedError(EgressError):
    """The payload would carry PHI to a processor without a BAA, so nothing was sent."""


class NoTransportError(EgressError):
    """The processor has no transport configured (egress_transport_set) in this process."""


@dataclass(frozen=True, slots=True)
class Processor:
    """An outside service data can be sent to, and whether a BAA covers it."""

    name: str
    kind: ProcessorKind
    baa: bool
    description: str = ""


@dataclass(frozen=True, slots=True)
class RawPHI:
    """A value that is PHI by declaration; it may only go to a processor with a BAA."""

    value: Any


Transport = Callable[[Any], Any]

# Declared processors. BAA flags default to False: a BAA is a signed contract, so it is
# switched on in settings by whoever holds it, never assumed by code.
BUILTIN_PROCESSORS = (
    Processor("openai", ProcessorKind.REALTIME, False, "OpenAI Realtime speech-to-speech"),
    Processor("azure-openai", ProcessorKind.REALTIME, False, "Azure OpenAI Realtime"),
    Processor("analytics-webhook", ProcessorKind.WEBHOOK, False, "call analytics webhook"),
    Processor("summary-webhook", ProcessorKind.WEBHOOK, False, "call summary webhook"),
    Processor("alert-email", ProcessorKind.EMAIL, False, "operational alert e-mail"),
    Processor("alert-chat", ProcessorKind.CHAT, False, "operational alert chat channel"),
    Processor("siem", ProcessorKind.SIEM, False, "security event log (SIEM)"),
)

_extra: dict[str, Processor] = {}
_transports: dict[str, Transport] = {}


def processor_register(
    *, name: str, kind: ProcessorKind | str, baa: bool, description: str = ""
) -> Processor:
    """Declare (or redeclare) a processor at runtime; settings still decide its BAA flag."""
    processor = Processor(name, ProcessorKind(kind), baa, description)
    _extra[name] = processor
    return processor_get(name)


def processor_list() -> list[Processor]:
    """Every declared processor, with the BAA status settings give it."""
    declared: dict[str, Processor] = {p.name: p for p in BUILTIN_PROCESSORS}
    for name, spec in getattr(settings, "PHI_EGRESS_PROCESSORS", {}).items():
        declared[name] = Processor(
            name,
            ProcessorKind(spec.get("kind", ProcessorKind.WEBHOOK)),
            bool(spec.get("baa", False)),
            spec.get("description", ""),
        )
    declared.update(_extra)
    flags: Mapping[str, bool] = getattr(settings, "PHI_EGRESS_BAA", {})
    return [
        replace(p, baa=bool(flags[p.name])) if p.name in flags else p for p in declared.values()
    ]


def processor_get(name: str) -> Processor:
    """The declared processor called name."""
    for processor in processor_list():
        if processor.name == name:
            return processor
    raise UnknownProcessorError(
        f"egress processor {name!r} is not declared; add it to PHI_EGRESS_PROCESSORS in "
        "settings with its BAA status before sending anything to it"
    )


def egress_strict() -> bool:
    """Strict mode: raw PHI only to processors with a BAA (PHI_EGRESS_STRICT, default True)."""
    return bool(getattr(settings, "PHI_EGRESS_STRICT", True))


def processor_allowed_for_phi(name: str) -> bool:
    """May raw PHI (e.g. a live call's audio) go to this processor?"""
    return processor_get(name).baa or not egress_strict()


def egress_transport_set(name: str, transport: Transport | None) -> None:
    """Install (or remove) the callable that actually delivers to a processor."""
    processor_get(name)
    if transport is None:
        _transports.pop(name, None)
    else:
        _transports[name] = transport


def egress_prepare(*, processor: str, payload: Any) -> Any:
    """The payload as it may leave for processor: unchanged under a BAA, else redacted."""
    target = processor_get(processor)
    if target.baa:
        return _unwrap(payload)
    cleaned = _redact_payload(payload, path="payload")
    leftover = _first_phi(cleaned, path="payload")
    if leftover is not None:
        raise EgressRefusedError(
            f"refused to send to {processor!r} (no BAA): {leftover} still holds PHI after redaction"
        )
    return cleaned


def egress_send(*, processor: str, payload: Any) -> Any:
    """Deliver payload to processor (redacted unless a BAA covers it); returns what was sent."""
    prepared = egress_prepare(processor=processor, payload=payload)
    transport = _transports.get(processor)
    if transport is None:
        raise NoTransportError(
            f"no transport for egress processor {processor!r}; call egress_transport_set()"
        )
    transport(prepared)
    logger.info("egress sent to %s (baa=%s)", processor, processor_get(processor).baa)
    return prepared


def _unwrap(payload: Any) -> Any:
    if isinstance(payload, RawPHI):
        return _unwrap(payload.value)
    if isinstance(payload, Mapping):
        return {k: _unwrap(v) for k, v in payload.items()}
    if isinstance(payload, list | tuple):
        return [_unwrap(v) for v in payload]
    return payload


def _redact_payload(payload: Any, *, path: str) -> Any:
    if isinstance(payload, RawPHI):
        raise EgressRefusedError(f"{path} is marked RawPHI and the processor has no BAA")
    if isinstance(payload, str):
        return redact_text(payload)
    if isinstance(payload, Mapping):
        return {k: _redact_payload(v, path=f"{path}.{k}") for k, v in payload.items()}
    if isinstance(payload, list | tuple):
        return [_redact_payload(v, path=f"{path}[{i}]") for i, v in enumerate(payload)]
    if isinstance(payload, bool | int | float) or payload is None:
        return payload
    raise EgressRefusedError(
        f"{path} is a {type(payload).__name__}; only str, numbers, dicts and lists can be "
        "sent to a processor without a BAA"
    )


def _first_phi(payload: Any, *, path: str) -> str | None:
    if isinstance(payload, str):
        return path if find_spans(payload) and _unmasked(payload) else None
    if isinstance(payload, Mapping):
        for k, v in payload.items():
            hit = _first_phi(v, path=f"{path}.{k}")
            if hit:
                return hit
    if isinstance(payload, list):
        for i, v in enumerate(payload):
            hit = _first_phi(v, path=f"{path}[{i}]")
            if hit:
                return hit
    return None


def _unmasked(text: str) -> bool:
    # A second pass over masked text may see a placeholder next to a cue ("[NAME]"); only
    # spans outside placeholders count as PHI left behind.
    return any("[" not in text[s.start : s.end] for s in find_spans(text))
