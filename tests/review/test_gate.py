"""The consent gate's rules for each partner policy."""

from __future__ import annotations

import pytest

from app.policies.loader import PolicyRegistry
from app.review.gate import Detected, Verdict, evaluate, upfront


def test_detections_combine_across_files() -> None:
    detected = Detected.from_assets(
        [
            {"faces": 2, "faces_masked": False, "speech_seconds": 0},
            {"faces": 3, "faces_masked": True, "speech_seconds": 0},
            {"faces": 1, "speech_seconds": 4.5, "voice_altered": False},
            None,
        ]
    )
    assert detected == Detected(faces=2, speech=True)
    assert Detected.from_assets([{"speech_seconds": 9, "voice_altered": True}]) == Detected()


def test_nothing_detected_passes_everywhere(policies: PolicyRegistry) -> None:
    for slug in ("adpare", "equality", "fundacion-cruz-blanca", "mist", "payoke"):
        assert evaluate(policies.get(slug), Detected(), face_consents=0, voice_consents=0).passes


@pytest.mark.parametrize(
    ("slug", "consents", "expected"),
    [
        ("adpare", 2, Verdict()),
        ("adpare", 1, Verdict(mask_faces=True)),  # on_detection = mask
        ("equality", 1, Verdict(mask_faces=True)),
        ("fundacion-cruz-blanca", 1, None),  # on_detection = block
        ("fundacion-cruz-blanca", 2, Verdict()),
        ("mist", 0, None),
        ("payoke", 5, Verdict(mask_faces=True)),  # faces never published
    ],
)
def test_faces(
    policies: PolicyRegistry, slug: str, consents: int, expected: Verdict | None
) -> None:
    verdict = evaluate(
        policies.get(slug), Detected(faces=2), face_consents=consents, voice_consents=0
    )
    if expected is None:
        assert verdict.blocked
        assert not verdict.mask_faces
        assert "2 people" in verdict.blocked[0]
        assert "choose masking" in verdict.blocked[0]
    else:
        assert verdict == expected


@pytest.mark.parametrize(
    ("slug", "consents", "alter", "blocked"),
    [
        ("adpare", 0, True, False),
        ("adpare", 1, False, False),
        ("equality", 0, False, True),
        ("equality", 1, False, False),
        ("payoke", 3, True, False),  # voices only altered
    ],
)
def test_voices(
    policies: PolicyRegistry, slug: str, consents: int, alter: bool, blocked: bool
) -> None:
    verdict = evaluate(
        policies.get(slug), Detected(speech=True), face_consents=0, voice_consents=consents
    )
    assert verdict.alter_voice is alter
    assert bool(verdict.blocked) is blocked


def test_what_is_decided_before_detection(policies: PolicyRegistry) -> None:
    payoke = policies.get("payoke")
    assert upfront(payoke, mask_chosen=False, alter_chosen=False) == Verdict(
        mask_faces=True, alter_voice=True
    )
    adpare = policies.get("adpare")
    assert upfront(adpare, mask_chosen=False, alter_chosen=False) == Verdict()
    assert upfront(adpare, mask_chosen=True, alter_chosen=False) == Verdict(mask_faces=True)
