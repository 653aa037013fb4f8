"""The `generate_profiles` flow: one task per shard, then the card and the manifest."""

from typing import Any

from prefect import flow, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flows import progress
from pipeline.card import render_card
from pipeline.config import GenerateConfig
from pipeline.dataset import (
    Mode,
    finalize,
    prepare_output,
    provenance,
    read_shard_schema,
    shard_file,
)
from pipeline.profiles import make_shard
from pipeline.storage import open_store


# NO_CACHE: the default cache key pickles every input; shards are cheap to verify anyway.
@task(cache_policy=NO_CACHE, task_run_name="shard-{shard}", retries=1)
def shard_task(config: GenerateConfig, out: str, shard: int) -> dict[str, Any]:
    entry = make_shard(config, out, shard, on_bios=lambda n: progress.advance(0, bios=n))
    # Bios were counted as they were accepted; a shard found finished counts them all now.
    progress.advance(entry["rows"], bios=entry["rows"] if entry["skipped"] else 0)
    return entry


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
    made = [f.result() for f in futures]

    schema = read_shard_schema(out, shard_file(0, config.n_shards)).remove_metadata()
    bio_metrics = None
    if config.bios != "none":
        from pipeline.bio_metrics import dataset_bio_metrics

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
    """Run the flow with a thread pool as wide as `config.workers`."""
    runner = ThreadPoolTaskRunner(max_workers=config.workers)
    return generate_profiles.with_options(task_runner=runner)(config, mode)
