"""The detectors' features, computed by hand on a few made-up rows."""

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.dataset.schema import IMAGE_TYPE
from pipeline.dataset.storage import open_store
from pipeline.detect import features as F
from pipeline.detect.read import _read_profiles

REF = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
REF_MS = int(REF.timestamp() * 1000)


def _profiles() -> pa.Table:
    return pa.table({
        "username": ["anna.smith", "bot123456", "x"],
        "display_name": ["Anna Smith", "Crypto4U 2", "Ωμέγα"],
        "bio": ["Hi.", "", None],
        "created_at": pa.array([REF - dt.timedelta(days=100), REF - dt.timedelta(days=10),
                                REF - dt.timedelta(hours=3)], pa.timestamp("ms", "UTC")),
        "followers_count": [50, 0, 3],
        "following_count": [100, 5000, 0],
        "posts_count": [200, 1000, 1],
        "verified": [True, False, False],
    })  # fmt: skip


def test_botometer_lite_profile_features():
    t = _profiles()
    bigrams = F.ScreenNameBigrams.fit(pa.array(["anna.smith", "anna.jones"]))
    x = F.profile_features(t, np.array([False, True, True]), REF_MS, bigrams)
    got = {name: x[:, i].tolist() for i, name in enumerate(F.PROFILE_FEATURES)}
    assert len(F.PROFILE_FEATURES) == 15 and len(F.LEFT_OUT) == 5
    assert set(F.PROFILE_FEATURES) | set(F.LEFT_OUT) == set(F.BOTOMETER_LITE)
    assert got["statuses_count"] == [200, 1000, 1]
    assert got["friends_count"] == [100, 5000, 0]
    assert got["default_profile"] == [0, 1, 1] and got["verified"] == [1, 0, 0]
    # Per day of account age; an account younger than a day counts as one day old.
    assert got["tweet_freq"] == pytest.approx([2.0, 100.0, 1.0])
    assert got["followers_growth_rate"] == pytest.approx([0.5, 0.0, 3.0])
    assert got["friends_growth_rate"] == pytest.approx([1.0, 500.0, 0.0])
    assert got["followers_friends_ratio"] == pytest.approx([0.5, 0.0, 3.0])  # / max(friends, 1)
    assert got["screen_name_length"] == [10, 9, 1]
    assert got["num_digits_in_screen_name"] == [0, 6, 0]
    assert got["name_length"] == [10, 10, 5] and got["num_digits_in_name"] == [0, 2, 0]
    assert got["description_length"] == [3, 0, 0]  # no bio, empty bio: 0
    like = got["screen_name_likelihood"]
    assert like[0] > like[1] > 0  # a name like the training names is likelier


def test_screen_name_likelihood_is_the_geometric_mean_of_bigram_frequencies():
    m = F.ScreenNameBigrams.fit(pa.array(["abab", "ab"]))  # bigrams ab x3, ba x1; alphabet 2
    total, v = 4, 4  # 4 bigrams counted, 2 x 2 possible
    p_ab, p_ba, p_aa = 4 / (total + v), 2 / (total + v), 1 / (total + v)
    got = m(pa.array(["ab", "aba", "aa", "a"]))
    want = [p_ab, (p_ab * p_ba) ** 0.5, p_aa, 1 / (total + v)]
    assert got.tolist() == pytest.approx(want)


def test_graph_features():
    # 0 -> 1, 0 -> 2, 1 -> 0 (follows back), 3 -> 0; 0's two follows on the same day.
    src, dst, day = np.array([0, 0, 1, 3]), np.array([1, 2, 0, 0]), np.array([5, 5, 6, 9])
    x = F.graph_features(4, src, dst, day)
    got = {name: x[:, i].tolist() for i, name in enumerate(F.GRAPH_FEATURES)}
    assert got["in_degree"] == [2, 1, 1, 0] and got["out_degree"] == [2, 1, 0, 1]
    assert got["out_in_ratio"] == pytest.approx([2 / 3, 0.5, 0, 1])
    assert got["reciprocity"][:2] == [0.5, 1.0] and np.isnan(got["reciprocity"][2])
    assert got["followee_in_degree"][0] == pytest.approx(np.log(2))  # follows 1 and 2: in 1 each
    assert got["follower_out_degree"][0] == pytest.approx((np.log(2) + np.log(2)) / 2)
    assert got["follow_day_burst"] == [1.0, 1.0, pytest.approx(np.nan, nan_ok=True), 1.0]


def _posts(rows: list[tuple]) -> pa.Table:
    user, minutes, kind, text = zip(*rows, strict=True)
    return pa.table({
        "created_at": pa.array([REF + dt.timedelta(minutes=m) for m in minutes],
                               pa.timestamp("ms", "UTC")),
        "kind": list(kind),
        "text": list(text),
        "hashtags": [[w for w in (t or "").split() if w.startswith("#")] for t in text],
        "mentions": [[1] * (t or "").count("@") for t in text],
        "like_count": [0] * len(rows),
    }), np.array(user)  # fmt: skip


def test_activity_features():
    posts, user = _posts([
        (0, 0, "post", "Buy now http://example.org/x #deal #win"),
        (0, 5, "post", "Buy again https://example.org/y #deal"),
        (0, 65, "repost", None),
        (1, 0, "post", "Good morning @friend"),
        (1, 600, "reply", "@friend sure"),
    ])  # fmt: skip
    x = F.activity_features(3, posts, user)
    got = {name: x[:, i].tolist() for i, name in enumerate(F.ACTIVITY_FEATURES)}
    assert got["posts_in_window"] == [3, 2, 0]
    assert got["reply_share"][:2] == [0, 0.5] and got["repost_share"][:2] == [1 / 3, 0]
    assert got["links_per_post"][:2] == [1.0, 0.0]  # per post with text
    assert got["hashtags_per_post"][:2] == [1.5, 0.0] and got["mentions_per_post"][:2] == [0, 1]
    # User 0 posts at hours 0, 0, 1; user 1 at hours 0 and 10.
    h = -(2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3)) / np.log(24)
    assert got["hour_entropy"][:2] == pytest.approx([h, np.log(2) / np.log(24)])
    gaps = np.array([5.0, 60.0])  # minutes
    assert got["gap_cv"][0] == pytest.approx(gaps.std() / gaps.mean())
    assert np.isnan(got["gap_cv"][1])  # one gap: no spread to measure
    assert got["fast_gap_share"][:2] == [0.5, 0.0]
    assert x[2, 0] == 0 and np.isnan(x[2, 1:]).all()  # no posts: nothing else to measure


def test_near_duplicates_across_users_and_in_the_same_hour():
    text = "the new coin is going to the moon, everyone should get in before it is too late"
    posts, user = _posts([
        (0, 0, "post", f"@alice {text} #moon"),
        (1, 10, "post", f"{text} @bob #coin"),  # the same words to someone else, same hour
        (2, 600, "post", f"{text}!"),  # the same, hours later
        (3, 20, "post", "walked the dog along the river this morning and the sun came out"),
        (3, 30, "post", f"{text}"),  # ... and the user's own second copy of it
        (4, 40, "post", "short one"),  # under 3 words once tags are out: not hashed
    ])  # fmt: skip
    index, keys = F.text_signatures(posts["text"])
    assert index.tolist() == [0, 1, 2, 3, 4] and keys.shape == (5, F.BANDS)
    assert (keys[0] == keys[1]).all() and (keys[0] == keys[2]).all()
    t = F.epoch_ms(posts["created_at"])
    x = F.duplicate_features(5, user[index], keys, t[index] // F.HOUR_MS)
    near, sync = x[:, 0].tolist(), x[:, 1].tolist()
    assert near[:4] == [1, 1, 1, 0.5]
    assert sync[:4] == [1, 1, 0, 0.5]  # user 2 posted it at 10:00, the others at 00:xx
    assert np.isnan(near[4])  # nothing hashed


def test_near_duplicates_alone_are_not_shared():
    keys = np.array([[1, 2], [1, 3], [4, 5]], np.uint64)
    assert F.shared_by_others(keys, np.array([7, 7, 8])).tolist() == [False, False, False]
    assert F.shared_by_others(keys, np.array([7, 8, 9])).tolist() == [True, True, False]
    assert F.shared_by_others(np.zeros((0, 2), np.uint64), np.zeros(0)).tolist() == []


def test_creation_bursts():
    hours = np.array([0, 0, 0, 5, 9]) * F.HOUR_MS + 60_000
    assert F.population_features(hours)[:, 0].tolist() == [3, 3, 3, 1, 1]


def test_default_image_from_avatar_validity_without_its_bytes(tmp_path):
    t = _profiles().append_column("user_id", pa.array([1, 2, 3], pa.int64()))
    avatar = pa.array([{"bytes": b"\x89PNG" * 1000, "path": None}, None, None], IMAGE_TYPE)
    pq.write_table(t.append_column("avatar", avatar), tmp_path / "p.parquet")
    got, default = _read_profiles(open_store(tmp_path), "p.parquet")
    assert default.tolist() == [False, True, True]
    assert "avatar" not in got.column_names and "bytes" not in str(got.schema)
