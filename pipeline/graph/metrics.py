"""Shape of a follow graph, in the terms the literature uses, on plain edge arrays.

Each figure is defined like its networkx counterpart (the tests check them against networkx to
1e-9) but computed with numpy on sorted 64-bit keys, so that a 30M-edge graph is measured in
seconds instead of hours. The edges are taken as a simple directed graph: duplicates count
once, self-loops count in degrees and mixing (like networkx) but never as reciprocal or in
clustering (networkx drops them there too).
"""

from __future__ import annotations

import numpy as np

from pipeline.core.arrays import unique

PAIR_CHUNK = 4_000_000  # neighbour pairs checked per step of the triangle count


def _csr(n, a, b):
    # Neighbours of each node in `a`, sorted by neighbour id.
    o = np.lexsort((b, a))
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(a, minlength=n), out=ptr[1:])
    return ptr, b[o]


def _closed_pairs(ptr, nbr, nodes, ukey, n):
    # For each node v in `nodes`, every pair (x, y) of its listed neighbours that is itself an
    # edge; yields (v, x, y) in chunks so that memory stays bounded on hubs.
    lens = ptr[nodes + 1] - ptr[nodes]
    # each list position pairs with every later position of the same list; chunked by pairs
    pos = np.repeat(ptr[nodes], lens) + (
        np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
    )
    own = np.repeat(nodes, lens)
    later = np.repeat(ptr[nodes] + lens, lens) - pos - 1
    cum = np.cumsum(later)
    if len(cum) == 0 or cum[-1] == 0:
        return
    bounds = np.searchsorted(cum, np.arange(PAIR_CHUNK, cum[-1], PAIR_CHUNK))
    for sl in np.split(np.arange(len(pos)), bounds):
        lt = later[sl]
        i = np.repeat(pos[sl], lt)
        j = i + 1 + np.arange(len(i)) - np.repeat(np.cumsum(lt) - lt, lt)
        x, y = nbr[i], nbr[j]
        q = np.minimum(x, y) * n + np.maximum(x, y)
        hit = ukey[np.minimum(np.searchsorted(ukey, q), len(ukey) - 1)] == q
        owner = np.repeat(own[sl], lt)
        yield owner[hit], x[hit], y[hit]


def average_clustering(n, follower, followee, sample=20_000, seed=0):
    """networkx.average_clustering(G.to_undirected()) over all n nodes (exact if n <= sample,
    else the mean over a deterministic uniform sample of `sample` nodes)."""
    u, v = np.minimum(follower, followee), np.maximum(follower, followee)
    ukey = unique(u[u != v].astype(np.int64) * n + v[u != v])
    if len(ukey) == 0:
        return 0.0
    u, v = ukey // n, ukey % n
    deg = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    if n <= sample:
        # Exact: orient each edge from lower to higher (degree, id) rank, so every triangle is
        # found once, at its lowest-ranked corner, and a hub only pairs its few higher ranks.
        rank = np.empty(n, np.int64)
        rank[np.lexsort((np.arange(n), deg))] = np.arange(n)
        lo = np.where(rank[u] < rank[v], u, v)
        hi = np.where(rank[u] < rank[v], v, u)
        ptr, nbr = _csr(n, lo, hi)
        tri = np.zeros(n, np.int64)
        for owner, x, y in _closed_pairs(ptr, nbr, np.arange(n), ukey, n):
            tri += np.bincount(owner, minlength=n)
            tri += np.bincount(x, minlength=n) + np.bincount(y, minlength=n)
        nodes = np.arange(n)
    else:
        nodes = np.sort(np.random.default_rng(seed).choice(n, sample, replace=False))
        # Only the sampled nodes' neighbour lists are walked: build the CSR from their edges
        # alone (a full one over 60M half-edges would be ~2 GB at 1M users).
        picked = np.zeros(n, bool)
        picked[nodes] = True
        a, b = u[picked[u]], v[picked[u]]
        c, d = v[picked[v]], u[picked[v]]
        ptr, nbr = _csr(n, np.concatenate([a, c]), np.concatenate([b, d]))
        tri = np.zeros(n, np.int64)
        for owner, _, _ in _closed_pairs(ptr, nbr, nodes, ukey, n):
            tri += np.bincount(owner, minlength=n)
    d = deg[nodes].astype(np.float64)
    c = np.where(d > 1, 2 * tri[nodes] / np.maximum(d * (d - 1), 1), 0.0)
    return float(c.mean())


def reciprocity(n, follower, followee):
    """networkx.reciprocity(G): share of edges whose reverse is also an edge."""
    return _reciprocity(unique(follower.astype(np.int64) * n + followee), n)


def _reciprocity(key, n):
    # key: the sorted distinct edge keys follower * n + followee. An edge is reciprocated when
    # its reverse key is a key too: sort the reverse keys and look them up in order (sorted
    # queries walk `key` once; 30M random binary searches took 20x longer), one array at a
    # time so that 30M edges stay near 1 GB.
    src, dst = np.divmod(key, n)
    loops = int((src == dst).sum())  # a self-loop is its own reverse: not reciprocity
    rev = dst * n + src
    del src, dst
    rev.sort()
    pos = np.searchsorted(key, rev)
    np.minimum(pos, len(key) - 1, out=pos)
    mutual = int((key[pos] == rev).sum()) - loops
    return float(mutual / max(len(key), 1))


def power_law_tail(x, min_tail=50, max_share=0.2, n_candidates=200):
    """Discrete power-law exponent of the top tail (Clauset, Shalizi & Newman 2009): the
    approximate MLE alpha = 1 + n / sum(ln(x / (x_min - 1/2))), with x_min the candidate that
    minimises the KS distance. Candidates are limited to the top `max_share` of the values:
    the exponent of a heavy-tailed but not power-law body is not meaningful."""
    x = np.sort(np.asarray(x, np.float64)[np.asarray(x) >= 1])[::-1]
    if len(x) < min_tail:
        return {"alpha": float("nan"), "x_min": float("nan"), "n_tail": 0}
    vals = np.unique(x[: max(min_tail, int(max_share * len(x)))])
    vals = vals[np.searchsorted(-x, -vals, side="right") >= min_tail]  # tails >= min_tail
    if len(vals) > n_candidates:
        vals = vals[np.linspace(0, len(vals) - 1, n_candidates).astype(np.int64)]
    best = (np.inf, np.nan, np.nan, 0)
    for xm in vals:
        tail = x[x >= xm]
        alpha = 1 + len(tail) / np.log(tail / (xm - 0.5)).sum()
        u, cnt = np.unique(tail, return_counts=True)
        emp = 1 - (np.cumsum(cnt) - cnt) / len(tail)  # P(X >= u)
        fit = ((u - 0.5) / (xm - 0.5)) ** (1 - alpha)
        ks = np.abs(emp - fit).max()
        if ks < best[0]:
            best = (ks, alpha, xm, len(tail))
    return {"alpha": float(best[1]), "x_min": float(best[2]), "n_tail": int(best[3])}


def _summary(deg, prefix):
    out = {
        f"{prefix}_max": int(deg.max()),
        f"{prefix}_median": float(np.median(deg)),
        f"{prefix}_p99": float(np.percentile(deg, 99)),
    }
    out[f"{prefix}_max_over_median"] = out[f"{prefix}_max"] / max(out[f"{prefix}_median"], 1)
    tail = power_law_tail(deg)
    out[f"{prefix}_tail_alpha"] = tail["alpha"]
    out[f"{prefix}_tail_x_min"] = tail["x_min"]
    out[f"{prefix}_tail_n"] = tail["n_tail"]
    return out


def _pearson(x, y):
    x = x.astype(np.float64) - x.mean()
    y = y.astype(np.float64) - y.mean()
    den = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / den) if den > 0 else float("nan")


def attribute_assortativity(attr_src, attr_dst):
    """networkx.attribute_assortativity_coefficient on a directed graph: (tr M - sum a_i b_i)
    / (1 - sum a_i b_i) for the edge mixing matrix M of categorical attributes."""
    vals, code = np.unique(np.concatenate([attr_src, attr_dst]), return_inverse=True)
    cs, cd = code[: len(attr_src)], code[len(attr_src) :]
    e = len(cs)
    same = (cs == cd).sum() / e
    s = (np.bincount(cs, minlength=len(vals)) / e * np.bincount(cd, minlength=len(vals)) / e).sum()
    return float((same - s) / (1 - s)) if s < 1 else float("nan")


def random_share(values):
    """Chance that two users drawn at random share a value: sum of squared shares."""
    _, cnt = np.unique(values, return_counts=True)
    return float(((cnt / cnt.sum()) ** 2).sum())


def spearman(a, b):
    """Spearman rank correlation with average ranks for ties (= scipy.stats.spearmanr)."""

    def ranks(x):
        o = np.argsort(x, kind="stable")
        xs = np.asarray(x)[o]
        first = np.r_[True, xs[1:] != xs[:-1]]
        grp = np.cumsum(first) - 1
        starts = np.flatnonzero(first)
        ends = np.r_[starts[1:], len(xs)]
        r = np.empty(len(xs))
        r[o] = ((starts + ends - 1) / 2.0)[grp]
        return r

    return _pearson(ranks(a), ranks(b))


def interest_overlap(follower, followee, indptr, ids, n_random=1_000_000, seed=0):
    """Share of edges whose two users share an interest, and the same for random pairs."""
    n = len(indptr) - 1
    words = int(ids.max()) // 64 + 1 if len(ids) else 1
    bits = np.zeros((n, words), np.uint64)
    owner = np.repeat(np.arange(n), np.diff(indptr))
    np.bitwise_or.at(bits, (owner, ids // 64), np.uint64(1) << (ids % 64).astype(np.uint64))

    def share(a, b):
        hit = 0
        for s in range(0, len(a), 1_000_000):
            sa, sb = a[s : s + 1_000_000], b[s : s + 1_000_000]
            hit += int(((bits[sa] & bits[sb]) != 0).any(axis=1).sum())
        return hit / max(len(a), 1)

    rng = np.random.default_rng(seed)
    ra, rb = rng.integers(0, n, n_random), rng.integers(0, n, n_random)
    ok = ra != rb
    return share(follower, followee), share(ra[ok], rb[ok])


def graph_metrics(
    n_users, follower, followee, country=None, age=None, city=None, sample=20_000, seed=0
) -> dict:
    n = int(n_users)
    key = unique(np.asarray(follower, np.int64) * n + np.asarray(followee, np.int64))
    m = {"users": n, "edges": int(len(key)), "mean_out_degree": len(key) / n,
         "reciprocity": _reciprocity(key, n)}  # fmt: skip
    # One big array at a time (30M edges at 1M users): node ids fit int32 below 2^31 users.
    ids = np.int32 if n < 2**31 else np.int64
    src, dst = (key // n).astype(ids), (key % n).astype(ids)
    del key
    m["avg_clustering"] = average_clustering(n, src, dst, sample=sample, seed=seed)
    m["clustering_sampled"] = n > sample
    out_deg = np.bincount(src, minlength=n)
    in_deg = np.bincount(dst, minlength=n)
    m |= _summary(in_deg, "in_degree")
    m |= _summary(out_deg, "out_degree")
    # networkx.degree_pearson_correlation_coefficient(G) default: out-degree of the source
    # against in-degree of the target
    m["degree_assortativity"] = _pearson(out_deg[src], in_deg[dst])
    if country is not None:
        country = np.asarray(country)
        m["country_assortativity"] = attribute_assortativity(country[src], country[dst])
        m["same_country_share"] = float((country[src] == country[dst]).mean())
        m["random_country_share"] = random_share(country)
        m["same_country_ratio"] = m["same_country_share"] / m["random_country_share"]
    if city is not None:
        city = np.asarray(city)
        m["same_city_share"] = float((city[src] == city[dst]).mean())
        m["random_city_share"] = random_share(city)
        m["same_city_ratio"] = m["same_city_share"] / m["random_city_share"]
    if age is not None:
        age = np.asarray(age, np.float64)
        m["age_assortativity"] = _pearson(age[src], age[dst])  # numeric_assortativity
        m["edge_age_gap"] = float(np.abs(age[src] - age[dst]).mean())
        # E|X - Y| over independent pairs (Gini mean difference of the ages)
        a = np.sort(age)
        k = np.arange(1, n + 1)
        m["random_age_gap"] = float(2 * ((2 * k - n - 1) * a).sum() / (n * (n - 1)))
    return m
