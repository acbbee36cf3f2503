"""Text sanitizer: Markdown and plain text become inert HTML; read the output back."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.media.base import Options, sanitizer_for
from app.media.html_policy import ALLOWED_TAGS, LINK_REL, clean_html
from app.media.pipeline import sanitize_file
from app.media.report import Report
from app.media.sanitizers.text import TextSanitizer
from app.media.types import MediaType

XSS = [
    "<script>alert(1)</script>",
    "<ScRiPt src=//evil.example/x.js></ScRiPt>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="//evil.example/">protocol-relative</a>',
    "[x]: javascript:alert(1)\n\nA [reference][x] link.",
    '[x](https://ok.example "t\\" onmouseover=\\"alert(1)")',
    '<https://ok.example/?q="><script>alert(1)</script>>',
    "![x](javascript:alert(1))",
    "![tracking pixel](https://tracker.example/pixel.png)",
    '<iframe src="https://evil.example"></iframe>',
    '<form action="https://evil.example"><input name=a><button>Go</button></form>',
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<!-- comment --><!--[if IE]><script>alert(1)</script><![endif]-->",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:/">',
    "<details open ontoggle=alert(1)>",
    "`<script>alert(1)</script>` and\n\n    <script>alert(1)</script>\n",
]


class _Elements(HTMLParser):
    """Every element and attribute actually present in an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def assert_inert(output: str) -> None:
    """Only allow-listed elements; links only to http(s)/mailto with our rel; nothing
    else carries an attribute."""
    assert "<script" not in output.lower()
    assert not re.search(r"<[^>]*\son\w+\s*=", output, re.I)
    parser = _Elements()
    parser.feed(output)
    parser.close()
    assert not parser.comments
    for tag, attributes in parser.elements:
        assert tag in ALLOWED_TAGS, tag
        if tag != "a":
            assert not attributes, (tag, attributes)
            continue
        assert set(attributes) <= {"href", "rel"}
        assert attributes["rel"] == LINK_REL
        href = attributes.get("href")
        if href is not None:
            assert re.match(r"(https?://|mailto:)", href), href
            assert "javascript:" not in href.lower()


def sanitize(tmp_path: Path, text: str | bytes, media_type: MediaType) -> tuple[str, Report]:
    source = tmp_path / "source"
    source.write_bytes(text.encode() if isinstance(text, str) else text)
    destination = tmp_path / "out.html"
    report = Report()
    TextSanitizer().sanitize(source, destination, media_type, Options(), report)
    return destination.read_text(encoding="utf-8"), report


@pytest.mark.parametrize("payload", XSS)
@pytest.mark.parametrize("media_type", [MediaType.MARKDOWN, MediaType.TEXT])
def test_hostile_markup_comes_out_inert(
    tmp_path: Path, payload: str, media_type: MediaType
) -> None:
    output, _ = sanitize(tmp_path, f"Before\n\n{payload}\n\nAfter\n", media_type)
    assert_inert(output)
    assert "Before" in output
    assert "After" in output
    assert TextSanitizer().residual_metadata(tmp_path / "out.html", media_type) == []


def test_markdown_renders_the_allowed_structure(tmp_path: Path) -> None:
    text = (
        "# Title\n\n###### Deep heading\n\nSome *soft* and **strong** words, `code`.\n\n"
        "- one\n- two\n\n1. first\n\n> quoted\n\n---\n\n```\nblock\n```\n\n"
        "A [link](https://example.org/a?b=1&c=2) and <mailto:help@example.org>.\n"
    )
    output, report = sanitize(tmp_path, text, MediaType.MARKDOWN)
    assert_inert(output)
    for fragment in ("<h1>Title</h1>", "<h4>Deep heading</h4>", "<em>soft</em>"):
        assert fragment in output
    for tag in ("strong", "code", "ul", "ol", "li", "blockquote", "hr", "pre"):
        assert f"<{tag}>" in output
    assert f'<a href="https://example.org/a?b=1&amp;c=2" rel="{LINK_REL}">link</a>' in output
    assert 'href="mailto:help@example.org"' in output
    assert report.removed == {}


def test_markdown_images_become_their_alt_text(tmp_path: Path) -> None:
    text = "Look: ![a *red* door](https://tracker.example/p.png) ![two](x.png)\n"
    output, report = sanitize(tmp_path, text, MediaType.MARKDOWN)
    assert "a red door" in output
    assert "tracker.example" not in output
    assert "<img" not in output
    assert report.removed == {"markdown.images": 2}


def test_plain_text_becomes_escaped_paragraphs(tmp_path: Path) -> None:
    text = "First line\r\nsecond <b>line</b> & more\n\n\nNew *paragraph*\n"
    output, _ = sanitize(tmp_path, text, MediaType.TEXT)
    assert output == (
        "<p>First line<br>\nsecond &lt;b&gt;line&lt;/b&gt; &amp; more</p>\n<p>New *paragraph*</p>"
    )


def test_bom_and_invisible_characters_are_removed_and_reported(tmp_path: Path) -> None:
    text = (
        "\ufeffHi\u200bdden \u202eevil\u202c text \U000e0041\U000e0042 \U0001f469\u200d\U0001f373"
    )
    output, report = sanitize(tmp_path, text.encode(), MediaType.TEXT)
    assert output == "<p>Hidden evil text  \U0001f469\u200d\U0001f373</p>"  # ZWJ emoji kept
    assert report.removed == {"text.byte_order_mark": 1, "text.invisible_characters": 5}


def test_personal_data_offsets_point_into_the_source(tmp_path: Path) -> None:
    text = "\ufeffCall Ioana on +40 721 234 567 or write to ioana@example.ro.\n"
    source = tmp_path / "script.md"
    source.write_text(text, encoding="utf-8")
    report = Report()
    options = Options(names=("Ioana",))
    TextSanitizer().sanitize(source, tmp_path / "o.html", MediaType.MARKDOWN, options, report)
    decoded = text[1:]  # offsets count characters after the byte-order mark
    found = [(hit.kind, decoded[hit.start : hit.end]) for hit in report.personal_data]
    assert found == [("name", "Ioana"), ("phone", "+40 721 234 567"), ("email", "ioana@example.ro")]
    assert "+40" not in report.to_json()
    assert "ioana" not in report.to_json().lower()
    assert report.notes


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"\xef\xbb\xbf<p>x</p>", "bom"),
        (b"<p>x\x1b</p>", "control-characters"),
        ("<p>a\u200bb</p>".encode(), "invisible-characters"),
        (b"<p onclick=x>x</p>", "unsafe-html"),
        (b"<script>alert(1)</script>", "unsafe-html"),
        (b'<a href="https://x.example">x</a>', "unsafe-html"),  # rel missing
        (b"\xff\xfe<p>x</p>", "not-utf8"),
    ],
)
def test_residual_metadata_finds_unsafe_output(tmp_path: Path, content: bytes, kind: str) -> None:
    path = tmp_path / "out.html"
    path.write_bytes(content)
    assert kind in TextSanitizer().residual_metadata(path, MediaType.MARKDOWN)


@pytest.mark.parametrize("payload", XSS)
def test_the_policy_alone_makes_raw_html_inert(payload: str) -> None:
    """Defence in depth: markdown-it already escapes raw HTML, but the allow-list must
    hold on its own (it is also what re-checks a published file)."""
    once = clean_html(payload)
    assert_inert(once)
    assert clean_html(once) == once


def test_pipeline_writes_the_html_and_reports(tmp_path: Path) -> None:
    source = tmp_path / "script.md"
    source.write_text("# Hi\n\n<script>alert(1)</script> Via Roma 10\n", encoding="utf-8")
    destination = tmp_path / "public" / "script.html"
    report = sanitize_file(source, destination, claimed_name="script.md")
    assert sanitizer_for(MediaType.TEXT) is sanitizer_for(MediaType.MARKDOWN)
    assert_inert(destination.read_text(encoding="utf-8"))
    assert report.input is not None
    assert report.output is not None
    assert report.output.media_type == "text/markdown"
    assert [hit.kind for hit in report.personal_data] == ["address"]
    assert [p.name for p in destination.parent.iterdir()] == ["script.html"]
