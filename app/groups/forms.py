"""Forms for groups, campaigns, readiness and invitations."""

from __future__ import annotations

from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.groups.models import CampaignStage
from app.web.forms import ChorusForm, choices


class GroupForm(ChorusForm):
    name = StringField(
        "Group name",
        validators=[InputRequired("Give the group a name."), Length(max=120)],
    )
    rules = TextAreaField(
        "Group rules",
        description="What members agree to, in plain words.",
        validators=[Optional(), Length(max=5000, message="Keep the rules under 5,000 characters.")],
    )
    rules_required = BooleanField("Members accept these rules before joining")


class CampaignForm(ChorusForm):
    title = StringField(
        "Campaign title",
        validators=[InputRequired("Give the campaign a title."), Length(max=200)],
    )
    description = TextAreaField(
        "What is it about?",
        validators=[Optional(), Length(max=5000, message="Keep it under 5,000 characters.")],
    )


class StageForm(ChorusForm):
    stage = SelectField(
        "Stage",
        choices=choices([(stage.value, stage.label) for stage in CampaignStage]),
        validators=[InputRequired("Choose a stage.")],
    )


class JoinGroupForm(ChorusForm):
    accept_rules = BooleanField("I have read the group's rules and I accept them")


class ReadinessForm(ChorusForm):
    informed_consent_on = DateField(
        "Date of informed consent to take part",
        validators=[InputRequired("Enter the date, for example 2026-03-01.")],
    )
    crisis_period_ended_on = DateField(
        "Date the crisis-intervention period ended",
        validators=[InputRequired("Enter the date, for example 2026-03-01.")],
    )
    confirm = BooleanField(
        "I confirm I discussed taking part with this person and they agreed",
        validators=[InputRequired("Please confirm the conversation took place.")],
    )


class InvitationForm(ChorusForm):
    group = SelectField("Group to join (optional)", coerce=str, validators=[Optional()])
