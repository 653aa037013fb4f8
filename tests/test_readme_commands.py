"""The README's cheap commands, run as a user would: each succeeds and leaves the checkout's
tracked files (the shipped models above all) as they were.

Commands are read from README.md at test time: every `profilegen ...` line of its shell
blocks and every inline `profilegen ...`. Those that read a dataset (inspect, eval-bios,
eval-posts ...) run against a small dataset made here; eval-avatars runs on the shipped
checkpoint in place of the user's own `models/my-gan`; paths a command is told to write
(--json, --out) go to a temporary folder; help runs as is. Training, serving and generating
are left out (minutes each), and so is what needs outside resources (s3://, ~/my-faces).
Commands run from the repository root, so a relative path one writes to would land in it.
"""

import hashlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
SKIP = {"generate", "serve", "train-avatars", "train-attribute-net"}  # minutes each
SHIPPED_GAN = "models/avatar-gan-64"
# eval-avatars' images per checkpoint: its default 2,000 takes minutes on 2 cores; what the
# command writes (and where) does not depend on it.
EVAL_AVATARS_N = "32"


def readme_commands(text: str) -> list[list[str]]:
    """argv lists (after `profilegen`) of every command the README shows, in order, once."""
    found = []
    for block in re.findall(r"```(?:sh|bash|shell)\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.strip()
            if re.match(r"(\.venv/bin/)?profilegen\s", line):
                found.append(line)
    found += re.findall(r"`((?:\.venv/bin/)?profilegen\s[^`]+)`", text)
    out, seen = [], set()
    for line in found:
        try:
            argv = shlex.split(line, comments=True)[1:]
        except ValueError:  # an unbalanced quote in prose
            continue
        if argv and tuple(argv) not in seen:
            seen.add(tuple(argv))
            out.append(argv)
    return out


def runnable(argv: list[str], dataset: Path, tmp: Path) -> list[str] | None:
    """argv with its paths pointed here, or None for a command this test leaves out."""
    if "--help" in argv or argv == ["help"]:
        return argv
    if argv[0] in SKIP or argv[0].startswith("-"):
        return None
    if any(a == "..." or a.startswith(("s3://", "~", "gs://", "tcp://")) for a in argv):
        return None
    out: list[str] = []
    for i, a in enumerate(argv):
        before = argv[i - 1] if i else ""
        if before in ("--json", "--out"):
            out.append(str(tmp / Path(a).name))  # a path the user names: here instead
        elif a == "DIR" or a.startswith("output/"):
            out.append(str(dataset))
        elif a.startswith("models/") and not (ROOT / a).exists():
            out.append(SHIPPED_GAN)  # the user's own checkpoint: the shipped one instead
        else:
            out.append(a)
    if out[0] == "eval-avatars" and "--n" not in out:
        out += ["--n", EVAL_AVATARS_N]
    return out


def git_status() -> set[str]:
    r = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                       capture_output=True, text=True, check=True)  # fmt: skip
    return set(r.stdout.splitlines())


def edited_by_hand(line: str) -> bool:
    """Status lines other people's edits make while this test runs (this checkout is shared
    with them): source and docs. No README command writes those; models/ and output/ are
    never excused."""
    path = line[3:].split(" -> ")[-1].strip('"')
    if path.startswith(("models/", "output/")):
        return False
    return path.endswith((".py", ".md", ".toml", ".yaml", ".yml", ".cfg", ".txt", ".json"))


def shipped_digests() -> dict[str, str]:
    """sha256 of every tracked file under models/: what no command may change unasked."""
    r = subprocess.run(["git", "ls-files", "-z", "models"], cwd=ROOT, capture_output=True,
                       check=True)  # fmt: skip
    paths = [p for p in r.stdout.decode().split("\0") if p]
    return {p: hashlib.sha256((ROOT / p).read_bytes()).hexdigest() for p in paths
            if (ROOT / p).is_file()}  # fmt: skip


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """A small dataset with every table a command reads: profiles, bios, the follow graph,
    posts, labelled bots."""
    from pipeline import write_dataset
    from pipeline.config import build_config

    out = tmp_path_factory.mktemp("readme") / "ds"
    # Bots at 30%: eval-detector and the TwiBot-22 export need bots in every split.
    kw = dict(rows=200, shard_rows=100, avatars="none", bios="template", follows="graph",
              posts="template", bot_share=0.3, out=str(out))  # fmt: skip
    write_dataset(build_config(None, **kw), "auto", out)
    return out


def test_readme_commands_parse():
    cmds = readme_commands(README.read_text(encoding="utf-8"))
    names = {c[0] for c in cmds}
    assert {"generate", "inspect"} <= names, names


def test_readme_commands_leave_tracked_files_untouched(dataset, tmp_path):
    cmds = readme_commands(README.read_text(encoding="utf-8"))
    runs = []  # once each: `eval-bios DIR` and `eval-bios output/mine` are one run here
    for c in cmds:
        r = runnable(c, dataset, tmp_path)
        if r is not None and r not in runs:
            runs.append(r)
    ran = {r[0] for r in runs}
    assert "inspect" in ran and any(n.startswith("eval-") for n in ran), runs
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    before, models = git_status(), shipped_digests()
    for argv in runs:
        r = subprocess.run([sys.executable, "-m", "flows.cli", *argv], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=180)  # fmt: skip
        assert r.returncode == 0, (argv, r.stderr[-2000:])
        assert "Traceback (most recent" not in r.stderr, (argv, r.stderr[-2000:])
    after = git_status()
    assert shipped_digests() == models
    changed = sorted(line for line in before ^ after if not edited_by_hand(line))
    assert changed == [], changed
