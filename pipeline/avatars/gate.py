"""The avatar gate: an avatar whose attribute read-back disagrees with its row is drawn again.

Like the bio gate (pipeline/lm/gate.py), with the shipped attribute net as the judge
(models/attribute-net-64, the ruler of `eval-avatars`): it reads each image's gender, age
band and skin tone, and an image that reads back other than its row's conditions on any of
them is drawn again from a new latent of (seed, global row, attempt), up to
`avatar_retries` times. A row keeps its first image that reads back right; a row none of
whose 1 + avatar_retries images does keeps its best-agreeing one: the most conditions read
back right, then the highest joint probability of its own conditions, then the earliest.

The read-back decides which image a row keeps, so no image may depend on its batch: on a
CPU the batch's size changes the last bit of a few images and logits (measured with the
shipped GAN: one image in a batch of 37 rows was 1/255 off the same image in a batch of
256). Every GAN and attribute-net call therefore takes exactly GATE_BATCH images: the
shard's (row, attempt) pairs in attempt order, rows that already have an agreeing image
left out, so a batch's spare places hold the next attempts of rows still open rather than
padding (only the shard's last batch is padded). A row's image then depends on its seed,
row, conditions and the two checkpoints only, not on the shard layout or worker count.

torch is imported inside the functions: the config hash asks `readback_sha256` and must
not pay for it.
"""

import json
from pathlib import Path

import numpy as np

from pipeline.avatars.conditions import CONDITIONS
from pipeline.core.rng import row_seeds
from pipeline.core.stop import check_stop
from pipeline.core.weights import CONFIG_NAME, checkpoint_sha256
from pipeline.errors import ProfilegenError

READBACK_NET = Path(__file__).resolve().parents[2] / "models" / "attribute-net-64"
GATE_BATCH = 256  # images per GAN / attribute-net call, always (see above)
# row_seeds salts of the redraws' latents (attempt a uses SALT + a); attempt 0 is the
# stage's own latent, the one a run without the gate draws.
SALT = 0xA7A0


def readback_sha256() -> str:
    """The read-back net's checkpoint hash, for the config hash: files only, no torch."""
    if not READBACK_NET.is_dir():
        raise ProfilegenError(f"avatar_retries reads avatars back with {READBACK_NET}, which "
                              f"does not exist: restore it or pass --avatar-retries 0")  # fmt: skip
    return checkpoint_sha256(READBACK_NET)


def readback_heldout() -> dict[str, float]:
    """The net's own accuracy on held-out real avatars (its config.json), to read its
    figures against."""
    return json.loads((READBACK_NET / CONFIG_NAME).read_text())["heldout_accuracy"]


def _read_back(net, images: np.ndarray, want: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ok (n, n_conditions) bool: read back as asked, joint log-probability of the asked
    conditions (n,)) for uint8 images and their (n, n_conditions) labels."""
    import torch
    import torch.nn.functional as F

    from pipeline.avatars.metrics import _to_tensor

    with torch.inference_mode():
        _, logits = net(_to_tensor(images))
    ok = np.ones(want.shape, bool)
    logp = np.zeros(len(want), np.float64)
    for j, k in enumerate(CONDITIONS):
        if k in logits:  # a net trained on fewer conditions judges only those
            lp = F.log_softmax(logits[k].float(), dim=1).numpy()
            ok[:, j] = lp.argmax(1) == want[:, j]
            logp += lp[np.arange(len(want)), want[:, j]]
    return ok, logp


def _next_pairs(open_: np.ndarray, nxt: np.ndarray, retries: int) -> tuple[np.ndarray, ...]:
    """Up to GATE_BATCH (rows, attempts) not drawn yet, of rows still open, attempt-major."""
    rows, attempts, left = [], [], GATE_BATCH
    for a in range(int(nxt[open_].min()), retries + 1):
        r = np.flatnonzero(open_ & (nxt <= a))[:left]
        rows.append(r)
        attempts.append(np.full(len(r), a))
        left -= len(r)
        if not left:
            break
    return np.concatenate(rows), np.concatenate(attempts)


def gated_sample(
    model, net, labels: np.ndarray, latents: np.ndarray, seed: int, rows_start: int,
    retries: int, wanted: np.ndarray,
) -> tuple[np.ndarray, dict[str, int]]:  # fmt: skip
    """(images (n, S, S, 3), counts) for a shard's rows: `latents` are attempt 0's seeds,
    `wanted` the rows that get an avatar (others stay black and are not counted)."""
    n, res = len(labels), model.config.resolution
    seeds = np.stack([latents] + [row_seeds(seed, rows_start, n, salt=SALT + a)
                                  for a in range(1, retries + 1)])  # fmt: skip
    images = np.zeros((n, res, res, 3), np.uint8)
    n_cond = len(CONDITIONS)
    best = np.full(n, -1, np.int64)  # conditions read back right by the kept image
    best_logp = np.full(n, -np.inf)
    kept_ok = np.zeros((n, n_cond), bool)
    first_ok = np.zeros((n, n_cond), bool)
    nxt = np.where(wanted, 0, retries + 1)  # the next attempt to draw per row
    open_ = wanted.copy()
    # Draws a row needed (up to its first agreeing one), and images the GAN drew: more, as a
    # batch's spare places draw later attempts that an earlier one may make unneeded.
    used, drawn = np.zeros(n, np.int64), 0
    while open_.any():
        check_stop()
        rows, attempts = _next_pairs(open_, nxt, retries)
        k = len(rows)
        pad = GATE_BATCH - k  # only the shard's last batch: filler that is thrown away
        r_all, a_all = np.pad(rows, (0, pad)), np.pad(attempts, (0, pad))
        y = labels[r_all]
        imgs = model.sample(y, seeds[a_all, r_all], batch=GATE_BATCH)
        ok, logp = _read_back(net, imgs, y)
        imgs, ok, logp, drawn = imgs[:k], ok[:k], logp[:k], drawn + k
        # Attempt by attempt: a row whose earlier attempt in this batch agreed is done.
        for a in np.unique(attempts):
            i = np.flatnonzero((attempts == a) & open_[rows])
            r, m = rows[i], ok[i].sum(1)
            used[r] = a + 1
            if a == 0:
                first_ok[r] = ok[i]
            better = (m > best[r]) | ((m == best[r]) & (logp[i] > best_logp[r]))
            rb, ib = r[better], i[better]
            images[rb], best[rb], best_logp[rb] = imgs[ib], m[better], logp[ib]
            kept_ok[rb] = ok[ib]
            open_[r[m == n_cond]] = False
        nxt[rows] = np.maximum(nxt[rows], attempts + 1)
        open_ &= nxt <= retries
    counts = {"rows": int(wanted.sum()), "draws": int(used.sum()), "drawn": drawn,
              "resampled": int((wanted & ~first_ok.all(1)).sum()),
              "kept_disagreeing": int((wanted & ~kept_ok.all(1)).sum())}  # fmt: skip
    for j, c in enumerate(CONDITIONS):
        counts[f"first_{c}"] = int(first_ok[wanted, j].sum())
        counts[f"kept_{c}"] = int(kept_ok[wanted, j].sum())
    counts["first_all"] = int(first_ok[wanted].all(1).sum())
    counts["kept_all"] = int(kept_ok[wanted].all(1).sum())
    return images, counts


def gate_metrics(entries: list[dict], retries: int) -> dict | None:
    """Shares over the shards' gate counts (their receipts' "avatars" entries)."""
    counts = [e["avatars"] for e in entries if e.get("avatars")]
    if not counts:
        return None
    total = {k: sum(c[k] for c in counts) for k in counts[0]}
    rows = total["rows"] or 1
    out = {"avatar_retries": retries, "avatars_gated": total["rows"],
           "resampled_share": total["resampled"] / rows,
           "draws_per_avatar": total["draws"] / rows,
           "gan_images_per_avatar": total["drawn"] / rows,
           "kept_disagreeing_share": total["kept_disagreeing"] / rows}  # fmt: skip
    for c in [*CONDITIONS, "all"]:
        out[f"readback_first_{c}"] = total[f"first_{c}"] / rows
        out[f"readback_{c}"] = total[f"kept_{c}"] / rows
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def format_gate(m: dict) -> str:
    """The card's table: read-back agreement of the first draws and of the kept avatars."""
    names = {"gender": "gender", "age_band": "age band", "skin": "skin tone",
             "all": "all three"}  # fmt: skip
    heldout = readback_heldout()
    lines = ["| read back as the row's | first draw | kept | the net on real avatars |",
             "|---|---:|---:|---:|"]  # fmt: skip
    for c, name in names.items():
        top = f"{heldout[c]:.1%}" if c in heldout else ""
        lines.append(f"| {name} | {m[f'readback_first_{c}']:.1%} | {m[f'readback_{c}']:.1%} "
                     f"| {top} |")  # fmt: skip
    return "\n".join(lines)
