"""Read-only questions for psychologists: the review queue, and what the review page
shows of a version — only its cleaned files, with what the detectors found drawn over
them, the sanitization report and the consent status. No Flask here."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.consent.models import Modality, Person
from app.consent.queries import covering_consents
from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.errors import ChorusError, NotFound
from app.groups.models import Campaign, Group
from app.media.detectors.personal_data import find_personal_data
from app.media.types import Family, MediaType
from app.orgs.models import Role
from app.policies.loader import PolicyRegistry
from app.policies.schema import MediaPolicy
from app.review.models import Review
from app.review.publishing import approvals
from app.review.services import STALE, open_review
from app.storage.base import Area, Storage
from app.works import explain
from app.works.models import Asset, Version, VersionState, Work, WorkContributor
from app.works.states import Mover, movers_for, organisation_id_of

IMAGE_HEAD = 1024 * 1024  # enough of a clean image to read its size from the header
SCRIPT_LIMIT = 4 * 1024 * 1024  # a clean script is at most a few hundred KB


@dataclass(frozen=True, slots=True)
class QueueItem:
    version: Version
    approvals: int
    required: int
    taken: bool  # another psychologist has it open

    @property
    def approvals_text(self) -> str:
        noun = "approval" if self.required == 1 else "approvals"
        return f"{self.approvals} of {self.required} {noun}"


@dataclass(frozen=True, slots=True)
class Box:
    x: int
    y: int
    width: int
    height: int
    masked: bool


@dataclass(frozen=True, slots=True)
class Overlay:
    """Face boxes over a picture, in the picture's own pixels (an SVG ``viewBox``)."""

    width: int
    height: int
    boxes: list[Box]


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    kind: str | None = None  # the kind of personal data, for a highlighted segment


@dataclass(slots=True)
class AssetReview:
    asset: Asset
    family: Family
    overlay: Overlay | None = None
    faces: list[str] = field(default_factory=list)  # found faces in words (video, PDF)
    speech: list[str] = field(default_factory=list)
    removed: list[tuple[str, int, str]] = field(default_factory=list)  # kind, count, words
    personal_data: list[str] = field(default_factory=list)
    script: list[Segment] | None = None
    script_hits: int = 0
    notes: list[str] = field(default_factory=list)
    anonymised: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConsentSummary:
    faces: int  # most unmasked faces in one picture or frame
    faces_masked: bool
    face_consents: int  # people
    speech_seconds: float
    voice_altered: bool
    voice_consents: int
    policy_faces: str
    policy_voices: str

    @property
    def speech(self) -> str:
        return explain.duration(self.speech_seconds) if self.speech_seconds > 0 else "none heard"


@dataclass(frozen=True, slots=True)
class ReviewPage:
    version: Version
    work: Work
    status: str
    approvals: int
    required: int
    assets: list[AssetReview]
    consent: ConsentSummary
    mine: Review | None  # the actor's own review of this version, open or decided
    taken: bool  # another psychologist has it open
    can_start: bool
    can_decide: bool


def psychologist_organisations(user: User) -> list[int]:
    if not user.is_active:
        return []
    return [m.organisation_id for m in user.memberships if m.role is Role.PSYCHOLOGIST]


def _queue_versions(session: Session, user: User, organisation_ids: Sequence[int]) -> list[Version]:
    decided_by_me = exists().where(
        Review.version_id == Version.id,
        Review.reviewer_id == user.id,
        Review.decision.is_not(None),
    )
    co_created = or_(
        Work.created_by_id == user.id,
        Work.contributors.any(WorkContributor.user_id == user.id),
    )
    return list(
        session.scalars(
            select(Version)
            .join(Work, Work.id == Version.work_id)
            .join(Campaign, Campaign.id == Work.campaign_id)
            .join(Group, Group.id == Campaign.group_id)
            .where(
                Version.state == VersionState.IN_REVIEW,
                Group.organisation_id.in_(list(organisation_ids)),
                Work.paused_at.is_(None),
                ~decided_by_me,
                ~co_created,
            )
            .order_by(Version.state_changed_at, Version.id)
        )
    )


def queue_count(session: Session, user: User, organisation_id: int) -> int:
    """How many versions wait for this psychologist in one organisation (dashboard)."""
    if organisation_id not in psychologist_organisations(user):
        return 0
    return len(_queue_versions(session, user, [organisation_id]))


def _taken(session: Session, version: Version, user: User) -> bool:
    current = open_review(session, version)
    return (
        current is not None
        and current.reviewer_id != user.id
        and utcnow() - current.opened_at < STALE
    )


def review_queue(session: Session, user: User, policies: PolicyRegistry) -> list[QueueItem]:
    """Versions in review in the psychologist's organisations that they did not
    co-create and have not decided yet, oldest first."""
    return [
        QueueItem(
            version,
            approvals(session, version),
            policies.get(version.work.campaign.group.organisation.slug).review.approvals_required,
            _taken(session, version, user),
        )
        for version in _queue_versions(session, user, psychologist_organisations(user))
    ]


def reviewable_version(session: Session, actor: Actor, version_id: int) -> Version:
    """A version the actor may review: a psychologist of its organisation who did not
    co-create it. Anyone else is told there is no such version."""
    version = session.get(Version, version_id)
    if version is None or Mover.PSYCHOLOGIST not in movers_for(actor, version.work):
        raise NotFound("There is no such version.")
    return version


def _time(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{secs:04.1f}"


def _image_size(storage: Storage, key: str) -> tuple[int, int] | None:
    """The clean picture's size from its header, or None if it cannot be read."""
    try:
        path = storage.local_path(Area.PRIVATE, key)
        if path is not None:
            with Image.open(path) as image:
                return image.size
        with storage.open(Area.PRIVATE, key) as stream:
            head = stream.read(IMAGE_HEAD)
        with Image.open(io.BytesIO(head)) as image:
            return image.size
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, ChorusError):
        return None


def _overlay(storage: Storage, asset: Asset, faces: list[dict[str, Any]]) -> Overlay | None:
    size = _image_size(storage, asset.sanitized_key or "") if faces else None
    if size is None:
        return None
    width, height = size
    boxes = []
    for face in faces:
        x, y, w, h = (int(v) for v in face["box"])
        x, y = min(max(x, 0), width), min(max(y, 0), height)
        boxes.append(Box(x, y, min(w, width - x), min(h, height - y), bool(face.get("masked"))))
    return Overlay(width, height, boxes)


def _faces_in_words(family: Family, faces: list[dict[str, Any]]) -> list[str]:
    if family is Family.VIDEO and faces:
        times = sorted(float(f.get("time") or 0) for f in faces)
        per_frame = Counter(f.get("time") for f in faces)
        masked = " (masked)" if all(f.get("masked") for f in faces) else ""
        return [
            f"Faces seen in {len(per_frame)} scanned frames between {_time(times[0])} and "
            f"{_time(times[-1])}, at most {max(per_frame.values())} in one frame{masked}."
        ]
    pages = Counter(int(f.get("page") or 0) for f in faces)
    return [
        f"Page {page + 1}: {count} face{'s' if count != 1 else ''}"
        for page, count in sorted(pages.items())
    ]


class _Text(HTMLParser):
    """The text of a clean HTML fragment, with line breaks where its blocks end."""

    BREAKS = frozenset({"p", "br", "h1", "h2", "h3", "h4", "li", "blockquote", "pre", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self.parts.append("• ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def script_text(fragment: str) -> str:
    """What a reader sees of a clean script, as plain text."""
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    text = "".join(parser.parts)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def highlight(text: str, names: Sequence[str]) -> list[Segment]:
    """The text cut into segments, personal data marked. The detector runs again on
    the text the reviewer reads (the report's offsets count characters of the upload,
    which reviewers never see)."""
    segments, position = [], 0
    for hit in find_personal_data(text, names):
        if hit.start > position:
            segments.append(Segment(text[position : hit.start]))
        segments.append(Segment(text[hit.start : hit.end], hit.kind))
        position = hit.end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


def _names(session: Session, organisation_id: int) -> list[str]:
    labels = session.scalars(select(Person.label).where(Person.organisation_id == organisation_id))
    return [label for label in labels if len(label) >= 3]


def _script(storage: Storage, asset: Asset, names: Sequence[str]) -> list[Segment]:
    with storage.open(Area.PRIVATE, asset.sanitized_key or "") as stream:
        fragment = stream.read(SCRIPT_LIMIT).decode("utf-8", errors="replace")
    return highlight(script_text(fragment), names)


def _asset_review(storage: Storage, asset: Asset, names: Sequence[str]) -> AssetReview:
    report: dict[str, Any] = asset.report or {}
    family = MediaType(asset.sanitized_type or "").family
    faces = list(report.get("faces") or [])
    removed = report.get("removed") or {}
    view = AssetReview(
        asset,
        family,
        removed=[
            (kind, int(count), explain.removed_in_words(kind))
            for kind, count in sorted(removed.items())
        ],
        speech=[
            f"{_time(float(s['start']))} – {_time(float(s['end']))}"
            for s in report.get("speech") or []
        ],
        personal_data=[
            explain.PERSONAL_DATA.get(kind, explain.OTHER).say(count)
            for kind, count in sorted(
                Counter(str(p.get("kind")) for p in report.get("personal_data") or []).items()
            )
        ],
        notes=list(report.get("notes") or []),
        anonymised=dict(report.get("anonymised") or {}),
    )
    if family is Family.IMAGE:
        view.overlay = _overlay(storage, asset, [f for f in faces if f.get("time") is None])
    else:
        view.faces = _faces_in_words(family, faces)
    if family is Family.TEXT:
        view.script = _script(storage, asset, names)
        view.script_hits = sum(1 for s in view.script if s.kind)
    return view


def _consent(session: Session, version: Version, policy: MediaPolicy) -> ConsentSummary:
    summaries = [a.detections or {} for a in version.assets]
    at, work = utcnow(), version.work

    def people(modality: Modality) -> int:
        records = covering_consents(session, work=work, modality=modality, channel="gallery", at=at)
        return len({r.subject_id for r in records})

    with_faces = [s for s in summaries if s.get("faces")]
    with_speech = [s for s in summaries if float(s.get("speech_seconds") or 0) > 0]
    faces_words, voices_words = explain.policy_in_words(policy)
    return ConsentSummary(
        faces=max((int(s.get("faces", 0)) for s in with_faces), default=0),
        faces_masked=bool(with_faces) and all(s.get("faces_masked") for s in with_faces),
        face_consents=people(Modality.FACE),
        speech_seconds=sum(float(s.get("speech_seconds") or 0) for s in summaries),
        voice_altered=bool(with_speech) and all(s.get("voice_altered") for s in with_speech),
        voice_consents=people(Modality.VOICE),
        policy_faces=faces_words,
        policy_voices=voices_words,
    )


def review_page(
    session: Session, storage: Storage, user: User, version: Version, policy: MediaPolicy
) -> ReviewPage:
    """What the psychologist sees of a version: cleaned files only."""
    names = _names(session, organisation_id_of(version.work))
    mine = session.scalars(
        select(Review).where(and_(Review.version_id == version.id, Review.reviewer_id == user.id))
    ).first()
    taken = _taken(session, version, user)
    in_review = version.state is VersionState.IN_REVIEW and version.work.paused_at is None
    return ReviewPage(
        version=version,
        work=version.work,
        status=explain.state_phrase(version, paused=version.work.paused_at is not None),
        approvals=approvals(session, version),
        required=policy.review.approvals_required,
        assets=[_asset_review(storage, a, names) for a in version.assets if a.sanitized_key],
        consent=_consent(session, version, policy),
        mine=mine,
        taken=taken,
        can_start=in_review and mine is None and not taken,
        can_decide=in_review and mine is not None and mine.decision is None,
    )
