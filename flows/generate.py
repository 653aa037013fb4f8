"""The `generate_profiles` flow: one task per shard, then the card and the manifest.

`generate_from_config` is the entry point for deployments and `profilegen serve`: JSON
parameters (a config file + overrides), and a dated folder and seed for scheduled runs.
"""

from pathlib import Path
from typing import Any

from prefect import flow, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from flows import progress
from flows.runners import task_runner, worker_api
from flows.scheduling import schedule_slot
from pipeline.config import GenerateConfig, build_config
from pipeline.core.schedule import scheduled_out, scheduled_seed
from pipeline.dataset.card import render_card
from pipeline.dataset.shard import make_shard
from pipeline.dataset.storage import open_store
from pipeline.dataset.writer import (
    Mode,
    finalize,
    prepare_output,
    provenance,
    read_shard_schema,
    shard_file,
)
from pipeline.errors import ProfilegenError


# NO_CACHE: the default cache key pickles every input; shards are cheap to verify anyway.
# retries=1: a shard that fails (a worker killed mid-write included) is made again from
# scratch; its half-written temp file is never renamed into place.
@task(cache_policy=NO_CACHE, task_run_name="shard-{shard}", retries=1)
def shard_task(config: GenerateConfig, out: str, shard: int) -> dict[str, Any]:
    # Bios are counted as they are accepted when the task runs in this process (threads);
    # in other processes (process pool, Dask) the flow loop counts them per shard.
    return make_shard(config, out, shard, on_bios=lambda n: progress.advance(0, bios=n))


@flow(name="generate-profiles", task_runner=ThreadPoolTaskRunner(max_workers=2))
def generate_profiles(config: GenerateConfig, mode: Mode = "auto") -> dict[str, Any]:
    """Write the dataset `config` describes into `config.out`, resuming a killed run."""
    out = open_store(config.out)  # a local folder or an fsspec URL (s3://...)
    todo = prepare_output(config, out, mode)
    done = config.rows - sum(
        min(config.shard_rows, config.rows - i * config.shard_rows) for i in todo
    )
    progress.advance(done, bios=done)
    futures = shard_task.map(unmapped(config), unmapped(str(out)), todo)
    made = []
    # Progress is counted here, not in the task: under the process and Dask runners the
    # task runs in another process, out of reach of the CLI's progress bar.
    live_bios = config.bios != "none" and config.runner == "thread"
    for future in as_completed(futures):
        made.append(future.result())
        rows = made[-1]["rows"]
        # Bios already counted live (thread runner) are not counted twice.
        progress.advance(rows, bios=0 if live_bios and not made[-1]["skipped"] else rows)

    schema = read_shard_schema(out, shard_file(0, config.n_shards)).remove_metadata()
    bio_metrics = None
    if config.bios != "none":
        from pipeline.bios.dedupe import dedupe_bios
        from pipeline.bios.metrics import dataset_bio_metrics

        # Shards made their bios apart: a bio repeated across shards is replaced here.
        dedupe_bios(out, config)

        bio_metrics = dataset_bio_metrics(out, config.n_shards, sample=500)
    card = render_card(config, schema, provenance(config), bio_metrics)
    manifest = finalize(config, out, card)

    create_table_artifact(
        key="profiles-shards",
        table=[
            {"file": s["file"], "rows": s["rows"], "sha256": s["sha256"][:16]}
            for s in manifest["shards"]
        ],  # fmt: skip
        description=f"{config.rows} rows in {config.n_shards} shards at {out}",
    )
    create_markdown_artifact(key="profiles-card", markdown=card, description="dataset card")
    return {
        "out": str(out),
        "rows": config.rows,
        "shards": config.n_shards,
        "written": len(made),
        "skipped": config.n_shards - len(made),
        "config_hash": config.config_hash,
    }


def run_generate(config: GenerateConfig, mode: Mode = "auto") -> dict[str, Any]:
    """Run the flow on the runner `config.runner` names, `config.workers` wide."""
    with worker_api(config):
        return generate_profiles.with_options(task_runner=task_runner(config))(config, mode)


@flow(name="generate-from-config")
def generate_from_config(
    config_file: str | None = None,
    overrides: dict[str, Any] | None = None,
    name: str = "profiles",
    root: str = "output",
) -> dict[str, Any]:
    """Generate from a YAML/TOML config file + overrides (deployments, `profilegen serve`).

    A run created by a schedule writes to ROOT/NAME/<slot>/ with a seed mixed from the
    configured seed and the slot; a manual run keeps the configured seed and out.
    """
    cfg = build_config(config_file, **(overrides or {}))
    base_seed, slot = cfg.seed, schedule_slot()
    if slot is not None:
        if not name or Path(name).name != name:
            raise ProfilegenError(f"name must be a plain folder name, got {name!r}")
        out = scheduled_out(root, name, slot)
        cfg = cfg.model_copy(update={"seed": scheduled_seed(cfg.seed, slot), "out": str(out)})
    summary = run_generate(cfg)  # a subflow, on the runner the config names
    summary["seed"] = cfg.seed
    summary["scheduled_for"] = slot.isoformat() if slot else None
    how = (
        f"scheduled for {slot.isoformat()}: seed {cfg.seed} mixed from the configured seed "
        f"{base_seed} and the slot"
        if slot
        else f"manual run: seed {cfg.seed} as configured"
    )
    create_markdown_artifact(
        key="profiles-run",
        markdown=f"**{cfg.out}**: {cfg.rows:,} rows, config {cfg.config_hash}; {how}.",
        description="seed and folder of this run",
    )
    return summary
