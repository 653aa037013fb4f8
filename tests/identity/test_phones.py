import re

import numpy as np
import phonenumbers
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import geocoder

from pipeline.errors import ProfilegenError
from pipeline.identity.gazetteer import UnknownCountryError, load_cities, sample_cities
from pipeline.identity.phones import NANP_ABBREV, make_phones, phone_plan

# The brief's countries plus every country a locale uses.
COUNTRIES = "US GB IN DE FR ES MX BR IT NL PL TR SE ID JP CN RU KR EG SA CA AU CO VN TH UA".split()
US_STATES = sorted(
    v for k, v in NANP_ABBREV.items() if k not in "AB BC MB NB NL NS NT NU ON PE QC SK YT"
)


def _check_valid(phones: list[str], cc: str):
    code = str(phonenumbers.country_code_for_region(cc))
    for p in phones:
        assert p.startswith("+" + code), (p, cc)
        n = phonenumbers.parse(p)
        assert phonenumbers.is_valid_number(n), (p, cc)
        assert phonenumbers.region_code_for_number(n) == cc, (p, cc)
        assert p == phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize("cc", COUNTRIES)
def test_phones_are_valid_e164_of_the_country(cc):
    rng = np.random.default_rng(1)
    out = make_phones(rng, cc, 200)
    assert isinstance(out, pa.StringArray) and len(out) == 200 and out.null_count == 0
    _check_valid(out.to_pylist(), cc)
    if cc not in ("US", "CA", "GB", "FR", "AU"):  # mobiles from the whole plan, not one block
        assert len(set(out.to_pylist())) > 190


@pytest.mark.parametrize("cc", ["US", "CA", "GB", "FR", "AU"])
def test_phones_follow_the_cities_regions(cc):
    # Regions as the gazetteer spells them: every one must reach the phone plan's table.
    cities = load_cities(cc)
    names = sorted(set(cities.region.to_pylist()))
    assert all(phone_plan(cc).regions.get(re.sub(r"[^0-9a-z]", "", n.lower())) for n in names)
    rng = np.random.default_rng(2)
    regions = cities.region.take(sample_cities(rng, cities, 300))
    _check_valid(make_phones(rng, cc, 300, regions).to_pylist(), cc)


@pytest.mark.parametrize("cc", ["US", "CA"])
def test_nanp_phones_are_in_the_555_01xx_range(cc):
    phones = make_phones(np.random.default_rng(3), cc, 2000).to_pylist()
    assert all(re.fullmatch(r"\+1[2-9]\d\d55501\d\d", p) for p in phones)
    assert len({p[2:5] for p in phones}) > 40  # many area codes, not one


def _state_of(phone: str) -> str:
    desc = geocoder.description_for_number(phonenumbers.parse(phone), "en")
    return NANP_ABBREV[desc.rsplit(", ", 1)[1]] if ", " in desc else desc


def test_us_area_code_is_in_the_rows_state():
    regions = np.array(US_STATES * 20, dtype=object)
    phones = make_phones(np.random.default_rng(4), "US", len(regions), regions).to_pylist()
    aliases = {"Washington State": "Washington", "Washington D.C.": "District of Columbia"}
    for p, state in zip(phones, regions, strict=True):
        assert aliases.get(_state_of(p), _state_of(p)) == state, (p, state)


def test_regional_ranges_elsewhere():
    rng = np.random.default_rng(5)
    gb = make_phones(rng, "GB", 200, np.array(["Scotland"] * 100 + ["Wales"] * 100)).to_pylist()
    assert all(p[3:6] in ("131", "141") for p in gb[:100])  # Edinburgh, Glasgow
    assert all(p.startswith("+442920180") for p in gb[100:])  # Cardiff
    fr = make_phones(rng, "FR", 100, np.array(["Ile-de-France"] * 100)).to_pylist()
    assert all(p.startswith("+3319900") for p in fr)
    au = make_phones(rng, "AU", 300, np.array(["Queensland"] * 300)).to_pylist()
    assert all(re.fullmatch(r"\+617(5550|7010)\d{4}|\+61491\d{6}", p) for p in au)


def test_unknown_or_missing_regions_fall_back_to_the_whole_country():
    regions = pa.array(["Atlantis", None, "California", ""] * 50)
    phones = make_phones(np.random.default_rng(6), "US", 200, regions).to_pylist()
    _check_valid(phones, "US")
    assert all(_state_of(p) == "California" for p in phones[2::4])


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(COUNTRIES), st.integers(0, 2**32 - 1), st.integers(0, 300))
def test_deterministic_for_the_same_rng_state(cc, seed, n):
    a = make_phones(np.random.default_rng(seed), cc, n)
    b = make_phones(np.random.default_rng(seed), cc, n)
    assert a.equals(b) and len(a) == n
    _check_valid(a.to_pylist()[:5], cc)


def test_different_seeds_differ():
    a = make_phones(np.random.default_rng(7), "DE", 100).to_pylist()
    b = make_phones(np.random.default_rng(8), "DE", 100).to_pylist()
    assert a != b


@pytest.mark.parametrize("cc", ["XX", "ZZ"])
def test_unknown_country_is_a_clear_error(cc):
    with pytest.raises(UnknownCountryError, match="country code") as e:
        make_phones(np.random.default_rng(0), cc, 3)
    assert isinstance(e.value, ProfilegenError)
