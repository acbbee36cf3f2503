"""Curators' pages: an organisation's exhibitions, and for each one its texts, its
works in order, and the buttons that open and close it. Plain forms; no JavaScript.

Anyone without ``CURATE_EXHIBITIONS`` in the organisation gets 404, like the other
organisation pages; the services check the permission again.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.accounts.models import User
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.permissions import Permission
from app.gallery import exhibition_queries as queries
from app.gallery import services
from app.gallery.forms import AddWorkForm, ExhibitionForm, MoveForm, NewExhibitionForm
from app.gallery.models import Exhibition
from app.orgs.models import Organisation
from app.web.context import organisation_for
from app.web.database import db_session
from app.web.sessions import signed_in_user
from app.works.models import Work

bp = Blueprint("curate", __name__)

Change = Callable[[Session, User, Exhibition], None]


def _organisation(slug: str) -> tuple[User, Organisation]:
    actor = signed_in_user()
    return actor, organisation_for(slug, actor, Permission.CURATE_EXHIBITIONS)


def _exhibition(slug: str, exhibition_id: int) -> tuple[User, Organisation, Exhibition]:
    actor, organisation = _organisation(slug)
    exhibition = db_session().get(Exhibition, exhibition_id)
    if exhibition is None or exhibition.organisation_id != organisation.id:
        raise NotFound("There is no such exhibition.")
    return actor, organisation, exhibition


def _work(work_id: int) -> Work:
    work = db_session().get(Work, work_id)
    if work is None:
        raise NotFound("There is no such work.")
    return work


@bp.get("/orgs/<slug>/exhibitions")
@login_required
def index(slug: str) -> str:
    _actor, organisation = _organisation(slug)
    return render_template(
        "curate/list.html",
        organisation=organisation,
        exhibitions=queries.organisation_exhibitions(db_session(), organisation),
        state_of=services.state_of,
    )


def _new_page(organisation: Organisation, form: NewExhibitionForm, status: int) -> tuple[str, int]:
    return render_template("curate/new.html", organisation=organisation, form=form), status


@bp.get("/orgs/<slug>/exhibitions/new")
@login_required
def new(slug: str) -> tuple[str, int]:
    _actor, organisation = _organisation(slug)
    return _new_page(organisation, NewExhibitionForm(), 200)


@bp.post("/orgs/<slug>/exhibitions/new")
@login_required
def create(slug: str) -> tuple[str, int] | Response:
    actor, organisation = _organisation(slug)
    form = NewExhibitionForm()
    if not form.validate_on_submit():
        return _new_page(organisation, form, 422)
    session = db_session()
    try:
        exhibition = services.create_exhibition(
            session,
            actor=actor,
            organisation=organisation,
            title=form.title.data or "",
            introduction=form.introduction.data or "",
            slug=form.slug.data or None,
        )
    except ValidationFailed as error:
        form.form_errors.append(error.message)
        return _new_page(organisation, form, 422)
    session.commit()
    flash("The exhibition is created as a draft. Add works, then open it.", "success")
    return redirect(url_for("curate.edit", slug=slug, exhibition_id=exhibition.id))


def _edit_page(
    organisation: Organisation, exhibition: Exhibition, form: ExhibitionForm, status: int = 200
) -> tuple[str, int]:
    session = db_session()
    add_form = AddWorkForm()
    add_form.work_id.choices = [
        (work.id, f"{work.title} ({queries.KIND_LABELS[work.kind]})")
        for work in queries.addable(session, exhibition)
    ]
    return render_template(
        "curate/edit.html",
        organisation=organisation,
        exhibition=exhibition,
        state=services.state_of(exhibition),
        items=queries.curated(session, exhibition),
        form=form,
        add_form=add_form,
        work_url=queries.work_url,
    ), status


@bp.get("/orgs/<slug>/exhibitions/<int:exhibition_id>")
@login_required
def edit(slug: str, exhibition_id: int) -> tuple[str, int]:
    _actor, organisation, exhibition = _exhibition(slug, exhibition_id)
    return _edit_page(organisation, exhibition, ExhibitionForm(obj=exhibition))


@bp.post("/orgs/<slug>/exhibitions/<int:exhibition_id>")
@login_required
def update(slug: str, exhibition_id: int) -> tuple[str, int] | Response:
    actor, organisation, exhibition = _exhibition(slug, exhibition_id)
    form = ExhibitionForm()
    if not form.validate_on_submit():
        return _edit_page(organisation, exhibition, form, 422)
    session = db_session()
    try:
        services.update_exhibition(
            session,
            actor=actor,
            exhibition=exhibition,
            title=form.title.data or "",
            introduction=form.introduction.data or "",
        )
    except ValidationFailed as error:
        form.form_errors.append(error.message)
        return _edit_page(organisation, exhibition, form, 422)
    session.commit()
    flash("The exhibition's texts are saved.", "success")
    return redirect(url_for("curate.edit", slug=slug, exhibition_id=exhibition.id))


def _act(
    slug: str, exhibition_id: int, change: Change, done: str, *, refused: str | None = None
) -> Response:
    """Run one change on the exhibition, commit, and go back to its page with a
    message; a refused change (or a form refused as ``refused`` says) leaves nothing
    behind and says why."""
    actor, _organisation, exhibition = _exhibition(slug, exhibition_id)
    back = redirect(url_for("curate.edit", slug=slug, exhibition_id=exhibition.id))
    if refused:
        flash(refused, "error")
        return back
    session = db_session()
    try:
        change(session, actor, exhibition)
    except (ValidationFailed, Conflict, NotFound) as error:
        session.rollback()
        flash(error.message, "error")
        return back
    session.commit()
    flash(done, "success")
    return back


@bp.post("/orgs/<slug>/exhibitions/<int:exhibition_id>/works")
@login_required
def add(slug: str, exhibition_id: int) -> Response:
    form = AddWorkForm()
    # The choices are not set here: the service decides which works may be added.
    form.work_id.validate_choice = False
    work_id: int = (form.work_id.data or 0) if form.validate_on_submit() else 0

    def change(session: Session, actor: User, exhibition: Exhibition) -> None:
        services.add_work(session, actor=actor, exhibition=exhibition, work=_work(work_id))

    refused = None if work_id else "Choose one of the published works listed."
    return _act(slug, exhibition_id, change, "The work is added at the end.", refused=refused)


@bp.post("/orgs/<slug>/exhibitions/<int:exhibition_id>/works/<int:work_id>/move")
@login_required
def move(slug: str, exhibition_id: int, work_id: int) -> Response:
    form = MoveForm()
    valid = form.validate_on_submit()
    position = form.position.data if valid else None
    by = {"up": -1, "down": 1}.get(form.direction.data or "", 0) if valid else 0
    refused = "Choose where to move the work." if position is None and not by else None

    def change(session: Session, actor: User, exhibition: Exhibition) -> None:
        services.move_work(
            session,
            actor=actor,
            exhibition=exhibition,
            work=_work(work_id),
            position=position,
            by=by,
        )

    return _act(slug, exhibition_id, change, "The order is saved.", refused=refused)


@bp.post("/orgs/<slug>/exhibitions/<int:exhibition_id>/works/<int:work_id>/remove")
@login_required
def remove(slug: str, exhibition_id: int, work_id: int) -> Response:
    def change(session: Session, actor: User, exhibition: Exhibition) -> None:
        services.remove_work(session, actor=actor, exhibition=exhibition, work=_work(work_id))

    return _act(slug, exhibition_id, change, "The work is taken out of the exhibition.")


@bp.post("/orgs/<slug>/exhibitions/<int:exhibition_id>/open")
@login_required
def open_(slug: str, exhibition_id: int) -> Response:
    def change(session: Session, actor: User, exhibition: Exhibition) -> None:
        services.open_exhibition(session, actor=actor, exhibition=exhibition)

    return _act(slug, exhibition_id, change, "The exhibition is open to the public.")


@bp.post("/orgs/<slug>/exhibitions/<int:exhibition_id>/close")
@login_required
def close(slug: str, exhibition_id: int) -> Response:
    def change(session: Session, actor: User, exhibition: Exhibition) -> None:
        services.close_exhibition(session, actor=actor, exhibition=exhibition)

    return _act(slug, exhibition_id, change, "The exhibition is closed.")
