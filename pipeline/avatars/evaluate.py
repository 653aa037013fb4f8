"""Evaluating avatar checkpoints offline, and the model card that reports it.

The feature space is a small attribute network trained on the starter corpus' labels (no
Inception download is possible here); it is trained once, cached, and shipped under
models/attribute-net-64 so every checkpoint is measured with the same ruler. The reference
set is a held-out corpus draw (its own seed), never the GAN's training images.
"""

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.avatars.conditions import CONDITIONS
from pipeline.avatars.corpus import Corpus, build_corpus, load_folder
from pipeline.avatars.gan import AvatarGAN
from pipeline.avatars.gate import READBACK_NET
from pipeline.avatars.metrics import (
    AttributeNet,
    attribute_accuracy,
    embed,
    evaluate_all,
    kid,
    save_pretrained,
    train_attribute_net,
)
from pipeline.avatars.train import labels_matrix
from pipeline.core.cache import cache_root
from pipeline.core.device import set_torch_threads
from pipeline.core.files import atomic_write
from pipeline.errors import ProfilegenError

# The shipped net: also the avatar gate's judge (generate reads avatars back with it).
SHIPPED_NET = READBACK_NET
NET_CORPUS = dict(n=8000, size=64, seed=12345)  # the attribute net's own training images
REFERENCE_SEED = 999  # held-out real images for KID/FID/PR: not the GAN's training set
FAKE_SEED_BASE = 10**9


def train_feature_net(out: str | Path) -> AttributeNet:
    """Train the attribute net on its own corpus draw and save it to `out`."""
    set_torch_threads()
    corpus = build_corpus(**NET_CORPUS)
    labels = {k: corpus.labels[k] for k in CONDITIONS}
    net = train_attribute_net(corpus.images, labels, seed=0, data=corpus.description)
    save_pretrained(net, out)
    return net.eval()


@lru_cache(maxsize=1)
def feature_net() -> AttributeNet:
    """The shipped attribute net, or one trained on the starter corpus and cached."""
    if SHIPPED_NET.is_dir():
        return AttributeNet.from_pretrained(SHIPPED_NET)
    cached = cache_root() / "attribute-net-64-v1"
    if cached.is_dir():
        return AttributeNet.from_pretrained(cached)
    return train_feature_net(cached)


_folder_cache: dict[tuple[str, int], Corpus] = {}


def check_training_data(data: str, resolution: int) -> None:
    """Fail early (before any flow starts) on a missing or unusable photo folder."""
    if data != "builtin":
        _folder_cache[(data, resolution)] = load_folder(Path(data), resolution)


def load_training_data(data: str, resolution: int, corpus_size: int, seed: int) -> Corpus:
    if data == "builtin":
        return build_corpus(corpus_size, resolution, seed)
    key = (data, resolution)
    return _folder_cache.pop(key) if key in _folder_cache else load_folder(Path(data), resolution)


def reference_set(resolution: int, n: int) -> Corpus:
    return build_corpus(n, resolution, REFERENCE_SEED)


def sample_like(model: AvatarGAN, labels: dict[str, np.ndarray]) -> np.ndarray:
    """Fakes with exactly the reference set's conditions, so distributions are comparable."""
    y = labels_matrix({k: labels[k] for k in CONDITIONS})
    seeds = np.arange(FAKE_SEED_BASE, FAKE_SEED_BASE + len(y), dtype=np.uint64)
    return model.sample(y, seeds)


def quick_metrics(model: AvatarGAN, corpus: Corpus, out: str, n: int = 500) -> dict[str, float]:
    """Cheap per-checkpoint numbers: KID on n vs n and attribute accuracy."""
    ref = reference_set(model.config.resolution, n)
    fakes = sample_like(model, ref.labels)
    net = feature_net()
    k, _ = kid(embed(net, ref.images), embed(net, fakes), subsets=20, subset_size=n)
    acc = attribute_accuracy(net, fakes, {c: ref.labels[c] for c in CONDITIONS})
    return {"kid": k, **{f"attr_acc_{c}": v for c, v in acc.items()}}


def _train_images(checkpoint: Path, resolution: int, limit: int = 5000) -> np.ndarray:
    """The images the checkpoint was trained on (for the memorization check), up to limit."""
    cfg_file = checkpoint / "training" / "train_config.json"
    if not cfg_file.is_file():
        raise ProfilegenError(f"{checkpoint} has no training/train_config.json: cannot tell "
                              f"what it was trained on")  # fmt: skip
    tc = json.loads(cfg_file.read_text())
    corpus = load_training_data(tc["data"], resolution, tc["corpus_size"], tc["seed"])
    return corpus.images[:limit]


def evaluate_checkpoint(
    checkpoint: str | Path,
    baseline: str | Path | None = None,
    n: int = 2000,
    inception_weights: str | None = None,
    out: str | Path | None = None,
) -> dict[str, Any]:
    """Full metrics for a checkpoint (and a baseline), written to `out` (a JSON file) when
    given: the training flow writes its new checkpoint's eval.json, `eval-avatars` writes
    only where it is told (never over a shipped checkpoint's files by default)."""
    checkpoint = Path(checkpoint)
    if n < 10:
        raise ProfilegenError(f"--n must be at least 10, got {n}")
    set_torch_threads()
    model = AvatarGAN.from_pretrained(checkpoint)
    res = model.config.resolution
    ref = reference_set(res, n)
    net = feature_net()

    def one(path: Path, m: AvatarGAN) -> dict[str, Any]:
        if m.config.resolution != res:
            raise ProfilegenError(f"{path} is {m.config.resolution} px, {checkpoint} is {res} px")
        fakes = sample_like(m, ref.labels)
        labels = {c: ref.labels[c] for c in CONDITIONS}
        result = evaluate_all(net, ref.images, fakes, labels, _train_images(path, res),
                              inception_weights=inception_weights)  # fmt: skip
        return {"checkpoint": str(path), "arch": m.config.arch, **result}

    metrics = one(checkpoint, model)
    metrics["attribute_net_heldout_accuracy"] = net.meta.get("heldout_accuracy", {})
    if baseline:
        metrics["baseline"] = one(Path(baseline), AvatarGAN.from_pretrained(baseline))
    if out is not None:
        text = json.dumps(metrics, indent=2, sort_keys=True, default=float) + "\n"
        atomic_write(out, text)
    return metrics


ROWS = [
    ("KID (lower is better)", "kid", "{:.4f}"),
    ("FID (attribute-net features)", "fid", "{:.2f}"),
    ("precision (k=3)", "precision", "{:.3f}"),
    ("recall (k=3)", "recall", "{:.3f}"),
    ("density", "density", "{:.3f}"),
    ("coverage", "coverage", "{:.3f}"),
    ("attribute accuracy: gender", "attr_acc_gender", "{:.3f}"),
    ("attribute accuracy: age band", "attr_acc_age_band", "{:.3f}"),
    ("attribute accuracy: skin", "attr_acc_skin", "{:.3f}"),
    ("attribute accuracy: mean", "attr_acc_mean", "{:.3f}"),
    ("near-copies of training images", "near_copy_fraction", "{:.4f}"),
]


def format_metrics(metrics: dict[str, Any]) -> str:
    base = metrics.get("baseline")
    head = "| metric | this checkpoint |" + (" baseline |" if base else "")
    lines = [head, "|---|---:|" + ("---:|" if base else "")]
    for label, key, fmt in ROWS:
        row = f"| {label} | {fmt.format(metrics[key])} |"
        if base:
            row += f" {fmt.format(base[key])} |"
        lines.append(row)
    lines.append("")
    lines.append(f"Feature space: {metrics['feature_space']}; {metrics['n_fake']} generated vs "
                 f"{metrics['n_real']} held-out real images.")  # fmt: skip
    return "\n".join(lines)


def recipe(tc: dict) -> str:
    """The losses and augmentation of a run, in words (older runs lack the newer keys)."""
    if tc.get("arch") == "seed-mlp":
        return "Losses: non-saturating BCE, no augmentation (the seed document's baseline)."
    aux = tc.get("aux_weight", 0.0)
    color = tc.get("color_augment", True)
    return (
        "Losses: hinge, with a projection discriminator for the conditions"
        + (f" and an auxiliary classifier on D's features (AC-GAN; cross-entropy weight "
           f"{aux:g}: D learns the labels of real images, G is scored on the labels it was "
           f"asked for)" if aux else "")
        + f"; mode seeking (weight {tc.get('ms_weight', 0):g}). DiffAugment on real and fake: "
        + ("color, translation, cutout." if color else "translation and cutout; no color "
           "jitter, which would turn a dark skin tone into a medium one under D's eyes.")
    )  # fmt: skip


def write_model_card(checkpoint: str | Path, metrics: dict[str, Any], baseline=None) -> str:
    """README.md beside the weights: how it was trained, what it scores, what it is for."""
    checkpoint = Path(checkpoint)
    model = AvatarGAN.from_pretrained(checkpoint)
    runs_file = checkpoint / "training" / "run.json"
    runs = json.loads(runs_file.read_text()) if runs_file.is_file() else []
    tc = json.loads((checkpoint / "training" / "train_config.json").read_text())
    grids = sorted((checkpoint / "samples").glob("step-*.png"))
    size_mb = (checkpoint / "model.safetensors").stat().st_size / 1e6
    history = "\n".join(
        f"- `{r['command']}`: {r['train_config']['steps']:,} steps of batch "
        f"{r['train_config']['batch']} ({r['train_config']['steps'] * r['train_config']['batch']:,}"
        f" images seen), {r['wall_seconds'] / 60:.1f} min wall, {r['img_per_s']:.0f} img/s, "
        f"on {r['hardware']}"
        for r in runs
    )
    cfg = model.config
    arch = json.dumps({k: v for k, v in vars(cfg).items() if k not in ("data", "conditions")})
    eval_cmd = f"profilegen eval-avatars {checkpoint}" + (
        f" --baseline {baseline}" if baseline else ""
    )
    card = f"""# Avatar GAN: `{checkpoint.name}`

A {cfg.resolution} px conditional GAN (`{cfg.arch}`) that draws cartoon profile pictures for
profilegen's synthetic profiles, conditioned on {", ".join(CONDITIONS)}. Every image it makes
is synthetic; profilegen marks each PNG as such in its text chunks.

## Training
{history or "- (no training log)"}

Data: {cfg.data}

Training config: `{json.dumps(tc, sort_keys=True)}`

{recipe(tc)}

Architecture: `{arch}`,
weights {size_mb:.1f} MB (EMA generator only, safetensors).

## Evaluation (`{eval_cmd}`)
{format_metrics(metrics)}

The attribute network's own accuracy on held-out real avatars (the ceiling for attribute
accuracy): {json.dumps(metrics.get("attribute_net_heldout_accuracy", {}))}. A checkpoint can
read back above it: it then draws a condition's cues more consistently than the corpus does
(every 65+ grey-haired, say), which the classifier finds easier than the corpus's own mix.
Near-copies: generated images whose nearest training image is closer than the 1st
percentile of training images' distances to each other (feature and pixel space; the
larger of the two is reported).

{f"![samples](samples/{grids[-1].name})" if grids else ""}

Rows of the grid: (female, male) x age bands 13-24, 25-44, 45-64, 65+; columns cycle skin
tone light, medium, dark.

## Intended use and limits
Profile pictures for synthetic test data and demos. The starter corpus is cartoon art
(python-avatars, MIT; Avataaars art free for personal and commercial use), so the avatars
are cartoons, not photos. Gender presentation and age are conveyed by hair, facial hair and
hair colour as in the corpus; they are stereotypes of the art style.
"""
    atomic_write(checkpoint / "README.md", card)
    return card
