import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.identity.interests import BOOST, load_interests, sample_interests
from pipeline.identity.occupations import CATEGORIES, sample_occupations

NAMES, W, BOOSTS = load_interests()


def _band(age):
    return np.searchsorted([18, 35, 55], age, side="right")


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.lists(st.tuples(st.integers(13, 100), st.integers(0, len(CATEGORIES) - 1)), max_size=300),
    st.integers(0, 6),
    st.integers(0, 6),
)
def test_distinct_within_bounds_positive_weight(seed, rows, a, b):
    k_min, k_max = min(a, b), max(a, b)
    ages = np.array([r[0] for r in rows], dtype=np.int64)
    cats = np.array([r[1] for r in rows], dtype=np.int8)
    out = sample_interests(np.random.default_rng(seed), ages, cats, k_min, k_max)
    assert isinstance(out, pa.ListArray) and out.type.value_type == pa.string()
    assert len(out) == len(rows)
    idx = {n: i for i, n in enumerate(NAMES)}
    for lst, age in zip(out.to_pylist(), ages, strict=True):
        assert k_min <= len(lst) <= k_max
        assert len(set(lst)) == len(lst)
        # Zero-weight interests for the row's age band (e.g. wine at 15) never appear.
        assert all(W[idx[x], _band(age)] > 0 for x in lst)


def _freq(out, interest):
    return np.array([interest in lst for lst in out.to_pylist()]).mean()


def test_age_weighting_visible():
    n = 20_000
    cats = np.full(n, CATEGORIES.index("other"), dtype=np.int8)
    teen = sample_interests(np.random.default_rng(0), np.full(n, 15), cats)
    senior = sample_interests(np.random.default_rng(1), np.full(n, 70), cats)
    assert _freq(senior, "Gardening") > 5 * _freq(teen, "Gardening")
    assert _freq(teen, "K-pop") > 5 * _freq(senior, "K-pop")
    assert _freq(teen, "Wine") == 0


def test_category_boost_visible():
    n = 20_000
    ages = np.full(n, 30)
    tech = sample_interests(np.random.default_rng(2), ages, np.full(n, CATEGORIES.index("tech")))
    other = sample_interests(np.random.default_rng(3), ages, np.full(n, CATEGORIES.index("other")))
    assert "tech" in BOOSTS[NAMES.index("Coding")] and BOOST > 1
    assert _freq(tech, "Coding") > 1.8 * _freq(other, "Coding")


def test_matches_exact_weighted_sampling_without_replacement():
    # Reference: exponential-keys (Efraimidis-Spirakis) top-k, an exact sampler. Inclusion
    # frequencies of every interest must agree within sampling noise.
    n, k = 40_000, 5
    ages, cats = np.full(n, 25), np.full(n, CATEGORIES.index("health"))
    out = sample_interests(np.random.default_rng(4), ages, cats, k, k)
    got = np.bincount([NAMES.index(x) for x in out.flatten().to_pylist()], minlength=len(NAMES))
    w = W[:, 1] * np.array([BOOST if "health" in b else 1.0 for b in BOOSTS])
    keys = np.random.default_rng(5).standard_exponential((n, len(NAMES))) / w
    ref = np.bincount(np.argsort(keys, 1)[:, :k].ravel(), minlength=len(NAMES))
    p, q = got / n, ref / n
    se = np.sqrt((p * (1 - p) + q * (1 - q)) / n) + 1e-9
    assert np.abs(p - q).max() < 0.02
    assert (np.abs(p - q) / se).max() < 5


def test_works_with_sampled_occupations_and_deterministic():
    ages = np.random.default_rng(6).integers(13, 101, 10_000)
    _, cats = sample_occupations(np.random.default_rng(7), ages)
    a = sample_interests(np.random.default_rng(8), ages, cats)
    b = sample_interests(np.random.default_rng(8), ages, cats)
    c = sample_interests(np.random.default_rng(9), ages, cats)
    assert a.equals(b) and not a.equals(c)
    lens = np.diff(a.offsets.to_numpy())
    assert lens.min() >= 2 and lens.max() <= 5 and set(lens) == {2, 3, 4, 5}


def test_empty_and_errors():
    rng = np.random.default_rng(0)
    assert len(sample_interests(rng, np.array([], int), np.array([], int))) == 0
    with pytest.raises(ValueError):
        sample_interests(rng, np.array([20]), np.array([0]), 3, 2)
    with pytest.raises(ValueError):
        sample_interests(rng, np.array([20]), np.array([len(CATEGORIES)]))
    with pytest.raises(ValueError):
        sample_interests(rng, np.array([20]), np.array([0]), 2, len(NAMES) + 1)
