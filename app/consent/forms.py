"""Forms for giving, recording and withdrawing consent."""

from __future__ import annotations

from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.consent.models import ConsentMethod, Modality
from app.web.forms import ChorusForm, choices

METHOD_LABELS = {
    ConsentMethod.PAPER: "Signed on paper",
    ConsentMethod.VERBAL_WITNESSED: "Said out loud, before a staff witness",
}
OWN_MODALITY_LABELS = {
    Modality.FACE: "My face may be seen",
    Modality.VOICE: "My voice may be heard",
    Modality.STORY: "My story may be told",
}
THEIR_MODALITY_LABELS = {
    Modality.FACE: "Their face may be seen",
    Modality.VOICE: "Their voice may be heard",
    Modality.STORY: "Their story may be told",
}


class Chosen(InputRequired):
    """At least one box ticked. Unlike ``InputRequired`` it does not mark every box
    ``required``, which would tell a screen reader each one must be ticked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.field_flags: dict[str, bool] = {}


class CheckboxesField(SelectMultipleField):
    """A set of checkboxes; the template draws them inside a fieldset."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


NOT_OFFERED = "Choose among the options shown."


def _modalities(label: str) -> CheckboxesField:
    return CheckboxesField(
        label,
        validators=[Chosen("Choose at least one: face, voice or story.")],
        invalid_choice_message=NOT_OFFERED,
    )


def _channels(label: str) -> CheckboxesField:
    return CheckboxesField(
        label,
        validators=[Chosen("Choose at least one place where it may be shown.")],
        invalid_choice_message=NOT_OFFERED,
    )


def _until() -> DateField:
    return DateField(
        "Valid until (optional)",
        description="Leave empty for no end date. It ends at the end of that day (UTC).",
        validators=[Optional()],
    )


class OwnConsentForm(ChorusForm):
    modalities = _modalities("What may appear in this work")
    channels = _channels("Where it may be shown")
    expires_on = _until()
    agree = BooleanField(
        "I have read the text above and I agree",
        validators=[InputRequired("Tick the box to confirm you agree.")],
    )


class PaperConsentForm(ChorusForm):
    person = SelectField("Who gave consent", coerce=str, validators=[Optional()])
    new_label = StringField(
        "Or add someone new",
        description="A pseudonym or a short description, never a real name.",
        validators=[Optional(), Length(max=120, message="Keep the label under 120 characters.")],
    )
    scope = SelectField("What the consent covers", coerce=str, validators=[InputRequired()])
    method = SelectField(
        "How consent was given",
        choices=choices([(m.value, label) for m, label in METHOD_LABELS.items()]),
        validators=[InputRequired("Choose how consent was given.")],
    )
    witness = SelectField("Witness", coerce=str, validators=[Optional()])
    given_on = DateField(
        "Date consent was given",
        validators=[InputRequired("Enter the date, for example 2026-03-01.")],
    )
    expires_on = _until()
    language = SelectField("Language the notice was given in", coerce=str)
    modalities = _modalities("What may appear")
    channels = _channels("Where it may be shown")
    confirm = BooleanField(
        "I hold the signed form, or the witness heard the person agree to exactly this",
        validators=[InputRequired("Please confirm how consent was obtained.")],
    )


class WithdrawForm(ChorusForm):
    code = StringField(
        "Withdrawal code",
        description="The code on your receipt, for example ABCDE-FGHJK.",
        validators=[
            InputRequired("Enter the code from your receipt."),
            Length(max=40, message="That is longer than a withdrawal code."),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
