"""From a dataset to a detector's training loop, through the libraries that do the work:
Hugging Face `datasets` reads the tables (the avatar decoded by its Image feature), PyTorch
batches them, the follow graph becomes an `edge_index` tensor.

    from pipeline.export.loaders import detector_loader, follow_edge_index
    for images, numeric, labels in detector_loader("output/bots", split="train"):
        ...                                       # (B, 3, 64, 64), (B, 6), (B,) with 1 = bot
    edge_index, user_ids = follow_edge_index("output/bots")   # (2, E) rows of user_ids

`datasets` is a dev extra: without it these raise ProfilegenError with the install line.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from pipeline.dataset.writer import PROFILES, shard_file
from pipeline.errors import ProfilegenError

# The numbers a detector gets by default: the declared and the in-dataset counts, as
# log1p (they are heavy-tailed).
NUMERIC = ("followers_count", "following_count", "posts_count", "followers_in_dataset",
           "following_in_dataset", "posts_in_dataset")  # fmt: skip
IMAGE_SIZE = 64  # the shipped avatar GAN's; rows without an avatar get a black image


def _datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise ProfilegenError(
            "the loaders need Hugging Face datasets: .venv/bin/pip install datasets "
            "(or the dev extra: .venv/bin/pip install -e '.[dev]')"
        ) from None
    return datasets


def load_hf_dataset(directory: str, table: str = PROFILES, split: str | None = None,
               cache_dir: str | None = None) -> Any:  # fmt: skip
    """One table of a dataset as a `datasets.Dataset`: the card's config of that name (its
    files data/<table>/train-*.parquet), typed by the shards' own Hugging Face features, so
    `avatar` is an Image and decodes to PIL. `split` keeps the profiles of one of the
    accounts stage's splits (train, validation, test)."""
    datasets = _datasets()
    files = f"{str(directory).rstrip('/')}/{shard_file(0, 1, table).rsplit('/', 1)[0]}"
    ds = datasets.load_dataset("parquet", data_files={"train": f"{files}/train-*.parquet"},
                               split="train", cache_dir=cache_dir)  # fmt: skip
    if split is not None:
        ds = ds.filter(lambda s: [x == split for x in s], input_columns="split", batched=True)
    return ds


def detector_dataset(directory: str, split: str | None = "train",
                     features: Sequence[str] = NUMERIC, image_size: int = IMAGE_SIZE,
                     cache_dir: str | None = None) -> Any:  # fmt: skip
    """The profiles (of `split`) with a transform to tensors: each row is {"image": (3, S, S)
    float in [0, 1], "numeric": (F,) log1p of `features`, "label": 1 for a bot, 0 for a
    human (decoys included)}; images decode lazily, row by row."""
    features = list(features)
    ds = load_hf_dataset(directory, PROFILES, split, cache_dir)
    has_image = "avatar" in ds.column_names
    columns = (["avatar"] if has_image else []) + features + ["account_type"]

    def to_tensors(batch: dict) -> dict:
        n = len(batch["account_type"])
        images = batch["avatar"] if has_image else [None] * n
        numeric = np.array([batch[f] for f in features], dtype=np.float32).T.reshape(n, -1)
        return {
            "image": torch.stack([_image(a, image_size) for a in images]),
            "numeric": torch.log1p(torch.from_numpy(numeric)),
            "label": torch.tensor([t != "human" for t in batch["account_type"]], dtype=torch.long),
        }

    return ds.with_transform(to_tensors, columns=columns)


def detector_loader(directory: str, split: str | None = "train", batch_size: int = 64,
                    shuffle: bool | None = None, features: Sequence[str] = NUMERIC,
                    image_size: int = IMAGE_SIZE, cache_dir: str | None = None,
                    **loader_args: Any) -> DataLoader:  # fmt: skip
    """A DataLoader of (images (B, 3, S, S), numeric (B, F), labels (B,)) batches over the
    profiles of `split` (see detector_dataset); shuffled for train unless told otherwise.
    Extra keyword arguments go to DataLoader (num_workers, ...)."""
    ds = detector_dataset(directory, split, features, image_size, cache_dir)
    return DataLoader(ds, batch_size=batch_size, collate_fn=_collate,
                      shuffle=split == "train" if shuffle is None else shuffle,
                      **loader_args)  # fmt: skip


def follow_edge_index(
    directory: str, user_ids: Sequence[int] | None = None, cache_dir: str | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The follows table as a PyTorch Geometric-style `edge_index` (2, E) of rows:
    edge_index[0] the follower's row, edge_index[1] the followee's (the direction a post
    travels is the reverse). Rows index `user_ids`, the profiles table's order by default
    (the order of detector_dataset(directory, split=None)). Returns (edge_index, user_ids)."""
    if user_ids is None:
        profiles = load_hf_dataset(directory, PROFILES, cache_dir=cache_dir)
        user_ids = profiles.select_columns(["user_id"]).with_format("numpy")[:]["user_id"]
    ids = np.asarray(user_ids, dtype=np.int64)
    follows = load_hf_dataset(directory, "follows", cache_dir=cache_dir)
    f = follows.select_columns(["follower_id", "followee_id"]).with_format("numpy")[:]
    order = np.argsort(ids, kind="stable")
    rows = []
    for col in ("follower_id", "followee_id"):
        at = np.searchsorted(ids, f[col], sorter=order)
        at = np.minimum(at, len(ids) - 1)
        if len(f[col]) and (ids[order[at]] != f[col]).any():
            raise ProfilegenError(f"{directory}: a follow of a user not in user_ids")
        rows.append(order[at])
    return torch.from_numpy(np.stack(rows)).long(), torch.from_numpy(ids)


def _image(avatar: Any, size: int) -> torch.Tensor:
    if avatar is None:
        return torch.zeros(3, size, size)
    img = avatar.convert("RGB")
    if img.size != (size, size):
        img = img.resize((size, size))
    return torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1) / 255.0


def _collate(rows: list[dict]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return tuple(torch.stack([r[k] for r in rows]) for k in ("image", "numeric", "label"))
