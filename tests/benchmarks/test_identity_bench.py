"""`make bench` finishes in minutes and times what its table says: a fields-only run."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[2]


def test_the_benchmark_runs_end_to_end_on_small_sizes(tmp_path):
    # The same script `make bench` runs, at sizes that take seconds. Once, its CLI run asked
    # for a million LM bios (~2 days); now every stage but identity is off, and the
    # profiles it times are the fields-only ones.
    r = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "identity.py"), "--rows", "5000",
         "--baseline-rows", "500", "--rss-rows", "3000"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert "| profilegen, 1 process (28 columns) |" in r.stdout
    assert "`profilegen generate --rows 3,000`: peak RSS" in r.stdout
    script = (REPO / "benchmarks" / "identity.py").read_text()
    for flag in ('"--avatars",\n            "none"', '"--bios",\n            "none"',
                 '"--follows",\n            "none"'):  # fmt: skip
        assert flag in script
