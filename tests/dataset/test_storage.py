"""Object-store output: the real generate flow and CLI against a local S3 server (moto),
and memory://. Same seed + config must give the same bytes as a local run."""

import hashlib
import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from pipeline.dataset.shard import make_shard
from pipeline.dataset.storage import LocalStore, open_store
from pipeline.dataset.writer import MANIFEST, STATE_DIR, shard_file, start_run

ROWS, SHARD_ROWS = 400, 200  # two shards
CLI_CONFIG = ["--rows", str(ROWS), "--shard-rows", str(SHARD_ROWS), "--seed", "7",
              "--locales", "en_US:0.4,ja_JP:0.3,ar_SA:0.3", "--avatars", "none",
              "--bios", "none", "--posts", "none"]  # fmt: skip


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch):
    """Fake credentials and the endpoint in the environment; a fresh, empty bucket."""
    import boto3

    for key in [k for k in os.environ if k.startswith(("AWS_", "PROFILEGEN_S3_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("PROFILEGEN_S3_ENDPOINT_URL", s3_server)
    bucket = f"pg-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server)
    client.create_bucket(Bucket=bucket)

    class S3:
        endpoint, name = s3_server, bucket

        @staticmethod
        def objects(prefix: str = "") -> dict[str, bytes]:
            """Every object under `prefix`, by key relative to it, with its bytes."""
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
            return {
                k.removeprefix(prefix).lstrip("/"): client.get_object(Bucket=bucket, Key=k)[
                    "Body"
                ].read()
                for k in keys
            }

        @staticmethod
        def delete(key: str) -> None:
            client.delete_object(Bucket=bucket, Key=key)

    return S3


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A local run of the same config: the bytes every store must hold."""
    from conftest import _write_dataset

    from pipeline.config import build_config

    cfg = build_config(
        None, rows=ROWS, shard_rows=SHARD_ROWS, seed=7,
        locales="en_US:0.4,ja_JP:0.3,ar_SA:0.3", avatars="none", bios="none", posts="none",
    )  # fmt: skip
    out = tmp_path_factory.mktemp("reference") / "ds"
    _write_dataset(cfg, out)
    from pipeline.report import write_report

    write_report(out)  # what `generate` writes after the library's run: the same bytes anywhere
    files = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    return cfg, files


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_generate_to_s3_is_byte_identical_to_local_and_inspects(prefect_server, s3, reference):
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    _, want = reference
    url = f"s3://{s3.name}/runs/ds"
    r = CliRunner().invoke(app, ["generate", *CLI_CONFIG, "--out", url])
    assert r.exit_code == 0, r.output
    assert f"wrote {ROWS} profiles in 2 shard(s) to {url} (2 made, 0 already there" in r.stdout

    got = s3.objects("runs/ds/")
    assert sorted(got) == sorted(want)  # no .profilegen/ state, no temp keys left
    assert got == want

    # Read back with pyarrow's own S3 client, not the one that wrote it.
    fs = pafs.S3FileSystem(
        endpoint_override=s3.endpoint, access_key="testing", secret_key="testing",
        region="us-east-1",
    )  # fmt: skip
    table = pq.read_table(f"{s3.name}/runs/ds/data/profiles", filesystem=fs)
    assert table.num_rows == ROWS and len(set(table["username"].to_pylist())) == ROWS
    manifest = json.loads(got[MANIFEST])
    assert [s["file"] for s in manifest["shards"]] == [shard_file(i, 2) for i in range(2)]
    for s in manifest["shards"]:
        assert hashlib.sha256(got[s["file"]]).hexdigest() == s["sha256"]

    r = CliRunner().invoke(app, ["inspect", url, "--rows", "2"])
    assert r.exit_code == 0, r.output
    assert "shard checksums" in r.stdout and "FAIL" not in r.stdout


def test_resume_on_s3_remakes_only_the_deleted_shard(prefect_server, s3, reference):
    from flows.generate import run_generate

    cfg, want = reference
    url = f"s3://{s3.name}/ds"
    cfg = cfg.model_copy(update={"out": url})
    assert run_generate(cfg)["written"] == 2

    s3.delete(f"ds/{shard_file(1, 2)}")
    summary = run_generate(cfg, "resume")
    assert (summary["written"], summary["skipped"]) == (1, 1)
    assert s3.objects("ds/") == want

    again = run_generate(cfg)  # a finished dataset: every shard verified, none rewritten
    assert (again["written"], again["skipped"]) == (0, 2)


@pytest.mark.parametrize("fail_at", ["upload", "copy"])
def test_failed_put_leaves_no_object_at_the_final_key(
    s3, reference, monkeypatch, write_dataset, fail_at
):
    cfg, want = reference
    url = f"s3://{s3.name}/ds"
    cfg = cfg.model_copy(update={"out": url})
    fs = open_store(url).fs  # the filesystem the writers below share
    real_pipe, real_copy = fs.pipe_file, fs.cp_file

    def broken_pipe(path, data, **kw):
        if "/data/" in path:  # half the shard lands at its temp key, then the line drops
            real_pipe(path, data[: len(data) // 2], **kw)
            raise ConnectionResetError("connection reset by peer")
        return real_pipe(path, data, **kw)

    def broken_copy(src, dst, **kw):
        if "/data/" in dst:
            raise ConnectionResetError("connection reset by peer")
        return real_copy(src, dst, **kw)

    with monkeypatch.context() as m:
        if fail_at == "upload":
            m.setattr(fs, "pipe_file", broken_pipe)
        else:
            m.setattr(fs, "cp_file", broken_copy)
        assert start_run(cfg, url) == [0, 1]
        with pytest.raises(ConnectionResetError):
            make_shard(cfg, url, 0)
    left = s3.objects("ds/")
    assert shard_file(0, 2) not in left
    assert not [k for k in left if "/.tmp-" in k or k.startswith(".tmp-")], sorted(left)
    # No receipt, no manifest, no data: only the run's state (header, lock, graph plan).
    assert [k for k in left if not k.startswith(f"{STATE_DIR}/")] == []
    assert not [k for k in left if k.startswith(f"{STATE_DIR}/shards/")]
    assert f"{STATE_DIR}/run.json" in left

    write_dataset(cfg, url)  # the network is back: the same run finishes to the same bytes
    assert s3.objects("ds/") == {k: v for k, v in want.items() if k != "report.html"}


def test_memory_url_and_file_url(prefect_server, reference, tmp_path):
    from fsspec.implementations.memory import MemoryFileSystem

    from flows.generate import run_generate
    from pipeline.dataset.validate import validate_dataset

    cfg, want = reference
    url = f"memory://pg-{uuid.uuid4().hex[:8]}/ds"
    summary = run_generate(cfg.model_copy(update={"out": url}))
    assert summary["out"] == url and summary["written"] == 2
    root = url.removeprefix("memory:/")
    mem = MemoryFileSystem()
    got = {p.removeprefix(root + "/"): mem.cat_file(p) for p in mem.find(root)}
    assert got == want
    assert all(c.ok for c in validate_dataset(url))

    local = f"file://{tmp_path}/ds"
    assert isinstance(open_store(local), LocalStore)  # file:// is a plain local folder
    run_generate(cfg.model_copy(update={"out": local}))
    out = tmp_path / "ds"
    assert {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()} == (
        want
    )


def test_missing_bucket_is_one_line_exit_2(s3, tmp_path):
    # A real process: what the user sees on stderr, the exit code, no traceback.
    r = subprocess.run(
        [sys.executable, "-m", "flows.cli", "generate", *CLI_CONFIG,
         "--out", "s3://no-such-bucket-pg/ds"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2]), "COLUMNS": "200"},
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    line = one_error_line(r.stderr)
    assert "bucket 'no-such-bucket-pg' does not exist" in line
    assert s3.objects() == {}  # and nothing written anywhere else


@pytest.fixture
def auth_on(s3):
    """Make moto check signatures (it accepts any key by default), with one real key."""
    import boto3
    import requests

    # The next 2 requests go unchecked (they make the user and its key), later ones are.
    requests.post(f"{s3.endpoint}/moto-api/reset-auth", data=b"2").raise_for_status()
    try:
        iam = boto3.client("iam", endpoint_url=s3.endpoint)
        user = f"pg-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        yield key["AccessKeyId"]
    finally:
        requests.post(f"{s3.endpoint}/moto-api/reset-auth", data=b"inf").raise_for_status()


@pytest.mark.parametrize(
    "key_id, message",
    [
        ("AKIAUNKNOWN000000000", "The AWS Access Key Id you provided does not exist"),
        ("real-key-wrong-secret", "The request signature we calculated does not match"),
    ],
)
def test_wrong_credentials_are_one_line_exit_2(s3, auth_on, monkeypatch, key_id, message):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", auth_on if key_id.startswith("real") else key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    url = f"s3://{s3.name}/ds"
    for args in (["generate", *CLI_CONFIG, "--out", url], ["inspect", url]):
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 2, r.output
        line = one_error_line(r.stderr)
        assert f"cannot {'write to' if args[0] == 'generate' else 'read'} {url}" in line
        assert "access denied" in line and message in line and "AWS_ACCESS_KEY_ID" in line


def test_no_credentials_unknown_scheme_and_missing_protocol(s3, monkeypatch, tmp_path):
    import importlib.util

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    cases = [
        (f"s3://{s3.name}/ds", "no usable credentials"),
        ("foo://bucket/ds", "unknown storage protocol 'foo'"),
        ("s3://", "give a bucket"),
    ]
    if importlib.util.find_spec("gcsfs") is None:
        cases.append(("gs://bucket/ds", "protocol 'gs' is not installed"))
    for url, message in cases:
        r = CliRunner().invoke(app, ["generate", *CLI_CONFIG, "--out", url])
        assert r.exit_code == 2, r.output
        assert message in one_error_line(r.stderr)
    assert s3.objects() == {} and list(tmp_path.iterdir()) == []


def test_aws_endpoint_url_is_honoured(s3, monkeypatch, reference):
    # botocore reads AWS_ENDPOINT_URL itself; PROFILEGEN_S3_ENDPOINT_URL is only an override.
    from pipeline.dataset.writer import check_output

    monkeypatch.delenv("PROFILEGEN_S3_ENDPOINT_URL")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.endpoint)
    assert check_output(reference[0], f"s3://{s3.name}/ds") is None
    assert s3.objects() == {}  # the write probe cleans up after itself
