"""Psychologists' pages: the review queue, a version's review page, start and decide.

Only a psychologist of the work's organisation who did not co-create it sees a
version here; anyone else is told there is no such page. The services check again.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required
from werkzeug.wrappers import Response

from app.core.errors import Conflict, NotFound, ValidationFailed
from app.policies.loader import PolicyRegistry
from app.review import queries, services
from app.review.forms import DecisionForm
from app.review.models import ReviewDecision
from app.storage.base import Storage
from app.web.context import policy_for
from app.web.database import db_session
from app.web.sessions import signed_in_user
from app.works.models import Version

bp = Blueprint("review", __name__)


@bp.get("/review")
@login_required
def queue() -> str:
    user = signed_in_user()
    if not queries.psychologist_organisations(user):
        raise NotFound(gettext("There is no such page."))
    policies: PolicyRegistry = current_app.extensions["chorus.policies"]
    items = queries.review_queue(db_session(), user, policies)
    return render_template("review/queue.html", items=items)


def _page(version: Version, form: DecisionForm | None = None, status: int = 200) -> tuple[str, int]:
    storage: Storage = current_app.extensions["chorus.storage"]
    policy = policy_for(version.work.campaign.group.organisation)
    page = queries.review_page(db_session(), storage, signed_in_user(), version, policy)
    return render_template("review/show.html", page=page, form=form or DecisionForm()), status


def _version(version_id: int) -> Version:
    return queries.reviewable_version(db_session(), signed_in_user(), version_id)


@bp.get("/review/versions/<int:version_id>")
@login_required
def show(version_id: int) -> tuple[str, int]:
    return _page(_version(version_id))


@bp.post("/review/versions/<int:version_id>/start")
@login_required
def start(version_id: int) -> Response:
    version, session = _version(version_id), db_session()
    back = redirect(url_for("review.show", version_id=version.id), 303)
    try:
        services.start_review(session, actor=signed_in_user(), version=version)
    except Conflict as error:
        session.rollback()
        flash(error.message, "error")
        return back
    session.commit()
    flash(
        gettext("You are reviewing this version. Other psychologists see that it is taken."),
        "success",
    )
    return back


@bp.post("/review/versions/<int:version_id>/decide")
@login_required
def decide(version_id: int) -> tuple[str, int] | Response:
    actor, version, session = signed_in_user(), _version(version_id), db_session()
    form = DecisionForm()
    if not form.validate_on_submit():
        return _page(version, form, 422)
    review = services.open_review(session, version)
    if review is None or review.reviewer_id != actor.id:
        raise Conflict(gettext("Start the review first; this version is not open for you."))
    try:
        services.decide(
            session,
            actor=actor,
            review=review,
            decision=ReviewDecision(form.decision.data),
            policy=policy_for(version.work.campaign.group.organisation),
            note=form.note.data or "",
            wellbeing_check=form.wellbeing_check.data or "",
        )
    except ValidationFailed as error:
        session.rollback()
        form.form_errors.append(error.message)
        return _page(version, form, 422)
    session.commit()
    flash(gettext("Your decision is recorded. Thank you."), "success")
    return redirect(url_for("review.queue"), 303)
