"""Age-coherent occupations.

A profile's occupation has to make sense for its age: no 15-year-old surgeons, no 25-year-old
retirees. Every row first gets a life stage (school, university, retired, out of work, working)
with age-dependent probabilities, then working rows get a job whose [min_age, max_age] contains
the age. Both steps are folded into one precomputed per-age probability table over all outcomes
(life stages + jobs), so sampling is a single `searchsorted` over the whole batch.

Jobs live in data/occupations.csv (occupation,min_age,max_age,weight,category); weight is a rough
relative share of the labour force. Life stages are code, not data, because their probability is a
curve over age rather than an age window.
"""

import csv
from functools import lru_cache
from importlib.resources import files

import numpy as np
import pyarrow as pa

AGE_MIN, AGE_MAX = 13, 100

# Job categories (from the CSV) first, then the life-stage categories. Order is the public contract
# for the int8 codes returned by sample_occupations(), so only ever append.
CATEGORIES: tuple[str, ...] = (
    "tech",
    "health",
    "education",
    "creative",
    "media",
    "trades",
    "service",
    "business",
    "legal",
    "science",
    "engineering",
    "public",
    "sports",
    "agriculture",
    "transport",
    "student",
    "retired",
    "other",
)
_CAT = {c: i for i, c in enumerate(CATEGORIES)}

# A job is rarer right at its min_age (few 27-year-old physicians are practising yet), so its weight
# ramps linearly from 1/RAMP at min_age to full weight RAMP-1 years later.
RAMP_YEARS = 5

# Life stages. Probabilities are piecewise-linear in age (np.interp knots); 0 outside the knots.
# 13-17 are always "High school student": part-time jobs exist at 16-17 but the life stage is what
# a profile shows, and it keeps every minor's occupation trivially safe.
HS_KNOTS = ((13, 1.0), (17, 1.0), (18, 0.30))  # 18: some finish school late
UNI_KNOTS = ((18, 0.40), (19, 0.45), (22, 0.45), (23, 0.30), (25, 0.15), (26, 0.10), (30, 0.03))
# Nobody retires before 50; a trickle of early retirees in their 50s, most retire at 60-67.
RETIRED_KNOTS = (
    (50, 0.005),
    (55, 0.03),
    (59, 0.07),
    (60, 0.15),
    (64, 0.35),
    (65, 0.55),
    (67, 0.70),
    (70, 0.85),
    (75, 0.92),
    (80, 0.97),
    (100, 0.99),
)
# Shares of the remaining (not studying, not retired) adults: name -> (min_age, max_age, share).
OTHER_STAGES = {
    "Unemployed": (18, 64, 0.05),
    "Homemaker": (20, 100, 0.05),
    "Freelancer": (20, 80, 0.03),
}


def _knots(ages: np.ndarray, knots) -> np.ndarray:
    xs, ys = zip(*knots, strict=True)
    p = np.interp(ages, xs, ys)
    return np.where((ages >= xs[0]) & (ages <= xs[-1]), p, 0.0)


@lru_cache(maxsize=1)
def load_jobs() -> tuple[tuple[str, int, int, float, str], ...]:
    """Rows of data/occupations.csv as (occupation, min_age, max_age, weight, category)."""
    path = files("pipeline") / "data" / "occupations.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = [
            (
                r["occupation"],
                int(r["min_age"]),
                int(r["max_age"]),
                float(r["weight"]),
                r["category"],
            )
            for r in csv.DictReader(f)
        ]
    names = [r[0] for r in rows]
    reserved = {"High school student", "University student", "Retired", *OTHER_STAGES}
    # Fail loudly at load time on a bad edit of the CSV rather than sampling nonsense later.
    assert len(set(names)) == len(names), "duplicate occupation"
    assert not reserved & set(names), "life stages are handled in code, not the CSV"
    for name, lo, hi, w, cat in rows:
        assert 16 <= lo <= hi <= AGE_MAX and w > 0, name
        assert cat in _CAT and CATEGORIES.index(cat) < _CAT["student"], (name, cat)
    return tuple(rows)


@lru_cache(maxsize=1)
def _table() -> tuple[pa.StringArray, np.ndarray, np.ndarray, int]:
    """(outcome names, outcome category codes, flattened per-age cumulative table, n_outcomes)."""
    jobs = load_jobs()
    ages = np.arange(AGE_MIN, AGE_MAX + 1, dtype=np.float64)

    # Life-stage probabilities, each column a function of age.
    hs = _knots(ages, HS_KNOTS)
    uni = _knots(ages, UNI_KNOTS)
    ret = _knots(ages, RETIRED_KNOTS)
    rest = 1.0 - hs - uni - ret
    assert (rest >= 0).all()
    other = np.stack(
        [np.where((ages >= lo) & (ages <= hi), s, 0.0) for lo, hi, s in OTHER_STAGES.values()], 1
    )
    employed = rest * (1.0 - other.sum(1))

    # Job weights per age: hard zero outside [min_age, max_age], ramped in after min_age.
    lo = np.array([j[1] for j in jobs], dtype=np.float64)
    hi = np.array([j[2] for j in jobs], dtype=np.float64)
    w = np.array([j[3] for j in jobs], dtype=np.float64)
    a = ages[:, None]
    jw = w * np.clip((a - lo + 1) / RAMP_YEARS, 0.0, 1.0) * ((a >= lo) & (a <= hi))
    jsum = jw.sum(1)
    # Every age with a working share needs at least one open job (some CSV rows run to 100).
    assert (jsum[employed > 0] > 0).all(), "an age has employed share but no allowed job"
    jobp = jw * np.divide(employed, jsum, out=np.zeros_like(jsum), where=jsum > 0)[:, None]

    probs = np.concatenate(
        [hs[:, None], uni[:, None], ret[:, None], rest[:, None] * other, jobp], 1
    )
    names = ["High school student", "University student", "Retired", *OTHER_STAGES]
    cats = ["student", "student", "retired"] + ["other"] * len(OTHER_STAGES)
    names += [j[0] for j in jobs]
    cats += [j[4] for j in jobs]

    # Flattened cumulative table: row r (age AGE_MIN + r) holds r + cdf, so the whole table is one
    # sorted array and a row-r draw r + u (u in [0, 1)) lands inside row r. x / x == 1.0 exactly in
    # IEEE, so each row ends at exactly r + 1. Zero-probability outcomes have zero-width intervals
    # and can never be picked by searchsorted(side="right").
    cdf = np.cumsum(probs, 1)
    cdf /= cdf[:, -1:]
    flat = (cdf + np.arange(len(ages))[:, None]).ravel()
    code = np.array([_CAT[c] for c in cats], dtype=np.int8)
    return pa.array(names, pa.string()), code, flat, len(names)


def sample_occupations(
    rng: np.random.Generator, ages: np.ndarray
) -> tuple[pa.StringArray, np.ndarray]:
    """Occupation per age (ints in 13..100): (strings, int8 codes into CATEGORIES)."""
    ages = np.asarray(ages)
    if ages.dtype.kind not in "iu":
        raise TypeError(f"ages must be integers, got {ages.dtype}")
    if ages.size and (ages.min() < AGE_MIN or ages.max() > AGE_MAX):
        raise ValueError(f"ages must be in [{AGE_MIN}, {AGE_MAX}]")
    names, code, flat, k = _table()
    row = (ages - AGE_MIN).astype(np.float64)
    # r + u can round up to exactly r + 1 when u is within an ulp of 1; clamp just below so the draw
    # can't spill into the next age's row.
    x = np.minimum(row + rng.random(ages.shape), np.nextafter(row + 1.0, 0.0))
    idx = np.searchsorted(flat, x, side="right") - (ages - AGE_MIN).astype(np.int64) * k
    return names.take(pa.array(idx.ravel())), code[idx.ravel()]
