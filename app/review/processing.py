"""Processing a submitted version: the background job's body.

Each original is decrypted into a private temporary folder, cleaned by the media
library (type sniffed from bytes, metadata stripped, faces and voices detected, text
scanned), anonymised where the creators or the policy ask, and the clean copy stored in
the private area. Then the consent gate decides: in review, or blocked with the reason.

Idempotent: a version that is no longer submitted (or whose processing lease is held by
another worker) is left alone, and a run that dies halfway has changed nothing but the
lease, so the sweeper's next run starts it again. Nothing here is public.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.consent.models import Modality, Person
from app.core.actors import SYSTEM
from app.core.clock import utcnow
from app.core.db import after_commit, after_rollback
from app.media.base import Options
from app.media.errors import MediaRefused
from app.media.pipeline import sanitize_file
from app.media.report import Report
from app.media.types import Family, MediaType
from app.policies.schema import MediaPolicy
from app.review.gate import Detected, Verdict, evaluate, upfront
from app.storage.base import Area, Storage, new_key
from app.storage.crypto import read_original
from app.works.models import Asset, Version, VersionState, Work, WorkKind
from app.works.states import organisation_id_of, transition

log = logging.getLogger("chorus.review")

LEASE = timedelta(minutes=30)  # longer than the slowest file takes; then retried

FAMILIES: dict[WorkKind, frozenset[Family]] = {
    WorkKind.FANZINE: frozenset({Family.IMAGE, Family.PDF}),
    WorkKind.PERFORMANCE: frozenset({Family.VIDEO}),
    WorkKind.PODCAST: frozenset({Family.AUDIO}),
    WorkKind.SCRIPT: frozenset({Family.TEXT}),
}
_WANTED = {
    WorkKind.FANZINE: "images or a PDF",
    WorkKind.PERFORMANCE: "a video",
    WorkKind.PODCAST: "an audio recording",
    WorkKind.SCRIPT: "a text or Markdown file",
}


@dataclass(slots=True)
class Cleaned:
    asset: Asset
    report: Report
    path: Path
    options: Options


def summarise(report: Report, options: Options) -> dict[str, Any]:
    """What the gate and the review page need from a report: counts and durations."""
    per_frame = Counter((face.page, face.time) for face in report.faces)
    return {
        "faces": max(per_frame.values(), default=0),
        "faces_found": len(report.faces),
        "faces_masked": options.mask_faces and bool(report.faces),
        "speech_seconds": round(sum(s.end - s.start for s in report.speech), 2),
        "voice_altered": options.alter_voice and bool(report.speech),
        "personal_data": len(report.personal_data),
    }


def claim(session: Session, version_id: int) -> Version | None:
    """Take the version for processing, or None if there is nothing to do: it is gone,
    no longer submitted, paused, or another worker's lease on it still runs. Commits."""
    version = session.get(Version, version_id, with_for_update=True)
    now = utcnow()
    if version is None or version.work.paused_at is not None:
        return None
    if version.state is VersionState.PROCESSING:
        if version.lease_until is not None and version.lease_until > now:
            return None
    elif version.state is VersionState.SUBMITTED:
        transition(session, version, VersionState.PROCESSING, actor=SYSTEM)
    else:
        return None
    version.lease_until = now + LEASE
    session.commit()
    return version


def _options(policy: MediaPolicy, names: tuple[str, ...], verdict: Verdict) -> Options:
    return Options(
        mask_faces=verdict.mask_faces,
        alter_voice=verdict.alter_voice,
        flatten_pdf=policy.pdf.rasterise,
        names=names,
    )


def _clean(asset: Asset, storage: Storage, key: bytes, work_dir: Path, options: Options) -> Cleaned:
    original = work_dir / f"original-{asset.id}"
    if not original.exists():
        with original.open("wb") as handle:
            read_original(storage, key, asset.original_key or "", handle)
    output = work_dir / f"clean-{asset.id}-{int(options.mask_faces)}{int(options.alter_voice)}"
    report = sanitize_file(original, output, options)
    family = MediaType(report.input.media_type).family if report.input else None
    kind = asset.version.work.kind
    if family not in FAMILIES[kind]:
        output.unlink(missing_ok=True)
        raise MediaRefused(f"a {kind.value} takes {_WANTED[kind]}, and this file is not one.")
    return Cleaned(asset, report, output, options)


def _consents(session: Session, work: Work, modality: Modality) -> int:
    """How many people (not records: one person may hold two) have consented."""
    from app.consent.queries import covering_consents

    records = covering_consents(
        session, work=work, modality=modality, channel="gallery", at=utcnow()
    )
    return len({record.subject_id for record in records})


def _names(session: Session, organisation_id: int) -> tuple[str, ...]:
    labels = session.scalars(
        select(Person.label).where(
            Person.organisation_id == organisation_id, Person.user_id.is_(None)
        )
    )
    return tuple(label for label in labels if len(label) >= 3)


def process(
    session: Session, *, version_id: int, storage: Storage, policy: MediaPolicy, key: bytes
) -> VersionState | None:
    """Process one version (see the module's description) and commit. Returns the state
    it ends in, or None if there was nothing to do. A refused file fails the version
    with the reason in plain words; ``MediaFault`` and storage errors propagate, for the
    job to retry."""
    version = claim(session, version_id)
    if version is None:
        return None
    work = version.work
    names = _names(session, organisation_id_of(work))
    verdict = upfront(policy, mask_chosen=version.mask_faces, alter_chosen=version.alter_voice)
    with tempfile.TemporaryDirectory(prefix="chorus-processing-") as folder:
        work_dir = Path(folder)
        try:
            cleaned = [
                _clean(asset, storage, key, work_dir, _options(policy, names, verdict))
                for asset in version.assets
            ]
            detected = Detected.from_assets(summarise(c.report, c.options) for c in cleaned)
            more = evaluate(
                policy,
                detected,
                face_consents=_consents(session, work, Modality.FACE),
                voice_consents=_consents(session, work, Modality.VOICE),
            )
            if more.mask_faces or more.alter_voice:
                verdict = Verdict(
                    mask_faces=verdict.mask_faces or more.mask_faces,
                    alter_voice=verdict.alter_voice or more.alter_voice,
                )
                options = _options(policy, names, verdict)
                cleaned = [
                    _clean(c.asset, storage, key, work_dir, options) if _needs(c, verdict) else c
                    for c in cleaned
                ]
                detected = Detected.from_assets(summarise(c.report, c.options) for c in cleaned)
                more = evaluate(
                    policy,
                    detected,
                    face_consents=_consents(session, work, Modality.FACE),
                    voice_consents=_consents(session, work, Modality.VOICE),
                )
        except MediaRefused as refused:
            version.lease_until = None
            transition(
                session,
                version,
                VersionState.FAILED,
                actor=SYSTEM,
                reason=f"We could not accept one of the files: {refused.reason}",
            )
            session.commit()
            return version.state
        _store(session, storage, cleaned)
    version.lease_until = None
    if more.blocked:
        transition(
            session, version, VersionState.BLOCKED, actor=SYSTEM, reason=" ".join(more.blocked)
        )
    else:
        transition(session, version, VersionState.IN_REVIEW, actor=SYSTEM)
    session.commit()
    log.info("version %s processed: %s", version.id, version.state.value)
    return version.state


def _needs(cleaned: Cleaned, verdict: Verdict) -> bool:
    summary = summarise(cleaned.report, cleaned.options)
    return bool(
        (verdict.mask_faces and summary["faces"] and not summary["faces_masked"])
        or (verdict.alter_voice and summary["speech_seconds"] and not summary["voice_altered"])
    )


def _store(session: Session, storage: Storage, cleaned: list[Cleaned]) -> None:
    """Save the clean files in the private area and record them on their assets. The
    clean files they replace are deleted once this commits; if it does not, the new
    ones are."""
    replaced: list[str] = []
    stored: list[str] = []

    def delete_stored() -> None:
        for key in stored:
            storage.delete(Area.PRIVATE, key)

    after_rollback(session, delete_stored)
    try:
        for item in cleaned:
            output = item.report.output
            assert output is not None  # noqa: S101 - sanitize_file always sets it
            output_type = MediaType(output.media_type)
            key = new_key("sanitized", suffix=output_type.extension)
            with item.path.open("rb") as handle:
                storage.save(Area.PRIVATE, key, handle)
            stored.append(key)
            asset = item.asset
            if asset.sanitized_key:
                replaced.append(asset.sanitized_key)
            asset.media_type = item.report.input.media_type if item.report.input else None
            asset.sanitized_key = key
            asset.sanitized_type = output_type.value
            asset.sha256 = output.sha256
            asset.size = output.size
            asset.report = item.report.to_dict()
            asset.detections = summarise(item.report, item.options)
        session.flush()
    except BaseException:
        delete_stored()
        raise

    def delete_replaced() -> None:
        for key in replaced:
            storage.delete(Area.PRIVATE, key)

    after_commit(session, delete_replaced)
