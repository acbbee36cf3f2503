"""The one allow-list for HTML that Chorus publishes from a survivor's text.

Everything not listed here is stripped by bleach: scripts, styles, event handlers,
iframes, forms, images (they would make a visitor's browser call another host) and
comments. Links keep only an ``href`` whose scheme is http, https or mailto (checked
after entities, whitespace and control characters are removed, so
``java&#115;cript:`` and ``jav\\tascript:`` fail), and always carry
``rel="nofollow noopener noreferrer"``. Applying ``clean_html`` to its own output
changes nothing, which is how a published file is re-checked.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

from bleach import html5lib_shim  # type: ignore[import-untyped]
from bleach.sanitizer import Cleaner  # type: ignore[import-untyped]

ALLOWED_TAGS = frozenset(
    {"p", "br", "h1", "h2", "h3", "h4", "ul", "ol", "li", "blockquote"}
    | {"em", "strong", "code", "pre", "a", "hr"}
)
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"

_HIDDEN = re.compile(r"[`\x00-\x20\x7f-\xa0\s]+")
_ALLOWED_HREF = re.compile(r"(?:https?://|mailto:)[^/\\]")


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Only ``a[href]`` with an absolute http(s)/mailto URL, and our own ``rel``."""
    if tag != "a":
        return False
    if name == "rel":
        return value == LINK_REL
    if name != "href":
        return False
    normalized = _HIDDEN.sub("", html5lib_shim.convert_entities(value)).lower()
    return _ALLOWED_HREF.match(normalized) is not None


class _LinkRel(html5lib_shim.Filter):  # type: ignore[misc]
    """Give every link ``rel="nofollow noopener noreferrer"``."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "a":
                attributes = dict(token["data"] or {})
                attributes[(None, "rel")] = LINK_REL
                token["data"] = attributes
            yield token


_LOCAL = threading.local()  # bleach's Cleaner is not thread-safe: one per thread


def _cleaner() -> Any:
    cleaner = getattr(_LOCAL, "cleaner", None)
    if cleaner is None:
        cleaner = _LOCAL.cleaner = Cleaner(
            tags=ALLOWED_TAGS,
            attributes=_allowed_attribute,
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            strip_comments=True,
            filters=[_LinkRel],
        )
    return cleaner


def clean_html(fragment: str) -> str:
    """The fragment with everything outside the allow-list stripped (text kept, escaped)."""
    cleaned: str = _cleaner().clean(fragment)
    return cleaned


def is_clean(fragment: str) -> bool:
    """Whether the fragment is already exactly what ``clean_html`` would make of it."""
    return clean_html(fragment) == fragment
