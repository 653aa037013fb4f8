"""The bio gate (check_bio): check_text plus what a profile bio must also be. Each check has a
bio that fails it, with the reason, and bios that pass; posts keep check_text alone."""

import re

import pytest

from pipeline.lm import gate
from pipeline.lm.gate import (
    BIO_REASONS,
    REASONS,
    bio_units,
    check_bio,
    check_text,
    contradictions,
    narrator_mixed,
    stem,
)
from tests.lm.test_gate import ROW, row

# The examples and their kin, each with the check that rejects it.
BAD = [
    # One narrator: "I" and "he"/"she" or the name as a subject for the same person.
    ("Meet David, a nurse. Camping all day. I'm not sure where he goes.", "narrator"),
    ("David is a nurse in Austin. I love camping and tech gadgets.", "narrator"),
    ("Nurse in Austin. I love camping, he says it keeps him sane.", "narrator"),
    # The row's own occupation negated.
    ("Nurse in Austin. I'm not a nurse but I can talk about camping!", "own_occupation"),
    ("Former nurse in Austin, camping every weekend.", "own_occupation"),
    ("Ex-nurse in Austin who loves camping.", "own_occupation"),
    # Another job, short titles the occupation table's regex skips.
    ("Nurse in Austin. I'm also a chef on weekends, camping on Sundays.", "occupation"),
    ("Nurse in Austin, camping fan and a part-time barber.", "occupation"),
    # Another country than the row's.
    ("Nurse in Austin, originally from Brazil, camping fan.", "place"),
    ("Nurse in Austin, Japan, into camping.", "place"),
    # A family or a fortune the row does not have.
    ("Nurse in Austin. Dad of 2, camping fan.", "family"),
    ("Nurse in Austin, camping with my husband.", "family"),
    ("Nurse in Austin. I make a million dollars in camping gear.", "fortune"),
    # Two facts glued by a preposition.
    ("Nurse in Austin. Camping in tech gadgets.", "mashup"),
    ("Nurse in Austin · camping in 2017", "mashup"),
    ("Nurse from Austin, from camping, gadgets.", "mashup"),
    # Two interests glued side by side, by "for", or "in" one after a place (issue 15's marking).
    ("Nurse in Austin, into camping tech gadgets.", "mashup"),
    ("Nurse in Austin. I love camping for tech gadgets.", "mashup"),
    ("Nurse from Austin, Texas, in camping.", "mashup"),
    # Another job in an apposition, or named in the third word after the article.
    ("Nurse in Austin, a baker on weekends, into camping.", "occupation"),
    ("Nurse in Austin, also a high school teacher, into camping.", "occupation"),
    # Half of the row's city (see test_half_of_the_city_is_a_place).
    # A nationality, language or adjective standing alone, a country with an article.
    ("Nurse in Austin, Turkish, into camping.", "label"),
    ("Nurse · Austin · Chinese, camping", "label"),
    ("Nurse in Austin, a United States, into camping.", "label"),
    ("Nurse · Austin · tech gadgets and sustainable 🎉", "label"),
    # A capitalised word we do not know inside a sentence or list: a stray place, a label.
    ("Nurse · Austin · camping, Pusinam", "stray"),
    ("Nurse in Austin, into camping and Vogue.", "stray"),
    # The same word twice, apart (an interest, or the occupation).
    ("Nurse in Austin, into camping, tech gadgets and a camp.", "echo"),
    ("Nurse in Austin, tech gadgets and expertly camped camping.", "echo"),
    ("Nurse in Austin. I love nursing and camping.", "echo"),
    # Talking to the reader.
    ("Nurse in Austin, into camping, you know?", "you"),
    ("Nurse in Austin. I love camping with your friends.", "you"),
    # An acronym in the wrong case (eval-bios counts them: the target is none).
    ("Nurse in Austin, into camping and tech gadgets, hR friendly.", "case"),
    # The prompt's shape tag echoed.
    ("Nurse in Austin, into camping, two lines.", "leak"),
    # A sentence or fragment with no fact of the row.
    ("Nurse in Austin. Shoe-hitting!", "no_fact"),
    ("Nurse · Austin · fluent in sarcasm", "no_fact"),
    ("Nurse in Austin who loves camping. Reads all day, covers everything.", "no_fact"),
]


@pytest.mark.parametrize("text,reason", BAD)
def test_bad_bios_are_rejected_with_their_reason(text, reason):
    assert reason in BIO_REASONS or reason in REASONS
    assert check_bio(text, ROW) == reason


GOOD = [
    "Nurse · Austin · camping & tech gadgets 🏕️",
    "Registered nurse in Austin, camping most weekends.",
    "Nurse in Austin. I love camping and my tech gadgets.",
    "David is a nurse in Austin. He camps every weekend.",
    "Nurse in Austin. Night shifts and long camping trips.",
    "Nurse in Austin, Texas, USA. Camping is life.",
    "Not just a nurse in Austin: camping too.",
    "📍 Austin | nurse | camping, gadgets",
    "David, 44, nurse in Austin.",
    "Nurse in Austin. Photos of every camping trip.",  # "photos" is no interest, camping is
    "Nurse in Austin, into camping and Mexican food.",  # a nationality before a noun
    "Nurse in Austin, into camping and sustainable tech gadgets.",
    "Nurse · Austin · Camping · Tech gadgets",  # capitalised interests
    "Nurse in Austin. Camping on Sundays, DIY in the garage.",  # known words
    "Nurse in Austin. I love camping, I love tech gadgets.",  # "I love" may repeat
    "Nurse in Austin, weekend camping trips.",  # beside a word, not another interest
]


@pytest.mark.parametrize("text", GOOD)
def test_good_bios_pass(text):
    assert check_bio(text, ROW) is None


def test_the_asked_voice_is_kept():
    """A first-person or fragments bio that says "he" about its person mixes narrators too,
    and a third-person one that says "I"."""
    he = "Nurse · Austin · camping, he loves gadgets"
    assert check_bio(he, ROW) is None  # the voice unknown: "he" could be anyone
    assert check_bio(he, ROW, "en", "first") == "narrator"
    assert check_bio("David is a nurse in Austin. I camp.", ROW, "en", "third") == "narrator"
    assert check_bio("David is a nurse in Austin. He camps a lot.", ROW, "en", "third") is None
    assert not narrator_mixed("Nurse in Austin. I love camping.", ROW, "first")
    # The "I" of a place's name is nobody's narrator.
    ban = row(city="Ban I Chang", region="Ratchaburi", country_code="TH")
    assert not narrator_mixed("David lives in Ban I Chang, a big fan of camping.", ban)
    assert narrator_mixed("David lives in Ban I Chang. I love camping.", ban)


def test_own_interests_allow_their_claims():
    assert check_bio("Nurse in Austin, dad of 2 and camping fan.", row(interests=["Parenting",
                     "Camping"])) is None  # fmt: skip
    assert check_bio("Nurse in Austin, into crypto and camping.", row(interests=["Crypto",
                     "Camping"])) is None  # fmt: skip


def test_own_places_and_names_are_no_other_country():
    jersey = row(city="Bayonne", region="New Jersey", latitude=40.67, longitude=-74.11)
    assert check_bio("Nurse in Bayonne, New Jersey, into camping.", jersey) is None
    assert check_bio("Jordan here, nurse in Austin, into camping.", row(first_name="Jordan",
                     first_name_latin="Jordan", display_name="Jordan Garcia")) is None  # fmt: skip


def test_units_and_stems():
    assert bio_units("Nurse · Austin · jazz 🎷. I camp! ✨") == ["Nurse", "Austin", "jazz 🎷.",
                                                               "I camp!"]  # fmt: skip
    assert stem("photos") == stem("Photography") and stem("hikes") == stem("Hiking")
    assert stem("running") == stem("runs") and stem("gardening") == stem("garden")


def test_posts_keep_check_text():
    """check_text is unchanged: a post may talk about anything (no fact needed)."""
    assert check_text("Coffee first, then everything else.", ROW) is None
    assert check_bio("Coffee first, then everything else.", ROW) == "no_fact"


def test_contradictions_name_their_kind():
    c = contradictions("Nurse in Austin. I'm not a nurse, I'm a chef from Brazil.", ROW)
    assert c == {"own_occupation": True, "other_occupation": True, "other_place": True,
                 "family_or_fortune": False}  # fmt: skip


def test_half_of_the_city_is_a_place():
    cedar = row(city="Cedar Park", latitude=30.5, longitude=-97.82)
    assert check_bio("Nurse in Cedar Park, camping near Cedar.", cedar) == "place"
    assert check_bio("Nurse in Cedar Park, camping most weekends.", cedar) is None
    # Accents do not matter: "Sao Paulo" is São Paulo whole.
    sp = row(city="São Paulo", region="Sao Paulo", country_code="BR", latitude=-23.55,
             longitude=-46.63)  # fmt: skip
    assert check_bio("Nurse in Sao Paulo, into camping.", sp) is None


def test_interests_that_take_an_object_are_no_mashup():
    assert (
        check_bio("Nurse in Austin, writing poetry.", row(interests=["Writing", "Poetry"])) is None
    )
    assert check_bio("Nurse in Austin, investing in real estate.",
                     row(interests=["Investing", "Real estate"])) is None  # fmt: skip
    assert check_bio("Nurse in Austin, reading skincare.",
                     row(interests=["Reading", "Skincare"])) == "mashup"  # fmt: skip


def test_a_job_named_after_an_interest_is_the_interest():
    photos = row(interests=["Photography", "Camping"])
    assert check_bio("Nurse in Austin, camping and a keen photographer.", photos) is None
    assert check_bio("Nurse in Austin, camping and a keen photographer.", ROW) == "occupation"
    assert check_bio("Nurse in Austin, camping fan and entrepreneur.",
                     row(interests=["Entrepreneurship", "Camping"])) is None  # fmt: skip
    cook = row(occupation="Cook", interests=["Cooking", "Camping"])
    assert check_bio("Cook in Austin, into cooking and camping.", cook) is None  # no echo


def test_nationality_of_the_rows_own_place_passes():
    fork = row(city="Spanish Fork", region="Utah", latitude=40.11, longitude=-111.65)
    assert check_bio("Nurse in Spanish Fork, into camping.", fork) is None
    # A name inside a word is not the name: "Nam" in "Vietnamese".
    nam = row(first_name="Nam", first_name_latin="Nam", display_name="Nam Garcia")
    assert check_bio("Nurse in Austin, Vietnamese, into camping.", nam) == "label"


NEVER = re.compile(r"(?!)")
CEDAR = row(city="Cedar Park", latitude=30.5, longitude=-97.82)
# Issue 15's second round: each bio fails one check only; with that check off, it passes.
ALONE = [
    ("Nurse in Austin, into camping tech gadgets.", ROW, "mashup", lambda *a: False),
    ("Nurse from Austin, Texas, in camping.", ROW, "mashup", lambda *a: False),
    ("Nurse in Austin, also a high school teacher, into camping.", ROW, "claims_other_job",
     lambda *a: False),
    ("Nurse in Austin, a baker on weekends, into camping.", ROW, "claims_other_job",
     lambda *a: False),
    ("Nurse in Cedar Park, camping near Cedar.", CEDAR, "half_place", lambda *a: False),
    ("Nurse in Austin, Turkish, into camping.", ROW, "lone_label", lambda *a: False),
    ("Nurse in Austin, a United States, into camping.", ROW, "lone_label", lambda *a: False),
    ("Nurse · Austin · tech gadgets and sustainable 🎉", ROW, "lone_label", lambda *a: False),
    ("Nurse · Austin · camping, Pusinam", ROW, "stray_word", lambda *a: False),
    ("Nurse in Austin, into camping, tech gadgets and a camp.", ROW, "echo", lambda *a: False),
    ("Nurse in Austin. I love camping with your friends.", ROW, "_YOU", NEVER),
    ("Nurse in Austin, into camping, two lines.", ROW, "_TAG_LEAK", NEVER),
    ("Nurse in Austin, into camping and devOps.", row(occupation="DevOps engineer"),
     "acronym_defect", lambda *a: False),
]  # fmt: skip


@pytest.mark.parametrize("text,r,check,off", ALONE)
def test_each_new_check_fails_alone(monkeypatch, text, r, check, off):
    assert check_bio(text, r) is not None
    monkeypatch.setattr(gate, check, off)
    assert check_bio(text, r) is None
