"""The avatar GAN: training, checkpoints, resume, sampling, and avatars in datasets."""

import io
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from PIL import Image

from pipeline.avatars.conditions import CONDITIONS
from pipeline.avatars.gan import AvatarGAN, GANConfig, build, diff_augment
from pipeline.avatars.train import TrainConfig, check_resume, train
from pipeline.errors import ProfilegenError


def tiny_data(n=48, size=64, seed=0):
    rng = np.random.default_rng(seed)
    labels = {k: rng.integers(0, len(v), n) for k, v in CONDITIONS.items()}
    # Images whose colour follows the gender label: enough signal to tell training ran.
    images = np.zeros((n, size, size, 3), np.uint8)
    images[labels["gender"] == 0] = (220, 60, 60)
    images[labels["gender"] == 1] = (60, 60, 220)
    images += rng.integers(0, 20, images.shape, dtype=np.uint8)
    return images, labels


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "gan"
    images, labels = tiny_data()
    train(TrainConfig(steps=4, batch=8, checkpoint_every=2), images, labels, out, "tiny test")
    return out


def weights(model: AvatarGAN) -> dict[str, torch.Tensor]:
    return model.generator.state_dict()


@pytest.mark.parametrize("arch", ["cgan", "seed-mlp"])
def test_resume_matches_an_uninterrupted_run(tmp_path, arch):
    images, labels = tiny_data()
    whole = train(TrainConfig(arch=arch, steps=4, batch=8, checkpoint_every=2), images, labels,
                  tmp_path / "whole", "t")  # fmt: skip
    train(TrainConfig(arch=arch, steps=2, batch=8, checkpoint_every=2), images, labels,
          tmp_path / "split", "t")  # fmt: skip
    resumed = train(TrainConfig(arch=arch, steps=4, batch=8, checkpoint_every=2), images,
                    labels, tmp_path / "split", "t", resume=True)  # fmt: skip
    a, b = weights(whole), weights(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # And training moved the weights away from their initialisation.
    torch.manual_seed(0)
    fresh = build(GANConfig(arch=arch))[0].state_dict()
    assert any(not torch.equal(fresh[k], a[k]) for k in a if a[k].dtype.is_floating_point)


def test_checkpoint_files_grid_and_metrics(tiny_checkpoint):
    out = tiny_checkpoint
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        "step-000002.png",
        "step-000004.png",
    ]
    grid = Image.open(out / "samples" / "step-000004.png")
    assert grid.size == (8 * 64, 8 * 64)  # 8 (gender x age band) rows of 8
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [2, 4]


def test_save_load_round_trip(tiny_checkpoint, tmp_path):
    model = AvatarGAN.from_pretrained(tiny_checkpoint)
    model.save_pretrained(tmp_path / "copy")
    again = AvatarGAN.from_pretrained(tmp_path / "copy")
    assert again.config == model.config
    y = np.array([[0, 1, 2], [1, 3, 0]])
    seeds = np.array([5, 6], dtype=np.uint64)
    assert np.array_equal(model.sample(y, seeds), again.sample(y, seeds))


def test_sampling_is_deterministic_per_image_and_conditioning_reaches_g(tiny_checkpoint):
    model = AvatarGAN.from_pretrained(tiny_checkpoint)
    y = np.array([[0, 0, 0]] * 4 + [[1, 3, 2]] * 4)
    seeds = np.arange(8, dtype=np.uint64) % 4
    imgs = model.sample(y, seeds)
    assert imgs.shape == (8, 64, 64, 3) and imgs.dtype == np.uint8
    # Same seed + labels -> same image, whatever else is in the batch.
    alone = model.sample(y[5:6], seeds[5:6])
    assert np.abs(alone[0].astype(int) - imgs[5].astype(int)).max() <= 1
    # Same noise, other conditions -> another image.
    assert not np.array_equal(imgs[:4], imgs[4:])


def test_diff_augment_keeps_shape_and_is_seeded():
    x = torch.rand(4, 3, 64, 64) * 2 - 1
    a = diff_augment(x, torch.Generator().manual_seed(1))
    b = diff_augment(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, x)


def test_bad_checkpoints(tiny_checkpoint, tmp_path):
    with pytest.raises(ProfilegenError, match="is not an avatar GAN checkpoint"):
        AvatarGAN.from_pretrained(tmp_path)
    broken = tmp_path / "broken"
    AvatarGAN.from_pretrained(tiny_checkpoint).save_pretrained(broken)
    data = (broken / "model.safetensors").read_bytes()
    (broken / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ProfilegenError, match="corrupt or of another architecture"):
        AvatarGAN.from_pretrained(broken)

    other = tmp_path / "other"
    AvatarGAN.from_pretrained(tiny_checkpoint).save_pretrained(other)
    cfg = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**cfg, "resolution": 128}))
    with pytest.raises(ProfilegenError, match="corrupt or of another architecture"):
        AvatarGAN.from_pretrained(other)
    (other / "config.json").write_text(json.dumps({**cfg, "conditions": {"gender": ["f", "m"]}}))
    with pytest.raises(ProfilegenError, match="other conditions"):
        AvatarGAN.from_pretrained(other)
    (other / "config.json").write_text("{not json")
    with pytest.raises(ProfilegenError, match="not a valid avatar GAN config"):
        AvatarGAN.from_pretrained(other)


def test_training_guards(tiny_checkpoint, tmp_path):
    with pytest.raises(ProfilegenError, match="already holds a training run"):
        check_resume(TrainConfig(steps=4, batch=8), tiny_checkpoint, resume=False)
    with pytest.raises(ProfilegenError, match="batch differ"):
        check_resume(TrainConfig(steps=8, batch=16), tiny_checkpoint, resume=True)
    check_resume(TrainConfig(steps=8, batch=8, checkpoint_every=2), tiny_checkpoint, resume=True)
    with pytest.raises(ProfilegenError, match="nothing to resume"):
        check_resume(TrainConfig(), tmp_path / "new", resume=True)
    with pytest.raises(ProfilegenError, match="resolution must be 64 or 128"):
        TrainConfig(resolution=96)
    with pytest.raises(ProfilegenError, match="unknown GAN architecture"):
        TrainConfig(arch="stylegan")
    with pytest.raises(ProfilegenError, match="--steps must be > 0"):
        TrainConfig(steps=0)


def test_nan_loss_stops_with_the_last_good_checkpoint(tmp_path, monkeypatch):
    import pipeline.avatars.train as avatar_train

    images, labels = tiny_data()
    out = tmp_path / "gan"
    train(TrainConfig(steps=2, batch=8, checkpoint_every=2), images, labels, out, "t")
    real_relu = torch.nn.functional.relu
    monkeypatch.setattr(avatar_train.F, "relu", lambda x: real_relu(x) * float("nan"))
    with pytest.raises(
        ProfilegenError, match=r"diverged at step 3 .* last good checkpoint \(step 2\)"
    ):
        train(TrainConfig(steps=4, batch=8, checkpoint_every=2), images, labels, out, "t",
              resume=True)  # fmt: skip
    assert torch.load(out / "training" / "state.pt", weights_only=False)["step"] == 2


def test_generate_writes_avatars_that_match_the_rows(
    tiny_checkpoint, small_cfg, tmp_path, write_dataset
):
    from datasets import load_dataset

    cfg = small_cfg(rows=40, shard_rows=20, avatars="gan", avatar_checkpoint=str(tiny_checkpoint))
    out = tmp_path / "ds"
    write_dataset(cfg, out)
    files = sorted(str(p) for p in (out / "data" / "profiles").glob("*.parquet"))
    meta = json.loads(pq.read_schema(files[0]).metadata[b"profilegen"])
    assert meta["models"]["avatar"]["sha256"] == cfg.dataset_fields()["avatar_model_sha256"]
    t = pq.read_table(files[0])
    for row in t.to_pylist():
        img = Image.open(io.BytesIO(row["avatar"]["bytes"]))
        assert img.size == (64, 64) and "synthetic" in img.text["Comment"].lower()
        attrs = row["avatar_attributes"]
        assert attrs["gender"] == row["gender"]
        band = CONDITIONS["age_band"][
            int(np.searchsorted([13, 25, 45, 65], row["age"], "right")) - 1
        ]
        assert attrs["age_band"] == band
    ds = load_dataset("parquet", data_files=files, split="train")
    assert isinstance(ds[0]["avatar"], Image.Image) and ds.num_rows == 40

    # Byte-identical on a second run; --avatar-size resizes.
    write_dataset(cfg, tmp_path / "again")
    assert (
        Path(files[0]).read_bytes()
        == (tmp_path / "again" / "data" / "profiles" / Path(files[0]).name).read_bytes()
    )
    big = small_cfg(rows=4, shard_rows=4, avatars="gan", avatar_checkpoint=str(tiny_checkpoint),
                    avatar_size=96)  # fmt: skip
    write_dataset(big, tmp_path / "big")
    row = pq.read_table(
        next((tmp_path / "big" / "data" / "profiles").glob("*.parquet"))
    ).to_pylist()[0]
    assert Image.open(io.BytesIO(row["avatar"]["bytes"])).size == (96, 96)


def test_missing_checkpoint_is_a_clear_error(small_cfg, tmp_path):
    with pytest.raises(ProfilegenError, match="avatar checkpoint .* does not exist"):
        small_cfg(avatars="gan", avatar_checkpoint=str(tmp_path / "nope")).dataset_fields()


def test_eval_avatars_leaves_the_shipped_checkpoint_as_shipped(tmp_path):
    # A README command must not dirty the checkout: metrics are printed, and written only
    # where the user says (--json), not over models/avatar-gan-64/eval.json.
    import subprocess
    import sys

    repo = Path(__file__).parents[2]
    shipped = repo / "models" / "avatar-gan-64"
    before = {p.name: p.read_bytes() for p in shipped.iterdir() if p.is_file()}
    r = subprocess.run(
        [sys.executable, "-m", "flows.cli", "eval-avatars", str(shipped), "--n", "12",
         "--json", str(tmp_path / "m.json")],
        capture_output=True, text=True, cwd=repo, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert "KID" in r.stdout and (tmp_path / "m.json").is_file()
    assert {p.name: p.read_bytes() for p in shipped.iterdir() if p.is_file()} == before


def test_a_baseline_of_another_resolution_is_refused_before_training(tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    repo = Path(__file__).parents[2]
    r = CliRunner().invoke(app, ["train-avatars", "--resolution", "128", "--steps", "5",
                                 "--baseline", str(repo / "models" / "seed-mlp-64"),
                                 "--out", str(tmp_path / "g")])  # fmt: skip
    assert r.exit_code == 2
    assert "is 64 px but --resolution is 128" in r.output
    assert not (tmp_path / "g").exists()


def test_diff_augment_without_color_keeps_the_colours():
    # Skin is a colour: with color jitter off, every pixel is an input pixel or zero
    # (translation's padding, cutout), so a dark face stays dark for D.
    x = torch.full((4, 3, 64, 64), -0.6)
    x[:, 0] = 0.3
    inputs = set(x.unique().tolist()) | {0.0}
    kept = diff_augment(x, torch.Generator().manual_seed(1), color=False)
    assert set(kept.unique().tolist()) <= inputs and not torch.equal(kept, x)
    jittered = diff_augment(x, torch.Generator().manual_seed(1), color=True)
    assert not set(jittered.unique().tolist()) <= inputs


def test_class_loss_leaves_unknown_labels_out():
    from pipeline.avatars.train import class_loss

    logits = [torch.randn(6, len(v)) for v in CONDITIONS.values()]
    y = torch.tensor([[0, 1, 2], [1, 3, 0], [-1, 0, 1], [0, -1, 2], [1, 2, -1], [-1, -1, -1]])
    want = 0.0
    for i, lg in enumerate(logits):
        known = y[:, i] >= 0
        want += torch.nn.functional.cross_entropy(lg[known], y[known, i]).item()
    assert class_loss(logits, y).item() == pytest.approx(want)
    # No label known at all: nothing to learn, not a NaN.
    assert class_loss(logits, torch.full((6, 3), -1)).item() == 0.0


@pytest.mark.parametrize("aux_weight", [1.0, 0.0])
def test_the_auxiliary_classifier_learns_the_conditions(tmp_path, aux_weight):
    # tiny_data's colour follows gender: D's gender head, trained on real images, reads it
    # after a few steps; with the auxiliary loss off its heads never move from their init.
    images, labels = tiny_data(n=64)
    train(TrainConfig(steps=30, batch=16, checkpoint_every=30, aux_weight=aux_weight,
                      lr=1e-3), images, labels, tmp_path, "t")  # fmt: skip
    torch.manual_seed(0)  # the training's own init (TrainConfig.seed)
    D = build(GANConfig())[1]
    init = {k: v.clone() for k, v in D.aux.state_dict().items()}
    D.load_state_dict(torch.load(tmp_path / "training" / "state.pt", weights_only=False)["D"])
    if not aux_weight:
        assert all(torch.equal(init[k], v) for k, v in D.aux.state_dict().items())
        return
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1
    y = torch.from_numpy(np.stack([labels[k] for k in CONDITIONS], axis=1))
    with torch.no_grad():
        _, logits = D(x, y, aux=True)
    assert (logits[0].argmax(1) == y[:, 0]).float().mean().item() > 0.9
