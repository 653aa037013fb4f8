import networkx as nx
import numpy as np
import pytest
from scipy import stats

from pipeline.graph.metrics import (
    average_clustering,
    graph_metrics,
    power_law_tail,
    reciprocity,
    spearman,
)


def _random_digraph(n, m, seed, hubs=True):
    # Heavy-ish tails, mutual pairs, a few isolated nodes and self-loops: the awkward cases.
    rng = np.random.default_rng(seed)
    w = rng.pareto(1.5, n) + 1 if hubs else np.ones(n)
    src = rng.integers(0, n - 5, m)  # last 5 nodes never follow
    dst = rng.choice(n - 5, m, p=w[:-5] / w[:-5].sum())
    back = rng.random(m) < 0.3
    src, dst = np.concatenate([src, dst[back]]), np.concatenate([dst, src[back]])
    src = np.concatenate([src, [0, 3]])
    dst = np.concatenate([dst, [0, 3]])  # self-loops
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
    return src, dst, g


CASES = [(300, 1500, 0, True), (200, 3000, 1, False), (400, 800, 2, True)]


@pytest.mark.parametrize("n,m,seed,hubs", CASES)
def test_reciprocity_and_clustering_match_networkx(n, m, seed, hubs):
    src, dst, g = _random_digraph(n, m, seed, hubs)
    assert reciprocity(n, src, dst) == pytest.approx(nx.reciprocity(g), abs=1e-12)
    ref = nx.average_clustering(g.to_undirected())
    assert average_clustering(n, src, dst) == pytest.approx(ref, abs=1e-12)
    # a sample as large as the graph is the exact figure
    assert average_clustering(n, src, dst, sample=n) == pytest.approx(ref, abs=1e-12)


def test_sampled_clustering_is_the_mean_over_the_sample():
    n = 400
    src, dst, g = _random_digraph(n, 3000, 5)
    nodes = np.sort(np.random.default_rng(3).choice(n, 150, replace=False))
    per_node = nx.clustering(g.to_undirected())
    ref = np.mean([per_node[v] for v in nodes.tolist()])
    assert average_clustering(n, src, dst, sample=150, seed=3) == pytest.approx(ref, abs=1e-12)


def test_small_chunks_give_the_same_triangles(monkeypatch):
    import pipeline.graph.metrics as gm

    n = 300
    src, dst, g = _random_digraph(n, 2500, 7)
    ref = nx.average_clustering(g.to_undirected())
    monkeypatch.setattr(gm, "PAIR_CHUNK", 97)
    assert gm.average_clustering(n, src, dst) == pytest.approx(ref, abs=1e-12)
    assert gm.average_clustering(n, src, dst, sample=120) >= 0


@pytest.mark.parametrize("n,m,seed,hubs", CASES)
def test_graph_metrics_match_networkx(n, m, seed, hubs):
    src, dst, g = _random_digraph(n, m, seed, hubs)
    rng = np.random.default_rng(seed)
    country = rng.integers(0, 6, n)
    age = rng.integers(13, 80, n)
    city = country * 10 + rng.integers(0, 4, n)
    nx.set_node_attributes(g, dict(enumerate(country.tolist())), "country")
    nx.set_node_attributes(g, dict(enumerate(age.tolist())), "age")
    m_ = graph_metrics(n, src, dst, country=country, age=age, city=city)

    assert m_["edges"] == g.number_of_edges()
    assert m_["mean_out_degree"] == pytest.approx(g.number_of_edges() / n)
    assert m_["reciprocity"] == pytest.approx(nx.reciprocity(g), abs=1e-12)
    assert m_["avg_clustering"] == pytest.approx(
        nx.average_clustering(g.to_undirected()), abs=1e-12
    )
    ind = np.array([d for _, d in sorted(g.in_degree())])
    outd = np.array([d for _, d in sorted(g.out_degree())])
    assert m_["in_degree_max"] == ind.max()
    assert m_["in_degree_median"] == np.median(ind)
    assert m_["in_degree_p99"] == pytest.approx(np.percentile(ind, 99))
    assert m_["out_degree_max"] == outd.max()
    assert m_["degree_assortativity"] == pytest.approx(
        nx.degree_pearson_correlation_coefficient(g), abs=1e-9
    )
    assert m_["country_assortativity"] == pytest.approx(
        nx.attribute_assortativity_coefficient(g, "country"), abs=1e-9
    )
    assert m_["age_assortativity"] == pytest.approx(
        nx.numeric_assortativity_coefficient(g, "age"), abs=1e-9
    )

    e = np.array(list(g.edges()))
    same = np.mean(country[e[:, 0]] == country[e[:, 1]])
    shares = np.bincount(country) / n
    assert m_["same_country_share"] == pytest.approx(same)
    assert m_["random_country_share"] == pytest.approx((shares**2).sum())
    assert m_["same_country_ratio"] == pytest.approx(same / (shares**2).sum())
    assert m_["same_city_share"] == pytest.approx(np.mean(city[e[:, 0]] == city[e[:, 1]]))
    pairs = np.abs(age[:, None] - age[None, :])
    assert m_["random_age_gap"] == pytest.approx(pairs.sum() / (n * (n - 1)))


def test_duplicates_count_once():
    src = np.array([0, 0, 1, 1, 2])
    dst = np.array([1, 1, 0, 2, 0])
    m = graph_metrics(3, src, dst)
    assert m["edges"] == 4
    assert m["reciprocity"] == pytest.approx(0.5)


def test_power_law_tail_recovers_the_exponent():
    rng = np.random.default_rng(0)
    alpha, x_min = 2.5, 10
    x = np.floor((x_min - 0.5) * (1 - rng.random(50_000)) ** (-1 / (alpha - 1)) + 0.5)
    body = rng.integers(1, x_min, 50_000)  # a non-power-law body below x_min
    fit = power_law_tail(np.concatenate([x, body]), max_share=0.6)
    assert fit["alpha"] == pytest.approx(alpha, abs=0.1)
    assert 5 <= fit["x_min"] <= 30
    assert power_law_tail(np.ones(10))["n_tail"] == 0


def test_spearman_matches_scipy():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 20, 500)  # many ties
    b = a + rng.integers(0, 10, 500)
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)
