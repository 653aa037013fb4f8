"""How bots follow, on top of the organic graph (pipeline/graph/build.py).

Each user's follow habit comes from the `_follow` hint (assign.FOLLOW's codes, read by
position so this module does not import the accounts stage):
    1 mass         a bought follower: follows many accounts (popular ones, its customers),
                   and almost nobody follows it (Cresci et al. 2015's fake followers)
    2 spam         follows many accounts at random hoping for follow-backs; few answer
    3 campaign     astroturf: follows most members of its campaign and the accounts the
                   campaign promotes, soon after the accounts were created (coordination)
    4 follow_back  an organic decoy: a follow-back community member who answers every follow
The edges' `reason` stays one of the organic reasons (random, popularity, interest,
follow_back), so it is no label leak.
"""

from __future__ import annotations

import numpy as np

from pipeline.graph.build import FOLLOW_BACK, INTEREST, POPULARITY, RANDOM, Edges

MASS, SPAM, CAMPAIGN, DECOY = 1, 2, 3, 4
KEEP_IN = {MASS: 0.05, SPAM: 0.3}  # share of organic in-edges a mass/spam account keeps
PROMOTED = 3  # accounts each campaign amplifies
CAMPAIGN_DENSITY = 0.6  # share of fellow members a campaign member follows
DAY = 86400


def add_bot_follows(e: Edges, follow: np.ndarray, campaign: np.ndarray, created: np.ndarray,
                    mean: float, seed: int, reference: int) -> Edges:  # fmt: skip
    """The organic edges `e` with bots' habits applied; sorted by (follower, followee)."""
    n = len(follow)
    rng = np.random.default_rng([seed, 0xB075])
    src, dst, t, rsn = e.follower, e.followee, e.created_at, e.reason
    hi = reference - 2
    cap = max(1, min(n - 1, int(0.25 * (n - 1))))

    # Followed by few: drop most organic edges into mass and spam accounts.
    keep = np.ones(len(src), bool)
    for code, share in KEEP_IN.items():
        into = follow[dst] == code
        keep &= ~into | (rng.random(len(src)) < share)
    src, dst, t, rsn = src[keep], dst[keep], t[keep], rsn[keep]

    parts = [(src, dst, t, rsn)]
    indeg = np.bincount(dst, minlength=n).astype(np.float64)

    def timed(a, b, reason, lo=None, width=None):
        lo = np.maximum(created[a], created[b]) + 1 if lo is None else lo
        span = np.maximum(1, (hi - lo) if width is None else np.minimum(width, hi - lo))
        when = lo + (rng.random(len(a)) * span).astype(np.int64)
        ok = (a != b) & (when < hi) & (when > np.maximum(created[a], created[b]))
        parts.append((a[ok], b[ok], when[ok], np.full(int(ok.sum()), reason, np.int8)))

    # Mass followers: 4-10x the mean follows, towards popular accounts.
    mass = np.flatnonzero(follow == MASS)
    if len(mass):
        k = np.minimum(cap, (mean * (4 + 6 * rng.random(len(mass)))).astype(np.int64))
        a = np.repeat(mass, k)
        cdf = np.cumsum(indeg + 1.0)
        b = np.searchsorted(cdf, rng.random(len(a)) * cdf[-1], side="right")
        timed(a, np.minimum(b, n - 1), POPULARITY)
    # Spammers: 3-8x the mean follows, at random.
    spam = np.flatnonzero(follow == SPAM)
    if len(spam):
        k = np.minimum(cap, (mean * (3 + 5 * rng.random(len(spam)))).astype(np.int64))
        a = np.repeat(spam, k)
        timed(a, rng.integers(0, n, len(a)), RANDOM)
    # Campaigns: members follow each other and the promoted accounts, within days of joining.
    members = np.flatnonzero(campaign > 0)
    if len(members):
        order = members[np.argsort(campaign[members], kind="stable")]
        c = campaign[order]
        starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
        ends = np.r_[starts[1:], len(order)]
        organic = np.flatnonzero((follow == 0) & (campaign == 0))
        pool = organic if len(organic) else np.arange(n)
        # Promoted accounts: popular organic users, drawn per campaign.
        w = np.cumsum(indeg[pool] + 1.0)
        for s, e_ in zip(starts, ends, strict=True):
            group = order[s:e_]
            a, b = np.repeat(group, len(group)), np.tile(group, len(group))
            pick = rng.random(len(a)) < CAMPAIGN_DENSITY
            a, b = a[pick], b[pick]
            promo = pool[np.minimum(np.searchsorted(w, rng.random(PROMOTED) * w[-1], "right"),
                                    len(pool) - 1)]  # fmt: skip
            a = np.r_[a, np.repeat(group, PROMOTED)]
            b = np.r_[b, np.tile(promo, len(group))]
            lo = np.maximum(created[a], created[b]) + 1
            timed(a, b, INTEREST, lo=lo, width=np.full(len(a), 7 * DAY))
    # Decoys: answer every follow they get.
    decoy = follow == DECOY
    back = decoy[dst]
    if back.any():
        a, b = dst[back], src[back]
        lo = t[back] + 60
        timed(a, b, FOLLOW_BACK, lo=lo, width=np.full(len(a), 3 * DAY))

    src = np.concatenate([p[0] for p in parts]).astype(np.int64)
    dst = np.concatenate([p[1] for p in parts]).astype(np.int64)
    t = np.concatenate([p[2] for p in parts]).astype(np.int64)
    rsn = np.concatenate([p[3] for p in parts]).astype(np.int8)
    key = src * n + dst
    o = np.argsort(key, kind="stable")  # stable: an organic edge wins over a bot's duplicate
    key, t, rsn = key[o], t[o], rsn[o]
    first = np.r_[True, key[1:] != key[:-1]]
    key, t, rsn = key[first], t[first], rsn[first]
    return Edges(follower=key // n, followee=key % n, created_at=t, reason=rsn)
