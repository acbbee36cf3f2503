"""Psychologists' reviews: take a version in review, decide, and let approval lead to
publication. An approval belongs to one version; a new version needs a new review."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.services import record
from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.db import after_commit
from app.core.errors import Conflict, PermissionDenied, ValidationFailed
from app.policies.schema import MediaPolicy
from app.review.models import Review, ReviewDecision
from app.review.publishing import approvals
from app.works.models import Version, VersionState
from app.works.states import Mover, movers_for, organisation_id_of, transition

STALE = timedelta(hours=2)  # an open review untouched this long may be taken over
_TARGET = {
    ReviewDecision.APPROVED: VersionState.APPROVED,
    ReviewDecision.CHANGES_REQUESTED: VersionState.CHANGES_REQUESTED,
    ReviewDecision.REJECTED: VersionState.REJECTED,
}


def _require_reviewer(actor: Actor, version: Version) -> None:
    if Mover.PSYCHOLOGIST not in movers_for(actor, version.work):
        raise PermissionDenied(
            "Only a psychologist of the organisation who did not co-create it can review it."
        )


def open_review(session: Session, version: Version) -> Review | None:
    return session.scalars(
        select(Review).where(Review.version_id == version.id, Review.decision.is_(None))
    ).first()


def start_review(session: Session, *, actor: Actor, version: Version) -> Review:
    """Take a version in review. One psychologist at a time (the database holds one
    open review per version); a review left open for two hours may be taken over.
    Raises ``PermissionDenied``, ``Conflict``."""
    _require_reviewer(actor, version)
    assert isinstance(actor, User)  # noqa: S101 - only users review
    if version.state is not VersionState.IN_REVIEW:
        raise Conflict("This version is not waiting for review.")
    if version.work.paused_at is not None:
        raise Conflict("This work is paused by its creators.")
    current = open_review(session, version)
    if current is not None:
        if current.reviewer_id == actor.id:
            return current
        if utcnow() - current.opened_at < STALE:
            raise Conflict("Another psychologist is reviewing this version right now.")
        session.delete(current)
        session.flush()
    already = session.scalars(
        select(Review).where(Review.version_id == version.id, Review.reviewer_id == actor.id)
    ).first()
    if already is not None:
        raise Conflict("You have already reviewed this version.")
    review = Review(version_id=version.id, reviewer_id=actor.id)
    session.add(review)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("Another psychologist is reviewing this version right now.") from None
    _audit(session, actor, "review.started", review, version)
    return review


def decide(
    session: Session,
    *,
    actor: Actor,
    review: Review,
    decision: ReviewDecision,
    policy: MediaPolicy,
    note: str,
    wellbeing_check: str = "",
) -> Review:
    """Record the reviewer's decision with a note to the creators. Approval by as many
    psychologists as the policy asks makes the version approved and queues its
    publication; changes requested and rejection need a note. Raises
    ``PermissionDenied``, ``Conflict``, ``ValidationFailed``."""
    version = review.version
    _require_reviewer(actor, version)
    if review.reviewer_id != getattr(actor, "id", None) or review.decision is not None:
        raise Conflict("This review is not open for you.")
    if version.state is not VersionState.IN_REVIEW:
        raise Conflict("This version is not waiting for review.")
    if version.work.paused_at is not None:
        raise Conflict("This work is paused by its creators.")
    note, wellbeing_check = note.strip(), wellbeing_check.strip()
    if decision is not ReviewDecision.APPROVED and not note:
        raise ValidationFailed("Write a note to the creators saying what should change or why.")
    if len(note) > 5000 or len(wellbeing_check) > 2000:
        raise ValidationFailed("The note is too long.")
    review.decision = decision
    review.note = note
    review.wellbeing_check = wellbeing_check
    review.decided_at = utcnow()
    session.flush()
    _audit(session, actor, f"review.{decision.value}", review, version)
    if decision is ReviewDecision.APPROVED:
        if approvals(session, version) < policy.review.approvals_required:
            return review  # waits for another psychologist
        transition(session, version, VersionState.APPROVED, actor=actor)
        version_id = version.id

        def queue_publication() -> None:
            from app.review import jobs

            jobs.publish_version(version_id)

        after_commit(session, queue_publication)
    else:
        transition(session, version, _TARGET[decision], actor=actor, reason=note)
    return review


def _audit(session: Session, actor: Actor, action: str, review: Review, version: Version) -> None:
    record(
        session,
        actor=actor,
        action=action,
        subject_type="review",
        subject_id=review.id,
        organisation_id=organisation_id_of(version.work),
        data={"version": version.id},
    )
