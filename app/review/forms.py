"""The psychologist's decision form."""

from __future__ import annotations

from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.review.models import ReviewDecision
from app.web.forms import ChorusForm, choices

DECISIONS = [
    (ReviewDecision.APPROVED.value, "Approve for publication"),
    (ReviewDecision.CHANGES_REQUESTED.value, "Ask for changes"),
    (ReviewDecision.REJECTED.value, "Do not publish (reject)"),
]


class DecisionForm(ChorusForm):
    decision = RadioField(
        "Your decision",
        choices=choices(DECISIONS),
        validators=[InputRequired("Choose a decision.")],
    )
    note = TextAreaField(
        "Note to the creators",
        description="Needed when you ask for changes or reject: say what and why, kindly.",
        validators=[Optional(), Length(max=5000, message="Keep the note under 5,000 characters.")],
    )
    wellbeing_check = TextAreaField(
        "Wellbeing check (optional)",
        description="A few words to the creators about how they are doing, if it helps.",
        validators=[Optional(), Length(max=2000, message="Keep it under 2,000 characters.")],
    )
