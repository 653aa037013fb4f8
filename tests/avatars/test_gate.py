"""The avatar gate (`avatar_retries`): avatars whose read-back disagrees with the row are drawn
again, with the shipped GAN and the shipped attribute net, as `generate` runs them."""

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from pipeline.avatars.conditions import CONDITIONS
from pipeline.avatars.evaluate import feature_net
from pipeline.avatars.gate import GATE_BATCH, gated_sample
from pipeline.avatars.metrics import predict
from pipeline.avatars.stage import DEFAULT_CHECKPOINT, load_avatar_model, make_avatars
from pipeline.errors import ProfilegenError

CKPT = str(DEFAULT_CHECKPOINT)


def decoded(avatar: pa.Array) -> np.ndarray:
    return np.stack([np.asarray(Image.open(io.BytesIO(a["bytes"])).convert("RGB"))
                     for a in avatar.to_pylist()])  # fmt: skip


def asked(attrs: pa.Array) -> np.ndarray:
    """(n, n_conditions) labels the avatars were made for, from avatar_attributes."""
    rows = attrs.to_pylist()
    return np.array([[CONDITIONS[c].index(r[c]) for c in CONDITIONS] for r in rows])


def read_back(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(n, n_conditions) bool: the shipped net reads the condition the image was made for."""
    pred = predict(feature_net(), images)
    return np.stack([pred[c] == labels[:, j] for j, c in enumerate(CONDITIONS)], 1)


@pytest.fixture(scope="module")
def shard():
    """One shard of GATE_BATCH rows (the size at which the ungated sampler's batch is the
    gate's first one), made with the gate off and on."""
    from pipeline.config import build_config
    from pipeline.identity.engine import make_identities

    cfg = build_config(None, rows=GATE_BATCH, shard_rows=GATE_BATCH, seed=21,
                       locales="en_US:0.4,hi_IN:0.3,pt_BR:0.3")  # fmt: skip
    rows = make_identities(cfg, 0)
    return rows, make_avatars(rows, 21, 0, CKPT, None), make_avatars(rows, 21, 0, CKPT, None, 3)


def test_the_gate_raises_read_back_agreement_and_counts_it_honestly(shard):
    _, (avatar0, attrs0, counts0), (avatar3, attrs3, counts) = shard
    assert counts0 is None  # no gate, nothing counted
    labels = asked(attrs3)
    assert np.array_equal(labels, asked(attrs0))  # the gate redraws images, not conditions
    before = read_back(decoded(avatar0), labels)
    after = read_back(decoded(avatar3), labels)
    # All three conditions read back right: from about one avatar in five to about one in two.
    assert after.all(1).mean() >= before.all(1).mean() + 0.2
    for j, c in enumerate(CONDITIONS):
        assert after[:, j].mean() >= before[:, j].mean(), c
    # The counts are what the written PNGs read back as, before and after.
    n = len(labels)
    assert counts["rows"] == n and counts["resampled"] == int((~before.all(1)).sum())
    assert counts["kept_all"] == int(after.all(1).sum())
    assert counts["kept_disagreeing"] == n - counts["kept_all"]
    for j, c in enumerate(CONDITIONS):
        assert counts[f"first_{c}"] == int(before[:, j].sum())
        assert counts[f"kept_{c}"] == int(after[:, j].sum())
    assert n + counts["resampled"] <= counts["draws"] <= 4 * n <= counts["drawn"] + 3 * n


def test_a_row_keeps_its_first_draw_when_it_reads_back_right(shard):
    # Attempt 0 is the latent a run without the gate draws, so a row whose first image
    # passes has, byte for byte, the avatar it had before the gate existed.
    _, (avatar0, attrs0, _), (avatar3, _, _) = shard
    labels = asked(attrs0)
    passed = read_back(decoded(avatar0), labels).all(1)
    fixed = ~passed & read_back(decoded(avatar3), labels).all(1)  # a redraw that passes
    b0, b3 = avatar0.field("bytes").to_pylist(), avatar3.field("bytes").to_pylist()
    assert passed.sum() >= 20 and fixed.sum() >= 20
    assert all(b0[i] == b3[i] for i in np.flatnonzero(passed))
    assert all(b0[i] != b3[i] for i in np.flatnonzero(fixed))


def test_a_rows_avatar_does_not_depend_on_the_rest_of_its_shard(shard):
    # The same rows gated as one shard, as two shards of another split, and among other rows:
    # each row's image and outcome depend on its own (seed, row, conditions) only.
    model, _ = load_avatar_model(CKPT)
    net = feature_net()
    rng = np.random.default_rng(4)
    n = 40
    labels = np.stack([rng.integers(0, len(v), n) for v in CONDITIONS.values()], 1)
    latents = rng.integers(0, 2**63, n, dtype=np.uint64)
    all_rows = np.ones(n, bool)
    whole, counts = gated_sample(model, net, labels, latents, 9, 100, 3, all_rows)
    again, _ = gated_sample(model, net, labels, latents, 9, 100, 3, all_rows)
    assert np.array_equal(whole, again)

    # A batch's size can move an image's last bit on a CPU: every call takes GATE_BATCH.
    sizes = []

    class Spy:
        config = model.config

        def sample(self, y, seeds, batch):
            sizes.append(len(y))
            return model.sample(y, seeds, batch=batch)

    def spy_net(x):
        sizes.append(len(x))
        return net(x)

    a, _ = gated_sample(Spy(), spy_net, labels[:15], latents[:15], 9, 100, 3, all_rows[:15])
    assert sizes and set(sizes) == {GATE_BATCH}
    b, _ = gated_sample(model, net, labels[15:], latents[15:], 9, 115, 3, all_rows[15:])
    assert np.array_equal(whole, np.concatenate([a, b]))
    # Rows 15.. of the split again, now behind rows that are not drawn (a bot's default image).
    wanted = np.r_[np.zeros(15, bool), np.ones(n - 15, bool)]
    c, cc = gated_sample(model, net, labels, latents, 9, 100, 3, wanted)
    assert np.array_equal(c[15:], b) and not c[:15].any() and cc["rows"] == n - 15
    assert counts["resampled"] > 0  # the split has redraws to place differently


def test_the_dataset_counts_its_redraws_in_receipts_manifest_and_card(small_cfg, tmp_path,
                                                                      write_dataset):  # fmt: skip
    cfg = small_cfg(rows=40, shard_rows=20, avatars="gan", bots="mixed", bot_share=0.3,
                    avatar_retries=2)  # fmt: skip
    write_dataset(cfg, tmp_path / "ds")
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    files = sorted((tmp_path / "ds" / "data" / "profiles").glob("*.parquet"))
    t = pa.concat_tables(pq.read_table(f) for f in files)
    shown = t.filter(t["avatar"].is_valid())  # bots keep the default image: never drawn
    assert 0 < shown.num_rows < 40
    counts = [s["avatars"] for s in manifest["shards"]]
    assert sum(c["rows"] for c in counts) == shown.num_rows
    ok = read_back(decoded(shown["avatar"]), asked(shown["avatar_attributes"]))
    m = manifest["metrics"]["avatars"]
    assert m["avatar_retries"] == 2 and m["avatars_gated"] == shown.num_rows
    assert m["readback_all"] == round(ok.all(1).mean(), 4)
    assert m["readback_gender"] == round(ok[:, 0].mean(), 4)
    assert m["resampled_share"] == round(sum(c["resampled"] for c in counts) / shown.num_rows, 4)
    card = (tmp_path / "ds" / "README.md").read_text()
    assert "## Avatars" in card and f"| all three | {m['readback_first_all']:.1%} |" in card
    prov = json.loads(pq.read_schema(files[0]).metadata[b"profilegen"])
    sha = cfg.dataset_fields()["avatar_readback_sha256"]
    assert prov["models"]["avatar_readback"]["sha256"] == sha


def test_zero_retries_hashes_and_writes_as_before_the_gate(small_cfg, tmp_path, write_dataset):
    on, off = small_cfg(avatars="gan"), small_cfg(avatars="gan", avatar_retries=0)
    gate_keys = {"avatar_retries", "avatar_readback_sha256"}
    assert gate_keys <= set(on.dataset_fields())
    assert off.dataset_fields() == {k: v for k, v in on.dataset_fields().items()
                                    if k not in gate_keys}  # fmt: skip
    # Without avatars the option is not hashed at all, whatever its value.
    assert small_cfg().config_hash == small_cfg(avatar_retries=0).config_hash
    cfg = small_cfg(rows=20, shard_rows=20, avatars="gan", avatar_retries=0)
    write_dataset(cfg, tmp_path / "ds")
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert "avatars" not in manifest["shards"][0] and "avatars" not in manifest.get("metrics", {})
    assert "## Avatars" not in (tmp_path / "ds" / "README.md").read_text()
    prov = json.loads(pq.read_schema(next((tmp_path / "ds" / "data" / "profiles").glob("*"))
                                     ).metadata[b"profilegen"])  # fmt: skip
    assert "avatar_readback" not in prov["models"]


@pytest.mark.parametrize("value, message", [
    (-1, "avatar_retries: Input should be greater than or equal to 0"),
    (11, "avatar_retries: Input should be less than or equal to 10"),
    (1.5, "avatar_retries: must be an integer, got 1.5"),
    ("many", "avatar_retries: must be an integer, got 'many'"),
])  # fmt: skip
def test_bad_retries_are_one_clear_line(small_cfg, value, message):
    with pytest.raises(ProfilegenError) as e:
        small_cfg(avatars="gan", avatar_retries=value)
    assert str(e.value) == message


def test_the_cli_refuses_bad_retries_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    r = CliRunner().invoke(app, ["generate", "--avatar-retries", "-2", "--out", str(tmp_path)])
    assert r.exit_code == 2
    assert r.output.strip() == "error: avatar_retries: Input should be greater than or equal to 0"


def test_a_missing_read_back_net_is_a_clear_error(small_cfg, monkeypatch, tmp_path):
    import pipeline.avatars.gate as gate

    monkeypatch.setattr(gate, "READBACK_NET", tmp_path / "attribute-net-64")
    with pytest.raises(ProfilegenError, match="reads avatars back with .* does not exist"):
        small_cfg(avatars="gan").dataset_fields()
    small_cfg(avatars="gan", avatar_retries=0).dataset_fields()  # the gate off needs no net
