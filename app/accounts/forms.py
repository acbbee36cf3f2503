"""Sign-in, invitation and password forms. Messages say plainly what is wrong."""

from __future__ import annotations

from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from app.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from app.web.forms import ChorusForm


class SignInForm(ChorusForm):
    login_name = StringField(
        "Login name",
        validators=[InputRequired("Enter your login name."), Length(max=80)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter your password."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


def _new_password(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            InputRequired("Choose a password."),
            Length(
                min=MIN_LENGTH,
                max=MAX_LENGTH,
                message=f"A password needs {MIN_LENGTH} to {MAX_LENGTH} characters.",
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class RedeemInvitationForm(ChorusForm):
    code = StringField(
        "Invitation code",
        validators=[
            InputRequired("Enter the code your facilitator gave you."),
            Length(max=40, message="That is longer than an invitation code."),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    login_name = StringField(
        "Choose a login name",
        description="Not your real name. Letters, digits, dots, dashes or underscores.",
        validators=[InputRequired("Choose a login name."), Length(min=3, max=40)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = _new_password("Choose a password")
    confirm = PasswordField(
        "Type the password again",
        validators=[EqualTo("password", "The two passwords are not the same.")],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(ChorusForm):
    current = PasswordField(
        "Current password",
        validators=[InputRequired("Enter your current password."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    new = _new_password("New password")
    confirm = PasswordField(
        "Type the new password again",
        validators=[EqualTo("new", "The two passwords are not the same.")],
        render_kw={"autocomplete": "new-password"},
    )
