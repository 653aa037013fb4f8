"""One shard, end to end: every active stage adds its columns (and its rows of other
tables), then each table's shard file is written and the receipt recorded.

This is the unit of work a flow task runs; it takes only the config and a shard index, so
any worker, thread or process can make any shard and get the same bytes. `write_dataset`
is the whole run without an orchestrator: the flow does the same with one task per shard.
"""

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from pipeline import stages
from pipeline.config import GenerateConfig
from pipeline.core.stop import check_stop
from pipeline.dataset.storage import open_store
from pipeline.dataset.writer import (
    Location,
    Mode,
    finish_run,
    finished_shard,
    provenance,
    record_shard,
    shard_file,
    start_run,
    write_shard,
)

Progress = Callable[[str, int], None]


def build_shard(
    cfg: GenerateConfig,
    shard: int,
    stats: dict | None = None,
    progress: Progress | None = None,
    out: Location | None = None,
) -> tuple[pa.Table, dict[str, pa.Table]]:
    """(profiles, {table: rows}) of shard `shard`; `stats`, when given, receives each stage's
    counters by stage name. `out` is where the run's planned state lives (stage.plan)."""
    start = shard * cfg.shard_rows
    ctx = stages.ShardContext(cfg, shard, start, min(cfg.shard_rows, cfg.rows - start))
    if progress is not None:
        ctx.progress = progress
    store = open_store(out if out is not None else cfg.out)
    table, extra = pa.table({}), {}
    for stage in stages.active(cfg):
        check_stop()
        ctx.stats = {}
        table, more = stage.make(ctx, table, store)
        extra.update(more)
        if stats is not None and ctx.stats:
            stats[stage.name] = ctx.stats
    return stages.public(table), extra


def make_shard(
    cfg: GenerateConfig, out: Location, shard: int, progress: Progress | None = None
) -> dict[str, Any]:
    """Write shard `shard` unless a verified copy is already there; return its receipt."""
    n = cfg.n_shards
    done = finished_shard(out, shard, n)
    if done is not None:
        return {**done, "skipped": True}
    stats: dict = {}
    table, extra = build_shard(cfg, shard, stats, progress, out)
    prov = provenance(cfg)
    entry: dict[str, Any] = {"file": shard_file(shard, n), "rows": table.num_rows}
    # Other tables first: the receipt (written last) vouches for every file of the shard.
    tables = {}
    for name in stages.extra_tables(cfg):
        rel = shard_file(shard, n, name)
        tables[name] = {"file": rel, "rows": extra[name].num_rows,
                        "sha256": write_shard(extra[name], out, rel, prov)}  # fmt: skip
    entry["sha256"] = write_shard(table, out, shard_file(shard, n), prov)
    entry.update(stats)
    if tables:
        entry["tables"] = tables
    record_shard(out, shard, entry)
    return {**entry, "skipped": False}


def write_dataset(cfg: GenerateConfig, mode: Mode = "auto", out: Location | None = None) -> dict:
    """The whole dataset in this process, shard after shard; returns the manifest."""
    out = open_store(out if out is not None else cfg.out)
    for i in start_run(cfg, out, mode):
        make_shard(cfg, out, i)
    return finish_run(cfg, out)
