"""Who follows whom, when, and why: a synthetic follow graph over a closed world of N users.

The design borrows LDBC SNB Datagen's idea (people are compared only with their next
neighbours in a few similarity orders, with a probability that decays with the distance in
that order) and adds what a follow graph needs on top of a friendship graph:

1. Target degrees. Declared counts are platform-wide (a 10M-follower celebrity cannot exist
   among N users), so each user's *rank* in followers_count / following_count is mapped to a
   log-normal quantile rescaled to a mean of mean_follows and capped below N. Ranks keep the
   Spearman tie to the declared columns; the log-normal keeps the heavy in-degree tail.
2. Windowed stub matching (place, interest). Every user is laid out along two similarity
   orders, (country, city, age) and (country, age decade, main interest, age), as a segment
   whose length is its local in-degree target. A follow drawn by user i lands at i's position
   plus a two-sided exponential offset (LDBC's 0.95^distance is the same decay); the segment
   under that point is the followee. So homophily comes from the order, and in-degree comes
   out proportional to the segment length without any per-user loop or rejection. Both
   orders start with the country: interest ties across countries are what the 10% random
   share is for, and without it a small world's interest groups (10k users / 200 interests)
   are too thin to hold a window, so the homophily would vanish.
3. Popularity edges carry the part of a celebrity's in-degree above a local cap: a 10-user
   neighbourhood cannot supply hundreds of distinct followers, the whole graph can. Random
   edges are LDBC's 10% noise.
4. Friend-of-friend closure (i follows j, j follows k -> i follows k): the "who to follow"
   edges, with preferential attachment since k is drawn through an edge. Clustering itself
   comes mostly from the windows (each order alone gives ~0.29; two independent orders
   mixed give 0.13-0.19 from 100k to 10k users, inside Conover et al.'s 0.134-0.221 for
   Twitter communities); closure adds a little and makes the reason honest.
5. Follow-backs are added last, in exactly the number that brings the edge reciprocity to the
   target, and surplus one-way edges are trimmed so that the edge count is exactly
   N * mean_follows. The base stages overshoot on purpose: the windows already create some
   mutual pairs and duplicate draws, and neither is known before drawing.

Everything is vectorised over edges; the only Python loop is over blocks of 10,000 users
(LDBC's block size), which bounds temporaries. Each block has its own random stream keyed
by (seed, stage, block), so output does not depend on threads or machine count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REASONS = ("place", "interest", "popularity", "follow_back", "friend_of_friend", "random")
PLACE, INTEREST, POPULARITY, FOLLOW_BACK, CLOSURE, RANDOM = range(len(REASONS))

MIN_USERS = 10
MAX_DENSITY = 0.25  # mean_follows <= MAX_DENSITY * (n - 1): denser is not a social network,
# and windows of a few dozen users could not supply that many distinct followees anyway.
BLOCK = 10_000  # users per generation block (LDBC's block size); sets memory, not structure
OVERSHOOT = 1.6  # base + closure draws over the need, trimmed at the end (see step 5): about
# 20% of draws are duplicates or self-follows, and the windows' own mutual pairs (~16% of
# edges) replace follow-backs that would otherwise have counted towards the edge total
WIDEN = 1.0  # a user with k window follows gets a window of >= WIDEN * k users: wider keeps
# its draws distinct (duplicate share ~ 1 / (8 * WIDEN)) but thins the triangles (2.0 gave
# clustering 0.11 at 100k users, 1.0 gives 0.13)
FOLLOW_BACK_DELAY = 3 * 86400.0  # mean seconds between a follow and its follow-back


@dataclass(frozen=True)
class GraphParams:
    mean_follows: float = 30.0  # mean out-degree in the dataset
    reciprocity: float = 0.36  # edge reciprocity (networkx.reciprocity); Kwak 2010: 22% of
    # connected pairs mutual = 0.36 of edges
    # Shares of the base (non-closure, non-follow-back) edges. LDBC: 45% place/study, 45%
    # interests, 10% random; our 10% is split between popularity (needed for the in-degree
    # tail, see step 3) and pure noise.
    place_share: float = 0.45
    interest_share: float = 0.45
    popularity_share: float = 0.06
    random_share: float = 0.04
    closure_share: float = 0.10  # share of one-way edges made by friend-of-friend closure
    window: float = 10.0  # mean distance (users) of a window follow, for users with few
    # follows. LDBC's 0.95^d is a mean of 20 for friendships; follows are denser (30 each),
    # and a tighter window is what keeps clustering in Conover's range as N grows
    in_sigma: float = 1.3  # log-normal shape of in-degree targets (max/median ~100 at 10k)
    out_sigma: float = 0.9  # out-degree is far less skewed than in-degree on Twitter


@dataclass
class People:
    country: np.ndarray  # int32 codes
    city: np.ndarray  # int32 codes, globally distinct per (country, city)
    age: np.ndarray  # int16 years
    interest_indptr: np.ndarray  # int64, len N+1: CSR of each user's interests
    interest_ids: np.ndarray  # int32 interest codes
    created_at: np.ndarray  # int64 epoch seconds of account creation
    followers_count: np.ndarray  # int64, declared platform-wide
    following_count: np.ndarray  # int64, declared platform-wide
    follow: np.ndarray | None = None  # int8 follow habit per user (graph/bots.py), if any
    campaign: np.ndarray | None = None  # int64 campaign per user (0: none)


@dataclass
class Edges:
    follower: np.ndarray  # int64 user index
    followee: np.ndarray  # int64 user index
    created_at: np.ndarray  # int64 epoch seconds
    reason: np.ndarray  # int8 index into REASONS
    # sorted by (follower, followee)


def check_params(n_users: int, params: GraphParams) -> None:
    p = params
    if n_users < MIN_USERS:
        raise ValueError(f"a follow graph needs at least {MIN_USERS} users, got {n_users}")
    limit = MAX_DENSITY * (n_users - 1)
    if not 0 < p.mean_follows <= limit:
        raise ValueError(
            f"mean_follows={p.mean_follows:g} must be > 0 and <= {limit:g} "
            f"({MAX_DENSITY:g} x (n_users - 1) for {n_users} users)"
        )
    if not 0 <= p.reciprocity <= 1:
        raise ValueError(f"reciprocity={p.reciprocity:g} must be between 0 and 1")
    shares = dict(
        place_share=p.place_share,
        interest_share=p.interest_share,
        popularity_share=p.popularity_share,
        random_share=p.random_share,
    )
    for name, v in shares.items():
        if not v >= 0:
            raise ValueError(f"{name}={v:g} must be >= 0")
    if not sum(shares.values()) > 0:
        raise ValueError("place/interest/popularity/random shares must not all be 0")
    if not 0 <= p.closure_share <= 0.5:
        raise ValueError(f"closure_share={p.closure_share:g} must be between 0 and 0.5")
    if not p.window >= 1:
        raise ValueError(f"window={p.window:g} must be >= 1 (users)")
    for name in ("in_sigma", "out_sigma"):
        v = getattr(p, name)
        if not 0 <= v <= 4:
            raise ValueError(f"{name}={v:g} must be between 0 and 4")


def _degree_targets(declared, mean, sigma, cap, rng):
    # Rank -> log-normal quantile: only the order of the declared counts is trusted, ties are
    # broken at random rather than by row index.
    n = len(declared)
    order = np.lexsort((rng.random(n), declared))
    t = np.empty(n)
    t[order] = np.exp(sigma * np.sort(rng.standard_normal(n)))
    c = mean / t.mean()
    for _ in range(200):  # rescale so that the mean *after* capping is `mean`
        m = np.minimum(t * c, cap).mean()
        if abs(m - mean) <= 1e-9 * mean:
            break
        c *= mean / m
    return np.minimum(t * c, cap)


def _local_cap(t, share):
    # The cap above which in-degree comes from popularity edges: the mass above it is `share`.
    if share <= 0:
        return t.max()
    lo, hi = 0.0, t.max()
    target = share * t.sum()
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.maximum(t - mid, 0).sum() > target:
            lo = mid
        else:
            hi = mid
    return hi


def _round(x, rng):
    # Stochastic rounding keeps the expected count exact for users with fractional quotas.
    base = np.floor(x)
    return (base + (rng.random(len(x)) < x - base)).astype(np.int64)


def _layout(order, weight):
    # Segment [end - w, end) of the similarity line for each item; mid indexed by item.
    end = np.cumsum(weight[order])
    mid = np.empty(len(order))
    mid[order] = end - weight[order] / 2
    return end, mid


def _land(rng, center, width, end):
    # Two-sided exponential offset from the follower's own segment, reflected at the ends.
    total = end[-1]
    p = center + rng.exponential(1.0, len(center)) * width * rng.choice((-1.0, 1.0), len(center))
    p = np.abs(p)
    p = np.where(p >= total, 2 * total - p, p)
    p = np.clip(p, 0, np.nextafter(total, 0))
    return np.searchsorted(end, p, side="right")


def _uniform_time(rng, lo, hi):
    # Integer seconds uniform in [lo, hi] (lo <= hi).
    return lo + (rng.random(len(lo)) * (hi - lo + 1)).astype(np.int64)


def _take(rng, keys_size, k):
    # k distinct positions out of keys_size, uniformly (smallest k of uniform keys).
    if k <= 0:
        return np.zeros(0, np.int64)
    if k >= keys_size:
        return np.arange(keys_size)
    return np.argpartition(rng.random(keys_size), k - 1)[:k]


def build_follows(people: People, params: GraphParams, seed: int, reference: int) -> Edges:
    p = params
    n = len(people.country)
    check_params(n, p)
    rng = np.random.default_rng([seed, 0])
    # Times are kept as int32 seconds since the oldest account while building (30M edges:
    # 120 MB instead of 240 MB each time the array is copied); int64 if the span is > 68 years.
    ca = np.asarray(people.created_at, np.int64)
    t0 = int(min(ca.min(), int(reference) - 2))
    hi = int(reference) - 2 - t0  # one-way edges end by reference-2: a follow-back fits after
    tdt = np.int32 if hi < 2**31 - 1 else np.int64
    ca = ca - t0

    # 1. target degrees
    cap = min(n - 1, max(0.1 * (n - 1), 4 * p.mean_follows))
    t_out = _degree_targets(people.following_count, p.mean_follows, p.out_sigma, cap, rng)
    t_in = _degree_targets(people.followers_count, p.mean_follows, p.in_sigma, cap, rng)
    n_target = int(round(n * p.mean_follows))

    total = p.place_share + p.interest_share + p.popularity_share + p.random_share
    s_place, s_int = p.place_share / total, p.interest_share / total
    s_pop, s_rand = p.popularity_share / total, p.random_share / total
    one_way = (1 - p.reciprocity / 2) * OVERSHOOT  # per unit of t_out, before follow-backs
    rate_base = one_way * (1 - p.closure_share)

    # in-side: local segment lengths and the popularity excess above the local cap
    c_loc = _local_cap(t_in, s_pop / max(s_place + s_int + s_pop, 1e-12))
    seg = np.minimum(t_in, c_loc)
    excess = t_in - seg
    if excess.sum() <= 0:
        excess = t_in.copy()
    pop_end = np.cumsum(excess)

    # place line: (country, city, age), random tie-break
    order_p = np.lexsort((rng.random(n), people.age, people.city, people.country))
    end_p, mid_p = _layout(order_p, seg)
    unit_p = end_p[-1] / n  # segment length of an average user (both lines)

    # interest line: users ordered by (country, age decade, main interest, age), the main
    # interest drawn among the user's own. One entry per user (not one per interest) keeps a
    # user's interest follows in one neighbourhood: spread over 2-5 groups they would close
    # few triangles.
    indptr = np.asarray(people.interest_indptr, np.int64)
    nint = np.diff(indptr)
    ids = np.asarray(people.interest_ids, np.int64)
    pick = indptr[:-1] + (rng.random(n) * nint).astype(np.int64)
    main = np.where(nint > 0, ids[np.minimum(pick, max(len(ids) - 1, 0))] if len(ids) else -1, -1)
    order_i = np.lexsort((rng.random(n), people.age, main, people.age // 10, people.country))
    end_i, mid_i = _layout(order_i, seg)

    k_place = _round(t_out * rate_base * s_place, rng)
    k_int = _round(t_out * rate_base * s_int, rng) * (nint > 0)
    k_pop = _round(t_out * rate_base * s_pop, rng)
    k_rand = _round(t_out * rate_base * s_rand, rng)

    # 2-3. base edges, block by block, deduplicated and sorted within the block
    keys, times, reasons = [], [], []
    for b, s in enumerate(range(0, n, BLOCK)):
        e = min(s + BLOCK, n)
        brng = np.random.default_rng([seed, 1, b])
        users = np.arange(s, e)
        parts = []
        src = np.repeat(users, k_place[s:e])
        if len(src):
            width = unit_p * np.maximum(p.window, WIDEN * k_place[src])
            parts.append((src, order_p[_land(brng, mid_p[src], width, end_p)], PLACE))
        src = np.repeat(users, k_int[s:e])
        if len(src):
            width = unit_p * np.maximum(p.window, WIDEN * k_int[src])
            parts.append((src, order_i[_land(brng, mid_i[src], width, end_i)], INTEREST))
        src = np.repeat(users, k_pop[s:e])
        u = brng.random(len(src)) * pop_end[-1]
        parts.append((src, np.searchsorted(pop_end, u, side="right"), POPULARITY))
        src = np.repeat(users, k_rand[s:e])
        parts.append((src, brng.integers(0, n, len(src)), RANDOM))

        src = np.concatenate([x[0] for x in parts]).astype(np.int64)
        dst = np.concatenate([x[1] for x in parts]).astype(np.int64)
        rsn = np.concatenate([np.full(len(x[0]), x[2], np.int8) for x in parts])
        lo = np.maximum(ca[src], ca[dst]) + 1
        ok = (src != dst) & (lo <= hi)
        key = src[ok] * n + dst[ok]
        t = _uniform_time(brng, lo[ok], np.full(ok.sum(), hi)).astype(tdt)
        rsn = rsn[ok]
        o = np.argsort(key, kind="stable")  # stable: the first stage that drew a pair wins
        key = key[o]
        first = np.ones(len(key), bool)
        first[1:] = key[1:] != key[:-1]
        keys.append(key[first])
        times.append(t[o][first])
        reasons.append(rsn[o][first])
    key = np.concatenate(keys)
    t = np.concatenate(times)
    reason = np.concatenate(reasons)
    del keys, times, reasons

    # 4. friend-of-friend closure: i -> j -> k gives i -> k, after both and after the accounts
    crng = np.random.default_rng([seed, 2])
    src = (key // n).astype(np.int32)
    dst = (key - src.astype(np.int64) * n).astype(np.int32)
    out_deg = np.bincount(src, minlength=n)
    optr = np.zeros(n + 1, np.int64)
    np.cumsum(out_deg, out=optr[1:])
    a = np.repeat(np.arange(n), _round(t_out * one_way * p.closure_share, crng))
    a = a[out_deg[a] > 0]
    e1 = optr[a] + (crng.random(len(a)) * out_deg[a]).astype(np.int64)
    mid = dst[e1]
    ok = out_deg[mid] > 0
    a, e1, mid = a[ok], e1[ok], mid[ok]
    e2 = optr[mid] + (crng.random(len(a)) * out_deg[mid]).astype(np.int64)
    c = dst[e2].astype(np.int64)
    lo = np.maximum(np.maximum(t[e1], t[e2]).astype(np.int64), np.maximum(ca[a], ca[c])) + 1
    ok = (c != a) & (lo <= hi)
    ck = a[ok] * n + c[ok]
    ct = _uniform_time(crng, lo[ok], np.full(ok.sum(), hi)).astype(tdt)
    ck, first = np.unique(ck, return_index=True)
    ct = ct[first]
    at = np.minimum(np.searchsorted(key, ck), len(key) - 1)
    new = key[at] != ck
    ck, ct, at = ck[new], ct[new], np.searchsorted(key, ck[new])
    key = np.insert(key, at, ck)
    t = np.insert(t, at, ct)
    reason = np.insert(reason, at, np.int8(CLOSURE))
    del src, dst, a, e1, e2, mid, c, lo, ok, ck, ct, at, new

    # 5. follow-backs to the target reciprocity; trim one-way surplus to the target edge count
    frng = np.random.default_rng([seed, 3])
    src = (key // n).astype(np.int32)
    dst = (key - src.astype(np.int64) * n).astype(np.int32)
    mutual = np.empty(len(key), bool)
    for s in range(0, len(key), 1 << 22):  # chunks: the reverse keys are 8 bytes an edge
        rev = dst[s : s + (1 << 22)].astype(np.int64) * n + src[s : s + (1 << 22)]
        pos = np.minimum(np.searchsorted(key, rev), len(key) - 1)
        mutual[s : s + (1 << 22)] = key[pos] == rev
    del rev, pos
    n_edges, n_mutual = len(key), int(mutual.sum())
    r = p.reciprocity
    f = int(round((r * n_target - n_mutual) / 2))  # follow-backs (<0: mutual pairs to break)
    if n_edges + f < n_target:  # short of edges: keep the reciprocity exact, not the count
        f = int(round((r * n_edges - n_mutual) / (2 - r)))
    drop = [np.zeros(0, np.int64)]
    one_way_idx = np.flatnonzero(~mutual).astype(np.int32 if len(key) < 2**31 else np.int64)
    if f < 0:  # the windows made more mutual pairs than asked: break some of them
        pairs = np.flatnonzero(mutual & (src < dst))
        pick = pairs[_take(frng, len(pairs), -f)]
        flip = frng.random(len(pick)) < 0.5
        rk = dst[pick].astype(np.int64) * n + src[pick]
        pick[flip] = np.searchsorted(key, rk[flip])
        drop.append(pick)
        answered = np.zeros(0, np.int64)
        n_after = n_edges + f
    else:
        # Follow-back propensity ~ following/followers: people who follow a lot follow back,
        # celebrities don't; dividing by the one-way in-degree makes a user's expected number
        # of follow-backs proportional to its out-degree target.
        b = dst[one_way_idx]
        w = t_out[b] / np.maximum(np.bincount(b, minlength=n)[b], 1)
        f = min(f, len(one_way_idx))
        with np.errstate(divide="ignore"):
            score = (frng.exponential(1.0, len(b)) / w).astype(np.float32)  # weighted, w/o
        del b, w  # replacement: the f smallest of Exp(1)/w
        if 0 < f < len(score):
            cut = np.partition(score, f - 1)[f - 1]
            sel = np.flatnonzero(score <= cut)[:f]  # float32 ties: lowest index wins
        else:
            sel = np.arange(f)
        del score
        answered = one_way_idx[np.sort(sel)]
        keep = np.ones(len(one_way_idx), bool)
        keep[sel] = False
        one_way_idx = one_way_idx[keep]
        n_after = n_edges + f
    surplus = n_after - n_target
    if surplus > 0:
        drop.append(one_way_idx[_take(frng, len(one_way_idx), surplus)])

    fb_src = dst[answered].astype(np.int64)
    fb_key = fb_src * n + src[answered]
    room = hi + 1 - t[answered]  # follow-back in [t + 1, reference - 1]
    delay = np.minimum(
        frng.exponential(FOLLOW_BACK_DELAY, len(answered)).astype(np.int64), room - 1
    )
    fb_t = (t[answered] + 1 + delay).astype(tdt)
    del src, dst, mutual, one_way_idx

    keep = np.ones(n_edges, bool)
    keep[np.concatenate(drop)] = False
    key, t, reason = key[keep], t[keep], reason[keep]
    o = np.argsort(fb_key)
    fb_key, fb_t = fb_key[o], fb_t[o]
    at = np.searchsorted(key, fb_key)
    key = np.insert(key, at, fb_key)
    t = np.insert(t, at, fb_t)
    reason = np.insert(reason, at, np.int8(FOLLOW_BACK))
    follower = key // n
    key -= follower * n
    created = t.astype(np.int64)
    del t
    created += t0
    return Edges(follower=follower, followee=key, created_at=created, reason=reason)
