"""The dataset on disk: HF layout, metadata, atomic + resumable writes, readers agree."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.dataset.validate import validate_dataset
from pipeline.dataset.writer import (
    MANIFEST,
    STATE_DIR,
    check_output,
    finish_run,
    prepare_output,
    shard_file,
    start_run,
)
from pipeline.errors import ProfilegenError


def file_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_layout_manifest_card_and_metadata(small_cfg, tmp_path, write_dataset):
    cfg = small_cfg()
    manifest = write_dataset(cfg, tmp_path / "ds")
    out = tmp_path / "ds"
    assert sorted(file_bytes(out)) == [
        "README.md",
        "data/profiles/train-00000-of-00003.parquet",
        "data/profiles/train-00001-of-00003.parquet",
        "data/profiles/train-00002-of-00003.parquet",
        "manifest.json",
    ]
    assert manifest["rows"] == 600 and [s["rows"] for s in manifest["shards"]] == [200] * 3
    schema = pq.read_schema(out / shard_file(0, 3))
    hf = json.loads(schema.metadata[b"huggingface"])
    assert hf["info"]["features"]["interests"] == {
        "feature": {"dtype": "string", "_type": "Value"},
        "_type": "List",
    }
    prov = json.loads(schema.metadata[b"profilegen"])
    assert prov["seed"] == 7 and prov["reference_date"] == "2026-01-01"
    assert prov["config"] == cfg.dataset_fields() and "numpy" in prov["versions"]
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlicense:") and "machine-generated" in card
    assert "abuse" in card.lower() and "dtype: image" not in card
    assert all(c.ok for c in validate_dataset(out)), validate_dataset(out)


def test_same_seed_byte_identical_files(small_cfg, tmp_path, write_dataset):
    write_dataset(small_cfg(), tmp_path / "a")
    write_dataset(small_cfg(), tmp_path / "b")
    assert file_bytes(tmp_path / "a") == file_bytes(tmp_path / "b")


def test_readers_agree(small_cfg, tmp_path, write_dataset):
    import duckdb
    import pandas as pd
    from datasets import load_dataset

    out = tmp_path / "ds"
    write_dataset(small_cfg(), out)
    files = sorted(str(p) for p in (out / "data" / "profiles").glob("*.parquet"))
    df = pd.read_parquet(out / "data" / "profiles")
    assert len(df) == 600 and df["username"].is_unique
    [(n, langs)] = duckdb.sql(
        f"select count(*), count(distinct language) from read_parquet({files!r})"
    ).fetchall()
    assert (n, langs) == (600, 3)  # en_US, ja_JP, ar_SA
    ds = load_dataset("parquet", data_files=files, split="train")
    assert ds.num_rows == 600 and ds.features["interests"].feature.dtype == "string"
    # The features we declare are the ones the loader derives from the stored Arrow types.
    declared = json.loads(pq.read_schema(files[0]).metadata[b"huggingface"])["info"]["features"]
    assert ds.features.to_dict() == declared
    assert ds[0]["username"] == df["username"][0]


def test_a_finished_dataset_is_verified_not_rewritten(small_cfg, tmp_path, write_dataset):
    cfg, out = small_cfg(), tmp_path / "ds"
    write_dataset(cfg, out)
    before = file_bytes(out)
    assert start_run(cfg, out) == []  # every shard verified by checksum
    finish_run(cfg, out)  # the same card and manifest, written again
    assert file_bytes(out) == before


def test_corrupt_shard_is_remade(small_cfg, tmp_path, write_dataset):
    cfg, out = small_cfg(), tmp_path / "ds"
    write_dataset(cfg, out)
    before = file_bytes(out)
    shard = out / shard_file(1, 3)
    shard.write_bytes(shard.read_bytes()[:-100])
    assert prepare_output(cfg, out, "resume") == [1]
    write_dataset(cfg, out, "resume")
    assert file_bytes(out) == before


def test_killed_run_resumes_to_identical_bytes(small_cfg, tmp_path, write_dataset):
    """SIGKILL a real writer process mid-run, resume, compare with an uninterrupted run
    (with the follow graph and the posts: their plans are resumed too)."""
    cfg = small_cfg(rows=4000, shard_rows=250, follows="graph", posts="template")
    write_dataset(cfg, tmp_path / "whole")
    out = tmp_path / "killed"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from pipeline.config import build_config
        from pipeline.dataset.writer import start_run
        from pipeline.dataset.shard import make_shard
        cfg = build_config(None, **{cfg.model_dump(mode="json")!r})
        out = Path({str(out)!r})
        for i in start_run(cfg, out):
            make_shard(cfg, out, i)
            time.sleep(0.3)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
    receipts = out / STATE_DIR / "shards"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(receipts.glob("*.json"))) < 3:
        assert proc.poll() is None, "writer exited before it could be killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list(receipts.glob("*.json")))
    assert 3 <= done < cfg.n_shards and not (out / MANIFEST).exists()

    todo = prepare_output(cfg, out)
    assert len(todo) == cfg.n_shards - done  # finished shards are skipped, not redone
    write_dataset(cfg, out)
    assert file_bytes(out) == file_bytes(tmp_path / "whole")


def test_output_dir_guards(small_cfg, tmp_path, write_dataset):
    out = tmp_path / "ds"
    write_dataset(small_cfg(), out)
    other = small_cfg(seed=99)
    with pytest.raises(ProfilegenError, match="holds a run with another config"):
        check_output(other, out)
    with pytest.raises(ProfilegenError, match="cannot resume"):
        check_output(other, out, "resume")
    write_dataset(other, out, "overwrite")
    assert json.loads((out / MANIFEST).read_text())["config_hash"] == other.config_hash

    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ProfilegenError, match="holds no profilegen dataset"):
        check_output(small_cfg(), foreign, "overwrite")
    assert (foreign / "notes.txt").read_text() == "keep me"

    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ProfilegenError, match="not a directory"):
        check_output(small_cfg(), a_file)
    with pytest.raises(ProfilegenError, match="not writable"):
        check_output(small_cfg(), a_file / "sub")
