"""Avatars/s: sampling + PNG encoding with the shipped checkpoint, against a plain DCGAN-64.

    .venv/bin/python benchmarks/avatars.py            # ~2 min on 2 cores; run on an idle machine

Prints, in one run: sampling-only and sampling+PNG rates of the shipped cgan (1 process
with 2 torch threads, and 2 processes with 1 thread each), the same for a plain DCGAN-64
generator (ngf=64, the usual reference), and training img/s of cgan, seed-mlp and DCGAN-64.
"""

import argparse
import multiprocessing as mp
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from pipeline.avatars.gan import AvatarGAN, GANConfig, build, diff_augment  # noqa: E402
from pipeline.avatars.stage import DEFAULT_CHECKPOINT, encode_png  # noqa: E402


def dcgan64(nz: int = 128, ngf: int = 64) -> nn.Module:
    """The textbook DCGAN-64 generator (Radford et al. 2015), unconditional."""

    def up(cin, cout, first=False):
        conv = nn.ConvTranspose2d(cin, cout, 4, 1 if first else 2, 0 if first else 1, bias=False)
        return [conv, nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        *up(nz, ngf * 8, first=True), *up(ngf * 8, ngf * 4), *up(ngf * 4, ngf * 2),
        *up(ngf * 2, ngf), nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh(),
    ).eval()  # fmt: skip


def _labels(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.stack([rng.integers(0, 2, n), rng.integers(0, 4, n), rng.integers(0, 3, n)], 1)


def ours(n: int, png: bool, threads: int, offset: int = 0) -> float:
    torch.set_num_threads(threads)
    model = AvatarGAN.from_pretrained(DEFAULT_CHECKPOINT)
    y, seeds = _labels(n), np.arange(offset, offset + n, dtype=np.uint64)
    model.sample(y[:64], seeds[:64])  # warm-up
    t = time.perf_counter()
    imgs = model.sample(y, seeds)
    if png:
        [encode_png(im) for im in imgs]
    return n / (time.perf_counter() - t)


@torch.no_grad()
def dcgan(n: int, png: bool, threads: int, offset: int = 0) -> float:
    torch.set_num_threads(threads)
    g = dcgan64()
    g(torch.randn(64, 128, 1, 1))
    t = time.perf_counter()
    for s in range(0, n, 256):
        x = g(torch.randn(min(256, n - s), 128, 1, 1))
        imgs = ((x.permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255).byte().numpy()
        if png:
            [encode_png(im) for im in imgs]
    return n / (time.perf_counter() - t)


def _worker(args):
    fn, n, png, offset = args
    return fn(n, png, 1, offset)


def two_processes(fn, n: int, png: bool) -> float:
    with mp.get_context("spawn").Pool(2) as pool:
        t = time.perf_counter()
        pool.map(_worker, [(fn, n // 2, png, 0), (fn, n // 2, png, n)])
        return n / (time.perf_counter() - t)


def train_rate(arch: str, steps: int = 8, batch: int = 64) -> float:
    torch.set_num_threads(os.cpu_count() or 1)
    if arch == "dcgan64":
        ndf = 64
        g, d = dcgan64(), nn.Sequential(
            nn.Conv2d(3, ndf, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0), nn.Flatten(),
        )  # fmt: skip
        g.train()

        def gen(z, y):
            return g(z.view(-1, 128, 1, 1))
    else:
        g, d = build(GANConfig(arch=arch))
        gen = g
    opt_g, opt_d = torch.optim.Adam(g.parameters()), torch.optim.Adam(d.parameters())
    real, y = torch.rand(batch, 3, 64, 64) * 2 - 1, torch.from_numpy(_labels(batch))

    def disc(x):
        return d(x) if arch == "dcgan64" else d(x, y)

    for i in range(steps + 1):
        if i == 1:
            t = time.perf_counter()
        fake = gen(torch.randn(batch, 128), y)
        aug = (lambda x: x) if arch == "seed-mlp" else diff_augment
        loss_d = (torch.relu(1 - disc(aug(real))).mean()
                  + torch.relu(1 + disc(aug(fake.detach()))).mean())  # fmt: skip
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = -disc(aug(fake)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return steps * batch / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000)
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}")
    print("\n| generator | setup | sample img/s | sample + PNG img/s |\n|---|---|---:|---:|")
    for name, fn in [("profilegen cgan (shipped)", ours), ("DCGAN-64 ngf=64", dcgan)]:
        one = fn(args.n, False, os.cpu_count() or 1), fn(args.n, True, os.cpu_count() or 1)
        print(f"| {name} | 1 process, {os.cpu_count()} threads | {one[0]:,.0f} | {one[1]:,.0f} |")
        two = two_processes(fn, args.n, False), two_processes(fn, args.n, True)
        print(f"| {name} | 2 processes, 1 thread | {two[0]:,.0f} | {two[1]:,.0f} |")
    print("\n| training | img/s (batch 64, 64 px) |\n|---|---:|")
    for arch in ("cgan", "seed-mlp", "dcgan64"):
        print(f"| {arch} | {train_rate(arch):,.0f} |")


if __name__ == "__main__":
    main()
