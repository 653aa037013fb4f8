"""The `generate_profiles` flow: one task per shard, then the card, the manifest and the report.

`generate_from_config` is the entry point for deployments and `profilegen serve`: JSON
parameters (a config file + overrides), and a dated folder and seed for scheduled runs.
"""

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prefect import flow, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from flows import progress
from flows.runners import check_orchestration, task_runner, worker_api
from flows.scheduling import schedule_slot
from pipeline import stages
from pipeline.config import GenerateConfig, build_config
from pipeline.core.schedule import scheduled_out, scheduled_seed
from pipeline.core.stop import Stopped, stages_here, stop_requested
from pipeline.dataset.shard import make_shard
from pipeline.dataset.storage import open_store
from pipeline.dataset.writer import Mode, finish_run, preflight, start_run
from pipeline.errors import ProfilegenError


# NO_CACHE: the default cache key pickles every input; shards are cheap to verify anyway.
# retries=1: a shard that fails (a worker killed mid-write included) is made again from
# scratch; its half-written temp file is never renamed into place.
@task(cache_policy=NO_CACHE, task_run_name="shard-{shard}", retries=1)
def shard_task(config: GenerateConfig, out: str, shard: int) -> dict[str, Any]:
    # Stage units (bios) are counted as they are made when the task runs in this process
    # (threads); in other processes (process pool, Dask) the flow loop counts them per shard.
    try:
        return make_shard(config, out, shard, lambda unit, n: progress.advance(0, **{unit: n}))
    except Stopped:
        # A stop (Ctrl-C, SIGTERM) was asked for: this shard is left for the rerun. Not an
        # error to retry or to log with a traceback; the CLI reports the stop in one line.
        return {"stopped": True, "rows": 0, "skipped": True}


@flow(name="generate-profiles", task_runner=ThreadPoolTaskRunner(max_workers=2))
def generate_profiles(config: GenerateConfig, mode: Mode = "auto") -> dict[str, Any]:
    """Write the dataset `config` describes into `config.out`, resuming a killed run."""
    with _callers_sigterm():
        return _generate_profiles(config, mode)


def _report(out, run_s: float) -> None:
    """DIR/report.html (pipeline.report: sampled, streaming) and a markdown artifact that
    links it. The dataset is complete by now: a report that fails is a warning, not a
    failed run (`profilegen report DIR` writes it again)."""
    from pipeline.report import write_report

    t0 = time.perf_counter()
    try:
        r = write_report(out)
    except Exception as e:
        logging.getLogger(__name__).warning("the report of %s failed: %s", out, e)
        return
    shapes = ", ".join(f"{k} {v:.3f}" for k, v in r["shape_scores"].items())
    tables = ", ".join(f"{t} {n:,}" for t, n in r["tables"].items())
    create_markdown_artifact(
        key="profiles-report",
        markdown=(f"**Quality report**: `{r['path']}` ({r['bytes'] / 1e6:.2f} MB, "
                  f"{len(r['sections'])} sections: {', '.join(r['sections'])}).\n\n"
                  f"Rows: {tables}. Column shapes (1 = as configured): {shapes or 'none'}.\n\n"
                  f"Run time {run_s:.1f} s, report {time.perf_counter() - t0:.1f} s."),
        description="the dataset's HTML quality report",
    )  # fmt: skip


def _generate_profiles(config: GenerateConfig, mode: Mode) -> dict[str, Any]:
    started = time.perf_counter()
    out = open_store(config.out)  # a local folder or an fsspec URL (s3://...)
    todo = start_run(config, out, mode)
    units = [s.progress_unit for s in stages.active(config) if s.progress_unit]
    done = config.rows - sum(
        min(config.shard_rows, config.rows - i * config.shard_rows) for i in todo
    )
    progress.advance(done, **{u: done for u in units})
    made = []
    # Progress is counted here, not in the task: under the process and Dask runners the
    # task runs in another process, out of reach of the CLI's progress bar. Units already
    # counted live (thread runner) are not counted twice.
    live = config.runner == "thread"

    def count(receipt: dict) -> None:
        made.append(receipt)
        counted = live and not receipt["skipped"]
        progress.advance(receipt["rows"], **{u: 0 if counted else receipt["rows"] for u in units})

    if live and min(config.workers, len(todo)) == 1:
        # One shard at a time: on this thread, not a pool's. Every thread that runs torch
        # ops keeps a team of OpenMP workers, and once a process has more of them than
        # cores (this thread's, which loaded the models, and a pool thread's), libgomp
        # stops spinning between parallel regions: each of decoding's small ops then
        # waits for a sleeping worker. `make run` on 2 cores: 107 -> 75 s (bios 57 -> 38).
        with stages_here():
            for i in todo:
                count(shard_task(config, str(out), i))
                if stop_requested():  # the shard stopped at a batch: end the run as a pool's
                    raise KeyboardInterrupt
    else:
        futures = shard_task.map(unmapped(config), unmapped(str(out)), todo)
        for future in as_completed(futures):
            count(future.result())

    manifest = finish_run(config, out)
    card = manifest["card"]
    create_table_artifact(
        key="profiles-shards",
        table=[
            {"file": s["file"], "rows": s["rows"], "sha256": s["sha256"][:16]}
            for s in manifest["shards"]
        ],  # fmt: skip
        description=f"{config.rows} rows in {config.n_shards} shards at {out}",
    )
    create_markdown_artifact(key="profiles-card", markdown=card, description="dataset card")
    for stage, metrics in manifest["metrics"].items():
        if metrics:  # what each stage measured on the written dataset (graph shape, bios)
            rows = [{"metric": k, "value": v} for k, v in metrics.items()]
            create_table_artifact(key=f"{stage}-metrics", table=rows,
                                  description=f"{stage} metrics")  # fmt: skip
    _report(out, time.perf_counter() - started)
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
    with worker_api(config), _no_crash_line_on_stop(), _sigterm_of_caller():
        return generate_profiles.with_options(task_runner=task_runner(config))(config, mode)


# The SIGTERM handler run_generate's caller had (the CLI's stop), while the flow runs.
_CALLER_SIGTERM: list = []


@contextlib.contextmanager
def _sigterm_of_caller() -> Iterator[None]:
    handler = None
    if threading.current_thread() is threading.main_thread():
        handler = signal.getsignal(signal.SIGTERM)
    _CALLER_SIGTERM.append(handler if callable(handler) else None)
    try:
        yield
    finally:
        _CALLER_SIGTERM.pop()


@contextlib.contextmanager
def _callers_sigterm() -> Iterator[None]:
    """Inside the flow: the caller's SIGTERM handler instead of Prefect's. Prefect's flow
    engine swaps in one that crashes the run at once and re-sends the signal afterwards, so
    the CLI would hear of the stop only once the shards in progress had been cancelled
    (under Dask, with a warning from each worker) or run to their end (process pool). With
    the CLI's own, a SIGTERM stops the run as Ctrl-C does: every shard at its next batch,
    one line, exit 143. Prefect puts the caller's handler back when the flow ends."""
    handler = _CALLER_SIGTERM[-1] if _CALLER_SIGTERM else None
    if handler is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    prefects = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, prefects)


class _StopIsNoCrash(logging.Filter):
    """A stop asked for (Ctrl-C, SIGTERM) is reported by the CLI in one line; the flow
    engine's "Crash detected! Execution was aborted by ... signal" would be a second (and
    each cancelled shard task's two more). The run's state on the server still says
    Crashed."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not stop_requested():
            return True
        msg = record.getMessage()
        # A shard task the runner cancels on the stop crashes too: "Crash detected!", then
        # "Finished in state Crashed(...)".
        return not (msg.startswith("Crash detected!") or "Finished in state Crashed" in msg)


@contextlib.contextmanager
def _no_crash_line_on_stop() -> Iterator[None]:
    logs = [logging.getLogger(n) for n in ("prefect.flow_runs", "prefect.task_runs")]
    only = _StopIsNoCrash()
    for log in logs:
        log.addFilter(only)
    try:
        yield
    finally:
        for log in logs:
            log.removeFilter(only)


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
    # The CLI's checks, here too: a deployment with a bad config fails before any task.
    preflight(cfg)
    check_orchestration(cfg)
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
