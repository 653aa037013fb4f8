"""Template bios: a small grammar that writes a varied English bio from a row's fields.

It backs up the LM: a bio the gate rejects is replaced by one of these, and `--bios template`
uses nothing else. A bio is an opener (who and where), a line about interests and a tagline,
drawn from frame lists for a persona: tone (warm, witty, professional, laid-back,
enthusiastic), voice (first person, third person), emoji or not, and the LM's shapes with
the LM's shares (pipeline/data/bio_prompt.toml): a fragments line ("Nurse · Austin · Hiking,
jazz"), one sentence ("Nurse in Austin, into hiking and jazz.") or two and a tagline. Every
frame only says what the row says, and every sentence names one of its facts, so every bio
passes gate.check_bio.

A row's bio depends only on the row and its own 64-bit seed (a counter-based splitmix64
stream), so it is the same whichever batch or worker makes it. The frames and word lists are
data: pipeline/data/template_bios.toml.
"""

import re
import tomllib
from collections.abc import Mapping, Sequence
from importlib.resources import files

from pipeline.core.rng import Draw
from pipeline.core.text import article, lower_first
from pipeline.lm.gate import MAX_CHARS, MIN_CHARS, country_names, fold

# ---------------------------------------------------------------------------------------------
# Fields in the forms the frames need.

_DATA = tomllib.loads(
    (files("pipeline") / "data" / "template_bios.toml").read_text(encoding="utf-8")
)
TONES: tuple[str, ...] = tuple(_DATA["tones"])
STAGES: dict[str, str] = _DATA["stages"]  # life-stage occupation -> opener kind
STAGE_TITLE: dict[str, str] = _DATA["stage_title"]  # what a frame calls the life stage
COUNTRY_SHORT: dict[str, str] = _DATA["country_short"]
PRONOUNS: dict[str, list[str]] = _DATA["pronouns"]  # P, p, poss, obj
KEEP_CASE = frozenset(_DATA["keep_case"])
EMOJI: dict[str, str] = _DATA["emoji"]  # by interest
TONE_EMOJI: dict[str, list[str]] = _DATA["tone_emoji"]


def _lower_first(s: str) -> str:
    # "Mobile app developer" -> "mobile app developer"; acronyms (CTO, DevOps, TV) keep case.
    return lower_first(s, KEEP_CASE)


def _article(phrase: str) -> str:
    # "a urologist", "a one-off", but "an urban planner": "uro" and "one" sound like
    # consonants, "ur" alone does not.
    return article(phrase, consonant_starts=("uni", "use", "usu", "eu", "one", "uro"))


def _num_article(n: int) -> str:
    return "an" if n in (11, 18) or str(n).startswith("8") else "a"


_WORDS = re.compile(r"[^\W\d_]{3,}")
_NOTES = re.compile(r"\s*[\[(][^\])]*[\])]|`")


def _clean_place(s: str) -> str:
    # GeoNames notes ("[Fraccionamiento]") and backticks ("Mintaqat `Asir") read as markup.
    return " ".join(_NOTES.sub(" ", s).split())


def _fold(s: str) -> str:
    return "".join(c for c in fold(s) if c.isalnum())


def _places(row: Mapping) -> tuple[str, ...]:
    """Ways to say where the row lives: city, "city, region" and "city, country"."""
    city = _clean_place(row.get("city") or "")
    region = _clean_place(row.get("region") or "")
    cc = row.get("country_code") or ""
    country = COUNTRY_SHORT.get(cc) or (country_names().get(cc) or ("",))[0]
    out = [city] if city else []
    fc, fr = _fold(city), _fold(region)
    shared = set(_WORDS.findall(city.casefold())) & set(_WORDS.findall(region.casefold()))
    # "Saint Petersburg, St.-Petersburg", "New York City, New York" or "Cerro Grande do Sul,
    # Rio Grande do Sul" say the place twice.
    if region and fr and fr not in fc and fc not in fr and fr[:5] != fc[:5] and not shared:
        out.append(f"{city}, {region}")
    if country and city and _fold(country) not in fc:
        out.append(f"{city}, {country}")
    return tuple(out) or (region or country or "",)


def _interests(row: Mapping) -> list[str]:
    items = row.get("interests")
    return [str(i) for i in items] if items is not None else []


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------------------------------------
# Frames (see template_bios.toml for their fields).

_FRAMES = _DATA["frames"]
# (voice, frame, needs): needs is "" (any row), "job" (a real job), "age" (an adult's age).
OPENERS: list[tuple[str, str, str]] = [tuple(o) for o in _FRAMES["openers"]]
# Life stages say the stage in their own words: kind -> (voice, frame).
STAGE_OPENERS: dict[str, list[tuple[str, str]]] = {
    kind: [tuple(o) for o in frames] for kind, frames in _FRAMES["stage_openers"].items()
}
MIDDLES: dict[str, list[str]] = _FRAMES["middles"]  # interests, by voice
CLOSERS: dict[str, list[str]] = _FRAMES["closers"]  # taglines, by tone
EXTRA: dict[str, list[str]] = _FRAMES["extra"]  # taglines about one more interest, by voice
JOINED: dict[str, list[str]] = _FRAMES["joined"]  # one-sentence bios' interests, by voice
# The LM's shapes and their shares: fallback bios look like the bios they stand in for.
_SHAPES = tomllib.loads(
    (files("pipeline") / "data" / "bio_prompt.toml").read_text(encoding="utf-8")
)["shapes"]
SHAPE_SHARES = {k: v["share"] for k, v in _SHAPES.items()}


def _opener_table() -> dict[tuple[str, str, bool], tuple[str, ...]]:
    """(voice, kind, age shown) -> frames, so a row picks from one precomputed tuple."""
    kinds = ("job", *STAGE_TITLE)
    table: dict[tuple[str, str, bool], list[str]] = {}
    for voice in ("first", "third", "headline"):
        for kind in kinds:
            for with_age in (False, True):
                frames = []
                for v, frame, needs in OPENERS:
                    if v != voice or ("job" in needs and kind != "job"):
                        continue
                    if ("age" in needs) == with_age:
                        frames.append(frame)
                if kind != "job" and not with_age:
                    frames += [f for v, f in STAGE_OPENERS[kind] if v == voice]
                table[(voice, kind, with_age)] = frames
    return {k: tuple(v) for k, v in table.items() if v}


OPENER_TABLE = _opener_table()


def template_bio(row: Mapping, seed: int) -> str:
    """One English bio for `row`, a pure function of the row and the 64-bit `seed`."""
    d = Draw(seed)
    name = row.get("first_name_latin") or row.get("first_name") or ""
    age = row.get("age")
    occupation = row.get("occupation") or ""
    kind = STAGES.get(occupation, "job")
    gender = row.get("gender")
    places = _places(row)
    interests = _interests(row)

    tone = d.pick(TONES)
    u = d(1000) / 1000
    shape = "two_sentences"
    for kind_of_bio, share in SHAPE_SHARES.items():
        if u < share:
            shape = kind_of_bio
            break
        u -= share
    if shape == "fragments":
        voice = "headline"
    else:
        voice = ("first", "first", "first", "first", "first", "first", "first", "third", "third",
                 "third")[d(10)]  # fmt: skip
    if voice == "third" and gender not in PRONOUNS:
        voice = "first"  # no pronoun to write with
    with_age = age is not None and age >= 18 and d(4) == 0
    if (voice, kind, with_age) not in OPENER_TABLE:
        with_age = False
    if (voice, kind, with_age) not in OPENER_TABLE:
        voice = "first"
    opener = d.pick(OPENER_TABLE[(voice, kind, with_age)])
    middle = d.pick(MIDDLES[voice])
    closer = d.pick(CLOSERS[tone])
    extra = d.pick(EXTRA[voice]) if voice != "headline" else ""
    n_int = min(len(interests), 1 + d(3))
    emoji_at = d(5)  # 0: after the interests, 1: at the end, else none
    emoji = EMOJI.get(interests[0]) if interests else None
    emoji = emoji or d.pick(TONE_EMOJI[tone])
    length = d(3)  # 0: short (opener + interests), else medium (+ a tagline)
    joined = d.pick(JOINED[voice]) if voice in JOINED else ""
    if shape == "one_sentence" or (shape == "two_sentences" and length == 0):
        length = 0
    use_extra = d(3) == 0 and len(interests) > n_int
    place = d.pick(places)
    sep = d.pick((" | ", " · ")) if voice == "headline" else " "

    occ = _lower_first(occupation)
    P, p, poss, obj = PRONOUNS.get(gender, ("", "", "", ""))
    fields = {
        "name": name, "age": age, "a_age": _num_article(int(age)) if age is not None else "",
        "city": _clean_place(row.get("city") or "") or place, "sep": sep,
        "Occ": STAGE_TITLE.get(kind, occupation), "occ": occ, "a_occ": f"{_article(occ)} {occ}",
        "P": P, "p": p, "poss": poss, "obj": obj,
    }  # fmt: skip

    def render(place: str, k: int, with_closer: bool) -> str:
        parts = [opener.format(place=place, **fields)]
        if k:
            shown = [_lower_first(i) for i in interests[:k]]
            listed = _join(shown) if voice != "headline" else ", ".join(shown)
            line = middle.format(list=listed, List=listed[:1].upper() + listed[1:],
                                 keep="keeps" if k == 1 else "keep", **fields)  # fmt: skip
            # One sentence: the opener goes on with the interests, where it is one sentence.
            if (
                shape == "one_sentence"
                and joined
                and parts[0].endswith(".")
                and not any(c in parts[0][:-1] for c in ".!?")
            ):
                parts[0] = parts[0][:-1] + ", " + joined.format(list=listed)
                line = ""
            if line and emoji_at == 0:
                line += " " + emoji
            elif emoji_at == 0:
                parts[0] += " " + emoji
            if line:
                parts.append(line)
        if with_closer:
            if use_extra and voice != "headline":
                parts.append(extra.format(i=_lower_first(interests[-1]), **fields))
            elif k < len(interests):  # a tagline about an interest not listed yet
                low = _lower_first(interests[k])
                parts.append(closer.format(i=low, I=low[:1].upper() + low[1:]))
        text = sep.join(parts)
        return text + " " + emoji if emoji_at == 1 else text

    # Longest first, then drop what costs least: the tagline, interests, the region.
    text = render(place, n_int, length > 0)
    k = n_int
    while len(text) > MAX_CHARS and k > 1:
        k -= 1
        text = render(place, k, False)
    if len(text) > MAX_CHARS:
        text = render(places[0], min(k, 1), False)
    if len(text) > MAX_CHARS:
        text = render(places[0], 0, False)
    if len(text) < MIN_CHARS:
        text = render(place, n_int, True)
    if len(text) > MAX_CHARS:  # absurdly long fields: the occupation and the city still fit
        text = f"{STAGE_TITLE.get(kind, occupation)} in {row.get('city') or ''}."[:MAX_CHARS]
    return text


def template_bios(rows: Sequence[Mapping], seeds: Sequence[int]) -> list[str]:
    """template_bio for each row with its own seed (one uint64 per row)."""
    if len(rows) != len(seeds):
        raise ValueError(f"{len(rows)} rows but {len(seeds)} seeds")
    return [template_bio(r, int(s)) for r, s in zip(rows, seeds, strict=True)]
