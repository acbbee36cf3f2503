"""Read-only questions about exhibitions, for the public pages, the kiosk and the
curators' pages. No Flask here.

The public sees only works whose gallery publication is live at this moment: a work
withdrawn after it was added stays in the curated list (staff see it marked) but
disappears from every public page at once. Each function runs a fixed number of
queries, however many works an exhibition holds.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased, contains_eager, selectinload
from sqlalchemy.sql.expression import Exists

from app.gallery.models import Exhibition, ExhibitionItem
from app.gallery.queries import KIND_LABELS, Picture, picture
from app.groups.models import Campaign, Group
from app.orgs.models import Organisation
from app.policies.schema import MediaPolicy
from app.review.models import Publication, PublicationFile
from app.works.models import Work

GALLERY = "gallery"
KIOSK = "kiosk"
EXCERPT = 600  # characters of a transcript a kiosk slide shows


def file_url(file: PublicationFile) -> str:
    """The public address of a published file. Must match the gallery's media route
    (``/media/<file_id>``, which answers 410 once the publication is withdrawn)."""
    return f"/media/{file.id}"


def work_url(work_id: int) -> str:
    """The public page of a work in the gallery."""
    return f"/gallery/works/{work_id}"


def paragraphs(text: str) -> list[str]:
    """Plain text split into paragraphs at blank lines (line breaks inside a paragraph
    are kept by the page's CSS). Never HTML."""
    return [
        part.strip() for part in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if part.strip()
    ]


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The start of a text, cut at a word and marked with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def kiosk_channels(policy: MediaPolicy) -> tuple[str, ...]:
    """The channels a work must be live on to appear on a kiosk. Consent is given per
    channel: an organisation whose policy names a ``kiosk`` channel has its people
    consent to kiosks separately, so its works need a live kiosk publication as well
    as the gallery one. Elsewhere a kiosk shows the gallery's own exhibition."""
    return (GALLERY, KIOSK) if KIOSK in policy.publication.channels else (GALLERY,)


# --- Pictures ------------------------------------------------------------------------


def pictures(files: Iterable[PublicationFile]) -> list[Picture]:
    """Every picture of a publication in reading order: a fanzine's pages, an image,
    a video's poster. Audio and text have none."""
    ordered = sorted(files, key=lambda f: (f.position, f.page, f.width or 0))
    found = (
        picture(group) for _, group in itertools.groupby(ordered, lambda f: (f.position, f.page))
    )
    return [p for p in found if p is not None]


# --- What the public sees ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shown:
    """A live work in an exhibition, with its pictures."""

    position: int
    work: Work
    pictures: list[Picture]

    @property
    def cover(self) -> Picture | None:
        return self.pictures[0] if self.pictures else None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.work.kind]

    @property
    def summary(self) -> str:
        """What a kiosk shows of a work without pictures: its transcript's start."""
        return excerpt(self.work.transcript or self.work.alt_text)


@dataclass(frozen=True, slots=True)
class Showing:
    works: list[Shown]
    after: int | None  # the position to continue after, or None on the last page


def _live(channel: str) -> Select[int, Publication]:
    return (
        select(ExhibitionItem.position, Publication)
        .join(Publication, Publication.work_id == ExhibitionItem.work_id)
        .join(Publication.work)
        .where(Publication.channel == channel, Publication.withdrawn_at.is_(None))
    )


def showing(
    session: Session,
    exhibition: Exhibition,
    *,
    channels: Sequence[str] = (GALLERY,),
    after: int = 0,
    limit: int | None = None,
) -> Showing:
    """The works of the exhibition live on every one of ``channels`` now, in the
    curated order, after position ``after`` (a keyset), at most ``limit`` of them.
    Files come from the gallery publication, whose media route serves them. Three
    queries whatever the number of works."""
    statement = (
        _live(GALLERY)
        .where(ExhibitionItem.exhibition_id == exhibition.id, ExhibitionItem.position > after)
        .options(contains_eager(Publication.work), selectinload(Publication.files))
        .order_by(ExhibitionItem.position)
    )
    for channel in channels:
        if channel != GALLERY:
            other = aliased(Publication)
            statement = statement.where(
                exists().where(
                    other.work_id == ExhibitionItem.work_id,
                    other.channel == channel,
                    other.withdrawn_at.is_(None),
                )
            )
    if limit is not None:
        statement = statement.limit(limit + 1)
    rows = session.execute(statement).all()
    more = limit is not None and len(rows) > limit
    rows = rows[:limit] if limit is not None else rows
    works = [
        Shown(position, publication.work, pictures(publication.files))
        for position, publication in rows
    ]
    return Showing(works, works[-1].position if more else None)


def organisation_of(session: Session, exhibition: Exhibition) -> Organisation | None:
    if exhibition.organisation_id is None:
        return None
    return session.get(Organisation, exhibition.organisation_id)


# --- What curators see ---------------------------------------------------------------


def organisation_exhibitions(
    session: Session, organisation: Organisation
) -> list[tuple[Exhibition, int]]:
    """The organisation's exhibitions, newest first, each with its number of works."""
    count = (
        select(func.count())
        .where(ExhibitionItem.exhibition_id == Exhibition.id)
        .correlate(Exhibition)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Exhibition, count)
        .where(Exhibition.organisation_id == organisation.id)
        .order_by(Exhibition.created_at.desc(), Exhibition.id.desc())
    ).all()
    return [(exhibition, works) for exhibition, works in rows]


@dataclass(frozen=True, slots=True)
class Curated:
    position: int
    work: Work
    live: bool  # shown to the public now

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.work.kind]


def _is_live() -> Exists:
    return exists().where(
        Publication.work_id == Work.id,
        Publication.channel == GALLERY,
        Publication.withdrawn_at.is_(None),
    )


def curated(session: Session, exhibition: Exhibition) -> list[Curated]:
    """Every work in the exhibition in order, live or not."""
    rows = session.execute(
        select(ExhibitionItem.position, Work, _is_live().label("live"))
        .join(Work, Work.id == ExhibitionItem.work_id)
        .where(ExhibitionItem.exhibition_id == exhibition.id)
        .order_by(ExhibitionItem.position)
    ).all()
    return [Curated(position, work, live) for position, work, live in rows]


def addable(session: Session, exhibition: Exhibition) -> list[Work]:
    """The organisation's works live in the gallery now and not in the exhibition,
    most recently published first."""
    in_exhibition = select(ExhibitionItem.work_id).where(
        ExhibitionItem.exhibition_id == exhibition.id
    )
    return list(
        session.scalars(
            select(Work)
            .join(Publication, Publication.work_id == Work.id)
            .join(Campaign, Campaign.id == Work.campaign_id)
            .join(Group, Group.id == Campaign.group_id)
            .where(
                Group.organisation_id == exhibition.organisation_id,
                Publication.channel == GALLERY,
                Publication.withdrawn_at.is_(None),
                Work.id.not_in(in_exhibition),
            )
            .order_by(Publication.published_at.desc(), Work.id.desc())
        )
    )
