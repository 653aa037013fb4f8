"""A dataset in TwiBot-22's layout (Feng et al., NeurIPS 2022; the files and loaders of
github.com/LuoUndergradXJTU/TwiBot-22), so the detectors of that benchmark run on it as
they run on TwiBot-22.

    user.json                  one JSON array of users, Twitter API v2 fields as TwiBot-22 has them
    tweet_0.json .. tweet_8.json  the posts as tweets: nine JSON arrays, like TwiBot-22's nine
                               (its loaders loop over range(9)); posts in dataset order, split
                               into nine near-equal runs (some are `[]` for tiny datasets)
    edge.csv                   source_id,relation,target_id
    label.csv                  id,label       human | bot (every account_type but human)
    split.csv                  id,split       train | valid | test (our `validation` is `valid`)
    profilegen-export.json     what was exported from which dataset, with sha256s: written last

Ids are TwiBot-22's: users `u<user_id>`, tweets `t<post_id>`. Inside a tweet the references
are bare integers (`author_id`, `in_reply_to_user_id`, `referenced_tweets[].id`), as in
TwiBot-22, whose loaders join with `'u' + str(author_id)`.

Users: `name` display_name, `description` bio ("" when none), `created_at` and tweets'
`created_at` as "YYYY-MM-DD HH:MM:SS+00:00", `location` "city, region", `url` the website
("" when none), `public_metrics` {followers_count, following_count, tweet_count (declared
posts_count), listed_count 0}, `verified`, `protected` false, `profile_image_url` an
example.org URL where the row has an avatar and Twitter's default-image URL where it has
none (what TwiBot-22's loaders test for), `entities` (urls, hashtags, mentions found in the
bio and the website, or null). Tweets: `text` (a repost reads "RT @author: original text",
as retweets do), `lang`, `public_metrics` {like_count, reply_count, retweet_count,
quote_count 0}, `entities` from the text, `referenced_tweets` (replied_to / retweeted),
`source` and `geo` null (not modelled).

Relations in edge.csv: `following` (A follows B) and `followers` (A is followed by B), one of
each per follow; `post` (user -> tweet); `replied_to`, `retweeted` (tweet -> tweet);
`mentioned` (tweet -> user). TwiBot-22's list and hashtag entities are not written.

Files are built shard by shard in a temporary file (TMPDIR), never whole in memory, then put
into the output store atomically (an object store's put holds one file in memory while it
uploads); the same dataset gives the same bytes. What is held across shards: the users'
labels and usernames and the posts that replies and reposts point at (~100 bytes each).
"""

import hashlib
import json
import mmap
import re
import tempfile
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from pipeline.dataset.storage import Store, open_store
from pipeline.dataset.validate import load_table
from pipeline.dataset.writer import Location, read_manifest, read_shard, read_shard_schema
from pipeline.errors import ProfilegenError

FORMAT = "twibot22"
MARKER = "profilegen-export.json"
TWEET_FILES = 9
SPLITS = {"train": "train", "validation": "valid", "test": "test"}
DEFAULT_IMAGE = "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"
IMAGE_URL = "https://example.org/profile_images/{}.png"  # RFC 2606: no real host
TIME = "%Y-%m-%d %H:%M:%S+00:00"

USER_COLUMNS = ["user_id", "username", "display_name", "created_at", "city", "region",
                "followers_count", "following_count", "posts_count", "verified"]  # fmt: skip
OPTIONAL_USER_COLUMNS = ["bio", "website"]
POST_COLUMNS = ["post_id", "user_id", "created_at", "text", "language", "reply_to_post_id",
                "repost_of_post_id", "like_count", "reply_count", "repost_count"]  # fmt: skip

REFS = pa.schema([("post_id", pa.int64()), ("user_id", pa.int64()), ("text", pa.string()),
                  ("language", pa.string())])  # fmt: skip

# Trailing punctuation is the sentence's, not the URL's; usernames here may hold dots.
_URL = re.compile(r"https?://[^\s]*[^\s.,;:!?)\]'\"]")
_HASHTAG = re.compile(r"(?<![\w#])#(\w*[^\W\d_]\w*)")  # a hashtag holds a letter (#76 is not one)
_MENTION = re.compile(r"(?<![\w@])@(\w(?:[\w.]*\w)?)")


BATCH = 10_000  # rows turned into JSON at a time: a batch's dicts, never a shard's


def export(src: Location, out: Location) -> dict[str, Any]:
    source = open_store(src)
    manifest = read_manifest(source)
    shards = manifest["shards"]
    columns = read_shard_schema(source, shards[0]["file"]).names
    for needed in ("account_type", "split"):
        if needed not in columns:
            raise ProfilegenError(
                f"{source.url} has no {needed} column (generated with --bots none?): "
                f"TwiBot-22's label.csv and split.csv need the accounts stage's labels"
            )
    labels = _labels(source)
    refs = _referenced(source, shards)
    target = open_store(out)
    _check_target(target)

    target.remove(MARKER)  # an earlier export stays unfinished until this one lands
    files = {"user.json": _put(target, "user.json", _user_json(source, shards, columns))}
    total = sum(s.get("tables", {}).get("posts", {}).get("rows", 0) for s in shards)
    tweets = _tweet_json(source, shards, refs)
    for k, chunks in enumerate(_split_json(tweets, total, TWEET_FILES)):
        files[f"tweet_{k}.json"] = _put(target, f"tweet_{k}.json", chunks)
    edges: dict[str, int] = {}
    files["edge.csv"] = _put(target, "edge.csv", _edge_csv(source, shards, refs, edges))
    files["label.csv"] = _put(target, "label.csv", _csv("label", labels))
    files["split.csv"] = _put(target, "split.csv", _csv("split", labels))
    summary = {
        "format": FORMAT,
        "source": {"config_hash": manifest.get("config_hash"), "rows": manifest.get("rows")},
        "users": labels.num_rows,
        "tweets": total,
        "edges": edges,
        "labels": _counts(labels["label"]),
        "splits": _counts(labels["split"]),
        "files": files,
    }
    target.put_bytes(MARKER, (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode())
    return summary


def _check_target(store: Store) -> None:
    store.check_writable()
    with store.user_errors("read"):
        names = store.list()
    if names and MARKER not in names:
        raise ProfilegenError(
            f"output directory {store.url} is not empty and holds no profilegen export "
            f"({', '.join(names[:3])}...); choose an empty or new directory"
        )


def _labels(source: Store) -> pa.Table:
    """id, label, split of every user in dataset order, checked before anything is written."""
    t = load_table(source, "profiles", ["user_id", "account_type", "split"]).combine_chunks()
    unknown = set(pc.unique(t["split"]).to_pylist()) - set(SPLITS)
    if unknown or t["account_type"].null_count:
        what = f"split values {sorted(map(str, unknown))}" if unknown else "a null account_type"
        raise ProfilegenError(f"{source.url} has {what}; expected train/validation/test")
    human = pc.equal(t["account_type"], "human")
    valid = pc.equal(t["split"], "validation")
    return pa.table({"id": _ids("u", t["user_id"]), "label": pc.if_else(human, "human", "bot"),
                     "split": pc.if_else(valid, SPLITS["validation"], t["split"])})  # fmt: skip


def _counts(col: pa.ChunkedArray) -> dict[str, int]:
    return {v["values"]: v["counts"] for v in pc.value_counts(col).to_pylist()}


def _batches(t: pa.Table) -> Iterable[pa.Table]:
    for start in range(0, t.num_rows, BATCH):
        yield t.slice(start, BATCH).combine_chunks()


# ---- users --------------------------------------------------------------------------


def _user_json(source: Store, shards: list[dict], columns: list[str]) -> Iterable[bytes]:
    wanted = USER_COLUMNS + [c for c in OPTIONAL_USER_COLUMNS if c in columns]
    lines = _JsonArray()
    for shard in shards:
        t = read_shard(source, shard["file"], wanted)
        image = _has_avatar(source, shard["file"]) if "avatar" in columns else None
        for start, batch in zip(range(0, t.num_rows, BATCH), _batches(t), strict=True):
            has = None if image is None else image[start : start + BATCH]
            yield lines.add(_encode(_users(batch, has)))
    yield lines.close()


def _users(t: pa.Table, image: np.ndarray | None) -> list[dict]:
    c = {n: t[n].to_pylist() for n in t.column_names if n != "created_at"}
    created = _times(t["created_at"])
    n = t.num_rows
    bios, sites = c.get("bio", [None] * n), c.get("website", [None] * n)
    out = []
    for i in range(n):
        uid, bio, site = c["user_id"][i], bios[i] or "", sites[i] or ""
        city, region = c["city"][i], c["region"][i]
        entities = {}
        if site:
            entities["url"] = {"urls": [_url_entity(0, len(site), site)]}
        if bio_entities := _entities(bio):
            entities["description"] = bio_entities
        out.append({
            "created_at": created[i],
            "description": bio,
            "entities": entities or None,
            "id": f"u{uid}",
            "location": city if not region or region == city else f"{city}, {region}",
            "name": c["display_name"][i],
            "pinned_tweet_id": None,
            "profile_image_url": IMAGE_URL.format(uid)
            if image is not None and image[i] else DEFAULT_IMAGE,
            "protected": False,
            "public_metrics": {
                "followers_count": c["followers_count"][i],
                "following_count": c["following_count"][i],
                "tweet_count": c["posts_count"][i],
                "listed_count": 0,
            },
            "url": site,
            "username": c["username"][i],
            "verified": c["verified"][i],
            "withheld": None,
        })  # fmt: skip
    return out


def _has_avatar(source: Store, rel: str) -> np.ndarray:
    """Which rows of a profiles shard have an image, reading the images a row group at a
    time (they are most of a shard's bytes)."""
    fs, path = source.arrow(rel)
    with fs.open_input_file(path) if fs else open(path, "rb") as f:
        batches = pq.ParquetFile(f).iter_batches(columns=["avatar"], batch_size=1000)
        parts = [pc.is_valid(pc.struct_field(b.column(0), "bytes")).to_numpy(zero_copy_only=False)
                 for b in batches]  # fmt: skip
    return np.concatenate(parts) if parts else np.zeros(0, bool)


# ---- tweets -------------------------------------------------------------------------


def _referenced(source: Store, shards: list[dict]) -> pa.Table:
    """post_id, user_id (the author), username, text, language of every post a reply or a
    repost points at, sorted by post_id; text and language only where a repost needs them.
    The one lookup that spans shards: as large as the references, not the posts."""
    parents, originals = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for rel in _post_files(shards):
        t = read_shard(source, rel, ["reply_to_post_id", "repost_of_post_id"])
        parents.append(t["reply_to_post_id"].drop_null().to_numpy())
        originals.append(t["repost_of_post_id"].drop_null().to_numpy())
    reposted = np.unique(np.concatenate(originals))
    wanted = np.union1d(np.concatenate(parents), reposted)
    found = [REFS.empty_table()]
    for rel in _post_files(shards):
        t = read_shard(source, rel, ["post_id", "user_id", "text", "language"])
        t = t.filter(pa.array(np.isin(t["post_id"].to_numpy(), wanted)))
        keep = pa.array(np.isin(t["post_id"].to_numpy(), reposted))
        none = pa.scalar(None, pa.string())
        t = t.set_column(2, "text", pc.if_else(keep, t["text"], none))
        found.append(t.set_column(3, "language", pc.if_else(keep, t["language"], none)).cast(REFS))
    refs = pa.concat_tables(found).sort_by("post_id").combine_chunks()
    if refs.num_rows != len(wanted):
        raise ProfilegenError(f"{source.url}: a post points at a post the dataset does not hold")
    users = load_table(source, "profiles", ["user_id", "username"]).sort_by("user_id")
    at = _lookup(users["user_id"].to_numpy(), refs["user_id"].to_numpy(), source.url)
    return refs.append_column("username", users["username"].take(pa.array(at)))


def _post_files(shards: list[dict]) -> list[str]:
    return [s["tables"]["posts"]["file"] for s in shards if "posts" in s.get("tables", {})]


def _lookup(keys: np.ndarray, ids: np.ndarray, where: str) -> np.ndarray:
    """Position of each of `ids` in the sorted `keys`; every id must be there."""
    at = np.searchsorted(keys, ids)
    if len(ids) and (at.max() >= len(keys) or (keys[at] != ids).any()):
        raise ProfilegenError(f"{where}: a reference to an id the dataset does not hold")
    return at


def _reference(col: pa.Array, refs: pa.Table, where: str) -> np.ndarray:
    """Row in `refs` of each post's reference (a reply's parent, a repost's original), -1
    where it has none."""
    at = np.full(len(col), -1, np.int64)
    has = pc.is_valid(col).to_numpy(zero_copy_only=False)
    at[has] = _lookup(refs["post_id"].to_numpy(), col.drop_null().to_numpy(), where)
    return at


def _tweet_json(source: Store, shards: list[dict], refs: pa.Table) -> Iterable[list[bytes]]:
    """Every post as a tweet's JSON line, a batch at a time."""
    for rel in _post_files(shards):
        for batch in _batches(read_shard(source, rel, POST_COLUMNS)):
            yield _encode(_tweets(batch, refs, rel))


def _tweets(t: pa.Table, refs: pa.Table, where: str) -> list[dict]:
    parent = _reference(t["reply_to_post_id"], refs, where)
    original = _reference(t["repost_of_post_id"], refs, where)
    of_parent = refs.take(pa.array(np.maximum(parent, 0))) if refs.num_rows else None
    of_original = refs.take(pa.array(np.maximum(original, 0))) if refs.num_rows else None
    text, lang = pc.coalesce(t["text"], ""), t["language"]
    reply_to = pa.nulls(t.num_rows, pa.int64())
    if refs.num_rows:
        repost = pa.array(original >= 0)
        rt = pc.binary_join_element_wise("RT @", of_original["username"], ": ",
                                         pc.coalesce(of_original["text"], ""), "")  # fmt: skip
        text, lang = pc.if_else(repost, rt, text), pc.if_else(repost, of_original["language"], lang)
        reply_to = pc.if_else(pa.array(parent >= 0), of_parent["user_id"], reply_to)
    c = {n: t[n].to_pylist() for n in ("post_id", "user_id", "reply_to_post_id",
                                       "repost_of_post_id", "like_count", "reply_count",
                                       "repost_count")}  # fmt: skip
    text, lang, reply_to = text.to_pylist(), lang.to_pylist(), reply_to.to_pylist()
    created = _times(t["created_at"])
    out = []
    for i in range(t.num_rows):
        refd = None
        if parent[i] >= 0:
            refd = [{"id": c["reply_to_post_id"][i], "type": "replied_to"}]
        elif original[i] >= 0:
            refd = [{"id": c["repost_of_post_id"][i], "type": "retweeted"}]
        out.append({
            "author_id": c["user_id"][i],
            "created_at": created[i],
            "entities": _entities(text[i]),
            "geo": None,
            "id": f"t{c['post_id'][i]}",
            "in_reply_to_user_id": reply_to[i],
            "lang": lang[i],
            "possibly_sensitive": False,
            "public_metrics": {
                "like_count": c["like_count"][i],
                "quote_count": 0,
                "reply_count": c["reply_count"][i],
                "retweet_count": c["repost_count"][i],
            },
            "referenced_tweets": refd,
            "reply_settings": "everyone",
            "source": None,
            "text": text[i],
            "withheld": None,
        })  # fmt: skip
    return out


def _split_json(batches: Iterable[list[bytes]], total: int, n: int) -> Iterable[Iterable[bytes]]:
    """`n` JSON arrays of the lines of `batches` in order, line g in array g*n // total. Each
    array's chunks are made while it is written (consume one before asking for the next)."""
    items = iter(batches)
    pending: list[bytes] = []
    done = 0

    def chunks(end: int) -> Iterable[bytes]:
        nonlocal pending, done
        array = _JsonArray()
        while done < end:
            if not pending:
                pending = next(items, None)
                if pending is None:
                    raise ProfilegenError(f"the posts hold {done} rows, the manifest {total}")
                continue
            take, pending = pending[: end - done], pending[end - done :]
            done += len(take)
            yield array.add(take)
        yield array.close()

    for k in range(n):
        yield chunks((k + 1) * total // n)


# ---- edges --------------------------------------------------------------------------


EDGE_ROWS = 500_000  # edges turned into CSV at a time


def _edge_csv(source: Store, shards: list[dict], refs: pa.Table,
              counts: dict[str, int]) -> Iterable[bytes]:  # fmt: skip
    yield b"source_id,relation,target_id\n"
    for shard in shards:
        for (a, src), relation, (b, dst) in _edges(source, shard.get("tables", {}), refs):
            counts[relation] = counts.get(relation, 0) + len(src)
            for start in range(0, len(src), EDGE_ROWS):
                s, d = src.slice(start, EDGE_ROWS), dst.slice(start, EDGE_ROWS)
                kind = pa.array(np.full(len(s), relation, dtype=object), pa.string())
                yield _rows(_ids(a, s), kind, _ids(b, d))


Ends = tuple[str, pa.Array]  # an id prefix (u, t) and the integer ids


def _edges(source: Store, tables: dict, refs: pa.Table) -> Iterable[tuple[Ends, str, Ends]]:
    """One shard's edges, a relation at a time: ((prefix, ids), relation, (prefix, ids))."""
    if "follows" in tables:
        f = read_shard(source, tables["follows"]["file"], ["follower_id", "followee_id"])
        follower, followee = (
            ("u", f["follower_id"].combine_chunks()),
            ("u", f["followee_id"].combine_chunks()),
        )
        yield follower, "following", followee
        yield followee, "followers", follower
    if "posts" not in tables:
        return
    rel = tables["posts"]["file"]
    p = read_shard(source, rel, ["post_id", "user_id", "reply_to_post_id", "repost_of_post_id",
                                 "mentions"]).combine_chunks()  # fmt: skip
    post = p["post_id"].combine_chunks()
    yield ("u", p["user_id"].combine_chunks()), "post", ("t", post)
    for col, relation in (("reply_to_post_id", "replied_to"), ("repost_of_post_id", "retweeted")):
        target = p[col].combine_chunks()
        has = pc.is_valid(target)
        yield ("t", post.filter(has)), relation, ("t", target.filter(has))
    # A repost mentions its original's author ("RT @author: ..."), as on Twitter.
    mentions = p["mentions"].combine_chunks()
    original = p["repost_of_post_id"].combine_chunks()
    at = _reference(original, refs, rel)
    rt_author = refs["user_id"].take(pa.array(at[at >= 0])).combine_chunks()
    src = pa.concat_arrays([post.take(pc.list_parent_indices(mentions)),
                            post.filter(pc.is_valid(original))])  # fmt: skip
    yield ("t", src), "mentioned", ("u", pa.concat_arrays([pc.list_flatten(mentions), rt_author]))


def _csv(name: str, labels: pa.Table) -> Iterable[bytes]:
    yield f"id,{name}\n".encode()
    yield _rows(labels["id"], labels[name])


def _ids(prefix: str, col: pa.Array | pa.ChunkedArray) -> pa.Array:
    ids = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return pc.binary_join_element_wise(prefix, pc.cast(ids, pa.string()), "")


def _rows(*cols: pa.Array | pa.ChunkedArray) -> pa.Buffer:
    """CSV rows as TwiBot-22's are: no quoting (no value holds a comma or a quote)."""
    sink = pa.BufferOutputStream()
    options = pcsv.WriteOptions(include_header=False, quoting_style="none")
    pcsv.write_csv(pa.table({str(i): c for i, c in enumerate(cols)}), sink, options)
    return sink.getvalue()


# ---- shared -------------------------------------------------------------------------


def _times(col: pa.ChunkedArray) -> list[str]:
    return pc.strftime(col.cast(pa.timestamp("s", "UTC"), safe=False), format=TIME).to_pylist()


def _entities(text: str) -> dict | None:
    """Twitter's entities of a text: urls, hashtags, mentions with their character spans."""
    out: dict[str, list] = {}
    for m in _URL.finditer(text):
        out.setdefault("urls", []).append(_url_entity(m.start(), m.end(), m.group()))
    for m in _HASHTAG.finditer(text):
        out.setdefault("hashtags", []).append({"start": m.start(), "end": m.end(),
                                               "tag": m.group(1)})  # fmt: skip
    for m in _MENTION.finditer(text):
        out.setdefault("mentions", []).append({"start": m.start(), "end": m.end(),
                                               "username": m.group(1)})  # fmt: skip
    return out or None


def _url_entity(start: int, end: int, url: str) -> dict:
    return {"start": start, "end": end, "url": url, "expanded_url": url,
            "display_url": re.sub(r"^https?://(www\.)?", "", url)}  # fmt: skip


def _encode(items: list[dict]) -> list[bytes]:
    # ASCII (\u escapes): TwiBot-22's loaders open files without naming an encoding.
    return [json.dumps(x, sort_keys=True).encode() for x in items]


class _JsonArray:
    """A JSON array written in pieces, one item a line: `[`, items, `]`."""

    def __init__(self) -> None:
        self.empty = True

    def add(self, lines: list[bytes]) -> bytes:
        if not lines:
            return b""
        head, self.empty = (b"[\n" if self.empty else b",\n"), False
        return head + b",\n".join(lines)

    def close(self) -> bytes:
        return b"[]\n" if self.empty else b"\n]\n"


def _put(store: Store, rel: str, chunks: Iterable[bytes]) -> dict[str, Any]:
    """Write the file made of `chunks` into `store` atomically (Store.put_bytes), spooled
    through a temporary file and a memory map so a multi-GB file is never in memory."""
    digest, size = hashlib.sha256(), 0
    with tempfile.TemporaryFile() as f:
        for chunk in chunks:
            f.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        f.flush()
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            store.put_bytes(rel, data)
    return {"bytes": size, "sha256": digest.hexdigest()}
