"""The `profilegen` command as a user runs it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app


def profilegen(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # A real process: what the user sees on stderr, the exit code, no traceback.
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2]), "COLUMNS": "200"},
        timeout=120,
    )


BAD = [
    (["--locales", "en_US:0.5,xx_XX:0.5"], "unknown locale 'xx_XX'"),
    (["--locales", "en_US:0.6,ja_JP:0.6"], "weights sum to 1.2, not 1"),
    (["--rows", "0"], "rows"),
    (["--rows", "-3"], "rows"),
    (["--seed", "1.5"], "seed: must be an integer, got '1.5'"),
    (["--seed", "abc"], "seed: must be an integer, got 'abc'"),
    (["--avatars", "stylegan"], "avatars"),
    (["--out", "/proc/profilegen-test/out"], "not writable"),
    (["--bios", "gpt"], "bios"),
    (["--bio-language", "fr"], "bio_language"),
    (["--bio-model", "/nonexistent/model"], "no such model directory"),
    (["--bio-temperature", "0"], "bio_temperature"),
]


@pytest.mark.parametrize("args, message", BAD)
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, args, message):
    out_args = [] if "--out" in args else ["--out", str(tmp_path / "out")]
    r = profilegen("generate", *args, *out_args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "text, message",
    [("rows: [1\n", "is malformed"), ("rowz: 5\n", "unknown key 'rowz'")],
)
def test_bad_config_file(tmp_path, text, message):
    cfg = tmp_path / "conf" / "c.yaml"
    cfg.parent.mkdir()
    cfg.write_text(text)
    r = profilegen("generate", "--config", str(cfg), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_generate_inspect_and_refuse_another_config(prefect_server, tmp_path):
    runner = CliRunner()
    out = tmp_path / "ds"
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'rows = 300\nshard_rows = 100\nlocales = "en_GB:0.5,ko_KR:0.5"\nbios = "template"\n'
    )
    r = runner.invoke(app, ["generate", "--config", str(cfg), "--seed", "5", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "wrote 300 profiles in 3 shard(s)" in r.output

    r = runner.invoke(app, ["inspect", str(out), "--rows", "3"])
    assert r.exit_code == 0, r.output
    assert "ko_KR" in r.output and "username unique" in r.output and "FAIL" not in r.output

    before = sorted(p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file())
    r = runner.invoke(app, ["generate", "--config", str(cfg), "--seed", "6", "--out", str(out)])
    assert r.exit_code == 2 and "holds a run with another config" in r.output
    assert sorted(p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()) == before

    r = runner.invoke(app, ["generate", "--config", str(cfg), "--seed", "6", "--out", str(out),
                            "--overwrite"])  # fmt: skip
    assert r.exit_code == 0, r.output


def test_help_lists_the_options():
    r = CliRunner().invoke(app, ["generate", "--help"], env={"COLUMNS": "200"})
    for opt in ("--rows", "--seed", "--locales", "--out", "--config", "--avatars", "--bios",
                "--shard-rows", "--resume", "--overwrite"):  # fmt: skip
        assert opt in r.output


def test_inspect_of_a_non_dataset(tmp_path):
    r = profilegen("inspect", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2 and "no finished profilegen dataset" in r.stderr


def _png(path: Path, size: int) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), (200, 100, 50)).save(path)


@pytest.mark.parametrize(
    "setup, args, message",
    [
        (None, ["--data", "missing"], "not found"),
        ("empty", ["--data", "photos"], "empty"),
        ("junk", ["--data", "photos"], "0 readable images"),
        ("small", ["--data", "photos"], "smaller than 64 px"),
        (None, ["--resolution", "96"], "resolution must be 64 or 128"),
        (None, ["--arch", "stylegan"], "unknown GAN architecture"),
        (None, ["--resume"], "nothing to resume"),
    ],
)
def test_train_avatars_bad_input(tmp_path, setup, args, message):
    photos = tmp_path / "photos"
    if setup:
        photos.mkdir()
    if setup == "junk":
        (photos / "a.jpg").write_text("not an image")
    if setup == "small":
        _png(photos / "a.png", 32)
    r = profilegen("train-avatars", *args, "--out", str(tmp_path / "gan"), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert not (tmp_path / "gan").exists()


def test_corrupt_checkpoint_is_refused_by_generate_and_eval(tmp_path):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text('{"arch": "cgan", "resolution": 64}')
    (ckpt / "model.safetensors").write_bytes(b"garbage")
    for args in (["generate", "--avatar-checkpoint", str(ckpt), "--out", str(tmp_path / "o")],
                 ["eval-avatars", str(ckpt)]):  # fmt: skip
        r = profilegen(*args, cwd=tmp_path)
        assert r.returncode == 2 and "corrupt or of another architecture" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_eval_bios_reports_metrics(prefect_server, tmp_path):
    runner = CliRunner()
    out = tmp_path / "ds"
    r = runner.invoke(app, ["generate", "--rows", "120", "--avatars", "none", "--bios",
                            "template", "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "## Bios" in (out / "README.md").read_text()
    r = runner.invoke(app, ["eval-bios", str(out), "--sample", "50", "--json",
                            str(tmp_path / "m.json")])  # fmt: skip
    assert r.exit_code == 0, r.output
    import json

    m = json.loads((tmp_path / "m.json").read_text())
    assert m["rows"] == 120 and m["leak_rate"] == 0 and m["duplicate_rate"] == 0
    assert m["template_fallback_rate"] == 1.0 and 0 < m["mean_pairwise_cosine"] < 1
    assert 0 < m["distinct_2"] <= 1 and m["field_consistency"] > 0.9


def test_eval_bios_on_a_dataset_without_bios(prefect_server, tmp_path):
    out = tmp_path / "ds"
    r = CliRunner().invoke(app, ["generate", "--rows", "50", "--avatars", "none", "--bios",
                                 "none", "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    r = profilegen("eval-bios", str(out), cwd=tmp_path)
    assert r.returncode == 2 and "has no bio column" in r.stderr and "Traceback" not in r.stderr
