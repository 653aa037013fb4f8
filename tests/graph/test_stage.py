"""The follow graph as a user gets it: a `follows` table in a written dataset whose degrees
are the profiles' in-dataset counts, with a real network's shape, loadable by the usual
tools, and refused in one line when it can't be made."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipeline.dataset.validate import load_table, validate_dataset

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def ten_k(tmp_path_factory):
    """The issue's bar: a 10,000-profile dataset, fields only, with its follow graph."""
    from pipeline.config import build_config
    from tests.conftest import _write_dataset

    out = tmp_path_factory.mktemp("graph") / "d"
    cfg = build_config(None, rows=10_000, shard_rows=2_500, seed=3, avatars="none", posts="none",
                       bios="none", bots="none", out=str(out))  # fmt: skip
    _write_dataset(cfg, out)
    return out


def test_degrees_equal_the_in_dataset_columns_for_every_user(ten_k):
    p, f = load_table(ten_k), load_table(ten_k, "follows")
    index = {u: i for i, u in enumerate(p["user_id"].to_pylist())}
    src = np.array([index[u] for u in f["follower_id"].to_pylist()])
    dst = np.array([index[u] for u in f["followee_id"].to_pylist()])
    assert (np.bincount(dst, minlength=p.num_rows) == p["followers_in_dataset"].to_numpy()).all()
    assert (np.bincount(src, minlength=p.num_rows) == p["following_in_dataset"].to_numpy()).all()
    assert not (src == dst).any()
    assert len(set(zip(src.tolist(), dst.tolist(), strict=True))) == f.num_rows


def test_the_graph_has_a_real_networks_shape_measured_by_networkx(ten_k):
    import networkx as nx

    p, f = load_table(ten_k), load_table(ten_k, "follows")
    g = nx.DiGraph()
    g.add_nodes_from(p["user_id"].to_pylist())
    g.add_edges_from(zip(f["follower_id"].to_pylist(), f["followee_id"].to_pylist(),
                         strict=True))  # fmt: skip
    assert 0.30 <= nx.reciprocity(g) <= 0.45
    assert 0.08 <= nx.average_clustering(g.to_undirected()) <= 0.25
    indeg = np.array([d for _, d in g.in_degree()])
    assert indeg.max() / np.median(indeg) >= 10
    assert 20 <= f.num_rows / p.num_rows <= 40  # the default mean out-degree, LDBC's range
    # Homophily: same-country follows at >= 3x the share two random users would have.
    country = dict(zip(p["user_id"].to_pylist(), p["country_code"].to_pylist(), strict=True))
    same = np.mean([country[a] == country[b] for a, b in g.edges()])
    shares = np.unique(p["country_code"].to_numpy(zero_copy_only=False), return_counts=True)[1]
    assert same >= 3 * ((shares / shares.sum()) ** 2).sum()
    # Declared counts and in-dataset counts agree by rank.
    from scipy.stats import spearmanr

    assert spearmanr(p["followers_in_dataset"], p["followers_count"]).statistic >= 0.7


def test_the_metrics_in_the_manifest_match_networkx(ten_k):
    import networkx as nx

    m = json.loads((ten_k / "manifest.json").read_text())["metrics"]["graph"]
    f = load_table(ten_k, "follows")
    g = nx.DiGraph(zip(f["follower_id"].to_pylist(), f["followee_id"].to_pylist(), strict=True))
    assert m["edges"] == g.number_of_edges() == f.num_rows
    assert m["reciprocity"] == pytest.approx(nx.reciprocity(g), abs=1e-4)
    assert m["same_country_ratio"] >= 3
    assert m["same_city_ratio"] > m["same_country_ratio"]
    assert m["spearman_in_vs_followers_count"] >= 0.7
    assert "in_degree_tail_alpha" in m
    card = (ten_k / "README.md").read_text()
    assert "## Follows" in card and "`follower_id` follows `followee_id`" in card
    assert "config_name: follows" in card


def test_follow_times_are_after_both_accounts_and_before_the_reference_date(ten_k):
    checks = {c.name: c for c in validate_dataset(ten_k)}
    assert all(c.ok for c in checks.values()), [c for c in checks.values() if not c.ok]
    assert checks["follows after both accounts exist"].ok
    p, f = load_table(ten_k), load_table(ten_k, "follows")
    created = dict(zip(p["user_id"].to_pylist(), p["created_at"].to_pylist(), strict=True))
    t = f.slice(0, 2000).to_pylist()
    assert all(r["created_at"] > max(created[r["follower_id"]], created[r["followee_id"]])
               for r in t)  # fmt: skip
    reasons = set(f["reason"].to_pylist())
    assert {"place", "interest", "follow_back"} <= reasons


def test_loaders_datasets_duckdb_networkx_and_edge_index(ten_k):
    import datasets
    import duckdb
    import networkx as nx
    import torch

    follows = datasets.load_dataset(str(ten_k), "follows", split="train")
    assert follows.num_rows == load_table(ten_k, "follows").num_rows
    assert set(follows.column_names) == {"follower_id", "followee_id", "created_at", "reason"}
    profiles = datasets.load_dataset(str(ten_k), split="train")  # the default config
    assert "followers_in_dataset" in profiles.column_names

    # A join a test-data user writes: each user's followers, from the two tables.
    top = duckdb.sql(f"""
        SELECT p.user_id, p.followers_in_dataset, count(*) AS n
        FROM '{ten_k}/data/follows/*.parquet' f
        JOIN '{ten_k}/data/profiles/*.parquet' p ON p.user_id = f.followee_id
        GROUP BY ALL ORDER BY n DESC LIMIT 5""").fetchall()  # fmt: skip
    assert all(followers == n for _, followers, n in top)

    # PyTorch Geometric's layout: node index = profile row, edge_index[0] follows [1].
    p = pq.read_table(ten_k / "data" / "profiles", columns=["user_id"])
    f = pq.read_table(ten_k / "data" / "follows")
    ids = p["user_id"].to_numpy()
    order = np.argsort(ids)
    src = order[np.searchsorted(ids[order], f["follower_id"].to_numpy())]
    dst = order[np.searchsorted(ids[order], f["followee_id"].to_numpy())]
    edge_index = torch.from_numpy(np.stack([src, dst]))
    assert edge_index.shape == (2, f.num_rows) and edge_index.max() < len(ids)
    g = nx.DiGraph(edge_index.T.tolist())
    assert g.number_of_edges() == f.num_rows


def test_same_seed_same_graph_bytes(small_cfg, tmp_path, write_dataset):
    for name in ("a", "b"):
        write_dataset(small_cfg(out=str(tmp_path / name), follows="graph"), tmp_path / name)
    for rel in (
        "data/follows/train-00000-of-00003.parquet",
        "data/profiles/train-00002-of-00003.parquet",
    ):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_a_killed_run_resumes_to_the_same_bytes(small_cfg, tmp_path, write_dataset):
    # Shards 0 and 2 were written, then the process died (its graph plan is kept in the
    # state folder); the rerun makes shard 1 alone and ends byte-identical to a clean run.
    from pipeline.dataset.shard import make_shard
    from pipeline.dataset.writer import start_run

    cfg = small_cfg(out=str(tmp_path / "killed"), follows="graph")
    for i in start_run(cfg, cfg.out)[::2]:
        make_shard(cfg, cfg.out, i)
    write_dataset(cfg, tmp_path / "killed")
    write_dataset(small_cfg(out=str(tmp_path / "clean"), follows="graph"), tmp_path / "clean")
    files = sorted(p.relative_to(tmp_path / "clean") for p in (tmp_path / "clean").rglob("*")
                   if p.is_file())  # fmt: skip
    assert len(files) == 8
    for rel in files:
        assert (tmp_path / "killed" / rel).read_bytes() == (tmp_path / "clean" / rel).read_bytes()


@pytest.mark.parametrize("args, message", [
    (["--rows", "200", "--mean-follows", "199"], "mean_follows=199 must be > 0 and <= 49.75"),
    (["--rows", "200", "--reciprocity", "1.5"], "reciprocity"),
    (["--rows", "5"], "a follow graph needs at least 10 users, got 5; pass --follows none"),
    (["--rows", "200", "--follows", "grpah"], "follows"),
])  # fmt: skip
def test_bad_graph_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, message):
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "flows.cli", "generate", "--avatars", "none", "--bios", "none",
         "--out", str(out), *args],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not out.exists()
