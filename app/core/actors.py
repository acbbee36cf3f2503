"""Who is acting. Every service takes an explicit actor: a signed-in user, the system
(background jobs, CLI), or an anonymous member of the public (a withdrawal code)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Union

if TYPE_CHECKING:
    from app.accounts.models import User


@dataclass(frozen=True, slots=True)
class SystemActor:
    """Chorus itself: jobs, the command line, start-up. Never stands in for a person."""

    kind: Literal["system"] = "system"


@dataclass(frozen=True, slots=True)
class PublicActor:
    """Someone without an account, e.g. redeeming an invitation or using a withdrawal code."""

    kind: Literal["public"] = "public"


SYSTEM = SystemActor()
PUBLIC = PublicActor()

Actor = Union["User", SystemActor, PublicActor]  # noqa: UP007 - forward reference


def actor_ref(actor: Actor) -> tuple[str, int | None]:
    """(kind, user id) of an actor, as the audit log records it."""
    if isinstance(actor, SystemActor | PublicActor):
        return actor.kind, None
    return "user", actor.id
