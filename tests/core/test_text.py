"""One script table for romanization and the bio gate; case and articles inside sentences."""

import re

import pytest

from pipeline.core.text import SCRIPTS, article, has_script, lower_first, script_class, script_of


@pytest.mark.parametrize(
    ("ch", "script"),
    [
        ("a", "latin"), ("É", "latin"), ("ệ", "latin"), ("Ж", "cyrillic"), ("ї", "cyrillic"),
        ("م", "arabic"), ("ﻻ", "arabic"), ("क", "devanagari"), ("ก", "thai"), ("あ", "kana"),
        ("ア", "kana"), ("ｱ", "kana"), ("王", "han"), ("𠀀", "han"), ("한", "hangul"),
        ("ㄱ", "hangul"), ("Ω", "other"), ("1", "other"), (" ", "other"), ("😊", "other"),
    ],
)  # fmt: skip
def test_script_of(ch, script):
    assert script_of(ch) == script


def test_ranges_do_not_overlap_and_classes_match_the_table():
    ranges = sorted(r for rs in SCRIPTS.values() for r in rs)
    assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    for name, rs in SCRIPTS.items():
        cls = re.compile(script_class(name))
        for lo, hi in rs:
            for cp in (lo, (lo + hi) // 2, hi):
                assert cls.fullmatch(chr(cp)) and script_of(chr(cp)) == name
        assert not cls.match("!")


def test_has_script():
    assert has_script("Tokyo在住", "han") and not has_script("Tokyo", "han")


@pytest.mark.parametrize(
    ("phrase", "lowered"),
    [
        ("Mobile app developer", "mobile app developer"),
        ("Nurse", "nurse"),
        ("CTO", "CTO"),
        ("HR manager", "HR manager"),
        ("DevOps engineer", "DevOps engineer"),
        ("TV series", "TV series"),
        ("DIY", "DIY"),
        ("K-pop", "K-pop"),
        ("Formula 1", "formula 1"),
    ],
)
def test_lower_first(phrase, lowered):
    assert lower_first(phrase) == lowered
    assert lower_first("Formula 1", keep={"Formula 1"}) == "Formula 1"


@pytest.mark.parametrize(
    ("phrase", "art"),
    [
        ("HR manager", "an"), ("HVAC technician", "an"), ("IT support technician", "an"),
        ("SEO specialist", "an"), ("MBA student", "an"), ("UX designer", "a"), ("CTO", "a"),
        ("CEO", "a"), ("QA tester", "a"), ("nurse", "a"), ("electrician", "an"),
        ("university student", "a"), ("European", "a"), ("urban planner", "an"),
        ("DevOps engineer", "a"),
    ],
)  # fmt: skip
def test_article(phrase, art):
    assert article(phrase) == art
