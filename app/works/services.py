"""What creators do with their works: create them, upload versions, choose masking,
submit, pause, resume and withdraw. Review and publication live in ``app.review``."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.services import record
from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.db import after_commit, after_rollback
from app.core.errors import Conflict, PermissionDenied, ValidationFailed
from app.core.permissions import Permission, can, require
from app.gallery.generation import bump
from app.groups.models import Campaign, GroupMember
from app.policies.schema import MediaPolicy
from app.storage.base import Area, Storage
from app.storage.crypto import save_original
from app.works.models import Asset, Credit, Version, VersionState, Work, WorkContributor, WorkKind
from app.works.states import FINAL, is_creator, organisation_id_of, transition

MAX_PAGES = 40  # files in one fanzine version
MAX_WARNINGS = 10
# Versions in these states hold the work: no new version until they end.
IN_PIPELINE = frozenset({VersionState.SUBMITTED, VersionState.PROCESSING, VersionState.IN_REVIEW})


def _clean(text: str, field: str, limit: int, *, required: bool = False) -> str:
    text = text.strip()
    if required and not text:
        raise ValidationFailed(f"Please fill in the {field}.")
    if len(text) > limit:
        raise ValidationFailed(f"The {field} can be at most {limit} characters long.")
    return text


def _warnings(values: Sequence[str]) -> list[str]:
    cleaned = [_clean(v, "content warning", 60) for v in values]
    cleaned = list(dict.fromkeys(v for v in cleaned if v))
    if len(cleaned) > MAX_WARNINGS:
        raise ValidationFailed(f"A work can carry at most {MAX_WARNINGS} content warnings.")
    return cleaned


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    subject: Work | Version | Asset,
    data: dict[str, Any] | None = None,
) -> None:
    """One audit event about a work, a version or a file, in the work's organisation."""
    work = (
        subject
        if isinstance(subject, Work)
        else (subject.work if isinstance(subject, Version) else subject.version.work)
    )
    record(
        session,
        actor=actor,
        action=action,
        subject_type=type(subject).__name__.lower(),
        subject_id=subject.id,
        organisation_id=organisation_id_of(work),
        data=data,
    )


def require_creator(actor: Actor, work: Work) -> User:
    """The actor, if they are one of the work's creators; else ``PermissionDenied``."""
    if not is_creator(actor, work) or not can(
        actor, Permission.CREATE_WORKS, organisation_id_of(work)
    ):
        raise PermissionDenied("Only the work's creators can do that.")
    assert isinstance(actor, User)  # noqa: S101 - is_creator is False for other actors
    return actor


def create_work(
    session: Session,
    *,
    actor: Actor,
    campaign: Campaign,
    policy: MediaPolicy,
    kind: WorkKind,
    title: str,
    credit: Credit,
    pseudonym: str = "",
    language: str = "en",
    content_warnings: Sequence[str] | None = None,
) -> Work:
    """Start a work in a campaign of one of the actor's groups. The policy decides the
    kinds and credit modes on offer and the default content warnings. Raises
    ``PermissionDenied``, ``ValidationFailed``."""
    organisation_id = campaign.group.organisation_id
    require(actor, Permission.CREATE_WORKS, organisation_id)
    assert isinstance(actor, User)  # noqa: S101 - only users hold CREATE_WORKS
    if session.get(GroupMember, (campaign.group_id, actor.id)) is None:
        raise PermissionDenied("You can only add works to your own groups' campaigns.")
    if kind.value not in policy.works.kinds:
        raise ValidationFailed("This organisation does not publish that kind of work.")
    if credit.value not in policy.credit.modes:
        raise ValidationFailed("This organisation does not offer that way of crediting.")
    pseudonym = _clean(pseudonym, "pseudonym", 80, required=credit is Credit.PSEUDONYM)
    if language not in policy.organisation.languages and language != "en":
        raise ValidationFailed("Choose one of the organisation's languages.")
    warnings = policy.content_warnings.default if content_warnings is None else content_warnings
    work = Work(
        campaign_id=campaign.id,
        kind=kind,
        title=_clean(title, "title", 200, required=True),
        credit=credit,
        language=language,
        content_warnings=_warnings(warnings),
        created_by_id=actor.id,
    )
    session.add(work)
    session.flush()
    session.add(WorkContributor(work_id=work.id, user_id=actor.id, pseudonym=pseudonym))
    session.flush()
    _audit(session, actor, "work.created", work, {"campaign_id": campaign.id, "kind": kind.value})
    return work


def describe_work(
    session: Session,
    *,
    actor: Actor,
    work: Work,
    title: str,
    content_warnings: Sequence[str],
    alt_text: str,
    transcript: str,
    captions: str = "",
) -> Work:
    """Change what the public will read about a work: title, warnings, alt text,
    transcript and captions (WebVTT). Raises ``PermissionDenied``, ``ValidationFailed``."""
    require_creator(actor, work)
    work.title = _clean(title, "title", 200, required=True)
    work.content_warnings = _warnings(content_warnings)
    work.alt_text = _clean(alt_text, "alt text", 2000)
    work.transcript = _clean(transcript, "transcript", 200_000)
    captions = _clean(captions, "captions file", 500_000)
    if captions and not captions.startswith("WEBVTT"):
        raise ValidationFailed("Captions must be a WebVTT file (it starts with WEBVTT).")
    work.captions = captions
    session.flush()
    bump(session)  # a published work's page shows these texts
    _audit(session, actor, "work.described", work)
    return work


def current_draft(session: Session, *, actor: Actor, work: Work) -> Version:
    """The work's open draft, or a new numbered one. Raises ``PermissionDenied``, and
    ``Conflict`` while a version is being processed or reviewed."""
    user = require_creator(actor, work)
    latest = work.versions[-1] if work.versions else None
    if latest is not None and latest.state is VersionState.DRAFT:
        return latest
    if latest is not None and latest.state in IN_PIPELINE:
        raise Conflict("A version of this work is still being checked; wait for its review.")
    number = (
        session.scalar(select(func.max(Version.number)).where(Version.work_id == work.id)) or 0
    ) + 1
    version = Version(work_id=work.id, number=number, created_by_id=user.id)
    session.add(version)
    session.flush()
    session.refresh(work, ["versions"])
    _audit(session, actor, "version.created", version, {"work": work.id, "number": number})
    return version


def add_file(
    session: Session,
    *,
    actor: Actor,
    version: Version,
    storage: Storage,
    originals_key: bytes,
    stream: BinaryIO,
) -> Asset:
    """Store an uploaded file, encrypted, in the private quarantine as the version's
    next file. Nothing is read from it yet: the processing job sniffs and cleans it.

    The object is stored first; if the record then cannot be written the object is
    deleted, so neither exists without the other. Raises ``PermissionDenied``,
    ``Conflict`` (not a draft, too many files), ``StorageUnavailable``.
    """
    require_creator(actor, version.work)
    if version.state is not VersionState.DRAFT:
        raise Conflict("Files can only be added to a draft.")
    limit = MAX_PAGES if version.work.kind is WorkKind.FANZINE else 1
    if len(version.assets) >= limit:
        raise Conflict(
            "This version already has its file; remove it first to upload another."
            if limit == 1
            else f"A fanzine version can have at most {MAX_PAGES} pages."
        )
    saved = save_original(storage, originals_key, stream)
    # The record and the object exist together or not at all.
    after_rollback(session, lambda: storage.delete(Area.PRIVATE, saved.key))
    position = max((a.position for a in version.assets), default=-1) + 1
    asset = Asset(
        version_id=version.id,
        position=position,
        original_key=saved.key,
        original_size=saved.size,
    )
    session.add(asset)
    session.flush()
    session.refresh(version, ["assets"])
    _audit(session, actor, "asset.uploaded", asset, {"version": version.id, "size": saved.size})
    return asset


def remove_file(session: Session, *, actor: Actor, asset: Asset, storage: Storage) -> None:
    """Take a file out of a draft; its stored original is deleted once that commits.
    Raises ``PermissionDenied``, ``Conflict``."""
    version = asset.version
    require_creator(actor, version.work)
    if version.state is not VersionState.DRAFT:
        raise Conflict("Files can only be removed from a draft.")
    keys = [(Area.PRIVATE, k) for k in (asset.original_key, asset.sanitized_key) if k]
    session.delete(asset)
    session.flush()
    session.refresh(version, ["assets"])

    def delete_files() -> None:
        for area, key in keys:
            storage.delete(area, key)

    after_commit(session, delete_files)
    _audit(session, actor, "asset.removed", version)


ANONYMISABLE = frozenset({VersionState.DRAFT, VersionState.BLOCKED, VersionState.CHANGES_REQUESTED})


def choose_anonymisation(
    session: Session, *, actor: Actor, version: Version, mask_faces: bool, alter_voice: bool
) -> Version:
    """Ask for every face in the version to be masked and/or every voice altered. Takes
    effect when the version is next processed. Raises ``PermissionDenied``,
    ``Conflict``."""
    require_creator(actor, version.work)
    if version.state not in ANONYMISABLE:
        raise Conflict("Masking can be chosen for a draft, or after a review or a block.")
    version.mask_faces = mask_faces
    version.alter_voice = alter_voice
    session.flush()
    _audit(
        session,
        actor,
        "version.anonymisation_chosen",
        version,
        {"mask_faces": mask_faces, "alter_voice": alter_voice},
    )
    return version


def submit(session: Session, *, actor: Actor, version: Version) -> Version:
    """Send a version to be cleaned, checked against consent and reviewed: a draft, or
    again after a block (consent recorded, masking chosen) or a request for changes.
    The processing job is queued once this commits. Raises ``PermissionDenied``,
    ``Conflict``, ``ValidationFailed`` (no file)."""
    work = version.work
    if work.paused_at is not None:
        raise Conflict("This work is paused; resume it first.")
    if not version.assets:
        raise ValidationFailed("Upload a file first.")
    from app.review.publishing import missing_texts

    missing = missing_texts(work)
    if missing:
        raise ValidationFailed(missing)
    transition(session, version, VersionState.SUBMITTED, actor=actor)
    enqueue_processing(session, version.id)
    return version


def enqueue_processing(session: Session, version_id: int) -> None:
    """Queue the processing job for a version once the transaction commits."""
    from app.review import jobs

    after_commit(session, lambda: jobs.process_version(version_id))


def pause(session: Session, *, actor: Actor, work: Work) -> Work:
    """Hold a work: nothing more happens to it and, if it is published, it is taken
    down until it is resumed. Raises ``PermissionDenied``, ``Conflict``."""
    from app.review.publishing import take_down

    require_creator(actor, work)
    if work.paused_at is not None:
        raise Conflict("This work is already paused.")
    work.paused_at = utcnow()
    session.flush()
    _audit(session, actor, "work.paused", work)
    for version in work.versions:
        if version.state is VersionState.PUBLISHED:
            take_down(session, version=version, actor=actor, reason="paused by its creators")
            transition(session, version, VersionState.APPROVED, actor=actor, reason="paused")
    return work


def resume(session: Session, *, actor: Actor, work: Work) -> Work:
    """Let a paused work go on; an approved version is published again through the
    publication job. Raises ``PermissionDenied``, ``Conflict``."""
    from app.review import jobs

    require_creator(actor, work)
    if work.paused_at is None:
        raise Conflict("This work is not paused.")
    work.paused_at = None
    session.flush()
    _audit(session, actor, "work.resumed", work)
    for version in work.versions:
        if version.state is VersionState.APPROVED:
            after_commit(session, functools.partial(jobs.publish_version, version.id))
    return work


def withdraw(session: Session, *, actor: Actor, work: Work) -> Work:
    """The creators take their work back: every version that is not final is withdrawn
    and any publication ends at once. Raises ``PermissionDenied``, ``Conflict``."""
    from app.review.publishing import take_down

    require_creator(actor, work)
    live = [v for v in work.versions if v.state not in FINAL]
    if not live:
        raise Conflict("This work has already been withdrawn.")
    for version in live:
        if version.state is VersionState.PUBLISHED:
            take_down(session, version=version, actor=actor, reason="withdrawn by its creators")
        transition(
            session,
            version,
            VersionState.WITHDRAWN,
            actor=actor,
            reason="You withdrew this work.",
        )
    return work
