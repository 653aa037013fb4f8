"""What the detectors read from a finished dataset, shard by shard, and nothing more: the
profile columns the features need (an avatar's validity, never its bytes), the labels, the
follows' endpoints and the posts' few columns. A user's posts live in the user's own shard,
so the activity of a shard's users is measured from that shard alone; the follows and the
text signatures are gathered over all shards (graph and near-duplicates cross shards).
"""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.core.arrays import Lookup
from pipeline.dataset.storage import Store
from pipeline.detect import features as F
from pipeline.errors import ProfilegenError

LABELS = ["account_type", "campaign_id", "split", "decoy"]
POST_COLUMNS = ["user_id", "created_at", "kind", "text", "hashtags", "mentions", "like_count"]


@dataclass
class Inputs:
    """One dataset's labels and feature inputs, row i = the i-th profile in shard order."""

    profiles: pa.Table  # PROFILE_COLUMNS and the labels present
    default_profile: np.ndarray  # bool: no avatar
    behaviour: np.ndarray  # rows x len(behaviour_names): graph, posts, population
    behaviour_names: list[str]
    tables: list[str]  # the tables the behaviour features were measured on


def _file(store: Store, rel: str) -> pq.ParquetFile:
    fs, path = store.arrow(rel)
    return pq.ParquetFile(fs.open_input_file(path) if fs else path)


def _read_profiles(store: Store, rel: str) -> tuple[pa.Table, np.ndarray]:
    f = _file(store, rel)
    names = f.schema_arrow.names
    columns = ["user_id"] + [c for c in F.PROFILE_COLUMNS + LABELS if c in names]
    # "avatar.path" reads only the path's column chunks: its definition levels still say
    # which avatars are null, and the image bytes are never read.
    t = f.read(columns=columns + (["avatar.path"] if "avatar" in names else []))
    if "avatar" in names:
        default = pc.is_null(t["avatar"]).to_numpy(zero_copy_only=False)
        t = t.drop_columns(["avatar"])
    else:  # generated with --avatars none: nobody has a picture
        default = np.ones(t.num_rows, bool)
    if "bio" not in names:  # --bios none
        t = t.append_column("bio", pa.array([""] * t.num_rows, pa.string()))
    return t, default


def read_inputs(store: Store, manifest: dict) -> Inputs:
    """Everything the detectors need from the dataset in `store` (its `manifest`)."""
    try:
        with store.user_errors("read"):
            return _read_inputs(store, manifest)
    except (OSError, KeyError, pa.ArrowException) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ProfilegenError(f"cannot read the dataset {store.url}: {first}") from None


def _read_inputs(store: Store, manifest: dict) -> Inputs:
    shards = manifest["shards"]
    parts = [_read_profiles(store, s["file"]) for s in shards]
    profiles = pa.concat_tables([t for t, _ in parts])
    missing = [c for c in ("account_type", "split") if c not in profiles.column_names]
    if missing:
        raise ProfilegenError(
            f"{store.url} has no {' or '.join(missing)} column (generated with --bots none?): "
            f"no labels to train a detector on"
        )
    default = np.concatenate([d for _, d in parts])
    n = profiles.num_rows
    rows = Lookup(profiles["user_id"].to_numpy())
    bounds = np.cumsum([0] + [t.num_rows for t, _ in parts])
    names, blocks, tables = [], [], []

    follows = [s["tables"]["follows"]["file"] for s in shards if "follows" in s.get("tables", {})]
    if follows:
        src, dst, day = [], [], []
        for rel in follows:
            t = _file(store, rel).read(columns=["follower_id", "followee_id", "created_at"])
            a, b = rows(t["follower_id"].to_numpy()), rows(t["followee_id"].to_numpy())
            ok = (a >= 0) & (b >= 0)
            src.append(a[ok].astype(np.int32))
            dst.append(b[ok].astype(np.int32))
            day.append((F.epoch_ms(t["created_at"]) // F.DAY_MS)[ok].astype(np.int32))
        blocks.append(F.graph_features(n, *map(np.concatenate, (src, dst, day))))
        names += F.GRAPH_FEATURES
        tables.append("follows")

    if all("posts" in s.get("tables", {}) for s in shards):
        activity = np.full((n, len(F.ACTIVITY_FEATURES)), np.nan)
        users, keys, hours = [], [], []
        for i, s in enumerate(shards):
            start, stop = bounds[i], bounds[i + 1]
            t = _file(store, s["tables"]["posts"]["file"]).read(columns=POST_COLUMNS)
            row = rows(t["user_id"].to_numpy())
            mine = (row >= start) & (row < stop)
            t, row = t.filter(pa.array(mine)), row[mine]
            activity[start:stop] = F.activity_features(stop - start, t, row - start)
            u, k, h = _signatures(t, row)
            users.append(u)
            keys.append(k)
            hours.append(h)
        blocks.append(activity)
        blocks.append(F.duplicate_features(n, np.concatenate(users), np.concatenate(keys),
                                           np.concatenate(hours)))  # fmt: skip
        names += F.ACTIVITY_FEATURES + F.DUPLICATE_FEATURES
        tables.append("posts")

    blocks.append(F.population_features(F.epoch_ms(profiles["created_at"])))
    names += F.POPULATION_FEATURES
    return Inputs(profiles, default, np.column_stack(blocks), names, tables)


def _signatures(posts: pa.Table, row: np.ndarray) -> tuple[np.ndarray, ...]:
    """(author row, band keys, UTC hour number) of each user's first MAX_HASHED posts and
    replies that have text."""
    t = F.epoch_ms(posts["created_at"])
    kind = posts["kind"].to_numpy(zero_copy_only=False)
    texted = np.flatnonzero(np.isin(kind, ["post", "reply"])
                            & posts["text"].is_valid().to_numpy(zero_copy_only=False))  # fmt: skip
    texted = texted[np.lexsort((t[texted], row[texted]))]
    if not len(texted):
        return np.zeros(0, np.int64), np.zeros((0, F.BANDS), np.uint64), np.zeros(0, np.int64)
    r = row[texted]
    first = np.r_[True, r[1:] != r[:-1]]
    rank = np.arange(len(r)) - np.maximum.accumulate(np.where(first, np.arange(len(r)), 0))
    texted = texted[rank < F.MAX_HASHED]
    index, keys = F.text_signatures(posts["text"].take(pa.array(texted)))
    picked = texted[index]
    return row[picked].astype(np.int32), keys, (t[picked] // F.HOUR_MS).astype(np.int32)
