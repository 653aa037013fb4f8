"""Task runners for `--runner thread|process|dask`, and the checks made before a run starts.

Process-pool and Dask workers are other processes: each reports its task runs to the Prefect
API it finds in the settings that Prefect serializes with every task. With no
PREFECT_API_URL, each would start a temporary server of its own (~35 s before its first
task, REFERENCE.md), so `worker_api` gives them the parent's server instead.

Stopping (Ctrl-C, SIGTERM) is the CLI's: its handler asks for a stop in its own process.
Workers in other processes hear of it from here: process-pool workers through an event a
thread of theirs waits on, Dask workers by a `client.run`; in both, the shard in progress
then stops at its next batch and the pool or cluster closes in a second or two, leaving no
process behind. Ctrl-C reaches the terminal's whole process group, so workers ignore SIGINT
(the CLI handles it once, for all of them) instead of each printing a KeyboardInterrupt.
They also log at the CLI's level: a default run shows no task-run INFO lines from them.
"""

import contextlib
import logging
import multiprocessing
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from pipeline.config import GenerateConfig
from pipeline.core.device import threads_per_process
from pipeline.core.stop import clear_stop, request_stop, stop_requested
from pipeline.errors import ProfilegenError

DASK_CONNECT_TIMEOUT_S = 5
# After a stop, how long Dask workers get to end their shard before the cluster closes
# (a shard stops at its next batch: well under a second without the LM).
DASK_STOP_WAIT_S = 5


def task_runner(cfg: GenerateConfig) -> TaskRunner:
    if cfg.runner == "thread":
        return ThreadPoolTaskRunner(max_workers=cfg.workers)
    if cfg.runner == "process":
        # Prefect's own pool (spawn start method, so it is CUDA-safe). Children inherit the
        # environment: split the cores between them instead of each taking all of them.
        os.environ.setdefault("PROFILEGEN_TORCH_THREADS", str(threads_per_process(cfg.workers)))
        return StoppableProcessPool(max_workers=cfg.workers)
    runner = _dask_runner_class()
    if cfg.dask_address:
        return runner(address=cfg.dask_address)
    return runner(cluster_kwargs=local_cluster_kwargs(cfg.workers))


def _worker_log_level() -> str | None:
    """The level the CLI shows Prefect's logs at, for workers to log at, where it is above
    INFO (a default, non --verbose run); None where it is Prefect's own."""
    level = logging.getLogger("prefect").getEffectiveLevel()
    if level <= logging.INFO or os.environ.get("PREFECT_LOGGING_LEVEL"):
        return None
    return logging.getLevelName(level)


@contextlib.contextmanager
def _worker_environ() -> Iterator[None]:
    """While workers are spawned: the CLI's log level in their environment."""
    level = _worker_log_level()
    if level is None:
        yield
        return
    os.environ["PREFECT_LOGGING_LEVEL"] = level
    try:
        yield
    finally:
        os.environ.pop("PREFECT_LOGGING_LEVEL", None)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while the block spawns processes: they inherit SIG_IGN (and Python
    then installs no KeyboardInterrupt handler in them); this process's handler is back
    after. Only the main thread may change it; elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _relay_stop(event) -> Iterator[None]:
    """While the block runs, set `event` (a multiprocessing Event) once this process is
    asked to stop."""
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            if stop_requested():
                event.set()
                return

    thread = threading.Thread(target=watch, name="profilegen-stop-relay", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _pool_worker_init(stop_event, initializer=None, initargs=()) -> None:
    """Each pool worker: Ctrl-C is the CLI's to handle, and the CLI's stop reaches the
    shard in progress through `stop_event`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    clear_stop()

    def watch() -> None:
        stop_event.wait()
        request_stop()

    threading.Thread(target=watch, name="profilegen-stop-watch", daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


class StoppableProcessPool(ProcessPoolTaskRunner):
    """Prefect's process pool whose workers stop with the CLI (see the module docstring)."""

    def __enter__(self):
        # A fresh event per run: a pool (and its workers) lives for one flow run.
        event = multiprocessing.get_context("spawn").Event()
        user = (getattr(self, "_initializer", None), getattr(self, "_initargs", ()))
        if user[0] is _pool_worker_init:  # entered before: unwrap
            user = (user[1][1], user[1][2])
        self._initializer, self._initargs = _pool_worker_init, (event, *user)
        self._stops = contextlib.ExitStack()
        self._stops.enter_context(_relay_stop(event))
        # Workers are spawned on the first submits; the environment is read then.
        self._stops.enter_context(_worker_environ())
        try:
            return super().__enter__()
        except BaseException:
            self._stops.close()
            raise

    def __exit__(self, *exc) -> None:
        try:
            super().__exit__(*exc)
        finally:
            self._stops.close()


def _dask_runner_class():
    """DaskTaskRunner, made to stop with the CLI. Built on first use: importing
    prefect_dask (distributed) costs a second, and resets the `distributed` loggers to
    INFO, over the CLI's quiet level: put back here."""
    level = logging.getLogger("distributed").level
    from prefect_dask import DaskTaskRunner

    if level:
        logging.getLogger("distributed").setLevel(level)

    class StoppableDask(DaskTaskRunner):
        @property
        def client(self):
            if self._client:
                return self._client
            # The local cluster starts on the first submit: its workers ignore SIGINT and
            # log at the CLI's level.
            with _sigint_ignored(), _dask_worker_environ():
                return super().client

        def __exit__(self, *exc) -> None:
            if stop_requested() and self._client is not None:
                _stop_dask_workers(self._client)
            super().__exit__(*exc)

    return StoppableDask


@contextlib.contextmanager
def _dask_worker_environ() -> Iterator[None]:
    import dask

    level = _worker_log_level()
    key = "distributed.nanny.pre-spawn-environ.PREFECT_LOGGING_LEVEL"
    with _worker_environ(), dask.config.set({key: level}):
        yield


def _stop_dask_workers(client) -> None:
    """Ask every worker to stop its shard at the next batch, wait for them (a cancelled
    task would log a warning from the worker), then clear the request: a remote cluster's
    workers outlive this run."""
    try:
        client.run(request_stop)
        deadline = time.monotonic() + DASK_STOP_WAIT_S
        while any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        client.run(clear_stop)
    except Exception:  # noqa: BLE001 - a cluster that is already gone: nothing to stop
        pass


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
    # No dashboard link: without bokeh the scheduler's HTTP server (always started) answers
    # 404 at /status, and Prefect would log the link. It listens on a free local port, not
    # 8787 (a second cluster would warn that 8787 is taken).
    dask.config.set({"distributed.dashboard.link": ""})
    # One thread per worker process: a shard is CPU-bound Python + torch, and the GIL would
    # serialize a second thread.
    kw = {"n_workers": workers, "threads_per_worker": 1, "processes": True,
          "dashboard_address": "127.0.0.1:0"}  # fmt: skip
    if _worker_log_level() is not None:
        # A default run: a worker whose scheduler closed first (a stop) logs heartbeat
        # ERRORs with tracebacks; shard failures still reach the CLI through Prefect.
        kw["silence_logs"] = logging.CRITICAL
    return kw


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
def cli_api(meanwhile: Callable[[], None] = lambda: None) -> Iterator[Any]:
    """The CLI's Prefect API for one run: PREFECT_API_URL if set, else a temporary server
    this process starts in a session of its own and always stops (yields it, or None).
    `meanwhile` runs while the server comes up (the stages' model loading).

    Prefect's own ephemeral server shares the terminal's process group, so Ctrl-C killed it
    under the still-running flow (which then hung, reconnecting), and SIGTERM to the CLI
    left it running as an orphan."""
    if PREFECT_API_URL.value():
        meanwhile()
        yield None
        return
    server = _start_while(_detached_server, meanwhile)
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


def _start_while(make: Callable[[], Any], meanwhile: Callable[[], None]) -> Any:
    """Build a server (`make()`) and start it on a thread while `meanwhile` runs here; return
    it, up. Built there too: `import prefect.server` alone takes ~2 s of the CLI's start, and
    the server then takes seconds to come up (4-5 s on this session's 2-core AMD EPYC,
    16-22 s seen on other machines), its process mostly one core's imports and migrations,
    and the start only polls its port: a model loaded on the other core meanwhile is time
    saved. A stop or a load error meanwhile is raised once the server's process, if any
    yet, is stopped: never after waiting for the whole start."""
    made: list = []
    failed: list[BaseException] = []
    cancelled = threading.Event()

    def start() -> None:
        try:
            made.append(make())
            if not cancelled.is_set():
                made[0].start()
        except BaseException as e:  # re-raised on the caller's thread
            failed.append(e)

    starting = threading.Thread(target=start, name="prefect-server-start", daemon=True)
    starting.start()
    try:
        meanwhile()
        starting.join()
        if failed:
            raise failed[0]
    except BaseException:
        cancelled.set()
        while starting.is_alive() and (not made or made[0].server_process is None):
            time.sleep(0.01)
        if made:
            made[0].stop()
        raise
    return made[0]


def _detached_server():
    """Prefect's SubprocessASGIServer, its process started in a new session (so a terminal's
    Ctrl-C reaches the CLI only). Built here: importing prefect.server costs seconds.

    In a default (non --verbose) run its output goes nowhere: stopped while it still
    records the last task runs' events (after a Ctrl-C, say), it logs a page of
    CancelledError tracebacks onto the CLI's stderr. A server that fails to start still
    fails the run, in one line (Prefect's start() times out)."""
    from prefect.server.api.server import SubprocessASGIServer

    quiet = _worker_log_level() is not None
    streams = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL} if quiet else {}

    class Detached(SubprocessASGIServer):
        def _run_uvicorn_command(self):
            real = subprocess.Popen

            def popen(*args, **kwargs):
                return real(*args, start_new_session=True, **{**kwargs, **streams})

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
