"""`profilegen export --format twibot22`, read the way TwiBot-22's own baselines read
TwiBot-22 (github.com/LuoUndergradXJTU/TwiBot-22, src/): pandas and json on the same
files, the same columns and fields, the same joins; then checked against the Parquet."""

import csv
import json
import time
from collections import Counter
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from flows.cli import app
from pipeline.dataset.validate import load_table
from pipeline.export import export_dataset
from pipeline.export.twibot22 import DEFAULT_IMAGE

FILES = ["user.json", *(f"tweet_{i}.json" for i in range(9)), "edge.csv", "label.csv",
         "split.csv", "profilegen-export.json"]  # fmt: skip


@pytest.fixture(scope="module")
def exported(labelled, tmp_path_factory):
    out = tmp_path_factory.mktemp("twibot22") / "t"
    r = CliRunner().invoke(app, ["export", str(labelled), "--format", "twibot22", "--out",
                                 str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "exported 300 users" in r.output
    return labelled, out


def test_the_export_has_twibot22s_files(exported):
    _, out = exported
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)


def test_botrgcn_preprocessing_runs_on_it(exported):
    """BotRGCN's twibot_22/preprocess_1.py, step by step: users from pd.read_json, labels and
    splits by id, follow edges by relation, numeric and categorical properties, tweets per
    user from tweet_0..8.json."""
    src, path = exported
    user = pd.read_json(path / "user.json")
    edge = pd.read_csv(path / "edge.csv")
    uid_index = {uid: i for i, uid in enumerate(user["id"].values)}
    label = pd.read_csv(path / "label.csv")
    split = pd.read_csv(path / "split.csv")
    uid_label = dict(zip(label["id"].values, label["label"].values, strict=True))
    uid_split = dict(zip(split["id"].values, split["split"].values, strict=True))
    labels = [0 if uid_label[u] == "human" else 1 for u in user["id"].values]
    sets = Counter(uid_split[u] for u in user["id"].values)

    edge_index, edge_type = [], []
    for s, r, t in zip(edge["source_id"], edge["relation"], edge["target_id"], strict=True):
        if r in ("followers", "following"):
            edge_index.append([uid_index[s], uid_index[t]])
            edge_type.append(0 if r == "followers" else 1)
    edge_index = torch.LongTensor(edge_index).t()

    metrics = user["public_metrics"]
    followers = [m["followers_count"] for m in metrics]
    statuses = [m["tweet_count"] for m in metrics]
    created_at = pd.to_datetime(user["created_at"], unit="s")
    date0 = datetime.strptime("Tue Sep 5 00:00:00 +0000 2020 ", "%a %b %d %X %z %Y ")
    active_days = [(date0 - each).days for each in created_at]
    default_image = [int(u is None or u == "" or u == DEFAULT_IMAGE)
                     for u in user["profile_image_url"]]  # fmt: skip
    verified = [int(v is True) for v in user["verified"]]
    descriptions = list(user["description"])

    id_tweet = {i: [] for i in range(len(user))}
    for i in range(9):
        with open(path / f"tweet_{i}.json") as f:
            for each in json.load(f):
                id_tweet[uid_index["u" + str(each["author_id"])]].append(each["text"])

    # The same facts, from the Parquet.
    p = load_table(src).to_pandas()
    follows, posts = load_table(src, "follows"), load_table(src, "posts")
    assert list(user["id"]) == [f"u{u}" for u in p["user_id"]]
    assert labels == list((p["account_type"] != "human").astype(int))
    assert 0 < sum(labels) < len(labels)
    assert sets == Counter(p["split"].replace({"validation": "valid"}))
    assert set(sets) == {"train", "valid", "test"}
    assert edge_index.shape == (2, 2 * follows.num_rows)
    assert Counter(edge_type) == {0: follows.num_rows, 1: follows.num_rows}
    index = {u: i for i, u in enumerate(p["user_id"])}
    ends = zip(follows["follower_id"].to_pylist(), follows["followee_id"].to_pylist(), strict=True)
    pairs = {(index[a], index[b]) for a, b in ends}
    following = edge_index[:, torch.tensor(edge_type) == 1].t().tolist()
    followers_of = edge_index[:, torch.tensor(edge_type) == 0].t().tolist()
    assert {tuple(e) for e in following} == pairs
    assert {(b, a) for a, b in followers_of} == pairs  # A is followed by B
    assert followers == list(p["followers_count"]) and statuses == list(p["posts_count"])
    days = (pd.Timestamp(date0) - p["created_at"]).dt.days
    assert active_days == list(days)
    assert default_image == list(p["avatar"].isna().astype(int))
    assert sum(default_image) > 0  # the bots with a default image
    assert verified == list(p["verified"].astype(int))
    assert descriptions == list(p["bio"].fillna(""))
    assert sum(map(len, id_tweet.values())) == posts.num_rows
    assert [len(id_tweet[i]) for i in range(len(user))] == list(p["posts_in_dataset"])
    assert all(isinstance(t, str) and t for ts in id_tweet.values() for t in ts)


def test_csv_reader_and_strptime_loaders_run_on_it(exported):
    """EvolveBot's and Alhosseini's shape: split.csv by row, user.json with json.load and
    created_at parsed with strptime, edge.csv with csv.reader (quotechar '|'), a user's
    tweets from its `post` edges."""
    src, path = exported
    split = pd.read_csv(path / "split.csv")
    uid_to_user_index = {}
    for _, row in split.iterrows():
        if row["split"] in ("train", "test", "valid"):
            uid_to_user_index[row["id"]] = len(uid_to_user_index)
    with open(path / "user.json", encoding="UTF-8") as f:
        users = json.load(f)
    stop_time = time.mktime(time.strptime("2026-01-01 00:00:00+00:00", "%Y-%m-%d %H:%M:%S+00:00"))
    ages = {}
    for x in users:
        assert x["id"][0] == "u"
        seen = time.strptime(x["created_at"].strip(), "%Y-%m-%d %H:%M:%S+00:00")
        ages[x["id"]] = stop_time - time.mktime(seen)
    tweets_of = Counter()
    with open(path / "edge.csv") as f:
        for row in csv.reader(f, delimiter=",", quotechar="|"):
            if row[1] == "post":
                tweets_of[uid_to_user_index[row[0]]] += 1
                assert row[2][0] == "t"
    p = load_table(src, columns=["user_id", "posts_in_dataset"]).to_pandas()
    assert len(uid_to_user_index) == len(users) == len(p) and min(ages.values()) > 0
    assert [tweets_of[i] for i in range(len(p))] == list(p["posts_in_dataset"])


def test_tweet_relations_join_like_friendbots(exported):
    """FriendBot's shape: users and tweets indexed by id, author via 'u' + str(author_id);
    every mentioned / retweeted / replied_to edge resolves (no KeyError), and matches the
    posts table."""
    src, path = exported
    user = json.load(open(path / "user.json"))
    tweets = [t for i in range(9) for t in json.load(open(path / f"tweet_{i}.json"))]
    edge = pd.read_csv(path / "edge.csv")
    id_map = {u["id"]: i for i, u in enumerate(user)}
    tid_map = {t["id"]: i for i, t in enumerate(tweets)}
    author = [t["author_id"] for t in tweets]
    pairs = {}
    for relation in ("mentioned", "retweeted", "replied_to"):
        rows = edge.values[edge["relation"].values == relation]
        user_of = (lambda t: id_map[t]) if relation == "mentioned" else (
            lambda t: id_map["u" + str(author[tid_map[t]])])  # fmt: skip
        pairs[relation] = [(id_map["u" + str(author[tid_map[s]])], user_of(t)) for s, _, t in rows]
    posts = load_table(src, "posts").to_pandas()
    assert len(tweets) == len(posts) and len(tid_map) == len(tweets)
    assert len(pairs["replied_to"]) == posts["reply_to_post_id"].notna().sum() > 0
    assert len(pairs["retweeted"]) == posts["repost_of_post_id"].notna().sum() > 0
    reposts = posts["kind"] == "repost"
    assert len(pairs["mentioned"]) == posts["mentions"].map(len).sum() + reposts.sum()


def test_tweets_read_like_lobos(exported):
    """LOBO's per-tweet features: entities (hashtags' tag, mentions' username, urls),
    public_metrics.like_count, source, created_at, and 'RT' opening a retweet's text."""
    src, path = exported
    by_id = {}
    for i in range(9):
        for piece in json.load(open(path / f"tweet_{i}.json")):
            datetime.strptime(piece["created_at"].replace("+00:00", ""), "%Y-%m-%d %H:%M:%S")
            assert piece["geo"] is None and piece["source"] is None
            entities = piece["entities"] or {}
            tags = [h["tag"] for h in entities.get("hashtags", [])]
            for m in entities.get("mentions", []):
                assert piece["text"][m["start"] : m["end"]] == "@" + m["username"]
            by_id[int(piece["id"][1:])] = (piece, tags)
    posts = load_table(src, "posts").to_pylist()  # ids stay exact ints (pandas: floats)
    users = load_table(src, columns=["user_id", "username"]).to_pylist()
    name = {u["user_id"]: u["username"] for u in users}
    for row in posts:
        piece, tags = by_id[row["post_id"]]
        assert piece["public_metrics"]["like_count"] == row["like_count"]
        assert piece["public_metrics"]["retweet_count"] == row["repost_count"]
        if row["kind"] == "repost":
            original, _ = by_id[row["repost_of_post_id"]]
            author = name[original["author_id"]]
            assert piece["text"] == f"RT @{author}: {original['text']}"
            assert piece["referenced_tweets"] == [{"id": row["repost_of_post_id"],
                                                   "type": "retweeted"}]  # fmt: skip
        else:
            assert piece["text"] == row["text"]
            assert set(row["hashtags"]) <= {"#" + t for t in tags}
        if row["kind"] == "reply":
            parent, _ = by_id[row["reply_to_post_id"]]
            assert piece["in_reply_to_user_id"] == parent["author_id"]


def test_the_same_dataset_exports_to_the_same_bytes(exported, tmp_path):
    src, first = exported
    again = tmp_path / "again"
    export_dataset(src, "twibot22", again)
    for name in FILES:
        assert (again / name).read_bytes() == (first / name).read_bytes(), name
    summary = export_dataset(src, "twibot22", again)  # over an earlier export: allowed
    assert summary == json.loads((first / "profilegen-export.json").read_text())
    assert set(summary["files"]) == set(FILES) - {"profilegen-export.json"}
    assert summary["labels"]["bot"] == int(np.sum(load_table(src)["account_type"].to_numpy(
        zero_copy_only=False) != "human"))  # fmt: skip


def test_an_export_goes_to_an_object_store_as_the_same_bytes(exported):
    import fsspec

    src, local = exported
    export_dataset(src, "twibot22", "memory://twibot22-export")
    fs = fsspec.filesystem("memory")
    for name in FILES:
        assert fs.cat_file(f"/twibot22-export/{name}") == (local / name).read_bytes(), name


@pytest.mark.parametrize(
    "args, message",
    [
        (["{tmp}/nothing", "--format", "twibot22"], "holds no finished profilegen dataset"),
        (["{unlabelled}", "--format", "twibot22"], "has no account_type column"),
        (["{src}", "--format", "botometer"], "unknown export format 'botometer'"),
        (["{src}", "--format", "twibot22", "--out", "{src}"], "is not empty and holds no"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(labelled, unlabelled, tmp_path,
                                                         args, message):  # fmt: skip
    out = tmp_path / "out"
    args = [a.format(tmp=tmp_path, src=labelled, unlabelled=unlabelled) for a in args]
    if "--out" not in args:
        args += ["--out", str(out)]
    before = sorted(p.stat().st_mtime_ns for p in labelled.rglob("*"))
    r = CliRunner().invoke(app, ["export", *args])
    assert r.exit_code == 2 and message in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1
    assert not out.exists()
    assert sorted(p.stat().st_mtime_ns for p in labelled.rglob("*")) == before


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory):
    """A dataset without the accounts stage's columns (--bots none)."""
    from pipeline import write_dataset
    from pipeline.config import build_config

    out = tmp_path_factory.mktemp("plain") / "d"
    cfg = build_config(None, rows=40, avatars="none", bios="none", posts="none",
                       follows="none", bots="none", out=str(out))  # fmt: skip
    write_dataset(cfg, "auto", out)
    return out
