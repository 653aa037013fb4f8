"""Follow-graph build speed and memory: profilegen vs configuration-model baselines.

profilegen builds the full graph (default 1,000,000 users x 30 follows = 30M edges) from
synthetic people; networkx's directed_configuration_model (+ dropping self-loops and parallel
edges, networkx#3257) and igraph's Degree_Sequence (skipped if igraph is not installed) get the
in/out-degree sequences of a profilegen graph of --baseline-users users, and profilegen is
timed at that size too. Each method runs in its own process, so each peak RSS is its own.

    .venv/bin/python benchmarks/graph.py                         # ~3-5 min on 2 cores
    .venv/bin/python benchmarks/graph.py --users 100000 --metrics
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.graph.build import GraphParams, People, build_follows  # noqa: E402

REFERENCE = 1_735_689_600  # 2025-01-01T00:00:00Z
EPOCH_START = 1_199_145_600  # 2008-01-01: accounts are created from here to a day before


def synthetic_people(n: int, seed: int, reference: int = REFERENCE) -> People:
    """Plausible people without the rest of the pipeline: ~20 countries with Zipf shares, 300
    cities per country with Zipf sizes, ages 13-90, 2-5 of 200 Zipf-popular interests,
    accounts created 2008..reference-1 day (more recent ones more common), log-normal declared
    counts (followers median ~70 with 10^6+ tails, following median ~150 capped at 7500,
    correlated as on Twitter)."""
    rng = np.random.default_rng(seed)
    n_countries, n_cities, n_interests = 20, 300, 200
    cs = 1 / np.arange(1, n_countries + 1) ** 1.1
    country = rng.choice(n_countries, n, p=cs / cs.sum()).astype(np.int32)
    ct = 1 / np.arange(1, n_cities + 1)
    city = (country * n_cities + rng.choice(n_cities, n, p=ct / ct.sum())).astype(np.int32)
    age = np.clip(np.round(13 + rng.gamma(2.2, 9.0, n)), 13, 90).astype(np.int16)

    # 2-5 distinct interests: 8 Zipf draws per user, keep the first k distinct in draw order
    ip = 1 / np.arange(1, n_interests + 1) ** 0.9
    draws = rng.choice(n_interests, (n, 8), p=ip / ip.sum())
    k = rng.integers(2, 6, n)
    o = np.argsort(draws, axis=1, kind="stable")
    sd = np.take_along_axis(draws, o, axis=1)
    dup_sorted = np.zeros_like(sd, bool)
    dup_sorted[:, 1:] = sd[:, 1:] == sd[:, :-1]
    dup = np.empty_like(dup_sorted)
    np.put_along_axis(dup, o, dup_sorted, axis=1)
    keep = ~dup & (np.cumsum(~dup, axis=1) <= k[:, None])
    interest_ids = draws[keep].astype(np.int32)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(keep.sum(axis=1), out=indptr[1:])

    span = reference - 86400 - EPOCH_START
    created_at = EPOCH_START + (rng.random(n) ** 0.7 * span).astype(np.int64)
    z_f = rng.standard_normal(n)
    followers = np.round(70 * np.exp(2.2 * z_f)).astype(np.int64)
    z_o = 0.6 * z_f + 0.8 * rng.standard_normal(n)
    following = np.minimum(np.round(150 * np.exp(1.1 * z_o)), 7500).astype(np.int64)
    return People(
        country=country,
        city=city,
        age=age,
        interest_indptr=indptr,
        interest_ids=interest_ids,
        created_at=created_at,
        followers_count=followers,
        following_count=following,
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _degrees(users, mean_follows, seed):
    e = build_follows(synthetic_people(users, seed), GraphParams(mean_follows), seed, REFERENCE)
    return (
        np.bincount(e.follower, minlength=users).tolist(),
        np.bincount(e.followee, minlength=users).tolist(),
    )


def run_method(method, users, mean_follows, seed, metrics):
    """One timed method in this process; returns a row of the table."""
    if method == "profilegen":
        people = synthetic_people(users, seed)
        t0 = time.perf_counter()
        e = build_follows(people, GraphParams(mean_follows=mean_follows), seed, REFERENCE)
        secs = time.perf_counter() - t0
        row = dict(edges=len(e.follower), peak_rss_mb=peak_rss_mb())  # before measuring
        if metrics:
            from pipeline.graph.metrics import graph_metrics, spearman

            m = graph_metrics(
                users, e.follower, e.followee, people.country, people.age, people.city
            )
            m["spearman_in"] = spearman(
                np.bincount(e.followee, minlength=users), people.followers_count
            )
            m["spearman_out"] = spearman(
                np.bincount(e.follower, minlength=users), people.following_count
            )
            row["metrics"] = m
    elif method == "networkx":
        import networkx as nx

        out_seq, in_seq = _degrees(users, mean_follows, seed)
        t0 = time.perf_counter()
        g = nx.directed_configuration_model(in_seq, out_seq, seed=seed)
        g = nx.DiGraph(g)  # parallel edges collapse
        g.remove_edges_from(list(nx.selfloop_edges(g)))
        secs = time.perf_counter() - t0
        row = dict(edges=g.number_of_edges())
    elif method.startswith("igraph"):
        import igraph as ig

        out_seq, in_seq = _degrees(users, mean_follows, seed)
        ig.set_random_number_generator(__import__("random").Random(seed))
        kind = method.split(":")[1]
        t0 = time.perf_counter()
        g = ig.Graph.Degree_Sequence(out_seq, in_seq, method=kind)
        if kind == "configuration":
            g.simplify()
        secs = time.perf_counter() - t0
        row = dict(edges=g.ecount())
    else:
        raise ValueError(method)
    row = dict(peak_rss_mb=peak_rss_mb()) | row
    row |= dict(method=method, users=users, seconds=secs)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--mean-follows", type=float, default=30.0)
    ap.add_argument("--baseline-users", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--metrics", action="store_true", help="also measure the graphs")
    ap.add_argument("--method", help=argparse.SUPPRESS)  # child process: one method
    args = ap.parse_args()
    if args.method:
        row = run_method(args.method, args.users, args.mean_follows, args.seed, args.metrics)
        print("ROW " + json.dumps(row))
        return

    try:
        import igraph  # noqa: F401

        igraph_methods = ["igraph:configuration"]  # its simple-graph samplers stall on hubs
    except ImportError:
        igraph_methods = []
        print("igraph not importable: skipping its baseline")
    plan = [("profilegen", args.users), ("profilegen", args.baseline_users)]
    plan += [("networkx", args.baseline_users)]
    plan += [(m, args.baseline_users) for m in igraph_methods]
    rows = []
    for method, users in plan:
        cmd = [sys.executable, __file__, "--method", method, "--users", str(users)]
        cmd += ["--mean-follows", str(args.mean_follows), "--seed", str(args.seed)]
        cmd += ["--metrics"] if args.metrics else []
        out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
        line = [x for x in out.stdout.splitlines() if x.startswith("ROW ")]
        if out.returncode or not line:
            print(f"{method} failed:\n{out.stderr[-2000:]}")
            continue
        rows.append(json.loads(line[0][4:]))
        print(f"done: {method} {users} users in {rows[-1]['seconds']:.1f} s", flush=True)

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(x.split(":", 1)[1].strip() for x in open("/proc/cpuinfo") if "model name" in x)
    except (OSError, StopIteration):
        pass
    print(f"\n{cpu}, {os.cpu_count()} CPUs, mean follows {args.mean_follows:g}\n")
    print("| method | users | edges | seconds | edges/s | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        eps = r["edges"] / r["seconds"]
        print(
            f"| {r['method']} | {r['users']:,} | {r['edges']:,} | {r['seconds']:.1f} "
            f"| {eps:,.0f} | {r['peak_rss_mb']:,.0f} |"
        )
    for r in rows:
        if "metrics" in r:
            print(f"\n{r['method']} {r['users']:,} users:")
            for k, v in r["metrics"].items():
                print(f"  {k}: {v:.4g}" if isinstance(v, float) else f"  {k}: {v}")


if __name__ == "__main__":
    main()
