"""`profilegen eval-detector` as a user runs it: on a small dataset with bots the forest
finds easy bots and misses hard ones (the difficulty is a dial), the second model sees the
hard bots' behaviour, the numbers are the same every run, the card gets one "Detector
baseline" section, and bad input is one line and exit 2."""

import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from flows.cli import app
from pipeline.detect.report import SECTION, evaluate_dataset

pytest.importorskip("pipeline.accounts", reason="needs the accounts stage's labels")


def _fake_embed(texts, batch: int = 64) -> np.ndarray:
    rng = np.random.default_rng(len(texts))
    e = rng.normal(size=(len(texts), 8))
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def _dataset(tmp_path_factory, difficulty: str):
    """1,000 profiles, 30% bots. The card's MiniLM metrics (bio and reply cosines: a minute
    of CPU, nothing the detector reads) get a stand-in embedding."""
    from pipeline import write_dataset
    from pipeline.config import build_config

    out = tmp_path_factory.mktemp(f"detect-{difficulty}") / "d"
    cfg = build_config(None, rows=1000, shard_rows=500, seed=3, avatars="none",
                       bios="template", posts="template", bot_share=0.3,
                       bot_difficulty=difficulty, out=str(out))  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("pipeline.lm.embed.embed", _fake_embed)
        write_dataset(cfg, "auto", out)
    return out


@pytest.fixture(scope="module")
def easy(tmp_path_factory):
    return _dataset(tmp_path_factory, "easy")


@pytest.fixture(scope="module")
def hard(tmp_path_factory):
    return _dataset(tmp_path_factory, "hard")


@pytest.fixture(scope="module")
def reports(easy, hard):
    return {"easy": evaluate_dataset(easy), "hard": evaluate_dataset(hard)}


def test_the_forest_finds_easy_bots_and_misses_hard_ones(reports):
    f1 = {d: r["models"]["forest"]["test"]["f1"] for d, r in reports.items()}
    assert f1["easy"] >= 0.9 and f1["easy"] > f1["hard"] + 0.2, f1
    assert reports["hard"]["dataset"]["bot_difficulty"] == "hard"


def test_the_second_model_beats_the_forest_at_hard(reports):
    m = reports["hard"]["models"]
    assert m["boosting"]["test"]["f1"] > m["forest"]["test"]["f1"] + 0.1
    assert m["boosting"]["test"]["roc_auc"] > m["forest"]["test"]["roc_auc"]


def test_the_report_says_what_was_trained_and_scored(reports):
    r = reports["easy"]
    d = r["dataset"]
    assert d["rows"] == 1000 and d["bot_share"] == 0.3 and d["tables"] == ["profiles", "follows",
                                                                            "posts"]  # fmt: skip
    assert sum(s["accounts"] for s in d["splits"].values()) == 1000
    assert r["botometer_lite"]["left_out"] == [
        "favourites_count", "listed_count", "profile_use_background_image",
        "favourites_growth_rate", "listed_growth_rate",
    ]  # fmt: skip
    for m in r["models"].values():
        assert set(m["test"]) == {"accuracy", "precision", "recall", "f1", "roc_auc"}
        classes = m["per_class"]
        assert {"spammer", "fake_follower", "astroturf", "human", "decoy"} <= set(classes)
        assert "false_positive_rate" in classes["human"] and "recall" in classes["spammer"]
        assert (
            sum(v["accounts"] for k, v in classes.items() if k != "decoy")
            == (d["splits"]["test"]["accounts"])
        )
        labels = {"account_type", "campaign_id", "split", "decoy"}
        assert not labels & set(m["features"])


def test_same_dataset_same_numbers(easy, reports):
    assert evaluate_dataset(easy) == reports["easy"]


def test_cli_prints_the_table_and_writes_the_report_and_the_card(tmp_path, easy, reports):
    d = tmp_path / "d"
    shutil.copytree(easy, d)
    for _ in range(2):  # the second run replaces the section
        r = CliRunner().invoke(app, ["eval-detector", str(d), "--json", str(tmp_path / "m.json")])
        assert r.exit_code == 0, r.output
    assert "| f1 |" in r.output and "recall: fake_follower" in r.output
    assert json.loads((d / "detector.json").read_text()) == reports["easy"]
    assert json.loads((tmp_path / "m.json").read_text()) == reports["easy"]
    card = (d / "README.md").read_text()
    assert card.count(SECTION) == 1 and card.index(SECTION) < card.index("## Intended use")
    assert "15 of BotometerLite's 20" in card and "| f1 |" in card


def _runs(args):
    r = CliRunner().invoke(app, ["eval-detector", *args])
    lines = r.output.strip().splitlines()
    return r.exit_code, lines


def test_not_a_dataset(tmp_path):
    code, lines = _runs([str(tmp_path / "nothing")])
    assert code == 2 and len(lines) == 1 and "no finished profilegen dataset" in lines[0]


def test_a_dataset_without_bots(tmp_path, small_cfg, write_dataset):
    write_dataset(small_cfg(rows=20, shard_rows=20, bots="none"), tmp_path / "d")
    code, lines = _runs([str(tmp_path / "d")])
    assert code == 2 and len(lines) == 1 and "no account_type" in lines[0], lines


def test_a_split_without_bots(tmp_path, hard):
    d = tmp_path / "d"
    shutil.copytree(hard, d)
    for shard in sorted((d / "data" / "profiles").glob("*.parquet")):
        t = pq.read_table(shard)
        test = pc.equal(t["split"], "test")
        kind = pc.if_else(test, pa.scalar("human"), t["account_type"])
        t = t.set_column(t.schema.get_field_index("account_type"), "account_type", kind)
        pq.write_table(t, shard)
    code, lines = _runs([str(d)])
    assert code == 2 and len(lines) == 1 and "the test split has no bots" in lines[0], lines
    assert not (d / "detector.json").exists()


def test_a_broken_shard(tmp_path, hard):
    d = tmp_path / "d"
    shutil.copytree(hard, d)
    shard = next((d / "data" / "posts").glob("*.parquet"))
    shard.write_bytes(shard.read_bytes()[:100])
    code, lines = _runs([str(d)])
    assert code == 2 and len(lines) == 1 and "cannot read the dataset" in lines[0], lines
    assert not (d / "detector.json").exists()


def test_the_section_is_put_before_intended_use_or_at_the_end_and_replaced(tmp_path, reports):
    from pipeline.detect.report import write_results

    for card in ("# Card\n\n## Posts\nposts\n\n## Intended use\nuse\n", "# Card\n\n## Posts\n"):
        (tmp_path / "README.md").write_text(card)
        write_results(tmp_path, reports["hard"])
        write_results(tmp_path, reports["easy"])
        got = (tmp_path / "README.md").read_text()
        assert got.count(SECTION) == 1 and "bot_difficulty easy" in got
        assert "bot_difficulty hard" not in got and got.startswith("# Card\n\n## Posts\n")
        if "## Intended use" in card:
            assert got.endswith("## Intended use\nuse\n")
    assert (tmp_path / "detector.json").exists()
