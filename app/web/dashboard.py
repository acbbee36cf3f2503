"""The dashboard: for each organisation a person belongs to, what they can do next."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, render_template
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Invitation, User
from app.core.clock import utcnow
from app.groups import queries
from app.groups.models import Group
from app.groups.services import groups_of, readiness_of
from app.orgs.models import Membership, Role
from app.review import queries as review_queries
from app.web.database import db_session
from app.web.sessions import signed_in_user

bp = Blueprint("dashboard", __name__)


@dataclass
class Panel:
    membership: Membership
    ready: bool = False
    my_groups: list[Group] = field(default_factory=list)
    joinable: list[Group] = field(default_factory=list)
    invited_ids: set[int] = field(default_factory=set)
    open_invitations: int = 0
    awaiting_readiness: int = 0
    group_count: int = 0
    review_waiting: int = 0


def _panel(session: Session, user: User, membership: Membership) -> Panel:
    organisation = membership.organisation
    panel = Panel(membership)
    if membership.role is Role.CREATOR:
        panel.ready = readiness_of(session, user.id, organisation.id) is not None
        panel.my_groups = [
            g for g in groups_of(session, user) if g.organisation_id == organisation.id
        ]
        mine = {g.id for g in panel.my_groups}
        panel.joinable = [
            g for g in queries.organisation_groups(session, organisation) if g.id not in mine
        ]
        panel.invited_ids = queries.invited_group_ids(session, user)
    elif membership.role is Role.FACILITATOR:
        panel.open_invitations = (
            session.scalar(
                select(func.count())
                .select_from(Invitation)
                .where(
                    Invitation.organisation_id == organisation.id,
                    Invitation.redeemed_at.is_(None),
                    Invitation.revoked_at.is_(None),
                    Invitation.expires_at > utcnow(),
                )
            )
            or 0
        )
        panel.awaiting_readiness = sum(
            1 for c in queries.creators(session, organisation) if c.readiness is None
        )
    elif membership.role is Role.PSYCHOLOGIST:
        panel.review_waiting = review_queries.queue_count(session, user, organisation.id)
    panel.group_count = len(queries.organisation_groups(session, organisation))
    return panel


@bp.get("/dashboard")
@login_required
def index() -> str:
    user = signed_in_user()
    session = db_session()
    panels = [_panel(session, user, m) for m in user.memberships]
    return render_template("dashboard.html", user=user, panels=panels)
