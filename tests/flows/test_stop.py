"""Stopping `generate` with every runner: Ctrl-C (SIGINT to the terminal's process group) and
SIGTERM (`kill`, `timeout`, a CI cancel: the CLI alone) end the run within seconds, with
exit code 130 or 143 and one line on stderr, leave no process behind (the temporary Prefect
server, process-pool workers, the Dask scheduler's workers and nannies), and the same
command then resumes to the bytes an uninterrupted run writes, printing its summary only
(a default run: no Prefect, worker or `distributed` log lines, no Dask dashboard link)."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
# Cheap shards, many of them: the run is still making shards when the first receipt
# appears. No bios: template bios cost each run ~14 s more on 2 cores (the card's MiniLM
# embeddings), which would double the matrix; stopping is the same for every stage (each
# checks between batches, pipeline/dataset/shard.py between stages).
ROWS, SHARD_ROWS = 1500, 50
CHEAP = ["--avatars", "none", "--bios", "none", "--follows", "none", "--posts", "none"]


def _args(runner: str, out: Path) -> list[str]:
    # "thread-1": one worker, so the shards run on the CLI's own thread (flows/generate.py),
    # where a signal asks the stages to stop instead of interrupting the thread.
    runner, workers = ("thread", "1") if runner == "thread-1" else (runner, "2")
    return ["--rows", str(ROWS), "--shard-rows", str(SHARD_ROWS), *CHEAP, "--workers", workers,
            "--seed", "5", "--runner", runner, "--out", str(out)]  # fmt: skip


def _cli(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=ENV, timeout=timeout)  # fmt: skip


def _descendants(proc: psutil.Process, seen: dict) -> None:
    """Add proc's live descendants to seen: pid -> (start time, command line)."""
    try:
        kids = proc.children(recursive=True)
    except psutil.Error:
        return
    for k in kids:
        try:
            seen.setdefault(k.pid, (k.create_time(), " ".join(k.cmdline())[:160]))
        except psutil.Error:
            pass


def _still_running(seen: dict) -> list[str]:
    alive = []
    for pid, (started, cmd) in seen.items():
        try:
            p = psutil.Process(pid)
            if p.create_time() == started and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{pid} {cmd}")
        except psutil.NoSuchProcess:
            pass
    return alive


def _in_session(sid: int) -> list[str]:
    """Live (not zombie: an exited child whose parent is gone) processes of session sid."""
    out = []
    for p in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if p.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if os.getsid(p.pid) == sid and p.pid != os.getpid():
                out.append(f"{p.pid} {' '.join(p.info['cmdline'] or [])[:160]}")
        except (OSError, psutil.Error):
            pass
    return out


def _digests(out: Path) -> dict[str, str]:
    return {str(f.relative_to(out)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted((out / "data").rglob("*.parquet"))}  # fmt: skip


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Digests of the data files an uninterrupted run writes (in-process, no Prefect: the
    runners write the same bytes, tests/flows/test_runners.py)."""
    from pipeline import write_dataset
    from pipeline.config import build_config

    out = tmp_path_factory.mktemp("clean") / "out"
    kw = dict(rows=ROWS, shard_rows=SHARD_ROWS, seed=5, avatars="none", bios="none",
              follows="none", posts="none", out=str(out))  # fmt: skip
    write_dataset(build_config(None, **kw), "auto", out)
    return _digests(out)


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
@pytest.mark.parametrize("runner", ["thread", "thread-1", "process", "dask"])
def test_a_stop_ends_the_run_leaves_no_process_and_resumes(tmp_path, runner, how, uninterrupted):
    out = tmp_path / "out"
    args = _args(runner, out)
    p = subprocess.Popen([sys.executable, "-m", "flows.cli", "generate", *args], cwd=tmp_path,
                         text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                         start_new_session=True)  # fmt: skip
    cli = psutil.Process(p.pid)
    seen: dict = {}
    receipts = out / ".profilegen" / "shards"
    deadline = time.monotonic() + 150
    while not (receipts.is_dir() and any(receipts.iterdir())):
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline, "no shard finished in time"
        _descendants(cli, seen)
        time.sleep(0.1)
    _descendants(cli, seen)
    # Workers and the server are up by now: what the stop must not leave behind.
    kinds = " ".join(cmd for _, cmd in seen.values())
    assert "uvicorn" in kinds or "prefect" in kinds, seen  # the temporary Prefect server
    if runner not in ("thread", "thread-1"):
        assert "multiprocessing" in kinds, seen  # pool workers / Dask worker processes
    if how == "ctrl-c":
        os.killpg(p.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    else:
        p.send_signal(signal.SIGTERM)  # `kill`, `timeout`, a CI cancel: the CLI alone
    sent = time.monotonic()
    while p.poll() is None and time.monotonic() - sent < 30:
        _descendants(cli, seen)  # anything started while stopping counts too
        time.sleep(0.05)
    took = time.monotonic() - sent
    _, stderr = p.communicate(timeout=30)
    assert took < 10, f"the stop took {took:.1f} s"
    want = 128 + (signal.SIGINT if how == "ctrl-c" else signal.SIGTERM)
    assert p.returncode == want, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "rerun the same command to resume" in lines[0], stderr[-3000:]

    # The process table: nothing the run started is still running, in its session or not
    # (the temporary server runs in a session of its own).
    left = _still_running(seen)
    for _ in range(20):  # a worker that is exiting gets a moment
        if not left:
            break
        time.sleep(0.1)
        left = _still_running(seen)
    assert left == [], left
    assert _in_session(p.pid) == []
    assert not (out / "manifest.json").exists()
    made = len(list(receipts.iterdir()))
    shards = ROWS // SHARD_ROWS
    assert 0 < made < shards

    # The same command resumes. A default (non --verbose) run prints its summary and
    # nothing else, with every runner: no Prefect INFO lines, no task-run lines from the
    # workers, no `distributed` INFO lines (scheduler, nannies) nor the Dask dashboard link
    # (without bokeh the scheduler's HTTP server answers 404 at /status).
    r = _cli("generate", *args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.startswith(f"wrote {ROWS:,} profiles in {shards} shard(s)"), r.stdout
    assert f"{shards - made} made, {made} already there" in r.stdout, r.stdout
    assert r.stderr.strip() == "", r.stderr[-3000:]
    assert "dashboard" not in r.stdout and "8787" not in r.stdout
    assert _digests(out) == uninterrupted
