"""Who posts what kind of post when, and what it answers: the skeleton of the posts table.

Everything but the text is decided here, once per run over every user (a reply's parent
and a post's reply count live in other shards), vectorised with numpy:

1. Volume. A user's in-window rate is its declared rate (posts_count per day of account
   age) mapped by rank onto a log-normal with Pew's 2019 shape (median ~2 posts a month,
   the top 10% ~140 a month: sigma 2.1 puts ~80% of posts on them), then a Poisson count
   over the days the account existed in the window, capped by the declared lifetime count.
2. Time of day. Original posts fall on a random day of the window at an hour drawn from a
   daily rhythm in the author's own time zone (a trough 02-05h, an evening peak, weekends
   shifted later), converted to UTC with that zone's offset on that day.
3. Replies and reposts answer an original post of an account the author follows (any
   author's, where there is no follow graph), after it: a reply within a day (LDBC: mean
   6.85 h), a repost within three days; the delay is redrawn until it lands in the author's
   waking hours, the same rhythm again. A slot no parent fits becomes an original post.
4. Mentions: a reply names its parent's author; some posts name one or two accounts the
   author follows (mostly) or anyone. Likes grow with the author's declared followers and
   the post's reposts and replies; reply_count and repost_count are the rows that answer it.

Every draw comes from one generator keyed by (seed, posts), so the plan is a function of
the config and the other stages' columns alone.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import numpy as np

KINDS = ("post", "reply", "repost", "article")
POST, REPLY, REPOST, ARTICLE = range(len(KINDS))
# Shares of slots (Twitter-like: a quarter replies, a fifth reposts; articles are rare).
KIND_SHARES = {ARTICLE: 0.005, REPLY: 0.25, REPOST: 0.20}
RATE_MEDIAN = 2 / 30  # posts per day: Pew 2019's median user tweets about twice a month
RATE_SIGMA = 2.1  # log-normal shape: top 10% of users write ~80% of posts (Pew: 80%)
MAX_PER_DAY = 100  # a hard ceiling on anyone's daily volume (the tail's far end is ~50)
REPLY_DELAY_H = 6.85  # LDBC SNB: mean hours from a post to a reply
REPLY_MAX_H = 24.0
REPOST_DELAY_H = 18.0
REPOST_MAX_H = 72.0
MIN_DELAY_S = 60
MENTION_SHARE = (0.12, 0.03)  # share of original posts with >= 1 and with 2 mentions
MENTION_FOLLOWED = 0.9  # share of mentions that name an account the author follows
HASHTAG_SHARE = (0.25, 0.05)  # share of posts and replies with >= 1 and with 2 hashtags
# Hourly weights in local time (0-23h), weekday and weekend: a night trough at 02-05h (about
# a sixth of the peak), a morning rise, lunch, and the evening peak (the shape of Twitter's
# diurnal curves in Golder & Macy 2011, where weekends start later and run later).
WEEKDAY = np.array([3.0, 2.0, 1.4, 1.1, 1.1, 1.4, 2.2, 3.4, 4.4, 4.4, 4.2, 4.4,
                    5.2, 5.0, 4.4, 4.3, 4.5, 5.0, 5.6, 6.3, 6.8, 6.6, 5.4, 3.6])  # fmt: skip
WEEKEND = np.array([4.0, 3.0, 2.0, 1.3, 1.0, 1.0, 1.2, 1.8, 2.8, 3.8, 4.6, 5.0,
                    5.3, 5.3, 5.0, 4.8, 4.8, 5.0, 5.4, 6.0, 6.5, 6.6, 5.8, 4.4])  # fmt: skip


@dataclass
class Authors:
    """What the plan reads of every user, in row order."""

    created_at: np.ndarray  # int64 seconds
    posts_count: np.ndarray  # int64, declared lifetime posts
    followers_count: np.ndarray  # int64, declared
    tz: np.ndarray  # int32 index into tz_names
    tz_names: list[str]
    # How each user posts when an earlier stage says (the `_cadence` hint, codes below), and
    # its astroturf campaign (0: none): None for an all-human dataset.
    cadence: np.ndarray | None = None
    campaign: np.ndarray | None = None


# Cadence codes (by position, as the accounts stage writes them) and what each does:
# round_clock posts at any hour (Chavoshi et al.: bots lack the circadian trough), bursty
# and news_burst post in a few dense bursts, sync posts on its campaign's shared schedule,
# silent (a fake follower) hardly posts. Rates are posts a day, a floor on the user's own.
ROUND_CLOCK, BURSTY, SYNC, SILENT, NEWS_BURST = 1, 2, 3, 4, 5
CADENCE_RATE = {ROUND_CLOCK: 6.0, BURSTY: 4.0, SYNC: 3.0, NEWS_BURST: 3.0}
BURSTS = 4  # bursts per bursty user in the window
BURST_MINUTES = 25.0  # mean spread of a burst
CAMPAIGN_SLOTS = 40  # shared posting times of a campaign in the window
SYNC_MINUTES = 8.0  # members post within minutes of the campaign's slot


@dataclass
class Plan:
    """Posts sorted by (author row, created_at): row i of every array is one post."""

    author: np.ndarray  # int64 author row
    created_at: np.ndarray  # int64 seconds UTC
    kind: np.ndarray  # int8 index into KINDS
    parent: np.ndarray  # int64 post index (-1: none)
    topic_of: np.ndarray  # int64 post index whose author's interest is the topic (itself,
    topic_pick: np.ndarray  # or the parent's), and which of that author's interests (draw)
    mention_indptr: np.ndarray  # int64, CSR over posts
    mention_rows: np.ndarray  # int64 user rows
    reply_count: np.ndarray
    repost_count: np.ndarray
    like_count: np.ndarray
    hashtags: np.ndarray  # int8: how many hashtags the text gets
    local_hour: np.ndarray  # int8, the author's local hour of posting
    weekday: np.ndarray  # int8, 0 = Monday, local
    per_user: np.ndarray  # int64 posts per user row


def tz_offsets(names: list[str], start: int, days: int) -> np.ndarray:
    """UTC offset in seconds of each zone at noon UTC of each day from `start` (int s)."""
    out = np.zeros((len(names), days), dtype=np.int64)
    for i, name in enumerate(names):
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue  # identity validates its zones; an unknown one counts as UTC
        for d in range(days):
            t = dt.datetime.fromtimestamp(start + d * 86400 + 43200, dt.UTC)
            out[i, d] = int(t.astimezone(zone).utcoffset().total_seconds())
    return out


def _hours(rng, weekend: np.ndarray) -> np.ndarray:
    """A local hour per slot from the weekday or weekend rhythm."""
    cdf_wd, cdf_we = np.cumsum(WEEKDAY) / WEEKDAY.sum(), np.cumsum(WEEKEND) / WEEKEND.sum()
    u = rng.random(len(weekend))
    h = np.where(weekend, np.searchsorted(cdf_we, u, "right"), np.searchsorted(cdf_wd, u, "right"))
    return np.minimum(h, 23)


def _local(t: np.ndarray, off: np.ndarray):
    """(local seconds since epoch, local hour, weekday 0=Mon) of UTC seconds t."""
    loc = t + off
    days = loc // 86400
    return loc, (loc % 86400) // 3600, (days + 3) % 7  # 1970-01-01 was a Thursday


class _Clock:
    """Offsets of each author's zone on each day of the window (and a day either side)."""

    def __init__(self, a: Authors, ref: int, days: int):
        self.first = ref - (days + 1) * 86400
        self.table = tz_offsets(a.tz_names, self.first, days + 3)
        self.tz = a.tz

    def offset(self, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
        d = np.clip((t - self.first) // 86400, 0, self.table.shape[1] - 1)
        return self.table[self.tz[rows], d]


def rates(a: Authors, ref: int, rng) -> np.ndarray:
    """Posts per day for each user: the declared rate's rank on Pew's log-normal."""
    n = len(a.created_at)
    age_days = np.maximum(1.0, (ref - a.created_at) / 86400)
    declared = a.posts_count / age_days
    order = np.lexsort((np.arange(n), declared))  # ties by row: deterministic
    target = np.sort(np.exp(np.log(RATE_MEDIAN) + RATE_SIGMA * rng.standard_normal(n)))
    out = np.empty(n)
    out[order] = target
    return np.minimum(out, MAX_PER_DAY)


def build_plan(a: Authors, follows: tuple[np.ndarray, np.ndarray] | None, ref: int, days: int,
               seed: int) -> Plan:  # fmt: skip
    """The posts of every user over the `days` before `ref` (int seconds). `follows` is
    (follower rows, followee rows) sorted by follower, or None where there is no graph."""
    rng = np.random.default_rng([seed, 0x90575])
    n = len(a.created_at)
    clock = _Clock(a, ref, days)
    start = np.maximum(ref - days * 86400, a.created_at + 1)
    active = np.maximum(0, ref - start)
    rate = rates(a, ref, rng)
    if a.cadence is not None:
        for code, floor in CADENCE_RATE.items():
            on = a.cadence == code
            rate[on] = np.maximum(rate[on], floor * (0.5 + rng.random(int(on.sum()))))
        rate[a.cadence == SILENT] *= 0.02
    lam = rate * active / 86400
    count = np.minimum(rng.poisson(lam), a.posts_count)
    count = np.minimum(count, np.ceil(active / 86400).astype(np.int64) * MAX_PER_DAY)
    author = np.repeat(np.arange(n), count)
    m = len(author)

    # Kinds, then a rhythm time for every slot (replies and reposts replace theirs below).
    u = rng.random(m)
    kind = np.full(m, POST, dtype=np.int8)
    edge = 0.0
    for k, share in KIND_SHARES.items():
        kind[(u >= edge) & (u < edge + share)] = k
        edge += share
    t = _rhythm_times(rng, author, start, a, clock, ref)
    if a.cadence is not None:
        t = _bot_times(np.random.default_rng([seed, 0xCADE]), t, author, start, a, ref)

    # Replies and reposts: a parent among the original posts of a followed account.
    parent = np.full(m, -1, dtype=np.int64)
    roots = np.flatnonzero((kind == POST) | (kind == ARTICLE))
    answer = np.flatnonzero((kind == REPLY) | (kind == REPOST))
    for _ in range(3):  # a slot with no fitting parent tries again, then becomes a post
        if not len(answer):
            break
        cand = _pick_parents(rng, author[answer], roots, author, follows, n)
        ok = cand >= 0
        delay = _delays(rng, kind[answer], author[answer], t[np.maximum(cand, 0)], clock)
        when = t[np.maximum(cand, 0)] + delay
        ok &= (when < ref) & (when > a.created_at[author[answer]])
        parent[answer[ok]] = cand[ok]
        t[answer[ok]] = when[ok]
        answer = answer[~ok]
    kind[answer] = POST  # no parent fits: an original post at its own rhythm time

    # Sort by (author, time): each shard's posts are one contiguous run, in time order.
    order = np.lexsort((np.arange(m), t, author))
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m)
    author, t, kind, parent = author[order], t[order], kind[order], parent[order]
    parent = np.where(parent >= 0, rank[np.maximum(parent, 0)], -1)

    # A reply or repost is about its parent's topic; an original post about its own author's.
    topic_of = np.where(parent >= 0, parent, np.arange(m))
    topic_pick = rng.integers(0, 1 << 30, m)
    has_parent = parent >= 0
    reply_count = np.bincount(parent[has_parent & (kind == REPLY)], minlength=m)
    repost_count = np.bincount(parent[has_parent & (kind == REPOST)], minlength=m)
    indptr, rows = _mentions(rng, author, kind, parent, follows, n)
    tags = rng.random(m)
    hashtags = (tags < HASHTAG_SHARE[0]).astype(np.int8) + (tags < HASHTAG_SHARE[1])
    hashtags[(kind == REPOST) | (kind == ARTICLE)] = 0
    lam_likes = 0.01 * a.followers_count[author] ** 0.9 + 1.5 * repost_count + 0.5 * reply_count
    likes = np.where(kind == REPOST, 0, rng.poisson(lam_likes))
    _, hour, wday = _local(t, clock.offset(author, t))
    return Plan(author=author, created_at=t, kind=kind, parent=parent, topic_of=topic_of,
                topic_pick=topic_pick, mention_indptr=indptr, mention_rows=rows,
                reply_count=reply_count, repost_count=repost_count, like_count=likes,
                hashtags=hashtags, local_hour=hour.astype(np.int8),
                weekday=wday.astype(np.int8), per_user=count)  # fmt: skip


def _rhythm_times(rng, author, start, a: Authors, clock: _Clock, ref: int) -> np.ndarray:
    """A UTC time per slot: a random day of the author's active window, at a rhythm hour of
    its local day. Times outside [created, ref) are redrawn, then clamped (edge days only)."""
    m = len(author)
    t = np.zeros(m, dtype=np.int64)
    todo = np.arange(m)
    for _ in range(8):
        if not len(todo):
            break
        who = author[todo]
        lo, span = start[who], ref - start[who]
        t0 = lo + (rng.random(len(todo)) * span).astype(np.int64)
        off = clock.offset(who, t0)
        loc, _, wday = _local(t0, off)
        midnight = loc - loc % 86400
        hour = _hours(rng, wday >= 5)
        tod = hour * 3600 + rng.integers(0, 3600, len(todo))
        cand = midnight + tod - off
        ok = (cand > a.created_at[who]) & (cand < ref)
        t[todo[ok]] = cand[ok]
        todo = todo[~ok]
    if len(todo):
        who = author[todo]
        t[todo] = np.clip(start[who] + (ref - start[who]) // 2, a.created_at[who] + 1, ref - 1)
    return t


def _bot_times(rng, t, author, start, a: Authors, ref: int) -> np.ndarray:
    """Times of the slots of users with a bot cadence, in place of the rhythm's."""
    rhythm, t = t, t.copy()
    code = a.cadence[author]
    lo, span = start[author], ref - start[author]
    on = code == ROUND_CLOCK  # any hour, any day
    t[on] = lo[on] + (rng.random(int(on.sum())) * span[on]).astype(np.int64)
    on = (code == BURSTY) | (code == NEWS_BURST)  # a few dense bursts per user
    if on.any():
        centers = rng.random((len(a.cadence), BURSTS))
        b = rng.integers(0, BURSTS, int(on.sum()))
        c = lo[on] + (centers[author[on], b] * span[on]).astype(np.int64)
        t[on] = c + rng.exponential(BURST_MINUTES * 60, int(on.sum())).astype(np.int64)
    on = (code == SYNC) & (a.campaign[author] > 0)  # the campaign's shared schedule
    if on.any():
        n_camp = int(a.campaign.max()) + 1
        slots = ref - (rng.random((n_camp, CAMPAIGN_SLOTS)) * (ref - start.min())).astype(
            np.int64)  # fmt: skip
        k = rng.integers(0, CAMPAIGN_SLOTS, int(on.sum()))
        jitter = rng.exponential(SYNC_MINUTES * 60, int(on.sum())).astype(np.int64)
        t[on] = slots[a.campaign[author[on]], k] + jitter
    # A time outside the account's window keeps its rhythm time.
    bad = (t <= a.created_at[author]) | (t >= ref) | (t < lo)
    t[bad] = rhythm[bad]
    return t


def _pick_parents(rng, who: np.ndarray, roots: np.ndarray, author: np.ndarray, follows,
                  n: int) -> np.ndarray:  # fmt: skip
    """A root slot per answering slot: an original post of an account `who` follows (random
    edge, then a random post of that account), else of anyone; -1 where there are none."""
    if not len(roots):
        return np.full(len(who), -1, dtype=np.int64)
    # Roots grouped by author: CSR over user rows.
    by_author = roots[np.argsort(author[roots], kind="stable")]
    r_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(author[roots], minlength=n), out=r_ptr[1:])
    out = np.full(len(who), -1, dtype=np.int64)
    if follows is not None:
        src, dst = follows
        e_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=e_ptr[1:])
        deg = e_ptr[who + 1] - e_ptr[who]
        for _ in range(4):  # a followee with no posts: try another edge
            need = (out < 0) & (deg > 0)
            if not need.any():
                break
            w = who[need]
            e = e_ptr[w] + (rng.random(len(w)) * deg[need]).astype(np.int64)
            v = dst[e]
            nr = r_ptr[v + 1] - r_ptr[v]
            pick = r_ptr[v] + (rng.random(len(w)) * nr).astype(np.int64)
            got = np.where(nr > 0, by_author[np.minimum(pick, len(by_author) - 1)], -1)
            out[need] = got
        return out
    cand = roots[(rng.random(len(who)) * len(roots)).astype(np.int64)]
    return np.where(author[cand] != who, cand, -1)  # not one's own post


def _delays(rng, kind, who, parent_t, clock: _Clock) -> np.ndarray:
    """Seconds from the parent to the answer: exponential, truncated, redrawn (up to 8
    times) until the author's local hour is a waking one by the rhythm's weights."""
    mean = np.where(kind == REPLY, REPLY_DELAY_H, REPOST_DELAY_H) * 3600
    cap = np.where(kind == REPLY, REPLY_MAX_H, REPOST_MAX_H) * 3600
    out = np.zeros(len(kind), dtype=np.int64)
    todo = np.arange(len(kind))
    w_wd, w_we = WEEKDAY / WEEKDAY.max(), WEEKEND / WEEKEND.max()
    for i in range(8):
        if not len(todo):
            break
        d = np.minimum(rng.exponential(mean[todo]), cap[todo]).astype(np.int64) + MIN_DELAY_S
        when = parent_t[todo] + d
        _, hour, wday = _local(when, clock.offset(who[todo], when))
        w = np.where(wday >= 5, w_we[hour], w_wd[hour])
        ok = (rng.random(len(todo)) < w) | (i == 7)
        out[todo[ok]] = d[ok]
        todo = todo[~ok]
    return out


def _mentions(rng, author, kind, parent, follows, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr, user rows) of each post's mentions: a reply's parent author first; one or
    two accounts for a share of original posts, mostly ones the author follows."""
    m = len(author)
    u = rng.random(m)
    extra = (u < MENTION_SHARE[0]).astype(np.int64) + (u < MENTION_SHARE[1])
    extra[(kind == REPOST) | (kind == ARTICLE)] = 0
    if n < 2:  # nobody else to name
        extra[:] = 0
    is_reply = (kind == REPLY) & (parent >= 0)
    extra[is_reply] = np.minimum(extra[is_reply], 1)
    first = is_reply.astype(np.int64)
    count = first + extra
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(count, out=indptr[1:])
    rows = np.full(int(indptr[-1]), -1, dtype=np.int64)
    rows[indptr[:-1][is_reply]] = author[parent[is_reply]]
    # The other slots: a followee of the author (MENTION_FOLLOWED of them), else anyone.
    slot_post = np.repeat(np.arange(m), count)
    free = np.flatnonzero(rows < 0)
    who = author[slot_post[free]]
    pick = rng.integers(0, max(n, 1), len(free))
    if follows is not None:
        src, dst = follows
        e_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=e_ptr[1:])
        deg = e_ptr[who + 1] - e_ptr[who]
        use = (deg > 0) & (rng.random(len(free)) < MENTION_FOLLOWED)
        e = e_ptr[who] + (rng.random(len(free)) * deg).astype(np.int64)
        pick = np.where(use, dst[np.minimum(e, max(len(dst) - 1, 0))] if len(dst) else pick, pick)
    rows[free] = np.where(pick == who, (pick + 1) % max(n, 1), pick)  # never oneself
    # A post names an account once: a second mention equal to the first is dropped.
    dup = np.zeros(len(rows), dtype=bool)
    two = np.flatnonzero(count == 2)
    dup[indptr[two] + 1] = rows[indptr[two] + 1] == rows[indptr[two]]
    if dup.any():
        keep = ~dup
        count = np.bincount(np.repeat(np.arange(m), count)[keep], minlength=m)
        rows = rows[keep]
        np.cumsum(count, out=indptr[1:])
    return indptr, rows
