"""prefect.yaml and `profilegen serve` against a real `prefect server start` (SQLite).

Real parts only: a server process, a process work pool, `prefect deploy --all`, a worker,
the flows in a worker subprocess, and the Parquet they write read back. About a minute.
"""

import contextlib
import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from pipeline.core.schedule import scheduled_seed, slot_name
from pipeline.dataset.validate import validate_dataset

pytestmark = pytest.mark.server

REPO = Path(__file__).parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def started(cmd: list, env: dict, log: Path):
    """A background process in its own process group, stopped (group and all) on exit."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(c) for c in cmd], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield proc
    finally:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(wait)
                break


def wait_until(what: str, ok, timeout: float, log: Path) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if ok():
            return
        time.sleep(0.5)
    pytest.fail(f"{what} not within {timeout} s; log:\n{log.read_text()[-3000:]}")


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_deploy_schedule_run_and_serve_on_a_real_server(tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
        DeploymentFilter,
        DeploymentFilterId,
    )
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.states import Scheduled

    url = f"http://127.0.0.1:{free_port()}/api"
    # The subprocesses talk to this server only: none of the session harness's settings,
    # a PREFECT_HOME (SQLite database, profiles) of their own, no prompts.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(tmp_path / "home"), PREFECT_API_URL=url, PREFECT_CLI_PROMPT="false",
        PREFECT_SERVER_ANALYTICS_ENABLED="false", COLUMNS="200",
    )  # fmt: skip

    def prefect(*args: str, timeout: float = 60) -> str:
        r = subprocess.run([str(BIN / "prefect"), *args], cwd=REPO, env=env, timeout=timeout,
                           capture_output=True, text=True)  # fmt: skip
        assert r.returncode == 0, f"prefect {' '.join(args)}:\n{r.stdout[-3000:]}{r.stderr}"
        return r.stdout

    port = url.split(":")[-1].split("/")[0]
    with contextlib.ExitStack() as stack:
        server_log = tmp_path / "server.log"
        stack.enter_context(started(
            [BIN / "prefect", "server", "start", "--host", "127.0.0.1", "--port", port, "--no-ui"],
            env, server_log,
        ))  # fmt: skip
        wait_until("prefect server /api/health", lambda: healthy(url), 90, server_log)
        stack.enter_context(temporary_settings({PREFECT_API_URL: url}))
        client = stack.enter_context(get_client(sync_client=True))

        prefect("work-pool", "create", "profilegen", "--type", "process")
        prefect("deploy", "--all")

        # The schedules and parameters of prefect.yaml, read back from the API.
        daily = client.read_deployment_by_name("generate-from-config/daily-profiles")
        weekly = client.read_deployment_by_name("train-avatar-gan/weekly-avatar-gan")
        assert [s.schedule.cron for s in daily.schedules] == ["0 2 * * *"]
        assert [s.schedule.cron for s in weekly.schedules] == ["0 3 * * 0"]
        assert daily.parameters["config_file"] == "configs/daily-profiles.yaml"
        assert daily.work_pool_name == weekly.work_pool_name == "profilegen"
        where = {"prefect.deployments.steps.set_working_directory": {"directory": str(REPO)}}
        assert daily.pull_steps == weekly.pull_steps == [where]

        # `profilegen serve` registers its own scheduled deployment meanwhile.
        serve_log = tmp_path / "serve.log"
        stack.enter_context(started(
            [BIN / "profilegen", "serve", "--cron", "30 1 * * *", "--config",
             "configs/daily-profiles.yaml", "--name", "nightly", "--root", tmp_path],
            env, serve_log,
        ))  # fmt: skip

        # A manual run: small parameters, the given seed and out.
        small = {"rows": 200, "avatars": "none", "bios": "none"}
        manual = {"overrides": {**small, "out": str(tmp_path / "manual")}}
        out = prefect("deployment", "run", "generate-from-config/daily-profiles",
                      "--params", json.dumps(manual))  # fmt: skip
        manual_id = re.search(r"UUID: ([0-9a-f-]{36})", out).group(1)

        # A run the scheduler created for the 02:00 slot, made small and due now. Its
        # expected start time (the slot) stays: that is what the flow derives seed and
        # folder from.
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[daily.id])),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
        )
        auto = next(r for r in runs if r.auto_scheduled)
        slot = auto.expected_start_time
        assert (slot.hour, slot.minute) == (2, 0)
        client.update_flow_run(
            auto.id, parameters={**auto.parameters, "overrides": small, "root": str(tmp_path)}
        )
        client.set_flow_run_state(auto.id, Scheduled(scheduled_time=dt.datetime.now(dt.UTC)),
                                  force=True)  # fmt: skip

        prefect("worker", "start", "--pool", "profilegen", "--run-once", timeout=180)

        for run_id in (manual_id, auto.id):
            state = client.read_flow_run(run_id).state
            assert state.is_completed(), (state, (tmp_path / "server.log").read_text()[-2000:])

        manual_out = tmp_path / "manual"
        assert all(c.ok for c in validate_dataset(manual_out))
        sched_out = tmp_path / "daily-profiles" / slot_name(slot)
        assert all(c.ok for c in validate_dataset(sched_out))
        seeds = {}
        for name, folder in (("manual", manual_out), ("scheduled", sched_out)):
            table = pq.read_table(folder / "data" / "profiles")
            assert table.num_rows == 200
            seeds[name] = json.loads(table.schema.metadata[b"profilegen"])["seed"]
        assert seeds == {"manual": 0, "scheduled": scheduled_seed(0, slot)}
        (note,) = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["profiles-run"]),
            flow_run_id=ArtifactFilterFlowRunId(any_=[auto.id]),
        ))  # fmt: skip
        assert f"seed {seeds['scheduled']}" in note.data and "scheduled for" in note.data

        def served():
            try:
                return client.read_deployment_by_name("generate-from-config/nightly")
            except Exception:  # ObjectNotFound until serve has registered it
                return None

        wait_until("profilegen serve's deployment", served, 60, serve_log)
        nightly = served()
        assert [s.schedule.cron for s in nightly.schedules] == ["30 1 * * *"]
        assert nightly.parameters["config_file"] == str(REPO / "configs/daily-profiles.yaml")
