"""benchmarks/posts.py runs: its made-up plan carries every column the stage reads (once it
lacked `created_at`, which bot posts are dated by, and the script died at its first step)."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[2]


def test_the_posts_benchmark_runs_on_small_sizes(tmp_path):
    r = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "posts.py"), "--template-posts", "500",
         "--lm-rows", "8", "--json", str(tmp_path / "r.json")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert "template posts" in r.stdout and "LM posts" in r.stdout and "LM bios" in r.stdout
    assert (tmp_path / "r.json").is_file()
