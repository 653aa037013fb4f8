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
