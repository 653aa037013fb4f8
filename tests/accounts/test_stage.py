"""The accounts stage: labelled bots among humans, told apart the way the literature says."""

import json
import re

import numpy as np
import pyarrow as pa
import pytest

from pipeline.accounts.assign import TYPES, assign
from pipeline.accounts.stage import account_checks
from pipeline.dataset.validate import load_table, validate_dataset
from pipeline.errors import ProfilegenError


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """The same 1,200 users at easy and at hard, with follows and template posts."""
    from pipeline.config import build_config
    from tests.conftest import _write_dataset

    out = {}
    for level in ("easy", "hard"):
        d = tmp_path_factory.mktemp(level) / "d"
        cfg = build_config(None, rows=1200, shard_rows=400, seed=21, avatars="none",
                           bios="template", follows="graph", posts="template", bots="mixed",
                           bot_share=0.3, bot_difficulty=level, campaign_size=15,
                           out=str(d))  # fmt: skip
        _write_dataset(cfg, d)
        out[level] = d
    return out


def _profiles(d):
    return load_table(d).to_pandas()


def test_every_row_is_labelled_and_every_check_passes(datasets):
    d = datasets["easy"]
    p = _profiles(d)
    assert set(p["account_type"]) == set(TYPES)
    assert abs((p["account_type"] != "human").mean() - 0.3) < 0.06
    assert not [c for c in p.columns if c.startswith("_")], "hint columns are never written"
    astro = p["account_type"] == "astroturf"
    assert p.loc[astro, "campaign_id"].notna().all() and p.loc[~astro, "campaign_id"].isna().all()
    assert (p.groupby("campaign_id")["split"].nunique() == 1).all(), "a campaign in two splits"
    assert set(p["split"]) == {"train", "validation", "test"}
    assert not p.loc[p["decoy"], "account_type"].ne("human").any()
    failed = [c for c in validate_dataset(d) if not c.ok]
    assert not failed, failed
    card = (d / "README.md").read_text()
    assert "## Account types" in card and "fake_follower" in card


def test_labels_do_not_depend_on_the_shard_layout(small_cfg):
    a = small_cfg(bots="mixed", shard_rows=600)
    b = small_cfg(bots="mixed", shard_rows=150)
    whole = assign(a, 0, 600)
    parts = [assign(b, s, 150) for s in range(0, 600, 150)]
    assert np.array_equal(whole.kind, np.concatenate([x.kind for x in parts]))
    assert np.array_equal(whole.split, np.concatenate([x.split for x in parts]))
    assert np.array_equal(whole.campaign, np.concatenate([x.campaign for x in parts]))


def test_easy_bots_show_profile_tells_hard_bots_mostly_do_not(datasets):
    def tells(d):
        p = _profiles(d)
        bots = p[p["account_type"].isin(["spammer", "fake_follower", "financial"])]
        digits = bots["username"].str.extract(r"(\d+)$")[0].str.len()
        return (digits >= 10).mean(), (bots["created_at"] > "2025-09-01").mean()

    easy, hard = tells(datasets["easy"]), tells(datasets["hard"])
    assert easy[0] > 0.8 and hard[0] < 0.3, (easy, hard)
    assert easy[1] > 0.8 and hard[1] < 0.4, (easy, hard)
    # Humans never get the bots' digit runs: usernames stay unique.
    p = _profiles(datasets["easy"])
    assert p["username"].is_unique
    human_digits = p.loc[p["account_type"] == "human", "username"].str.extract(r"(\d+)$")[0]
    assert (human_digits.str.len() < 10).all()


def test_fake_followers_follow_many_and_campaigns_follow_each_other(datasets):
    d = datasets["hard"]  # behaviour tells survive at hard
    p = _profiles(d)
    med = p.groupby("account_type")[["following_in_dataset", "followers_in_dataset"]].median()
    assert (
        med.loc["fake_follower", "following_in_dataset"]
        > 3 * med.loc["human", "following_in_dataset"]
    )
    assert (
        med.loc["fake_follower", "followers_in_dataset"] < med.loc["human", "followers_in_dataset"]
    )
    f = load_table(d, "follows").to_pandas()
    camp = p.set_index("user_id")["campaign_id"]
    f["a"], f["b"] = (
        camp.reindex(f["follower_id"]).to_numpy(),
        camp.reindex(f["followee_id"]).to_numpy(),
    )
    inside = f.dropna(subset=["a", "b"])
    inside = inside[inside["a"] == inside["b"]]
    sizes = p["campaign_id"].value_counts()
    possible = float((sizes * (sizes - 1)).sum())
    assert len(inside) / possible > 0.3, "campaign members follow most of their campaign"


def test_bots_post_round_the_clock_and_campaigns_repeat_themselves(datasets):
    d = datasets["easy"]
    p = _profiles(d)[["user_id", "account_type", "campaign_id", "timezone"]]
    posts = load_table(d, "posts").to_pandas().merge(p, on="user_id")
    posts = posts[posts["kind"] != "repost"]

    def night(rows):
        local = [
            t.tz_convert(z).hour for t, z in zip(rows["created_at"], rows["timezone"], strict=True)
        ]
        return np.mean([2 <= h < 6 for h in local])

    assert night(posts[posts["account_type"] == "spammer"]) > 2 * night(
        posts[posts["account_type"] == "human"]
    )
    camp = posts[posts["account_type"] == "astroturf"].dropna(subset=["text"])
    tags = camp["text"].str.findall(r"#\w+")
    assert (
        camp.groupby("campaign_id")["text"].apply(lambda t: t.str.contains("#").mean()).min() > 0.9
    )
    # Near-duplicates: stripped of mentions, flair and hashtags, a campaign says few things.
    core = camp["text"].str.replace(r"@\S+|#\S+|[^\w\s]", "", regex=True).str.split().str.join(" ")
    assert core.nunique() < 0.6 * len(core), (core.nunique(), len(core))
    assert len(tags)
    spam = posts[posts["account_type"] == "spammer"]["text"].dropna()
    assert spam.str.contains("https://example.net/").mean() > 0.3


def _table(kind, campaign, split, decoy, share=0.5):
    t = pa.table({"account_type": kind, "campaign_id": pa.array(campaign, pa.int64()),
                  "split": split, "decoy": decoy})  # fmt: skip
    return t, {"bot_share": share}


GOOD = dict(kind=["human", "spammer", "astroturf", "astroturf"], campaign=[None, None, 1, 1],
            split=["train", "test", "test", "test"], decoy=[True, False, False, False])  # fmt: skip


@pytest.mark.parametrize("change, failing", [
    (dict(kind=["human", "robot", "astroturf", "astroturf"]), "account types known"),
    (dict(share=0.05), "bot share as configured"),
    (dict(campaign=[5, None, 1, 1]), "campaign_id set exactly for astroturf"),
    (dict(split=["train", "test", "train", "test"]), "no campaign across splits"),
    (dict(split=["train", "dev", "test", "test"]), "splits known"),
    (dict(decoy=[False, True, False, False]), "decoys are humans"),
])  # fmt: skip
def test_each_account_check_fails_alone(change, failing):
    t, cfg = _table(**{**GOOD, **change})
    checks = account_checks(t, cfg)
    assert [c.name for c in checks if not c.ok] == [failing]
    good, cfg = _table(**GOOD)
    assert all(c.ok for c in account_checks(good, cfg))


@pytest.mark.parametrize("kw, message", [
    (dict(bots="none", bot_share=0.2), "bot_share needs bots"),
    (dict(bot_mix="spammer:1,robot:1"), "unknown class 'robot'"),
    (dict(bot_mix="spammer:0"), "weights must be >= 0 and not all 0"),
    (dict(bot_share=0), "bot_share"),
    (dict(bot_difficulty="extreme"), "bot_difficulty"),
])  # fmt: skip
def test_bad_bot_settings_are_one_clear_error(small_cfg, kw, message):
    with pytest.raises(ProfilegenError, match=re.escape(message)):
        small_cfg(**{"bots": "mixed", **kw})


def test_no_bots_hashes_as_before(small_cfg):
    human = small_cfg()
    assert "bot_share" not in json.dumps(human.dataset_fields())
    assert small_cfg(bots="mixed").config_hash != human.config_hash
