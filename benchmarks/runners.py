"""Runner benchmarks: Prefect's overhead per shard task, and Dask scaling on this machine.

    .venv/bin/python benchmarks/runners.py [--repeat 3] [--only overhead|scaling] 2>/dev/null

overhead: a 10,000-row run (avatars none) through the Prefect flow with one worker (thread
    runner; process pool, started per run; a warm one-worker Dask cluster) against the same
    pipeline calls with no Prefect (prepare, make_shard per shard, finalize), at 1, 10 and
    40 shards; the difference is split into a cost per flow run and a cost per shard task
    by a least-squares line.
scaling: rows/s of a Dask LocalCluster of 1 and of 2 single-thread workers, fields only and
    with GAN avatars, after a warm-up run (imports, tables and the GAN loaded per worker);
    the pipeline alone in this process (one thread) as the baseline.

Prefect runs against a temporary local server (prefect_test_harness: a fresh SQLite
database), with flow-run heartbeats off except in the first figure, which measures them.
Each figure is the best and the median of --repeat runs: the machine may be shared, and
the best run is the one least disturbed. Prefect's own log lines go to stderr.
"""

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

import flows  # noqa: F401  (Prefect settings before Prefect is imported)
from pipeline.config import GenerateConfig, build_config
from pipeline.dataset.card import render_card
from pipeline.dataset.shard import make_shard
from pipeline.dataset.writer import finalize, prepare_output, provenance, shard_file


def direct(cfg: GenerateConfig) -> None:
    """The pipeline alone: what the flow does, with no Prefect at all."""
    out = Path(cfg.out)
    for i in prepare_output(cfg, out, "overwrite"):
        make_shard(cfg, out, i)
    schema = pq.read_schema(out / shard_file(0, cfg.n_shards)).remove_metadata()
    finalize(cfg, out, render_card(cfg, schema, provenance(cfg)))


def via_prefect(cfg: GenerateConfig) -> None:
    from flows.generate import run_generate

    run_generate(cfg, "overwrite")


def timed(fn, cfg) -> float:
    t0 = time.perf_counter()
    fn(cfg)
    return time.perf_counter() - t0


def summary(times: list[float]) -> dict[str, float]:
    return {"best_s": round(min(times), 4), "median_s": round(statistics.median(times), 4)}


def heartbeat_cost(repeat: int) -> dict:
    """An empty flow run with Prefect's default heartbeat thread and without it.

    The heartbeat thread sleeps in 1 s steps and the engine joins it at the end of every
    flow run, so a run ends on the next whole second after its start (Prefect 3.9,
    flow_engine._send_heartbeats). The other figures are taken without it, so that they
    show the cost of tasks rather than this rounding; a real run pays it once per flow run.
    """
    from prefect import flow
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    @flow
    def empty() -> None:
        pass

    empty()
    row = {}
    for label, hb in (("default_heartbeat", 180), ("no_heartbeat", None)):
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: hb}):
            row[label] = summary([timed(lambda _: empty(), None) for _ in range(repeat)])
    print(json.dumps({"empty_flow_run": row}), flush=True)
    return row


def overhead(tmp: Path, repeat: int, dask_address: str) -> list[dict]:
    rows, results = 10_000, []
    for runner in ("thread", "process", "dask"):
        points = []
        for shard_rows in (10_000, 1_000, 250):
            kw = dict(rows=rows, shard_rows=shard_rows, avatars="none", workers=1, **ONLY,
                      out=str(tmp / f"overhead-{runner}-{shard_rows}"))  # fmt: skip
            cfg = build_config(None, **kw, runner=runner,
                               dask_address=dask_address if runner == "dask" else None)  # fmt: skip
            base = build_config(None, **kw)
            direct(base), via_prefect(cfg)  # warm: tables loaded, server and flow code warm
            d, p = [], []
            for _ in range(repeat):  # interleaved, so a busy moment hits both alike
                d.append(timed(direct, base))
                p.append(timed(via_prefect, cfg))
            row = {"runner": runner, "rows": rows, "shards": cfg.n_shards,
                   "direct": summary(d), "prefect": summary(p)}  # fmt: skip
            for k in ("best_s", "median_s"):
                extra = row["prefect"][k] - row["direct"][k]
                row[f"overhead_{k[:-2]}_pct"] = round(100 * extra / row["direct"][k], 1)
            points.append(row)
            print(json.dumps(row), flush=True)
        # overhead(n) = per_run + n * per_task, least squares on the medians.
        xs = [r["shards"] for r in points]
        ys = [r["prefect"]["median_s"] - r["direct"]["median_s"] for r in points]
        mx, my = statistics.mean(xs), statistics.mean(ys)
        per_task = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mx) ** 2 for x in xs
        )
        fit = {"runner": runner, "per_flow_run_ms": round(1000 * (my - per_task * mx), 1),
               "per_shard_task_ms": round(1000 * per_task, 1)}  # fmt: skip
        print(json.dumps(fit), flush=True)
        results += points + [fit]
    return results


ONLY = dict(bios="none", follows="none", posts="none", bots="none")
WORKLOADS = {
    # What the names say, nothing else: no bios, graph, posts or bots (the LM would dominate).
    "fields": dict(rows=1_000_000, shard_rows=50_000, avatars="none", **ONLY),
    "gan": dict(rows=4_000, shard_rows=500, avatars="gan", **ONLY),
}


def scaling(tmp: Path, repeat: int) -> list[dict]:
    import torch
    from distributed import LocalCluster

    from flows.runners import local_cluster_kwargs

    results = []
    # Baseline: the pipeline in this process, one torch thread like a Dask worker's.
    torch.set_num_threads(1)
    for name, kw in WORKLOADS.items():
        cfg = build_config(None, **kw, out=str(tmp / f"direct-{name}"))
        direct(cfg)
        times = [timed(direct, cfg) for _ in range(repeat)]
        results.append(_row("pipeline alone, 1 process", 1, name, cfg, times))
    torch.set_num_threads(os.cpu_count())
    for name, kw in WORKLOADS.items():  # the default runner, for comparison
        cfg = build_config(None, **kw, runner="thread", workers=2, out=str(tmp / f"thread-{name}"))
        via_prefect(cfg)
        times = [timed(via_prefect, cfg) for _ in range(repeat)]
        results.append(_row("Prefect + 2 threads (default)", 2, name, cfg, times))
    for n in (1, 2):
        with LocalCluster(**local_cluster_kwargs(n)) as cluster:
            for name, kw in WORKLOADS.items():
                cfg = build_config(None, **kw, runner="dask", workers=n,
                                   dask_address=cluster.scheduler_address,
                                   out=str(tmp / f"dask{n}-{name}"))  # fmt: skip
                via_prefect(cfg)  # warm-up: imports, tables, the GAN, once per worker
                times = [timed(via_prefect, cfg) for _ in range(repeat)]
                results.append(_row("Prefect + Dask LocalCluster", n, name, cfg, times))
    for name in WORKLOADS:
        one, two = (next(r for r in results if r["workers"] == n and r["workload"] == name
                         and "Dask" in r["runner"]) for n in (1, 2))  # fmt: skip
        eff = {k: round(two[k] / (2 * one[k]), 3) for k in ("rows_per_s_best", "rows_per_s_median")}
        results.append({"workload": name, "efficiency_2_vs_1": eff})
        print(json.dumps(results[-1]), flush=True)
    return results


def _row(runner: str, n: int, name: str, cfg: GenerateConfig, times: list[float]) -> dict:
    row = {"runner": runner, "workers": n, "workload": name, "rows": cfg.rows,
           "shards": cfg.n_shards, **summary(times),
           "rows_per_s_best": round(cfg.rows / min(times)),
           "rows_per_s_median": round(cfg.rows / statistics.median(times))}  # fmt: skip
    row["rows_per_s_per_worker_best"] = round(row["rows_per_s_best"] / n)
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=("overhead", "scaling"))
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    from distributed import LocalCluster
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    from flows.runners import local_cluster_kwargs

    machine = {"cpus": os.cpu_count(), "machine": platform.machine(),
               "python": platform.python_version(),
               "load_avg_at_start": os.getloadavg()}  # fmt: skip
    print(json.dumps(machine), flush=True)
    out: dict = {"machine": machine}
    with (
        tempfile.TemporaryDirectory(prefix="profilegen-bench-") as tmp,
        prefect_test_harness(server_startup_timeout=90),
    ):
        out["heartbeat"] = heartbeat_cost(args.repeat)
        # From here on without heartbeats: see heartbeat_cost.
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            if args.only in (None, "overhead"):
                with LocalCluster(**local_cluster_kwargs(1)) as cluster:  # warm across runs
                    out["overhead"] = overhead(Path(tmp), args.repeat, cluster.scheduler_address)
            if args.only in (None, "scaling"):
                out["scaling"] = scaling(Path(tmp), args.repeat)
    out["machine"]["load_avg_at_end"] = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
