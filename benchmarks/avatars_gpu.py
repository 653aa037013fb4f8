"""Avatar GAN throughput on a GPU (device tool), and PNG encoding on that machine's cores.

    python3 benchmarks/avatars_gpu.py --n 65536 --out $OUT

Sampling runs the shipped generator on CUDA in large batches (fp32, and bf16 autocast);
PNG encoding (what `generate` stores) is CPU work, so it is timed separately with a process
pool: at scale it, not the GPU, decides avatars/s per machine.
"""

import argparse
import json
import os
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.avatars.conditions import CONDITIONS  # noqa: E402
from pipeline.avatars.gan import AvatarGAN, noise  # noqa: E402
from pipeline.avatars.stage import encode_png  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=65536)
    ap.add_argument("--batch", type=int, default=8192)
    ap.add_argument("--out", default=".")
    a = ap.parse_args()
    model = AvatarGAN.from_pretrained("models/avatar-gan-64")
    gen = model.generator.cuda().eval()
    rng = np.random.default_rng(0)
    z = torch.stack([noise(int(s), model.config.z_dim) for s in range(a.batch)]).cuda()
    y_host = np.stack([rng.integers(0, len(v), a.batch) for v in CONDITIONS.values()], axis=1)
    y = torch.as_tensor(y_host, dtype=torch.long).cuda()
    res = {"device": torch.cuda.get_device_name(), "batch": a.batch, "n": a.n}
    imgs = None
    for name, ctx in (("fp32", torch.autocast("cuda", enabled=False)),
                      ("bf16", torch.autocast("cuda", dtype=torch.bfloat16))):  # fmt: skip
        with torch.no_grad(), ctx:
            for _ in range(3):
                gen(z, y)
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(a.n // a.batch):
                x = gen(z, y)
                imgs = ((x.float().permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255)
                imgs = imgs.byte().cpu().numpy()
            torch.cuda.synchronize()
            dt = time.perf_counter() - t0
        res[f"sample_{name}_per_s"] = (a.n // a.batch) * a.batch / dt
        print(name, f"{res[f'sample_{name}_per_s']:,.0f} avatars/s (sample + copy to host)")
    # The path `generate` takes: AvatarGAN.sample (per-row latents made on the CPU from each
    # row's seed, generator on the GPU), and how far its pixels are from the CPU's.
    seeds = np.arange(16384, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    labels = np.stack([rng.integers(0, len(v), 16384) for v in CONDITIONS.values()], axis=1)
    t0 = time.perf_counter()
    on_gpu = model.sample(labels, seeds, batch=4096)
    res["model_sample_per_s"] = len(seeds) / (time.perf_counter() - t0)
    model.generator.cpu()
    on_cpu = model.sample(labels[:64], seeds[:64])
    diff = np.abs(on_cpu.astype(int) - on_gpu[:64].astype(int))
    res["gpu_vs_cpu_mean_abs_diff"] = float(diff.mean())
    res["gpu_vs_cpu_max_abs_diff"] = int(diff.max())
    print(
        f"AvatarGAN.sample on GPU {res['model_sample_per_s']:,.0f}/s; vs CPU pixels: mean "
        f"|diff| {diff.mean():.3f}, max {diff.max()} (of 255)"
    )
    procs = os.cpu_count() or 1
    t0 = time.perf_counter()
    with Pool(procs) as pool:
        pngs = pool.map(encode_png, list(imgs), chunksize=64)
    dt = time.perf_counter() - t0
    res.update(png_processes=procs, png_per_s=len(pngs) / dt)
    print(f"PNG encode {len(pngs) / dt:,.0f}/s with {procs} processes")
    Path(a.out, "avatars-gpu.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
