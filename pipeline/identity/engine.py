"""The identity engine: one coherent identity per row, every field derived from it.

A row's locale fixes its country and language; gender picks the name lists; the age fixes
the birthdate, the occupation and the earliest account date; the city fixes region,
coordinates, timezone and phone area. Nothing is drawn independently of the row's
identity, and nothing calls Faker per row: names, cities and phones are drawn with numpy
from tables built once per process, and strings are assembled by Arrow compute kernels.

Uniqueness of user_id, username and email is by construction: each is an injective
function of the global row index, so shards made by different workers cannot collide.
"""

import datetime as dt
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.config import GenerateConfig
from pipeline.core.rng import mix63
from pipeline.identity.gazetteer import load_cities
from pipeline.identity.interests import sample_interests
from pipeline.identity.locales import GENDERS, get_locale, name_pool
from pipeline.identity.occupations import sample_occupations
from pipeline.identity.phones import make_phones
from pipeline.identity.schema import IDENTITY_SCHEMA

# Share of social-media users by age band (DataReportal/Statista-style, rounded). The 65+
# band decays year by year instead of being flat.
AGE_BANDS = [(13, 17, 0.07), (18, 24, 0.21), (25, 34, 0.29), (35, 44, 0.19),
             (45, 54, 0.12), (55, 64, 0.08)]  # fmt: skip
OLD_SHARE, OLD_DECAY = 0.04, 0.93
# No account is older than the first big platform's public launch (Twitter, July 2006).
PLATFORM_START = dt.date(2006, 7, 15)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")  # RFC 2606: never a real inbox
WEBSITE_SHARE = 0.12
HOME_SHARE = 0.85  # share of a regional locale's rows placed in its home regions


def shard_rng(seed: int, shard: int) -> np.random.Generator:
    # Shard k's stream depends only on (seed, k): same bytes whichever worker makes it.
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(shard,)))


def age_pmf(age_min: int, age_max: int) -> np.ndarray:
    """Probability of each age in [age_min, age_max]."""
    ages = np.arange(13, 101)
    w = np.zeros(len(ages))
    for lo, hi, share in AGE_BANDS:
        w[(ages >= lo) & (ages <= hi)] = share / (hi - lo + 1)
    old = ages >= 65
    decay = OLD_DECAY ** (ages[old] - 65)
    w[old] = OLD_SHARE * decay / decay.sum()
    w = w[(ages >= age_min) & (ages <= age_max)]
    return w / w.sum()


def _years_before(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February in a non-leap year
        return d.replace(year=d.year - years, day=28)


@lru_cache(maxsize=8)
def _birth_windows(ref: dt.date, age_min: int, age_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Per age: the latest birthdate giving that age at `ref`, and the window length in days."""
    latest, span = [], []
    for a in range(age_min, age_max + 1):
        hi, lo = _years_before(ref, a), _years_before(ref, a + 1)
        latest.append(np.datetime64(hi, "D"))
        span.append((hi - lo).days)
    return np.array(latest), np.array(span)


def _add_years(days: np.ndarray, years: int) -> np.ndarray:
    """Calendar `years` after each datetime64[D]; 29 Feb rolls to 1 Mar."""
    months = days.astype("M8[M]")
    day_of_month = days - months.astype("M8[D]")
    return (months + 12 * years).astype("M8[D]") + day_of_month


@lru_cache(maxsize=64)
def _dataset_constants(seed: int, rows: int) -> tuple[int, int, int, int]:
    """Constants shared by every shard of one dataset (not per shard: uniqueness spans them)."""
    state = np.random.SeedSequence(seed).generate_state(4, dtype=np.uint64)
    modulus = 10 ** max(3, len(str(rows - 1)))
    # Affine map row -> (a*row + b) mod 10^d is a bijection when gcd(a, 10) == 1.
    a = int(state[0] % modulus) | 1
    if a % 5 == 0:
        a = (a + 2) % modulus
    b = int(state[1] % modulus)
    return modulus, a, b, int(state[2] >> np.uint64(1))


def _take_segmented(u: np.ndarray, groups: np.ndarray, segments: list) -> np.ndarray:
    """Weighted draw per row from the segment its group points at (u: uniforms).

    A segment is (base, cum): `base` is the offset of a contiguous block, or an array of
    the indices the segment is made of.
    """
    idx = np.empty(len(u), dtype=np.int64)
    for g, (base, cum) in enumerate(segments):
        m = groups == g
        if m.any():
            pos = np.minimum(np.searchsorted(cum, u[m], side="right"), len(cum) - 1)
            idx[m] = base[pos] if isinstance(base, np.ndarray) else base + pos
    return idx


@lru_cache(maxsize=64)
def _home_cities(code: str) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into the country's cities) of the locale's home regions, and their weights."""
    loc = get_locale(code)
    cities = load_cities(loc.country)
    pop = cities.population.astype(np.float64)
    home = np.flatnonzero(np.isin(cities.region.to_numpy(zero_copy_only=False), loc.home_regions))
    home = home[pop[home] > 0]
    cum = np.cumsum(pop[home])
    return home, cum / cum[-1]


def _join(*parts, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def make_identities(cfg: GenerateConfig, shard: int) -> pa.Table:
    """The identity columns of shard `shard` of the dataset `cfg` describes."""
    start = shard * cfg.shard_rows
    n = min(cfg.shard_rows, cfg.rows - start)
    rng = shard_rng(cfg.seed, shard)
    rows = np.arange(start, start + n, dtype=np.uint64)
    modulus, a, b, id_offset = _dataset_constants(cfg.seed, cfg.rows)

    # Locale and gender: the identity's roots.
    codes = tuple(sorted(cfg.locales))
    cum = np.cumsum([cfg.locales[c] for c in codes])
    loc_i = np.minimum(np.searchsorted(cum / cum[-1], rng.random(n), side="right"), len(codes) - 1)
    male = rng.random(n) >= cfg.female_share
    locales = [get_locale(c) for c in codes]

    # Age from the user-age distribution, then a birthdate that gives exactly that age at
    # reference_date. Day 0 of the window is excluded so the 13th birthday (and an account
    # created on or after it) always falls strictly before reference_date.
    ages = cfg.age_min + rng.choice(
        cfg.age_max - cfg.age_min + 1, n, p=age_pmf(cfg.age_min, cfg.age_max)
    )
    latest, span = _birth_windows(cfg.reference_date, cfg.age_min, cfg.age_max)
    k = ages - cfg.age_min
    birth = latest[k] - (1 + (rng.random(n) * (span[k] - 1)).astype(np.int64)).astype("m8[D]")

    # Names: one pool for all locales; segment (locale, gender, part) holds its weights.
    pool = name_pool(codes)
    group = loc_i * 2 + male
    seg = lambda part: [pool.segments[(c, g, part)] for c in codes for g in GENDERS]  # noqa: E731
    first_i = _take_segmented(rng.random(n), group, seg("first"))
    last_i = _take_segmented(rng.random(n), group, seg("last"))
    first, last = pool.native.take(first_i), pool.native.take(last_i)
    first_lat, last_lat = pool.latin.take(first_i), pool.latin.take(last_i)
    first_h, last_h = pool.handle.take(first_i), pool.handle.take(last_i)
    family_first = np.array([loc.family_first for loc in locales])[loc_i]
    display = pc.if_else(pa.array(family_first), _join(last, first), _join(first, last, sep=" "))

    # Place: a real city of the locale's country, weighted by population; most speakers of
    # a regional locale (fr_CA, hi_IN) live in its home regions.
    countries = sorted({loc.country for loc in locales})
    c_i = np.array([countries.index(loc.country) for loc in locales])[loc_i]
    tables = [load_cities(c) for c in countries]
    offsets = np.cumsum([0] + [len(t.cum_weights) for t in tables])
    at_home = rng.random(n) < HOME_SHARE
    segments = []
    for loc in locales:
        j = countries.index(loc.country)
        anywhere = (int(offsets[j]), tables[j].cum_weights)
        if loc.home_regions:
            home, cum_home = _home_cities(loc.code)
            segments += [anywhere, (home + offsets[j], cum_home)]
        else:
            segments += [anywhere, anywhere]
    city_i = _take_segmented(rng.random(n), loc_i * 2 + at_home, segments)
    cat = lambda field: pa.concat_arrays([getattr(t, field) for t in tables])  # noqa: E731
    city, region, tz = (
        cat("name").take(city_i),
        cat("region").take(city_i),
        cat("timezone").take(city_i),
    )
    lat0 = np.concatenate([t.latitude for t in tables])[city_i]
    lon0 = np.concatenate([t.longitude for t in tables])[city_i]
    # Jitter a couple of km so rows don't stack on the city centroid.
    jitter = rng.normal(0.0, 0.02, size=(2, n))
    lat = np.clip(lat0 + jitter[0], -90, 90)
    lon = lon0 + jitter[1] / np.maximum(np.cos(np.radians(lat0)), 0.1)
    lon = (lon + 180.0) % 360.0 - 180.0

    # Phones per country, with the row's city so the area code is the city's. Rows are
    # grouped by country (stable sort), made per group, then put back in row order.
    order = np.argsort(c_i, kind="stable")
    parts = []
    for j, c in enumerate(countries):
        m = c_i == j
        if m.any():
            parts.append(make_phones(rng, c, int(m.sum()), cities=city_i[m] - offsets[j]))
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    phone = pa.concat_arrays(parts).take(inverse)

    occupation, category = sample_occupations(rng, ages)
    interests = sample_interests(rng, ages, category)

    # Handles: a name-based stem in one of several styles plus a number that is an
    # injective function of the global row (affine bijection mod 10^d). Stems are letters
    # only and the tail digits only, so distinct tails give distinct handles.
    tail = pa.array((a * rows + np.uint64(b)) % np.uint64(modulus)).cast(pa.string())
    f0, l0 = pc.utf8_slice_codeunits(first_h, 0, 1), pc.utf8_slice_codeunits(last_h, 0, 1)
    empty = pa.array([""] * n, pa.string())
    style = rng.integers(0, 6, n)
    head = pc.choose(pa.array(style), first_h, first_h, first_h, f0, first_h, last_h)
    sep = pa.array(np.array(["", ".", "_", "", "", "."], dtype=object)[style], pa.string())
    body = pc.choose(pa.array(style), last_h, last_h, last_h, last_h, l0, first_h)
    username = _join(head, sep, body, tail)
    estyle = rng.integers(0, 3, n)
    ehead = pc.choose(pa.array(estyle), first_h, f0, first_h)
    esep = pa.array(np.array([".", "", ""], dtype=object)[estyle], pa.string())
    ebody = pc.choose(pa.array(estyle), last_h, last_h, empty)
    domain = pa.array(np.array(EMAIL_DOMAINS, dtype=object)[rng.integers(0, 3, n)], pa.string())
    email = _join(_join(ehead, esep, ebody, tail), domain, sep="@")
    has_site = rng.random(n) < WEBSITE_SHARE
    website = pc.if_else(
        pa.array(has_site), _join(pa.scalar("https://www.example.org"), username, sep="/"), None
    )

    # Account: created between the 13th birthday (or the platform's launch) and
    # reference_date, skewed towards recent years.
    ref = np.datetime64(cfg.reference_date, "s")
    b13 = _add_years(birth, 13).astype("M8[s]")
    floor = np.datetime64(PLATFORM_START, "s") if cfg.reference_date > PLATFORM_START else b13
    begin = np.maximum(b13, floor)
    window = (ref - begin).astype(np.int64)
    created = ref - (1 + (rng.random(n) ** 1.6 * (window - 1)).astype(np.int64)).astype("m8[s]")
    account_days = (ref - created).astype(np.int64) / 86400.0

    # Heavy tails: most accounts are small, a few are huge (log-normal bodies, Pareto-ish
    # tails). Posts grow with account age.
    followers = np.floor(np.exp(rng.normal(4.3, 1.9, n))).astype(np.int64)
    following = np.minimum(np.floor(np.exp(rng.normal(5.0, 1.1, n))), 7500).astype(np.int64)
    posts = np.floor(account_days * np.exp(rng.normal(-1.3, 1.5, n))).astype(np.int64)
    p_verified = 0.001 + 0.2 * (followers >= 100_000) + 0.5 * (followers >= 1_000_000)
    verified = rng.random(n) < p_verified

    user_id = mix63(rows + np.uint64(id_offset)).astype(np.int64)
    lang = np.array([loc.language for loc in locales], dtype=object)
    ccode = np.array([loc.country for loc in locales], dtype=object)
    columns = {
        "user_id": user_id,
        "username": username,
        "display_name": display,
        "first_name": first,
        "last_name": last,
        "first_name_latin": first_lat,
        "last_name_latin": last_lat,
        "gender": pa.array(np.array(GENDERS, dtype=object)[male.astype(np.int8)], pa.string()),
        "birthdate": birth,
        "age": ages.astype(np.int16),
        "email": email,
        "phone": phone,
        "locale": pa.array(np.array(codes, dtype=object)[loc_i], pa.string()),
        "language": pa.array(lang[loc_i], pa.string()),
        "country_code": pa.array(ccode[loc_i], pa.string()),
        "city": city,
        "region": region,
        "latitude": np.round(lat, 5),
        "longitude": np.round(lon, 5),
        "timezone": tz,
        "occupation": occupation,
        "interests": interests,
        "website": website,
        "created_at": created,
        "followers_count": followers,
        "following_count": following,
        "posts_count": posts,
        "verified": verified,
    }
    arrays = [pa.array(columns[f.name], f.type) if not isinstance(columns[f.name], pa.Array)
              else columns[f.name].cast(f.type) for f in IDENTITY_SCHEMA]  # fmt: skip
    return pa.Table.from_arrays(arrays, schema=IDENTITY_SCHEMA)
