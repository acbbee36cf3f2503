"""The base of every form: fields come from the submitted form fields only.

flask-wtf would also feed uploaded files and JSON bodies into the fields, where a text
validator meets a file object or a JSON list; Chorus's forms take neither. Forms that
accept files (uploads) opt in by overriding ``wrap_formdata``.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto as _AUTO
from wtforms.fields.choices import SelectChoice


class ChorusForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is _AUTO:
                return request.form if form.is_submitted() and request.form else None
            return formdata


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]
