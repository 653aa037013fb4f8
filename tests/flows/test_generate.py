"""The Prefect flow on a real (ephemeral) Prefect server."""

import json
from pathlib import Path

import pytest

from flows.generate import run_generate
from pipeline.dataset.validate import validate_dataset
from pipeline.dataset.writer import MANIFEST


def file_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_flow_writes_a_valid_dataset_and_artifacts(prefect_server, small_cfg, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    cfg = small_cfg(out=str(tmp_path / "ds"), workers=2)
    summary = run_generate(cfg)
    assert summary == {
        "out": str(tmp_path / "ds"), "rows": 600, "shards": 3, "written": 3, "skipped": 0,
        "config_hash": cfg.config_hash,
    }  # fmt: skip
    assert all(c.ok for c in validate_dataset(tmp_path / "ds"))

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["profiles-shards", "profiles-card"])
            )
        )
    kinds = {a.key: a.type for a in arts}
    assert kinds == {"profiles-shards": "table", "profiles-card": "markdown"}

    again = run_generate(cfg)
    assert (again["written"], again["skipped"]) == (0, 3)


def test_failed_run_resumes_to_the_same_bytes(prefect_server, small_cfg, tmp_path, monkeypatch):
    import pipeline.dataset.shard as profiles

    whole = small_cfg(out=str(tmp_path / "whole"))
    run_generate(whole)

    cfg = small_cfg(out=str(tmp_path / "broken"), workers=1)
    real = profiles.build_shard

    def flaky(c, shard, *rest):
        if shard == 2:
            raise RuntimeError("worker died")
        return real(c, shard, *rest)

    monkeypatch.setattr(profiles, "build_shard", flaky)
    with pytest.raises(RuntimeError, match="worker died"):
        run_generate(cfg)
    assert not (tmp_path / "broken" / MANIFEST).exists()
    monkeypatch.setattr(profiles, "build_shard", real)

    summary = run_generate(cfg, "resume")
    assert (summary["written"], summary["skipped"]) == (1, 2)
    assert file_bytes(tmp_path / "broken") == file_bytes(tmp_path / "whole")
    manifest = json.loads((tmp_path / "broken" / MANIFEST).read_text())
    assert manifest["config_hash"] == cfg.config_hash


def test_shards_run_concurrently_but_bounded_by_workers(
    prefect_server, small_cfg, tmp_path, monkeypatch
):
    import threading
    import time

    import pipeline.dataset.shard as profiles

    real, lock, running, peak = profiles.build_shard, threading.Lock(), [0], [0]

    def slow(c, shard, *rest):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.5)
        try:
            return real(c, shard, *rest)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(profiles, "build_shard", slow)
    run_generate(small_cfg(rows=800, out=str(tmp_path / "ds"), workers=2))
    assert peak[0] == 2


def test_one_shard_at_a_time_runs_on_the_flows_own_thread(
    prefect_server, small_cfg, tmp_path, monkeypatch
):
    """The thread runner with one worker (or one shard left) makes its shards on the flow's
    thread, where the CLI loaded the models: a second thread running torch doubles the
    OpenMP workers and slows decoding (flows/generate.py). More at once: the pool's."""
    import threading

    import pipeline.dataset.shard as profiles

    real, seen = profiles.build_shard, []

    def where(c, shard, *rest):
        seen.append(threading.current_thread() is threading.main_thread())
        return real(c, shard, *rest)

    monkeypatch.setattr(profiles, "build_shard", where)
    run_generate(small_cfg(rows=400, out=str(tmp_path / "one"), workers=1))
    run_generate(small_cfg(rows=200, out=str(tmp_path / "single"), workers=2))
    assert seen == [True, True, True]
    seen.clear()
    run_generate(small_cfg(rows=400, out=str(tmp_path / "two"), workers=2))
    assert seen == [False, False]
