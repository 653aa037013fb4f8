"""LM bio throughput on a GPU, with nothing of profilegen installed there but torch,
tokenizers and transformers (+ the gguf wheel): rows and prompts are prepared here.

    # here: rows -> job.json (fields + seeds), the GGUF split to fit the device tool's limit
    .venv/bin/python benchmarks/bios_gpu.py prepare --rows 8192 --job .gpu/job.json
    # there: de-quantize, sample every row once per batch size, write the texts
    python3 benchmarks/bios_gpu.py run --gguf /tmp/pg/model.gguf --job .gpu/job.json --out $OUT
    # here: gate the texts -> first-try pass rate, accepted bios/s
    .venv/bin/python benchmarks/bios_gpu.py gate --job .gpu/job.json --texts texts.json
"""

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def prepare(a) -> None:
    from pipeline.bios.prompt import country_names
    from pipeline.config import build_config
    from pipeline.core.rng import row_seeds
    from pipeline.identity.engine import make_identities

    cfg = build_config(None, rows=a.rows, shard_rows=a.rows, seed=4, avatars="none", bios="lm")
    rows = make_identities(cfg, 0).to_pylist()
    keep = ["first_name_latin", "gender", "age", "occupation", "city", "country_code",
            "interests"]  # fmt: skip
    slim = [{k: r[k] for k in keep} | {"country": country_names()[r["country_code"]]}
            for r in rows]  # fmt: skip
    # The generate config's sampling settings travel with the job: `run` has no pydantic to
    # read them there, and a copy of the numbers in this file would drift from them.
    keys = ("bio_temperature", "bio_top_k", "bio_top_p", "bio_repetition_penalty",
            "bio_max_new_tokens")  # fmt: skip
    sampling = {k: getattr(cfg, k) for k in keys}
    job = {"rows": slim, "seeds": [int(s) for s in row_seeds(4, 0, a.rows, salt=1)],
           "style": [int(s) for s in row_seeds(4, 0, a.rows)], "sampling": sampling}  # fmt: skip
    Path(a.job).parent.mkdir(parents=True, exist_ok=True)
    Path(a.job).write_text(json.dumps(job))


def run(a) -> None:
    import torch

    from pipeline.bios.writer import BioWriter
    from pipeline.lm.weights import convert_gguf

    gpu = torch.cuda.is_available()
    sync = torch.cuda.synchronize if gpu else (lambda: None)
    name = torch.cuda.get_device_name() if gpu else "cpu"
    t0 = time.perf_counter()
    model_dir = convert_gguf(Path(a.gguf), Path("/tmp/pgcache"))
    w = BioWriter(model_dir, "bfloat16")
    print(f"load {time.perf_counter() - t0:.1f} s on {name}", flush=True)
    job = json.loads(Path(a.job).read_text())
    rows, seeds, style = job["rows"], job["seeds"], job["style"]
    res = {"device": name, "rows": len(rows), "runs": []}
    best = None
    for batch in a.batch:
        cfg = SimpleNamespace(**job["sampling"], bio_batch_size=batch)
        w.write(rows[:batch], seeds[:batch], style[:batch], cfg)  # warm-up
        sync()
        t0 = time.perf_counter()
        texts, stopped = w.write(rows, seeds, style, cfg)
        sync()
        dt = time.perf_counter() - t0
        r = {"batch": batch, "seconds": dt, "samples_per_s": len(rows) / dt}
        print(r, flush=True)
        res["runs"].append(r)
        if best is None or r["samples_per_s"] > best[0]["samples_per_s"]:
            best = (r, texts, stopped)
    res["best"] = best[0]
    out = Path(a.out)
    (out / "gpu.json").write_text(json.dumps(res, indent=2))
    (out / "texts.json").write_text(json.dumps({"texts": best[1], "stopped": best[2]}))


def gate(a) -> None:
    from pipeline.config import build_config
    from pipeline.identity.engine import make_identities
    from pipeline.lm.gate import check_text

    job = json.loads(Path(a.job).read_text())
    got = json.loads(Path(a.texts).read_text())
    n = len(job["rows"])
    cfg = build_config(None, rows=n, shard_rows=n, seed=4, avatars="none", bios="lm")
    rows = make_identities(cfg, 0).to_pylist()
    ok = sum(s and check_text(t, r, "en") is None
             for t, s, r in zip(got["texts"], got["stopped"], rows, strict=True))  # fmt: skip
    res = json.loads(Path(a.texts).with_name("gpu.json").read_text())
    rate = res["best"]["samples_per_s"]
    print(
        f"{res['device']}: {rate:,.0f} LM samples/s at batch {res['best']['batch']}, "
        f"first-try pass {ok / n:.1%} -> {rate * ok / n:,.0f} accepted bios/s"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--rows", type=int, default=8192)
    p.add_argument("--job", default=".gpu/job.json")
    p = sub.add_parser("run")
    p.add_argument("--gguf", required=True)
    p.add_argument("--job", default=".gpu/job.json")
    p.add_argument("--batch", type=int, nargs="+", default=[512, 2048])
    p.add_argument("--out", default=".")
    p = sub.add_parser("gate")
    p.add_argument("--job", default=".gpu/job.json")
    p.add_argument("--texts", required=True)
    a = ap.parse_args()
    {"prepare": prepare, "run": run, "gate": gate}[a.cmd](a)


if __name__ == "__main__":
    main()
