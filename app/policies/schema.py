"""The media policy schema: what one organisation's ``media_policies/<slug>.toml`` says.

Every model is frozen, forbids unknown keys and is strict, so ``"yes"`` is not a boolean
and ``"3"`` is not a number. Lists in the file become tuples, so a policy is immutable and
hashable. Checks pydantic has no word for raise ``PydanticCustomError`` of type
``"chorus"``, whose message is already in plain words; ``app.policies.loader`` turns
every error into one line naming the key. No Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,38}$"
CUSTOM_ERROR = "chorus"
"""Error type of the checks written here; their message is shown as it is."""

_COUNTRY = re.compile(r"[A-Z]{2}")
_LANGUAGE = re.compile(r"[a-z]{2}")
_CHANNEL = re.compile(r"[a-z][a-z0-9_]{1,39}")

_T = TypeVar("_T")
_H = TypeVar("_H", bound=Hashable)


class WorkKind(StrEnum):
    """The kinds of work Chorus handles."""

    FANZINE = "fanzine"
    PERFORMANCE = "performance"
    PODCAST = "podcast"
    SCRIPT = "script"


class FaceAction(StrEnum):
    """What happens to a detected face that may not be published as it is."""

    BLOCK = "block"
    MASK = "mask"


class VoiceAction(StrEnum):
    """What happens to a detected voice that may not be published as it is."""

    BLOCK = "block"
    ALTER = "alter"


class CreditMode(StrEnum):
    """How creators are credited on a published work."""

    COLLECTIVE = "collective"
    PSEUDONYM = "pseudonym"
    NONE = "none"


class CampaignStage(StrEnum):
    """The stages a campaign may go through, in their only possible order."""

    IDEA = "idea"
    CREATIVE_WORK = "creative_work"
    TESTING = "testing"
    EDITION = "edition"
    BROADCASTING = "broadcasting"


def _problem(message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(CUSTOM_ERROR, message, context)


def _as_tuple(value: object) -> object:
    """Accept a TOML array (a list) and store it as a tuple; refuse anything else."""
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, tuple):
        return value
    raise PydanticCustomError("list_type", "Input should be a valid list")


def _no_duplicates(values: tuple[_H, ...]) -> tuple[_H, ...]:
    seen: set[_H] = set()
    for value in values:
        if value in seen:
            raise _problem("lists {value} twice", value=repr(str(value)))
        seen.add(value)
    return values


def _country(value: str) -> str:
    if not _COUNTRY.fullmatch(value):
        raise _problem(
            "must be two capital letters (ISO 3166-1 alpha-2, e.g. 'BE'), not {value}",
            value=repr(value),
        )
    return value


def _language(value: str) -> str:
    if not _LANGUAGE.fullmatch(value):
        raise _problem(
            "must be two lower-case letters (ISO 639-1, e.g. 'fr'), not {value}",
            value=repr(value),
        )
    return value


def _channel(value: str) -> str:
    if not _CHANNEL.fullmatch(value):
        raise _problem(
            "must be 2 to 40 lower-case letters, digits or '_', starting with a letter, "
            "not {value}",
            value=repr(value),
        )
    return value


# A TOML array, kept as a tuple.
ListOf = Annotated[tuple[_T, ...], BeforeValidator(_as_tuple)]
# A TOML array in which no value appears twice.
UniqueListOf = Annotated[tuple[_H, ...], BeforeValidator(_as_tuple), AfterValidator(_no_duplicates)]
# Enum members are written as plain strings in TOML; strict mode alone would demand
# enum instances, so these fields accept the member's value (and nothing else).
_Kind = Annotated[WorkKind, Strict(False)]
_FaceAction = Annotated[FaceAction, Strict(False)]
_VoiceAction = Annotated[VoiceAction, Strict(False)]
_CreditMode = Annotated[CreditMode, Strict(False)]
_Stage = Annotated[CampaignStage, Strict(False)]
_Country = Annotated[str, AfterValidator(_country)]
_Language = Annotated[str, AfterValidator(_language)]
_Channel = Annotated[str, AfterValidator(_channel)]
_Warning = Annotated[str, StringConstraints(min_length=1, max_length=60)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Organisation(_Section):
    """``[organisation]``: who the policy belongs to."""

    name: str = Field(min_length=1, max_length=200)
    country: _Country
    languages: UniqueListOf[_Language] = Field(min_length=1)
    description: str


class Works(_Section):
    """``[works]``: the kinds of work the organisation's groups make."""

    kinds: UniqueListOf[_Kind] = Field(min_length=1)


class Faces(_Section):
    """``[faces]``: may faces appear, and what happens to one that may not."""

    allowed: bool
    on_detection: _FaceAction


class Voices(_Section):
    """``[voices]``: may voices appear, must they be altered, and what happens otherwise."""

    allowed: bool
    must_alter: bool
    on_detection: _VoiceAction

    @field_validator("on_detection")
    @classmethod
    def _alter_when_required(cls, value: VoiceAction, info: ValidationInfo) -> VoiceAction:
        if info.data.get("must_alter") is True and value is not VoiceAction.ALTER:
            raise _problem(
                "must be 'alter' when voices.must_alter is true, not {value}",
                value=repr(str(value)),
            )
        return value


class Review(_Section):
    """``[review]``: how many psychologist approvals publication needs."""

    approvals_required: int = Field(ge=1, le=5)


class Publication(_Section):
    """``[publication]``: the channels a work can be published on."""

    channels: UniqueListOf[_Channel] = Field(min_length=1)

    @field_validator("channels")
    @classmethod
    def _has_gallery(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "gallery" not in value:
            raise _problem("must include 'gallery'")
        return value


class Retention(_Section):
    """``[retention]``: how long originals stay in quarantine."""

    originals_days: int = Field(ge=1, le=3650)


class Credit(_Section):
    """``[credit]``: how creators may be credited, and the default."""

    modes: UniqueListOf[_CreditMode] = Field(min_length=1)
    default: _CreditMode

    @field_validator("default")
    @classmethod
    def _one_of_modes(cls, value: CreditMode, info: ValidationInfo) -> CreditMode:
        modes = info.data.get("modes")
        if modes is not None and value not in modes:
            listed = ", ".join(repr(str(mode)) for mode in modes)
            raise _problem(
                "must be one of credit.modes ({modes}), not {value}",
                modes=listed,
                value=repr(str(value)),
            )
        return value


class ContentWarnings(_Section):
    """``[content_warnings]``: the warnings a new work starts with."""

    default: UniqueListOf[_Warning]


class Pdf(_Section):
    """``[pdf]``: whether PDF pages are rasterised before publication."""

    rasterise: bool


class Groups(_Section):
    """``[groups]``: whether members accept the group's rules before joining."""

    rules_required: bool
    default_rules: str

    @field_validator("default_rules")
    @classmethod
    def _rules_when_required(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("rules_required") is True and not value.strip():
            raise _problem("must not be empty when groups.rules_required is true")
        return value


class Campaign(_Section):
    """``[campaign]``: the stages a campaign goes through, in order."""

    stages: UniqueListOf[_Stage] = Field(min_length=1)

    @field_validator("stages")
    @classmethod
    def _in_order(cls, value: tuple[CampaignStage, ...]) -> tuple[CampaignStage, ...]:
        order = list(CampaignStage)
        if list(value) != sorted(value, key=order.index):
            raise _problem(
                "must keep the order {order}",
                order=" → ".join(str(stage) for stage in order),
            )
        return value


class Limits(_Section):
    """``[limits]``: upload size."""

    max_upload_mb: int = Field(ge=1, le=4096)

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return self.max_upload_mb * 1024 * 1024


class MediaPolicy(_Section):
    """One organisation's media policy. ``slug`` comes from the file name, not the file."""

    slug: str = Field(pattern=SLUG_PATTERN)
    organisation: Organisation
    works: Works
    faces: Faces
    voices: Voices
    review: Review
    publication: Publication
    retention: Retention
    credit: Credit
    content_warnings: ContentWarnings
    pdf: Pdf
    groups: Groups
    campaign: Campaign
    limits: Limits


SECTIONS: tuple[str, ...] = tuple(name for name in MediaPolicy.model_fields if name != "slug")
"""The top-level tables of a policy file, in schema order."""
