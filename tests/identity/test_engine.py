"""The identity engine: every field agrees with the row's identity, deterministically."""

import datetime as dt
import re

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import build_config
from pipeline.identity.engine import EMAIL_DOMAINS, age_pmf, make_identities
from pipeline.identity.gazetteer import load_cities
from pipeline.identity.locales import LOCALES, name_tables
from pipeline.identity.schema import IDENTITY_COLUMNS, IDENTITY_SCHEMA


def all_shards(cfg) -> pa.Table:
    return pa.concat_tables(make_identities(cfg, i) for i in range(cfg.n_shards))


@pytest.fixture(scope="module")
def world():
    """2,000 rows of every supported locale, in 7 shards."""
    cfg = build_config(
        None,
        rows=2000,
        shard_rows=300,
        seed=11,
        locales=",".join(f"{c}:{1 / len(LOCALES)!r}" for c in LOCALES),
    )
    return cfg, all_shards(cfg)


def ages_at(birth: list[dt.date], ref: dt.date) -> list[int]:
    return [ref.year - b.year - ((ref.month, ref.day) < (b.month, b.day)) for b in birth]


def thirteenth(b: dt.date) -> dt.date:
    # Someone born on 29 February turns 13 on the 28th at the earliest.
    return dt.date(b.year + 13, b.month, 28 if (b.month, b.day) == (2, 29) else b.day)


def test_columns_are_the_contract(world):
    _, t = world
    assert t.column_names == IDENTITY_COLUMNS
    assert t.schema == IDENTITY_SCHEMA
    assert t.num_rows == 2000
    assert all(t[c].null_count == 0 for c in IDENTITY_COLUMNS if c != "website")


def test_same_seed_same_rows_other_seed_other_rows(small_cfg):
    cfg = small_cfg()
    assert make_identities(cfg, 1).equals(make_identities(cfg, 1))
    other = make_identities(small_cfg(seed=8), 1)
    assert other["username"].to_pylist() != make_identities(cfg, 1)["username"].to_pylist()


def test_shard_does_not_depend_on_order(small_cfg):
    cfg = small_cfg()
    late_first = make_identities(cfg, 2)
    make_identities(cfg, 0)
    assert make_identities(cfg, 2).equals(late_first)


def test_ids_usernames_emails_unique_across_shards(small_cfg):
    # Small shards, few locales: many name collisions, so uniqueness must come from the row.
    cfg = small_cfg(rows=5000, shard_rows=250, locales="vi_VN:1")
    t = all_shards(cfg)
    for col in ("user_id", "username", "email"):
        assert pc.count_distinct(t[col]).as_py() == t.num_rows, col


def test_names_come_from_the_locale_lists_and_agree_with_gender(world):
    _, t = world
    for r in t.select(["locale", "gender", "first_name", "last_name"]).to_pylist():
        tables = name_tables(r["locale"])
        assert r["first_name"] in tables[(r["gender"], "first")].native
        assert r["last_name"] in tables[(r["gender"], "last")].native


def test_polish_and_russian_surnames_agree_with_gender(small_cfg):
    t = make_identities(small_cfg(locales="pl_PL:0.5,ru_RU:0.5", rows=400, shard_rows=400), 0)
    rows = t.select(["locale", "gender", "last_name"]).to_pylist()
    ru_f = [r["last_name"] for r in rows if r["locale"] == "ru_RU" and r["gender"] == "female"]
    assert ru_f and sum(s.endswith(("а", "я")) for s in ru_f) / len(ru_f) > 0.9
    pl_f = [r["last_name"] for r in rows if r["locale"] == "pl_PL" and r["gender"] == "female"]
    assert not any(s.endswith(("ski", "cki")) for s in pl_f)


def test_latin_forms_and_handles(world):
    _, t = world
    for r in t.select(["username", "email", "first_name_latin", "last_name_latin"]).to_pylist():
        assert r["first_name_latin"].isascii() and r["last_name_latin"].isascii()
        assert re.fullmatch(r"[a-z]+[._]?[a-z]*\d+", r["username"]), r["username"]
        local, domain = r["email"].split("@")
        assert domain in EMAIL_DOMAINS
        assert re.fullmatch(r"[a-z]+\.?[a-z]*\d+", local), r["email"]
        # The handle is built from the romanized name, not from unrelated words.
        assert r["username"][0] in (r["first_name_latin"] + r["last_name_latin"]).lower()


def test_location_is_one_real_place_of_the_locale_country(world):
    _, t = world
    for r in t.slice(0, 400).to_pylist():
        assert r["country_code"] == LOCALES[r["locale"]].country
        assert r["language"] == LOCALES[r["locale"]].language
        cities = load_cities(r["country_code"])
        names = cities.name.to_pylist()
        assert r["city"] in names
        j = [k for k, n in enumerate(names) if n == r["city"]]
        matches = [
            k for k in j
            if cities.region[k].as_py() == r["region"]
            and cities.timezone[k].as_py() == r["timezone"]
            and abs(cities.latitude[k] - r["latitude"]) < 0.2
        ]  # fmt: skip
        assert matches, r


def test_phones_are_valid_e164_of_the_country(world):
    _, t = world
    for p, cc in zip(t["phone"].to_pylist(), t["country_code"].to_pylist(), strict=True):
        n = phonenumbers.parse(p)
        assert phonenumbers.is_valid_number(n), p
        assert phonenumbers.region_code_for_number(n) == cc, (p, cc)
        assert p == phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)


def test_phone_area_code_is_the_rows_city(small_cfg):
    # The engine hands each row's city to the phone plan: Berlin rows dial 030, Munich rows
    # 089, Hamburg rows 040, wherever they fall among the shards.
    t = all_shards(small_cfg(locales="de_DE:1", rows=3000, shard_rows=1000))
    heads = {"Berlin": "+4930", "Munich": "+4989", "Hamburg": "+4940"}
    seen = {c: 0 for c in heads}
    for city, phone in zip(t["city"].to_pylist(), t["phone"].to_pylist(), strict=True):
        if city in heads:
            seen[city] += 1
            assert phone.startswith(heads[city]), (city, phone)
    assert min(seen.values()) >= 10, seen


def test_us_phones_use_the_fictional_555_01xx_range(small_cfg):
    t = make_identities(small_cfg(locales="en_US:1", rows=300, shard_rows=300), 0)
    assert all(re.fullmatch(r"\+1\d{3}55501\d\d", p) for p in t["phone"].to_pylist())


def test_age_birthdate_and_account_dates_agree(world):
    cfg, t = world
    ref = cfg.reference_date
    birth = t["birthdate"].to_pylist()
    assert ages_at(birth, ref) == t["age"].to_pylist()
    for b, c in zip(birth, t["created_at"].to_pylist(), strict=True):
        assert thirteenth(b) <= c.date() < ref


def test_age_distribution_looks_like_social_media_users(world):
    _, t = world
    ages = np.array(t["age"].to_pylist())
    assert ages.min() >= 13 and ages.max() <= 80
    assert 0.45 < np.mean((ages >= 18) & (ages <= 34)) < 0.6  # the bulk of users
    assert np.mean(ages >= 65) < 0.08
    assert abs(age_pmf(13, 80).sum() - 1) < 1e-12


def test_occupation_fits_the_age(world):
    _, t = world
    for age, job in zip(t["age"].to_pylist(), t["occupation"].to_pylist(), strict=True):
        if age < 18:
            assert job == "High school student"
        if job == "Retired":
            assert age >= 50
        if job in ("Surgeon", "Professor"):
            assert age >= 30


def test_interests_and_account_numbers(world):
    _, t = world
    for r in t.select(
        ["interests", "followers_count", "following_count", "posts_count"]
    ).to_pylist():
        assert 2 <= len(r["interests"]) <= 5 and len(set(r["interests"])) == len(r["interests"])
        assert r["followers_count"] >= 0 and 0 <= r["following_count"] <= 7500
        assert r["posts_count"] >= 0
    followers = np.array(t["followers_count"].to_pylist())
    assert np.median(followers) < 200 < followers.max()  # heavy tail
    assert t["verified"].to_numpy().mean() < 0.05
    sites = t["website"].drop_null().to_pylist()
    assert 0.05 < len(sites) / t.num_rows < 0.2
    assert all(s.startswith("https://www.example.org/") for s in sites)


def test_display_name_order_follows_the_locale(world):
    _, t = world
    for r in t.select(["locale", "display_name", "first_name", "last_name"]).to_pylist():
        if LOCALES[r["locale"]].family_first:
            assert r["display_name"] == r["last_name"] + r["first_name"]
        else:
            assert r["display_name"] == f"{r['first_name']} {r['last_name']}"


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    ref=st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31)),
    lo=st.integers(13, 90),
    width=st.integers(0, 10),
)
def test_dates_hold_for_any_seed_reference_date_and_age_range(seed, ref, lo, width):
    hi = min(lo + width, 100)
    cfg = build_config(
        None, rows=64, shard_rows=64, seed=seed, locales="de_DE:1",
        reference_date=ref, age_min=lo, age_max=hi,
    )  # fmt: skip
    t = make_identities(cfg, 0)
    ages = t["age"].to_pylist()
    assert all(lo <= a <= hi for a in ages)
    birth = t["birthdate"].to_pylist()
    assert ages_at(birth, ref) == ages
    created = [c.date() for c in t["created_at"].to_pylist()]
    assert all(c < ref for c in created)
    assert all(c >= thirteenth(b) for b, c in zip(birth, created, strict=True))


def test_regional_locales_live_mostly_in_their_home_regions(small_cfg):
    for code, loc in LOCALES.items():
        known = set(load_cities(loc.country).region.to_pylist())
        assert set(loc.home_regions) <= known, (code, set(loc.home_regions) - known)
    t = make_identities(small_cfg(locales="fr_CA:0.5,en_US:0.5", rows=1000, shard_rows=1000), 0)
    rows = t.select(["locale", "region"]).to_pylist()
    fr = [r["region"] for r in rows if r["locale"] == "fr_CA"]
    share = sum(r in LOCALES["fr_CA"].home_regions for r in fr) / len(fr)
    assert 0.8 < share < 1.0  # mostly Quebec and New Brunswick, some elsewhere in Canada
