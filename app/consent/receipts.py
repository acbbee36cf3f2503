"""What a person takes away from giving consent: a withdrawal code, and the withdrawal
link as a QR code.

A code is ten symbols of Crockford's base32 (no I, L, O or U: it is read aloud, typed
from paper or scanned), shown as ``ABCDE-FGHJK``; only its sha256 is stored.

segno draws the QR code from our own URL only, as plain SVG elements: no XML declaration,
no script, no style attribute (the site's CSP forbids inline styles) and nothing loaded
from anywhere. That is why a template may insert it with ``|safe``.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import segno

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits
# What people type for the letters left out (Crockford's decoding rules).
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = frozenset(" -_.\t\n\r\u00a0")


def normalise_code(code: str) -> str | None:
    """The code's ten symbols in upper case, or None if it cannot be a withdrawal code.
    Case, spaces and dashes do not matter; O reads as 0 and I or L as 1."""
    symbols = "".join(ch for ch in code.upper() if ch not in _SEPARATORS).translate(_LOOKALIKES)
    if len(symbols) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in symbols):
        return None
    return symbols


def format_code(symbols: str) -> str:
    """``ABCDEFGHJK`` as ``ABCDE-FGHJK``."""
    half = len(symbols) // 2
    return f"{symbols[:half]}-{symbols[half:]}"


def code_hash(symbols: str) -> str:
    return hashlib.sha256(symbols.encode("ascii")).hexdigest()


MAX_URL = 500
TITLE = "QR code of the withdrawal link"


def withdrawal_qr_svg(url: str) -> str:
    """The QR code of ``url`` (an absolute http(s) link) as an inline ``<svg>`` element,
    dark on white with the standard quiet zone. Raises ``ValueError`` for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or len(url) > MAX_URL:
        raise ValueError("a withdrawal QR code encodes an absolute http(s) link")
    if any(ch in url for ch in "<>\"'\\ ") or not url.isprintable():
        raise ValueError("a withdrawal QR code encodes a plain URL")
    qr = segno.make_qr(url, error="m")
    svg = qr.svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=TITLE, svgclass="qr-code"
    )
    return svg.replace("<svg ", '<svg role="img" aria-label="' + TITLE + '" ', 1)
