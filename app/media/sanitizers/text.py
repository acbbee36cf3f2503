"""Markdown and plain text become a sanitized HTML fragment, with personal data flagged.

The output file holds UTF-8 HTML (a fragment, no ``<html>`` or ``<body>``), although
its media type stays the input's (``text/markdown`` or ``text/plain``): what a
reviewer and the gallery show is the rendered text. Markdown is rendered by
markdown-it-py's CommonMark preset with raw HTML switched off (so HTML typed into the
text shows as text), then everything passes through ``app.media.html_policy``. Images
become their alt text (an image would make a visitor's browser call another host),
headings deeper than ``h4`` become ``h4``.

Invisible characters that can carry a hidden watermark or reorder what a reader sees
(zero-width spaces, bidirectional overrides, Unicode tag characters, extended
variation selectors) are removed; zero-width joiners, which emoji and several scripts
need, are kept. Personal data is found in the source text and reported (kind and
offsets only), never removed: a reviewer decides.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from app.media.base import Options, Sanitizer, register
from app.media.detectors.personal_data import find_personal_data
from app.media.errors import MediaRefused
from app.media.html_policy import clean_html
from app.media.report import Report
from app.media.sniff import CONTROL_CHARACTERS, NOT_UTF8, TOO_LONG_TEXT
from app.media.types import MediaType

BOM = "\ufeff"
# Zero-width space and no-break space, word joiner, Mongolian vowel separator,
# bidirectional embeddings, overrides and isolates, tag characters, and variation
# selectors 17-256 (used to smuggle bytes inside emoji).
_INVISIBLE_RANGES = (
    "\u200b\u2060\ufeff\u180e",
    "\u202a-\u202e\u2066-\u2069",
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef",
)
INVISIBLE = re.compile("[" + "".join(_INVISIBLE_RANGES) + "]")
CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
PERSONAL_DATA_NOTE = "Personal data found in the text is flagged for the reviewer, not removed."


def _render_image(
    renderer: RendererHTML,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    """An image is shown as its alt text: nothing is fetched from another host."""
    return escapeHtml(renderer.renderInlineAsText(tokens[idx].children or [], options, env))


def _clamp_headings(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close") and token.tag in ("h5", "h6"):
            token.tag = "h4"


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False})
    md.add_render_rule("image", _render_image)
    md.core.ruler.push("chorus_clamp_headings", _clamp_headings)
    return md


_MARKDOWN = _markdown()
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")


def render_markdown(text: str) -> tuple[str, int]:
    """Markdown rendered and passed through the HTML allow-list, and how many images
    were replaced by their alt text."""
    env: EnvType = {}
    tokens = _MARKDOWN.parse(text, env)
    images = sum(1 for block in tokens for child in block.children or [] if child.type == "image")
    return clean_html(_MARKDOWN.renderer.render(tokens, _MARKDOWN.options, env)), images


def render_plain(text: str) -> str:
    """Plain text as escaped paragraphs (blank lines) and line breaks, allow-listed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    paragraphs = [part for part in _PARAGRAPH_BREAK.split(text) if part.strip()]
    body = "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in part.split("\n")) + "</p>"
        for part in paragraphs
    )
    return clean_html(body)


class TextSanitizer(Sanitizer):
    """Markdown and plain text to sanitized HTML; personal data reported, not removed."""

    media_types = frozenset({MediaType.MARKDOWN, MediaType.TEXT})

    def sanitize(
        self,
        source: Path,
        destination: Path,
        media_type: MediaType,
        options: Options,
        report: Report,
    ) -> None:
        """Write the HTML fragment; raise ``MediaRefused`` for text that is too long or
        not UTF-8 (sniffing refuses both first)."""
        text = _read_source(source, options, report)
        hits = find_personal_data(text, options.names)
        report.personal_data.extend(hits)
        if hits:
            report.note(PERSONAL_DATA_NOTE)
        text, invisible = INVISIBLE.subn("", text)
        report.remove("text.invisible_characters", invisible)
        text, controls = CONTROL.subn("", text)
        report.remove("text.control_characters", controls)
        if media_type is MediaType.MARKDOWN:
            output, images = render_markdown(text)
            report.remove("markdown.images", images)
        else:
            output = render_plain(text)
        with destination.open("w", encoding="utf-8", newline="") as handle:
            handle.write(output)

    def residual_metadata(self, path: Path, media_type: MediaType) -> list[str]:
        """Kinds found: "bom", "not-utf8", "control-characters", "invisible-characters"
        and "unsafe-html" (the HTML is not already what the allow-list makes of it)."""
        data = path.read_bytes()
        found: list[str] = []
        if data.startswith(BOM.encode()):
            found.append("bom")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return [*found, "not-utf8"]
        if CONTROL.search(text):
            found.append("control-characters")
        if INVISIBLE.search(text):
            found.append("invisible-characters")
        if clean_html(text) != text:
            found.append("unsafe-html")
        return found


def _read_source(source: Path, options: Options, report: Report) -> str:
    """The source text, decoded; a leading byte-order mark is dropped (and reported),
    so personal-data offsets count characters after it."""
    if source.stat().st_size > options.limits.max_text_bytes:
        raise MediaRefused(TOO_LONG_TEXT)
    try:
        text = source.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise MediaRefused(NOT_UTF8) from None
    if text.startswith(BOM):
        report.remove("text.byte_order_mark")
        text = text[1:]
    if "\x00" in text:
        raise MediaRefused(CONTROL_CHARACTERS)
    return text


register(TextSanitizer())
