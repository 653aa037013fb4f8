"""`profilegen report` at scale: wall time, peak RSS and the size of report.html.

    .venv/bin/python benchmarks/report.py --rows 100000             # makes /tmp/report-bench-100000
    .venv/bin/python benchmarks/report.py --rows 1000000     # the bar: <= 60 s, <= 5 MB
    .venv/bin/python benchmarks/report.py --dir output/demo         # any dataset already written

A dataset that is not there yet is made first with the CLI (fields and template bios; no
avatars, follows or posts unless asked: --full adds the follow graph and template posts).
The report runs as its own process, `profilegen report DIR`, so the peak RSS is the
report's alone (os.wait4's ru_maxrss of that process).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "flows.cli", *args]


def make_dataset(out: Path, rows: int, full: bool) -> float:
    if (out / "manifest.json").is_file():
        return 0.0
    extra = (
        ["--follows", "graph", "--posts", "template"]
        if full
        else ["--follows", "none", "--posts", "none"]
    )
    t0 = time.perf_counter()
    subprocess.run(
        cli(
            "generate",
            "--rows",
            str(rows),
            "--avatars",
            "none",
            "--bios",
            "template",
            *extra,
            "--out",
            str(out),
            "--overwrite",
        ),
        cwd=ROOT,
        check=True,
    )
    return time.perf_counter() - t0


def run_report(out: Path, validate: bool) -> dict:
    args = cli("report", str(out), *(["--validate"] if validate else []))
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out_text, err_text = proc.stdout.read().decode(), proc.stderr.read().decode()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"report failed ({proc.returncode}): {err_text[-2000:]}")
    return {
        "seconds": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "stdout": out_text.strip(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, help="an existing dataset (default: make one)")
    ap.add_argument("--full", action="store_true", help="with follows and template posts")
    ap.add_argument("--validate", action="store_true", help="report --validate")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args()
    out = a.dir or Path(f"/tmp/report-bench-{a.rows}{'-full' if a.full else ''}")
    made = make_dataset(out, a.rows, a.full) if a.dir is None else 0.0
    result = {
        "dataset": str(out),
        "rows": json.loads((out / "manifest.json").read_text())["rows"],
        "generate_seconds": round(made, 1) if made else None,
        **run_report(out, a.validate),
        "report_mb": round((out / "report.html").stat().st_size / 1e6, 3),
        "validate": a.validate,
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if a.json:
        a.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
