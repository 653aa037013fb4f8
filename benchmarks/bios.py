"""Bio throughput: profilegen's sampler vs transformers' `generate`, and the template engine.

    .venv/bin/python benchmarks/bios.py                  # all three, CPU
    .venv/bin/python benchmarks/bios.py --skip-baseline --rows 4096 --batch 512   # GPU

What counts is *accepted* bios per second: rows whose LM bio passed the quality gate,
divided by the wall time of everything it took (prefix, retries, gate).
- naive: `model.generate` (transformers, fp32) on left-padded batches of 32 prompts of
  ~80 tokens (system line + the row's fields), 48 new tokens, top-p sampling;
- profilegen: `make_bios` as the generate flow runs it (shared-prefix KV cache, per-row
  stop, bf16 where the CPU has it);
- template: the grammar engine, one core.
"""

import argparse
import json
import os
import platform
import time

import numpy as np


def rows_for(n: int, seed: int = 1):
    from pipeline.config import build_config
    from pipeline.identity.engine import make_identities

    cfg = build_config(None, rows=n, shard_rows=n, seed=seed, avatars="none", bios="lm")
    return cfg, make_identities(cfg, 0)


def bench_naive(n: int, batch: int = 32) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pipeline.bios.prompt import SYSTEM, fields_line, persona
    from pipeline.lm.gate import check_text, clean_text
    from pipeline.lm.weights import resolve_bio_model

    path = resolve_bio_model(None)
    tok = AutoTokenizer.from_pretrained(path)
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    _, table = rows_for(n)
    rows = table.to_pylist()
    prompts = [
        tok.apply_chat_template(
            [
                {"role": "system", "content": SYSTEM},
                {
                    "role": "user",
                    "content": "Write a short social media bio for: " + fields_line(r, persona(i)),
                },
            ],
            tokenize=False,
            add_generation_prompt=True,
        )  # fmt: skip
        for i, r in enumerate(rows)
    ]
    torch.manual_seed(0)
    texts, n_tok = [], []
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        enc = tok(prompts[i : i + batch], return_tensors="pt", padding=True)
        n_tok.append(enc["input_ids"].shape[1])
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=48, do_sample=True, top_p=0.9,
                                 temperature=0.8, pad_token_id=tok.pad_token_id)  # fmt: skip
        texts += tok.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    dt = time.perf_counter() - t0
    ok = sum(check_text(clean_text(t), r, "en") is None for t, r in zip(texts, rows, strict=True))
    return {"bios": n, "seconds": dt, "raw_per_s": n / dt, "pass_rate": ok / n,
            "accepted_per_s": ok / dt, "prompt_tokens": float(np.mean(n_tok))}  # fmt: skip


def bench_profilegen(n: int, batch: int, dtype: str) -> dict:
    from pipeline.bios.stage import get_writer, make_bios

    cfg, table = rows_for(n, seed=2)
    cfg = cfg.model_copy(update={"bio_batch_size": batch, "bio_dtype": dtype})
    t0 = time.perf_counter()
    w = get_writer(None, dtype)
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, stats = make_bios(table, cfg, 0)
    dt = time.perf_counter() - t0
    return {"bios": n, "seconds": dt, "load_seconds": load, "dtype": w.dtype,
            "device": w.device, "accepted_per_s": stats.lm / dt,
            "first_try_pass_rate": stats.first_try / n, "lm_share": stats.lm / n,
            "lm_samples_per_s": stats.attempts / dt, "rejects": dict(stats.rejects)}  # fmt: skip


def bench_template(n: int) -> dict:
    from pipeline.bios.stage import row_seeds
    from pipeline.bios.templates import template_bios

    _, table = rows_for(n, seed=3)
    rows = table.to_pylist()
    seeds = [int(s) for s in row_seeds(3, 0, n)]
    t0 = time.perf_counter()
    template_bios(rows, seeds)
    dt = time.perf_counter() - t0
    return {"bios": n, "seconds": dt, "per_s": n / dt}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=512, help="bios for profilegen's LM run")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--baseline-rows", type=int, default=64)
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--template-rows", type=int, default=20_000)
    ap.add_argument("--json", help="write the results here too")
    a = ap.parse_args()
    from pipeline.core.device import set_torch_threads

    set_torch_threads()
    res = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus"}
    res["template"] = bench_template(a.template_rows)
    print(f"template   {res['template']['per_s']:>10,.0f} bios/s  ({a.template_rows} rows)")
    if not a.skip_baseline:
        res["naive"] = bench_naive(a.baseline_rows)
        r = res["naive"]
        print(
            f"naive      {r['raw_per_s']:>10.2f} bios/s raw, {r['accepted_per_s']:.2f} accepted"
            f"/s (pass {r['pass_rate']:.0%}, {r['prompt_tokens']:.0f} prompt tokens)"
        )
    res["profilegen"] = r = bench_profilegen(a.rows, a.batch, a.dtype)
    print(
        f"profilegen {r['accepted_per_s']:>10.2f} accepted bios/s ({r['dtype']} on "
        f"{r['device']}, first-try pass {r['first_try_pass_rate']:.1%}, LM share "
        f"{r['lm_share']:.1%}, {r['rows'] if 'rows' in r else a.rows} rows, load "
        f"{r['load_seconds']:.1f} s)"
    )
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
