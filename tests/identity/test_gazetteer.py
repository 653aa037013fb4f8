import zoneinfo

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import ProfilegenError
from pipeline.identity import gazetteer
from pipeline.identity.gazetteer import UnknownCountryError, load_cities, sample_cities

# The brief's countries plus every country a locale uses.
COUNTRIES = "US GB IN DE FR ES MX BR IT NL PL TR SE ID JP CN RU KR EG SA CA AU CO VN TH UA".split()


@pytest.mark.parametrize("cc", COUNTRIES)
def test_every_country_loads_with_complete_rows(cc):
    c = load_cities(cc)
    n = len(c)
    assert n > 100 and c.country_code == cc
    for col in (c.name, c.region, c.timezone):
        assert isinstance(col, pa.StringArray) and len(col) == n and col.null_count == 0
    assert min(len(s) for s in c.region.to_pylist()) > 0
    assert min(len(s) for s in c.name.to_pylist()) > 0
    assert c.latitude.dtype == np.float64 and c.longitude.dtype == np.float64
    assert np.all(np.abs(c.latitude) <= 90) and np.all(np.abs(c.longitude) <= 180)
    assert c.population.dtype == np.int64 and np.all(c.population >= 0)
    assert c.cum_weights.dtype == np.float64 and c.cum_weights[-1] == 1.0
    assert np.all(np.diff(c.cum_weights) >= 0) and c.cum_weights[0] >= 0
    for tz in set(c.timezone.to_pylist()):
        zoneinfo.ZoneInfo(tz)  # raises for a name the tz database lacks


@pytest.mark.parametrize(
    "cc, city, region",
    [
        ("US", "Los Angeles", "California"),
        ("US", "Washington", "District of Columbia"),  # not Maryland, its suburbs' state
        ("JP", "Osaka", "Osaka"),
        ("JP", "Sapporo", "Hokkaido"),
        ("DE", "Munich", "Bavaria"),
        ("DE", "Dresden", "Saxony"),
        ("FR", "Toulouse", "Occitanie"),  # the 2016 region, not rg's Midi-Pyrenees
        ("FR", "Lyon", "Auvergne-Rhone-Alpes"),
        ("GB", "Edinburgh", "Scotland"),
        ("IN", "New Delhi", "Delhi"),
        ("IN", "Mumbai", "Maharashtra"),
        ("CN", "Shanghai", "Shanghai"),
        ("BR", "São Paulo", "Sao Paulo"),
        ("CA", "Toronto", "Ontario"),
        ("AU", "Melbourne", "Victoria"),
        ("UA", "Kyiv", "Kyiv City"),  # GeoNames renamed it; rg still says Kiev
        ("VN", "Haiphong", "Hai Phong"),
        ("KR", "Sejong", "Sejong"),
    ],
)
def test_regions_are_the_right_admin1(cc, city, region):
    c = load_cities(cc)
    names = np.array(c.name.to_pylist(), dtype=object)
    hits = np.flatnonzero(names == city)
    assert len(hits), f"{city} not in {cc}"
    biggest = hits[np.argmax(c.population[hits])]
    assert c.region[biggest].as_py() == region


def test_cities_are_ordered_and_unique_per_country():
    w = gazetteer.world_table()
    cc = w["country_code"].to_pylist()
    gid = w["geonameid"].to_numpy()
    keys = list(zip(cc, gid.tolist(), strict=True))
    assert keys == sorted(keys) and len(set(gid.tolist())) == len(gid)


def test_country_code_is_case_insensitive_and_cached():
    assert load_cities("us") is load_cities("US")


@pytest.mark.parametrize("cc", ["XX", "ZZ", ""])
def test_unknown_country_is_a_clear_error(cc):
    with pytest.raises(UnknownCountryError, match="country code") as e:
        load_cities(cc)
    assert isinstance(e.value, ProfilegenError) and isinstance(e.value, ValueError)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(COUNTRIES), st.integers(0, 2**32 - 1), st.integers(0, 2000))
def test_sampling_is_in_range_and_deterministic(cc, seed, n):
    c = load_cities(cc)
    a = sample_cities(np.random.default_rng(seed), c, n)
    b = sample_cities(np.random.default_rng(seed), c, n)
    assert a.dtype == np.int64 and len(a) == n and np.array_equal(a, b)
    assert n == 0 or (a.min() >= 0 and a.max() < len(c))
    assert np.all(c.population[a] > 0)  # places without a population figure are never drawn


# Countries whose largest city is well ahead of the second, so the check is not a coin toss.
@settings(max_examples=20, deadline=None)
@given(st.sampled_from(["US", "GB", "FR", "JP", "KR", "EG", "TH", "MX"]), st.integers(0, 2**32 - 1))
def test_sampling_follows_population(cc, seed):
    c = load_cities(cc)
    idx = sample_cities(np.random.default_rng(seed), c, 20_000)
    counts = np.bincount(idx, minlength=len(c))
    assert np.argmax(counts) == np.argmax(c.population)
    # And roughly in proportion: the top cities' shares within 5 standard errors.
    p = c.population / c.population.sum()
    top = np.argsort(p)[-5:]
    se = np.sqrt(p[top] * (1 - p[top]) / 20_000)
    assert np.all(np.abs(counts[top] / 20_000 - p[top]) < 5 * se + 1e-4)


def test_disk_cache_is_written_once_and_read_back(tmp_path):
    w = gazetteer.world_table()
    path = gazetteer.cache_path()
    assert path.exists() and "gnc" in path.name and "rg" in path.name
    assert not list(path.parent.glob("*.tmp"))  # the atomic write left nothing behind
    with gazetteer.pq.ParquetFile(path) as f:
        assert f.read().equals(w)


def test_cache_write_is_deterministic(tmp_path):
    w = gazetteer.world_table()
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    gazetteer._write_atomic(w, a)
    gazetteer._write_atomic(w, b)
    assert a.read_bytes() == b.read_bytes()


@pytest.fixture
def fresh_world(monkeypatch, tmp_path):
    monkeypatch.setenv("PROFILEGEN_CACHE_DIR", str(tmp_path))
    gazetteer.world_table.cache_clear()
    yield
    gazetteer.world_table.cache_clear()
    gazetteer._load_cities.cache_clear()


def test_unreadable_cache_is_rebuilt(fresh_world, monkeypatch):
    small = pa.table(
        {
            "country_code": ["ZZ"],
            "geonameid": [1],
            "name": ["Testville"],
            "region": ["Test Region"],
            "latitude": [1.0],
            "longitude": [2.0],
            "timezone": ["UTC"],
            "population": [10],
        },
        schema=gazetteer.SCHEMA,
    )
    monkeypatch.setattr(gazetteer, "build_world_table", lambda: small)
    path = gazetteer.cache_path()
    path.write_bytes(b"PAR1 truncated by a crash")
    assert gazetteer.world_table().equals(small)
    gazetteer.world_table.cache_clear()
    monkeypatch.setattr(gazetteer, "build_world_table", lambda: pytest.fail("rebuilt twice"))
    assert gazetteer.world_table().equals(small)  # the rebuilt file is used from now on
