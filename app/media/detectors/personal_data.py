"""Find personal data in text: e-mail addresses, phone numbers, street addresses and
the names of people the caller knows about. Hits carry a kind and character offsets
into the text, never the text itself. Detection is a flag for a human reviewer, tuned
to miss little rather than to be precise.

What it cannot catch (reviewers must still read the text):

- addresses without a house number ("behind the church on Rue de la Paix"), written-out
  numbers ("number twelve"), postcodes or city names on their own, PO boxes, landmarks,
  building or shelter names, and descriptions of a place ("the blue house by the
  station"); street words outside the English, French, Spanish, Italian, Romanian,
  Dutch and German lists below; non-Latin scripts;
- phone numbers that are not valid for their country (typos), written with words or
  letters, split across lines, or national numbers of countries outside ``REGIONS``
  (numbers written with + or 00 are found for every country);
- e-mail addresses obfuscated other than with a bracketed "at"/"dot"
  ("maria (at) example (dot) org" is found, "maria at example dot org" is not);
- names not on the caller's list, nicknames, misspellings and inflected forms
  ("Mariei" for "Maria"); letters that Unicode does not decompose are only
  folded for a few common cases (ł, ø, đ, æ, œ, ß).
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable

import phonenumbers
from phonenumbers import Leniency

from app.media.report import PersonalData

EMAIL = "email"
PHONE = "phone"
ADDRESS = "address"
NAME = "name"

# National formats are tried for these countries (Chorus's partners and neighbours);
# international ones (+40…, 0040…) for every country.
REGIONS: tuple[str, ...] = ("RO", "ES", "IT", "FR", "BE", "GB", "DE", "NL")

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.!#$%&'*+/=?^`{|}~-]+"
    r"(?:@|\s*[\[(]\s*(?:at|@)\s*[\])]\s*)"
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?(?:\.|\s*[\[(]\s*dot\s*[\])]\s*))+"
    r"[^\W\d_]{2,63}(?![\w-])",
    re.IGNORECASE,
)

_UPPER = "".join(c for c in map(chr, range(0xC0, 0x250)) if c.isupper())
_NUMBER = r"\d{1,5}(?:\s?[a-zA-Z])?(?:[-/](?:\d{1,5}[a-zA-Z]?|[a-zA-Z]))?\b"
_NAME_WORD = rf"(?:[A-Z{_UPPER}][a-z]?\.|[A-Z{_UPPER}][\w'’-]*)"  # "G.", "Sf.", "Paix"
_PARTICLE = (
    r"(?:de|del|della|dei|delle|di|da|du|des|la|le|les|el|los|las|d'|d’|l'|l’|"
    r"van|der|den|het|y|e|of|the|lui|și|si)"
)
_NAME = rf"(?:{_PARTICLE}\s*)*{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s*)*{_NAME_WORD}){{0,4}}"
_NUMBER_WORD = r"(?:nr\.?|n\.?\s?º|nº|n°|no\.?|núm\.?|num\.?|n\.|numero|número|număr(?:ul)?)"
_END_OF_TYPE = r"(?:(?<=[./])|(?!\w))"

# French and Belgian: the number comes first ("12 rue de la Paix").
_TYPE_FRENCH = (
    r"rue|avenue|av\.|boulevard|bd\.?|place|chemin|allée|allee|impasse|quai|route|cours|"
    r"passage|faubourg|square|voie|sentier"
)
# The number comes after the name: Spanish, Italian, Romanian, and Belgian French
# ("Calle Mayor 5", "Via Roma 10", "Strada Lipscani nr. 5", "Rue Neuve 123").
_TYPE_BEFORE = (
    rf"{_TYPE_FRENCH}|"
    r"calle|c/|avenida|avda\.?|plaza|pza\.?|paseo|pº|camino|carretera|ctra\.?|ronda|"
    r"travesía|travesia|glorieta|carrer|"
    r"via|viale|v\.le|piazza|p\.zza|piazzale|corso|c\.so|vicolo|largo|lungomare|strada|"
    r"str\.?|stradela|bulevardul|b-dul\.?|bdul\.?|calea|aleea|piața|piata|șoseaua|soseaua|"
    r"sos\.|intrarea|splaiul|drumul"
)
# English: the street word comes last ("221B Baker Street", "10 Downing St").
_TYPE_AFTER = (
    r"street|st\.?|road|rd\.?|avenue|ave\.?|lane|ln\.?|drive|dr\.?|way|close|court|ct\.?|"
    r"place|pl\.?|square|sq\.?|crescent|terrace|boulevard|blvd\.?|gardens|grove|row|mews|"
    r"walk|highway|parade|hill"
)
# Dutch and German street names: "Kerkstraat 12", "Grote Markt 1", "Hauptstraße 5".
_SUFFIX = (
    r"straat|laan|weg|plein|gracht|kade|dijk|singel|steeg|dreef|markt|hof|"
    r"straße|strasse|gasse|platz|allee|damm|ufer"
)

_ADDRESSES = (
    re.compile(
        rf"(?<!\w){_NUMBER}(?:\s*(?:bis|ter))?,?\s+(?i:{_TYPE_FRENCH}){_END_OF_TYPE}\s*{_NAME}"
    ),
    re.compile(
        rf"(?<!\w)(?i:{_TYPE_BEFORE}){_END_OF_TYPE}\s*{_NAME},?\s*(?i:{_NUMBER_WORD})?\s*{_NUMBER}"
    ),
    re.compile(rf"(?<!\w){_NUMBER}\s+{_NAME}\s+(?i:{_TYPE_AFTER}){_END_OF_TYPE}"),
    re.compile(
        rf"(?<!\w)[A-Z{_UPPER}][\w'-]*?\s?(?i:{_SUFFIX}),?\s*(?i:{_NUMBER_WORD})?\s*{_NUMBER}"
    ),
)

# Letters NFKD leaves whole, folded by hand for name matching.
_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "ı": "i"})
_PRIORITY = {EMAIL: 0, PHONE: 1, ADDRESS: 2, NAME: 3}


def find_personal_data(text: str, names: Iterable[str] = ()) -> list[PersonalData]:
    """Personal data in ``text``: e-mails, phone numbers, street addresses and any of
    ``names`` (whole words, ignoring case and accents). Returns non-overlapping hits
    sorted by offset; where two overlap, the longer (then the likelier) one is kept."""
    hits = [*_emails(text), *_phones(text), *_addresses(text), *_names(text, names)]
    return _without_overlaps(hits)


def _emails(text: str) -> list[PersonalData]:
    return [PersonalData(EMAIL, m.start(), m.end()) for m in _EMAIL.finditer(text)]


def _phones(text: str) -> list[PersonalData]:
    """International numbers (+…) that are merely possible, so a mistyped digit still
    counts; national ones only when valid for one of ``REGIONS``, so that years,
    prices and other figures are not taken for phone numbers."""
    found: set[tuple[int, int]] = set()
    passes = [(None, Leniency.POSSIBLE), *((region, Leniency.VALID) for region in REGIONS)]
    for region, leniency in passes:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
            found.add((match.start, match.end))
    return [PersonalData(PHONE, start, end) for start, end in found]


def _addresses(text: str) -> list[PersonalData]:
    return [
        PersonalData(ADDRESS, match.start(), match.end())
        for pattern in _ADDRESSES
        for match in pattern.finditer(text)
    ]


@functools.lru_cache(maxsize=4096)
def _fold(char: str) -> str:
    """One character without accents and case-folded (possibly empty or longer)."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return bare.casefold().translate(_FOLD)


def _folded(text: str) -> tuple[str, list[int]]:
    """Text without accents, case-folded, and for each of its characters the offset of
    the source character it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold(char)
        chars.append(folded)
        origin.extend([index] * len(folded))
    return "".join(chars), origin


def _names(text: str, names: Iterable[str]) -> list[PersonalData]:
    words = {" ".join(_folded(name)[0].split()) for name in names}
    words = {word for word in words if len(word) >= 2}
    if not words:
        return []
    folded, origin = _folded(text)
    alternatives = "|".join(
        r"\s+".join(map(re.escape, word.split())) for word in sorted(words, key=len, reverse=True)
    )
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
    return [
        PersonalData(NAME, origin[match.start()], origin[match.end() - 1] + 1)
        for match in pattern.finditer(folded)
    ]


def _without_overlaps(hits: list[PersonalData]) -> list[PersonalData]:
    """Keep the longest hits (then the likeliest kind) that overlap no kept hit."""
    starts: list[int] = []
    kept: list[PersonalData] = []  # sorted by start; non-overlapping, so by end too
    for hit in sorted(hits, key=lambda h: (h.start - h.end, _PRIORITY[h.kind], h.start)):
        at = bisect.bisect_left(starts, hit.start)
        if at > 0 and kept[at - 1].end > hit.start:
            continue
        if at < len(kept) and kept[at].start < hit.end:
            continue
        starts.insert(at, hit.start)
        kept.insert(at, hit)
    return kept
