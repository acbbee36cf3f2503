"""Groups and campaigns: facilitators set them up, creators join them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required
from werkzeug.wrappers import Response

from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.permissions import Permission, can, role_in
from app.groups import queries
from app.groups.forms import CampaignForm, GroupForm, JoinGroupForm, StageForm
from app.groups.models import Campaign, CampaignStage
from app.groups.services import (
    create_campaign,
    create_group,
    group_by_id,
    join_group,
    move_campaign,
)
from app.web.context import organisation_for, policy_for
from app.web.database import db_session
from app.web.sessions import signed_in_user

bp = Blueprint("groups", __name__)


def _groups_page(slug: str, form: GroupForm, status: int = 200) -> tuple[str, int]:
    organisation = organisation_for(slug, signed_in_user(), Permission.MANAGE_GROUPS)
    groups = queries.organisation_groups(db_session(), organisation)
    policy = policy_for(organisation)
    return render_template(
        "groups/list.html", organisation=organisation, groups=groups, form=form, policy=policy
    ), status


@bp.get("/orgs/<slug>/groups")
@login_required
def index(slug: str) -> tuple[str, int]:
    return _groups_page(slug, GroupForm())


@bp.post("/orgs/<slug>/groups")
@login_required
def create(slug: str) -> tuple[str, int] | Response:
    actor = signed_in_user()
    organisation = organisation_for(slug, actor, Permission.MANAGE_GROUPS)
    form = GroupForm()
    if not form.validate_on_submit():
        return _groups_page(slug, form, 422)
    session = db_session()
    try:
        group = create_group(
            session,
            actor=actor,
            organisation=organisation,
            policy=policy_for(organisation),
            name=form.name.data or "",
            rules=form.rules.data or "",
            rules_required=form.rules_required.data,
        )
    except ValidationFailed as error:
        form.form_errors.append(error.message)
        return _groups_page(slug, form, 422)
    session.commit()
    flash(gettext("The group is created."), "success")
    return redirect(url_for("groups.show", group_id=group.id))


def _visible_group(group_id: int):  # type: ignore[no-untyped-def]
    actor = signed_in_user()
    group = group_by_id(db_session(), group_id)
    if role_in(actor, group.organisation_id) is None:
        raise NotFound(gettext("There is no such group."))
    return actor, group


@bp.get("/groups/<int:group_id>")
@login_required
def show(group_id: int) -> str:
    actor, group = _visible_group(group_id)
    session = db_session()
    policy = policy_for(group.organisation)
    campaigns = queries.group_campaigns(session, group)
    return render_template(
        "groups/show.html",
        group=group,
        campaigns=campaigns,
        works=queries.campaign_works(session, campaigns),
        can_record_consent=can(actor, Permission.RECORD_CONSENT_FOR_OTHERS, group.organisation_id),
        is_member=queries.is_member(session, group, actor),
        can_manage=can(actor, Permission.MANAGE_CAMPAIGNS, group.organisation_id),
        can_join=can(actor, Permission.JOIN_GROUPS, group.organisation_id),
        campaign_form=CampaignForm(),
        stage_choices=[CampaignStage(s) for s in policy.campaign.stages],
        join_form=JoinGroupForm(),
    )


@bp.post("/groups/<int:group_id>/campaigns")
@login_required
def add_campaign(group_id: int) -> Response:
    actor, group = _visible_group(group_id)
    form = CampaignForm()
    back = redirect(url_for("groups.show", group_id=group.id))
    if not form.validate_on_submit():
        flash(_first_error(form) or gettext("Please check the campaign's title."), "error")
        return back
    session = db_session()
    try:
        create_campaign(
            session,
            actor=actor,
            group=group,
            policy=policy_for(group.organisation),
            title=form.title.data or "",
            description=form.description.data or "",
        )
    except ValidationFailed as error:
        flash(error.message, "error")
        return back
    session.commit()
    flash(gettext("The campaign is created."), "success")
    return back


@bp.post("/campaigns/<int:campaign_id>/stage")
@login_required
def stage(campaign_id: int) -> Response:
    session = db_session()
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(gettext("There is no such campaign."))
    actor, group = _visible_group(campaign.group_id)
    form = StageForm()
    back = redirect(url_for("groups.show", group_id=group.id))
    if not form.validate_on_submit():
        flash(gettext("Choose one of the stages listed."), "error")
        return back
    try:
        move_campaign(
            session,
            actor=actor,
            campaign=campaign,
            policy=policy_for(group.organisation),
            stage=CampaignStage(form.stage.data),
        )
    except ValidationFailed as error:
        flash(error.message, "error")
        return back
    session.commit()
    flash(gettext("The campaign's stage is updated."), "success")
    return back


@bp.post("/groups/<int:group_id>/join")
@login_required
def join(group_id: int) -> Response:
    actor, group = _visible_group(group_id)
    form = JoinGroupForm()
    back = redirect(url_for("groups.show", group_id=group.id))
    if not form.validate_on_submit():
        flash(gettext("Please try joining again."), "error")
        return back
    session = db_session()
    try:
        join_group(session, actor=actor, group=group, accept_rules=form.accept_rules.data)
    except (ValidationFailed, Conflict) as error:
        flash(error.message, "error")
        return back
    session.commit()
    flash(gettext("You joined the group."), "success")
    return back


def _first_error(form: CampaignForm) -> str | None:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return None
