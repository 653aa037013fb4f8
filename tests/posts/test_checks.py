"""Every posts check of the validator, made to fail alone by one edit of a real dataset."""

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.dataset.validate import validate_dataset
from tests.dataset.test_validate import edit, manifest, only_fails, table

POST_CHECKS = [
    "posts by users of this dataset", "post_id unique", "posts_in_dataset = posts per user",
    "posts after their account exists", "posts before reference date", "post kinds known",
    "replies/reposts name a post of this dataset", "reply_to/repost_of only on replies/reposts",
    "replies and reposts after their parent", "reply_count/repost_count = rows that answer",
    "text on every post but reposts", "posts and replies <= 280 chars",
    "posts without prompt leaks", "post source is lm/template", "hashtags = the text's #tags",
    "mentions are users of this dataset", "mentions = the text's @usernames",
    "no self-mentions", "post language recorded",
]  # fmt: skip


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return {"_root": tmp_path_factory.mktemp("posts")}


@pytest.fixture
def ds(pristine, small_cfg, write_dataset, tmp_path):
    if "ds" not in pristine:
        src = pristine["_root"] / "d"
        write_dataset(small_cfg(rows=300, shard_rows=150, bios="template", follows="graph",
                                posts="template"), src)  # fmt: skip
        checks = validate_dataset(src)
        assert all(c.ok for c in checks), [c for c in checks if not c.ok]
        pristine["ds"] = (src, [c.name for c in checks])
    src, baseline = pristine["ds"]
    shutil.copytree(src, tmp_path / "d")
    return tmp_path / "d", baseline


def posts(d: Path) -> pa.Table:
    return pa.concat_tables(pq.read_table(d / s["tables"]["posts"]["file"])
                            for s in manifest(d)["shards"])  # fmt: skip


def edit_posts(d: Path, column: str, values: dict[int, object]) -> None:
    """Set `column` of global posts rows {row: value}, checksums kept valid."""
    m, start = manifest(d), 0
    for s in m["shards"]:
        part = s["tables"]["posts"]
        t = pq.read_table(d / part["file"])
        mine = {i - start: v for i, v in values.items() if start <= i < start + t.num_rows}
        start += t.num_rows
        if not mine:
            continue
        i = t.schema.get_field_index(column)
        col = t[column].to_pylist()
        for row, v in mine.items():
            col[row] = v
        field = t.schema.field(i)
        pq.write_table(t.set_column(i, field, pa.array(col, field.type)), d / part["file"])
        part["sha256"] = hashlib.sha256((d / part["file"]).read_bytes()).hexdigest()
    (d / "manifest.json").write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")


def plain_post(p: pa.Table, **want) -> int:
    """A row of kind post that nobody answers, with no mentions or hashtags."""
    for i, r in enumerate(p.to_pylist()):
        if (r["kind"] == "post" and not r["reply_count"] and not r["repost_count"]
                and not r["mentions"] and not r["hashtags"]
                and all(r[k] == v for k, v in want.items())):  # fmt: skip
            return i
    raise AssertionError("the fixture lacks a plain post")


def test_the_pristine_dataset_runs_every_posts_check(ds):
    assert [n for n in ds[1] if n in POST_CHECKS] == POST_CHECKS


def test_unknown_author(ds):
    d, baseline = ds
    p = posts(d)
    i = plain_post(p)
    edit_posts(d, "user_id", {i: 12345})
    row = table(d)["user_id"].to_pylist().index(p["user_id"][i].as_py())
    edit(d, "posts_in_dataset", {row: table(d)["posts_in_dataset"][row].as_py() - 1})
    only_fails(d, baseline, "posts by users of this dataset")


def test_duplicate_post_id(ds):
    d, baseline = ds
    p = posts(d)
    i = plain_post(p)
    edit_posts(d, "post_id", {i: p["post_id"][i - 1 if i else i + 1].as_py()})
    only_fails(d, baseline, "post_id unique")


def test_posts_in_dataset_off_by_one(ds):
    d, baseline = ds
    edit(d, "posts_in_dataset", {5: table(d)["posts_in_dataset"][5].as_py() + 1})
    only_fails(d, baseline, "posts_in_dataset = posts per user")


@pytest.mark.parametrize("when, check", [
    (dt.datetime(2001, 1, 1, tzinfo=dt.UTC), "posts after their account exists"),
    (dt.datetime(2030, 1, 1, tzinfo=dt.UTC), "posts before reference date"),
])  # fmt: skip
def test_post_times(ds, when, check):
    d, baseline = ds
    edit_posts(d, "created_at", {plain_post(posts(d)): when})
    only_fails(d, baseline, check)


def test_unknown_kind(ds):
    d, baseline = ds
    edit_posts(d, "kind", {plain_post(posts(d)): "tweet"})
    only_fails(d, baseline, "post kinds known")


def _reply(p: pa.Table) -> int:
    return p["kind"].to_pylist().index("reply")


def test_broken_reference(ds):
    d, baseline = ds
    p = posts(d)
    i = _reply(p)
    parent = p["post_id"].to_pylist().index(p["reply_to_post_id"][i].as_py())
    edit_posts(d, "reply_to_post_id", {i: 12345})
    edit_posts(d, "reply_count", {parent: p["reply_count"][parent].as_py() - 1})
    only_fails(d, baseline, "replies/reposts name a post of this dataset")


def test_reference_on_the_wrong_kind(ds):
    d, baseline = ds
    edit_posts(d, "kind", {_reply(posts(d)): "post"})
    only_fails(d, baseline, "reply_to/repost_of only on replies/reposts")


def test_reply_not_after_its_parent(ds):
    d, baseline = ds
    p = posts(d)
    ids, times = p["post_id"].to_pylist(), p["created_at"].to_pylist()
    # A reply whose parent came after the replier's account: moving the reply onto the
    # parent's very second breaks only this promise.
    created = dict(zip(table(d)["user_id"].to_pylist(), table(d)["created_at"].to_pylist(),
                       strict=True))  # fmt: skip
    for i, r in enumerate(p.to_pylist()):
        if r["kind"] == "reply":
            t = times[ids.index(r["reply_to_post_id"])]
            if t > created[r["user_id"]]:
                edit_posts(d, "created_at", {i: t})
                break
    only_fails(d, baseline, "replies and reposts after their parent")


def test_reply_count_off_by_one(ds):
    d, baseline = ds
    i = plain_post(posts(d))
    edit_posts(d, "reply_count", {i: 1})
    only_fails(d, baseline, "reply_count/repost_count = rows that answer")


@pytest.mark.parametrize("text, check", [
    (None, "text on every post but reposts"),
    ("so much to say " * 20, "posts and replies <= 280 chars"),
    ("Here's a post about my weekend plans.", "posts without prompt leaks"),
])  # fmt: skip
def test_bad_texts(ds, text, check):
    d, baseline = ds
    edit_posts(d, "text", {plain_post(posts(d)): text})
    only_fails(d, baseline, check)


def test_unknown_source(ds):
    d, baseline = ds
    edit_posts(d, "source", {plain_post(posts(d)): "gpt"})
    only_fails(d, baseline, "post source is lm/template")


def test_hashtags_not_in_the_text(ds):
    d, baseline = ds
    edit_posts(d, "hashtags", {plain_post(posts(d)): ["#Fake"]})
    only_fails(d, baseline, "hashtags = the text's #tags")


def test_mention_of_an_unknown_user(ds):
    d, baseline = ds
    edit_posts(d, "mentions", {plain_post(posts(d)): [12345]})
    only_fails(d, baseline, "mentions are users of this dataset")


def test_mention_missing_from_the_text(ds):
    d, baseline = ds
    p = posts(d)
    i = plain_post(p)
    other = next(u for u in table(d)["user_id"].to_pylist() if u != p["user_id"][i].as_py())
    edit_posts(d, "mentions", {i: [other]})
    only_fails(d, baseline, "mentions = the text's @usernames")


def test_self_mention(ds):
    d, baseline = ds
    p = posts(d)
    i = plain_post(p)
    me = p["user_id"][i].as_py()
    t = table(d)
    name = t["username"][t["user_id"].to_pylist().index(me)].as_py()
    edit_posts(d, "mentions", {i: [me]})
    edit_posts(d, "text", {i: p["text"][i].as_py()[:200] + " @" + name})
    only_fails(d, baseline, "no self-mentions")


def test_text_without_a_language(ds):
    d, baseline = ds
    edit_posts(d, "language", {plain_post(posts(d)): None})
    only_fails(d, baseline, "post language recorded")
