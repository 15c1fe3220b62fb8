"""The request- or call-scoped redaction context: the known PHI values of what is being served.

A view, admin page or call consumer that has a patient in hand calls
`add_known(name=..., date_of_birth=..., phone=..., mrn=...)`; from then on, in that request or
call (a contextvar, so it follows asyncio tasks and `sync_to_async`), every redaction (logs,
error reports, egress) also masks those values in all their written and spoken forms.
`redaction_scope()` opens a fresh scope and restores the previous one on exit; the middleware
opens one per request, the voice consumer one per call.

Invariant: values live only in memory for the scope's life; they are never logged or stored.
"""

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

Known = dict[str, tuple[str, ...]]

# Canonical keys; other spellings callers (and models) use map onto them.
KEY_ALIASES = {
    "name": "name",
    "full_name": "name",
    "first_name": "name",
    "last_name": "name",
    "middle_name": "name",
    "preferred_name": "name",
    "date_of_birth": "date_of_birth",
    "dob": "date_of_birth",
    "birth_date": "date_of_birth",
    "phone": "phone",
    "phone_number": "phone",
    "mobile": "phone",
    "mrn": "mrn",
    "member_id": "mrn",
    "insurance_member_id": "mrn",
    "email": "email",
    "address": "address",
    "ssn": "ssn",
}

_KNOWN: ContextVar[tuple[tuple[str, tuple[str, ...]], ...]] = ContextVar(
    "phi_redaction_known", default=()
)


def normalize_known(values: Mapping[str, object]) -> Known:
    """Canonical keys and string values; dates become ISO strings, empties are dropped."""
    out: Known = {}
    for key, raw in values.items():
        canonical = KEY_ALIASES.get(key)
        if canonical is None:
            raise ValueError(f"unknown known-value key {key!r}; use one of {sorted(KEY_ALIASES)}")
        items = raw if isinstance(raw, list | tuple | set | frozenset) else (raw,)
        for item in items:
            if item is None or item == "":
                continue
            text = item.isoformat() if isinstance(item, dt.date) else str(item).strip()
            if text and text not in out.get(canonical, ()):
                out[canonical] = (*out.get(canonical, ()), text)
    return out


def merge_known(base: Mapping[str, tuple[str, ...]], extra: Mapping[str, object]) -> Known:
    """base plus extra (normalised), without duplicates."""
    merged: Known = {k: tuple(v) for k, v in base.items()}
    for key, items in normalize_known(extra).items():
        for item in items:
            if item not in merged.get(key, ()):
                merged[key] = (*merged.get(key, ()), item)
    return merged


def current_known() -> Known:
    """The known values of the current request or call."""
    return dict(_KNOWN.get())


def add_known(values: Mapping[str, object] | None = None, /, **kwargs: object) -> None:
    """Add values (e.g. the verified caller's name and date of birth) to the current scope."""
    merged = merge_known(current_known(), {**(values or {}), **kwargs})
    _KNOWN.set(tuple(sorted(merged.items())))


def clear_known() -> None:
    """Forget every known value in the current scope (e.g. when a call ends)."""
    _KNOWN.set(())


@contextmanager
def redaction_scope(known: Mapping[str, object] | None = None) -> Iterator[None]:
    """A fresh scope (optionally seeded); the previous one comes back on exit."""
    token = _KNOWN.set(tuple(sorted(normalize_known(known or {}).items())))
    try:
        yield
    finally:
        _KNOWN.reset(token)
