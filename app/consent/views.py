"""Consent pages: a creator gives or withdraws their own consent, a facilitator records
consent given on paper, staff list a work's consents, and anyone holding a withdrawal
code withdraws without an account. Each view parses, calls a service and renders."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import login_required
from werkzeug.wrappers import Response

from app.accounts.models import User
from app.accounts.throttle import throttle_rules
from app.consent import queries
from app.consent.forms import (
    OWN_MODALITY_LABELS,
    THEIR_MODALITY_LABELS,
    OwnConsentForm,
    PaperConsentForm,
    WithdrawForm,
)
from app.consent.models import ConsentMethod, ConsentRecord, Person
from app.consent.receipts import format_code, normalise_code, withdrawal_qr_svg
from app.consent.services import (
    IssuedConsent,
    TooManyAttempts,
    add_person,
    allowed_modalities,
    may_give_own_consent,
    notice_text,
    record_consent_for_person,
    record_own_consent,
    withdraw_by_code,
    withdraw_consent,
)
from app.core.clock import utcnow
from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.core.permissions import Permission, can, role_in
from app.i18n import N_
from app.policies.schema import MediaPolicy
from app.web.context import policy_for
from app.web.database import db_session
from app.web.forms import choices
from app.web.sessions import current_actor, signed_in_user
from app.works.models import Work
from app.works.states import organisation_id_of

bp = Blueprint("consent", __name__)

WITHDRAWN = N_("Your consent has been withdrawn. Anything that depended on it has been taken down.")


@bp.app_template_filter("channel_label")
def channel_label(channel: str) -> str:
    return channel.replace("_", " ").capitalize()


@bp.app_template_filter("consent_last_day")
def consent_last_day(expires_at: datetime) -> str:
    """The last day a consent is valid: one given "until 5 May" ends at the midnight
    that starts 6 May (see ``_end_of``)."""
    return (expires_at - timedelta(microseconds=1)).strftime("%Y-%m-%d")


def _work(work_id: int) -> tuple[User, Work]:
    """The work, if the signed-in person belongs to its organisation; 404 otherwise."""
    actor = signed_in_user()
    work = db_session().get(Work, work_id)
    if work is None or role_in(actor, organisation_id_of(work)) is None:
        raise NotFound(gettext("There is no such work."))
    return actor, work


def _policy(work: Work) -> MediaPolicy:
    return policy_for(work.campaign.group.organisation)


def _end_of(day: date | None) -> datetime | None:
    """A consent valid until a day ends at the end of that day (UTC)."""
    return None if day is None else datetime.combine(day + timedelta(days=1), time(), UTC)


def _no_store(html: str, status: int = 200) -> Response:
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _receipt(issued: IssuedConsent, work: Work, own: bool) -> Response:
    # The clear code exists only in this response: Chorus keeps its sha256.
    url = url_for("consent.withdraw_link", code=issued.code, _external=True)
    row = queries.rows(db_session(), [issued.record], utcnow())[0]
    html = render_template(
        "consent/receipt.html",
        row=row,
        code=issued.code,
        url=url,
        qr=withdrawal_qr_svg(url),
        work=work,
        own=own,
        labels=OWN_MODALITY_LABELS if own else THEIR_MODALITY_LABELS,
    )
    return _no_store(html)


def _offer(form: OwnConsentForm | PaperConsentForm, policy: MediaPolicy, own: bool) -> None:
    """What the policy lets a person consent to, as checkboxes."""
    labels = OWN_MODALITY_LABELS if own else THEIR_MODALITY_LABELS
    form.modalities.choices = choices([(m.value, labels[m]) for m in allowed_modalities(policy)])
    form.channels.choices = choices([(c, channel_label(c)) for c in policy.publication.channels])


def _own_form(policy: MediaPolicy) -> OwnConsentForm:
    form = OwnConsentForm()
    _offer(form, policy, own=True)
    return form


# --- A creator's own consent -----------------------------------------------------------


def _give_page(work: Work, form: OwnConsentForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "consent/give.html", work=work, form=form, notice=notice_text(_policy(work))
    ), status


def _own_work(work_id: int) -> tuple[User, Work]:
    actor, work = _work(work_id)
    if not may_give_own_consent(db_session(), actor, work):
        raise PermissionDenied(
            gettext("Only a creator of this work or of its group can give this consent.")
        )
    return actor, work


@bp.get("/works/<int:work_id>/consent")
@login_required
def give(work_id: int) -> tuple[str, int]:
    _, work = _own_work(work_id)
    return _give_page(work, _own_form(_policy(work)))


@bp.post("/works/<int:work_id>/consent")
@login_required
def give_post(work_id: int) -> tuple[str, int] | Response:
    actor, work = _own_work(work_id)
    policy = _policy(work)
    form = _own_form(policy)
    if not form.validate_on_submit():
        return _give_page(work, form, 422)
    session = db_session()
    try:
        issued = record_own_consent(
            session,
            actor=actor,
            work=work,
            policy=policy,
            modalities=form.modalities.data or [],
            channels=form.channels.data or [],
            expires_at=_end_of(form.expires_on.data),
            notice=notice_text(policy),
            language="en",
        )
    except ValidationFailed as error:
        form.form_errors.append(error.message)
        return _give_page(work, form, 422)
    session.commit()
    return _receipt(issued, work, own=True)


@bp.get("/my/consents")
@login_required
def mine() -> str:
    session = db_session()
    records = queries.consents_of_user(session, signed_in_user())
    return render_template(
        "consent/mine.html",
        rows=queries.rows(session, records, utcnow()),
        labels=OWN_MODALITY_LABELS,
    )


@bp.post("/my/consents/<int:record_id>/withdraw")
@login_required
def withdraw_mine(record_id: int) -> Response:
    actor = signed_in_user()
    session = db_session()
    record = session.get(ConsentRecord, record_id)
    if record is None or record.subject.user_id != actor.id:
        raise NotFound(gettext("There is no such consent."))
    withdraw_consent(session, actor=actor, record=record)
    session.commit()
    flash(gettext(WITHDRAWN), "success")
    return redirect(url_for("consent.mine"))


# --- Staff: consent given on paper, and a work's consents -------------------------------


def _recorder_work(work_id: int) -> tuple[User, Work]:
    actor, work = _work(work_id)
    if not can(actor, Permission.RECORD_CONSENT_FOR_OTHERS, organisation_id_of(work)):
        raise PermissionDenied(gettext("Only a facilitator can record consent given on paper."))
    return actor, work


def _paper_form(work: Work, policy: MediaPolicy) -> PaperConsentForm:
    session = db_session()
    organisation_id = organisation_id_of(work)
    form = PaperConsentForm()
    _offer(form, policy, own=False)
    people = queries.people_of(session, organisation_id)
    form.person.choices = choices(
        [("", gettext("Choose someone…"))] + [(str(p.id), p.label) for p in people]
    )
    form.scope.choices = choices(
        [
            ("work", gettext("This work only: %(title)s", title=work.title)),
            (
                "campaign",
                gettext("Every work of the campaign: %(title)s", title=work.campaign.title),
            ),
        ]
    )
    staff = queries.staff_of(session, organisation_id)
    form.witness.choices = choices(
        [("", gettext("No witness"))] + [(str(u.id), u.login_name) for u in staff]
    )
    languages = list(dict.fromkeys([*policy.organisation.languages, "en"]))
    form.language.choices = choices([(code, code.upper()) for code in languages])
    return form


def _paper_page(work: Work, form: PaperConsentForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "consent/on_paper.html", work=work, form=form, notice=notice_text(_policy(work))
    ), status


def _given_at(day: date) -> datetime:
    now = utcnow()
    return now if day == now.date() else datetime.combine(day, time(), UTC)


def _subject(form: PaperConsentForm, work: Work, actor: User) -> Person:
    """The person chosen, or the one added; ``ValidationFailed`` if neither or both."""
    session = db_session()
    label = (form.new_label.data or "").strip()
    if bool(form.person.data) == bool(label):
        raise ValidationFailed(
            gettext("Choose someone from the list, or add someone new (not both).")
        )
    organisation = work.campaign.group.organisation
    if label:
        return add_person(session, actor=actor, organisation=organisation, label=label)
    people = {str(p.id): p for p in queries.people_of(session, organisation.id)}
    return people[form.person.data or ""]  # validated against the choices


@bp.get("/works/<int:work_id>/consent/on-paper")
@login_required
def on_paper(work_id: int) -> tuple[str, int]:
    _, work = _recorder_work(work_id)
    return _paper_page(work, _paper_form(work, _policy(work)))


@bp.post("/works/<int:work_id>/consent/on-paper")
@login_required
def on_paper_post(work_id: int) -> tuple[str, int] | Response:
    actor, work = _recorder_work(work_id)
    policy = _policy(work)
    form = _paper_form(work, policy)
    if not form.validate_on_submit():
        return _paper_page(work, form, 422)
    session = db_session()
    staff = {str(u.id): u for u in queries.staff_of(session, organisation_id_of(work))}
    try:
        issued = record_consent_for_person(
            session,
            actor=actor,
            person=_subject(form, work, actor),
            work=work if form.scope.data == "work" else None,
            campaign=work.campaign if form.scope.data == "campaign" else None,
            policy=policy,
            modalities=form.modalities.data or [],
            channels=form.channels.data or [],
            method=ConsentMethod(form.method.data),
            given_at=_given_at(form.given_on.data),  # type: ignore[arg-type]
            expires_at=_end_of(form.expires_on.data),
            witnessed_by=staff.get(form.witness.data or ""),
            notice=notice_text(policy),
            language=form.language.data or "en",
        )
    except ValidationFailed as error:
        session.rollback()  # a person added for this record goes too
        form.form_errors.append(error.message)
        return _paper_page(work, form, 422)
    session.commit()
    return _receipt(issued, work, own=False)


@bp.get("/works/<int:work_id>/consents")
@login_required
def work_consents(work_id: int) -> str:
    actor, work = _work(work_id)
    if not queries.may_see_work_consents(actor, work):
        raise PermissionDenied(gettext("Only staff and the work's creators can see its consents."))
    session = db_session()
    records = queries.consents_for_work(session, work)
    return render_template(
        "consent/work.html",
        work=work,
        rows=queries.rows(session, records, utcnow()),
        labels=THEIR_MODALITY_LABELS,
        can_record=can(actor, Permission.RECORD_CONSENT_FOR_OTHERS, organisation_id_of(work)),
        can_give=may_give_own_consent(session, actor, work),
    )


@bp.post("/works/<int:work_id>/consents/<int:record_id>/withdraw")
@login_required
def withdraw_for_work(work_id: int, record_id: int) -> Response:
    actor, work = _recorder_work(work_id)
    session = db_session()
    record = next((r for r in queries.consents_for_work(session, work) if r.id == record_id), None)
    if record is None:
        raise NotFound(gettext("There is no such consent."))
    withdraw_consent(session, actor=actor, record=record)
    session.commit()
    flash(
        gettext("The consent is withdrawn. Anything that depended on it has been taken down."),
        "success",
    )
    return redirect(url_for("consent.work_consents", work_id=work.id))


# --- Anyone with a withdrawal code -------------------------------------------------------


def _withdraw_page(form: WithdrawForm, status: int = 200) -> Response:
    return _no_store(render_template("consent/withdraw.html", form=form), status)


@bp.get("/withdraw")
def withdraw_form() -> Response:
    return _withdraw_page(WithdrawForm())


@bp.get("/withdraw/<code>")
def withdraw_link(code: str) -> Response:
    """The link on a receipt: the form, filled in. Nothing is withdrawn on GET."""
    form = WithdrawForm()
    symbols = normalise_code(code[:40])
    form.code.data = format_code(symbols) if symbols else ""
    return _withdraw_page(form)


@bp.post("/withdraw")
def withdraw_post() -> Response:
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _withdraw_page(form, 422)
    session = db_session()
    try:
        withdraw_by_code(
            session,
            code=form.code.data or "",
            address=request.remote_addr or "unknown",
            rules=throttle_rules(current_app.extensions["chorus.settings"]),
            actor=current_actor(),
        )
    except ValidationFailed as error:
        session.commit()  # keep the failure count; nothing was withdrawn
        form.form_errors.append(error.message)
        return _withdraw_page(form, 429 if isinstance(error, TooManyAttempts) else 422)
    session.commit()
    return _no_store(render_template("consent/withdrawn.html", message=gettext(WITHDRAWN)))
