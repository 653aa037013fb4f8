"""Bio metrics count what they say they count."""

from pipeline.bios.metrics import field_consistency

ROW = {"occupation": "Registered nurse", "interests": ["Hiking", "Jazz"]}


def test_interest_consistency_asks_for_all_named_interests_to_be_the_rows_own():
    own = field_consistency(["Registered nurse who loves hiking and jazz."], [ROW])
    assert own["interest_consistency"] == 1.0 and own["field_consistency"] == 1.0
    # One own interest and one that is not: once counted as consistent, it is not.
    mixed = field_consistency(["Registered nurse who loves hiking and cooking."], [ROW])
    assert mixed["interest_consistency"] == 0.0 and mixed["field_consistency"] == 0.0
    assert mixed["mentions_own_interest"] == 1.0


def test_occupation_consistency():
    assert (
        field_consistency(["A registered nurse into jazz."], [ROW])["occupation_consistency"] == 1.0
    )
    assert field_consistency(["A plumber into jazz."], [ROW])["occupation_consistency"] == 0.0


def test_template_datasets_do_not_report_lm_rates():
    from pipeline.bios.metrics import bio_metrics, format_bio_metrics

    bios = ["Registered nurse into jazz.", "Plumber who loves hiking."]
    rows = [ROW, {"occupation": "Plumber", "interests": ["Hiking"]}]
    gate = [{"rows": 2, "first_try": 0, "lm": 0, "template": 2, "attempts": 0}]
    m = bio_metrics(bios, ["template", "template"], rows, gate, sample=2)
    assert m["first_try_pass_rate"] is None and m["template_fallback_rate"] is None
    assert "| first_try_pass_rate | n/a (template bios: no LM ran) |" in format_bio_metrics(m)
    lm = bio_metrics(bios, ["lm", "template"], rows, [{**gate[0], "attempts": 4,
                                                        "first_try": 1}], sample=2)  # fmt: skip
    assert lm["template_fallback_rate"] == 0.5 and lm["first_try_pass_rate"] == 0.5


PERSON = {"occupation": "HR manager", "interests": ["Hiking", "Jazz"], "city": "Austin",
          "region": "Texas", "country_code": "US", "first_name_latin": "Maria",
          "first_name": "Maria", "gender": "female", "age": 34}  # fmt: skip


def test_shapes_are_read_from_the_text():
    from pipeline.bios.metrics import bio_shape

    assert bio_shape("HR manager · Austin · hiking & jazz 🎷") == "fragments"
    assert bio_shape("📍 Austin | HR manager | jazz") == "fragments"
    assert bio_shape("HR manager in Austin, into hiking and jazz.") == "one_sentence"
    assert bio_shape("HR manager in Austin. I hike. ✨") == "two_sentences"
    assert bio_shape("HR manager in Austin. I hike. Jazz too.") == "three_plus"


def test_reads_like_a_person_metrics():
    from pipeline.bios.metrics import person_metrics

    bios = [
        "HR manager · Austin · hiking & jazz 🎷",  # fine
        "Maria is an HR manager in Austin. I love jazz.",  # narrator mixing
        "HR manager in Austin. I'm not an HR manager, I'm a chef from Brazil.",  # contradictions
        "hR manager in Austin, into hiking.",  # acronym case
        "Hr manager in Austin. Shoe-hitting!",  # acronym case, a sentence with no fact
    ]
    m = person_metrics([*bios, ""], [PERSON] * (len(bios) + 1))  # "" is a bot's: left out
    assert m["narrator_mixing_rate"] == 0.2
    assert m["self_contradiction_rate"] == 0.2
    assert m["contradiction_own_occupation"] == m["contradiction_other_place"] == 0.2
    assert m["acronym_case_defects"] == 2
    assert m["every_sentence_has_fact"] == 0.8
    assert m["style_fragments"] == 0.2 and m["style_emoji"] == 0.2
    assert m["style_one_sentence"] == 0.2 and m["style_two_sentences"] == 0.6
    assert m["chars_p10"] <= m["chars_p50"] <= m["chars_p90"]
