"""Forms for org admins: roles and staff accounts."""

from __future__ import annotations

from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from app.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from app.orgs.models import Role
from app.web.forms import ChorusForm, choices

STAFF_CHOICES = [(r.value, r.label) for r in (Role.FACILITATOR, Role.PSYCHOLOGIST, Role.ORG_ADMIN)]
ROLE_CHOICES = [(r.value, r.label) for r in Role]


class RoleForm(ChorusForm):
    role = SelectField("Role", choices=choices(ROLE_CHOICES))


class ActiveForm(ChorusForm):
    """Suspend or restore; the button carries no data beyond the CSRF token."""


class StaffForm(ChorusForm):
    login_name = StringField(
        "Login name",
        description="Letters, digits, dots, dashes or underscores.",
        validators=[InputRequired("Choose a login name."), Length(min=3, max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    role = SelectField("Role", choices=choices(STAFF_CHOICES))
    password = PasswordField(
        "First password",
        description="Hand it over in person; they can change it after signing in.",
        validators=[
            InputRequired("Choose a first password."),
            Length(
                min=MIN_LENGTH,
                max=MAX_LENGTH,
                message=f"A password needs {MIN_LENGTH} to {MAX_LENGTH} characters.",
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Type the password again",
        validators=[EqualTo("password", "The two passwords are not the same.")],
        render_kw={"autocomplete": "new-password"},
    )
