"""Forms of the creators' studio, and the few helpers that read what they send."""

from __future__ import annotations

from typing import IO, BinaryIO, cast

from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.core.errors import ValidationFailed
from app.core.languages import name_of
from app.policies.schema import MediaPolicy
from app.web.forms import ChorusForm, choices
from app.works.models import Work

CAPTIONS_LIMIT = 500 * 1024

KINDS = {
    "fanzine": "Fanzine (pictures or a PDF)",
    "performance": "Performance (a video)",
    "podcast": "Podcast (a sound recording)",
    "script": "Campaign script (text or Markdown)",
}
CREDITS = {
    "collective": "Credit the group as a whole",
    "pseudonym": "Credit a pseudonym (never your real name)",
    "none": "No credit",
}
# What the file picker offers first; the processing job decides from the bytes alone.
ACCEPT = {
    "fanzine": "image/jpeg,image/png,image/webp,image/heic,.heic,application/pdf",
    "performance": "video/mp4,video/quicktime,video/webm",
    "podcast": "audio/*,.m4a,.opus",
    "script": ".md,.markdown,.txt,text/markdown,text/plain",
}


def split_warnings(text: str) -> list[str]:
    """Comma-separated content warnings as a list (empty parts dropped)."""
    return [part.strip() for part in text.split(",") if part.strip()]


class NewWorkForm(ChorusForm):
    kind = SelectField("What are you making?", validators=[InputRequired("Choose a kind.")])
    title = StringField(
        "Title",
        description="You can change it later.",
        validators=[InputRequired("Give the work a title."), Length(max=200)],
    )
    credit = SelectField("How should the work be credited?", validators=[InputRequired()])
    pseudonym = StringField(
        "Pseudonym",
        description="Only if you chose a pseudonym. Please never use your real name.",
        validators=[Optional(), Length(max=80)],
    )
    language = SelectField("Language of the work", validators=[InputRequired()])
    content_warnings = StringField(
        "Content warnings",
        description="Separate them with commas. Visitors see them before the work.",
        validators=[Optional(), Length(max=700)],
    )


def new_work_form(policy: MediaPolicy) -> NewWorkForm:
    """The new-work form offering what the organisation's policy allows."""
    form = NewWorkForm(
        credit=policy.credit.default.value,
        content_warnings=", ".join(policy.content_warnings.default),
    )
    form.kind.choices = choices([(k.value, KINDS[k.value]) for k in policy.works.kinds])
    form.credit.choices = choices([(c.value, CREDITS[c.value]) for c in policy.credit.modes])
    languages = list(dict.fromkeys([*policy.organisation.languages, "en"]))
    form.language.choices = choices([(code, name_of(code)) for code in languages])
    return form


class DescribeForm(ChorusForm):
    title = StringField(
        "Title", validators=[InputRequired("Give the work a title."), Length(max=200)]
    )
    content_warnings = StringField(
        "Content warnings",
        description="Separate them with commas.",
        validators=[Optional(), Length(max=700)],
    )
    alt_text = TextAreaField(
        "Description of the pictures (alt text)",
        description="For people who cannot see them. Fanzines need one.",
        validators=[Optional(), Length(max=2000)],
    )
    transcript = TextAreaField(
        "Transcript or text description",
        description="What is said or shown, for people who cannot hear or see it.",
        validators=[Optional(), Length(max=200_000)],
    )
    remove_captions = BooleanField("Remove the captions file")


def describe_form(work: Work) -> DescribeForm:
    """The description form, filled in with what the work says now."""
    form = DescribeForm(obj=work)
    if not form.is_submitted():
        form.content_warnings.data = ", ".join(work.content_warnings)
    return form


class AnonymisationForm(ChorusForm):
    mask_faces = BooleanField("Mask every face in this version")
    alter_voice = BooleanField("Alter every voice in this version")


def read_captions(upload: FileStorage | None, current: str, *, remove: bool) -> str:
    """The captions to keep: a newly uploaded WebVTT file (UTF-8, at most 500 KB), none
    if asked to remove them, else the current ones. Raises ``ValidationFailed``."""
    if remove:
        return ""
    data = upload.stream.read(CAPTIONS_LIMIT + 1) if upload is not None else b""
    if not data:
        return current
    if len(data) > CAPTIONS_LIMIT:
        raise ValidationFailed("The captions file can be at most 500 KB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("The captions file must be a WebVTT (.vtt) text file.") from None
    return text.replace("\r\n", "\n")


def has_content(stream: IO[bytes]) -> bool:
    """Whether an uploaded part holds any bytes (an empty file input sends none)."""
    position = stream.tell()
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(position)
    return size > 0


def uploaded_streams(files: list[FileStorage]) -> list[BinaryIO]:
    """The streams of the file inputs that hold a file. The client's file name is
    never read: it is neither stored nor logged."""
    return [cast(BinaryIO, f.stream) for f in files if has_content(f.stream)]
