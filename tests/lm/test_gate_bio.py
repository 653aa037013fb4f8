"""The bio gate (check_bio): check_text plus what a profile bio must also be. Each check has a
bio that fails it, with the reason, and bios that pass; posts keep check_text alone."""

import pytest

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
