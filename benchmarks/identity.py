"""Identity rows/s: profilegen vs Faker vs Mimesis on the same six fields, same run.

The six fields are the ones every tool can make: full name, username, email, city,
birthdate, job. profilegen makes all 28 identity columns while being timed (it has no cheaper
mode), so its figure is conservative. Then peak RSS of a 1,000,000-row run through the real
CLI, which streams shard by shard.

    .venv/bin/python benchmarks/identity.py                 # everything (~3 min on 2 cores)
    .venv/bin/python benchmarks/identity.py --skip-rss      # throughput only
"""

import argparse
import multiprocessing as mp
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def faker_rows(n: int) -> float:
    from faker import Faker

    fake = Faker("en_US")
    Faker.seed(0)
    t = time.perf_counter()
    for _ in range(n):
        (fake.name(), fake.user_name(), fake.email(), fake.city(),
         fake.date_of_birth(minimum_age=13, maximum_age=80), fake.job())  # fmt: skip
    return n / (time.perf_counter() - t)


def mimesis_rows(n: int) -> float:
    from mimesis import Address, Datetime, Person
    from mimesis.locales import Locale

    person, address, when = (Person(Locale.EN, seed=0), Address(Locale.EN, seed=0),
                             Datetime(Locale.EN, seed=0))  # fmt: skip
    t = time.perf_counter()
    for _ in range(n):
        (person.full_name(), person.username(), person.email(), address.city(),
         when.date(start=1946, end=2013), person.occupation())  # fmt: skip
    return n / (time.perf_counter() - t)


def _config(rows: int, shard_rows: int):
    from pipeline.config import build_config

    return build_config(None, rows=rows, shard_rows=shard_rows, seed=1, avatars="none",
                        bios="none", follows="none")  # fmt: skip


def _warm(_=None) -> None:
    from pipeline.identity.engine import make_identities

    make_identities(_config(1000, 1000), 0)  # loads name, city and phone tables once


def _shard(args) -> int:
    from pipeline.identity.engine import make_identities

    rows, shard_rows, i = args
    return make_identities(_config(rows, shard_rows), i).num_rows


def profilegen_rows(n: int, shard_rows: int, processes: int) -> tuple[float, float]:
    """(rows/s steady state, seconds to load tables once) with `processes` workers."""
    t = time.perf_counter()
    _warm()
    cold = time.perf_counter() - t
    jobs = [(n, shard_rows, i) for i in range(-(-n // shard_rows))]
    if processes == 1:
        t = time.perf_counter()
        made = sum(map(_shard, jobs))
    else:
        with mp.get_context("fork").Pool(processes) as pool:
            pool.map(_warm, range(processes))
            t = time.perf_counter()
            made = sum(pool.map(_shard, jobs, chunksize=1))
    return made / (time.perf_counter() - t), cold


def peak_rss_of_cli(rows: int) -> tuple[float, float]:
    """(peak RSS in MB of the biggest process, wall seconds) for `profilegen generate`."""
    out = Path(tempfile.mkdtemp(prefix="pg-bench-"))
    exe = shutil.which("profilegen", path=str(Path(sys.executable).parent)) or "profilegen"
    t = time.perf_counter()
    subprocess.run(
        [
            exe,
            "generate",
            "--rows",
            str(rows),
            "--out",
            str(out / "ds"),
            "--seed",
            "1",
            # Fields only, as the table says: no avatars, bios, graph, posts or bots (a million
            # LM bios or posts would take days).
            "--avatars",
            "none",
            "--bios",
            "none",
            "--follows",
            "none",
            "--posts",
            "none",
            "--bots",
            "none",
        ],  # fmt: skip
        check=True,
    )
    wall = time.perf_counter() - t
    shutil.rmtree(out)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=400_000, help="profilegen rows to time")
    ap.add_argument("--baseline-rows", type=int, default=20_000, help="Faker/Mimesis rows")
    ap.add_argument("--rss-rows", type=int, default=1_000_000)
    ap.add_argument("--skip-rss", action="store_true")
    args = ap.parse_args()

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    one, cold = profilegen_rows(args.rows, 50_000, 1)
    two, _ = profilegen_rows(args.rows, 50_000, 2)
    fk = faker_rows(args.baseline_rows)
    mi = mimesis_rows(args.baseline_rows)
    print("\n| generator | rows/s | vs Faker | vs Mimesis |\n|---|---:|---:|---:|")
    for name, r in [("profilegen, 2 processes (28 columns)", two),
                    ("profilegen, 1 process (28 columns)", one),
                    ("Faker en_US (6 fields)", fk), ("Mimesis en (6 fields)", mi)]:  # fmt: skip
        print(f"| {name} | {r:,.0f} | {r / fk:,.1f}x | {r / mi:,.2f}x |")
    print(f"\nprofilegen one-time table load per process: {cold:.2f} s")
    if not args.skip_rss:
        rss, wall = peak_rss_of_cli(args.rss_rows)
        print(f"`profilegen generate --rows {args.rss_rows:,}`: peak RSS {rss:,.0f} MB "
              f"(largest process), wall {wall:.1f} s incl. Prefect start")  # fmt: skip


if __name__ == "__main__":
    main()
