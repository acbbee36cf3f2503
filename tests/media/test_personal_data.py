"""Personal data in text: e-mails, phones, street addresses, known names — and figures
that are not phone numbers."""

from __future__ import annotations

import pytest

from app.media.detectors.personal_data import find_personal_data


def found(text: str, names: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(hit.kind, text[hit.start : hit.end]) for hit in find_personal_data(text, names)]


@pytest.mark.parametrize(
    "email",
    [
        "maria.popescu@example.ro",
        "first+tag@sub.example.co.uk",
        "o'neil@example.ie",
        "jose.garcía@correo.es",
        "ana (at) ong [dot] org",
        "ana[at]ong.org",
    ],
)
def test_emails(email: str) -> None:
    assert found(f"Write to {email}, please.") == [("email", email)]


@pytest.mark.parametrize(
    "phone",
    [
        "+40 721 234 567",
        "+40721234567",
        "0040 21 123 4567",
        "0721 234 567",  # Romania, national
        "+34 612 345 678",
        "612 345 678",  # Spain
        "+39 06 6988 4857",
        "333 123 4567",  # Italy
        "+33 6 12 34 56 78",
        "06 12 34 56 78",  # France
        "+32 2 512 34 56",
        "0470 12 34 56",  # Belgium
        "+44 20 7946 0958",
        "020 7946 0958",  # United Kingdom
        "+49 30 1234567",
        "06 12345678",  # Netherlands
        "+1 415 555 2671",  # any country, written internationally
        "+32 2 123 45 67",  # international, possible though not assigned: still flagged
    ],
)
def test_phones(phone: str) -> None:
    assert found(f"Call me on {phone} tonight.") == [("phone", phone)]


@pytest.mark.parametrize(
    "text",
    [
        "It happened in 2023, or maybe 1999.",
        "The room cost 1,250.00 EUR, or 1.250,00 € in Spain.",
        "Version 3.2.1 fixed it; see ISBN 978-3-16-148410-0.",
        "We were 15.000 people, 20 000 on the second day.",
        "From 12/05/2023 at 10:30 until 1984-2024.",
        "Order number 123456789 was lost.",
        "Three via Email 5 times is not an address, but this sentence is odd.",
        "In Spring 2020 I bought an iPad 2 and 12 apples.",
    ],
)
def test_figures_are_not_personal_data(text: str) -> None:
    assert [kind for kind, _ in found(text) if kind != "address"] == []
    assert found(text.replace("Email", "email")) == []


@pytest.mark.parametrize(
    "address",
    [
        "221B Baker Street",  # English
        "10 Downing St",
        "12 Rue de la Paix",  # French
        "12, rue de la Paix",
        "3 bis avenue Foch",
        "Rue Neuve 123",  # Belgian French
        "Calle Mayor 5",  # Spanish
        "C/ Mayor, 5",
        "Avenida de la Constitución 12",
        "Via Roma 10",  # Italian
        "via G. Garibaldi n. 5",
        "Piazza del Duomo 3",
        "Strada Lipscani nr. 5",  # Romanian
        "Str. Lipscani nr 5",
        "Bd. Unirii nr. 12",
        "Calea Victoriei 45",
        "Kerkstraat 12",  # Dutch
        "Keizersgracht 123-A",
        "Grote Markt 1",
        "Hauptstraße 5",  # German
    ],
)
def test_addresses(address: str) -> None:
    assert found(f"She lived at {address}, then she moved.") == [("address", address)]


def test_names_ignore_case_and_accents_in_both_directions() -> None:
    text = "MARÍA José met Ioana Ștefănescu, Łukasz and mariajose."
    names = ("Maria Jose", "ioana stefanescu", "Lukasz")
    assert found(text, names) == [
        ("name", "MARÍA José"),
        ("name", "Ioana Ștefănescu"),
        ("name", "Łukasz"),
    ]
    assert found("Maria   Jose", ("María José",)) == [("name", "Maria   Jose")]


def test_names_are_whole_words() -> None:
    assert found("Anastasia and Ana", ("Ana",)) == [("name", "Ana")]
    assert found("Ana's story", ("Ana",)) == [("name", "Ana")]
    assert found("nothing here", ("", " ", "a")) == []


def test_offsets_survive_decomposed_source_text() -> None:
    text = "Dear Ste\u0301phane,"  # "é" written as e + combining acute accent
    [hit] = find_personal_data(text, ("Stéphane",))
    assert text[hit.start : hit.end] == "Ste\u0301phane"


def test_hits_are_sorted_and_never_overlap() -> None:
    text = (
        "Maria (maria.popescu@example.ro, +40 721 234 567) lives at Strada Lipscani nr. 5; "
        "Popescu knows."
    )
    hits = find_personal_data(text, ("Maria", "Popescu", "Lipscani"))
    assert [hit.kind for hit in hits] == ["name", "email", "phone", "address", "name"]
    for before, after in zip(hits, hits[1:], strict=False):
        assert before.end <= after.start
    assert all(hit.field == "text" for hit in hits)


def test_nothing_in_ordinary_prose() -> None:
    text = (
        "We wrote this together over three winters. Some of us dance, some draw; all of us "
        "remember the road that brought us here, and the people who helped along the way."
    )
    assert found(text) == []
