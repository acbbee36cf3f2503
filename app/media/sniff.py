"""Identify a file's real media type from its bytes, and refuse everything else.

The name a file arrived with is never trusted: it is only compared with the bytes, and
a known extension of another type is refused (an unknown extension is fine). Only
bounded reads are made (the first 4 KiB, the last 64 KiB, a few headers found by
seeking); text is read whole only when it is within ``limits.max_text_bytes``.

After the bytes say what the file is, ``app.media.validate`` checks that it is whole
and within the limits by opening it with the library that will clean it.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePath

from app.media import formats as fmt
from app.media.errors import MediaRefused
from app.media.limits import Limits
from app.media.types import MediaType, types_for_extension
from app.media.validate import validate

HEAD_BYTES = 4096
PDF_HEADER_WINDOW = 1024  # readers look for "%PDF-" this far into a file
TAIL_BYTES = 65_535 + 22  # a ZIP end-of-central-directory record lies within this

EMPTY = "This file is empty."
POLYGLOT = (
    "This file mixes two kinds of file in one, which can hide harmful content; "
    "please export it again and upload the new copy."
)
TOO_LONG_TEXT = "This text is longer than Chorus accepts; please split it into smaller files."
NOT_UTF8 = "This text file is not saved as UTF-8; please save it as UTF-8 and upload it again."
CONTROL_CHARACTERS = (
    "This text file contains hidden control characters; please save it again as plain UTF-8 text."
)
SVG = "SVG images are not accepted because they can carry scripts; please upload a PNG or JPEG."
HTML = (
    "Web pages (HTML) are not accepted because they can carry scripts; "
    "please upload plain text or Markdown."
)
XML = "XML files are not accepted; please upload plain text, Markdown or a PDF."

# What a person would call each type, for the name/contents mismatch sentence.
DESCRIPTION: dict[MediaType, str] = {
    MediaType.JPEG: "a JPEG image",
    MediaType.PNG: "a PNG image",
    MediaType.WEBP: "a WebP image",
    MediaType.HEIC: "a HEIC photo",
    MediaType.PDF: "a PDF",
    MediaType.MP3: "an MP3 recording",
    MediaType.M4A: "an M4A recording",
    MediaType.WAV: "a WAV recording",
    MediaType.FLAC: "a FLAC recording",
    MediaType.OGG: "an Ogg recording",
    MediaType.MP4: "an MP4 video",
    MediaType.MOV: "a MOV video",
    MediaType.WEBM: "a WebM video",
    MediaType.MARKDOWN: "Markdown text",
    MediaType.TEXT: "plain text",
}

_MARKDOWN_EXTENSIONS = (".md", ".markdown")
_SETTLED_BY_VALIDATION = frozenset({MediaType.MP4, MediaType.MOV})  # may turn out M4A
_TEXT_WHITESPACE = frozenset("\t\n\r\f")
_LEADING_COMMENTS = re.compile(r"\A(?:\s*<!--.*?-->)*\s*", re.S)
_HTML_START = re.compile(
    r"<(?:!doctype\s+html|html|head|body|script|iframe|frameset|object|embed)[\s>/]", re.I
)
_MARKDOWN_SIGN = re.compile(
    r"""
      ^\#{1,6}[ \t]+\S                # a heading
    | ^[ \t]{0,3}(?:```|~~~)          # a fenced code block
    | ^[ \t]{0,3}>[ \t]?\S            # a block quote
    | \[[^\]\n]+\]\([^)\s]+\)         # a link or an image
    | (\*\*|__)[^\s*_][^\n]*?\1       # strong emphasis
    """,
    re.M | re.X,
)
_MARKDOWN_LIST_ITEM = re.compile(r"^[ \t]{0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+\S", re.M)


def sniff(path: Path, limits: Limits, *, claimed_name: str | None = None) -> MediaType:
    """Return the accepted media type of the file at ``path``, judged by its bytes.

    ``claimed_name`` is the name the file arrived with; a known extension that does not
    match the bytes is refused. Raises ``MediaRefused`` with one plain sentence for
    anything Chorus does not accept: empty, too large, unknown or refused formats,
    polyglots, name/contents mismatch, damaged files and decompression bombs.
    """
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        if size == 0:
            raise MediaRefused(EMPTY)
        if size > limits.max_bytes:
            raise MediaRefused(too_large(limits.max_bytes))
        reader = fmt.Reader(handle, size)
        head = reader.read_at(0, HEAD_BYTES)
        media_type = _identify(reader, head, limits, claimed_name)
        _refuse_hidden_zip(reader)
    if media_type not in _SETTLED_BY_VALIDATION:  # a mismatch says more than "damaged"
        _check_name(media_type, claimed_name)
    media_type = validate(path, media_type, limits)
    _check_name(media_type, claimed_name)
    return media_type


def too_large(max_bytes: int) -> str:
    """The refusal sentence for a file over the size limit, naming the limit."""
    megabytes = max_bytes / 1024**2
    limit = f"{megabytes / 1024:g} GB" if megabytes >= 1024 else f"{megabytes:g} MB"
    return f"This file is larger than Chorus accepts (the limit is {limit})."


def _identify(
    reader: fmt.Reader, head: bytes, limits: Limits, claimed_name: str | None
) -> MediaType:
    pdf_at = head.find(b"%PDF-", 0, PDF_HEADER_WINDOW + 4)
    if pdf_at >= 0 and not head[:pdf_at].strip(b" \t\r\n\f"):
        return MediaType.PDF
    found = fmt.identify_binary(reader, head)
    if found is not None and not isinstance(found, MediaType):  # a refusal sentence
        raise MediaRefused(found)
    if pdf_at >= 0:  # PDF readers would open this file too
        raise MediaRefused(POLYGLOT)
    if found is not None:
        return found
    return _identify_text(reader, head, limits, claimed_name)


def _identify_text(
    reader: fmt.Reader, head: bytes, limits: Limits, claimed_name: str | None
) -> MediaType:
    """Markdown or plain text: valid UTF-8, no NUL or other control characters."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise MediaRefused(NOT_UTF8)
    complete = reader.size <= limits.max_text_bytes
    data = reader.read_at(0, reader.size) if complete else head
    if b"\x00" in data:
        raise MediaRefused(fmt.UNKNOWN)
    try:
        text = fmt.decode_utf8(data, final=complete)
    except UnicodeDecodeError:
        raise MediaRefused(NOT_UTF8) from None
    if any(_is_control(char) for char in text):
        raise MediaRefused(CONTROL_CHARACTERS)
    _refuse_markup(text)
    if not complete:
        raise MediaRefused(TOO_LONG_TEXT)
    if not text.strip():
        raise MediaRefused(EMPTY)
    if claimed_name and claimed_name.lower().endswith(_MARKDOWN_EXTENSIONS):
        return MediaType.MARKDOWN
    return MediaType.MARKDOWN if looks_like_markdown(text) else MediaType.TEXT


def _is_control(char: str) -> bool:
    code = ord(char)
    control = code < 0x20 or 0x7F <= code <= 0x9F
    return control and char not in _TEXT_WHITESPACE


def _refuse_markup(text: str) -> None:
    """Refuse SVG, XML and HTML documents (markup inside Markdown is escaped later)."""
    comments = _LEADING_COMMENTS.match(text)
    skip = comments.end() if comments else 0
    start = text[skip : skip + HEAD_BYTES]
    lowered = start.lower()
    if lowered.startswith("<svg") or lowered.startswith("<!doctype svg"):
        raise MediaRefused(SVG)
    if lowered.startswith("<?xml") or lowered.startswith("<!doctype"):
        if "<svg" in lowered:
            raise MediaRefused(SVG)
        if "<html" in lowered or lowered.startswith("<!doctype html"):
            raise MediaRefused(HTML)
        raise MediaRefused(XML)
    if _HTML_START.match(start):
        raise MediaRefused(HTML)


def looks_like_markdown(text: str) -> bool:
    """Whether text has Markdown structure: a heading, fenced code, a block quote, a link,
    strong emphasis, or at least two list items. Anything else is plain text (which
    loses nothing: plain text is rendered as escaped paragraphs)."""
    if _MARKDOWN_SIGN.search(text):
        return True
    items = _MARKDOWN_LIST_ITEM.finditer(text)
    return next(items, None) is not None and next(items, None) is not None


def _refuse_hidden_zip(reader: fmt.Reader) -> None:
    """Refuse a ZIP archive appended to another file (its directory sits at the end)."""
    tail_start = max(0, reader.size - TAIL_BYTES)
    if fmt.has_zip_directory(reader, tail_start, reader.read_at(tail_start, TAIL_BYTES)):
        raise MediaRefused(POLYGLOT)


def _check_name(media_type: MediaType, claimed_name: str | None) -> None:
    if not claimed_name:
        return
    extension = PurePath(claimed_name.replace("\\", "/")).suffix.lower()
    expected = types_for_extension(extension)
    if expected and media_type not in expected:
        raise MediaRefused(
            f"This file's name says {extension} but its contents are "
            f"{DESCRIPTION[media_type]}; please check you chose the right file."
        )


__all__ = ["DESCRIPTION", "looks_like_markdown", "sniff", "too_large"]
