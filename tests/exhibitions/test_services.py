"""Curating: who may, which works, order without gaps, opening and closing, and an
audit event for every change."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.audit.services import verify
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.gallery import services
from app.gallery.models import Exhibition, ExhibitionItem
from app.gallery.services import ExhibitionState, state_of
from app.orgs.models import Organisation, Role
from app.review.models import Publication
from app.works.models import Work

Orgs = Callable[[str], Organisation]
Staff = Callable[[Organisation, Role], User]
Publish = Callable[..., Publication]


def order(session: Session, exhibition: Exhibition) -> list[tuple[int, int]]:
    """(position, work id) straight from the database."""
    session.expire_all()
    rows = session.execute(
        select(ExhibitionItem.position, ExhibitionItem.work_id)
        .where(ExhibitionItem.exhibition_id == exhibition.id)
        .order_by(ExhibitionItem.position)
    ).all()
    return [(position, work_id) for position, work_id in rows]


def actions(session: Session, exhibition: Exhibition) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.subject_type == "exhibition", AuditEvent.subject_id == exhibition.id)
            .order_by(AuditEvent.seq)
        )
    )


def test_slugs_are_ascii_dashes_made_from_the_title_and_unique(
    session: Session, organisation: Orgs, staff: Staff
) -> None:
    adpare = organisation("adpare")
    curator = staff(adpare, Role.FACILITATOR)
    first = services.create_exhibition(
        session, actor=curator, organisation=adpare, title="  Voix d'été — Ünïcode!  "
    )
    second = services.create_exhibition(
        session, actor=curator, organisation=adpare, title="Voix d'été — Ünïcode"
    )
    symbols = services.create_exhibition(session, actor=curator, organisation=adpare, title="★★★")
    assert (first.slug, second.slug, symbols.slug) == (
        "voix-d-ete-unicode",
        "voix-d-ete-unicode-2",
        "exhibition",
    )
    assert first.title == "Voix d'été — Ünïcode!"
    assert state_of(first) is ExhibitionState.DRAFT
    assert first.created_by_id == curator.id
    assert len(services.slugify("word " * 40)) <= services.SLUG_LENGTH


def test_a_chosen_slug_must_be_well_formed_and_free(
    session: Session, organisation: Orgs, staff: Staff
) -> None:
    adpare = organisation("adpare")
    admin = staff(adpare, Role.ORG_ADMIN)
    made = services.create_exhibition(
        session, actor=admin, organisation=adpare, title="Spring", slug="spring-2026"
    )
    assert made.slug == "spring-2026"
    for bad in ("Spring 2026", "spring--2026", "-spring", "été", "x" * 61):
        with pytest.raises(ValidationFailed):
            services.create_exhibition(
                session, actor=admin, organisation=adpare, title="Spring", slug=bad
            )
    with pytest.raises(ValidationFailed, match="already uses"):
        services.create_exhibition(
            session, actor=admin, organisation=adpare, title="Other", slug="spring-2026"
        )
    for title in ("", "   ", "x" * 201):
        with pytest.raises(ValidationFailed):
            services.create_exhibition(session, actor=admin, organisation=adpare, title=title)


@pytest.mark.parametrize("role", [Role.PSYCHOLOGIST, Role.CREATOR])
def test_psychologists_and_creators_cannot_curate(
    session: Session,
    organisation: Orgs,
    staff: Staff,
    make_creator: Callable[..., User],
    publish: Publish,
    exhibit: Callable[..., Exhibition],
    role: Role,
) -> None:
    adpare = organisation("adpare")
    work = publish(adpare).work
    exhibition = exhibit(adpare, [work], opened=False)
    actor = make_creator(adpare) if role is Role.CREATOR else staff(adpare, role)
    with pytest.raises(PermissionDenied):
        services.create_exhibition(session, actor=actor, organisation=adpare, title="Mine")
    _every_change_refused(session, actor, exhibition, work)


def test_curators_of_another_organisation_cannot_curate(
    session: Session,
    organisation: Orgs,
    staff: Staff,
    publish: Publish,
    exhibit: Callable[..., Exhibition],
) -> None:
    adpare, mist = organisation("adpare"), organisation("mist")
    work = publish(adpare).work
    exhibition = exhibit(adpare, [work], opened=False)
    for role in (Role.FACILITATOR, Role.ORG_ADMIN):
        outsider = staff(mist, role)
        with pytest.raises(PermissionDenied):
            services.create_exhibition(session, actor=outsider, organisation=adpare, title="X")
        _every_change_refused(session, outsider, exhibition, work)


def _every_change_refused(
    session: Session, actor: User, exhibition: Exhibition, work: Work
) -> None:
    changes: list[Callable[[], object]] = [
        lambda: services.update_exhibition(
            session, actor=actor, exhibition=exhibition, title="T", introduction=""
        ),
        lambda: services.add_work(session, actor=actor, exhibition=exhibition, work=work),
        lambda: services.move_work(session, actor=actor, exhibition=exhibition, work=work, by=1),
        lambda: services.remove_work(session, actor=actor, exhibition=exhibition, work=work),
        lambda: services.open_exhibition(session, actor=actor, exhibition=exhibition),
        lambda: services.close_exhibition(session, actor=actor, exhibition=exhibition),
    ]
    for change in changes:
        with pytest.raises(PermissionDenied):
            change()


def test_only_live_gallery_works_of_the_organisation_can_be_added(
    session: Session,
    organisation: Orgs,
    staff: Staff,
    publish: Publish,
    make_work: Callable[..., Work],
    take_down: Callable[[Publication], None],
) -> None:
    adpare, mist = organisation("adpare"), organisation("mist")
    curator = staff(adpare, Role.FACILITATOR)
    exhibition = services.create_exhibition(
        session, actor=curator, organisation=adpare, title="Spring"
    )
    live = publish(adpare)
    withdrawn = publish(adpare, title="Gone")
    take_down(withdrawn)
    elsewhere = publish(mist)
    draft = make_work(adpare)

    item = services.add_work(session, actor=curator, exhibition=exhibition, work=live.work)
    assert item.position == 1
    with pytest.raises(Conflict, match="already in"):
        services.add_work(session, actor=curator, exhibition=exhibition, work=live.work)
    for not_live in (withdrawn.work, draft):
        with pytest.raises(Conflict, match="published in the gallery"):
            services.add_work(session, actor=curator, exhibition=exhibition, work=not_live)
    with pytest.raises(ValidationFailed, match="this organisation"):
        services.add_work(session, actor=curator, exhibition=exhibition, work=elsewhere.work)
    session.commit()
    assert order(session, exhibition) == [(1, live.work_id)]


def test_moving_and_removing_keep_positions_unique_and_without_gaps(
    session: Session,
    organisation: Orgs,
    staff: Staff,
    publish: Publish,
    exhibit: Callable[..., Exhibition],
) -> None:
    adpare = organisation("adpare")
    curator = staff(adpare, Role.ORG_ADMIN)
    a, b, c, d, e = (publish(adpare, title=t).work for t in "ABCDE")
    exhibition = exhibit(adpare, [a, b, c, d, e], opened=False)
    ids = {w.id: w.title for w in (a, b, c, d, e)}

    def titles() -> str:
        rows = order(session, exhibition)
        assert [position for position, _ in rows] == list(range(1, len(rows) + 1))
        return "".join(ids[work_id] for _, work_id in rows)

    assert titles() == "ABCDE"
    services.move_work(session, actor=curator, exhibition=exhibition, work=c, by=-1)
    assert titles() == "ACBDE"
    services.move_work(session, actor=curator, exhibition=exhibition, work=a, by=1)
    assert titles() == "CABDE"
    services.move_work(session, actor=curator, exhibition=exhibition, work=e, position=1)
    assert titles() == "ECABD"
    services.move_work(session, actor=curator, exhibition=exhibition, work=e, position=5)
    assert titles() == "CABDE"
    services.move_work(session, actor=curator, exhibition=exhibition, work=b, position=3)
    assert titles() == "CABDE"  # already there: nothing changes
    services.remove_work(session, actor=curator, exhibition=exhibition, work=a)
    assert titles() == "CBDE"
    services.remove_work(session, actor=curator, exhibition=exhibition, work=e)
    assert titles() == "CBD"
    session.commit()
    assert titles() == "CBD"
    assert [item.work_id for item in exhibition.items] == [c.id, b.id, d.id]

    with pytest.raises(ValidationFailed, match="already first"):
        services.move_work(session, actor=curator, exhibition=exhibition, work=c, by=-1)
    with pytest.raises(ValidationFailed, match="already last"):
        services.move_work(session, actor=curator, exhibition=exhibition, work=d, by=1)
    for position in (0, 4, -1):
        with pytest.raises(ValidationFailed, match="from 1 to 3"):
            services.move_work(
                session, actor=curator, exhibition=exhibition, work=c, position=position
            )
    with pytest.raises(NotFound):
        services.remove_work(session, actor=curator, exhibition=exhibition, work=a)
    with pytest.raises(NotFound):
        services.move_work(session, actor=curator, exhibition=exhibition, work=e, by=1)
    # A work removed can come back, at the end.
    assert services.add_work(session, actor=curator, exhibition=exhibition, work=a).position == 4
    assert titles() == "CBDA"


def test_open_close_and_reopen(
    session: Session,
    organisation: Orgs,
    staff: Staff,
    publish: Publish,
) -> None:
    adpare = organisation("adpare")
    curator = staff(adpare, Role.FACILITATOR)
    exhibition = services.create_exhibition(
        session, actor=curator, organisation=adpare, title="Spring"
    )
    with pytest.raises(Conflict, match="at least one work"):
        services.open_exhibition(session, actor=curator, exhibition=exhibition)
    with pytest.raises(Conflict, match="Only an open"):
        services.close_exhibition(session, actor=curator, exhibition=exhibition)
    services.add_work(session, actor=curator, exhibition=exhibition, work=publish(adpare).work)

    services.open_exhibition(session, actor=curator, exhibition=exhibition)
    opened_at = exhibition.opened_at
    assert state_of(exhibition) is ExhibitionState.OPEN
    assert exhibition.closed_at is None
    with pytest.raises(Conflict, match="already open"):
        services.open_exhibition(session, actor=curator, exhibition=exhibition)

    services.close_exhibition(session, actor=curator, exhibition=exhibition)
    assert state_of(exhibition) is ExhibitionState.CLOSED
    with pytest.raises(Conflict):
        services.close_exhibition(session, actor=curator, exhibition=exhibition)

    services.open_exhibition(session, actor=curator, exhibition=exhibition)
    session.commit()
    session.refresh(exhibition)
    assert state_of(exhibition) is ExhibitionState.OPEN
    assert exhibition.opened_at == opened_at  # when it first opened
    assert exhibition.closed_at is None


def test_every_change_writes_an_audit_event_with_ids_only(
    session: Session,
    organisation: Orgs,
    staff: Staff,
    publish: Publish,
) -> None:
    adpare = organisation("adpare")
    curator = staff(adpare, Role.FACILITATOR)
    first, second = publish(adpare).work, publish(adpare).work
    exhibition = services.create_exhibition(
        session, actor=curator, organisation=adpare, title="Secret title", introduction="Intro"
    )
    services.update_exhibition(
        session, actor=curator, exhibition=exhibition, title="Secret title 2", introduction="More"
    )
    services.add_work(session, actor=curator, exhibition=exhibition, work=first)
    services.add_work(session, actor=curator, exhibition=exhibition, work=second)
    services.move_work(session, actor=curator, exhibition=exhibition, work=second, by=-1)
    services.remove_work(session, actor=curator, exhibition=exhibition, work=first)
    services.open_exhibition(session, actor=curator, exhibition=exhibition)
    services.close_exhibition(session, actor=curator, exhibition=exhibition)
    services.open_exhibition(session, actor=curator, exhibition=exhibition)
    session.commit()

    assert actions(session, exhibition) == [
        "exhibition.created",
        "exhibition.updated",
        "exhibition.work_added",
        "exhibition.work_added",
        "exhibition.work_moved",
        "exhibition.work_removed",
        "exhibition.opened",
        "exhibition.closed",
        "exhibition.reopened",
    ]
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.subject_type == "exhibition")
    ).all()
    assert {(e.actor_id, e.organisation_id) for e in events} == {(curator.id, adpare.id)}
    moved = next(e for e in events if e.action == "exhibition.work_moved")
    assert moved.data == {"work_id": second.id, "from": 2, "to": 1}
    assert all("Secret" not in str(e.data) and "Intro" not in str(e.data) for e in events)
    assert verify(session).intact
