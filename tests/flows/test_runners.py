"""--runner thread|process|dask: the same bytes everywhere, retries, and faults found up front."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.generate import run_generate
from pipeline.dataset.validate import validate_dataset

HERE = Path(__file__).parent


def file_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def last_states(name: str) -> list[str]:
    """State names, in order, of the newest task run called `name` on the test server."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName
    from prefect.client.schemas.sorting import TaskRunSort

    with get_client(sync_client=True) as client:
        (run,) = client.read_task_runs(
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(any_=[name])),
            sort=TaskRunSort.EXPECTED_START_TIME_DESC,
            limit=1,
        )
        return [s.name for s in client.read_task_run_states(run.id)]


def test_every_runner_writes_the_same_bytes(prefect_server, small_cfg, tmp_path):
    # Same seed under threads, Prefect's process pool and a 2-worker Dask LocalCluster, with
    # the follow graph, the posts (planned in the flow, sliced per shard task) and bots.
    outs = {}
    for runner in ("thread", "process", "dask"):
        cfg = small_cfg(out=str(tmp_path / runner), runner=runner, workers=2, follows="graph",
                        posts="template", bots="mixed", bot_share=0.3)  # fmt: skip
        summary = run_generate(cfg)
        assert (summary["written"], summary["shards"]) == (3, 3)
        outs[runner] = file_bytes(tmp_path / runner)
    assert all(c.ok for c in validate_dataset(tmp_path / "dask"))
    # 3 shards of profiles, follows and posts + card + manifest + report
    assert len(outs["thread"]) == 12
    assert outs["process"] == outs["thread"]
    assert outs["dask"] == outs["thread"]


def test_dask_gan_avatars_match_threads(prefect_server, small_cfg, tmp_path):
    # Each Dask worker loads the GAN once (lru_cache per process); the pictures must not
    # depend on which worker drew them.
    kw = dict(rows=96, shard_rows=32, avatars="gan", workers=2)
    run_generate(small_cfg(out=str(tmp_path / "thread"), **kw))
    run_generate(small_cfg(out=str(tmp_path / "dask"), runner="dask", **kw))
    thread, dask = file_bytes(tmp_path / "thread"), file_bytes(tmp_path / "dask")
    assert dask == thread
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "dask" / "data" / "profiles")
    assert table.num_rows == 96 and table["avatar"][0]["bytes"].as_py()[:4] == b"\x89PNG"


def test_dask_lm_bios_match_threads(prefect_server, small_cfg, tmp_path):
    # Each Dask worker loads SmolLM2 once (per-process cache); a row's bio depends on its
    # own seed, not on the worker, the batch it shared or the worker's torch threads.
    import torch

    kw = dict(rows=24, shard_rows=12, locales="en_US:1", bios="lm", workers=2, bio_retries=1)
    # Same torch thread count on both sides (local Dask workers get cores / workers = 1):
    # fp32 BLAS may split a matmul's sum differently with another thread count.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_generate(small_cfg(out=str(tmp_path / "thread"), **kw))
    finally:
        torch.set_num_threads(threads)
    run_generate(small_cfg(out=str(tmp_path / "dask"), runner="dask", **kw))
    assert file_bytes(tmp_path / "dask") == file_bytes(tmp_path / "thread")
    import pyarrow.parquet as pq

    assert (
        pq.read_table(tmp_path / "dask" / "data" / "profiles")["bio_source"].to_pylist().count("lm")
        > 18
    )


def test_a_dask_worker_killed_mid_shard(prefect_server, small_cfg, tmp_path, monkeypatch):
    """A worker SIGKILLed while writing shard 1: Dask reruns the shard on a live worker,
    the half-written temp file never becomes a shard, the dataset is whole and the same."""
    from distributed import LocalCluster

    marker = tmp_path / "killed"
    monkeypatch.setenv("PROFILEGEN_TEST_KILL_MARKER", str(marker))
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=None,
        preload=[str(HERE / "dask_kill_worker.py")],
    )  # fmt: skip
    try:
        cfg = small_cfg(out=str(tmp_path / "ds"), dask_address=cluster.scheduler_address)
        assert cfg.runner == "dask"
        summary = run_generate(cfg)
    finally:
        cluster.close()
    assert summary["written"] == 3
    partial = Path(marker.read_text())  # the kill happened, mid-write of this temp file
    assert partial.parent == tmp_path / "ds" / "data" / "profiles" and not partial.exists()
    assert sorted(p.name for p in (tmp_path / "ds" / "data" / "profiles").iterdir()) == [
        f"train-0000{i}-of-00003.parquet" for i in range(3)
    ]
    # Two attempts at shard 1 on the server: the killed one and the rerun that completed.
    states = last_states("shard-1")
    assert states == ["Pending", "Running", "Pending", "Running", "Completed"], states
    assert all(c.ok for c in validate_dataset(tmp_path / "ds"))
    run_generate(small_cfg(out=str(tmp_path / "ref")))
    assert file_bytes(tmp_path / "ds") == file_bytes(tmp_path / "ref")


def test_a_shard_that_fails_once_is_retried(prefect_server, small_cfg, tmp_path, monkeypatch):
    import pipeline.dataset.shard as profiles

    real, calls = profiles.build_shard, []

    def flaky(c, shard, *rest):
        calls.append(shard)
        if shard == 2 and calls.count(2) == 1:
            raise RuntimeError("worker died")
        return real(c, shard, *rest)

    monkeypatch.setattr(profiles, "build_shard", flaky)
    summary = run_generate(small_cfg(out=str(tmp_path / "ds"), seed=11))
    assert summary["written"] == 3 and calls.count(2) == 2
    states = last_states("shard-2")
    assert states == ["Pending", "Running", "Retrying", "Completed"], states
    assert all(c.ok for c in validate_dataset(tmp_path / "ds"))


def test_a_scheduled_run_gets_a_dated_folder_and_its_own_seed(
    prefect_server, tmp_path, monkeypatch
):
    import json

    import pyarrow.parquet as pq

    import flows.generate as generate
    from pipeline.core.schedule import scheduled_seed

    conf = tmp_path / "daily.yaml"
    conf.write_text(
        f"rows: 100\nshard_rows: 50\nseed: 3\navatars: none\nbios: none\nout: {tmp_path}/manual\n"
    )
    manual = generate.generate_from_config(str(conf), name="daily", root=str(tmp_path))
    assert manual["out"] == f"{tmp_path}/manual" and manual["seed"] == 3
    assert manual["scheduled_for"] is None

    slot = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(generate, "schedule_slot", lambda: slot)
    got = generate.generate_from_config(str(conf), {"rows": 60}, name="daily", root=str(tmp_path))
    out = tmp_path / "daily" / "2026-03-04T0200Z"
    assert got["out"] == str(out) and got["rows"] == 60
    assert got["seed"] == scheduled_seed(3, slot) != 3
    assert got["scheduled_for"] == "2026-03-04T02:00:00+00:00"
    prov = json.loads(pq.read_schema(out / "data/profiles/train-00000-of-00002.parquet").metadata[
        b"profilegen"])  # fmt: skip
    assert prov["seed"] == got["seed"]


def test_scheduled_seeds_and_folders():
    from pipeline.core.schedule import scheduled_out, scheduled_seed, slot_name

    a = dt.datetime(2026, 1, 2, 2, 0, tzinfo=dt.UTC)
    b = a + dt.timedelta(days=1)
    same_instant = a.astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert scheduled_seed(0, a) == scheduled_seed(0, same_instant)
    assert len({scheduled_seed(0, a), scheduled_seed(0, b), scheduled_seed(1, a)}) == 3
    assert all(0 <= scheduled_seed(s, a) < 2**63 for s in (0, 2**63 - 1))
    assert slot_name(same_instant) == "2026-01-02T0200Z"
    assert scheduled_out("output", "daily", b) == Path("output/daily/2026-01-03T0200Z")


def profilegen(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        capture_output=True, text=True, cwd=cwd, timeout=120,
        env={**os.environ, "PYTHONPATH": str(HERE.parents[1]), "COLUMNS": "200", **env},
    )  # fmt: skip


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


FAULTS = [
    (["--dask-address", "tcp://127.0.0.1:1"], {},
     "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
    ([], {"PREFECT_API_URL": f"http://127.0.0.1:{closed_port()}/api"},
     "cannot reach the Prefect API at http://127.0.0.1:"),
    (["--runner", "mpi"], {}, "runner: Input should be 'thread', 'process' or 'dask'"),
    (["--runner", "thread", "--dask-address", "tcp://127.0.0.1:8786"], {},
     "dask_address needs runner dask"),
    (["--dask-address", "127.0.0.1:8786"], {}, "expected tcp://HOST:PORT"),
]  # fmt: skip


@pytest.mark.parametrize("args, env, message", FAULTS)
def test_unreachable_services_are_one_line_exit_2(tmp_path, args, env, message):
    r = profilegen("generate", "--rows", "50", "--avatars", "none", "--bios", "none",
        "--posts", "none", *args,
                   "--out", str(tmp_path / "out"), cwd=tmp_path, **env)  # fmt: skip
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], r.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["--cron", "0 2 * *"], {"PREFECT_API_URL": "http://127.0.0.1:4200/api"},
         "--cron: not a valid cron expression"),
        (["--cron", "0 2 * * *"], {"PREFECT_API_URL": ""}, "serve needs a running Prefect server"),
        (["--cron", "0 2 * * *", "--name", "a/b"], {}, "--name must be a plain folder name"),
    ],
)  # fmt: skip
def test_serve_bad_input(tmp_path, args, env, message):
    conf = tmp_path / "c.yaml"
    conf.write_text("rows: 10\n")
    r = profilegen("serve", "--config", str(conf), *args, cwd=tmp_path, **env)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr


class _SlowServer:
    """Stands in for Prefect's server: its process appears at once, it answers later."""

    def __init__(self, up_after: float, fail: bool = False):
        import threading

        self.built_on = threading.current_thread()
        self.server_process = None
        self.up_after, self.fail, self.up, self.stopped = up_after, fail, False, False

    def start(self):
        import time

        self.server_process = object()
        time.sleep(self.up_after)
        if self.fail:
            raise RuntimeError("Timed out while attempting to connect")
        self.up = True

    def stop(self):
        self.stopped = True


def test_the_server_is_built_and_starts_while_the_models_load():
    import threading

    from flows.runners import _start_while

    made, seen = [], []

    def build():
        made.append(_SlowServer(0.5))
        return made[0]

    def load():
        threading.Event().wait(0.2)  # the build is on the other thread: it has happened
        seen.append((bool(made), made and made[0].up))

    server = _start_while(build, load)
    assert seen == [(True, False)] and server.up  # the load ran during the start, then waited
    assert server.built_on is not threading.current_thread() and not server.stopped


def test_a_failed_start_or_load_is_raised_and_a_load_error_does_not_wait_for_the_start():
    import time

    from flows.runners import _start_while
    from pipeline.errors import ProfilegenError

    server = _SlowServer(0.1, fail=True)
    with pytest.raises(RuntimeError, match="Timed out"):
        _start_while(lambda: server, lambda: None)
    assert server.stopped

    def broken_load():
        raise ProfilegenError("bio model is corrupt")

    server = _SlowServer(30)
    t0 = time.perf_counter()
    with pytest.raises(ProfilegenError, match="corrupt"):
        _start_while(lambda: server, broken_load)
    # Back, the server stopped, as soon as its process exists; not 30 s later.
    assert server.server_process is not None and server.stopped
    assert time.perf_counter() - t0 < 10
