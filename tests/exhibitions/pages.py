"""Reading pages in tests: the tags of an HTML page, and the works it links to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

WORK_LINK = re.compile(r'href="/gallery/works/(\d+)"')


@dataclass
class Page:
    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    styles: int = 0  # <style> elements
    inline_scripts: int = 0  # <script> elements without src


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.page.tags.append((tag, attributes))
        if tag == "style":
            self.page.styles += 1
        if tag == "script" and not attributes.get("src"):
            self.page.inline_scripts += 1


def parse(html: str) -> Page:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.page


def linked_works(html: str) -> list[int]:
    return [int(found) for found in WORK_LINK.findall(html)]
