"""The receipt's QR code: plain inline SVG of our own link, nothing else."""

from __future__ import annotations

import pytest

from app.consent.receipts import format_code, withdrawal_qr_svg
from tests.web.conftest import parse_tags


def test_qr_code_is_plain_inline_svg() -> None:
    svg = withdrawal_qr_svg("https://chorus.example/withdraw/ABCDE-FGHJK")
    assert svg.startswith('<svg role="img" aria-label="QR code of the withdrawal link" ')
    assert svg.endswith("</svg>")
    assert "<?xml" not in svg
    assert "ABCDE" not in svg  # the link is drawn, never written out
    tags = parse_tags(svg).tags
    assert {tag for tag, _, _ in tags} <= {"svg", "title", "g", "path"}
    for _, attrs, _ in tags:
        assert not {"style", "href", "xlink:href", "src"} & set(attrs)
        assert not any(name.startswith("on") for name in attrs)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "/withdraw/ABCDE-FGHJK",
        "data:text/html,hi",
        'https://chorus.example/withdraw/"><script>',
        "https://chorus.example/" + "x" * 600,
        "https://chorus.example/a b",
    ],
)
def test_qr_code_only_for_a_plain_absolute_link(url: str) -> None:
    with pytest.raises(ValueError, match="withdrawal QR code"):
        withdrawal_qr_svg(url)


def test_codes_are_grouped_in_two_halves() -> None:
    assert format_code("ABCDEFGHJK") == "ABCDE-FGHJK"
