"""The languages works and pages may be in, each under its own name, so anyone finds
theirs whatever language the page around it speaks."""

from __future__ import annotations

NAMES: dict[str, str] = {
    "de": "Deutsch",
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "it": "Italiano",
    "nl": "Nederlands",
    "ro": "Română",
}


def name_of(code: str) -> str:
    """A language's own name, or its code when Chorus has none."""
    return NAMES.get(code, code)
