"""Locales: which country and language each one means, and its personal-name tables.

The locale table and the default mix are data (pipeline/data/locales.toml). Names come from
Faker's locale data (its provider lists, with their weights where Faker has them), read once
per process into flat tables so rows can be drawn with numpy.
"""

import importlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files

import numpy as np
import pyarrow as pa

from pipeline.errors import ProfilegenError
from pipeline.identity.romanize import handle_form, romanize


@dataclass(frozen=True)
class Locale:
    code: str  # Faker's locale name
    country: str  # ISO 3166-1 alpha-2, the gazetteer and phone plan to use
    language: str  # ISO 639-1
    family_first: bool = False  # display name written family name first, no space (CJK)
    # Where most speakers of this locale live inside the country (admin-1 names as the
    # gazetteer spells them); empty means anywhere in the country, by population.
    home_regions: tuple[str, ...] = ()


_DATA = tomllib.loads((files("pipeline") / "data" / "locales.toml").read_text(encoding="utf-8"))

LOCALES: dict[str, Locale] = {
    code: Locale(
        code,
        loc["country"],
        loc["language"],
        family_first=loc.get("family_first", False),
        home_regions=tuple(loc.get("home_regions", ())),
    )
    for code, loc in _DATA["locales"].items()
}
# A rough world mix of social-media users by locale; sums to exactly 1.0.
DEFAULT_MIX: dict[str, float] = _DATA["default_mix"]

GENDERS = ("female", "male")


def get_locale(code: str) -> Locale:
    try:
        return LOCALES[code]
    except KeyError:
        raise ProfilegenError(
            f"unknown locale {code!r}; supported: {', '.join(sorted(LOCALES))}"
        ) from None


@dataclass(frozen=True)
class NameTable:
    """One list of names (e.g. ko_KR female first names) as parallel columns."""

    native: list[str]
    latin: list[str]
    handle: list[str]  # lowercase a-z, for usernames and emails
    cum_weights: np.ndarray  # cumulative probabilities, last == 1.0


def _weighted(names) -> tuple[list, np.ndarray]:
    # Faker stores weighted lists as OrderedDict(name -> weight), plain ones as tuples.
    if isinstance(names, Mapping):
        items = list(names.items())
        return [k for k, _ in items], np.array([float(w) for _, w in items])
    names = list(names)
    return names, np.ones(len(names))


def _table(native: list[str], latin: list[str], weights: np.ndarray) -> NameTable:
    # Merge duplicates (several Faker lists repeat names) so each name is one row.
    merged: dict[str, list] = {}
    for n, lat, w in zip(native, latin, weights, strict=True):
        if n in merged:
            merged[n][1] += w
        else:
            merged[n] = [lat, w]
    native = list(merged)
    latin = [merged[n][0] for n in native]
    w = np.array([merged[n][1] for n in native], dtype=np.float64)
    cum = np.cumsum(w / w.sum())
    cum[-1] = 1.0
    return NameTable(native, latin, [handle_form(s) for s in latin], cum)


def _romanized(code: str, names) -> NameTable:
    native, w = _weighted(names)
    return _table(native, [romanize(n, code) for n in native], w)


def _pairs(names) -> NameTable:
    # ja_JP ships (kanji, kana, romaji) triples: use Faker's own romaji.
    triples, w = _weighted(names)
    return _table([t[0] for t in triples], [t[2] for t in triples], w)


def _polish_female(surname: str) -> str:
    for male, female in (("dzki", "dzka"), ("ski", "ska"), ("cki", "cka"), ("ny", "na")):
        if surname.endswith(male):
            return surname[: -len(male)] + female
    return surname


@cache
def name_tables(code: str) -> dict[tuple[str, str], NameTable]:
    """{(gender, 'first'|'last'): NameTable} for one locale."""
    get_locale(code)
    p = importlib.import_module(f"faker.providers.person.{code}").Provider
    if code == "ja_JP":
        last = _pairs(p.last_name_pairs)
        return {
            ("female", "first"): _pairs(p.first_name_female_pairs),
            ("male", "first"): _pairs(p.first_name_male_pairs),
            ("female", "last"): last,
            ("male", "last"): last,
        }
    if code == "pl_PL":
        # Polish surnames agree with gender (Kowalski / Kowalska); Faker keeps male forms.
        male = list(p.unisex_last_names) + list(p.male_last_names)
        female = list(p.unisex_last_names) + [_polish_female(s) for s in p.male_last_names]
        last_m, last_f = _romanized(code, male), _romanized(code, female)
    elif hasattr(p, "last_names_female") and hasattr(p, "last_names_male"):
        last_m = _romanized(code, p.last_names_male)
        last_f = _romanized(code, p.last_names_female)
    else:
        last_m = last_f = _romanized(code, p.last_names)
    return {
        ("female", "first"): _romanized(code, p.first_names_female),
        ("male", "first"): _romanized(code, p.first_names_male),
        ("female", "last"): last_f,
        ("male", "last"): last_m,
    }


@dataclass(frozen=True)
class NamePool:
    """All name tables of a set of locales concatenated, so one `take` builds a column."""

    native: pa.StringArray
    latin: pa.StringArray
    handle: pa.StringArray
    segments: dict[tuple[str, str, str], tuple[int, np.ndarray]]  # (locale, gender, part)


@lru_cache(maxsize=16)
def name_pool(codes: tuple[str, ...]) -> NamePool:
    native, latin, handle, segments = [], [], [], {}
    for code in codes:
        for (gender, part), t in name_tables(code).items():
            segments[(code, gender, part)] = (len(native), t.cum_weights)
            native += t.native
            latin += t.latin
            handle += t.handle
    return NamePool(
        pa.array(native, pa.string()),
        pa.array(latin, pa.string()),
        pa.array(handle, pa.string()),
        segments,
    )
