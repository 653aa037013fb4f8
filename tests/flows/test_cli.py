"""The `profilegen` command as a user runs it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from pipeline.dataset.writer import FORMAT


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
    # Sizes no run can plan: too many shard files, or ids past what 64-bit rows hold.
    (["--rows", "3000000000000"], "rows: Input should be less than or equal to 1000000000000"),
    (["--rows", "100000000000000000000"], "rows: Input should be less than or equal to"),
    (
        ["--rows", "200000000", "--shard-rows", "1000"],
        "make 200,000 shards, more than the 99,999 a run can plan; raise --shard-rows",
    ),
    (["--out", "ftp://127.0.0.1:1/x"], "cannot open ftp://127.0.0.1:1/x"),
]


@pytest.fixture
def lm_cached():
    """The LM de-quantized once, as on any machine after its first run: that first run says
    so on stderr (a line of its own), which is not what these cases test."""
    from pipeline.lm.weights import resolve_bio_model

    resolve_bio_model(None)


@pytest.mark.parametrize("args, message", BAD)
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, args, message, lm_cached):
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
                "--shard-rows", "--resume", "--overwrite", "--follows", "--mean-follows",
                "--reciprocity"):  # fmt: skip
        assert opt in r.output


def test_help_shows_real_defaults_and_types():
    # Every config field is a flag; its help says its type and default (once, the text of
    # "[default: ...]" was eaten as rich markup and every option read "<str>").
    from pipeline.config import GenerateConfig

    r = CliRunner().invoke(app, ["generate", "--help"], env={"COLUMNS": "250"})
    lines = {line.split()[1]: line for line in r.output.splitlines()
             if line.startswith("│ --")}  # fmt: skip
    assert "Number of profiles. [default: 1000]" in lines["--rows"]
    assert "INTEGER" in lines["--rows"] and "FLOAT" in lines["--reciprocity"]
    assert "[none|gan]" in lines["--avatars"] and "[default: gan]" in lines["--avatars"]
    assert "[default: 2026-01-01]" in lines["--reference-date"]
    assert "[default: 0.36]" in lines["--reciprocity"]
    assert "<str>" not in r.output and "Number of profiles ." not in r.output
    for name in GenerateConfig.model_fields:
        assert f"--{name.replace('_', '-')}" in lines


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
    r = runner.invoke(app, ["generate", "--rows", "120",
        "--posts", "none", "--avatars", "none", "--bios",
                            "template", "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "## Bios" in (out / "README.md").read_text()
    r = runner.invoke(app, ["eval-bios", str(out), "--sample", "50", "--json",
                            str(tmp_path / "m.json")])  # fmt: skip
    assert r.exit_code == 0, r.output
    import json

    m = json.loads((tmp_path / "m.json").read_text())
    assert m["rows"] == 120 and m["leak_rate"] == 0 and m["duplicate_rate"] == 0
    # --bios template: no LM ran, so its rates are not applicable (not "100% fallbacks").
    assert m["template_fallback_rate"] is None and m["first_try_pass_rate"] is None
    assert m["lm_share"] == 0 and 0 < m["mean_pairwise_cosine"] < 1
    assert 0 < m["distinct_2"] <= 1 and m["field_consistency"] > 0.9


def test_eval_bios_on_a_dataset_without_bios(prefect_server, tmp_path):
    out = tmp_path / "ds"
    r = CliRunner().invoke(app, ["generate", "--rows", "50",
        "--posts", "none", "--avatars", "none", "--bios",
                                 "none", "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    r = profilegen("eval-bios", str(out), cwd=tmp_path)
    assert r.returncode == 2 and "has no bio column" in r.stderr and "Traceback" not in r.stderr


def _run_in_background(args, tmp_path):
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "generate", *args], cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2]), "COLUMNS": "200"},
    )  # fmt: skip


def test_a_second_run_on_the_same_folder_is_refused_in_one_line(tmp_path):
    # Another live process holds the folder's lock (as a first `generate` does while it runs).
    import json
    import socket

    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        out = tmp_path / "out"
        (out / ".profilegen").mkdir(parents=True)
        lock = {"pid": holder.pid, "host": socket.gethostname()}
        (out / ".profilegen" / "lock").write_text(json.dumps(lock))
        (out / ".profilegen" / "run.json").write_text(json.dumps({"format": FORMAT}))
        r = profilegen("generate", "--rows", "50",
            "--posts", "none", "--avatars", "none", "--bios", "none",
                       "--out", str(out), cwd=tmp_path)  # fmt: skip
        assert r.returncode == 2
        assert r.stderr.strip() == (
            f"error: another run (pid {holder.pid}) is writing into {out}; wait for it to "
            f"finish or stop it (if none is, delete {out}/.profilegen/lock)"
        )
    finally:
        holder.kill()
        holder.wait()


def test_a_dead_runs_lock_is_taken_over(tmp_path, small_cfg, write_dataset):
    import json
    import socket

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "out"
    write_dataset(small_cfg(out=str(out)), out)
    (out / "manifest.json").unlink()  # as if the run had died before its end
    (out / ".profilegen").mkdir()
    lock = {"pid": dead.pid, "host": socket.gethostname()}
    (out / ".profilegen" / "lock").write_text(json.dumps(lock))
    (out / ".profilegen" / "run.json").write_text(json.dumps(
        {"format": FORMAT, "config_hash": small_cfg().config_hash}))  # fmt: skip
    write_dataset(small_cfg(out=str(out)), out)
    assert (out / "manifest.json").is_file() and not (out / ".profilegen").exists()


def _session_processes(sid: int) -> list[str]:
    ps = subprocess.run(["ps", "-eo", "pid=,sid=,args="], capture_output=True, text=True).stdout
    return [line for line in ps.splitlines() if line.split()[1] == str(sid)]


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_a_stopped_run_ends_within_seconds_leaves_nothing_running_and_resumes(
    tmp_path, how, small_cfg, write_dataset
):
    # Ctrl-C reaches the terminal's whole process group; `kill`, `timeout`, a scheduler's
    # or CI's cancel send SIGTERM to the CLI alone. GAN avatars make each shard take long
    # enough to be caught in the middle of one.
    import signal
    import time

    out = tmp_path / "out"
    args = ["--rows", "1200", "--shard-rows", "100",
        "--posts", "none", "--avatars", "gan", "--bios", "none",
            "--follows", "none", "--workers", "1", "--seed", "3", "--out", str(out)]  # fmt: skip
    p = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "generate", *args], cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2]), "COLUMNS": "200"},
    )  # fmt: skip
    receipts = out / ".profilegen" / "shards"
    deadline = time.monotonic() + 150
    while not (receipts.is_dir() and any(receipts.iterdir())) and time.monotonic() < deadline:
        assert p.poll() is None, p.communicate()
        time.sleep(0.2)
    assert receipts.is_dir() and any(receipts.iterdir()), "no shard finished in time"
    if how == "ctrl-c":
        os.killpg(p.pid, signal.SIGINT)
    else:
        p.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    _, stderr = p.communicate(timeout=60)
    assert time.monotonic() - sent < 10, "the stop took too long"
    want = 128 + (signal.SIGINT if how == "ctrl-c" else signal.SIGTERM)
    assert p.returncode == want, stderr[-2000:]
    assert "rerun the same command to resume" in stderr and "Traceback (most recent" not in stderr
    time.sleep(0.5)
    assert _session_processes(p.pid) == []  # the temporary Prefect server went with it
    assert not (out / "manifest.json").exists()
    made = len(list(receipts.iterdir()))
    assert made < 12
    r = profilegen("generate", *args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"{12 - made} made, {made} already there" in r.stdout
    # The resumed dataset is the one an uninterrupted run makes.
    clean = tmp_path / "clean"
    write_dataset(small_cfg(rows=1200, shard_rows=100, avatars="gan", seed=3, bots="mixed",
                            locales=None, out=str(clean)), clean)  # fmt: skip
    for f in sorted((clean / "data").rglob("*.parquet")):
        assert (out / f.relative_to(clean)).read_bytes() == f.read_bytes()


def test_a_default_run_is_quiet_and_verbose_shows_the_logs(tmp_path):
    # The progress bar (not drawn without a terminal), the summary and warnings: no Prefect
    # INFO lines or transformers loading bars unless --verbose.
    args = ["generate", "--rows", "60",
        "--posts", "none", "--avatars", "none", "--bios", "template",
            "--follows", "none"]  # fmt: skip
    r = profilegen(*args, "--out", str(tmp_path / "a"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("wrote 60 profiles")
    assert "INFO" not in r.stderr and "Loading weights" not in r.stderr, r.stderr
    r = profilegen(*args, "--out", str(tmp_path / "b"), "--verbose", cwd=tmp_path)
    assert r.returncode == 0 and "| INFO    | Flow run" in r.stderr
