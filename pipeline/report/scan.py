"""Streaming passes over a dataset's Parquet files: what the report draws, in bounded memory.

Each table is read shard by shard in record batches of BATCH rows, and only the columns the
report needs; every statistic is a fixed-size histogram, a counter of a categorical column,
or a "k smallest keys per group" sample (keys are a hash of the row's id, so the sample is
the same whatever the shard layout). The one thing that grows with the dataset is the
user_id -> (timezone, locale) lookup the posts need for their local hour and locale: 11
bytes per profile, and only when the dataset has a posts or follows table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.core.rng import splitmix64
from pipeline.dataset.storage import Store

BATCH = 65_536
AGES = 101  # ages 0..100: the identity stage's range is 13..100
# The age bands the report groups occupations by (the identity stage's weighting bands).
BANDS = ((13, 17), (18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 100))
BAND_NAMES = tuple(f"{lo}-{hi}" if hi < 100 else f"{lo}+" for lo, hi in BANDS)
SAMPLE_PER_LOCALE = 3  # bios and posts shown per locale
THUMBS_PER_GROUP = 6  # avatars shown per gender x age band x skin group
READBACK_PER_GROUP = 24  # avatars per group the attribute classifier reads back
MAP_BINS = (360, 180)  # one-degree cells of longitude x latitude

PROFILE_COLUMNS = (
    "user_id",
    "gender",
    "age",
    "locale",
    "country_code",
    "latitude",
    "longitude",
    "timezone",
    "occupation",
    "interests",
    "city",
    "followers_in_dataset",
    "following_in_dataset",
    "posts_in_dataset",
    "bio",
    "bio_source",
    "avatar_attributes",
    "account_type",
    "campaign_id",
    "split",
    "decoy",
)
POST_COLUMNS = ("post_id", "user_id", "created_at", "kind", "text", "source")


def batches(store: Store, rel: str, columns: tuple[str, ...]) -> Iterator[pa.RecordBatch]:
    """The columns of `columns` that file `rel` has, BATCH rows at a time."""
    fs, path = store.arrow(rel)
    pf = pq.ParquetFile(fs.open_input_file(path) if fs else path)
    cols = [c for c in columns if c in pf.schema_arrow.names]
    yield from pf.iter_batches(batch_size=BATCH, columns=cols)


def sample_keys(ids: np.ndarray) -> np.ndarray:
    """A hash of each id: the sample order (a bijection, so no two rows tie)."""
    return splitmix64(ids.astype(np.uint64) ^ np.uint64(0x5EED_0F_2E90_27))


def codes(arr: pa.Array) -> tuple[np.ndarray, list]:
    """(integer code per row, the distinct values) of a categorical column; nulls get -1."""
    enc = pc.dictionary_encode(arr)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return idx, enc.dictionary.to_pylist()


def count_values(counter: Counter, arr: pa.Array) -> None:
    for row in pc.value_counts(arr.drop_null() if arr.null_count else arr).to_pylist():
        counter[row["values"]] += row["counts"]


def add_bincount(acc: np.ndarray, values: np.ndarray) -> np.ndarray:
    """acc + bincount(values), acc grown to fit: exact histograms of unbounded counts."""
    b = np.bincount(values)
    if len(b) > len(acc):
        acc = np.concatenate([acc, np.zeros(len(b) - len(acc), dtype=np.int64)])
    acc[: len(b)] += b
    return acc


class Sample:
    """The k rows of smallest key per group, kept as (key, payload) while streaming."""

    def __init__(self, k: int):
        self.k = k
        self.best: dict[Any, list[tuple[int, Any]]] = {}

    def offer(
        self, group: np.ndarray, names: list, keys: np.ndarray, payload: Callable[[int], Any]
    ) -> None:
        for g in np.unique(group):
            if g < 0:
                continue
            idx = np.flatnonzero(group == g)
            if len(idx) > self.k:
                idx = idx[np.argpartition(keys[idx], self.k)[: self.k]]
            cur = self.best.setdefault(names[g], [])
            cur.extend((int(keys[i]), payload(int(i))) for i in idx)
            cur.sort(key=lambda kv: kv[0])
            del cur[self.k :]

    def rows(self) -> dict[Any, list[Any]]:
        return {g: [p for _, p in kv] for g, kv in sorted(self.best.items())}


@dataclass
class ProfileStats:
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    age_by_gender: dict[str, np.ndarray] = field(default_factory=dict)
    locales: Counter = field(default_factory=Counter)
    countries: Counter = field(default_factory=Counter)
    cells: np.ndarray = field(default_factory=lambda: np.zeros(MAP_BINS, dtype=np.int64))
    occupations: list[Counter] = field(default_factory=lambda: [Counter() for _ in BANDS])
    interests: Counter = field(default_factory=Counter)
    in_degree: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    out_degree: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    posts_per_user: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    bio_sources: Counter = field(default_factory=Counter)
    bio_chars: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    account_types: Counter = field(default_factory=Counter)
    splits: Counter = field(default_factory=Counter)
    type_by_split: Counter = field(default_factory=Counter)
    campaigns: Counter = field(default_factory=Counter)
    decoys: Counter = field(default_factory=Counter)  # account_type of the decoy rows
    bios: Sample = field(default_factory=lambda: Sample(SAMPLE_PER_LOCALE))
    # (gender, age_band, skin) -> [(shard, row in shard, attributes)], READBACK_PER_GROUP each
    avatars: Sample = field(default_factory=lambda: Sample(READBACK_PER_GROUP))
    # user_id -> timezone and locale, sorted by user_id (only for datasets with posts)
    user_ids: np.ndarray | None = None
    user_zone: np.ndarray | None = None
    user_locale: np.ndarray | None = None
    zones: list[str] = field(default_factory=list)
    locale_names: list[str] = field(default_factory=list)


def scan_profiles(store: Store, files: list[str], need_users: bool) -> ProfileStats:
    s = ProfileStats()
    zone_index: dict[str, int] = {}
    locale_index: dict[str, int] = {}
    uids, zones, locs = [], [], []
    for shard, rel in enumerate(files):
        offset = 0
        for b in batches(store, rel, PROFILE_COLUMNS):
            if not s.columns:
                s.columns = b.schema.names
            _profile_batch(s, b, shard, offset)
            offset += b.num_rows
            if need_users and "timezone" in b.schema.names:
                uids.append(b["user_id"].to_numpy())
                zones.append(_global_codes(b["timezone"], zone_index, np.int16))
                locs.append(_global_codes(b["locale"], locale_index, np.int16))
    s.rows = sum(int(v.sum()) for v in s.age_by_gender.values())
    if uids:
        ids = np.concatenate(uids)
        order = np.argsort(ids, kind="stable")
        s.user_ids = ids[order]
        s.user_zone = np.concatenate(zones)[order]
        s.user_locale = np.concatenate(locs)[order]
        s.zones, s.locale_names = list(zone_index), list(locale_index)
    return s


def _global_codes(arr: pa.Array, index: dict[str, int], dtype) -> np.ndarray:
    idx, names = codes(arr)
    lookup = np.array([index.setdefault(n, len(index)) for n in names] + [-1], dtype=dtype)
    return lookup[idx]


def _profile_batch(s: ProfileStats, b: pa.RecordBatch, shard: int, offset: int) -> None:
    names = b.schema.names
    age = np.clip(b["age"].to_numpy(zero_copy_only=False).astype(np.int64), 0, AGES - 1)
    gender, genders = codes(b["gender"])
    for g, name in enumerate(genders):
        hist = s.age_by_gender.setdefault(name, np.zeros(AGES, dtype=np.int64))
        hist += np.bincount(age[gender == g], minlength=AGES)
    count_values(s.locales, b["locale"])
    count_values(s.countries, b["country_code"])
    if "latitude" in names and "longitude" in names:
        lat = b["latitude"].to_numpy(zero_copy_only=False)
        lon = b["longitude"].to_numpy(zero_copy_only=False)
        ok = np.isfinite(lat) & np.isfinite(lon)
        h, _, _ = np.histogram2d(lon[ok], lat[ok], bins=MAP_BINS, range=[[-180, 180], [-90, 90]])
        s.cells += h.astype(np.int64)
    if "occupation" in names:
        band = np.searchsorted([lo for lo, _ in BANDS], age, side="right") - 1
        for i in range(len(BANDS)):
            m = band == i
            if m.any():
                count_values(s.occupations[i], b["occupation"].filter(pa.array(m)))
    if "interests" in names:
        count_values(s.interests, pc.list_flatten(b["interests"]))
    for col, attr in (
        ("followers_in_dataset", "in_degree"),
        ("following_in_dataset", "out_degree"),
        ("posts_in_dataset", "posts_per_user"),
    ):
        if col in names:
            v = b[col].to_numpy(zero_copy_only=False).astype(np.int64)
            setattr(s, attr, add_bincount(getattr(s, attr), v))
    keys = sample_keys(b["user_id"].to_numpy())
    locale, locales = codes(b["locale"])
    if "bio" in names:
        _bios(s, b, keys, locale, locales)
    if "avatar_attributes" in names:
        _avatars(s, b, keys, shard, offset)
    for col, counter in (("account_type", s.account_types), ("split", s.splits)):
        if col in names:
            count_values(counter, b[col])
    if "account_type" in names and "split" in names:
        pairs = zip(b["account_type"].to_pylist(), b["split"].to_pylist(), strict=True)
        s.type_by_split.update(pairs)
    if "campaign_id" in names:
        count_values(s.campaigns, b["campaign_id"])
    if "decoy" in names and "account_type" in names:
        decoy = b["account_type"].filter(pc.fill_null(b["decoy"], False))
        count_values(s.decoys, decoy)


def _bios(s: ProfileStats, b: pa.RecordBatch, keys, locale, locales) -> None:
    bio = b["bio"]
    source = b["bio_source"] if "bio_source" in b.schema.names else pa.nulls(len(bio))
    count_values(s.bio_sources, source)
    chars = pc.utf8_length(bio.fill_null("")).to_numpy(zero_copy_only=False)
    s.bio_chars = add_bincount(s.bio_chars, chars.astype(np.int64))
    has = np.asarray(pc.is_valid(bio))
    group = np.where(has, locale, -1)
    cols = [c for c in ("age", "occupation", "city", "country_code") if c in b.schema.names]

    def row(i: int) -> dict[str, Any]:
        who = {c: b[c][i].as_py() for c in cols}
        return {"bio": bio[i].as_py(), "source": source[i].as_py(), **who}

    s.bios.offer(group, locales, keys, row)


def _avatars(s: ProfileStats, b: pa.RecordBatch, keys, shard: int, offset: int) -> None:
    attrs = b["avatar_attributes"]
    parts = [
        attrs.field(k).fill_null("?").to_numpy(zero_copy_only=False)
        for k in ("gender", "age_band", "skin")
    ]
    joined = pc.binary_join_element_wise(*[pa.array(p) for p in parts], "|")
    group, names = codes(joined)
    s.avatars.offer(
        group, [tuple(n.split("|")) for n in names], keys, lambda i: (shard, offset + i)
    )


@dataclass
class PostStats:
    posts: int = 0
    # [weekday Mon=0..Sun=6, local hour]
    week_hour: np.ndarray = field(default_factory=lambda: np.zeros((7, 24), dtype=np.int64))
    kinds: Counter = field(default_factory=Counter)
    sources: Counter = field(default_factory=Counter)
    per_user: np.ndarray | None = None  # posts per profile, aligned with user_ids
    samples: Sample = field(default_factory=lambda: Sample(SAMPLE_PER_LOCALE))


def scan_posts(store: Store, files: list[str], p: ProfileStats) -> PostStats:
    s = PostStats()
    s.per_user = np.zeros(len(p.user_ids), dtype=np.int64)
    for rel in files:
        for b in batches(store, rel, POST_COLUMNS):
            s.posts += b.num_rows
            at = np.searchsorted(p.user_ids, b["user_id"].to_numpy())
            at = np.minimum(at, len(p.user_ids) - 1)
            known = p.user_ids[at] == b["user_id"].to_numpy()
            s.per_user += np.bincount(at[known], minlength=len(s.per_user))
            zone = np.where(known, p.user_zone[at], -1)
            _local_times(s, b["created_at"], zone, p.zones)
            count_values(s.kinds, b["kind"])
            if "source" in b.schema.names:
                count_values(s.sources, b["source"])
            if "text" in b.schema.names:
                text, kind = b["text"], b["kind"]
                source = b["source"] if "source" in b.schema.names else pa.nulls(len(text))
                group = np.where(np.asarray(pc.is_valid(text)) & known, p.user_locale[at], -1)
                keys = sample_keys(b["post_id"].to_numpy())

                def row(i: int, text=text, kind=kind, source=source) -> dict[str, Any]:
                    return {
                        "text": text[i].as_py(),
                        "kind": kind[i].as_py(),
                        "source": source[i].as_py(),
                    }

                s.samples.offer(group, p.locale_names, keys, row)
    return s


def _local_times(s: PostStats, created: pa.Array, zone: np.ndarray, zones: list[str]) -> None:
    """Weekday x hour in each author's own timezone (the table is UTC)."""
    for z in np.unique(zone):
        if z < 0:
            continue
        local = created.filter(pa.array(zone == z)).cast(pa.timestamp("ms", tz=zones[z]))
        hour = pc.hour(local).to_numpy(zero_copy_only=False)
        day = pc.day_of_week(local).to_numpy(zero_copy_only=False)  # Monday = 0
        s.week_hour += np.bincount(day * 24 + hour, minlength=7 * 24).reshape(7, 24)


def degrees_from_follows(store: Store, files: list[str], p: ProfileStats) -> None:
    """In/out-degree histograms from the follows table, for a dataset without the
    *_in_dataset columns."""
    n = len(p.user_ids)
    ind, outd = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    for rel in files:
        for b in batches(store, rel, ("follower_id", "followee_id")):
            for col, acc in (("follower_id", outd), ("followee_id", ind)):
                at = np.minimum(np.searchsorted(p.user_ids, b[col].to_numpy()), n - 1)
                acc += np.bincount(at, minlength=n)
    p.in_degree, p.out_degree = np.bincount(ind), np.bincount(outd)


def fetch_avatars(store: Store, files: list[str], picks: list[tuple[int, int]]) -> list[bytes]:
    """The PNG bytes of the avatars at (shard, row) positions, reading only the row groups
    that hold them (avatar shards keep 100-row groups for exactly this)."""
    out: dict[tuple[int, int], bytes] = {}
    by_shard: dict[int, list[int]] = {}
    for shard, row in picks:
        by_shard.setdefault(shard, []).append(row)
    for shard, rows in sorted(by_shard.items()):
        fs, path = store.arrow(files[shard])
        pf = pq.ParquetFile(fs.open_input_file(path) if fs else path)
        starts = np.cumsum(
            [0] + [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
        )
        groups: dict[int, list[int]] = {}
        for r in rows:
            groups.setdefault(int(np.searchsorted(starts, r, side="right") - 1), []).append(r)
        for g, rs in sorted(groups.items()):
            col = pf.read_row_group(g, columns=["avatar"])["avatar"].combine_chunks()
            data = col.field("bytes")
            for r in rs:
                out[(shard, r)] = data[r - int(starts[g])].as_py()
    return [out[p] for p in picks]
