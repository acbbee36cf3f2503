"""The gallery's Atom feed (RFC 4287): the latest live publications.

Ids are tag URIs (RFC 4151) built from the site's host name and the publication's
number, never from anything about a person. No Flask here: the view passes the URLs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from xml.etree import ElementTree as ET

from app.core.clock import utcnow
from app.gallery.queries import Card

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TAG_DATE = "2026"  # the year Chorus began minting ids under its host name

ET.register_namespace("", ATOM)


def tag_uri(host: str, specific: str) -> str:
    """A tag URI for ``specific`` under the host name (port and case dropped)."""
    authority = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return f"tag:{authority.lower()},{TAG_DATE}:{specific}"


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _add(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}", attributes)
    element.text = text
    return element


def atom(
    cards: Sequence[Card],
    *,
    host: str,
    feed_url: str,
    home_url: str,
    work_url: Callable[[Card], str],
) -> bytes:
    """The feed document, UTF-8 encoded, newest entry first."""
    root = ET.Element(f"{{{ATOM}}}feed")
    _add(root, "id", tag_uri(host, "gallery"))
    _add(root, "title", "Chorus gallery")
    _add(root, "subtitle", "Works by survivor-led groups, published with their consent.")
    updated = max((c.publication.published_at for c in cards), default=utcnow())
    _add(root, "updated", _timestamp(updated))
    _add(root, "link", rel="self", type="application/atom+xml", href=feed_url)
    _add(root, "link", rel="alternate", type="text/html", href=home_url)
    author = _add(root, "author")
    _add(author, "name", "Chorus")
    for card in cards:
        entry = _add(root, "entry", **{XML_LANG: card.work.language})
        _add(entry, "id", tag_uri(host, f"gallery/publication/{card.publication.id}"))
        _add(entry, "title", card.work.title)
        _add(entry, "link", rel="alternate", type="text/html", href=work_url(card))
        _add(entry, "published", _timestamp(card.publication.published_at))
        _add(entry, "updated", _timestamp(card.publication.published_at))
        _add(entry, "summary", f"{card.kind_label} from {card.organisation.name}")
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
