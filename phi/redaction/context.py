"""The request- or call-scoped redaction context: the known PHI values of what is being served.

A view, admin page or call consumer that has a patient in hand calls
`add_known(name=..., date_of_birth=..., phone=..., mrn=...)`; from then on, in that request or
call (a contextvar, so it follows asyncio tasks and `sync_to_async`), every redaction (logs,
error reports, egress) also masks those values in all their written and spoken forms.
`redaction_scope()` opens a fresh scope and restores the previous one on exit; the middleware
opens one per request, the voice consumer one per call.

The contextvar holds a mutable scope object, not the values themselves: a call's tasks are
started before the caller is verified, and `add_known` in the tool task must reach the audio
and logging tasks of the same call, which share the scope object but not later `set()`s.

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


class _Scope:
    """One request's or call's known values; shared by every task of that request or call."""

    __slots__ = ("known",)

    def __init__(self, known: Known | None = None) -> None:
        self.known: Known = known or {}


_SCOPE: ContextVar[_Scope | None] = ContextVar("phi_redaction_scope", default=None)
# The engine reads the scope itself on every text (a call to has_known() costs it more than
# the lookup); nothing else should.
SCOPE = _SCOPE


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
    scope = _SCOPE.get()
    return dict(scope.known) if scope is not None else {}


def has_known() -> bool:
    """Whether the current scope holds any known value (the engine's fast path)."""
    scope = _SCOPE.get()
    return scope is not None and bool(scope.known)


def add_known(values: Mapping[str, object] | None = None, /, **kwargs: object) -> None:
    """Add values (e.g. the verified caller's name and date of birth) to the current scope."""
    scope = _SCOPE.get()
    if scope is None:  # no request or call scope open: start one for this context
        scope = _Scope()
        _SCOPE.set(scope)
    scope.known = merge_known(scope.known, {**(values or {}), **kwargs})


def clear_known() -> None:
    """Forget every known value in the current scope (e.g. when a call ends)."""
    scope = _SCOPE.get()
    if scope is not None:
        scope.known = {}


@contextmanager
def redaction_scope(known: Mapping[str, object] | None = None) -> Iterator[None]:
    """A fresh scope (optionally seeded); the previous one comes back on exit."""
    token = _SCOPE.set(_Scope(normalize_known(known or {})))
    try:
        yield
    finally:
        _SCOPE.reset(token)
