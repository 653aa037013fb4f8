"""The avatar GAN: a small conditional GAN for 64/128 px profile pictures, and its baseline.

`cgan` is what makes small GANs train fast and stably on a CPU: spectral norm in D, hinge
loss, DiffAugment on real and fake alike, an EMA copy of G for sampling, conditional
BatchNorm in G and a projection discriminator for the conditions (Miyato & Koyama 2018).
`seed-mlp` is the seed document's GAN, kept as a measured baseline: G and D of two dense
layers of 128 units, leaky ReLU, BCE.

Checkpoints follow the diffusers habit (pipeline/core/weights.py): `config.json` beside
`model.safetensors`, and `from_pretrained(dir)` / `save_pretrained(dir)` round-trip without
code knowing the sizes.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from pipeline.avatars.conditions import CONDITIONS
from pipeline.core.weights import (
    checkpoint_sha256,  # noqa: F401  (stage.py imports it here)
    config_error,
    load_into,
    load_weights,
    save_weights,
)
from pipeline.errors import ProfilegenError


@dataclass
class GANConfig:
    arch: str = "cgan"  # "cgan" | "seed-mlp"
    resolution: int = 64  # 64 | 128
    z_dim: int = 128
    ngf: int = 16  # G width: channels of the last block; earlier blocks double it
    ndf: int = 32  # D width
    cond_dim: int = 32  # embedding size per condition in G
    conditions: dict[str, list[str]] = field(
        default_factory=lambda: {k: list(v) for k, v in CONDITIONS.items()}
    )
    data: str = ""  # what it was trained on, for the model card

    def __post_init__(self):
        if self.arch not in ("cgan", "seed-mlp"):
            raise ProfilegenError(f"unknown GAN architecture {self.arch!r}: use cgan or seed-mlp")
        if self.resolution not in (64, 128):
            raise ProfilegenError(f"resolution must be 64 or 128, got {self.resolution}")

    @property
    def n_classes(self) -> list[int]:
        return [len(v) for v in self.conditions.values()]


# ---- DiffAugment (Zhao et al. 2020): differentiable, applied to real and fake alike ------


def diff_augment(
    x: torch.Tensor, generator: torch.Generator | None = None, color: bool = True
) -> torch.Tensor:
    """[color +] translation (1/8) + cutout (1/2), the policy for small datasets.

    Color jitter is optional because one condition *is* a colour: a dark face brightened by
    up to half the range looks medium, so with color on D cannot hold G to the skin tone
    (the first checkpoint's skin read-back was 0.79 against a ceiling of 0.999)."""
    n, dev = x.shape[0], x.device

    def rand(*shape):
        return torch.rand(*shape, generator=generator, device=dev, dtype=x.dtype)

    if color:
        x = x + (rand(n, 1, 1, 1) - 0.5)  # brightness
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (rand(n, 1, 1, 1) * 2) + mean  # saturation
        mean = x.mean(dim=[1, 2, 3], keepdim=True)
        x = (x - mean) * (rand(n, 1, 1, 1) + 0.5) + mean  # contrast

    # Translation by up to 1/8 of the size, zero padded, via a shifted sampling grid.
    h, w = x.shape[2], x.shape[3]
    sh, sw = h // 8, w // 8
    ty = (rand(n) * (2 * sh + 1)).long() - sh
    tx = (rand(n) * (2 * sw + 1)).long() - sw
    gy = torch.arange(h, device=dev).view(1, h, 1) + ty.view(n, 1, 1)
    gx = torch.arange(w, device=dev).view(1, 1, w) + tx.view(n, 1, 1)
    pad = F.pad(x, [1, 1, 1, 1])
    gy = (gy + 1).clamp(0, h + 1)
    gx = (gx + 1).clamp(0, w + 1)
    idx = (gy * (w + 2)).unsqueeze(1) + gx.unsqueeze(1)  # n,1,h,w into the padded plane
    flat = pad.flatten(2)
    x = flat.gather(2, idx.flatten(2).expand(-1, x.shape[1], -1)).view_as(x)

    # Cutout: one square of half the size, zeroed, centred anywhere in the image.
    ch, cw = h // 2, w // 2
    y0 = (rand(n) * (h + 1 - ch % 2)).long() - ch // 2
    x0 = (rand(n) * (w + 1 - cw % 2)).long() - cw // 2
    yy = torch.arange(h, device=dev).view(1, h, 1)
    xx = torch.arange(w, device=dev).view(1, 1, w)
    y0, x0 = y0.view(n, 1, 1), x0.view(n, 1, 1)
    inside = (yy >= y0) & (yy < y0 + ch) & (xx >= x0) & (xx < x0 + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


# ---- cgan ------------------------------------------------------------------------------


class CondBatchNorm(nn.Module):
    """BatchNorm whose gain and bias come from the condition embedding (as in BigGAN)."""

    def __init__(self, channels: int, cond_dim: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Linear(cond_dim, channels)
        self.bias = nn.Linear(cond_dim, channels)
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.gain.bias)
        nn.init.zeros_(self.bias.weight)
        nn.init.zeros_(self.bias.bias)

    def forward(self, x, c):
        g = 1 + self.gain(c).unsqueeze(-1).unsqueeze(-1)
        b = self.bias(c).unsqueeze(-1).unsqueeze(-1)
        return self.bn(x) * g + b


class UpBlock(nn.Module):
    def __init__(self, cin: int, cout: int, cond_dim: int):
        super().__init__()
        # ConvTranspose 4x4/2 is the cheapest upsampler per output pixel on a CPU.
        self.conv = nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)
        self.norm = CondBatchNorm(cout, cond_dim)

    def forward(self, x, c):
        return F.relu(self.norm(self.conv(x), c))


class Generator(nn.Module):
    """z and the conditions enter every layer (BigGAN's hierarchical latent): with z only at
    the input, G learned to ignore it and drew one face per condition (measured: pixel std
    across z 4 vs 43 across conditions after 3k steps)."""

    def __init__(self, cfg: GANConfig):
        super().__init__()
        self.cfg = cfg
        n_up = int(np.log2(cfg.resolution)) - 2  # 4x4 -> resolution
        # Width halves at every doubling of resolution (capped at 16*ngf): the big
        # resolutions, where most pixels are, get the thinnest layers. Sampling speed on a
        # CPU is set by the last two blocks.
        widths = [cfg.ngf * min(2 ** (n_up - i), 16) for i in range(n_up + 1)]
        self.embeds = nn.ModuleList(nn.Embedding(k, cfg.cond_dim) for k in cfg.n_classes)
        c_all = cfg.cond_dim * len(cfg.n_classes)
        # One z chunk for the input layer, one per normalisation layer.
        self.z_chunks = [len(a) for a in np.array_split(np.arange(cfg.z_dim), n_up + 2)]
        zc = self.z_chunks
        self.fc = nn.Linear(zc[0] + c_all, 4 * 4 * widths[0])
        self.norm0 = CondBatchNorm(widths[0], c_all + zc[1])
        self.blocks = nn.ModuleList(
            UpBlock(a, b, c_all + z)
            for a, b, z in zip(widths[:-1], widths[1:], zc[2:], strict=True)
        )
        self.out = nn.Conv2d(widths[-1], 3, 3, 1, 1)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """z: (n, z_dim); y: (n, n_conditions) int labels -> images in [-1, 1]."""
        c = torch.cat([e(y[:, i]) for i, e in enumerate(self.embeds)], dim=1)
        zs = torch.split(z, self.z_chunks, dim=1)
        x = self.fc(torch.cat([zs[0], c], dim=1)).view(z.shape[0], -1, 4, 4)
        x = F.relu(self.norm0(x, torch.cat([c, zs[1]], dim=1)))
        for block, zi in zip(self.blocks, zs[2:], strict=True):
            x = block(x, torch.cat([c, zi], dim=1))
        return torch.tanh(self.out(x))


class Discriminator(nn.Module):
    def __init__(self, cfg: GANConfig):
        super().__init__()
        sn = nn.utils.spectral_norm
        n_down = int(np.log2(cfg.resolution)) - 2
        widths = [3] + [cfg.ndf * 2 ** min(i, 3) for i in range(n_down)]
        self.convs = nn.ModuleList(
            sn(nn.Conv2d(a, b, 4, 2, 1)) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.linear = sn(nn.Linear(widths[-1], 1))
        # Projection: <embed(y), h> per condition, added to the unconditional score.
        self.embeds = nn.ModuleList(sn(nn.Embedding(k, widths[-1])) for k in cfg.n_classes)
        # Auxiliary classifier heads (AC-GAN, Odena et al. 2017), trained on real images
        # only: projection alone tells D "real for this label", which G can satisfy with a
        # face of the other gender that looks real; a classifier G must convince pushes the
        # label's own cues (long hair, grey hair, the skin tone) into every sample.
        self.aux = nn.ModuleList(nn.Linear(widths[-1], k) for k in cfg.n_classes)

    def forward(
        self, x: torch.Tensor, y: torch.Tensor, aux: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """The realness score; with aux also the class logits of each condition."""
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        h = x.sum(dim=[2, 3])
        out = self.linear(h).squeeze(1)
        for i, e in enumerate(self.embeds):
            out = out + (e(y[:, i]) * h).sum(dim=1)
        if not aux:
            return out
        return out, [head(h) for head in self.aux]


# ---- seed-mlp: the baseline -----------------------------------------------------------


class MLPGenerator(nn.Module):
    def __init__(self, cfg: GANConfig):
        super().__init__()
        self.cfg = cfg
        n_in = cfg.z_dim + sum(cfg.n_classes)
        self.net = nn.Sequential(
            nn.Linear(n_in, 128), nn.LeakyReLU(0.2),
            nn.Linear(128, 128), nn.LeakyReLU(0.2),
            nn.Linear(128, 3 * cfg.resolution**2), nn.Tanh(),
        )  # fmt: skip

    def forward(self, z, y):
        onehot = torch.cat(
            [F.one_hot(y[:, i], k).float() for i, k in enumerate(self.cfg.n_classes)], dim=1
        )
        r = self.cfg.resolution
        return self.net(torch.cat([z, onehot], dim=1)).view(-1, 3, r, r)


class MLPDiscriminator(nn.Module):
    def __init__(self, cfg: GANConfig):
        super().__init__()
        self.cfg = cfg
        self.net = nn.Sequential(
            nn.Linear(3 * cfg.resolution**2 + sum(cfg.n_classes), 128), nn.LeakyReLU(0.2),
            nn.Linear(128, 128), nn.LeakyReLU(0.2),
            nn.Linear(128, 1),
        )  # fmt: skip

    def forward(self, x, y):
        onehot = torch.cat(
            [F.one_hot(y[:, i], k).float() for i, k in enumerate(self.cfg.n_classes)], dim=1
        )
        return self.net(torch.cat([x.flatten(1), onehot], dim=1)).squeeze(1)


def build(cfg: GANConfig) -> tuple[nn.Module, nn.Module]:
    if cfg.arch == "seed-mlp":
        return MLPGenerator(cfg), MLPDiscriminator(cfg)
    return Generator(cfg), Discriminator(cfg)


# ---- the sampling model: EMA generator + config, save/load ------------------------------


class AvatarGAN:
    """What ships: the EMA generator and its config. Sampling is deterministic per seed."""

    def __init__(self, cfg: GANConfig, generator: nn.Module):
        self.config = cfg
        self.generator = generator.eval()

    def save_pretrained(self, path: str | Path) -> None:
        # No sort_keys: the order of `conditions` is the order of the label columns.
        save_weights(path, self.generator.state_dict(), asdict(self.config),
                     metadata={"format": "pt"})  # fmt: skip

    @classmethod
    def from_pretrained(cls, path: str | Path) -> "AvatarGAN":
        raw, state = load_weights(path, "avatar GAN")
        try:
            cfg = GANConfig(**raw)
        except TypeError as e:
            raise config_error(path, "avatar GAN", e) from None
        if list(cfg.conditions.items()) != [(k, list(v)) for k, v in CONDITIONS.items()]:
            raise ProfilegenError(f"{path} was trained for other conditions: {cfg.conditions}")
        generator, _ = build(cfg)
        load_into(generator, state, path)
        return cls(cfg, generator)

    @torch.no_grad()
    def sample(self, labels: np.ndarray, seeds: np.ndarray, batch: int = 256) -> np.ndarray:
        """labels: (n, n_conditions) ints; seeds: (n,) uint64, one per image so an image
        depends only on its own seed and labels -> uint8 (n, S, S, 3)."""
        out = []
        dev = next(self.generator.parameters()).device  # cpu, or cuda when loaded there
        for s in range(0, len(labels), batch):
            z = torch.stack([noise(int(k), self.config.z_dim) for k in seeds[s : s + batch]])
            y = torch.as_tensor(labels[s : s + batch], dtype=torch.long)
            x = self.generator(z.to(dev), y.to(dev))
            x = ((x.permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255).byte()
            out.append(x.cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0, 0, 3), np.uint8)


def noise(seed: int, dim: int) -> torch.Tensor:
    """The latent of one image, from its own seed (independent of batch composition)."""
    return torch.from_numpy(np.random.default_rng(seed).standard_normal(dim).astype(np.float32))
