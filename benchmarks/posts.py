"""Post throughput: the template engine on one core, and LM posts next to LM bios in one run.

    .venv/bin/python benchmarks/posts.py                 # template + LM posts + LM bios
    .venv/bin/python benchmarks/posts.py --lm-rows 0     # template only

What counts is *accepted* texts per second: those that passed the gate (retries and gate
included, as the stage runs them: pipeline.posts.stage.write_texts and
pipeline.bios.stage.make_bios), and, since posts and bios differ in length, accepted tokens
per second (the issue's bar: LM posts at least at the bio rate per generated token; a bio's
primed opener is prefilled, not generated, so it is not counted).
"""

import argparse
import json
import os
import platform
import time

import numpy as np
import pyarrow as pa


def authors(n: int, seed: int):
    from pipeline.config import build_config
    from pipeline.identity.engine import make_identities

    cfg = build_config(None, rows=n, shard_rows=n, seed=seed, locales="en_US:0.5,en_GB:0.5",
                       avatars="none", bios="lm", posts="lm", posts_lm_share=1.0,
                       follows="none")  # fmt: skip
    return cfg, make_identities(cfg, 0)


def fake_plan(table: pa.Table, n: int, seed: int, lm: bool) -> pa.Table:
    """n posts by the table's users: 70% posts, 30% replies, on a topic of their own."""
    rng = np.random.default_rng(seed)
    author = rng.integers(0, table.num_rows, n).astype(np.int32)
    interests = table["interests"].to_pylist()
    return pa.table({
        "seq": np.arange(n, dtype=np.int64), "author": author,
        "kind": np.where(rng.random(n) < 0.3, 1, 0).astype(np.int8),
        "topic": [interests[a][rng.integers(len(interests[a]))] for a in author],
        "local_hour": rng.integers(0, 24, n).astype(np.int8),
        "weekday": rng.integers(0, 7, n).astype(np.int8), "lm": np.full(n, lm),
        # Seconds since the epoch: what a bot's post is dated by (write_texts reads it).
        "created_at": rng.integers(1_764_000_000, 1_767_000_000, n),
    })  # fmt: skip


def bench_template(n: int) -> dict:
    from pipeline.posts.stage import ROW_FIELDS, write_texts

    cfg, table = authors(2000, seed=3)
    cfg = cfg.model_copy(update={"posts": "template"})
    plan = fake_plan(table, n, 3, lm=False)
    rows = table.select(ROW_FIELDS).to_pylist()
    t0 = time.perf_counter()
    texts, _, _ = write_texts(cfg, plan, rows)
    dt = time.perf_counter() - t0
    return {"posts": n, "seconds": dt, "per_s": n / dt,
            "unique_share": len({t.lower() for t in texts}) / n}  # fmt: skip


def _tokens(texts) -> int:
    from pipeline.lm.chat import chat_model
    from pipeline.lm.weights import resolve_bio_model

    tok = chat_model(resolve_bio_model(None), "auto").tok
    return sum(len(e.ids) for e in tok.encode_batch([t for t in texts if t]))


def bench_lm_posts(n: int, batch: int, dtype: str) -> dict:
    from pipeline.lm.weights import resolve_bio_model
    from pipeline.posts.stage import ROW_FIELDS, write_texts
    from pipeline.posts.writer import get_writer

    cfg, table = authors(max(64, n // 4), seed=2)
    cfg = cfg.model_copy(update={"bio_batch_size": batch, "bio_dtype": dtype})
    plan = fake_plan(table, n, 2, lm=True)
    rows = table.select(ROW_FIELDS).to_pylist()
    t0 = time.perf_counter()
    w = get_writer(resolve_bio_model(None), dtype)
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    texts, source, stats = write_texts(cfg, plan, rows)
    dt = time.perf_counter() - t0
    lm = [t for t, s in zip(texts, source, strict=True) if s == "lm"]
    return {"posts": n, "seconds": dt, "load_seconds": load, "dtype": w.chat.dtype,
            "device": w.chat.device, "accepted_per_s": stats["lm"] / dt,
            "accepted_tokens_per_s": _tokens(lm) / dt,
            "first_try_pass_rate": stats["first_try"] / n, "lm_share": stats["lm"] / n,
            "rejects": stats["rejects"]}  # fmt: skip


def bench_lm_bios(n: int, batch: int, dtype: str) -> dict:
    from pipeline.bios.stage import make_bios

    cfg, table = authors(n, seed=4)
    cfg = cfg.model_copy(update={"bio_batch_size": batch, "bio_dtype": dtype})
    t0 = time.perf_counter()
    cols, stats = make_bios(table, cfg, 0)
    dt = time.perf_counter() - t0
    from pipeline.bios.prompt import opener, persona
    from pipeline.core.rng import row_seeds

    # A bio starts with an opener the prompt primes (prefilled, not sampled): only the rest
    # counts as generated tokens, as every token of a post does.
    style = row_seeds(cfg.seed, 0, n)
    rows = table.to_pylist()
    lm, primed = [], []
    for i, (b, s) in enumerate(zip(cols[0].to_pylist(), cols[1].to_pylist(), strict=True)):
        if s == "lm":
            lm.append(b)
            primed.append(opener(rows[i], persona(int(style[i])), int(style[i])))
    return {"bios": n, "seconds": dt, "accepted_per_s": stats.lm / dt,
            "accepted_tokens_per_s": (_tokens(lm) - _tokens(primed)) / dt,
            "first_try_pass_rate": stats.first_try / n}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--template-posts", type=int, default=20_000)
    ap.add_argument("--lm-rows", type=int, default=256, help="LM posts and LM bios (0: none)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--json", help="write the results here too")
    a = ap.parse_args()
    res = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus"}
    res["template"] = r = bench_template(a.template_posts)
    print(f"template posts {r['per_s']:>10,.0f} /s on one core ({r['posts']:,} posts, "
          f"{r['unique_share']:.2%} unique)")  # fmt: skip
    if a.lm_rows:
        from pipeline.core.device import set_torch_threads

        set_torch_threads()
        res["lm_posts"] = r = bench_lm_posts(a.lm_rows, a.batch, a.dtype)
        print(
            f"LM posts       {r['accepted_per_s']:>10.2f} accepted/s, "
            f"{r['accepted_tokens_per_s']:.0f} tokens/s ({r['dtype']} on {r['device']}, "
            f"first-try {r['first_try_pass_rate']:.1%}, LM share {r['lm_share']:.1%})"
        )
        res["lm_bios"] = r = bench_lm_bios(a.lm_rows, a.batch, a.dtype)
        print(f"LM bios        {r['accepted_per_s']:>10.2f} accepted/s, "
              f"{r['accepted_tokens_per_s']:.0f} tokens/s (first-try "
              f"{r['first_try_pass_rate']:.1%})")  # fmt: skip
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
