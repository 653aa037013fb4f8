"""One shard of profiles, end to end: identity columns (later avatars and bios), then disk.

This is the unit of work a flow task runs; it takes only the config and a shard index, so
any worker, thread or process can make any shard and get the same bytes.
"""

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from pipeline.config import GenerateConfig
from pipeline.dataset.writer import (
    Location,
    finished_shard,
    provenance,
    record_shard,
    shard_file,
    write_shard,
)
from pipeline.identity.engine import make_identities


def build_shard(
    cfg: GenerateConfig, shard: int, stats: dict | None = None, on_bios: Callable | None = None
) -> pa.Table:
    """The shard's table; `stats`, when given, receives the bio gate's counts."""
    table = make_identities(cfg, shard)
    if cfg.avatars == "gan":
        from pipeline.avatars.stage import AVATAR_FIELDS, make_avatars, resolve_checkpoint

        start = shard * cfg.shard_rows
        ckpt = resolve_checkpoint(cfg.avatar_checkpoint)
        avatar, attrs = make_avatars(table, cfg.seed, start, ckpt, cfg.avatar_size)
        table = table.append_column(AVATAR_FIELDS[0], avatar)
        table = table.append_column(AVATAR_FIELDS[1], attrs)
    if cfg.bios != "none":
        from pipeline.bios.stage import BIO_FIELDS, make_bios

        cols, bio_stats = make_bios(table, cfg, shard * cfg.shard_rows, on_bios)
        for name, col in zip(BIO_FIELDS, cols, strict=True):
            table = table.append_column(name, col)
        if stats is not None:
            stats.update(bio_stats.as_dict())
    return table


def make_shard(
    cfg: GenerateConfig, out: Location, shard: int, on_bios: Callable | None = None
) -> dict[str, Any]:
    """Write shard `shard` unless a verified copy is already there; return its receipt."""
    n = cfg.n_shards
    done = finished_shard(out, shard, n)
    if done is not None:
        return {**done, "skipped": True}
    bio_stats: dict = {}
    table = build_shard(cfg, shard, bio_stats, on_bios)
    sha = write_shard(table, out, shard_file(shard, n), provenance(cfg))
    entry = {"file": shard_file(shard, n), "rows": table.num_rows, "sha256": sha}
    if bio_stats:
        entry["bios"] = bio_stats
    record_shard(out, shard, entry)
    return {**entry, "skipped": False}
