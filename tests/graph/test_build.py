import dataclasses
import importlib.util
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from pipeline.graph.build import REASONS, GraphParams, build_follows, check_params
from pipeline.graph.metrics import graph_metrics, interest_overlap, spearman

# One synthetic-people helper for the benchmark and the tests: it lives in benchmarks/graph.py.
_spec = importlib.util.spec_from_file_location(
    "benchmarks_graph", Path(__file__).resolve().parents[2] / "benchmarks" / "graph.py"
)
_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench)
synthetic_people = _bench.synthetic_people
REFERENCE = _bench.REFERENCE

N = 10_000
SEED = 11
R = {name: i for i, name in enumerate(REASONS)}


@pytest.fixture(scope="module")
def people():
    return synthetic_people(N, 3)


@pytest.fixture(scope="module")
def edges(people):
    return build_follows(people, GraphParams(), SEED, REFERENCE)


@pytest.fixture(scope="module")
def metrics(people, edges):
    return graph_metrics(N, edges.follower, edges.followee, people.country, people.age, people.city)


def test_shape_and_dtypes(edges):
    assert edges.follower.dtype == np.int64 and edges.followee.dtype == np.int64
    assert edges.created_at.dtype == np.int64 and edges.reason.dtype == np.int8
    assert len({len(edges.follower), len(edges.followee), len(edges.created_at)}) == 1
    assert edges.follower.min() >= 0 and edges.followee.max() < N


def test_simple_and_sorted(edges):
    assert not (edges.follower == edges.followee).any()
    key = edges.follower * N + edges.followee
    assert (np.diff(key) > 0).all()  # sorted by (follower, followee) and no duplicates


def test_deterministic(people, edges):
    again = build_follows(people, GraphParams(), SEED, REFERENCE)
    for f in dataclasses.fields(edges):
        assert getattr(again, f.name).tobytes() == getattr(edges, f.name).tobytes()
    other = build_follows(people, GraphParams(), SEED + 1, REFERENCE)
    assert len(other.follower) != len(edges.follower) or not np.array_equal(
        other.followee, edges.followee
    )


def test_mean_out_degree(metrics):
    assert metrics["mean_out_degree"] == pytest.approx(30.0, rel=0.05)


def test_degrees_follow_declared_counts(people, edges):
    in_deg = np.bincount(edges.followee, minlength=N)
    out_deg = np.bincount(edges.follower, minlength=N)
    assert spearman(in_deg, people.followers_count) >= 0.7
    assert spearman(out_deg, people.following_count) >= 0.7
    assert in_deg.max() < N and out_deg.max() < N


def test_heavy_in_degree_tail(metrics):
    assert metrics["in_degree_max_over_median"] >= 10
    assert 1.5 < metrics["in_degree_tail_alpha"] < 5
    assert metrics["in_degree_tail_n"] >= 50


def test_reciprocity_and_clustering_as_networkx_measures_them(edges):
    g = nx.DiGraph()
    g.add_nodes_from(range(N))
    g.add_edges_from(zip(edges.follower.tolist(), edges.followee.tolist(), strict=True))
    assert 0.30 <= nx.reciprocity(g) <= 0.45
    assert 0.08 <= nx.average_clustering(g.to_undirected()) <= 0.25


@pytest.mark.parametrize("target", [0.1, 0.6])
def test_reciprocity_knob(people, metrics, target):
    e = build_follows(people, GraphParams(reciprocity=target), SEED, REFERENCE)
    m = graph_metrics(N, e.follower, e.followee)
    assert m["reciprocity"] == pytest.approx(target, abs=0.03)
    assert (m["reciprocity"] - metrics["reciprocity"]) * (target - 0.36) > 0
    assert m["mean_out_degree"] == pytest.approx(30.0, rel=0.05)


def test_homophily(people, edges, metrics):
    assert metrics["same_country_ratio"] >= 3
    assert metrics["same_city_ratio"] >= 5
    assert metrics["same_city_ratio"] > metrics["same_country_ratio"]
    assert metrics["edge_age_gap"] < 0.95 * metrics["random_age_gap"]
    assert metrics["age_assortativity"] > 0.05
    on_edges, at_random = interest_overlap(
        edges.follower, edges.followee, people.interest_indptr, people.interest_ids
    )
    assert on_edges > 1.03 * at_random


def test_every_edge_has_a_reason_and_the_mix_is_ldbc_like(edges):
    assert edges.reason.min() >= 0 and edges.reason.max() < len(REASONS)
    counts = np.bincount(edges.reason, minlength=len(REASONS))
    assert (counts > 0).all()
    base = counts[[R["place"], R["interest"], R["popularity"], R["random"]]]
    place, interest, pop, rand = base / base.sum()
    assert 0.35 <= place <= 0.55 and 0.35 <= interest <= 0.55
    assert 0.05 <= pop + rand <= 0.2


def test_times(people, edges):
    ca = people.created_at
    t = edges.created_at
    assert (t > ca[edges.follower]).all() and (t > ca[edges.followee]).all()
    assert (t < REFERENCE).all()
    # a follow-back comes after the follow it answers
    fb = np.flatnonzero(edges.reason == R["follow_back"])
    key = edges.follower * N + edges.followee
    rev = edges.followee[fb] * N + edges.follower[fb]
    pos = np.searchsorted(key, rev)
    assert (key[pos] == rev).all()
    assert (t[pos] < t[fb]).all()
    assert (edges.reason[pos] != R["follow_back"]).all()


def test_accounts_created_at_the_reference_get_no_edges():
    p = synthetic_people(500, 5)
    p.created_at[:20] = REFERENCE - 1
    e = build_follows(p, GraphParams(mean_follows=10), 0, REFERENCE)
    assert not np.isin(np.concatenate([e.follower, e.followee]), np.arange(20)).any()
    assert len(e.follower) > 0


def test_smallest_graph():
    e = build_follows(synthetic_people(10, 1), GraphParams(mean_follows=2), 0, REFERENCE)
    assert not (e.follower == e.followee).any()
    assert len(np.unique(e.follower * 10 + e.followee)) == len(e.follower)


@pytest.mark.parametrize(
    "n,params,match",
    [
        (9, GraphParams(), "at least 10 users"),
        (1000, GraphParams(mean_follows=0), r"mean_follows=0 must be > 0 and <= 249\.75"),
        (1000, GraphParams(mean_follows=300), r"mean_follows=300 must be > 0 and <= 249\.75"),
        (1000, GraphParams(mean_follows=float("nan")), "mean_follows=nan"),
        (1000, GraphParams(reciprocity=1.5), "reciprocity=1.5 must be between 0 and 1"),
        (1000, GraphParams(reciprocity=-0.1), "reciprocity=-0.1"),
        (1000, GraphParams(place_share=-1), "place_share=-1 must be >= 0"),
        (
            1000,
            GraphParams(place_share=0, interest_share=0, popularity_share=0, random_share=0),
            "must not all be 0",
        ),
        (1000, GraphParams(closure_share=0.9), "closure_share=0.9"),
        (1000, GraphParams(window=0), "window=0"),
    ],
)
def test_check_params(n, params, match):
    with pytest.raises(ValueError, match=match) as err:
        check_params(n, params)
    assert "\n" not in str(err.value)


def test_check_params_accepts_defaults():
    check_params(10_000, GraphParams())
    check_params(10, GraphParams(mean_follows=2))
