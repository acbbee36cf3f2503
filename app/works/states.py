"""The one table of allowed version state changes, and who may make each.

A version moves only through ``transition``; services call it after checking their own
preconditions (an upload is complete, approvals are counted, publication re-checked).
Who may move a version is decided from the actor's relation to that version's work:
its creators, the staff of its organisation by role, or Chorus itself.
"""

from __future__ import annotations

import enum
import logging

from sqlalchemy.orm import Session

from app.audit.services import record
from app.core.actors import Actor, PublicActor, SystemActor
from app.core.clock import utcnow
from app.core.errors import Conflict, PermissionDenied
from app.orgs.models import Role
from app.works.models import Version, VersionState, Work

log = logging.getLogger("chorus.works")

S = VersionState


class Mover(enum.StrEnum):
    """Who is moving a version, relative to its work."""

    CREATOR = "creator"  # a creator of the work
    FACILITATOR = "facilitator"
    PSYCHOLOGIST = "psychologist"  # of the work's organisation, not one of its creators
    ORG_ADMIN = "org_admin"
    SYSTEM = "system"  # jobs, the publication door, consent withdrawal


_CREATOR, _FACILITATOR, _PSYCHOLOGIST, _ADMIN, _SYSTEM = Mover

# Withdrawing one's own work is possible from every state that is not already final.
_WITHDRAWABLE = (
    S.DRAFT,
    S.SUBMITTED,
    S.PROCESSING,
    S.IN_REVIEW,
    S.CHANGES_REQUESTED,
    S.APPROVED,
    S.BLOCKED,
    S.FAILED,
)

TRANSITIONS: dict[tuple[VersionState, VersionState], frozenset[Mover]] = {
    (S.DRAFT, S.SUBMITTED): frozenset({_CREATOR}),
    (S.SUBMITTED, S.PROCESSING): frozenset({_SYSTEM}),
    (S.PROCESSING, S.IN_REVIEW): frozenset({_SYSTEM}),
    (S.PROCESSING, S.BLOCKED): frozenset({_SYSTEM}),
    (S.PROCESSING, S.FAILED): frozenset({_SYSTEM}),
    # Consent recorded or masking chosen: the version goes through the gate again.
    (S.BLOCKED, S.SUBMITTED): frozenset({_CREATOR, _FACILITATOR}),
    (S.IN_REVIEW, S.CHANGES_REQUESTED): frozenset({_PSYCHOLOGIST}),
    (S.IN_REVIEW, S.APPROVED): frozenset({_PSYCHOLOGIST}),
    (S.IN_REVIEW, S.REJECTED): frozenset({_PSYCHOLOGIST}),
    (S.CHANGES_REQUESTED, S.SUBMITTED): frozenset({_CREATOR}),
    # Only through app.review.publishing.publish, which acts as the system.
    (S.APPROVED, S.PUBLISHED): frozenset({_SYSTEM}),
    # publish() refused (consent withdrawn since approval, say): the creators see why.
    (S.APPROVED, S.BLOCKED): frozenset({_SYSTEM}),
    # Pausing a published work takes it down until its creators resume it.
    (S.PUBLISHED, S.APPROVED): frozenset({_CREATOR}),
    (S.PUBLISHED, S.WITHDRAWN): frozenset({_CREATOR, _PSYCHOLOGIST, _ADMIN, _SYSTEM}),
    **{(state, S.WITHDRAWN): frozenset({_CREATOR, _SYSTEM}) for state in _WITHDRAWABLE},
}

FINAL = frozenset({S.WITHDRAWN, S.FAILED, S.REJECTED})
"""States a version never leaves (failed and rejected may still be withdrawn)."""


def organisation_id_of(work: Work) -> int:
    return work.campaign.group.organisation_id


def is_creator(actor: Actor, work: Work) -> bool:
    """Whether the actor made the work or is credited among its creators."""
    if isinstance(actor, SystemActor | PublicActor):
        return False
    return work.created_by_id == actor.id or any(c.user_id == actor.id for c in work.contributors)


def movers_for(actor: Actor, work: Work) -> frozenset[Mover]:
    """Every capacity in which the actor may move this work's versions."""
    if isinstance(actor, SystemActor):
        return frozenset({Mover.SYSTEM})
    if isinstance(actor, PublicActor) or not actor.is_active:
        return frozenset()
    from app.core.permissions import role_in

    movers: set[Mover] = set()
    creator = is_creator(actor, work)
    if creator:
        movers.add(Mover.CREATOR)
    role = role_in(actor, organisation_id_of(work))
    if role is Role.FACILITATOR:
        movers.add(Mover.FACILITATOR)
    elif role is Role.ORG_ADMIN:
        movers.add(Mover.ORG_ADMIN)
    elif role is Role.PSYCHOLOGIST and not creator:
        movers.add(Mover.PSYCHOLOGIST)
    return frozenset(movers)


def allowed(version: Version, target: VersionState, actor: Actor) -> bool:
    """Whether ``actor`` may move ``version`` to ``target`` now."""
    movers = TRANSITIONS.get((version.state, target), frozenset())
    return bool(movers & movers_for(actor, version.work))


def transition(
    session: Session,
    version: Version,
    target: VersionState,
    *,
    actor: Actor,
    reason: str = "",
) -> Version:
    """Move ``version`` to ``target``, record why, and write an audit event.

    ``reason`` is shown to the creators (blocked, failed, changes requested), so it is
    in plain words and never carries detector output about a person. Raises
    ``Conflict`` if the table has no such move from the current state, and
    ``PermissionDenied`` if the actor may not make it.
    """
    movers = TRANSITIONS.get((version.state, target))
    if movers is None:
        raise Conflict(
            f"A version that is {version.state.value.replace('_', ' ')} cannot become "
            f"{target.value.replace('_', ' ')}."
        )
    if not movers & movers_for(actor, version.work):
        raise PermissionDenied("You do not have permission to do that.")
    previous = version.state
    version.state = target
    version.state_reason = reason
    version.state_changed_at = utcnow()
    session.flush()
    record(
        session,
        actor=actor,
        action=f"version.{target.value}",
        subject_type="version",
        subject_id=version.id,
        organisation_id=organisation_id_of(version.work),
        data={"from": previous.value, "to": target.value, "work": version.work_id},
    )
    log.info("version %s: %s -> %s", version.id, previous.value, target.value)
    return version
