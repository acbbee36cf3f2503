"""Read-only questions for the public gallery. No Flask here.

The gallery shows only live publications on the ``gallery`` channel: what ``publish()``
let through and nobody has withdrawn since. Lists page by a keyset on the indexed
``(published_at, id)``, newest first, never by OFFSET, and load what a page shows in a
fixed number of queries (eager loading), however many works there are.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from app.core.clock import utcnow
from app.core.errors import ChorusError, NotFound
from app.core.languages import name_of
from app.gallery.models import Exhibition
from app.groups.models import Campaign, Group
from app.media.html_policy import clean_html
from app.orgs.models import Organisation
from app.review.models import FileRole, Publication, PublicationFile
from app.storage.base import Area, Storage
from app.works.models import Credit, Work, WorkKind

CHANNEL = "gallery"
PAGE_SIZE = 24
SCRIPT_LIMIT = 2 * 1024 * 1024  # bytes of a script's HTML read for its page
WEB_IMAGES = frozenset({"image/jpeg", "image/png", "image/webp"})
RENDITIONS = (FileRole.IMAGE, FileRole.PAGE, FileRole.POSTER)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

KIND_LABELS = {
    WorkKind.FANZINE: "Fanzine",
    WorkKind.PERFORMANCE: "Performance",
    WorkKind.PODCAST: "Podcast",
    WorkKind.SCRIPT: "Script",
}


class Withdrawn(ChorusError):
    """The work (or file) was in the gallery once and is not any more (410)."""

    def __init__(self) -> None:
        super().__init__("This work has been withdrawn.")


# --- Pictures -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Picture:
    """One picture in every published size, smallest first: JPEG renditions for
    ``<img srcset>`` (WebP alone when there is no JPEG) with WebP ones beside them,
    or the published image file itself when no rendition exists."""

    img: list[PublicationFile]
    webp: list[PublicationFile]

    def fallback(self, target: int = 640) -> PublicationFile:
        """The ``<img src>``: the smallest candidate at least ``target`` pixels wide."""
        wide = [f for f in self.img if (f.width or 0) >= target]
        return wide[0] if wide else self.img[-1]

    @property
    def largest(self) -> PublicationFile:
        return self.img[-1]

    @property
    def sized(self) -> bool:
        """Whether every candidate knows its width (renditions do), for ``srcset``."""
        return all(f.role is not FileRole.FILE and f.width for f in self.img)


def picture(files: Iterable[PublicationFile]) -> Picture | None:
    """The picture among the files of one page (or image, or video poster)."""
    files = list(files)
    renditions = sorted(
        (f for f in files if f.role in RENDITIONS and f.width), key=lambda f: f.width or 0
    )
    jpeg = [f for f in renditions if f.media_type == "image/jpeg"]
    webp = [f for f in renditions if f.media_type == "image/webp"]
    if jpeg or webp:
        return Picture(img=jpeg or webp, webp=webp if jpeg else [])
    image = next((f for f in files if f.role is FileRole.FILE and f.media_type in WEB_IMAGES), None)
    return Picture(img=[image], webp=[]) if image else None


# --- Cards ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Card:
    publication: Publication
    work: Work
    organisation: Organisation
    credit: str | None
    picture: Picture | None = None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.work.kind]


def credit_line(work: Work, organisation: Organisation) -> str | None:
    """How the creators are credited, as the work's credit mode says. A collective
    credit names the organisation, never the group: a group's name is internal and
    could say where it meets."""
    if work.credit is Credit.COLLECTIVE:
        return f"Made together by a group at {organisation.name}"
    if work.credit is Credit.PSEUDONYM:
        contributors = sorted(work.contributors, key=lambda c: c.user_id)
        names = [c.pseudonym.strip() for c in contributors if c.pseudonym.strip()]
        return "By " + ", ".join(names) if names else None
    return None


def _live() -> Select[Publication]:
    """Live gallery publications with their work, campaign, group and organisation
    joined (for filters) and loaded (for display)."""
    return (
        select(Publication)
        .join(Publication.work)
        .join(Work.campaign)
        .join(Campaign.group)
        .join(Group.organisation)
        .where(Publication.channel == CHANNEL, Publication.withdrawn_at.is_(None))
        .options(
            contains_eager(Publication.work).options(
                selectinload(Work.contributors),
                contains_eager(Work.campaign)
                .contains_eager(Campaign.group)
                .contains_eager(Group.organisation),
            )
        )
    )


def _covers(session: Session, ids: Sequence[int]) -> dict[int, Picture]:
    """The first picture of each publication (page renditions, a poster, an image), in
    one query: every size of its first (position, page) that has a picture."""
    if not ids:
        return {}
    pictorial = or_(
        PublicationFile.role.in_(RENDITIONS),
        and_(PublicationFile.role == FileRole.FILE, PublicationFile.media_type.in_(WEB_IMAGES)),
    )
    ranked = (
        select(
            PublicationFile.id,
            func.dense_rank()
            .over(
                partition_by=PublicationFile.publication_id,
                order_by=(PublicationFile.position, PublicationFile.page),
            )
            .label("rank"),
        )
        .where(PublicationFile.publication_id.in_(ids), pictorial)
        .subquery()
    )
    files = session.scalars(
        select(PublicationFile)
        .join(ranked, ranked.c.id == PublicationFile.id)
        .where(ranked.c.rank == 1)
        .order_by(PublicationFile.publication_id)
    )
    covers = {}
    for publication_id, group in itertools.groupby(files, key=lambda f: f.publication_id):
        if found := picture(group):
            covers[publication_id] = found
    return covers


def _cards(
    session: Session, publications: Sequence[Publication], *, pictures: bool = True
) -> list[Card]:
    covers = _covers(session, [p.id for p in publications]) if pictures else {}
    cards = []
    for publication in publications:
        work = publication.work
        organisation = work.campaign.group.organisation
        cards.append(
            Card(
                publication,
                work,
                organisation,
                credit_line(work, organisation),
                covers.get(publication.id),
            )
        )
    return cards


def cards_for_works(session: Session, work_ids: Sequence[int]) -> dict[int, Card]:
    """Cards of those works that are live in the gallery now, by work id (for an
    exhibition's page); a work not live is simply absent."""
    if not work_ids:
        return {}
    publications = session.scalars(_live().where(Publication.work_id.in_(work_ids))).all()
    return {card.work.id: card for card in _cards(session, publications)}


# --- Lists: filters and keyset pagination ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page of the list ends: the last publication's time and id."""

    published_at: datetime
    id: int

    def encode(self) -> str:
        return f"{(self.published_at - _EPOCH) // timedelta(microseconds=1)}-{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Parse ``encode``'s output; ``NotFound`` for anything else."""
        micro, _, ident = text.partition("-")
        if not (micro.isdigit() and ident.isdigit() and len(micro) <= 18 and len(ident) <= 18):
            raise NotFound("That page of the gallery does not exist.")
        return cls(_EPOCH + timedelta(microseconds=int(micro)), int(ident))


@dataclass(frozen=True, slots=True)
class Filters:
    kind: WorkKind | None = None
    organisation: str | None = None  # slug
    campaign: int | None = None
    language: str | None = None

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Filters:
        """Filters from a query string; empty values mean "any". ``NotFound`` for a
        value no form could send."""
        kind, organisation, campaign, language = (
            (args.get(name) or "").strip()
            for name in ("kind", "organisation", "campaign", "language")
        )
        if kind and kind not in set(WorkKind):
            raise NotFound("There is no such kind of work.")
        if campaign and not (campaign.isdigit() and len(campaign) <= 18):
            raise NotFound("There is no such campaign.")
        if len(organisation) > 40 or len(language) > 8:
            raise NotFound("There is nothing to show for that choice.")
        return cls(
            kind=WorkKind(kind) if kind else None,
            organisation=organisation or None,
            campaign=int(campaign) if campaign else None,
            language=language or None,
        )

    def as_args(self) -> dict[str, str]:
        args = {
            "kind": self.kind.value if self.kind else "",
            "organisation": self.organisation or "",
            "campaign": str(self.campaign) if self.campaign is not None else "",
            "language": self.language or "",
        }
        return {name: value for name, value in args.items() if value}

    def apply(self, statement: Select[Publication]) -> Select[Publication]:
        if self.kind is not None:
            statement = statement.where(Work.kind == self.kind)
        if self.organisation is not None:
            statement = statement.where(Organisation.slug == self.organisation)
        if self.campaign is not None:
            statement = statement.where(Work.campaign_id == self.campaign)
        if self.language is not None:
            statement = statement.where(Work.language == self.language)
        return statement


@dataclass(frozen=True, slots=True)
class CardPage:
    cards: list[Card]
    next: Cursor | None  # None on the last page


def latest(
    session: Session,
    *,
    filters: Filters | None = None,
    after: Cursor | None = None,
    limit: int = PAGE_SIZE,
    pictures: bool = True,
) -> CardPage:
    """One page of live works, newest first, after ``after`` (exclusive)."""
    statement = (filters or Filters()).apply(_live())
    if after is not None:
        # The leading range condition lets the index (channel, published_at, id) start
        # at the cursor instead of walking every newer row down to it.
        statement = statement.where(
            Publication.published_at <= after.published_at,
            or_(
                Publication.published_at < after.published_at,
                and_(Publication.published_at == after.published_at, Publication.id < after.id),
            ),
        )
    statement = statement.order_by(Publication.published_at.desc(), Publication.id.desc())
    publications = session.scalars(statement.limit(limit + 1)).all()
    more = len(publications) > limit
    publications = publications[:limit]
    last = publications[-1] if more else None
    return CardPage(
        _cards(session, publications, pictures=pictures),
        Cursor(last.published_at, last.id) if last else None,
    )


@dataclass(slots=True)
class Choices:
    """What the browse form offers: only what has live works."""

    organisations: list[tuple[str, str]] = field(default_factory=list)  # slug, name
    campaigns: list[tuple[int, str]] = field(default_factory=list)  # id, label
    languages: list[str] = field(default_factory=list)


def choices(session: Session) -> Choices:
    rows = session.execute(
        select(Organisation.slug, Organisation.name, Campaign.id, Campaign.title, Work.language)
        .select_from(Publication)
        .join(Publication.work)
        .join(Work.campaign)
        .join(Campaign.group)
        .join(Group.organisation)
        .where(Publication.channel == CHANNEL, Publication.withdrawn_at.is_(None))
        .distinct()
    ).all()
    found = Choices()
    found.organisations = sorted({(r[0], r[1]) for r in rows}, key=lambda o: o[1].lower())
    found.campaigns = sorted({(r[2], f"{r[3]} ({r[1]})") for r in rows}, key=lambda c: c[1].lower())
    found.languages = sorted({r[4] for r in rows}, key=name_of)
    return found


def current_exhibitions(session: Session, *, at: datetime | None = None) -> list[Exhibition]:
    """Exhibitions open now: opened, and not closed yet."""
    now = at or utcnow()
    return list(
        session.scalars(
            select(Exhibition)
            .where(
                Exhibition.opened_at <= now,
                or_(Exhibition.closed_at.is_(None), Exhibition.closed_at > now),
            )
            .order_by(Exhibition.opened_at.desc(), Exhibition.id.desc())
        )
    )


# --- One work ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a fanzine: a picture, or a PDF that has no page pictures."""

    picture: Picture | None = None
    document: PublicationFile | None = None


@dataclass(frozen=True, slots=True)
class WorkView:
    card: Card
    pages: list[Page]  # a fanzine's pages, in order
    media: PublicationFile | None  # the audio, video or script file
    poster: Picture | None

    @property
    def work(self) -> Work:
        return self.card.work


def _gone_or_missing(session: Session, work_id: int) -> ChorusError:
    ever = session.scalar(
        select(Publication.id)
        .where(Publication.work_id == work_id, Publication.channel == CHANNEL)
        .limit(1)
    )
    return Withdrawn() if ever is not None else NotFound("There is no such work in the gallery.")


def _pages(files: Sequence[PublicationFile]) -> list[Page]:
    pages: list[Page] = []
    for _position, group in itertools.groupby(files, key=lambda f: f.position):
        in_position = list(group)
        pictures = [
            found
            for _page, by_page in itertools.groupby(in_position, key=lambda f: f.page)
            if (found := picture(by_page))
        ]
        if pictures:
            pages += [Page(picture=p) for p in pictures]
        elif document := next((f for f in in_position if f.role is FileRole.FILE), None):
            pages.append(Page(document=document))
    return pages


def work_view(session: Session, work_id: int) -> WorkView:
    """The work's live gallery publication and its files. ``NotFound`` if the work was
    never in the gallery, ``Withdrawn`` if it was but is not now."""
    publication = session.scalars(
        _live().where(Publication.work_id == work_id).options(selectinload(Publication.files))
    ).one_or_none()
    if publication is None:
        raise _gone_or_missing(session, work_id)
    [card] = _cards(session, [publication], pictures=False)
    files = sorted(publication.files, key=lambda f: (f.position, f.page, f.width or 0))
    media = next(
        (
            f
            for f in files
            if f.role is FileRole.FILE and f.media_type.split("/")[0] in ("audio", "video", "text")
        ),
        None,
    )
    return WorkView(
        card,
        pages=_pages(files) if card.work.kind is WorkKind.FANZINE else [],
        media=media,
        poster=picture(f for f in files if f.role is FileRole.POSTER),
    )


def script_html(storage: Storage, file: PublicationFile) -> str:
    """A script's HTML fragment, read from the public area and passed once more
    through the publishing allow-list (which leaves clean HTML unchanged), so even a
    file altered in storage cannot bring scripts into the page."""
    with storage.open(Area.PUBLIC, file.key) as stream:
        fragment = stream.read(SCRIPT_LIMIT).decode("utf-8", errors="replace")
    return clean_html(fragment)


def live_captions(session: Session, work_id: int) -> str:
    """The captions (WebVTT) of a live work. ``NotFound`` when it has none or was never
    in the gallery, ``Withdrawn`` when it no longer is."""
    captions = session.scalar(
        select(Work.captions)
        .join(Publication, Publication.work_id == Work.id)
        .where(
            Work.id == work_id,
            Publication.channel == CHANNEL,
            Publication.withdrawn_at.is_(None),
        )
    )
    if captions is None:
        raise _gone_or_missing(session, work_id)
    if not captions.strip():
        raise NotFound("This work has no captions.")
    return captions


def public_file(session: Session, file_id: int) -> PublicationFile:
    """A file of a live gallery publication. ``NotFound`` for an unknown file,
    ``Withdrawn`` once its publication has ended."""
    row = session.execute(
        select(PublicationFile, Publication.withdrawn_at)
        .join(PublicationFile.publication)
        .where(PublicationFile.id == file_id, Publication.channel == CHANNEL)
    ).one_or_none()
    if row is None:
        raise NotFound("There is no such file.")
    if row.withdrawn_at is not None:
        raise Withdrawn()
    return row[0]
