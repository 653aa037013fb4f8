"""The posts' skeleton on its own: volume, rhythm, threads, mentions (no text, no files)."""

import numpy as np
import pytest

from pipeline.posts.plan import KINDS, REPLY, REPOST, Authors, build_plan, tz_offsets

REF = int(np.datetime64("2026-01-01T00:00:00", "s").astype(np.int64))
DAY = 86400


def authors(n: int, seed: int = 0, zones=("America/New_York", "Asia/Tokyo", "Europe/Berlin")):
    rng = np.random.default_rng(seed)
    created = REF - (rng.random(n) * 3000 * DAY).astype(np.int64) - DAY
    age_days = (REF - created) / DAY
    posts = np.floor(age_days * np.exp(rng.normal(-1.3, 1.5, n))).astype(np.int64)
    return Authors(created_at=created, posts_count=posts,
                   followers_count=np.floor(np.exp(rng.normal(4.3, 1.9, n))).astype(np.int64),
                   tz=rng.integers(0, len(zones), n).astype(np.int32),
                   tz_names=list(zones))  # fmt: skip


def ring_follows(n: int, k: int = 20):
    """Each user follows the next k users: a graph with no self-follows."""
    src = np.repeat(np.arange(n), k)
    dst = (src + np.tile(np.arange(1, k + 1), n)) % n
    return src, dst


@pytest.fixture(scope="module")
def world():
    a = authors(5000)
    f = ring_follows(5000)
    return a, f, build_plan(a, f, REF, 30, seed=7)


def test_volume_is_heavy_tailed_and_tied_to_the_account(world):
    a, _, p = world
    s = np.sort(p.per_user)[::-1]
    assert s[: len(s) // 10].sum() / s.sum() >= 0.7  # Pew: the top 10% write ~80%
    assert 1 <= np.median(p.per_user) <= 4  # Pew: a median user posts ~2 a month
    assert (p.per_user <= a.posts_count).all()  # never more than the declared lifetime count
    assert (p.created_at > a.created_at[p.author]).all()
    assert (p.created_at < REF).all() and (p.created_at >= REF - 32 * DAY).all()
    assert np.array_equal(np.bincount(p.author, minlength=5000), p.per_user)


def test_a_new_account_posts_only_after_it_was_created():
    a = authors(300)
    a.created_at[:] = REF - 2 * DAY  # two days old: at most two days of posts
    a.posts_count[:] = 10_000
    p = build_plan(a, None, REF, 30, seed=1)
    assert len(p.author) and (p.created_at > a.created_at[p.author]).all()


def test_local_time_has_a_night_trough_and_an_evening_peak(world):
    _, _, p = world
    h = np.bincount(p.local_hour, minlength=24) / len(p.local_hour)
    assert h[2:5].sum() < 0.06  # a flat day would give 12.5%
    assert 18 <= int(np.argmax(h)) <= 22
    weekend = p.weekday >= 5
    assert p.local_hour[weekend].mean() > p.local_hour[~weekend].mean()  # later at weekends


def test_local_hours_are_in_the_authors_own_zone(world):
    a, _, p = world
    off = tz_offsets(a.tz_names, REF - 40 * DAY, 41)
    d = (p.created_at - (REF - 40 * DAY)) // DAY
    local = (p.created_at + off[a.tz[p.author], d]) % DAY // 3600
    assert (local == p.local_hour).mean() > 0.99  # a DST switch hour may differ


def test_replies_and_reposts_answer_a_followed_account_after_its_post(world):
    a, (src, dst), p = world
    ans = np.flatnonzero(p.parent >= 0)
    assert set(p.kind[ans].tolist()) == {REPLY, REPOST}
    assert (p.parent[p.kind == REPLY] >= 0).all() and (p.parent[p.kind == REPOST] >= 0).all()
    assert (p.created_at[ans] > p.created_at[p.parent[ans]]).all()
    follows = set(zip(src.tolist(), dst.tolist(), strict=True))
    pairs = zip(p.author[ans].tolist(), p.author[p.parent[ans]].tolist(), strict=True)
    assert all(pair in follows for pair in pairs)
    parents = p.kind[p.parent[ans]]
    assert np.isin(parents, [KINDS.index("post"), KINDS.index("article")]).all()
    replies = ans[p.kind[ans] == REPLY]
    delay_h = (p.created_at[replies] - p.created_at[p.parent[replies]]) / 3600
    assert 4 <= delay_h.mean() <= 9 and delay_h.max() <= 24.1  # LDBC: 6.85 h, within a day
    assert np.array_equal(np.bincount(p.parent[replies], minlength=len(p.kind)), p.reply_count)


def test_mentions_name_others_and_a_reply_names_its_parents_author(world):
    _, (src, dst), p = world
    ptr, rows = p.mention_indptr, p.mention_rows
    owner = np.repeat(p.author, np.diff(ptr))
    assert (rows != owner).all()
    replies = np.flatnonzero(p.kind == REPLY)
    assert (rows[ptr[replies]] == p.author[p.parent[replies]]).all()
    follows = set(zip(src.tolist(), dst.tolist(), strict=True))
    free = np.ones(len(rows), bool)
    free[ptr[replies]] = False
    followed = np.mean([(o, r) in follows for o, r in zip(owner[free], rows[free], strict=True)])
    assert followed > 0.8


def test_without_a_graph_parents_are_anyone_elses(world):
    a, _, _ = world
    p = build_plan(a, None, REF, 30, seed=7)
    ans = np.flatnonzero(p.parent >= 0)
    assert len(ans) and (p.author[ans] != p.author[p.parent[ans]]).all()


def test_the_plan_is_a_function_of_its_inputs(world):
    a, f, p = world
    again = build_plan(a, f, REF, 30, seed=7)
    other = build_plan(a, f, REF, 30, seed=8)
    assert np.array_equal(p.created_at, again.created_at) and np.array_equal(p.kind, again.kind)
    assert not np.array_equal(p.per_user, other.per_user)
