"""The catalogs: the template is what the sources mark, every translation keeps the
placeholders and markup of its English text, complete languages leave nothing out, and
the compiled .mo files are those of the .po files beside them.

When a language is fully translated, add it to COMPLETE.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from app.core.config import PROJECT_ROOT
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, TRANSLATIONS

COMPLETE = {"fr"}
TRANSLATED = sorted(set(LANGUAGES) - {DEFAULT_LANGUAGE})
TEMPLATE = TRANSLATIONS / "messages.pot"
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def load(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def messages(catalog: Catalog) -> Iterator[Message]:
    return (message for message in catalog if message.id)


def key(message: Message) -> tuple[str, ...]:
    return (message.id,) if isinstance(message.id, str) else tuple(message.id)


def forms(message: Message) -> list[str]:
    """The translation, or each of its plural forms ("" where there is none)."""
    if isinstance(message.string, str):
        return [message.string]
    return list(message.string or ())


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text.replace("%%", "")))


def tags(text: str) -> list[str]:
    return sorted(TAG.findall(text))


def test_the_template_holds_exactly_what_the_sources_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = tmp_path / "messages.pot"
    monkeypatch.chdir(PROJECT_ROOT)
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", "babel.cfg", "-o", str(fresh), "app"]
    )
    extracted = {key(m) for m in messages(load(fresh))}
    committed = {key(m) for m in messages(load(TEMPLATE))}
    assert extracted - committed == set(), "marked but not in messages.pot: re-extract"
    assert committed - extracted == set(), "in messages.pot but no longer marked: re-extract"


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_language_has_every_message_of_the_template(language: str) -> None:
    catalog = load(po_path(language), language)
    assert {key(m) for m in messages(catalog)} == {key(m) for m in messages(load(TEMPLATE))}
    assert str(catalog.locale) == language


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_and_markup(language: str) -> None:
    problems = []
    for message in messages(load(po_path(language), language)):
        english = key(message)
        wanted = set().union(*(placeholders(text) for text in english))
        # A plural form may leave the number out ("Un fichier"); nothing else may go.
        may_omit = {"count", "num"} if message.pluralizable else set()
        for text in filter(None, forms(message)):  # "" is untranslated: English shows
            found = placeholders(text)
            if not wanted - may_omit <= found <= wanted:
                problems.append(f"{english[0]!r}: placeholders {found}, not {wanted}")
            if tags(text) != tags(english[-1]):
                problems.append(f"{english[0]!r}: markup {tags(text)}, not {tags(english[-1])}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", sorted(COMPLETE))
def test_complete_languages_translate_everything(language: str) -> None:
    catalog = load(po_path(language), language)
    untranslated = [m.id for m in messages(catalog) if not all(forms(m))]
    fuzzy = [m.id for m in messages(catalog) if m.fuzzy]
    assert not untranslated, f"{len(untranslated)} untranslated, first: {untranslated[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy (check them, then remove the flag): {fuzzy[:5]}"
    for message in messages(catalog):
        assert len(forms(message)) == (catalog.num_plurals if message.pluralizable else 1)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_is_that_of_the_po_file(language: str) -> None:
    source = load(po_path(language), language)
    compiled = io.BytesIO()
    write_mo(compiled, source)
    compiled.seek(0)
    mo_path = po_path(language).with_suffix(".mo")
    with mo_path.open("rb") as handle:
        committed = read_mo(handle)
    expected = read_mo(compiled)

    def table(catalog: Catalog) -> dict[tuple[str, ...], tuple[str, ...]]:
        return {key(m): tuple(forms(m)) for m in messages(catalog)}

    assert table(committed) == table(expected), (
        f"{mo_path} is stale: run pybabel compile -d app/translations"
    )
