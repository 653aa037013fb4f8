"""The bio model's prompt: the primed opener and the fields line keep acronyms' case."""

import re

import pytest

from pipeline.bios.prompt import EXAMPLES, SYSTEM, Persona, fields_line, opener
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
    # Every shape: 40 seeds cover the four opener shapes of both voices.
    return [opener(row, Persona("warm", third, False), seed) for third in (False, True)
            for seed in range(40)]  # fmt: skip


def test_the_prompt_is_loaded():
    assert SYSTEM.startswith("You write short") and SYSTEM.endswith("No hashtags.")
    assert len(EXAMPLES) == 6 and all(len(e) == 3 for e in EXAMPLES)


@pytest.mark.parametrize("occupation", OCCUPATIONS)
def test_every_occupation_keeps_its_case(occupation):
    row = _row(occupation, INTERESTS[:2])
    texts = _openers(row) + [fields_line(row, Persona("warm", True, True))]
    for text in texts:
        assert not BROKEN_CASE.search(text), text
        assert not re.search(r"\ban? (?:an?|the) ", text), text


def test_every_interest_keeps_its_case():
    for i in range(0, len(INTERESTS), 2):
        line = fields_line(_row("Nurse", INTERESTS[i : i + 2]), Persona("warm", False, False))
        assert not BROKEN_CASE.search(line), line
    line = fields_line(_row("Nurse", ["TV series", "DIY"]), Persona("warm", False, False))
    assert "Into TV series, DIY." in line


@pytest.mark.parametrize(
    ("occupation", "says"),
    [
        ("CTO", "Maria is a CTO in Lisbon."),
        ("HR manager", "Meet Maria, an HR manager."),
        ("UX designer", "Maria is a UX designer in Lisbon."),
        ("IT support technician", "Meet Maria, an IT support technician."),
        ("Nurse", "Maria is a nurse in Lisbon."),
        ("Electrician", "Meet Maria, an electrician."),
        ("Retired", "Maria is retired in Lisbon."),
    ],
)
def test_articles_follow_the_sound(occupation, says):
    assert says in _openers(_row(occupation, ["Travel"]))
