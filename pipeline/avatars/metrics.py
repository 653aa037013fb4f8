"""How good the avatar GAN is: a feature network of our own, and the standard GAN metrics on it.

Inception-v3 features are the usual ground for FID/KID, but they need a weights download and
a 24 M-parameter net; neither fits an offline 2-core machine. `AttributeNet` is a small CNN
trained on the corpus with its condition labels, so one net gives both a feature space for
the distribution metrics and the classifier that checks a fake shows the conditions it was
asked for. Its numbers are comparable between our own checkpoints only, never with published
Inception FIDs; `evaluate_all` says which feature space it used in `feature_space`.

Metrics: KID (Binkowski et al. 2018), FID (Heusel et al. 2017), precision/recall
(Kynkaanniemi et al. 2019), density/coverage (Naeem et al. 2020), attribute accuracy, and a
near-copy check against the training set (memorization).
"""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.linalg
import torch
import torch.nn as nn
import torch.nn.functional as F

from pipeline.avatars.conditions import CONDITIONS
from pipeline.core.weights import config_error, load_into, load_weights, save_weights
from pipeline.errors import ProfilegenError

FORMAT = "profilegen-attribute-net/1"
FEATURE_SPACE = "profilegen AttributeNet (trained on corpus labels)"
CHUNK = 1024  # rows per cdist block: 1024 x 20k float32 is 80 MB


# ---- the network -------------------------------------------------------------------------


class AttributeNet(nn.Module):
    """4 stride-2 conv blocks -> global average pool (the embedding) -> one head per condition.

    GroupNorm rather than BatchNorm: an image's embedding must not depend on what else is in
    its batch, or metrics would shift with the batch size.
    """

    def __init__(
        self,
        conditions: dict[str, Sequence[str]] | None = None,
        widths: Sequence[int] = (32, 64, 128, 256),
        groups: int = 8,
        input_size: int = 64,
    ):
        super().__init__()
        conditions = CONDITIONS if conditions is None else conditions
        self.conditions = {k: list(v) for k, v in conditions.items()}
        self.widths, self.groups, self.input_size = list(widths), groups, input_size
        layers, c_in = [], 3
        for w in widths:
            # One conv per block, stride 2: 64 -> 4 px in four steps at ~13 M MACs an image.
            # A second stride-1 conv per block cost 1.7x the training time (measured, 2 cores).
            layers += [nn.Conv2d(c_in, w, 3, 2, 1, bias=False), nn.GroupNorm(groups, w), nn.ReLU()]
            c_in = w
        self.body = nn.Sequential(*layers)
        self.heads = nn.ModuleDict({k: nn.Linear(c_in, len(v)) for k, v in self.conditions.items()})
        self.meta: dict[str, Any] = {}  # training description + held-out accuracy

    @property
    def dim(self) -> int:
        return self.widths[-1]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """x: float N x 3 x S x S in [-1, 1], any S -> N x dim."""
        s = self.input_size
        if x.shape[-2:] != (s, s):
            # antialias: a 128 px image must look like its 64 px version, not an aliased one.
            x = F.interpolate(x, size=(s, s), mode="bilinear", antialias=True, align_corners=False)
        return self.body(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        e = self.embed(x)
        return e, {k: h(e) for k, h in self.heads.items()}

    def arch_config(self) -> dict[str, Any]:
        return {"widths": self.widths, "groups": self.groups, "input_size": self.input_size}

    @classmethod
    def from_pretrained(cls, path: str | Path) -> "AttributeNet":
        raw, state = load_weights(path, "attribute-net")
        try:
            if raw.get("format") != FORMAT:
                raise ValueError(f"format is {raw.get('format')!r}, not {FORMAT!r}")
            net = cls(raw["conditions"], **raw["architecture"])
        except (TypeError, KeyError, ValueError) as e:
            raise config_error(path, "attribute-net", e) from None
        # Labels are indices into CONDITIONS, which only ever grows at the end, so a net
        # trained on a prefix still means the same thing by each index.
        for k, v in net.conditions.items():
            if k not in CONDITIONS or list(CONDITIONS[k][: len(v)]) != v:
                raise ProfilegenError(f"{path} was trained for other conditions: {k}={v}")
        load_into(net, state, path)
        derived = ("format", "conditions", "architecture", "embedding_dim")
        net.meta = {k: v for k, v in raw.items() if k not in derived}
        return net.eval()


def save_pretrained(net: AttributeNet, path: str | Path) -> None:
    """model.safetensors + config.json (architecture, conditions, training, held-out accuracy)."""
    cfg = {
        "format": FORMAT,
        "conditions": net.conditions,
        "architecture": net.arch_config(),
        "embedding_dim": net.dim,
        **net.meta,
    }
    save_weights(path, net.state_dict(), cfg, sort_keys=True, metadata={"format": "pt"})


# ---- images in, features / labels out ------------------------------------------------------


def _check_images(images: np.ndarray, what: str = "images") -> np.ndarray:
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        raise ProfilegenError(f"{what} must be a uint8 array N x S x S x 3")
    if images.ndim != 4 or images.shape[-1] != 3 or images.shape[1] < 8 or images.shape[2] < 8:
        raise ProfilegenError(f"{what} must be N x S x S x 3 (S >= 8), got {images.shape}")
    return images


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 N x S x S x 3 -> float N x 3 x S x S in [-1, 1] (the GAN's output range)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1.0


@torch.inference_mode()
def _run(net: AttributeNet, images: np.ndarray, batch: int = 256):
    images = _check_images(images)
    net.eval()
    feats, preds = [], {k: [] for k in net.heads}
    for s in range(0, len(images), batch):
        e, logits = net(_to_tensor(images[s : s + batch]))
        feats.append(e.numpy().astype(np.float32))
        for k, v in logits.items():
            preds[k].append(v.argmax(1).numpy())
    f = np.concatenate(feats) if feats else np.zeros((0, net.dim), np.float32)
    p = {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in preds.items()}
    return f, p


def embed(net: AttributeNet, images: np.ndarray, batch: int = 256) -> np.ndarray:
    """uint8 N x S x S x 3 -> float32 (N, net.dim) embeddings."""
    return _run(net, images, batch)[0]


def predict(net: AttributeNet, images: np.ndarray, batch: int = 256) -> dict[str, np.ndarray]:
    """uint8 N x S x S x 3 -> {condition: int64 (N,) argmax label}."""
    return _run(net, images, batch)[1]


# ---- training ------------------------------------------------------------------------------


def _check_labels(labels: dict[str, np.ndarray], n: int, what: str = "labels"):
    out = {}
    for k, v in labels.items():
        if k not in CONDITIONS:
            raise ProfilegenError(f"unknown condition {k!r} in {what}: use {list(CONDITIONS)}")
        v = np.asarray(v)
        if v.shape != (n,) or not np.issubdtype(v.dtype, np.integer):
            raise ProfilegenError(
                f"{what}[{k!r}] must be {n} integer labels, got {v.shape} {v.dtype}"
            )
        if len(v) and (v.min() < -1 or v.max() >= len(CONDITIONS[k])):
            raise ProfilegenError(f"{what}[{k!r}] has labels outside -1..{len(CONDITIONS[k]) - 1}")
        out[k] = v.astype(np.int64)
    return out


def _augment(x: torch.Tensor, rng: np.random.Generator, shift: int) -> torch.Tensor:
    """Random horizontal flip + translation by up to `shift` px (edge-replicated), so the net
    learns shapes rather than pixel positions. No colour jitter: skin tone is a label."""
    n, _, h, w = x.shape
    flip = torch.from_numpy(rng.random(n) < 0.5)
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if shift:
        d = torch.from_numpy(rng.integers(0, 2 * shift + 1, size=(n, 2)))
        xp = F.pad(x, (shift,) * 4, mode="replicate")
        rows = (torch.arange(h)[None] + d[:, :1])[:, :, None]  # n x h x 1
        cols = (torch.arange(w)[None] + d[:, 1:])[:, None, :]  # n x 1 x w
        # Advanced indices around a slice put the slice last: n x h x w x c.
        x = xp[torch.arange(n)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)
    return x


def train_attribute_net(
    images: np.ndarray,
    labels: dict[str, np.ndarray],
    steps: int = 1500,
    batch: int = 128,
    seed: int = 0,
    lr: float = 2e-3,
    holdout: float = 0.1,
    data: str = "",
    log: Callable[[str], None] | None = None,
) -> AttributeNet:
    """Train on uint8 N x S x S x 3 images and {condition: (N,) labels, -1 = unknown}.

    Deterministic on CPU for a seed: init under torch.manual_seed, batch order and augmentation
    from one numpy Generator. `holdout` of the images (at most 2000) is kept out of training
    and the per-condition accuracy on it goes into `net.meta["heldout_accuracy"]` and from
    there into config.json. `data` describes the training images for that config.
    """
    images = _check_images(images)
    labels = _check_labels(labels, len(images))
    missing = [k for k in CONDITIONS if k not in labels]
    if missing:
        raise ProfilegenError(f"labels lack conditions {missing} (use -1 for unknown)")
    if len(images) < 2 or steps < 1 or batch < 1:
        raise ProfilegenError("attribute net needs >= 2 images, steps >= 1 and batch >= 1")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    n_hold = min(int(len(images) * holdout), 2000) if len(images) >= 20 else 0
    hold, train = order[:n_hold], order[n_hold:]
    with torch.random.fork_rng(devices=[]):  # leave the caller's global RNG as it was
        torch.manual_seed(seed)
        net = AttributeNet()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=5e-4)
    warm = max(1, steps // 20)
    # Linear warm-up then cosine to zero: reaches a good optimum in a fixed, short budget.
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / warm) * 0.5 * (1 + np.cos(np.pi * min(i / steps, 1)))
    )
    y_all = np.stack([labels[k] for k in net.heads], 1)  # N x n_conditions
    shift = net.input_size // 16  # 4 px at 64 px
    perm, pos = rng.permutation(train), 0
    # channels_last trains ~15% faster on CPU (oneDNN); the net goes back to the default
    # layout afterwards so inference runs the same kernels however the net was obtained.
    net.to(memory_format=torch.channels_last).train()
    for step in range(steps):
        if pos + batch > len(perm):  # a fresh permutation each epoch, from the same Generator
            perm, pos = rng.permutation(train), 0
        idx = np.sort(perm[pos : pos + batch])  # sorted: cheaper gather, same batch content
        pos += batch
        x = _to_tensor(images[idx])
        if x.shape[-1] != net.input_size:
            s = net.input_size
            x = F.interpolate(x, size=(s, s), mode="bilinear", antialias=True, align_corners=False)
        x = _augment(x, rng, shift).contiguous(memory_format=torch.channels_last)
        y = torch.from_numpy(y_all[idx])
        _, logits = net(x)
        loss = x.new_zeros(())
        for j, k in enumerate(net.heads):
            if (y[:, j] >= 0).any():  # an all-unknown column would give a NaN mean
                loss = loss + F.cross_entropy(logits[k], y[:, j], ignore_index=-1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if log and (step % 100 == 0 or step == steps - 1):
            log(f"attribute net step {step}/{steps} loss {loss.item():.4f}")
    net.to(memory_format=torch.contiguous_format).eval()
    acc = None
    if n_hold:
        pred = predict(net, images[hold])
        acc = {k: _accuracy(pred[k], labels[k][hold]) for k in net.heads}
    counts = {
        k: np.bincount(v[v >= 0], minlength=len(CONDITIONS[k])).tolist() for k, v in labels.items()
    }
    net.meta = {
        "training": {
            "data": data,
            "n_images": len(images),
            "n_train": len(train),
            "n_heldout": n_hold,
            "image_size": list(images.shape[1:3]),
            "label_counts": counts,
            "steps": steps,
            "batch": batch,
            "seed": seed,
            "lr": lr,
            "augment": f"hflip + translate <= {shift} px",
        },
        "heldout_accuracy": acc,
    }
    return net


def _accuracy(pred: np.ndarray, want: np.ndarray) -> float | None:
    known = want >= 0
    return float((pred[known] == want[known]).mean()) if known.any() else None


# ---- distribution metrics on features ------------------------------------------------------


def _feats(a: np.ndarray, what: str, min_rows: int = 2) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 2 or not np.issubdtype(a.dtype, np.number):
        raise ProfilegenError(f"{what} features must be a 2-D numeric array, got {a.shape}")
    if len(a) < min_rows:
        raise ProfilegenError(f"{what} needs at least {min_rows} samples, got {len(a)}")
    if not np.isfinite(a).all():
        raise ProfilegenError(f"{what} features contain NaN or inf")
    return a.astype(np.float64)


def _pair(real, fake, min_rows: int = 2) -> tuple[np.ndarray, np.ndarray]:
    x, y = _feats(real, "real", min_rows), _feats(fake, "fake", min_rows)
    if x.shape[1] != y.shape[1]:
        raise ProfilegenError(
            f"real and fake features differ in width: {x.shape[1]} vs {y.shape[1]}"
        )
    return x, y


def _mmd2(a: np.ndarray, b: np.ndarray) -> float:
    """Unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3; the diagonals (k(x, x)) are left out of
    the within-set means, which is what makes it unbiased and lets it go below zero."""
    m, d = len(a), a.shape[1]
    kxx, kyy, kxy = (a @ a.T / d + 1) ** 3, (b @ b.T / d + 1) ** 3, (a @ b.T / d + 1) ** 3
    within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(within - 2 * kxy.mean())


def kid(
    real: np.ndarray, fake: np.ndarray, subsets: int = 50, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Kernel Inception Distance (Binkowski et al. 2018) -> (mean, std) over `subsets` random
    subsets of min(subset_size, len(real), len(fake)) from each side, drawn without
    replacement by a numpy Generator(seed). Unbiased: about 0 (either sign) when real and fake
    come from one distribution, whatever the sample size, unlike FID."""
    x, y = _pair(real, fake)
    if subsets < 1:
        raise ProfilegenError(f"kid needs subsets >= 1, got {subsets}")
    m = min(subset_size, len(x), len(y))
    if m < 2:
        raise ProfilegenError(f"kid needs subset_size >= 2, got {subset_size}")
    rng = np.random.default_rng(seed)
    vals = [
        _mmd2(x[rng.choice(len(x), m, replace=False)], y[rng.choice(len(y), m, replace=False)])
        for _ in range(subsets)
    ]
    return float(np.mean(vals)), float(np.std(vals))


def fid(real: np.ndarray, fake: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to the two feature sets (Heusel et al. 2017).
    Biased upwards for small samples: compare FIDs only at equal sample sizes."""
    x, y = _pair(real, fake)
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.atleast_2d(np.cov(x, rowvar=False)), np.atleast_2d(np.cov(y, rowvar=False))
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        # Singular product (fewer samples than dimensions): the pytorch-fid fix, a tiny ridge.
        off = np.eye(len(s1)) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + off) @ (s2 + off))
    # sqrtm of a product of PSD matrices is real in exact arithmetic; round-off leaves small
    # imaginary parts (and, for near-singular inputs, not so small) that carry no signal.
    covmean = np.real(covmean)
    d = float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
    return max(d, 0.0)  # a distance: a tiny negative is round-off


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def _kth_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each row to its k-th nearest other row (the k-NN ball radius)."""
    if not 1 <= k < len(x):
        raise ProfilegenError(f"k must be in 1..{len(x) - 1} for {len(x)} samples, got {k}")
    # k + 1: the row itself is its own nearest neighbour, at distance 0.
    return torch.cat(
        [
            torch.cdist(x[s : s + CHUNK], x).kthvalue(k + 1, dim=1).values
            for s in range(0, len(x), CHUNK)
        ]
    )


def _ball_counts(q: torch.Tensor, centers: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """For each query row: in how many of the balls B(center_i, radius_i) it lies."""
    return torch.cat(
        [
            (torch.cdist(q[s : s + CHUNK], centers) <= radii[None]).sum(1)
            for s in range(0, len(q), CHUNK)
        ]
    )


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision/recall (Kynkaanniemi et al. 2019): each set's manifold is the union
    of balls reaching every sample's k-th nearest neighbour (boundary included). Precision:
    share of fakes on the real manifold (fidelity). Recall: share of reals on the fake
    manifold (diversity)."""
    x, y = map(_t, _pair(real, fake))
    precision = (_ball_counts(y, x, _kth_radii(x, k)) > 0).double().mean().item()
    recall = (_ball_counts(x, y, _kth_radii(y, k)) > 0).double().mean().item()
    return precision, recall


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020), real k-NN balls only, so fake outliers cannot
    inflate them. Density: mean number of real balls a fake lies in, / k (about 1 when the
    distributions match; can exceed 1). Coverage: share of reals whose ball holds a fake."""
    x, y = map(_t, _pair(real, fake))
    radii = _kth_radii(x, k)
    density = _ball_counts(y, x, radii).double().sum().item() / (k * len(y))
    nearest_fake = torch.cat(
        [torch.cdist(x[s : s + CHUNK], y).min(1).values for s in range(0, len(x), CHUNK)]
    )
    coverage = (nearest_fake <= radii).double().mean().item()
    return density, coverage


# ---- does the generator do what it was asked? ------------------------------------------------


def _as_label_dict(requested, n: int) -> dict[str, np.ndarray]:
    """Requested labels as {condition: (n,)} or an (n, n_conditions) array in CONDITIONS order
    (the layout AvatarGAN.sample takes)."""
    if isinstance(requested, np.ndarray):
        if requested.ndim != 2 or requested.shape[1] != len(CONDITIONS):
            raise ProfilegenError(
                f"requested labels must be (n, {len(CONDITIONS)}), got {requested.shape}"
            )
        requested = dict(zip(CONDITIONS, requested.T, strict=True))
    if not isinstance(requested, dict) or not requested:
        raise ProfilegenError("requested labels must be a non-empty {condition: labels} dict")
    return _check_labels(requested, n, "requested labels")


def _attr_acc(pred: dict[str, np.ndarray], requested: dict[str, np.ndarray]) -> dict[str, float]:
    out = {}
    for k, want in requested.items():
        if k not in pred:
            raise ProfilegenError(f"the attribute net has no head for {k!r}")
        acc = _accuracy(pred[k], want)
        if acc is not None:
            out[k] = acc
    out["mean"] = float(np.mean(list(out.values()))) if out else float("nan")
    return out


def attribute_accuracy(
    net: AttributeNet, fake_images: np.ndarray, requested: dict[str, np.ndarray]
) -> dict[str, float]:
    """Per condition, the share of fakes the attribute net labels as the condition they were
    generated for (requested -1 = none asked, skipped), plus their "mean". Read it against
    the net's own held-out accuracy on real images (config.json): that is the ceiling."""
    requested = _as_label_dict(requested, len(_check_images(fake_images, "fake images")))
    return _attr_acc(predict(net, fake_images), requested)


# ---- memorization ------------------------------------------------------------------------------


def _nearest(q: torch.Tensor, ref: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    d, i = [], []
    for s in range(0, len(q), CHUNK):
        m = torch.cdist(q[s : s + CHUNK], ref).min(1)
        d.append(m.values)
        i.append(m.indices)
    return torch.cat(d).double().numpy(), torch.cat(i).numpy()


def _loo_nearest(x: torch.Tensor, rows: np.ndarray) -> np.ndarray:
    """Leave-one-out nearest-neighbour distance of x[rows] within x."""
    out = []
    for s in range(0, len(rows), CHUNK):
        r = torch.from_numpy(rows[s : s + CHUNK])
        d = torch.cdist(x[r], x)
        d[torch.arange(len(r)), r] = float("inf")
        out.append(d.min(1).values)
    return torch.cat(out).double().numpy()


def _near_copies(
    train: torch.Tensor,
    fake: torch.Tensor,
    percentile: float,
    ref_size: int,
    rng: np.random.Generator,
) -> dict[str, float]:
    fake_d, fake_i = _nearest(fake, train)
    n = len(train)
    ref = np.arange(n) if n <= ref_size else np.sort(rng.choice(n, ref_size, replace=False))
    # One pass for both uses: the reference sample sets the threshold, the fakes' nearest
    # training items give each fake's ratio.
    rows = np.union1d(ref, fake_i)
    loo = _loo_nearest(train, rows)
    ref_loo = loo[np.searchsorted(rows, ref)]
    # Floor: exact duplicates in the training set put the percentile at 0, and float round-off
    # keeps a copy's distance a hair above 0; 1% of the typical spacing is still a copy.
    floor = 1e-2 * float(np.median(ref_loo))
    threshold = max(float(np.percentile(ref_loo, percentile)), floor)
    own = np.maximum(loo[np.searchsorted(rows, fake_i)], max(floor, 1e-12))
    return {
        "fraction": float((fake_d < threshold).mean()),
        "threshold": threshold,
        "ratio_median": float(np.median(fake_d / own)),
    }


def _pixels(images: np.ndarray, what: str) -> torch.Tensor:
    """uint8 images -> float32 (N, 3*32*32) in [-1, 1]: small enough for brute-force L2, and
    the antialiased 32 px keep what a viewer would call "the same picture"."""
    images = _check_images(images, what)
    out = []
    for s in range(0, len(images), 1024):
        x = _to_tensor(images[s : s + 1024])
        if x.shape[-2:] != (32, 32):
            x = F.interpolate(
                x, size=(32, 32), mode="bilinear", antialias=True, align_corners=False
            )
        out.append(x.flatten(1))
    return torch.cat(out) if out else torch.zeros(0, 3 * 32 * 32)


def memorization(
    train_feats: np.ndarray,
    fake_feats: np.ndarray,
    train_images: np.ndarray | None = None,
    fake_images: np.ndarray | None = None,
    percentile: float = 1.0,
    ref_size: int = 2000,
    seed: int = 0,
) -> dict[str, float | None]:
    """Does the generator hand back training images?

    A fake is a near-copy when its nearest training item is closer than the `percentile`-th
    percentile (1st by default) of the training set's own leave-one-out nearest-neighbour
    distances: closer than 99% of training images are to their nearest other training image.
    A threshold relative to the data's own spacing needs no tuning per feature space; the
    price is a floor: a generator that samples the training distribution perfectly, and
    copies nothing, still scores about percentile/100 (0.01), so read the excess over that.
    The train-train reference uses `ref_size` random training items (all when fewer).

    nn_ratio_median: median over fakes of (fake's distance to its nearest training item) /
    (that item's distance to its own nearest other training item). Below 1 means fakes sit
    closer to training items than those do to each other (Alaa et al. 2022, "authenticity").

    Computed in feature space, and in pixel space (L2 on 32 x 32 downsamples) when both image
    sets are given; near_copy_fraction is the max of the two: a copy need only show in one.
    """
    x, y = _pair(train_feats, fake_feats, min_rows=1)
    if len(x) < 2:
        raise ProfilegenError("memorization needs at least 2 training samples")
    if (train_images is None) != (fake_images is None):
        raise ProfilegenError("give both train_images and fake_images, or neither")
    if not 0 <= percentile <= 100:
        raise ProfilegenError(f"percentile must be in 0..100, got {percentile}")
    rng = np.random.default_rng(seed)
    f = _near_copies(_t(x), _t(y), percentile, ref_size, rng)
    out: dict[str, float | None] = {
        "near_copy_fraction_feat": f["fraction"],
        "near_copy_threshold_feat": f["threshold"],
        "nn_ratio_median": f["ratio_median"],
        "near_copy_fraction_pixel": None,
        "near_copy_threshold_pixel": None,
        "nn_ratio_median_pixel": None,
    }
    if train_images is not None:
        px_train, px_fake = _pixels(train_images, "train images"), _pixels(fake_images, "fake")
        if len(px_train) != len(x) or len(px_fake) != len(y):
            raise ProfilegenError("train/fake images and features differ in count")
        # Centred: cdist works via |a|^2 + |b|^2 - 2ab in float32, and smaller norms mean
        # less round-off on the small distances that matter here.
        mean = px_train.mean(0, keepdim=True)
        p = _near_copies(px_train - mean, px_fake - mean, percentile, ref_size, rng)
        out.update(
            near_copy_fraction_pixel=p["fraction"],
            near_copy_threshold_pixel=p["threshold"],
            nn_ratio_median_pixel=p["ratio_median"],
        )
    fracs = [out["near_copy_fraction_feat"], out["near_copy_fraction_pixel"]]
    out["near_copy_fraction"] = max(v for v in fracs if v is not None)
    return out


# ---- optional Inception features ---------------------------------------------------------------


def load_inception_features(path: str | Path) -> Callable[[np.ndarray], np.ndarray]:
    """Inception-v3 pool3 (2048-d) features from local weights, for numbers comparable with
    published FIDs. Needs torch-fidelity (not a dependency: it is only this hook) and a local
    weights file (pt_inception-2015-12-05-6726825d.pth); nothing is downloaded.
    Returns a function uint8 N x S x S x 3 -> float32 (N, 2048)."""
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError:
        raise ProfilegenError(
            "--inception-weights needs torch-fidelity: pip install torch-fidelity"
        ) from None
    if not Path(path).is_file():
        raise ProfilegenError(f"inception weights {path} not found")
    fe = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(path)
    ).eval()

    @torch.inference_mode()
    def features(images: np.ndarray) -> np.ndarray:
        images = _check_images(images)
        out = [
            fe(_t(images[s : s + 64]).permute(0, 3, 1, 2).contiguous())[0].numpy()
            for s in range(0, len(images), 64)
        ]  # it takes uint8 0..255
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 2048), np.float32)

    return features


# ---- everything at once ------------------------------------------------------------------------


def evaluate_all(
    net: AttributeNet,
    real_images: np.ndarray,
    fake_images: np.ndarray,
    requested_labels: dict[str, np.ndarray] | np.ndarray,
    train_images: np.ndarray,
    kid_subsets: int = 50,
    kid_subset_size: int = 1000,
    seed: int = 0,
    inception_weights: str | Path | None = None,
) -> dict[str, Any]:
    """All metrics as one flat JSON-able dict. `real_images`: the reference set for the
    distribution metrics (a held-out corpus sample, same size as the fakes for comparable
    FIDs); `train_images`: what the GAN was trained on, for the memorization check (may be
    the same array as real_images). Attribute accuracy always uses `net`; the distribution
    and memorization metrics use Inception features when `inception_weights` is given."""
    fake_images = _check_images(fake_images, "fake images")
    real_images = _check_images(real_images, "real images")
    train_images = _check_images(train_images, "train images")
    requested = _as_label_dict(requested_labels, len(fake_images))
    fake_net_feats, pred = _run(net, fake_images)
    acc = _attr_acc(pred, requested)
    if inception_weights is None:
        featurize, space = (lambda a: embed(net, a)), FEATURE_SPACE
        fake_feats = fake_net_feats
    else:
        featurize = load_inception_features(inception_weights)
        space = f"inception (local weights: {inception_weights})"
        fake_feats = featurize(fake_images)
    real_feats = featurize(real_images)
    train_feats = real_feats if train_images is real_images else featurize(train_images)
    k_mean, k_std = kid(real_feats, fake_feats, kid_subsets, kid_subset_size, seed)
    precision, recall = precision_recall(real_feats, fake_feats)
    density, coverage = density_coverage(real_feats, fake_feats)
    mem = memorization(train_feats, fake_feats, train_images, fake_images, seed=seed)
    out: dict[str, Any] = {
        "kid": k_mean,
        "kid_std": k_std,
        "fid": fid(real_feats, fake_feats),
        "precision": precision,
        "recall": recall,
        "density": density,
        "coverage": coverage,
    }
    out.update({f"attr_acc_{k}": v for k, v in acc.items()})
    out.update(mem)
    out.update(
        n_real=len(real_images),
        n_fake=len(fake_images),
        n_train=len(train_images),
        feature_space=space,
    )
    return out
