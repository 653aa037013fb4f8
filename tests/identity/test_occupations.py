import csv
from importlib.resources import files

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.identity.occupations import CATEGORIES, sample_occupations

# Allowed age window and category per outcome, written out independently of the module's tables:
# the CSV for jobs, the documented life-stage rules for the rest.
with (files("pipeline") / "data" / "occupations.csv").open(newline="", encoding="utf-8") as f:
    ALLOWED = {
        r["occupation"]: (int(r["min_age"]), int(r["max_age"]), r["category"])
        for r in csv.DictReader(f)
    }
ALLOWED |= {
    "High school student": (13, 18, "student"),
    "University student": (18, 30, "student"),
    "Retired": (50, 100, "retired"),
    "Unemployed": (18, 64, "other"),
    "Homemaker": (20, 100, "other"),
    "Freelancer": (20, 80, "other"),
}


def _sample(seed, ages):
    occ, cat = sample_occupations(np.random.default_rng(seed), np.asarray(ages, dtype=np.int64))
    return np.array(occ.to_pylist(), dtype=object), cat


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(13, 100), max_size=300))
def test_occupation_allowed_for_age(seed, ages):
    occ, cat = _sample(seed, ages)
    assert len(occ) == len(ages) and len(cat) == len(ages)
    for o, c, a in zip(occ, cat, ages, strict=True):
        lo, hi, category = ALLOWED[o]
        assert lo <= a <= hi, (o, a)
        assert CATEGORIES[c] == category, (o, CATEGORIES[c])


def test_types_and_empty():
    occ, cat = sample_occupations(np.random.default_rng(0), np.array([30, 40], dtype=np.int16))
    assert isinstance(occ, pa.StringArray) and cat.dtype == np.int8
    occ, cat = sample_occupations(np.random.default_rng(0), np.array([], dtype=np.int64))
    assert len(occ) == 0 and len(cat) == 0


def test_every_age_boundary_over_many_rows():
    # Every age, many rows each: exercises the per-age table edges (first/last outcome of a row).
    ages = np.repeat(np.arange(13, 101), 2000)
    occ, cat = _sample(1, ages)
    for o in set(occ):
        a = ages[occ == o]
        lo, hi, _ = ALLOWED[o]
        assert lo <= a.min() and a.max() <= hi, o


def test_life_stages():
    rng = np.random.default_rng(2)
    ages = rng.integers(13, 101, 200_000)
    occ, _ = _sample(3, ages)
    assert (occ[ages <= 17] == "High school student").all()  # 13-17: always at school
    assert not (occ[ages < 50] == "Retired").any()
    assert (occ[ages >= 70] == "Retired").mean() >= 0.8
    assert 0.3 < (occ[(ages >= 19) & (ages <= 22)] == "University student").mean() < 0.6
    assert (occ[(ages >= 30) & (ages < 60)] == "Retired").mean() < 0.05
    # Working-age adults are mostly employed, with a small share unemployed/homemaker/freelancer.
    mid = occ[(ages >= 30) & (ages < 55)]
    other = np.isin(mid, ["Unemployed", "Homemaker", "Freelancer"]).mean()
    assert 0.05 < other < 0.25
    assert len(set(mid)) > 100  # the job table is actually used, not a handful of rows


def test_seniority_jobs_are_older():
    # A surgeon/professor/CEO is never young, and the ramp makes them rare right at min_age.
    ages = np.random.default_rng(4).integers(13, 101, 300_000)
    occ, _ = _sample(5, ages)
    for job in ("Surgeon", "Professor", "CEO"):
        assert ages[occ == job].min() >= 30
    assert ages[occ == "Professional athlete"].max() <= 40


def test_deterministic():
    ages = np.random.default_rng(6).integers(13, 101, 5000)
    a, ca = sample_occupations(np.random.default_rng(7), ages)
    b, cb = sample_occupations(np.random.default_rng(7), ages)
    assert a.equals(b) and (ca == cb).all()
    c, _ = sample_occupations(np.random.default_rng(8), ages)
    assert not a.equals(c)


def test_rejects_bad_ages():
    import pytest

    with pytest.raises(ValueError):
        sample_occupations(np.random.default_rng(0), np.array([12]))
    with pytest.raises(ValueError):
        sample_occupations(np.random.default_rng(0), np.array([101]))
    with pytest.raises(TypeError):
        sample_occupations(np.random.default_rng(0), np.array([30.5]))
