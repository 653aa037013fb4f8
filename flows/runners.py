"""Task runners for `--runner thread|process|dask`, and the checks made before a run starts.

Process-pool and Dask workers are other processes: each reports its task runs to the Prefect
API it finds in the settings that Prefect serializes with every task. With no
PREFECT_API_URL, each would start a temporary server of its own (~35 s before its first
task, REFERENCE.md), so `worker_api` gives them the parent's server instead.
"""

import contextlib
import os
import subprocess
from collections.abc import Iterator
from typing import Any

from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from pipeline.config import GenerateConfig
from pipeline.core.device import threads_per_process
from pipeline.errors import ProfilegenError

DASK_CONNECT_TIMEOUT_S = 5


def task_runner(cfg: GenerateConfig) -> TaskRunner:
    if cfg.runner == "thread":
        return ThreadPoolTaskRunner(max_workers=cfg.workers)
    if cfg.runner == "process":
        # Prefect's own pool (spawn start method, so it is CUDA-safe). Children inherit the
        # environment: split the cores between them instead of each taking all of them.
        os.environ.setdefault("PROFILEGEN_TORCH_THREADS", str(threads_per_process(cfg.workers)))
        return ProcessPoolTaskRunner(max_workers=cfg.workers)
    from prefect_dask import DaskTaskRunner

    if cfg.dask_address:
        return DaskTaskRunner(address=cfg.dask_address)
    return DaskTaskRunner(cluster_kwargs=local_cluster_kwargs(cfg.workers))


def local_cluster_kwargs(workers: int) -> dict:
    """LocalCluster settings for `workers` shard makers (also used by benchmarks/runners.py)."""
    import dask

    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in new workers, which turns off glibc's
    # adaptive mmap threshold: every large numpy buffer is then mapped and unmapped afresh.
    # Measured here: a 500-row GAN shard takes 1.7 s instead of 1.3 s. None = leave it unset.
    dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})
    # The bio LM's torch threads: the cores shared out, not every core per worker.
    threads = str(threads_per_process(workers))
    dask.config.set({"distributed.nanny.pre-spawn-environ.PROFILEGEN_TORCH_THREADS": threads})
    # One thread per worker process: a shard is CPU-bound Python + torch, and the GIL would
    # serialize a second thread. No dashboard: it needs a free port and bokeh.
    return {"n_workers": workers, "threads_per_worker": 1, "processes": True,
            "dashboard_address": None}  # fmt: skip


@contextlib.contextmanager
def worker_api(cfg: GenerateConfig) -> Iterator[None]:
    """Run the block with an explicit Prefect API URL when tasks run in other processes."""
    if cfg.runner == "thread" or PREFECT_API_URL.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    # The same server instance Prefect's ephemeral mode would start for this process.
    server = SubprocessASGIServer()
    server.start()
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield


@contextlib.contextmanager
def cli_api() -> Iterator[Any]:
    """The CLI's Prefect API for one run: PREFECT_API_URL if set, else a temporary server
    this process starts in a session of its own and always stops (yields it, or None).

    Prefect's own ephemeral server shares the terminal's process group, so Ctrl-C killed it
    under the still-running flow (which then hung, reconnecting), and SIGTERM to the CLI
    left it running as an orphan."""
    if PREFECT_API_URL.value():
        yield None
        return
    server = _detached_server()
    server.start()
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            try:
                yield server
            finally:
                # Prefect's log and event workers flush at interpreter exit; by then the
                # server is gone and they retry against it for minutes. Flush them now.
                from prefect.events.worker import EventsWorker
                from prefect.logging.handlers import APILogWorker

                for service in (APILogWorker, EventsWorker):
                    service.drain_all(timeout=5)
    finally:
        server.stop()


def _detached_server():
    """Prefect's SubprocessASGIServer, its process started in a new session (so a terminal's
    Ctrl-C reaches the CLI only). Built here: importing prefect.server costs seconds."""
    from prefect.server.api.server import SubprocessASGIServer

    class Detached(SubprocessASGIServer):
        def _run_uvicorn_command(self):
            real = subprocess.Popen

            def popen(*args, **kwargs):
                return real(*args, start_new_session=True, **kwargs)

            subprocess.Popen = popen
            try:
                return super()._run_uvicorn_command()
            finally:
                subprocess.Popen = real

    return Detached()


def check_prefect_api() -> None:
    """Fail in one line if PREFECT_API_URL is set but nothing answers there."""
    url = PREFECT_API_URL.value()
    if not url:
        return  # ephemeral mode: a temporary server is started for the run
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        raise ProfilegenError(
            f"cannot reach the Prefect API at {url} ({problem}); start it with "
            f"`prefect server start` or unset PREFECT_API_URL to use a temporary local server"
        )


def check_dask_scheduler(address: str) -> None:
    """Fail in one line if no Dask scheduler answers at `address`."""
    import distributed

    try:
        client = distributed.Client(address, timeout=DASK_CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as e:
        raise ProfilegenError(
            f"cannot reach the Dask scheduler at {address} "
            f"(no answer within {DASK_CONNECT_TIMEOUT_S} s: {type(e).__name__}); "
            f"start one with `dask scheduler` or drop --dask-address for a local cluster"
        ) from None
    client.close()


def check_orchestration(cfg: GenerateConfig) -> None:
    """Everything a run needs from outside this process, checked before anything is written."""
    check_prefect_api()
    if cfg.runner == "dask" and cfg.dask_address:
        check_dask_scheduler(cfg.dask_address)
