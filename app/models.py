"""Every model, imported once so ``Base.metadata`` knows the whole schema."""

from __future__ import annotations

from app.accounts.models import Invitation, SignInThrottle, ThrottleScope, User
from app.audit.models import AuditEvent, AuditHead
from app.consent.models import ConsentMethod, ConsentRecord, Modality, Person
from app.core.db import Base
from app.gallery.models import Exhibition, ExhibitionItem
from app.groups.models import Campaign, CampaignStage, Group, GroupMember, Readiness
from app.orgs.models import Membership, Organisation, Role
from app.review.models import Publication, PublicationConsent, Review, ReviewDecision
from app.works.models import Asset, Credit, Version, VersionState, Work, WorkContributor, WorkKind

__all__ = [
    "Asset",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Campaign",
    "CampaignStage",
    "ConsentMethod",
    "ConsentRecord",
    "Credit",
    "Exhibition",
    "ExhibitionItem",
    "Group",
    "GroupMember",
    "Invitation",
    "Membership",
    "Modality",
    "Organisation",
    "Person",
    "Publication",
    "PublicationConsent",
    "Readiness",
    "Review",
    "ReviewDecision",
    "Role",
    "SignInThrottle",
    "ThrottleScope",
    "User",
    "Version",
    "VersionState",
    "Work",
    "WorkContributor",
    "WorkKind",
]
