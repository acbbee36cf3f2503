"""Media policies: each partner organisation's rules for faces, voices, review and
publication, read from ``media_policies/<slug>.toml`` and validated at start-up.

The command-line front (``app.policies.cli``) is not imported here, so this package
needs neither Flask nor a database.
"""

from __future__ import annotations

from app.policies.loader import PolicyRegistry, load_policies, load_policy
from app.policies.schema import (
    CampaignStage,
    CreditMode,
    FaceAction,
    MediaPolicy,
    VoiceAction,
    WorkKind,
)

__all__ = [
    "CampaignStage",
    "CreditMode",
    "FaceAction",
    "MediaPolicy",
    "PolicyRegistry",
    "VoiceAction",
    "WorkKind",
    "load_policies",
    "load_policy",
]
