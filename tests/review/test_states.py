"""The transition table, walked for every pair of states and every kind of actor."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.core.actors import PUBLIC, SYSTEM, Actor
from app.core.errors import Conflict, PermissionDenied
from app.orgs.models import Organisation, Role
from app.works.models import Version, VersionState, Work, WorkContributor
from app.works.states import TRANSITIONS, Mover, movers_for, transition


@pytest.fixture
def cast(
    session: Session,
    make_org: Callable[..., Organisation],
    make_staff: Callable[..., User],
    make_work: Callable[..., Work],
    make_member: Callable[..., User],
) -> tuple[Work, dict[str, tuple[Actor, frozenset[Mover]]]]:
    """A work and everyone who might try to move its versions, with the capacities
    each should have."""
    organisation = make_org("adpare")
    other = make_org("mist")
    work = make_work(organisation)
    co_psychologist = make_staff(organisation, Role.PSYCHOLOGIST, "co-creating-psychologist")
    session.add(WorkContributor(work_id=work.id, user_id=co_psychologist.id))
    session.commit()
    session.refresh(work)
    actors: dict[str, tuple[Actor, frozenset[Mover]]] = {
        "creator": (work.created_by, frozenset({Mover.CREATOR})),
        "other creator": (make_member(work.campaign, "other-creator"), frozenset()),
        "facilitator": (
            make_staff(organisation, Role.FACILITATOR, "fac-2"),
            frozenset({Mover.FACILITATOR}),
        ),
        "psychologist": (
            make_staff(organisation, Role.PSYCHOLOGIST),
            frozenset({Mover.PSYCHOLOGIST}),
        ),
        "co-creating psychologist": (co_psychologist, frozenset({Mover.CREATOR})),
        "org admin": (make_staff(organisation, Role.ORG_ADMIN), frozenset({Mover.ORG_ADMIN})),
        "psychologist elsewhere": (make_staff(other, Role.PSYCHOLOGIST), frozenset()),
        "system": (SYSTEM, frozenset({Mover.SYSTEM})),
        "public": (PUBLIC, frozenset()),
    }
    return work, actors


def test_each_actor_acts_in_the_expected_capacity(cast) -> None:  # type: ignore[no-untyped-def]
    work, actors = cast
    for name, (actor, expected) in actors.items():
        assert movers_for(actor, work) == expected, name


def test_the_whole_table_for_every_actor(session: Session, cast) -> None:  # type: ignore[no-untyped-def]
    work, actors = cast
    version = Version(work_id=work.id, number=1, created_by_id=work.created_by_id)
    session.add(version)
    session.commit()
    checked = 0
    for source, target in itertools.product(VersionState, VersionState):
        movers = TRANSITIONS.get((source, target))
        for name, (actor, capacities) in actors.items():
            version.state = source
            session.flush()
            events = session.scalar(select(func.count()).select_from(AuditEvent))
            if movers is None:
                with pytest.raises(Conflict):
                    transition(session, version, target, actor=actor)
                assert version.state is source
            elif movers & capacities:
                transition(session, version, target, actor=actor, reason="why")
                assert version.state is target, (source, target, name)
                assert version.state_reason == "why"
                after = session.scalar(select(func.count()).select_from(AuditEvent))
                assert after == events + 1
            else:
                with pytest.raises(PermissionDenied):
                    transition(session, version, target, actor=actor)
                assert version.state is source, (source, target, name)
            checked += 1
    assert checked == len(VersionState) ** 2 * len(actors)


def test_the_gallery_is_reached_only_by_the_system() -> None:
    into_published = {
        pair: m for pair, m in TRANSITIONS.items() if pair[1] is VersionState.PUBLISHED
    }
    assert into_published == {
        (VersionState.APPROVED, VersionState.PUBLISHED): frozenset({Mover.SYSTEM})
    }


def test_only_psychologists_decide_and_never_facilitators() -> None:
    for (source, target), movers in TRANSITIONS.items():
        if (
            target in {VersionState.APPROVED, VersionState.REJECTED}
            and source is VersionState.IN_REVIEW
        ):
            assert movers == frozenset({Mover.PSYCHOLOGIST})
        assert Mover.FACILITATOR not in movers or target is VersionState.SUBMITTED
