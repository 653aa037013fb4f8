"""Interests: k distinct tags per profile, weighted by age band and occupation category.

data/interests.csv gives each interest a relative popularity per age band (13-17, 18-34, 35-54,
55+) and optionally `category_boost`: occupation categories ("|"-separated) in which it is BOOST
times more likely (coders like AI, nurses like fitness).

Weighted sampling without replacement is done for the whole batch at once: per-(band, category)
alias tables give O(1) weighted draws, each row draws a handful of candidates with replacement and
keeps its first k distinct ones (see sample_interests). No per-row Python.
"""

import csv
from functools import lru_cache
from importlib.resources import files

import numpy as np
import pyarrow as pa

from pipeline.identity.occupations import CATEGORIES

BAND_EDGES = np.array([18, 35, 55])  # band = number of edges <= age -> 0 teen .. 3 senior
BANDS = ("w_teen", "w_young", "w_mid", "w_senior")
BOOST = 3.0


@lru_cache(maxsize=1)
def load_interests() -> tuple[tuple[str, ...], np.ndarray, tuple[tuple[str, ...], ...]]:
    """(interest names, (n_interests, 4) band weights, per-interest boosted categories)."""
    path = files("pipeline") / "data" / "interests.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    names = tuple(r["interest"] for r in rows)
    w = np.array([[float(r[b]) for b in BANDS] for r in rows], dtype=np.float64)
    boost = tuple(tuple(c for c in (r.get("category_boost") or "").split("|") if c) for r in rows)
    # Fail loudly at load time on a bad edit of the CSV rather than sampling nonsense later.
    assert len(set(names)) == len(names), "duplicate interest"
    assert (w >= 0).all(), "negative weight"
    unknown = {c for b in boost for c in b} - set(CATEGORIES)
    assert not unknown, f"unknown category_boost {unknown}"
    return names, w, boost


def _alias(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose alias table for weights w: pick j uniform, keep it if u < prob[j] else take alias[j]."""
    m = len(w)
    q = w * (m / w.sum())
    prob, alias = np.ones(m), np.arange(m)
    small = [i for i in range(m) if q[i] < 1.0]
    large = [i for i in range(m) if q[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s], alias[s] = q[s], g
        q[g] -= 1.0 - q[s]
        (small if q[g] < 1.0 else large).append(g)
    # Leftovers (float round-off) keep prob 1. A zero-weight entry always pairs with a positive one,
    # so it can never be returned; assert it since correctness rests on it.
    assert (prob[w == 0] == 0).all() and (w[alias] > 0).all()
    return prob, alias


@lru_cache(maxsize=1)
def _tables() -> tuple[pa.StringArray, np.ndarray, np.ndarray, np.ndarray]:
    """(names as arrow, flat alias prob, flat alias index, positive-weight count) per group.

    A group is (age band, occupation category): row band * n_categories + category.
    """
    names, w, boost = load_interests()
    mult = np.ones((len(CATEGORIES), len(names)))
    for i, cats in enumerate(boost):
        for c in cats:
            mult[CATEGORIES.index(c), i] = BOOST
    full = (w.T[:, None, :] * mult[None, :, :]).reshape(len(BANDS) * len(CATEGORIES), len(names))
    prob = np.empty(full.shape, np.float32)
    alias = np.empty(full.shape, np.int16)
    for g, row in enumerate(full):
        prob[g], alias[g] = _alias(row)
    return pa.array(names, pa.string()), prob.ravel(), alias.ravel(), (full > 0).sum(1)


# Candidates drawn per unfinished row per round. Small rounds waste few draws on rows that are
# already done, and each extra round only touches the shrinking set of unfinished rows; measured
# 3-6 all within ~10% (about 3M rows/s for k in 2..5), 12+ is clearly slower.
DRAWS = 4


def sample_interests(
    rng: np.random.Generator,
    ages: np.ndarray,
    categories: np.ndarray,
    k_min: int = 2,
    k_max: int = 5,
) -> pa.ListArray:
    """list<string> of k in [k_min, k_max] distinct interests per row, most salient first."""
    ages = np.asarray(ages).ravel()
    categories = np.asarray(categories).ravel()
    names, prob, alias, n_pos = _tables()
    n, m = len(ages), len(names)
    if not 0 <= k_min <= k_max:
        raise ValueError(f"need 0 <= k_min <= k_max, got {k_min}, {k_max}")
    if len(categories) != n:
        raise ValueError("ages and categories must have the same length")
    if n and (categories.min() < 0 or categories.max() >= len(CATEGORIES)):
        raise ValueError("categories must be codes into CATEGORIES")
    group = np.searchsorted(BAND_EDGES, ages, side="right") * len(CATEGORIES) + categories
    if n and k_max > n_pos[np.unique(group)].min():
        # Otherwise the draw loop below could never finish.
        raise ValueError(f"k_max={k_max} exceeds the interests with positive weight for some rows")

    # Weighted sampling without replacement = draw i.i.d. with replacement and keep each row's
    # first k distinct values: conditioned on being new, the next draw is proportional to the
    # remaining weights, i.e. exactly successive (Plackett-Luce) sampling. Draws are O(1) via the
    # alias tables, so cost is O(n * DRAWS) instead of O(n * n_interests) for key-based top-k.
    k = rng.integers(k_min, k_max + 1, size=n)
    out = np.empty((n, k_max), np.int16)  # chosen interest ids, in draw order
    got = np.zeros(n, np.int64)
    seen = np.zeros(n * m, bool)  # (row, interest) already drawn; n * m bytes, ~9 MB per 100k
    rows = np.flatnonzero(k > 0)
    while rows.size:
        # Rows unfinished after a round simply keep drawing; restarting them instead would bias
        # toward light interests (rows that drew heavy ones see more repeats and fail more often).
        j = rng.integers(0, m, (rows.size, DRAWS))
        u = rng.random((rows.size, DRAWS), dtype=np.float32)
        cell = (group[rows] * m)[:, None] + j
        cand = np.where(u < prob[cell], j, alias[cell])
        cell = (rows * m)[:, None] + cand
        first = np.empty(cand.shape, bool)
        for d in range(DRAWS):  # column by column so repeats within a round are caught too
            first[:, d] = ~seen[cell[:, d]]
            seen[cell[:, d]] = True
        have = got[rows]
        pos = have[:, None] + np.cumsum(first, 1)  # 1-based slot a new value would take
        keep = first & (pos <= k[rows][:, None])
        r, _ = np.nonzero(keep)
        out[rows[r], pos[keep] - 1] = cand[keep]
        got[rows] = np.minimum(pos[:, -1], k[rows])
        rows = rows[got[rows] < k[rows]]

    sel = np.arange(k_max) < k[:, None]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(k, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), names.take(pa.array(out[sel])))
