"""No bio twice in a dataset: shards make their bios independently (in parallel, on other
workers), so uniqueness across shards is settled once every shard exists.

One pass reads only the `bio` column of every shard and hashes each bio (64-bit); a bio
whose hash was seen in an earlier row (shard order, then row order) is replaced by a
template bio that no row holds, and that shard is rewritten (atomically) with a new
receipt. Deterministic, and idempotent: a resumed run finds nothing left to fix.
"""

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.bios.stage import ROW_FIELDS
from pipeline.bios.templates import template_bio
from pipeline.config import GenerateConfig
from pipeline.core.rng import row_seeds
from pipeline.dataset.storage import open_store
from pipeline.dataset.writer import (
    Location,
    finished_shard,
    provenance,
    read_shard,
    record_shard,
    shard_file,
    write_shard,
)


def bio_key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.lower().encode(), digest_size=8).digest(), "little")


def dedupe_bios(out: Location, cfg: GenerateConfig) -> int:
    """Replace every bio that repeats an earlier one; return how many rows changed."""
    if cfg.bios == "none" or cfg.n_shards < 2:
        return 0  # within a shard, make_bios already refuses duplicates
    store, n = open_store(out), cfg.n_shards
    keys = []
    for i in range(n):
        fs, path = store.arrow(shard_file(i, n))
        bios = pq.read_table(path, columns=["bio"], filesystem=fs)["bio"].to_pylist()
        keys.append(np.array([bio_key(b) for b in bios], dtype=np.uint64))
    flat = np.concatenate(keys)
    taken, first = np.unique(flat, return_index=True)
    later = np.ones(len(flat), dtype=bool)
    later[first] = False  # the first holder of each bio keeps it
    later[flat == bio_key("")] = False  # no bio at all (a bot's tell) is not a repeat
    if not later.any():
        return 0
    new_keys: set[int] = set()
    start = 0
    for i in range(n):
        rows_i = len(keys[i])
        dup = np.nonzero(later[start : start + rows_i])[0]
        if len(dup):
            _rewrite(store, cfg, i, dup, taken, new_keys, row_seeds(cfg.seed, i * cfg.shard_rows,
                                                                   rows_i, salt=7))  # fmt: skip
        start += rows_i
    return int(later.sum())


def _rewrite(store, cfg, i, dup, taken, new_keys, seeds) -> None:
    n = cfg.n_shards
    rel = shard_file(i, n)
    entry = finished_shard(store, i, n) or {"file": rel}  # before the checksum changes
    t = read_shard(store, rel).replace_schema_metadata(None)
    bios, source = t["bio"].to_pylist(), t["bio_source"].to_pylist()
    rows = t.select(ROW_FIELDS).to_pylist()
    for j in dup:
        for k in range(64):
            text = template_bio(rows[j], int(seeds[j]) + k)
            key = bio_key(text)
            pos = np.searchsorted(taken, np.uint64(key))
            if key not in new_keys and not (pos < len(taken) and taken[pos] == key):
                break
        else:  # pragma: no cover - 64 colliding templates for one row
            raise RuntimeError(f"no unique bio for row {j} of {rel}")
        bios[j], source[j] = text, "template"
        new_keys.add(key)
    t = t.set_column(t.schema.get_field_index("bio"), "bio", pa.array(bios, pa.string()))
    t = t.set_column(t.schema.get_field_index("bio_source"), "bio_source",
                     pa.array(source, pa.string()))  # fmt: skip
    sha = write_shard(t, store, rel, provenance(cfg))
    entry = {**entry, "rows": t.num_rows, "sha256": sha}
    if "bios" in entry:
        entry["bios"] = {**entry["bios"], "cross_shard_repeats": int(len(dup))}
    record_shard(store, i, entry)
