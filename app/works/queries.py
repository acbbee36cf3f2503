"""Read-only questions for the studio and media pages: which works and files a person
may see, and what the work page shows. Anything a person may not see is ``NotFound``,
so a page never confirms that someone else's work or file exists. No Flask here."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.actors import Actor
from app.core.errors import NotFound
from app.core.permissions import Permission, can, role_in
from app.groups.models import Campaign, Group, GroupMember
from app.orgs.models import Organisation, Role
from app.policies.schema import MediaPolicy
from app.review.models import Review
from app.review.publishing import missing_texts
from app.works import explain
from app.works.models import Asset, Version, VersionState, Work, WorkContributor
from app.works.services import ANONYMISABLE, IN_PIPELINE
from app.works.states import FINAL, allowed, is_creator, organisation_id_of

STAFF = frozenset({Role.FACILITATOR, Role.PSYCHOLOGIST, Role.ORG_ADMIN})


@dataclass(frozen=True, slots=True)
class WorkRow:
    work: Work
    latest: Version | None
    status: str


@dataclass(slots=True)
class CampaignRow:
    campaign: Campaign
    works: list[WorkRow] = field(default_factory=list)


@dataclass(slots=True)
class OrganisationSection:
    organisation: Organisation
    campaigns: list[CampaignRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FileView:
    asset: Asset
    status: str
    sentences: list[str]
    has_clean: bool
    has_original: bool


@dataclass(frozen=True, slots=True)
class ReviewNote:
    version_number: int
    decision: str
    note: str
    wellbeing_check: str


@dataclass(frozen=True, slots=True)
class WorkPage:
    """Everything the work page shows its creators, and which buttons it offers."""

    work: Work
    latest: Version | None
    status: str
    files: list[FileView]
    notes: list[ReviewNote]
    missing_text: str | None
    can_upload: bool
    can_remove: bool
    can_submit: bool
    can_anonymise: bool
    can_withdraw: bool
    new_version: bool  # an upload starts a new version


def latest_version(work: Work) -> Version | None:
    return work.versions[-1] if work.versions else None


def is_creator_anywhere(user: User) -> bool:
    return user.is_active and any(m.role is Role.CREATOR for m in user.memberships)


def studio(session: Session, user: User) -> list[OrganisationSection]:
    """The campaigns of the user's groups, by organisation, each with the works the
    user co-creates and the state of their latest version."""
    rows = session.execute(
        select(Campaign, Organisation)
        .join(Group, Campaign.group_id == Group.id)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .join(Organisation, Organisation.id == Group.organisation_id)
        .where(GroupMember.user_id == user.id)
        .order_by(Organisation.name, Group.name, Campaign.created_at, Campaign.id)
    ).all()
    sections: dict[int, OrganisationSection] = {}
    by_campaign: dict[int, CampaignRow] = {}
    for campaign, organisation in rows:
        if not can(user, Permission.CREATE_WORKS, organisation.id):
            continue
        section = sections.setdefault(organisation.id, OrganisationSection(organisation))
        by_campaign[campaign.id] = CampaignRow(campaign)
        section.campaigns.append(by_campaign[campaign.id])
    works = session.scalars(
        select(Work)
        .where(
            Work.campaign_id.in_(list(by_campaign)),
            or_(
                Work.created_by_id == user.id,
                Work.contributors.any(WorkContributor.user_id == user.id),
            ),
        )
        .order_by(Work.created_at, Work.id)
    )
    for work in works:
        latest = latest_version(work)
        status = explain.state_phrase(latest, paused=work.paused_at is not None)
        by_campaign[work.campaign_id].works.append(WorkRow(work, latest, status))
    return list(sections.values())


def campaign_for_creator(session: Session, user: User, campaign_id: int) -> Campaign:
    """A campaign of one of the user's groups in which they may make works."""
    campaign = session.get(Campaign, campaign_id)
    if (
        campaign is None
        or session.get(GroupMember, (campaign.group_id, user.id)) is None
        or not can(user, Permission.CREATE_WORKS, campaign.group.organisation_id)
    ):
        raise NotFound("There is no such campaign.")
    return campaign


def own_work(session: Session, actor: Actor, work_id: int) -> Work:
    """A work the actor co-creates."""
    work = session.get(Work, work_id)
    if work is None or not is_creator(actor, work):
        raise NotFound("There is no such work.")
    return work


def own_version(session: Session, actor: Actor, version_id: int) -> Version:
    """A version of a work the actor co-creates."""
    version = session.get(Version, version_id)
    if version is None or not is_creator(actor, version.work):
        raise NotFound("There is no such version.")
    return version


def own_asset(session: Session, actor: Actor, asset_id: int) -> Asset:
    """A file of a work the actor co-creates."""
    asset = session.get(Asset, asset_id)
    if asset is None or not is_creator(actor, asset.version.work):
        raise NotFound("There is no such file.")
    return asset


def clean_asset(session: Session, actor: Actor, asset_id: int) -> Asset:
    """A cleaned file, for the work's creators and its organisation's staff."""
    asset = session.get(Asset, asset_id)
    if asset is None or not asset.sanitized_key or not asset.sanitized_type:
        raise NotFound("There is no such file.")
    work = asset.version.work
    if not (is_creator(actor, work) or role_in(actor, organisation_id_of(work)) in STAFF):
        raise NotFound("There is no such file.")
    return asset


def original_asset(session: Session, actor: Actor, asset_id: int) -> Asset:
    """An original upload, for the person who uploaded it only, while it is kept."""
    asset = session.get(Asset, asset_id)
    if (
        asset is None
        or not isinstance(actor, User)
        or not actor.is_active
        or asset.version.created_by_id != actor.id
        or not asset.original_key
        or asset.original_deleted_at is not None
    ):
        raise NotFound("There is no such file.")
    return asset


def review_notes(session: Session, work: Work) -> list[ReviewNote]:
    """The psychologists' notes and wellbeing checks on the work's versions, newest
    first. The reviewer is not named."""
    reviews = session.scalars(
        select(Review)
        .join(Version, Version.id == Review.version_id)
        .where(Version.work_id == work.id, Review.decision.is_not(None))
        .order_by(Review.decided_at.desc(), Review.id.desc())
    )
    labels = {
        "approved": "Approved",
        "changes_requested": "Changes requested",
        "rejected": "Not accepted",
    }
    return [
        ReviewNote(
            r.version.number,
            labels.get(r.decision.value if r.decision else "", ""),
            r.note,
            r.wellbeing_check,
        )
        for r in reviews
        if r.note or r.wellbeing_check
    ]


def work_page(session: Session, actor: User, work: Work, policy: MediaPolicy) -> WorkPage:
    """The work page of one of the actor's works."""
    latest = latest_version(work)
    paused = work.paused_at is not None
    files = [
        FileView(
            asset,
            explain.file_status(asset),
            explain.report_sentences(asset, faces_allowed=policy.faces.allowed),
            has_clean=bool(asset.sanitized_key),
            has_original=bool(asset.original_key)
            and asset.original_deleted_at is None
            and asset.version.created_by_id == actor.id,
        )
        for asset in (latest.assets if latest else [])
    ]
    state = latest.state if latest else None
    return WorkPage(
        work=work,
        latest=latest,
        status=explain.state_phrase(latest, paused=paused),
        files=files,
        notes=review_notes(session, work),
        missing_text=missing_texts(work),
        can_upload=state not in IN_PIPELINE,
        can_remove=state is VersionState.DRAFT,
        can_submit=latest is not None
        and bool(latest.assets)
        and not paused
        and allowed(latest, VersionState.SUBMITTED, actor),
        can_anonymise=state in ANONYMISABLE,
        can_withdraw=any(v.state not in FINAL for v in work.versions),
        new_version=state is not None and state is not VersionState.DRAFT,
    )
