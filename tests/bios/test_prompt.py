"""The bio model's prompt: the primed opener and the fields line keep acronyms' case; shapes
are drawn with their stated shares; the worked examples only use their own facts."""

import re

import pytest

from pipeline.bios.prompt import (
    EMOJI_SHARE,
    EXAMPLES,
    SHAPES,
    SYSTEM,
    Persona,
    fields_line,
    opener,
    persona,
)
from pipeline.identity.interests import load_interests
from pipeline.identity.occupations import load_jobs

# A lower-case letter glued to a capital: "cTO", "hR manager", "tV series".
BROKEN_CASE = re.compile(r"\b[a-z][A-Z]")
OCCUPATIONS = [j[0] for j in load_jobs()] + [
    "High school student", "University student", "Retired", "Unemployed", "Homemaker",
]  # fmt: skip
INTERESTS = list(load_interests()[0])


def _row(occupation: str, interests: list[str]) -> dict:
    return {"occupation": occupation, "city": "Lisbon", "first_name_latin": "Maria",
            "gender": "female", "age": 34, "country_code": "PT",
            "interests": interests}  # fmt: skip


def _openers(row: dict) -> list[str]:
    # Every shape: 40 seeds cover the four opener forms of each shape and voice.
    return [opener(row, Persona(third, emoji, shape), seed) for third in (False, True)
            for emoji in (False, True) for shape in SHAPES for seed in range(40)]  # fmt: skip


def test_the_prompt_is_loaded():
    assert SYSTEM.startswith("You write short") and SYSTEM.endswith("No hashtags.")
    assert len(EXAMPLES) == 8 and all(len(e) == 3 for e in EXAMPLES)
    assert abs(sum(v[0] for v in SHAPES.values()) - 1) < 1e-9


def test_shapes_are_drawn_with_their_stated_shares():
    drawn = [persona(seed) for seed in range(20_000)]
    for shape, (share, _, _) in SHAPES.items():
        assert abs(sum(p.shape == shape for p in drawn) / len(drawn) - share) < 0.015, shape
    assert not any(p.third_person for p in drawn if p.shape == "fragments")  # no narrator
    assert abs(sum(p.emoji for p in drawn) / len(drawn) - EMOJI_SHARE) < 0.015


def test_examples_only_use_their_own_facts():
    """Every worked example passes the bio gate against the row its fields line describes:
    the model is shown bios whose every sentence carries one of the row's facts."""
    from pipeline.lm.gate import check_bio

    codes = {"United States": "US", "Japan": "JP", "Germany": "DE", "Spain": "ES",
             "Nigeria": "NG", "United Kingdom": "GB", "India": "IN", "Australia": "AU"}  # fmt: skip
    for fields, start, rest in EXAMPLES:
        m = re.match(r"(\w+) \((\w+)\), (\d+), ([^,]+), ([^,]+), ([^.]+)\. Into ([^.]+)\.", fields)
        first, pron, age, occ, city, country, interests = m.groups()
        row = {"first_name": first, "first_name_latin": first, "age": int(age),
               "gender": {"she": "female", "he": "male"}[pron], "occupation": occ.capitalize(),
               "city": city, "country_code": codes[country],
               "interests": [i.strip().capitalize() for i in interests.split(",")]}  # fmt: skip
        voice = "third" if "third person" in fields else "first"
        assert check_bio(start + rest, row, "en", voice) is None, start + rest


@pytest.mark.parametrize("occupation", OCCUPATIONS)
def test_every_occupation_keeps_its_case(occupation):
    row = _row(occupation, INTERESTS[:2])
    texts = _openers(row) + [fields_line(row, Persona(True, True, "one_sentence"))]
    for text in texts:
        assert not BROKEN_CASE.search(text), text
        assert not re.search(r"\ban? (?:an?|the) ", text), text


def test_every_interest_keeps_its_case():
    for i in range(0, len(INTERESTS), 2):
        line = fields_line(_row("Nurse", INTERESTS[i : i + 2]), Persona(False, False, "fragments"))
        assert not BROKEN_CASE.search(line), line
    line = fields_line(_row("Nurse", ["TV series", "DIY"]), Persona(False, False, "fragments"))
    assert "Into TV series, DIY." in line


@pytest.mark.parametrize(
    ("occupation", "says"),
    [
        ("CTO", "Maria is a CTO in Lisbon. She loves"),
        ("HR manager", "Meet Maria, an HR manager. She loves"),
        ("UX designer", "Maria is a UX designer in Lisbon,"),
        ("IT support technician", "Meet Maria, an IT support technician. She loves"),
        ("Nurse", "Maria is a nurse in Lisbon. She loves"),
        ("Electrician", "Meet Maria, an electrician. She loves"),
        ("Retired", "Maria is retired in Lisbon,"),
    ],
)
def test_articles_follow_the_sound(occupation, says):
    assert says in _openers(_row(occupation, ["Travel"]))
