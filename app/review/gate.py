"""The consent gate: may what was detected in a version be shown, must it be masked or
altered first, or is the version blocked until consent is recorded?

Chorus counts and confirms; it never recognises anyone. A face needs a valid face
consent for the work and channel, and the count that matters is the largest number of
unmasked faces in any one image or video frame: that many different people at least
appear, so at least that many must have consented. A voice needs at least one valid
voice consent. What is not covered is masked or altered when the policy says so, and
blocks the version otherwise. Pure rules: no database, no files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.policies.schema import FaceAction, MediaPolicy, VoiceAction


@dataclass(frozen=True, slots=True)
class Detected:
    """What processing found in a version, summed over its files."""

    faces: int = 0  # most unmasked faces in any one image or frame
    speech: bool = False  # unaltered speech somewhere
    masked: bool = False  # every face was masked
    altered: bool = False  # every voice was altered

    @classmethod
    def from_assets(cls, summaries: Iterable[Mapping[str, Any] | None]) -> Detected:
        """Combine the ``Asset.detections`` summaries of a version's files."""
        faces, speech = 0, False
        for summary in summaries:
            if not summary:
                continue
            if not summary.get("faces_masked"):
                faces = max(faces, int(summary.get("faces", 0)))
            if not summary.get("voice_altered"):
                speech = speech or float(summary.get("speech_seconds", 0.0)) > 0
        return cls(faces=faces, speech=speech)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The gate's answer: pass, anonymise first, or blocked with reasons in plain words."""

    mask_faces: bool = False
    alter_voice: bool = False
    blocked: tuple[str, ...] = field(default=())

    @property
    def passes(self) -> bool:
        return not (self.mask_faces or self.alter_voice or self.blocked)


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


def upfront(policy: MediaPolicy, *, mask_chosen: bool, alter_chosen: bool) -> Verdict:
    """Anonymisation decided before anything is detected: the creators' choice, and
    the policy's rules that apply whatever consent says (Payoke: every face masked,
    every voice altered)."""
    return Verdict(
        mask_faces=mask_chosen
        or (not policy.faces.allowed and policy.faces.on_detection is FaceAction.MASK),
        alter_voice=alter_chosen
        or policy.voices.must_alter
        or (not policy.voices.allowed and policy.voices.on_detection is VoiceAction.ALTER),
    )


def evaluate(
    policy: MediaPolicy, detected: Detected, *, face_consents: int, voice_consents: int
) -> Verdict:
    """What must happen before ``detected`` may go to review or be published, given the
    number of valid consent records covering the work for the channel."""
    mask, alter, blocked = False, False, []
    if detected.faces and not detected.masked:
        if not policy.faces.allowed:
            if policy.faces.on_detection is FaceAction.MASK:
                mask = True
            else:
                blocked.append(
                    "Faces may not be shown in this organisation's works. Choose masking "
                    "for this version, or upload one without faces."
                )
        elif face_consents < detected.faces:
            if policy.faces.on_detection is FaceAction.MASK:
                mask = True
            else:
                blocked.append(
                    f"We found {_people(detected.faces)} in one picture, and "
                    f"{_people(face_consents)} {'has' if face_consents == 1 else 'have'} "
                    "given consent to show their face. Record the missing consent, or "
                    "choose masking for this version."
                )
    if detected.speech and not detected.altered:
        if policy.voices.must_alter or not policy.voices.allowed:
            if policy.voices.on_detection is VoiceAction.ALTER:
                alter = True
            else:
                blocked.append(
                    "Voices may not be heard in this organisation's works. Choose voice "
                    "alteration for this version, or upload one without speech."
                )
        elif voice_consents < 1:
            if policy.voices.on_detection is VoiceAction.ALTER:
                alter = True
            else:
                blocked.append(
                    "We heard someone speaking, and nobody has given consent for their "
                    "voice to be heard. Record the consent, or choose voice alteration "
                    "for this version."
                )
    return Verdict(mask_faces=mask, alter_voice=alter, blocked=tuple(blocked))
