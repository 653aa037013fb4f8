"""The README's path from a dataset to training: datasets with the avatar decoded, a PyTorch
DataLoader of (image, numeric features, label), the follow graph as edge_index."""

import sys

import numpy as np
import pytest
import torch
from PIL import Image

from pipeline.dataset.validate import load_table
from pipeline.errors import ProfilegenError
from pipeline.export.loaders import (
    NUMERIC,
    detector_dataset,
    detector_loader,
    follow_edge_index,
    load_hf_dataset,
)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("hf-cache"))


def test_profiles_load_with_the_avatar_decoded(labelled, cache):
    p = load_table(labelled).to_pandas()
    ds = load_hf_dataset(labelled, cache_dir=cache)
    assert ds.num_rows == len(p) and type(ds.features["avatar"]).__name__ == "Image"
    first = ds[int(np.flatnonzero(p["avatar"].notna())[0])]["avatar"]
    assert isinstance(first, Image.Image) and first.size == (64, 64)
    assert ds[int(np.flatnonzero(p["avatar"].isna())[0])]["avatar"] is None  # default image
    test = load_hf_dataset(labelled, split="test", cache_dir=cache)
    assert test.num_rows == (p["split"] == "test").sum() > 0
    assert set(test["split"]) == {"test"}
    follows = load_hf_dataset(labelled, "follows", cache_dir=cache)
    assert follows.num_rows == load_table(labelled, "follows").num_rows


def test_a_dataloader_yields_image_numeric_label_batches(labelled, cache):
    p = load_table(labelled).to_pandas()
    train = p[p["split"] == "train"].reset_index(drop=True)
    batches = list(detector_loader(labelled, "train", batch_size=32, shuffle=False,
                                   cache_dir=cache))  # fmt: skip
    images, numeric, labels = (torch.cat(parts) for parts in zip(*batches, strict=True))
    assert images.shape == (len(train), 3, 64, 64) and images.dtype == torch.float32
    assert numeric.shape == (len(train), len(NUMERIC)) and labels.dtype == torch.long
    assert batches[0][0].shape[0] == 32
    assert 0 <= images.min() and images.max() <= 1
    assert labels.tolist() == list((train["account_type"] != "human").astype(int))
    expected = np.log1p(train[list(NUMERIC)].to_numpy(np.float32))
    assert np.allclose(numeric.numpy(), expected)
    blank = images.flatten(1).abs().sum(1) == 0
    assert blank.tolist() == list(train["avatar"].isna())  # no avatar: a black image
    # Shuffled by default for train; the same rows.
    shuffled = torch.cat([b[2] for b in detector_loader(labelled, "train", cache_dir=cache)])
    assert sorted(shuffled.tolist()) == sorted(labels.tolist())


def test_the_follow_graph_is_an_edge_index_of_profile_rows(labelled, cache):
    p = load_table(labelled, columns=["user_id", "followers_in_dataset", "following_in_dataset"])
    f = load_table(labelled, "follows")
    edge_index, user_ids = follow_edge_index(labelled, cache_dir=cache)
    assert edge_index.dtype == torch.long and edge_index.shape == (2, f.num_rows)
    assert user_ids.tolist() == p["user_id"].to_pylist()
    ids = user_ids.numpy()
    assert ids[edge_index[0]].tolist() == f["follower_id"].to_pylist()
    assert ids[edge_index[1]].tolist() == f["followee_id"].to_pylist()
    n = len(ids)
    assert (
        torch.bincount(edge_index[1], minlength=n).tolist() == p["followers_in_dataset"].to_pylist()
    )
    assert (
        torch.bincount(edge_index[0], minlength=n).tolist() == p["following_in_dataset"].to_pylist()
    )
    # Rows of the same order as the detector's dataset over every split.
    rows = detector_dataset(labelled, split=None, cache_dir=cache)
    assert len(rows) == n and rows[0]["label"].item() in (0, 1)


def test_without_datasets_the_loaders_say_how_to_install_it(labelled, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(ProfilegenError, match="pip install datasets"):
        load_hf_dataset(labelled)


def test_the_cards_profiles_config_loads(labelled, cache):
    import datasets

    ds = datasets.load_dataset(str(labelled), "profiles", split="train", cache_dir=cache)
    assert type(ds.features["avatar"]).__name__ == "Image"
