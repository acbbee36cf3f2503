"""Background jobs of the review pipeline. Each acts as the system, opens its own
session, commits its own work and is safe to run twice: the database state decides
what is left to do. Storage or database outages propagate, so the queue retries them
with backoff; the sweeper re-queues whatever a dead worker left behind.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.actors import SYSTEM
from app.core.clock import utcnow
from app.core.config import Settings
from app.core.db import make_engine, make_session_factory
from app.core.errors import Conflict
from app.jobs.queue import crontab, current_settings, periodic_task, task
from app.media.errors import MediaFault
from app.policies.loader import PolicyRegistry, load_policies
from app.policies.schema import MediaPolicy
from app.review.models import Publication
from app.storage import storage_from_settings
from app.storage.base import Area, Storage
from app.works.models import Asset, Version, VersionState, Work
from app.works.states import transition

log = logging.getLogger("chorus.jobs")

GRACE = timedelta(minutes=2)  # queued work not started by then is queued again
FAULT = (
    "Something went wrong on our side while checking this file. The team can see it "
    "in the logs; you can submit the version again, or upload the file in another format."
)


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    storage: Storage
    policies: PolicyRegistry

    def policy_for(self, work: Work) -> MediaPolicy:
        return self.policies.get(work.campaign.group.organisation.slug)


_CONTEXTS: dict[Settings, Context] = {}


def _context(settings: Settings) -> Context:
    if settings in _CONTEXTS:
        return _CONTEXTS[settings]
    engine = make_engine(settings.database_url)
    context = Context(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        storage=storage_from_settings(settings),
        policies=load_policies(settings.policies_dir),
    )
    _CONTEXTS[settings] = context
    return context


def close_contexts() -> None:
    """Close the jobs' database connections (at worker shutdown, and in tests)."""
    for settings in list(_CONTEXTS):
        _CONTEXTS.pop(settings).engine.dispose()


@contextmanager
def _session() -> Iterator[tuple[Context, Session]]:
    context = _context(current_settings())
    session = context.sessions()
    try:
        yield context, session
    finally:
        session.rollback()
        session.close()


@task()
def process_version(version_id: int) -> None:
    """Clean, check and gate one submitted version (``app.review.processing``)."""
    from app.review.processing import process

    with _session() as (context, session):
        version = session.get(Version, version_id)
        if version is None:
            return
        policy = context.policy_for(version.work)
        try:
            process(
                session,
                version_id=version_id,
                storage=context.storage,
                policy=policy,
                key=context.settings.originals_key,
            )
        except MediaFault:
            # Chorus could not handle this file; running again would fail the same way.
            log.exception("version %s: processing fault", version_id)
            session.rollback()
            version = session.get(Version, version_id)
            if version is not None and version.state is VersionState.PROCESSING:
                version.lease_until = None
                transition(session, version, VersionState.FAILED, actor=SYSTEM, reason=FAULT)
                session.commit()


@task()
def publish_version(version_id: int) -> None:
    """Publish an approved version on the gallery through the one door. A refusal
    (consent withdrawn since approval, say) blocks the version with the reason."""
    from app.review.publishing import publish

    with _session() as (context, session):
        version = session.get(Version, version_id)
        if version is None or version.state is not VersionState.APPROVED:
            return
        if version.work.paused_at is not None:
            return
        try:
            publish(
                session,
                version=version,
                storage=context.storage,
                policy=context.policy_for(version.work),
            )
        except Conflict as refused:
            session.rollback()
            version = session.get(Version, version_id)
            if version is None or version.state is not VersionState.APPROVED:
                return
            transition(
                session,
                version,
                VersionState.BLOCKED,
                actor=SYSTEM,
                reason=f"It was not published: {refused.message}",
            )
        session.commit()


@task()
def delete_public_files(publication_id: int) -> None:
    """Delete the public files of a withdrawn publication (idempotent)."""
    with _session() as (context, session):
        publication = session.get(Publication, publication_id)
        if publication is None or publication.withdrawn_at is None:
            return
        for public in publication.files:
            context.storage.delete(Area.PUBLIC, public.key)


@periodic_task(crontab(minute="*"))
def sweep() -> None:
    """Queue again what was queued but never done: submitted versions nobody picked up,
    processing whose worker died (its lease ran out), approved versions not published,
    public files of recent withdrawals."""
    now = utcnow()
    with _session() as (_, session):
        stuck = session.scalars(
            select(Version.id)
            .join(Work)
            .where(
                Work.paused_at.is_(None),
                or_(
                    (Version.state == VersionState.SUBMITTED)
                    & (Version.state_changed_at < now - GRACE),
                    (Version.state == VersionState.PROCESSING) & (Version.lease_until < now),
                ),
            )
        ).all()
        unpublished = session.scalars(
            select(Version.id)
            .join(Work)
            .where(
                Work.paused_at.is_(None),
                Version.state == VersionState.APPROVED,
                Version.state_changed_at < now - GRACE,
            )
        ).all()
        withdrawn = session.scalars(
            select(Publication.id).where(Publication.withdrawn_at > now - timedelta(days=1))
        ).all()
    for version_id in stuck:
        process_version(version_id)
    for version_id in unpublished:
        publish_version(version_id)
    for publication_id in withdrawn:
        delete_public_files(publication_id)


ENDED = (VersionState.WITHDRAWN, VersionState.REJECTED, VersionState.FAILED)


@periodic_task(crontab(minute="7"))
def purge_originals() -> None:
    """Delete originals whose retention period (from the policy) is over, and those of
    versions that were withdrawn, rejected or failed."""
    from app.audit.services import record

    now = utcnow()
    with _session() as (context, session):
        assets = session.scalars(
            select(Asset).where(
                Asset.original_key.is_not(None), Asset.original_deleted_at.is_(None)
            )
        ).all()
        for asset in assets:
            work = asset.version.work
            days = context.policy_for(work).retention.originals_days
            if asset.version.state in ENDED or asset.created_at < now - timedelta(days=days):
                context.storage.delete(Area.PRIVATE, asset.original_key or "")
                asset.original_deleted_at = now
                record(
                    session,
                    actor=SYSTEM,
                    action="asset.original_deleted",
                    subject_type="asset",
                    subject_id=asset.id,
                    organisation_id=work.campaign.group.organisation_id,
                )
                session.commit()


@periodic_task(crontab(minute="*/5"))
def expire_consents() -> None:
    """Honour consent expiry dates: what depended on an expired consent comes down."""
    from app.consent.services import expire_consents as expire

    with _session() as (_, session):
        expire(session, actor=SYSTEM)
        session.commit()
