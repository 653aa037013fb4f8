"""Avatar metrics on synthetic data whose answers are known: shapes that encode the labels for
the attribute net, Gaussians for the distribution metrics, exact copies for memorization."""

import json
import time

import numpy as np
import pytest
import torch

from pipeline.avatars import metrics as am
from pipeline.avatars.conditions import CONDITIONS
from pipeline.errors import ProfilegenError

SKIN_RGB = np.array([[235, 200, 160], [190, 125, 70], [95, 60, 40]])


def shapes(n: int, seed: int, size: int = 32) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Noisy grey background with one shape: gender = disk / ring, age_band = size,
    skin = colour. Position and colour jitter so no single pixel gives the answer away."""
    rng = np.random.default_rng(seed)
    labels = {k: rng.integers(0, len(v), n) for k, v in CONDITIONS.items()}
    img = rng.integers(90, 150, (n, size, size, 3))
    s = size / 32
    r = (4 + 2.5 * labels["age_band"]) * s
    cx, cy = rng.uniform(12 * s, 20 * s, (2, n))
    yy, xx = np.mgrid[:size, :size]
    dx, dy = xx[None] - cx[:, None, None], yy[None] - cy[:, None, None]
    disk = dx**2 + dy**2 <= r[:, None, None] ** 2
    hole = dx**2 + dy**2 < (0.5 * r[:, None, None]) ** 2
    mask = disk & ~(hole & (labels["gender"][:, None, None] == 1))
    colour = SKIN_RGB[labels["skin"]] + rng.integers(-15, 16, (n, 3))
    img = np.where(mask[..., None], colour[:, None, None], img)
    return img.clip(0, 255).astype(np.uint8), labels


@pytest.fixture(scope="module")
def trained():
    images, labels = shapes(1600, seed=1)
    t = time.perf_counter()
    net = am.train_attribute_net(
        images, labels, steps=200, batch=64, seed=0, lr=3e-3, data="shapes"
    )
    print(f"\nattribute net: 200 steps x 64 in {time.perf_counter() - t:.1f}s, "
          f"held-out {net.meta['heldout_accuracy']}")  # fmt: skip
    return net


# ---- the attribute net -------------------------------------------------------------------


def test_attribute_net_learns_the_labels(trained):
    acc = trained.meta["heldout_accuracy"]
    assert set(acc) == set(CONDITIONS)
    assert min(acc.values()) > 0.9, acc
    images, labels = shapes(400, seed=2)
    pred = am.predict(trained, images)
    for k in CONDITIONS:
        assert pred[k].dtype == np.int64 and pred[k].shape == (400,)
        assert (pred[k] == labels[k]).mean() > 0.9, k


def test_one_net_serves_both_sizes(trained):
    small, labels = shapes(200, seed=3, size=64)
    big = small.repeat(2, axis=1).repeat(2, axis=2)  # the same pictures at 128 px
    e_small, e_big = am.embed(trained, small), am.embed(trained, big)
    assert e_small.shape == e_big.shape == (200, trained.dim) and e_small.dtype == np.float32
    pred = am.predict(trained, big)
    assert all((pred[k] == labels[k]).mean() > 0.85 for k in CONDITIONS)


def test_save_load_round_trip(trained, tmp_path):
    am.save_pretrained(trained, tmp_path / "net")
    cfg = json.loads((tmp_path / "net" / "config.json").read_text())
    assert cfg["format"] == am.FORMAT and cfg["embedding_dim"] == trained.dim
    assert cfg["conditions"] == {k: list(v) for k, v in CONDITIONS.items()}
    assert cfg["training"]["data"] == "shapes" and cfg["training"]["steps"] == 200
    assert cfg["heldout_accuracy"] == trained.meta["heldout_accuracy"]
    loaded = am.AttributeNet.from_pretrained(tmp_path / "net")
    images, _ = shapes(50, seed=4)
    assert np.array_equal(am.embed(trained, images), am.embed(loaded, images))
    assert loaded.meta == trained.meta


def test_from_pretrained_errors(trained, tmp_path):
    with pytest.raises(ProfilegenError, match="not an attribute-net checkpoint"):
        am.AttributeNet.from_pretrained(tmp_path / "missing")
    am.save_pretrained(trained, tmp_path / "net")
    (tmp_path / "net" / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ProfilegenError, match="corrupt"):
        am.AttributeNet.from_pretrained(tmp_path / "net")
    (tmp_path / "net" / "config.json").write_text("{")
    with pytest.raises(ProfilegenError, match="not a valid"):
        am.AttributeNet.from_pretrained(tmp_path / "net")


def test_training_is_deterministic_and_ignores_unknown_labels():
    images, labels = shapes(64, seed=5)
    labels["skin"][::2] = -1
    labels["age_band"][:] = -1  # a condition with no labels at all trains nothing, no NaN
    state = torch.random.get_rng_state()
    a = am.train_attribute_net(images, labels, steps=3, batch=16, seed=7)
    assert torch.equal(state, torch.random.get_rng_state())  # caller's RNG untouched
    b = am.train_attribute_net(images, labels, steps=3, batch=16, seed=7)
    c = am.train_attribute_net(images, labels, steps=3, batch=16, seed=8)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert all(torch.isfinite(v).all() for v in sa.values())
    assert a.meta["heldout_accuracy"]["age_band"] is None


@pytest.mark.parametrize(
    "images, labels, match",
    [
        (np.zeros((4, 32, 32, 3), np.float32), None, "uint8"),
        (np.zeros((4, 32, 32), np.uint8), None, "N x S x S x 3"),
        (None, {"gender": np.zeros(4, int)}, "lack conditions"),
        (None, {"hat": np.zeros(4, int)}, "unknown condition"),
        (
            None,
            {"gender": np.full(4, 2), "age_band": np.zeros(4, int), "skin": np.zeros(4, int)},
            "outside",
        ),  # fmt: skip
    ],
)
def test_training_input_errors(images, labels, match):
    good_images, good_labels = shapes(4, seed=0)
    images = good_images if images is None else images
    labels = good_labels if labels is None else labels
    with pytest.raises(ProfilegenError, match=match):
        am.train_attribute_net(images, labels, steps=1)


def test_attribute_accuracy(trained):
    images, labels = shapes(300, seed=6)
    acc = am.attribute_accuracy(trained, images, labels)
    assert set(acc) == {*CONDITIONS, "mean"} and acc["mean"] > 0.9
    wrong = {k: (v + 1) % len(CONDITIONS[k]) for k, v in labels.items()}
    assert am.attribute_accuracy(trained, images, wrong)["mean"] < 0.2
    as_array = np.stack([labels[k] for k in CONDITIONS], 1)  # AvatarGAN.sample's layout
    assert am.attribute_accuracy(trained, images, as_array) == acc


# ---- KID / FID against brute force -------------------------------------------------------


def brute_mmd2(x, y):
    d, m = x.shape[1], len(x)

    def k(a, b):
        return (float(np.dot(a, b)) / d + 1) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def brute_fid(x, y):
    """Via the symmetric form tr sqrt(S1^1/2 S2 S1^1/2), eigenvalues only."""
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    w, v = np.linalg.eigh(s1)
    r1 = v @ np.diag(np.sqrt(w.clip(0))) @ v.T
    tr = np.sqrt(np.linalg.eigvalsh(r1 @ s2 @ r1).clip(0)).sum()
    mu = x.mean(0) - y.mean(0)
    return mu @ mu + np.trace(s1) + np.trace(s2) - 2 * tr


def test_kid_and_fid_match_brute_force():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 3)), rng.normal(0.5, 1.5, size=(15, 3))
    # One subset of all 12 rows of each side: MMD is order-free, so it is exact.
    mean, std = am.kid(x, y[:12], subsets=1, subset_size=100)
    assert mean == pytest.approx(brute_mmd2(x, y[:12]), rel=1e-10) and std == 0
    assert am.fid(x, y) == pytest.approx(brute_fid(x, y), rel=1e-8)
    # 1-D closed form: (mu1 - mu2)^2 + (sigma1 - sigma2)^2.
    a, b = x[:, :1], y[:, :1]
    want = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert am.fid(a, b) == pytest.approx(want, rel=1e-8)


def test_kid_same_vs_shifted_and_unbiased():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(2000, 16))
    means = [am.kid(real, rng.normal(size=(2000, 16)), subsets=20, subset_size=500, seed=s)[0]
             for s in range(5)]  # fmt: skip
    assert max(abs(m) for m in means) < 2e-3
    assert min(means) < 0 < max(means) or abs(np.mean(means)) < 1e-3  # centred on 0
    shifted, _ = am.kid(real, rng.normal(0.3, 1, size=(2000, 16)), subsets=20, subset_size=500)
    assert shifted > 20 * max(abs(m) for m in means)


def test_kid_is_deterministic_with_a_seed():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(300, 8)), rng.normal(size=(250, 8))
    assert am.kid(x, y, subsets=5, subset_size=100, seed=3) == am.kid(
        x, y, subsets=5, subset_size=100, seed=3
    )
    assert am.kid(x, y, 5, 100, seed=3) != am.kid(x, y, 5, 100, seed=4)
    _, std = am.kid(x, y, subsets=5, subset_size=10_000)  # clipped to 250
    assert std > 0  # 250 of 300 real rows: subsets still differ


def test_fid_of_identical_sets_is_zero():
    x = np.random.default_rng(3).normal(size=(500, 32))
    assert am.fid(x, x.copy()) == pytest.approx(0, abs=1e-6)
    # Fewer samples than dimensions: singular covariances still give a finite answer.
    small = x[:10]
    assert np.isfinite(am.fid(small, small + 0.01)) and am.fid(small, small) < 1e-3


# ---- precision / recall / density / coverage ----------------------------------------------


def brute_prdc(x, y, k):
    def radii(a):
        d = np.linalg.norm(a[:, None] - a[None], axis=2)
        return np.sort(d, axis=1)[:, k]

    dyx = np.linalg.norm(y[:, None] - x[None], axis=2)  # fake x real
    rx, ry = radii(x), radii(y)
    precision = np.mean([(dyx[j] <= rx).any() for j in range(len(y))])
    recall = np.mean([(dyx[:, i] <= ry).any() for i in range(len(x))])
    density = (dyx <= rx[None]).sum() / (k * len(y))
    coverage = np.mean(dyx.min(0) <= rx)
    return precision, recall, density, coverage


def test_prdc_match_brute_force():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(60, 3)), rng.normal(0.4, 1.2, size=(50, 3))
    p, r, d, c = brute_prdc(x, y, 3)
    assert am.precision_recall(x, y, k=3) == pytest.approx((p, r))
    assert am.density_coverage(x, y, k=3) == pytest.approx((d, c))


def test_prdc_behaviour():
    rng = np.random.default_rng(5)
    real = rng.normal(size=(2000, 4))
    p, r = am.precision_recall(real, rng.normal(size=(2000, 4)))
    assert p > 0.9 and r > 0.9
    d, c = am.density_coverage(real, rng.normal(size=(2000, 4)))
    assert 0.8 < d < 1.2 and c > 0.9
    off = rng.normal(6, 1, size=(2000, 4))  # off the real manifold
    assert am.precision_recall(real, off)[0] < 0.05
    assert am.density_coverage(real, off) == pytest.approx((0, 0), abs=0.05)
    collapsed = rng.normal(0, 0.1, size=(2000, 4))  # one mode: faithful but not diverse
    p, r = am.precision_recall(real, collapsed)
    d, c = am.density_coverage(real, collapsed)
    assert p > 0.8 and r < 0.2 and c < 0.2  # density stays high: fakes sit in dense real balls
    assert d > 0.5


# ---- memorization -------------------------------------------------------------------------


def test_memorization_copies_vs_fresh():
    train_img, _ = shapes(400, seed=7)
    fresh_img, _ = shapes(200, seed=8)
    rng = np.random.default_rng(9)
    train_f = rng.normal(size=(400, 16))
    copies = am.memorization(train_f, train_f[:200], train_img, train_img[:200])
    assert copies["near_copy_fraction_feat"] == 1 and copies["near_copy_fraction_pixel"] == 1
    assert copies["near_copy_fraction"] == 1 and copies["nn_ratio_median"] < 1e-3
    fresh = am.memorization(train_f, rng.normal(size=(200, 16)), train_img, fresh_img)
    assert fresh["near_copy_fraction_feat"] < 0.05 and fresh["near_copy_fraction_pixel"] < 0.05
    assert fresh["near_copy_fraction"] < 0.05 and 0.7 < fresh["nn_ratio_median"] < 1.5
    feat_only = am.memorization(train_f, train_f[:10])
    assert feat_only["near_copy_fraction_pixel"] is None and feat_only["near_copy_fraction"] == 1


def test_memorization_with_duplicates_in_train_and_a_reference_sample():
    rng = np.random.default_rng(10)
    base = rng.normal(size=(300, 8))
    train = np.concatenate([base, base[:50]])  # duplicates put the 1st percentile at 0
    out = am.memorization(train, np.concatenate([base[:20], rng.normal(size=(20, 8))]),
                          ref_size=100)  # fmt: skip
    assert out["near_copy_fraction"] == pytest.approx(0.5, abs=0.05)


# ---- errors and the whole report ------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: am.kid(np.zeros((5, 3)), np.zeros((5, 4))), "differ in width"),
        (lambda: am.kid(np.zeros((1, 3)), np.zeros((5, 3))), "at least 2"),
        (lambda: am.fid(np.full((5, 3), np.nan), np.zeros((5, 3))), "NaN"),
        (lambda: am.precision_recall(np.zeros((3, 2)), np.zeros((3, 2)), k=3), "k must be"),
        (
            lambda: am.memorization(
                np.zeros((5, 2)), np.zeros((5, 2)), np.zeros((5, 8, 8, 3), np.uint8)
            ),
            "both",
        ),  # fmt: skip
    ],
)
def test_metric_input_errors(call, match):
    with pytest.raises(ProfilegenError, match=match):
        call()


def test_inception_hook_explains_what_it_needs():
    try:
        import torch_fidelity  # noqa: F401
    except ImportError:
        with pytest.raises(ProfilegenError, match="pip install torch-fidelity"):
            am.load_inception_features("/nonexistent/pt_inception.pth")
    else:
        with pytest.raises(ProfilegenError, match="not found"):
            am.load_inception_features("/nonexistent/pt_inception.pth")


def test_evaluate_all(trained):
    real, _ = shapes(300, seed=11)
    fake, requested = shapes(300, seed=12)
    out = am.evaluate_all(trained, real, fake, requested, real, kid_subsets=5, kid_subset_size=200)
    json.dumps(out)  # JSON-able as it is
    want = {"kid", "kid_std", "fid", "precision", "recall", "density", "coverage",
            "attr_acc_gender", "attr_acc_age_band", "attr_acc_skin", "attr_acc_mean",
            "near_copy_fraction", "near_copy_fraction_feat", "near_copy_fraction_pixel",
            "nn_ratio_median", "feature_space"}  # fmt: skip
    assert want <= set(out)
    assert out["feature_space"] == am.FEATURE_SPACE
    assert out["attr_acc_mean"] > 0.9 and out["precision"] > 0.5 and out["recall"] > 0.5
    assert out["near_copy_fraction"] < 0.1
    assert abs(out["kid"]) < 5 * out["kid_std"] + 1e-3
    copied = am.evaluate_all(trained, real, real[:100], {k: v[:100] for k, v in requested.items()},
                             real, kid_subsets=2, kid_subset_size=50)  # fmt: skip
    assert copied["near_copy_fraction"] == 1
