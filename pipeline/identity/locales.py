"""Locales: which country and language each one means, and its personal-name tables.

Names come from Faker's locale data (its provider lists, with their weights where Faker has
them), read once per process into flat tables so rows can be drawn with numpy.
"""

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

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


HINDI_BELT = (
    "Uttar Pradesh", "Bihar", "Madhya Pradesh", "Rajasthan", "Delhi", "Haryana",
    "Jharkhand", "Chhattisgarh", "Uttarakhand", "Himachal Pradesh", "Chandigarh",
)  # fmt: skip

LOCALES: dict[str, Locale] = {
    loc.code: loc
    for loc in [
        Locale("en_US", "US", "en"),
        Locale("en_GB", "GB", "en"),
        Locale("en_IN", "IN", "en"),
        Locale("hi_IN", "IN", "hi", home_regions=HINDI_BELT),
        Locale("de_DE", "DE", "de"),
        Locale("fr_FR", "FR", "fr"),
        Locale("fr_CA", "CA", "fr", home_regions=("Quebec", "New Brunswick")),
        Locale("es_ES", "ES", "es"),
        Locale("es_MX", "MX", "es"),
        Locale("es_CO", "CO", "es"),
        Locale("pt_BR", "BR", "pt"),
        Locale("it_IT", "IT", "it"),
        Locale("nl_NL", "NL", "nl"),
        Locale("pl_PL", "PL", "pl"),
        Locale("tr_TR", "TR", "tr"),
        Locale("sv_SE", "SE", "sv"),
        Locale("id_ID", "ID", "id"),
        Locale("vi_VN", "VN", "vi"),
        Locale("th_TH", "TH", "th"),
        Locale("ja_JP", "JP", "ja", family_first=True),
        Locale("zh_CN", "CN", "zh", family_first=True),
        Locale("ko_KR", "KR", "ko", family_first=True),
        Locale("ru_RU", "RU", "ru"),
        Locale("uk_UA", "UA", "uk"),
        Locale("ar_SA", "SA", "ar"),
    ]
}

# A rough world mix of social-media users by locale (DataReportal-style country shares,
# coarsened to round numbers). Sums to exactly 1.0 so it passes the same check as user mixes.
DEFAULT_MIX: dict[str, float] = {
    "en_US": 0.16, "en_IN": 0.07, "hi_IN": 0.05, "id_ID": 0.07, "pt_BR": 0.09,
    "zh_CN": 0.06, "ja_JP": 0.04, "es_MX": 0.05, "ru_RU": 0.04, "de_DE": 0.03,
    "en_GB": 0.03, "fr_FR": 0.03, "tr_TR": 0.03, "ko_KR": 0.02, "es_ES": 0.02,
    "it_IT": 0.02, "ar_SA": 0.04, "pl_PL": 0.02, "nl_NL": 0.01, "sv_SE": 0.01,
    "vi_VN": 0.04, "th_TH": 0.03, "uk_UA": 0.01, "es_CO": 0.02, "fr_CA": 0.01,
}  # fmt: skip

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
