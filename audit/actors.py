"""Who acted: a user, the system, the voice receptionist, or an anonymous caller of login.

Invariant: an Actor holds only an id and a non-PHI label (a username, a call SID), never a
model instance, so the audit trail outlives deleted users and never joins to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ActorType(StrEnum):
    """Kinds of actor; stored as text in every event."""

    USER = "user"
    SYSTEM = "system"
    VOICE_AGENT = "voice_agent"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Actor:
    """An actor as the chain stores it: type, id (or None) and a short label."""

    type: str
    id: str | None
    label: str

    @classmethod
    def from_user(cls, user: Any) -> Actor:
        """The actor for a Django user; an anonymous user becomes ANONYMOUS."""
        if user is None or not getattr(user, "is_authenticated", False):
            return cls.anonymous()
        return cls(ActorType.USER.value, str(user.pk), user.get_username())

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        """The system itself (a command, a scheduled job, a migration)."""
        return cls(ActorType.SYSTEM.value, None, label)

    @classmethod
    def voice_agent(cls, call_sid: str) -> Actor:
        """The phone receptionist acting within one call, identified by its call SID."""
        return cls(ActorType.VOICE_AGENT.value, str(call_sid), "voice receptionist")

    @classmethod
    def anonymous(cls, label: str = "") -> Actor:
        """Someone not logged in (a failed login names the username tried as label)."""
        return cls(ActorType.ANONYMOUS.value, None, label)


def actor_resolve(actor: Any) -> Actor:
    """An Actor from what a caller passed: an Actor, a Django user, or None for the system."""
    if actor is None:
        return Actor.system()
    if isinstance(actor, Actor):
        return actor
    if hasattr(actor, "get_username") or hasattr(actor, "is_authenticated"):
        return Actor.from_user(actor)
    raise TypeError(
        f"audit actor must be a Django user, an audit.actors.Actor or None, not {type(actor).__name__}"
    )
