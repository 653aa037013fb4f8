"""Training the avatar GAN: hinge loss + DiffAugment + EMA, checkpointed and resumable.

Everything random (data order, latents, augmentations) comes from generators whose state
is saved with each checkpoint, so a resumed run continues exactly where the interrupted
one would have been (on the same device and thread count).
"""

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from pipeline.avatars.conditions import CONDITIONS
from pipeline.avatars.gan import AvatarGAN, GANConfig, build, diff_augment
from pipeline.core.device import set_torch_threads, torch_device
from pipeline.core.files import atomic_path, atomic_write
from pipeline.errors import ProfilegenError

STATE_FILE = "training/state.pt"
TRAIN_CONFIG = "training/train_config.json"


@dataclass
class TrainConfig:
    data: str = "builtin"  # "builtin" or a folder of photos
    resolution: int = 64
    arch: str = "cgan"  # "cgan" | "seed-mlp"
    steps: int = 20_000
    batch: int = 64
    corpus_size: int = 20_000  # builtin avatars rendered (and cached) for training
    seed: int = 0
    ngf: int = 16
    ndf: int = 32
    lr: float = 2e-4
    ema: float = 0.999  # EMA of G's weights; the EMA copy is what ships
    # Mode seeking (Mao et al. 2019): pairs with one condition and two latents must differ,
    # another guard against a G that draws one face per condition. 0 turns it off.
    ms_weight: float = 0.5
    # Weight of the auxiliary classifier's cross-entropy (D on real labels, G on the
    # labels it was asked for); 0 is the projection discriminator alone.
    aux_weight: float = 1.0
    color_augment: bool = False  # DiffAugment's color jitter (see diff_augment: skin)
    checkpoint_every: int = 1000

    def __post_init__(self):
        self.gan_config("")  # validates arch and resolution
        for name in ("steps", "batch", "corpus_size", "checkpoint_every"):
            if getattr(self, name) <= 0:
                raise ProfilegenError(f"--{name.replace('_', '-')} must be > 0")

    def gan_config(self, data_description: str) -> GANConfig:
        return GANConfig(arch=self.arch, resolution=self.resolution, ngf=self.ngf,
                         ndf=self.ndf, data=data_description)  # fmt: skip

    def identity(self) -> dict:
        """Fields a resumed run must share with the run it continues (steps may grow)."""
        d = asdict(self)
        d.pop("steps")
        d.pop("checkpoint_every")
        return d


def class_loss(logits: list[torch.Tensor], y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy summed over the conditions (columns of y, in CONDITIONS order); an
    unknown label (-1, photo folders) teaches the classifier nothing."""
    total = torch.zeros((), device=y.device)
    for i, lg in enumerate(logits):
        known = y[:, i] >= 0
        if known.any():
            total = total + F.cross_entropy(lg[known].float(), y[known, i])
    return total


def pick_device() -> torch.device:
    set_torch_threads()  # data and RNG work stay on the CPU even when G and D are on a GPU
    return torch.device(torch_device("avatar"))


def labels_matrix(labels: dict[str, np.ndarray]) -> np.ndarray:
    """Condition dict -> (n, n_conditions) int64, columns in CONDITIONS order."""
    return np.stack([np.asarray(labels[k], dtype=np.int64) for k in CONDITIONS], axis=1)


def grid_labels(n_cols: int = 8) -> np.ndarray:
    """The fixed conditions of the sample grid: one row per (gender, age band)."""
    rows = []
    for g in range(len(CONDITIONS["gender"])):
        for a in range(len(CONDITIONS["age_band"])):
            for c in range(n_cols):
                rows.append([g, a, c % len(CONDITIONS["skin"])])
    return np.array(rows, dtype=np.int64)


def save_grid(images: np.ndarray, path: Path, n_cols: int = 8) -> None:
    n, s = images.shape[0], images.shape[1]
    rows = -(-n // n_cols)
    canvas = np.full((rows * s, n_cols * s, 3), 255, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, n_cols)
        canvas[r * s : (r + 1) * s, c * s : (c + 1) * s] = img
    with atomic_path(path) as tmp:
        Image.fromarray(canvas).save(tmp, format="PNG")


def _atomic_torch_save(obj, path: Path) -> None:
    # To a path, not a file object: torch names the archive inside after the file, and the
    # temp name `.state.pt.tmp-*` gives the same archive name (".state.pt") as ever.
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def check_resume(tc: TrainConfig, out: Path, resume: bool) -> None:
    """Refuse to resume what isn't there or was trained differently, and to overwrite a
    run that is there. Writes nothing."""
    out = Path(out)
    state_path = out / STATE_FILE
    if resume:
        if not state_path.is_file():
            raise ProfilegenError(f"nothing to resume in {out}: no {STATE_FILE}")
        saved = json.loads((out / TRAIN_CONFIG).read_text())
        if saved != tc.identity():
            diff = sorted(k for k in tc.identity() if saved.get(k) != tc.identity()[k])
            raise ProfilegenError(f"cannot resume {out}: it was trained with a different "
                                  f"config ({', '.join(diff)} differ)")  # fmt: skip
    elif state_path.exists():
        raise ProfilegenError(f"{out} already holds a training run; pass --resume or pick "
                              f"another --out")  # fmt: skip
    elif out.exists() and not out.is_dir():
        raise ProfilegenError(f"--out {out} exists and is not a directory")


def train(
    tc: TrainConfig,
    images: np.ndarray,
    labels: dict[str, np.ndarray],
    out: Path,
    data_description: str,
    resume: bool = False,
    on_step: Callable[[int, dict], None] | None = None,
    on_checkpoint: Callable[[int, AvatarGAN], dict] | None = None,
) -> AvatarGAN:
    """Train from scratch (or resume) into `out`; return the EMA model.

    images: uint8 (N, S, S, 3) at tc.resolution; labels: CONDITIONS keys -> int arrays
    (-1 = unknown: such rows get a random label, the condition is then only a nuisance).
    on_checkpoint(step, model) may return metrics, logged to out/metrics.jsonl.
    """
    out = Path(out)
    if images.shape[1:] != (tc.resolution, tc.resolution, 3):
        raise ProfilegenError(f"training images are {images.shape[1:3]}, expected "
                              f"{tc.resolution}x{tc.resolution}")  # fmt: skip
    device = pick_device()
    cfg = tc.gan_config(data_description)
    torch.manual_seed(tc.seed)  # weight init
    G, D = build(cfg)
    G_ema, _ = build(cfg)
    G_ema.load_state_dict(G.state_dict())
    G, D, G_ema = G.to(device), D.to(device), G_ema.to(device)
    betas = (0.5, 0.999) if tc.arch == "seed-mlp" else (0.0, 0.99)
    opt_g = torch.optim.Adam(G.parameters(), tc.lr, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), tc.lr, betas=betas)
    data_rng = np.random.default_rng(np.random.SeedSequence(tc.seed, spawn_key=(1,)))
    torch_gen = torch.Generator().manual_seed(tc.seed)
    step = 0

    state_path = out / STATE_FILE
    check_resume(tc, out, resume)
    if resume:
        st = torch.load(state_path, weights_only=False)
        G.load_state_dict(st["G"])
        D.load_state_dict(st["D"])
        G_ema.load_state_dict(st["G_ema"])
        opt_g.load_state_dict(st["opt_g"])
        opt_d.load_state_dict(st["opt_d"])
        data_rng.bit_generator.state = st["data_rng"]
        torch_gen.set_state(st["torch_gen"])
        step = st["step"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "training").mkdir(exist_ok=True)
    atomic_write(out / TRAIN_CONFIG, json.dumps(tc.identity(), indent=2, sort_keys=True))

    x_all = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()  # uint8, stays small
    y_all = labels_matrix(labels)
    n_classes = torch.tensor([len(v) for v in CONDITIONS.values()])
    grid_y = torch.from_numpy(grid_labels())
    grid_z = torch.randn(len(grid_y), cfg.z_dim, generator=torch.Generator().manual_seed(1234))

    def aug(x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, torch_gen, color=tc.color_augment)

    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")

    def checkpoint(at: int) -> None:
        model = AvatarGAN(cfg, G_ema)
        _atomic_torch_save(
            {
                "G": G.state_dict(), "D": D.state_dict(), "G_ema": G_ema.state_dict(),
                "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                "data_rng": data_rng.bit_generator.state, "torch_gen": torch_gen.get_state(),
                "step": at,
            },
            state_path,
        )  # fmt: skip
        G_ema.cpu()
        model.save_pretrained(out)
        with torch.no_grad():
            grid = G_ema.eval()(grid_z, grid_y)
        save_grid(((grid.permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255).byte().numpy(),
                  out / "samples" / f"step-{at:06d}.png")  # fmt: skip
        metrics = {"step": at, **(on_checkpoint(at, model) if on_checkpoint else {})}
        G_ema.to(device)
        with open(out / "metrics.jsonl", "a") as f:
            f.write(json.dumps(metrics) + "\n")

    t0, seen0 = time.perf_counter(), step * tc.batch
    while step < tc.steps:
        idx = data_rng.integers(0, len(x_all), tc.batch)
        real = (x_all[idx].float().to(device) / 127.5) - 1
        y_known = torch.from_numpy(y_all[idx])
        y = y_known
        unknown = y < 0
        if unknown.any():
            rand = (torch.rand(y.shape, generator=torch_gen) * n_classes).long()
            y = torch.where(unknown, rand, y)
        y, y_known = y.to(device), y_known.to(device)
        z = torch.randn(tc.batch, cfg.z_dim, generator=torch_gen).to(device)
        half = tc.batch // 2 if tc.arch == "cgan" and tc.ms_weight > 0 else 0
        # Fakes come in pairs for mode seeking: rows i and i+half share a condition.
        yf = torch.cat([y[:half], y[:half], y[2 * half :]]) if half else y

        with autocast:
            fake = G(z, yf)
            if tc.arch == "seed-mlp":
                d_real, d_fake = D(real, y), D(fake.detach(), yf)
                bce = F.binary_cross_entropy_with_logits
                loss_d = bce(d_real, torch.ones_like(d_real)) + bce(
                    d_fake, torch.zeros_like(d_fake)
                )
            else:
                d_real, logits = D(aug(real), y, aux=True)
                d_fake = D(aug(fake.detach()), yf)
                loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
                loss_d = loss_d + tc.aux_weight * class_loss(logits, y_known)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        with autocast:
            if tc.arch == "seed-mlp":
                d_gen = D(fake, yf)
                loss_g = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
            else:
                d_gen, logits = D(aug(fake), yf, aux=True)
                loss_g = -d_gen.mean() + tc.aux_weight * class_loss(logits, yf)
                if half:
                    spread = (fake[:half] - fake[half : 2 * half]).abs().mean(dim=(1, 2, 3))
                    dz = (z[:half] - z[half : 2 * half]).abs().mean(dim=1)
                    loss_g = loss_g + tc.ms_weight / ((spread / dz).mean() + 1e-5)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

        if not (math.isfinite(loss_d.item()) and math.isfinite(loss_g.item())):
            last = torch.load(state_path, weights_only=False)["step"] if state_path.exists() else 0
            raise ProfilegenError(f"training diverged at step {step + 1} (loss_d "
                                  f"{loss_d.item()}, loss_g {loss_g.item()}); the last good "
                                  f"checkpoint (step {last}) is kept in {out}")  # fmt: skip

        with torch.no_grad():
            # Warm-up: a fixed 0.999 would keep the EMA near the random init for the first
            # few thousand steps, so early checkpoints would show noise.
            decay = min(tc.ema, (1 + step) / (10 + step))
            for pe, p in zip(G_ema.parameters(), G.parameters(), strict=True):
                pe.lerp_(p, 1 - decay)
            for be, b in zip(G_ema.buffers(), G.buffers(), strict=True):
                be.copy_(b)
        step += 1

        if on_step:
            elapsed = time.perf_counter() - t0
            rate = (step * tc.batch - seen0) / max(elapsed, 1e-9)
            on_step(step, {"loss_d": loss_d.item(), "loss_g": loss_g.item(), "img_per_s": rate})
        if step % tc.checkpoint_every == 0 or step == tc.steps:
            checkpoint(step)

    G_ema.cpu()
    return AvatarGAN(cfg, G_ema.eval())
