"""Curating exhibitions: staff create them, choose and order published works, write the
introduction, and open and close them.

Every function checks ``Permission.CURATE_EXHIBITIONS`` in the exhibition's
organisation, writes an audit event (ids and states only, never titles or texts) and
flushes; the caller commits. Positions run 1, 2, 3… without gaps.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.services import record
from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.core.permissions import Permission, require
from app.gallery.generation import bump
from app.gallery.models import Exhibition, ExhibitionItem
from app.groups.models import Campaign, Group
from app.orgs.models import Organisation
from app.review.models import Publication
from app.works.models import Work

GALLERY = "gallery"
MAX_WORKS = 200
MAX_INTRODUCTION = 10_000
SLUG_LENGTH = 60
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class ExhibitionState(enum.StrEnum):
    DRAFT = "draft"  # never opened (or opening later): not public
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"draft": "Draft", "open": "Open", "closed": "Closed"}[self.value]


def state_of(exhibition: Exhibition, *, at: datetime | None = None) -> ExhibitionState:
    """Draft until its opening time, closed from its closing time, open in between."""
    now = at or utcnow()
    if exhibition.opened_at is None or exhibition.opened_at > now:
        return ExhibitionState.DRAFT
    if exhibition.closed_at is not None and exhibition.closed_at <= now:
        return ExhibitionState.CLOSED
    return ExhibitionState.OPEN


def exhibition_by_slug(session: Session, slug: str) -> Exhibition:
    """Raises ``NotFound``."""
    exhibition = session.scalars(select(Exhibition).where(Exhibition.slug == slug)).first()
    if exhibition is None:
        raise NotFound("There is no such exhibition.")
    return exhibition


def _curate(actor: Actor, exhibition: Exhibition) -> int:
    """The exhibition's organisation id, if the actor may curate there."""
    if exhibition.organisation_id is None:
        raise PermissionDenied("This exhibition no longer belongs to an organisation.")
    require(actor, Permission.CURATE_EXHIBITIONS, exhibition.organisation_id)
    return exhibition.organisation_id


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    exhibition: Exhibition,
    data: dict[str, object] | None = None,
) -> None:
    bump(session)  # the public pages change with it
    record(
        session,
        actor=actor,
        action=f"exhibition.{action}",
        subject_type="exhibition",
        subject_id=exhibition.id,
        organisation_id=exhibition.organisation_id,
        data=data,
    )


def slugify(text: str) -> str:
    """ASCII lower-case words joined by dashes: "Voix d'été" -> "voix-d-ete"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:SLUG_LENGTH].rstrip("-") or "exhibition"


def _free_slug(session: Session, base: str) -> str:
    taken = set(
        session.scalars(
            select(Exhibition.slug).where(
                (Exhibition.slug == base) | Exhibition.slug.startswith(f"{base}-", autoescape=True)
            )
        )
    )
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


def _texts(title: str, introduction: str) -> tuple[str, str]:
    title = " ".join(title.split())
    if not 1 <= len(title) <= 200:
        raise ValidationFailed("An exhibition title needs 1 to 200 characters.")
    introduction = introduction.replace("\r\n", "\n").strip()
    if len(introduction) > MAX_INTRODUCTION:
        raise ValidationFailed("Keep the introduction under 10,000 characters.")
    return title, introduction


def create_exhibition(
    session: Session,
    *,
    actor: Actor,
    organisation: Organisation,
    title: str,
    introduction: str = "",
    slug: str | None = None,
) -> Exhibition:
    """Create a draft exhibition. Its web address (``slug``) is made from the title
    unless given, and never changes afterwards, so printed addresses keep working.
    Raises ``PermissionDenied``, ``ValidationFailed``."""
    require(actor, Permission.CURATE_EXHIBITIONS, organisation.id)
    title, introduction = _texts(title, introduction)
    if slug:
        slug = slug.strip().lower()
        if len(slug) > SLUG_LENGTH or not SLUG.fullmatch(slug):
            raise ValidationFailed(
                "A web address uses lower-case letters a to z, digits and single dashes, "
                f"at most {SLUG_LENGTH} characters."
            )
        if session.scalar(select(Exhibition.id).where(Exhibition.slug == slug)) is not None:
            raise ValidationFailed("Another exhibition already uses that web address.")
    else:
        slug = _free_slug(session, slugify(title))
    exhibition = Exhibition(
        organisation_id=organisation.id,
        slug=slug,
        title=title,
        introduction=introduction,
        created_by_id=actor.id if isinstance(actor, User) else None,
    )
    session.add(exhibition)
    session.flush()
    _audit(session, actor, "created", exhibition)
    return exhibition


def update_exhibition(
    session: Session, *, actor: Actor, exhibition: Exhibition, title: str, introduction: str
) -> None:
    """Change the title and introduction (no event when nothing changes). Raises
    ``PermissionDenied``, ``ValidationFailed``."""
    _curate(actor, exhibition)
    texts = _texts(title, introduction)
    if texts == (exhibition.title, exhibition.introduction):
        return
    exhibition.title, exhibition.introduction = texts
    session.flush()
    _audit(session, actor, "updated", exhibition)


def _items(session: Session, exhibition: Exhibition) -> list[ExhibitionItem]:
    return list(
        session.scalars(
            select(ExhibitionItem)
            .where(ExhibitionItem.exhibition_id == exhibition.id)
            .order_by(ExhibitionItem.position)
        )
    )


def _renumber(session: Session, exhibition: Exhibition, items: list[ExhibitionItem]) -> None:
    """Give ``items`` the positions 1, 2, 3… in this order. Two steps, so that no row
    ever takes a position another still holds (the pair is unique and not deferrable):
    first every row moves to a negative position, then to its final one."""
    for index, item in enumerate(items, start=1):
        item.position = -index
    session.flush()
    for index, item in enumerate(items, start=1):
        item.position = index
    session.flush()
    session.expire(exhibition, ["items"])


def _organisation_id_of(session: Session, work: Work) -> int | None:
    return session.scalar(
        select(Group.organisation_id)
        .join(Campaign, Campaign.group_id == Group.id)
        .where(Campaign.id == work.campaign_id)
    )


def add_work(
    session: Session, *, actor: Actor, exhibition: Exhibition, work: Work
) -> ExhibitionItem:
    """Add a work at the end. Only works of the exhibition's organisation that are live
    in the gallery now can be added. Raises ``PermissionDenied``, ``ValidationFailed``,
    ``Conflict``."""
    organisation_id = _curate(actor, exhibition)
    if _organisation_id_of(session, work) != organisation_id:
        raise ValidationFailed("Only works of this organisation can be shown in its exhibitions.")
    live = session.scalar(
        select(Publication.id).where(
            Publication.work_id == work.id,
            Publication.channel == GALLERY,
            Publication.withdrawn_at.is_(None),
        )
    )
    if live is None:
        raise Conflict("Only works published in the gallery now can be added.")
    if session.get(ExhibitionItem, (exhibition.id, work.id)) is not None:
        raise Conflict("This work is already in the exhibition.")
    count, last = session.execute(
        select(func.count(), func.coalesce(func.max(ExhibitionItem.position), 0)).where(
            ExhibitionItem.exhibition_id == exhibition.id
        )
    ).one()
    if count >= MAX_WORKS:
        raise ValidationFailed(f"An exhibition can show at most {MAX_WORKS} works.")
    item = ExhibitionItem(exhibition_id=exhibition.id, work_id=work.id, position=last + 1)
    session.add(item)
    session.flush()
    session.expire(exhibition, ["items"])
    _audit(
        session, actor, "work_added", exhibition, {"work_id": work.id, "position": item.position}
    )
    return item


def _item(items: list[ExhibitionItem], work: Work) -> ExhibitionItem:
    found = next((item for item in items if item.work_id == work.id), None)
    if found is None:
        raise NotFound("That work is not in this exhibition.")
    return found


def remove_work(session: Session, *, actor: Actor, exhibition: Exhibition, work: Work) -> None:
    """Take a work out; the works after it move up. Raises ``PermissionDenied``,
    ``NotFound``."""
    _curate(actor, exhibition)
    items = _items(session, exhibition)
    item = _item(items, work)
    session.delete(item)
    session.flush()
    _renumber(session, exhibition, [i for i in items if i is not item])
    _audit(session, actor, "work_removed", exhibition, {"work_id": work.id})


def move_work(
    session: Session,
    *,
    actor: Actor,
    exhibition: Exhibition,
    work: Work,
    position: int | None = None,
    by: int = 0,
) -> None:
    """Move a work to ``position`` (1 is first), or ``by`` places (-1 is up one, 1 down
    one); the others close up around it. Raises ``PermissionDenied``, ``NotFound``,
    ``ValidationFailed``."""
    _curate(actor, exhibition)
    items = _items(session, exhibition)
    item = _item(items, work)
    previous = items.index(item) + 1
    target = position if position is not None else previous + by
    if not 1 <= target <= len(items):
        if position is None and by < 0:
            raise ValidationFailed("This work is already first.")
        if position is None and by > 0:
            raise ValidationFailed("This work is already last.")
        raise ValidationFailed(f"Choose a position from 1 to {len(items)}.")
    if target == previous:
        return
    items.remove(item)
    items.insert(target - 1, item)
    _renumber(session, exhibition, items)
    _audit(
        session,
        actor,
        "work_moved",
        exhibition,
        {"work_id": work.id, "from": previous, "to": target},
    )


def open_exhibition(session: Session, *, actor: Actor, exhibition: Exhibition) -> None:
    """Open a draft exhibition to the public now, or reopen a closed one. Raises
    ``PermissionDenied``, ``Conflict``."""
    _curate(actor, exhibition)
    state = state_of(exhibition)
    if state is ExhibitionState.OPEN:
        raise Conflict("This exhibition is already open.")
    if not _items(session, exhibition):
        raise Conflict("Add at least one work before opening the exhibition.")
    if state is ExhibitionState.DRAFT:
        exhibition.opened_at = utcnow()
    exhibition.closed_at = None
    session.flush()
    _audit(session, actor, "reopened" if state is ExhibitionState.CLOSED else "opened", exhibition)


def close_exhibition(session: Session, *, actor: Actor, exhibition: Exhibition) -> None:
    """Close an open exhibition now: its page says so and shows no works. Raises
    ``PermissionDenied``, ``Conflict``."""
    _curate(actor, exhibition)
    if state_of(exhibition) is not ExhibitionState.OPEN:
        raise Conflict("Only an open exhibition can be closed.")
    exhibition.closed_at = utcnow()
    session.flush()
    _audit(session, actor, "closed", exhibition)
