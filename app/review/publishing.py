"""The one door into the gallery, and the way out.

``publish`` re-checks everything at the moment of publishing, in one transaction:
the version is approved by enough psychologists, every face and voice is covered by a
valid consent (or anonymised), the public texts exist, and a fresh scan of each clean
file finds it unchanged and free of metadata. Only then are the files copied to the
public area and the publication written. ``withdraw`` ends a publication at once; its
public files are deleted as soon as that commits.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.consent.models import ConsentRecord, Modality
from app.core.actors import SYSTEM, Actor
from app.core.clock import utcnow
from app.core.db import after_commit, after_rollback
from app.core.errors import Conflict
from app.gallery.generation import bump
from app.media.derivatives import make_derivatives
from app.media.errors import MediaRefused
from app.media.pipeline import file_facts, residual_metadata
from app.media.types import MediaType
from app.orgs.models import Membership, Role
from app.policies.schema import MediaPolicy
from app.review.gate import Detected, evaluate
from app.review.models import (
    FileRole,
    Publication,
    PublicationConsent,
    PublicationFile,
    Review,
    ReviewDecision,
)
from app.storage.base import Area, Storage, validate_key
from app.works.models import Asset, Version, VersionState, Work, WorkKind
from app.works.states import is_creator, organisation_id_of, transition

log = logging.getLogger("chorus.review")

CHUNK = 1024 * 1024


def public_key(prefix: str, sha256: str, media_type: MediaType) -> str:
    """Where a published file lives in the public area: under its publication's own
    prefix, named by its content (so a name never changes meaning)."""
    return validate_key(f"{prefix}/{sha256[:32]}{media_type.extension}")


def approvals(session: Session, version: Version) -> int:
    """Approvals of this version by active psychologists of its organisation who did not
    co-create the work. Each counts once; approvals of other versions never count."""
    organisation_id = organisation_id_of(version.work)
    reviews = session.scalars(
        select(Review)
        .join(Membership, Membership.user_id == Review.reviewer_id)
        .where(
            Review.version_id == version.id,
            Review.decision == ReviewDecision.APPROVED,
            Membership.organisation_id == organisation_id,
            Membership.role == Role.PSYCHOLOGIST,
        )
    ).all()
    return len(
        {
            r.reviewer_id
            for r in reviews
            if r.reviewer.is_active and not is_creator(r.reviewer, version.work)
        }
    )


def missing_texts(work: Work) -> str | None:
    """Why the work cannot be shown to everyone yet, or None: images need alt text, a
    podcast a transcript, a video captions or a text description."""
    if work.kind is WorkKind.FANZINE and not work.alt_text.strip():
        return "The images need a description in words (alt text) for people who cannot see them."
    if work.kind is WorkKind.PODCAST and not work.transcript.strip():
        return "The podcast needs a transcript for people who cannot hear it."
    if work.kind is WorkKind.PERFORMANCE and not (work.captions or work.transcript).strip():
        return (
            "The video needs captions or a text description for people who cannot see or hear it."
        )
    return None


def dependencies(
    session: Session, version: Version, policy: MediaPolicy, channel: str
) -> list[ConsentRecord]:
    """The consent records the version relies on; ``Conflict`` if the gate would not
    let it through now."""
    from app.consent.queries import covering_consents

    now = utcnow()
    work = version.work
    faces = covering_consents(session, work=work, modality=Modality.FACE, channel=channel, at=now)
    voices = covering_consents(session, work=work, modality=Modality.VOICE, channel=channel, at=now)
    detected = Detected.from_assets(asset.detections for asset in version.assets)
    verdict = evaluate(
        policy,
        detected,
        face_consents=len({r.subject_id for r in faces}),
        voice_consents=len({r.subject_id for r in voices}),
    )
    if not verdict.passes:
        raise Conflict(
            "The consent this version needs is no longer complete: "
            + (" ".join(verdict.blocked) or "a face or voice is no longer covered.")
        )
    needed = (faces if detected.faces else []) + (voices if detected.speech else [])
    return list({record.id: record for record in needed}.values())


def _verified_copy(storage: Storage, asset: Asset, folder: Path) -> Path:
    """The clean file, fetched again and checked: same bytes as reviewed, no metadata."""
    if not (asset.sanitized_key and asset.sanitized_type and asset.sha256):
        raise Conflict("A file of this version has not been cleaned.")
    path = folder / f"{asset.id}{MediaType(asset.sanitized_type).extension}"
    digest = hashlib.sha256()
    with storage.open(Area.PRIVATE, asset.sanitized_key) as source, path.open("wb") as target:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            target.write(chunk)
    if digest.hexdigest() != asset.sha256:
        raise Conflict("A clean file changed after it was reviewed; it was not published.")
    try:
        residue = residual_metadata(path, MediaType(asset.sanitized_type))
    except MediaRefused as refused:
        raise Conflict(f"A clean file failed its last check: {refused.reason}") from None
    if residue:
        raise Conflict("A clean file still carries metadata; it was not published.")
    return path


def publish(
    session: Session,
    *,
    version: Version,
    storage: Storage,
    policy: MediaPolicy,
    channel: str = "gallery",
    actor: Actor = SYSTEM,
) -> Publication:
    """Publish an approved version on a channel, or refuse with ``Conflict`` naming the
    first precondition that does not hold. Flushes; the caller commits. Public files
    written before a failure are deleted when the transaction rolls back."""
    work = version.work
    if version.state is not VersionState.APPROVED:
        raise Conflict("Only an approved version can be published.")
    if work.paused_at is not None:
        raise Conflict("This work is paused by its creators.")
    if channel not in policy.publication.channels:
        raise Conflict("This organisation does not publish on that channel.")
    required = policy.review.approvals_required
    if approvals(session, version) < required:
        raise Conflict(f"This version needs {required} psychologists' approval.")
    reason = missing_texts(work)
    if reason:
        raise Conflict(reason)
    consents = dependencies(session, version, policy, channel)
    if not version.assets:
        raise Conflict("This version has no files.")

    publication = Publication(
        work_id=work.id,
        version_id=version.id,
        channel=channel,
        public_prefix=f"public/{uuid.uuid4().hex}",
        published_by_id=None,
    )
    written: list[str] = []

    def delete_written() -> None:
        for key in written:
            storage.delete(Area.PUBLIC, key)

    after_rollback(session, delete_written)
    session.add(publication)
    session.flush()
    with tempfile.TemporaryDirectory(prefix="chorus-publish-") as folder:
        for asset in version.assets:
            path = _verified_copy(storage, asset, Path(folder))
            media_type = MediaType(asset.sanitized_type or "")
            renditions = make_derivatives(path, media_type, Path(folder) / f"renditions-{asset.id}")
            files = [(path, media_type, FileRole.FILE, None, None, 0)] + [
                (d.path, d.media_type, FileRole(d.role), d.width, d.height, d.page)
                for d in renditions
            ]
            for file_path, file_type, role, width, height, page in files:
                facts = file_facts(file_path, file_type)
                key = public_key(publication.public_prefix, facts.sha256, file_type)
                with file_path.open("rb") as handle:
                    written.append(key)
                    storage.save(Area.PUBLIC, key, handle)
                session.add(
                    PublicationFile(
                        publication_id=publication.id,
                        asset_id=asset.id,
                        position=asset.position,
                        page=page,
                        role=role,
                        media_type=file_type.value,
                        width=width,
                        height=height,
                        key=key,
                        size=facts.size,
                        sha256=facts.sha256,
                    )
                )
    session.flush()
    for record in consents:
        session.add(PublicationConsent(publication_id=publication.id, consent_record_id=record.id))
    transition(session, version, VersionState.PUBLISHED, actor=SYSTEM)
    bump(session)
    _audit(session, actor, "publication.created", publication, {"channel": channel})
    log.info("version %s published as publication %s", version.id, publication.id)
    return publication


def withdraw(session: Session, *, publication: Publication, actor: Actor, reason: str) -> None:
    """End a publication now; its public files are deleted once this commits (and by
    the sweeper, should that fail). Idempotent."""
    if publication.withdrawn_at is not None:
        return
    publication.withdrawn_at = utcnow()
    publication.withdrawal_reason = reason
    session.flush()
    bump(session)
    _audit(session, actor, "publication.withdrawn", publication, {"reason": reason})
    publication_id = publication.id

    def delete_public_files() -> None:
        from app.review import jobs

        jobs.delete_public_files(publication_id)

    after_commit(session, delete_public_files)


def take_down(session: Session, *, version: Version, actor: Actor, reason: str) -> None:
    """Withdraw every live publication of a version (the version's state is the
    caller's business)."""
    live = session.scalars(
        select(Publication).where(
            Publication.version_id == version.id, Publication.withdrawn_at.is_(None)
        )
    )
    for publication in live:
        withdraw(session, publication=publication, actor=actor, reason=reason)


def take_down_for_consent(
    session: Session, record: ConsentRecord, *, actor: Actor, reason: str
) -> list[Publication]:
    """Withdraw every live publication that depends on a consent record, and mark its
    version withdrawn. Called when consent is withdrawn or expires. Idempotent."""
    live = list(
        session.scalars(
            select(Publication)
            .join(PublicationConsent)
            .where(
                PublicationConsent.consent_record_id == record.id,
                Publication.withdrawn_at.is_(None),
            )
        )
    )
    for publication in live:
        withdraw(session, publication=publication, actor=actor, reason=reason)
        version = publication.version
        if version.state is VersionState.PUBLISHED:
            transition(
                session,
                version,
                VersionState.WITHDRAWN,
                actor=SYSTEM,
                reason="Taken down because a consent it relied on was withdrawn or expired.",
            )
    return live


def _audit(
    session: Session, actor: Actor, action: str, publication: Publication, data: dict[str, str]
) -> None:
    from app.audit.services import record

    record(
        session,
        actor=actor,
        action=action,
        subject_type="publication",
        subject_id=publication.id,
        organisation_id=organisation_id_of(publication.work),
        data={"version": publication.version_id, **data},
    )
