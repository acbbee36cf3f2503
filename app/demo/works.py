"""Demo works taken through the real pipeline, so a fresh Chorus shows every state.

For each organisation, its demo creator makes a work of every kind the policy allows,
uploads files built with planted metadata, faces and speech (``app.demo.media``),
describes them and submits them. What happens next is the pipeline's own doing: the
processing job cleans each file, detects faces and voices, and the consent gate lets
the version through to review (masked or altered where the policy says so) or blocks
it. Then the people act as they would: a creator records their own consent, a
facilitator records consent given on paper, a creator chooses masking after a block,
psychologists approve (as many as the policy needs) or ask for changes. Nothing here
sets a state; every step is a service call by a real actor, and the jobs run as soon
as each step commits (the caller configures the queue in immediate mode).

Across the five partner organisations the demo ends with works published (with
consent, masked or altered), works blocked for want of consent, and works waiting
in review.
"""

from __future__ import annotations

import enum
import io
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.consent.models import ConsentMethod, Modality
from app.consent.services import (
    add_person,
    notice_text,
    record_consent_for_person,
    record_own_consent,
)
from app.core.clock import utcnow
from app.demo import media
from app.demo.media.planted import SPEECH_TEXT, VIDEO_CAPTIONS
from app.demo.services import DemoOrganisation
from app.groups.models import Campaign, Group
from app.orgs.models import Organisation
from app.review.models import ReviewDecision
from app.review.services import decide, start_review
from app.storage.base import Storage
from app.works.models import Credit, Version, VersionState, Work, WorkKind
from app.works.services import (
    add_file,
    choose_anonymisation,
    create_work,
    current_draft,
    describe_work,
    submit,
)

log = logging.getLogger("chorus.demo")

Build = Callable[[], media.DemoFile]
CHANNELS = ("gallery",)
FACE_AND_VOICE = (Modality.FACE, Modality.VOICE)
CHANGES_NOTE = (
    "Thank you, this is strong. Please take out the e-mail address and the phone "
    "number at the end before it goes public: they could lead someone to you."
)


class ReviewPlan(enum.Enum):
    """What the organisation's psychologists do once a version waits for review."""

    NONE = "none"  # nobody has looked yet: it stays in review
    ONE = "one"  # one psychologist approves; a policy asking for two keeps it waiting
    APPROVE = "approve"  # as many approve as the policy asks: it is published
    CHANGES = "changes"  # changes are asked for; the revised version is approved


@dataclass(frozen=True, slots=True)
class Scenario:
    """One demo work: what its creator uploads, who consents before submission, and
    what the people do afterwards. The outcome is the pipeline's."""

    kind: WorkKind
    title: str
    files: tuple[Build, ...]
    alt_text: str = ""
    own_consent: tuple[Modality, ...] = ()  # the creator consents for themself
    paper_consent: tuple[Modality, ...] = ()  # a facilitator records a paper form
    mask_if_blocked: bool = False  # after a block, the creator chooses masking
    review: ReviewPlan = ReviewPlan.APPROVE
    revised: tuple[Build, ...] = ()  # the second version, after changes were asked for


PAPER_BOATS = Scenario(
    WorkKind.FANZINE,
    "Paper boats",
    (media.fanzine_pdf,),
    alt_text=(
        "Three drawn pages. A yellow-sailed paper boat on blue waves under the title "
        "'Paper boats'; a poem about folding what we carry into paper boats; a back "
        "cover reading 'Made together'."
    ),
)
PORTRAIT_ALT = (
    "A photograph of a smiling woman with short brown hair in an orange suit, pinned "
    "to a warm wall under paper bunting."
)
PORTRAIT = Scenario(WorkKind.FANZINE, "Workshop portrait", (media.photo,), alt_text=PORTRAIT_ALT)
MOVING = Scenario(WorkKind.PERFORMANCE, "Moving together", (media.video,))
VOICES = Scenario(WorkKind.PODCAST, "Voices of the group", (media.podcast,))
CROSSING = Scenario(WorkKind.SCRIPT, "The crossing", (media.script,))


def _clean_script() -> media.DemoFile:
    return media.script(personal_data=False)


SCENARIOS: dict[str, tuple[Scenario, ...]] = {
    # Faces and voices with consent, masked or altered without it.
    "adpare": (
        PAPER_BOATS,
        replace(MOVING, own_consent=FACE_AND_VOICE),
        replace(PORTRAIT, review=ReviewPlan.NONE),
    ),
    # A voice needs consent (else blocked); a dancer signed a paper form.
    "equality": (
        replace(VOICES, review=ReviewPlan.NONE),
        replace(MOVING, paper_consent=FACE_AND_VOICE),
        replace(PAPER_BOATS, review=ReviewPlan.NONE),
    ),
    # A face needs consent (else blocked); voices are altered without it.
    "fundacion-cruz-blanca": (
        PORTRAIT,
        VOICES,
        replace(CROSSING, review=ReviewPlan.NONE),
    ),
    # Faces need consent here too: the video stays blocked, the photo is masked after
    # its block; a voice its creator consented to; a script sent back for the contact
    # details at its end, and revised.
    "mist": (
        MOVING,
        replace(PORTRAIT, mask_if_blocked=True),
        replace(VOICES, own_consent=(Modality.VOICE,)),
        replace(CROSSING, review=ReviewPlan.CHANGES, revised=(_clean_script,)),
    ),
    # Faces always masked, voices always altered, two psychologists approve.
    "payoke": (
        Scenario(
            WorkKind.FANZINE,
            "Paper boats and a portrait",
            (media.photo, media.fanzine_pdf),
            alt_text=PORTRAIT_ALT + " " + PAPER_BOATS.alt_text,
        ),
        replace(VOICES, review=ReviewPlan.ONE),
        replace(CROSSING, files=(_clean_script,)),
    ),
}
DEFAULT = {
    WorkKind.FANZINE: PAPER_BOATS,
    WorkKind.PERFORMANCE: MOVING,
    WorkKind.PODCAST: VOICES,
    WorkKind.SCRIPT: replace(CROSSING, files=(_clean_script,)),
}


@dataclass(frozen=True, slots=True)
class DemoOutcome:
    """How many versions ended in each state, by organisation (slug)."""

    states: dict[str, Counter[VersionState]]

    def lines(self) -> list[str]:
        """One line per organisation: ``adpare  published 2, in review 1``."""
        width = max((len(slug) for slug in self.states), default=0)
        return [
            f"{slug:<{width}}  "
            + ", ".join(
                f"{state.value.replace('_', ' ')} {count}"
                for state, count in sorted(counts.items(), key=lambda item: item[0].value)
            )
            for slug, counts in sorted(self.states.items())
        ]


def scenarios_for(demo: DemoOrganisation) -> tuple[Scenario, ...]:
    """The organisation's demo works: its scenarios, and a plain one for each allowed
    kind they leave out (any organisation beyond the five partners gets only those)."""
    allowed = [WorkKind(kind) for kind in demo.policy.works.kinds]
    chosen = [s for s in SCENARIOS.get(demo.policy.slug, ()) if s.kind in allowed]
    covered = {scenario.kind for scenario in chosen}
    return (*chosen, *(DEFAULT[kind] for kind in allowed if kind not in covered))


def run_demo_pipeline(
    session: Session,
    *,
    organisations: Sequence[DemoOrganisation],
    storage: Storage,
    originals_key: bytes,
) -> DemoOutcome:
    """Make, submit and review the demo works of each organisation (see the module's
    description) and count where their versions ended. Commits after every step, so
    the queued jobs (run at once in immediate mode) see it. Raises what the services
    raise, should a step the scenario expects to be allowed be refused."""
    for demo in organisations:
        for scenario in scenarios_for(demo):
            _play(session, demo, scenario, storage, originals_key)
    return outcome(session)


def outcome(session: Session) -> DemoOutcome:
    """Versions by organisation and state, counted in the database."""
    rows = session.execute(
        select(Organisation.slug, Version.state, func.count())
        .select_from(Version)
        .join(Work, Work.id == Version.work_id)
        .join(Campaign, Campaign.id == Work.campaign_id)
        .join(Group, Group.id == Campaign.group_id)
        .join(Organisation, Organisation.id == Group.organisation_id)
        .group_by(Organisation.slug, Version.state)
    ).all()
    states: dict[str, Counter[VersionState]] = {}
    for slug, state, count in rows:
        states.setdefault(slug, Counter())[state] = count
    return DemoOutcome(states)


def _commit(session: Session) -> None:
    """Commit (the jobs queued by this step run now) and read their results afresh."""
    session.commit()
    session.expire_all()


def _play(
    session: Session,
    demo: DemoOrganisation,
    scenario: Scenario,
    storage: Storage,
    key: bytes,
) -> None:
    """One scenario, step by step; each step only if the pipeline left the version in
    the state it needs (a file the detectors read otherwise simply ends elsewhere)."""
    policy, creator = demo.policy, demo.creator
    credit = Credit(policy.credit.default)
    work = create_work(
        session,
        actor=creator,
        campaign=demo.campaign,
        policy=policy,
        kind=scenario.kind,
        title=scenario.title,
        credit=credit,
        pseudonym="Lumi" if credit is Credit.PSEUDONYM else "",
    )
    describe_work(
        session,
        actor=creator,
        work=work,
        title=work.title,
        content_warnings=work.content_warnings,
        alt_text=scenario.alt_text,
        transcript=SPEECH_TEXT if scenario.kind is WorkKind.PODCAST else "",
        captions=VIDEO_CAPTIONS if scenario.kind is WorkKind.PERFORMANCE else "",
    )
    _consents(session, demo, scenario, work)
    version = _upload_and_submit(session, demo, work, scenario.files, storage, key)
    if version.state is VersionState.BLOCKED and scenario.mask_if_blocked:
        choose_anonymisation(
            session, actor=creator, version=version, mask_faces=True, alter_voice=False
        )
        submit(session, actor=creator, version=version)
        _commit(session)
    if version.state is VersionState.IN_REVIEW and scenario.review is ReviewPlan.CHANGES:
        _ask_for_changes(session, demo, version)
        version = _upload_and_submit(session, demo, work, scenario.revised, storage, key)
    if version.state is VersionState.IN_REVIEW and scenario.review is not ReviewPlan.NONE:
        _approve(session, demo, version, everyone=scenario.review is not ReviewPlan.ONE)
    log.info("demo work %s: version %s is %s", work.id, version.id, version.state.value)


def _ask_for_changes(session: Session, demo: DemoOrganisation, version: Version) -> None:
    """The first psychologist sends the version back with a note to the creators."""
    psychologist = demo.psychologists[0]
    review = start_review(session, actor=psychologist, version=version)
    decide(
        session,
        actor=psychologist,
        review=review,
        decision=ReviewDecision.CHANGES_REQUESTED,
        policy=demo.policy,
        note=CHANGES_NOTE,
    )
    _commit(session)


def _approve(session: Session, demo: DemoOrganisation, version: Version, *, everyone: bool) -> None:
    """The organisation's psychologists approve one after the other: as many as the
    policy needs (``everyone``), or only the first. The last approval needed queues the
    publication, which runs as it commits."""
    needed = demo.policy.review.approvals_required if everyone else 1
    for psychologist in demo.psychologists[:needed]:
        review = start_review(session, actor=psychologist, version=version)
        decide(
            session,
            actor=psychologist,
            review=review,
            decision=ReviewDecision.APPROVED,
            policy=demo.policy,
            note="",
            wellbeing_check="Talked it through with the group; everyone is at ease with it.",
        )
        _commit(session)


def _consents(session: Session, demo: DemoOrganisation, scenario: Scenario, work: Work) -> None:
    """The consent recorded before submission: the creator's own, or a paper form
    brought in by the facilitator for someone who appears in the work."""
    policy = demo.policy
    if scenario.own_consent:
        record_own_consent(
            session,
            actor=demo.creator,
            work=work,
            policy=policy,
            modalities=scenario.own_consent,
            channels=CHANNELS,
            expires_at=None,
            notice=notice_text(policy),
            language="en",
        )
    if scenario.paper_consent:
        person = add_person(
            session,
            actor=demo.facilitator,
            organisation=demo.organisation,
            label=f"Dancer in work {work.id}",
        )
        record_consent_for_person(
            session,
            actor=demo.facilitator,
            person=person,
            work=work,
            campaign=None,
            policy=policy,
            modalities=scenario.paper_consent,
            channels=CHANNELS,
            method=ConsentMethod.PAPER,
            given_at=utcnow() - timedelta(days=1),
            expires_at=None,
            witnessed_by=None,
            notice=notice_text(policy),
            language="en",
        )
    _commit(session)


def _upload_and_submit(
    session: Session,
    demo: DemoOrganisation,
    work: Work,
    files: Sequence[Build],
    storage: Storage,
    key: bytes,
) -> Version:
    """A new draft with the built files, submitted; processed by the time this returns."""
    version = current_draft(session, actor=demo.creator, work=work)
    for build in files:
        add_file(
            session,
            actor=demo.creator,
            version=version,
            storage=storage,
            originals_key=key,
            stream=io.BytesIO(build().data),
        )
    submit(session, actor=demo.creator, version=version)
    _commit(session)
    return version
