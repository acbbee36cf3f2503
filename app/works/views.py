"""The creators' studio: their campaigns and works, files, description and submission.

Views translate HTTP to a service call; the services check every rule again. A work
or file that is not the person's own is 404, so its existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_login import login_required
from werkzeug.wrappers import Response

from app.accounts.models import User
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.policies.schema import MediaPolicy
from app.storage.base import Storage, StorageUnavailable
from app.web.context import policy_for
from app.web.database import db_session
from app.web.sessions import current_actor, signed_in_user
from app.works import forms, queries, services
from app.works.models import Credit, Work, WorkKind
from app.works.states import is_creator

bp = Blueprint("studio", __name__)

FORM_ALLOWANCE = 64 * 1024  # the form's own fields around the uploaded files
FORM_MEMORY = 512 * 1024  # what the multipart parser may hold in memory at once
DESCRIPTION_LIMIT = 2 * 1024 * 1024  # a transcript and a 500 KB captions file


# Bodies larger than the application's limit: (request limit, form-field memory).
LARGE_BODIES: dict[str, Callable[[MediaPolicy], tuple[int, int]]] = {
    "studio.upload": lambda policy: (policy.limits.max_upload_bytes + FORM_ALLOWANCE, FORM_MEMORY),
    "studio.describe": lambda _policy: (DESCRIPTION_LIMIT, DESCRIPTION_LIMIT // 2),
}


@bp.url_value_preprocessor
def _allow_large_bodies(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Raise the size limits for a work's creators sending its upload or description
    form (multipart), before anything reads the body — the CSRF check, which runs
    before any view, first of all. Everyone else, and any other kind of body, keeps
    the application's small limits. Either way, a body over its limit is refused with
    413 before anything is read from it or stored."""
    limits = LARGE_BODIES.get(endpoint or "")
    if limits is None or request.mimetype != "multipart/form-data" or not values:
        return
    work = db_session().get(Work, values.get("work_id"))
    if work is None or not is_creator(current_actor(), work):
        return
    request.max_content_length, request.max_form_memory_size = limits(
        policy_for(work.campaign.group.organisation)
    )


def _storage() -> Storage:
    storage: Storage = current_app.extensions["chorus.storage"]
    return storage


def _own_work(work_id: int) -> tuple[User, Work]:
    actor = signed_in_user()
    return actor, queries.own_work(db_session(), actor, work_id)


def _back(work: Work) -> Response:
    return redirect(url_for("studio.show", work_id=work.id), 303)


@bp.get("/studio")
@login_required
def index() -> str:
    user = signed_in_user()
    if not queries.is_creator_anywhere(user):
        raise NotFound(gettext("There is no such page."))
    sections = queries.studio(db_session(), user)
    return render_template("works/studio.html", sections=sections)


def _new_page(
    campaign_id: int, form: forms.NewWorkForm | None, status: int = 200
) -> tuple[str, int]:
    campaign = queries.campaign_for_creator(db_session(), signed_in_user(), campaign_id)
    form = form or forms.new_work_form(policy_for(campaign.group.organisation))
    return render_template("works/new.html", campaign=campaign, form=form), status


@bp.get("/campaigns/<int:campaign_id>/works/new")
@login_required
def new(campaign_id: int) -> tuple[str, int]:
    return _new_page(campaign_id, None)


@bp.post("/campaigns/<int:campaign_id>/works/new")
@login_required
def create(campaign_id: int) -> tuple[str, int] | Response:
    actor, session = signed_in_user(), db_session()
    campaign = queries.campaign_for_creator(session, actor, campaign_id)
    policy = policy_for(campaign.group.organisation)
    form = forms.new_work_form(policy)
    if not form.validate_on_submit():
        return _new_page(campaign_id, form, 422)
    try:
        work = services.create_work(
            session,
            actor=actor,
            campaign=campaign,
            policy=policy,
            kind=WorkKind(form.kind.data),
            title=form.title.data or "",
            credit=Credit(form.credit.data),
            pseudonym=form.pseudonym.data or "",
            language=form.language.data or "en",
            content_warnings=forms.split_warnings(form.content_warnings.data or ""),
        )
    except ValidationFailed as error:
        session.rollback()
        form.form_errors.append(error.message)
        return _new_page(campaign_id, form, 422)
    session.commit()
    flash(gettext("Your work is started. Add its files and describe it."), "success")
    return _back(work)


def _work_page(
    work: Work, form: forms.DescribeForm | None = None, status: int = 200
) -> tuple[str, int]:
    actor, session = signed_in_user(), db_session()
    policy = policy_for(work.campaign.group.organisation)
    page = queries.work_page(session, actor, work, policy)
    latest = page.latest
    anonymisation = forms.AnonymisationForm(
        mask_faces=latest.mask_faces if latest else False,
        alter_voice=latest.alter_voice if latest else False,
    )
    return render_template(
        "works/show.html",
        page=page,
        policy=policy,
        form=form or forms.describe_form(work),
        anonymisation=anonymisation,
        accept=forms.ACCEPT[work.kind.value],
        max_upload_mb=policy.limits.max_upload_mb,
        max_upload_bytes=policy.limits.max_upload_bytes,
    ), status


@bp.get("/works/<int:work_id>")
@login_required
def show(work_id: int) -> tuple[str, int]:
    _actor, work = _own_work(work_id)
    return _work_page(work)


@bp.post("/works/<int:work_id>")
@login_required
def describe(work_id: int) -> tuple[str, int] | Response:
    actor, work = _own_work(work_id)
    session, form = db_session(), forms.DescribeForm()
    if not form.validate():
        return _work_page(work, form, 422)
    try:
        captions = forms.read_captions(
            request.files.get("captions"), work.captions, remove=form.remove_captions.data
        )
        services.describe_work(
            session,
            actor=actor,
            work=work,
            title=form.title.data or "",
            content_warnings=forms.split_warnings(form.content_warnings.data or ""),
            alt_text=form.alt_text.data or "",
            transcript=form.transcript.data or "",
            captions=captions,
        )
    except ValidationFailed as error:
        session.rollback()
        form.form_errors.append(error.message)
        return _work_page(work, form, 422)
    session.commit()
    flash(gettext("The description is saved."), "success")
    return _back(work)


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


def _upload_answer(work: Work, message: str, status: int) -> Response:
    """JSON for the upload script (which then opens the work page), or the work page
    for a plain form; the page shows the message either way."""
    flash(message, "success" if status < 300 else "error")
    if _wants_json():
        redirect_to = url_for("studio.show", work_id=work.id)
        answer = jsonify(ok=status < 300, message=message, redirect=redirect_to)
        answer.status_code = status
        return answer
    return _back(work)


@bp.post("/works/<int:work_id>/files")
@login_required
def upload(work_id: int) -> Response:
    actor, work = _own_work(work_id)
    streams = forms.uploaded_streams(request.files.getlist("files"))
    session, key = db_session(), current_app.extensions["chorus.settings"].originals_key
    try:
        if not streams:
            raise ValidationFailed(gettext("Choose a file to upload."))
        version = services.current_draft(session, actor=actor, work=work)
        for stream in streams:
            services.add_file(
                session,
                actor=actor,
                version=version,
                storage=_storage(),
                originals_key=key,
                stream=stream,
            )
    except (Conflict, ValidationFailed, StorageUnavailable) as error:
        session.rollback()  # deletes what was stored for this request
        status = {Conflict: 409, ValidationFailed: 422}.get(type(error), 503)
        return _upload_answer(work, error.message, status)
    session.commit()
    count = len(streams)
    return _upload_answer(
        work, ngettext("%(num)d file uploaded.", "%(num)d files uploaded.", count), 200
    )


def _act(work: Work, action: Callable[[], object], done: str) -> Response:
    """Run one service call and commit; a refusal is shown on the work page."""
    session = db_session()
    try:
        action()
    except (Conflict, ValidationFailed) as error:
        session.rollback()
        flash(error.message, "error")
        return _back(work)
    session.commit()
    flash(done, "success")
    return _back(work)


@bp.post("/assets/<int:asset_id>/remove")
@login_required
def remove_file(asset_id: int) -> Response:
    actor, session = signed_in_user(), db_session()
    asset = queries.own_asset(session, actor, asset_id)
    return _act(
        asset.version.work,
        lambda: services.remove_file(session, actor=actor, asset=asset, storage=_storage()),
        gettext("The file is removed."),
    )


@bp.post("/versions/<int:version_id>/anonymisation")
@login_required
def anonymisation(version_id: int) -> Response:
    actor, session = signed_in_user(), db_session()
    version = queries.own_version(session, actor, version_id)
    form = forms.AnonymisationForm()
    return _act(
        version.work,
        lambda: services.choose_anonymisation(
            session,
            actor=actor,
            version=version,
            mask_faces=bool(form.mask_faces.data),
            alter_voice=bool(form.alter_voice.data),
        ),
        gettext("Your choice is saved. It applies when the version is next checked."),
    )


@bp.post("/versions/<int:version_id>/submit")
@login_required
def submit(version_id: int) -> Response:
    actor, session = signed_in_user(), db_session()
    version = queries.own_version(session, actor, version_id)
    return _act(
        version.work,
        lambda: services.submit(session, actor=actor, version=version),
        gettext("The version is sent. We check its files first, then a psychologist reviews it."),
    )


@bp.post("/works/<int:work_id>/pause")
@login_required
def pause(work_id: int) -> Response:
    actor, work = _own_work(work_id)
    return _act(
        work,
        lambda: services.pause(db_session(), actor=actor, work=work),
        gettext("The work is paused. Nothing more happens to it until you resume it."),
    )


@bp.post("/works/<int:work_id>/resume")
@login_required
def resume(work_id: int) -> Response:
    actor, work = _own_work(work_id)
    return _act(
        work,
        lambda: services.resume(db_session(), actor=actor, work=work),
        gettext("The work is resumed."),
    )


@bp.get("/works/<int:work_id>/withdraw")
@login_required
def confirm_withdraw(work_id: int) -> str:
    _actor, work = _own_work(work_id)
    return render_template("works/withdraw.html", work=work)


@bp.post("/works/<int:work_id>/withdraw")
@login_required
def withdraw(work_id: int) -> Response:
    actor, work = _own_work(work_id)
    return _act(
        work,
        lambda: services.withdraw(db_session(), actor=actor, work=work),
        gettext("The work is withdrawn. Anything that was published is taken down now."),
    )
