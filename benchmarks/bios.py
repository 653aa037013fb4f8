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

And how near the machine's limit the LM runs (issue 14): the GEMM rate of the decoder's own
matmul shapes in each dtype (the roofline: 64 rows as a decode step, 2,048 as a prompt
pass), the model FLOPs per accepted bio (real tokens only: padding and rejected samples are
the sampler's cost, not the model's work), the achieved fraction of the fp32 and of the
run's own roofline, whether `auto` picked the faster dtype, and where the wall time went
(prompt pass, decoding, attention inside each, head + sampling, gate, the rest).
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


def gemm_rate(dtype: str, rows: int, head: bool, seconds: float = 0.25) -> float:
    """GFLOP/s of torch's matmul over the decoder's own linear shapes at `rows` rows,
    weighted like one forward pass: every layer's q|k|v, o, gate|up and down, plus the
    vocabulary head where the pass samples a token (decoding) and not where it does not
    (a prompt pass projects only its last position)."""
    import torch

    from pipeline.lm.llama import LMConfig
    from pipeline.lm.weights import resolve_bio_model

    c = LMConfig.from_hf(json.loads((resolve_bio_model(None) / "config.json").read_text()))
    q, kv = c.num_attention_heads * c.head_dim, c.num_key_value_heads * c.head_dim
    h, f, L = c.hidden_size, c.intermediate_size, c.num_hidden_layers
    shapes = [(h, q + 2 * kv, L), (q, h, L), (h, 2 * f, L), (f, h, L)]
    shapes += [(h, c.vocab_size, 1)] if head else []
    dt = getattr(torch, dtype)
    flops = spent = 0.0
    for k, n, times in shapes:
        x, w = torch.randn(rows, k).to(dt), torch.randn(n, k).to(dt)
        torch.nn.functional.linear(x, w)  # first call: kernel selection, packing
        reps, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            torch.nn.functional.linear(x, w)
            reps += 1
        spent += times * (time.perf_counter() - t0) / reps
        flops += times * 2 * rows * k * n
    return flops / spent / 1e9


class Phases:
    """Wall time by phase of one make_bios run, from wrappers around the functions that do
    the work (CPU ops are synchronous, so perf_counter around a call is its cost). Self
    time: a wrapped call inside another (attention inside a step) is taken out of its
    parent and named after it ("prompt: attention")."""

    def __init__(self):
        self.t: dict[str, float] = {}
        self._stack: list[list] = []
        self._undo = []

    def wrap(self, obj, name: str, phase) -> None:
        f = getattr(obj, name)

        def timed(*a, **k):
            key = phase(*a) if callable(phase) else phase
            if self._stack and key == "attention":
                key = self._stack[-1][0].split(":")[0] + ": attention"
            self._stack.append([key, 0.0])
            t0 = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                d = time.perf_counter() - t0
                _, inner = self._stack.pop()
                self.t[key] = self.t.get(key, 0.0) + d - inner
                if self._stack:
                    self._stack[-1][1] += d

        setattr(obj, name, timed)
        self._undo.append((obj, name, f))

    def undo(self) -> None:
        for obj, name, f in reversed(self._undo):
            setattr(obj, name, f)


def bench_profilegen(n: int, batch: int, dtype: str) -> dict:
    import torch.nn.functional as F

    import pipeline.bios.stage as bio_stage
    import pipeline.lm.llama as llama
    import pipeline.lm.sampling as sampling
    from pipeline.bios.stage import get_writer, make_bios
    from pipeline.lm.chat import dtype_choice

    cfg, table = rows_for(n, seed=2)
    cfg = cfg.model_copy(update={"bio_batch_size": batch or cfg.bio_batch_size, "bio_dtype": dtype})
    t0 = time.perf_counter()
    w = get_writer(None, dtype)
    load = time.perf_counter() - t0
    m, chat = w.chat.model, w.chat
    # What the model really ran: every prompt (row tail) and what each row generated.
    runs: list[tuple[list, list]] = []
    generate = chat.generate

    def recorded(sampler, ids, seeds, sc, groups):
        out, stopped = generate(sampler, ids, seeds, sc, groups)
        runs.append((ids, out, stopped))
        return out, stopped

    chat.generate = recorded
    ph = Phases()

    # The step's attention is timed on its own; the step's remainder is matmuls and norms.
    def step_phase(self, ids, *a):
        return ("prompt" if ids.shape[1] > 1 else "decode") + ": matmuls & norms"

    ph.wrap(llama.Llama, "step", step_phase)
    ph.wrap(F, "scaled_dot_product_attention", "attention")
    ph.wrap(llama, "_attend_split", "attention")
    ph.wrap(sampling, "next_token", "sampling")
    ph.wrap(m.lm_head, "forward", "vocabulary head")
    ph.wrap(bio_stage, "check_bio", "gate")
    t0 = time.perf_counter()
    try:
        _, stats = make_bios(table, cfg, 0)
    finally:
        dt = time.perf_counter() - t0
        ph.undo()
        chat.generate = generate
    P = w.sampler.prefix_len
    tokens = context = sampled = 0
    for ids, out, stopped in runs:
        for prompt, gen, ok in zip(ids, out, stopped, strict=True):
            fwd = len(prompt) + len(gen) - (0 if ok else 1)  # the last token is never fed back
            tokens += fwd
            context += fwd * P + fwd * (fwd + 1) // 2
            sampled += len(gen) + ok
    flops = llama.forward_flops(m.config, tokens, context, sampled)
    phases = {k: ph.t.get(k, 0.0) for k in (
        "prompt: matmuls & norms", "prompt: attention", "decode: matmuls & norms",
        "decode: attention", "vocabulary head", "sampling", "gate")}  # fmt: skip
    phases["tokenizer, Python & the rest"] = dt - sum(phases.values())
    return {"bios": n, "seconds": dt, "load_seconds": load, "dtype": w.dtype,
            "dtype_rule": dtype_choice(dtype)[1], "device": w.device,
            "accepted_per_s": stats.lm / dt, "first_try_pass_rate": stats.first_try / n,
            "lm_share": stats.lm / n, "lm_samples_per_s": stats.attempts / dt,
            "rejects": dict(stats.rejects), "model_gflop": flops / 1e9,
            "gflop_per_accepted": flops / max(stats.lm, 1) / 1e9,
            "achieved_gflops": flops / dt / 1e9, "forward_tokens": tokens,
            "phases_s": phases}  # fmt: skip


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
    ap.add_argument("--batch", type=int, help="rows per LM batch (default: the config's)")
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
        f"{r['device']}, {r['dtype_rule']}; first-try pass {r['first_try_pass_rate']:.1%}, LM "
        f"share {r['lm_share']:.1%}, {a.rows} rows, load {r['load_seconds']:.1f} s)"
    )
    if "naive" in res:
        x = r["accepted_per_s"] / res["naive"]["raw_per_s"]
        print(f"           {x:>10.1f}x naive generate's raw bios/s")
    # The roofline: torch's GEMM at the decoder's shapes, in both dtypes, in this run.
    roof = {d: {"decode_64_rows": gemm_rate(d, 64, head=True),
                "prompt_2048_rows": gemm_rate(d, 2048, head=False)}
            for d in ("float32", "bfloat16")}  # fmt: skip
    res["roofline_gflops"] = roof
    for d, v in roof.items():
        print(f"roofline   {d:>9s} GEMM {v['decode_64_rows']:7.1f} GFLOP/s at 64 rows, "
              f"{v['prompt_2048_rows']:7.1f} at 2,048")  # fmt: skip
    faster = max(roof, key=lambda d: roof[d]["decode_64_rows"])
    res["auto_picks_faster"] = a.dtype != "auto" or r["dtype"] == faster
    peak32 = max(roof["float32"].values())
    own = max(roof[r["dtype"]].values()) if r["dtype"] in roof else float("nan")
    res["fraction_of_fp32_roofline"] = r["achieved_gflops"] / peak32
    res["fraction_of_own_roofline"] = r["achieved_gflops"] / own
    auto = (f"; auto {'picked' if r['dtype'] == faster else 'did NOT pick'} the faster dtype "
            f"({faster})") if a.dtype == "auto" else ""  # fmt: skip
    print(f"achieved   {r['achieved_gflops']:7.1f} GFLOP/s = {r['gflop_per_accepted']:.1f} GFLOP "
          f"per accepted bio x {r['accepted_per_s']:.2f}/s: {res['fraction_of_fp32_roofline']:.0%} "
          f"of the fp32 roofline, {res['fraction_of_own_roofline']:.0%} of "
          f"{r['dtype']}'s{auto}")  # fmt: skip
    for k, v in r["phases_s"].items():
        print(f"  {k:<30s} {v:7.2f} s  {v / r['seconds']:5.1%}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
