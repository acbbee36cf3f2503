"""Forms of the curators' pages."""

from __future__ import annotations

from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional

from app.web.forms import ChorusForm


class ExhibitionForm(ChorusForm):
    title = StringField(
        "Title",
        validators=[InputRequired("Give the exhibition a title."), Length(max=200)],
    )
    introduction = TextAreaField(
        "Introduction",
        description="Plain text shown above the works. Leave an empty line between paragraphs.",
        validators=[
            Optional(),
            Length(max=10_000, message="Keep the introduction under 10,000 characters."),
        ],
    )


class NewExhibitionForm(ExhibitionForm):
    slug = StringField(
        "Web address (optional)",
        description=(
            "The end of the exhibition's address, such as spring-voices. Left empty, it is "
            "made from the title. It cannot be changed later."
        ),
        validators=[Optional(), Length(max=60)],
    )


class AddWorkForm(ChorusForm):
    work_id = SelectField(
        "Published work", coerce=int, validators=[InputRequired("Choose a work to add.")]
    )


class MoveForm(ChorusForm):
    """Up or down one place, or straight to a position."""

    direction = StringField(validators=[Optional(), AnyOf(["up", "down"])])
    position = IntegerField(
        "Move to position", validators=[Optional(), NumberRange(min=1, max=10_000)]
    )
