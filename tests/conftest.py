import os

import pytest

import flows  # noqa: F401  (sets the Prefect server timeout and analytics before import)


@pytest.fixture(scope="session")
def prefect_server():
    """One real (ephemeral) Prefect server for every flow test of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def small_cfg():
    from pipeline.config import build_config

    def make(**kw):
        base = dict(
            rows=600, shard_rows=200, seed=7, locales="en_US:0.4,ja_JP:0.3,ar_SA:0.3",
            avatars="none", bios="none", follows="none", posts="none", bots="none",
        )  # fmt: skip
        base.update(kw)
        return build_config(None, **base)

    return make


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path_factory, monkeypatch):
    # Gazetteer tables are cached on disk; keep tests from writing into the user's home
    # but share the cache across the session so it is built once.
    cache = tmp_path_factory.getbasetemp() / "cache"
    monkeypatch.setenv("PROFILEGEN_CACHE_DIR", os.environ.get("PROFILEGEN_CACHE_DIR", str(cache)))


def _write_dataset(cfg, out, mode="auto"):
    """The whole run without Prefect (pipeline.write_dataset): the flow's sequence, in this
    process. `out` is a local path or a URL (s3://, memory://)."""
    from pipeline import write_dataset

    return write_dataset(cfg, mode, out)


@pytest.fixture
def write_dataset():
    return _write_dataset
