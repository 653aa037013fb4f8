import re

import numpy as np
import phonenumbers
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import geocoder

from pipeline.errors import ProfilegenError
from pipeline.identity import phones as phones_module
from pipeline.identity.gazetteer import UnknownCountryError, load_cities, sample_cities
from pipeline.identity.phones import NANP_ABBREV, make_phones, phone_plan

# The brief's countries plus every country a locale uses.
COUNTRIES = "US GB IN DE FR ES MX BR IT NL PL TR SE ID JP CN RU KR EG SA CA AU CO VN TH UA".split()
US_STATES = sorted(
    v for k, v in NANP_ABBREV.items() if k not in "AB BC MB NB NL NS NT NU ON PE QC SK YT"
)


# Two far-apart cities of every country a locale uses (gazetteer spelling), and what
# phonenumbers' own geocoder says of each one's numbers (in English; a regex). US and CA
# numbers are fictional 555-01XX ones, which phonenumbers places by state or province only:
# their area code must also be one phonenumbers lists a place for within 30 km of the city
# (the metro's codes: Seattle's 206 and Bellevue's 425).
FOLLOW = {
    "US": [("Seattle", "Washington"), ("Miami", "Florida")],
    "CA": [("Vancouver", "British Columbia"), ("Toronto", "Ontario|Toronto")],
    "GB": [("London", "London"), ("Glasgow", "Glasgow")],  # Ofcom drama ranges
    "IN": [("Mumbai", "Mumbai"), ("Kolkata", "Kolkata")],
    "DE": [("Berlin", "Berlin"), ("Munich", "Munich")],
    "ES": [("Madrid", "Madrid"), ("Barcelona", "Barcelona")],
    "MX": [("Mexico City", "Mexico City"), ("Monterrey", "Monterrey")],
    "CO": [("Bogotá", "Bogotá"), ("Medellín", "Medellín")],
    "BR": [("São Paulo", "São Paulo"), ("Porto Alegre", "Porto Alegre")],
    "IT": [("Milan", "Milan"), ("Palermo", "Palermo")],
    "NL": [("Amsterdam", "Amsterdam"), ("Groningen", "Groningen")],
    "PL": [("Warsaw", "Warsaw"), ("Kraków", "Kraków")],
    "TR": [("Ankara", "Ankara"), ("İzmir", "Izmir")],
    "SE": [("Stockholm", "Stockholm"), ("Malmö", "Malmö")],
    "ID": [("Surabaya", "Surabaya"), ("Medan", "Medan")],
    "VN": [("Hanoi", "Hanoi"), ("Ho Chi Minh City", "Ho Chi Minh City")],
    "TH": [("Bangkok", "Bangkok"), ("Chiang Mai", "Chiang Mai")],
    "JP": [("Tokyo", "Tokyo"), ("Sapporo", "Sapporo")],
    "CN": [("Beijing", "Beijing"), ("Chengdu", "Chengdu")],
    "KR": [("Seoul", "Seoul"), ("Busan", "Busan")],
    "RU": [("Moscow", "Moscow"), ("Novosibirsk", "Novosibirsk")],
    "UA": [("Kyiv", "Kyiv"), ("Lviv", "Lviv")],
    "SA": [("Riyadh", "Riyadh"), ("Jeddah", "Jeddah")],
}
# France's fiction ranges: phonenumbers names no place for them, so the zone's range itself.
FR_ZONES = [("Paris", "+3319900"), ("Rennes", "+3326191"), ("Strasbourg", "+3335301"),
            ("Marseille", "+3346571"), ("Bordeaux", "+3353649")]  # fmt: skip


def _city(cities, name: str) -> int:
    """The most populous city of that name."""
    found = [i for i, n in enumerate(cities.name.to_pylist()) if n == name]
    assert found, name
    return max(found, key=lambda i: cities.population[i])


def _npa_near(cities, i: int, npa: str, km: float = 30.0) -> bool:
    """Whether phonenumbers lists, under a NANP area code, a place ("Seattle, WA") that is
    a gazetteer city of the same name and state within `km` of city i."""
    from phonenumbers.geodata import GEOCODE_DATA

    names = {d["en"].rsplit(", ", 1)[0] for k, d in GEOCODE_DATA.items()
             if k.startswith("1" + npa) and "en" in d}  # fmt: skip
    region = cities.region[i].as_py()
    lat, lon = np.radians(cities.latitude), np.radians(cities.longitude)
    pairs = zip(cities.name.to_pylist(), cities.region.to_pylist(), strict=True)
    for j, (n, r) in enumerate(pairs):
        if n in names and r == region:
            dx = (lon[j] - lon[i]) * np.cos(lat[i])
            if np.hypot(dx, lat[j] - lat[i]) * 6371 <= km:
                return True
    return False


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


@pytest.mark.parametrize("cc", sorted(FOLLOW))
def test_area_code_follows_the_city(cc):
    # Rows of two far-apart cities: every number geocodes (phonenumbers, offline) to the
    # row's own city or region, never the other one's.
    cities = load_cities(cc)
    seen = []
    for name, expect in FOLLOW[cc]:
        i = _city(cities, name)
        phones = make_phones(np.random.default_rng(9), cc, 40, cities=np.full(40, i)).to_pylist()
        _check_valid(phones, cc)
        for p in phones:
            desc = geocoder.description_for_number(phonenumbers.parse(p), "en")
            assert re.search(expect, desc), (name, p, desc)
            if cc in ("US", "CA"):
                assert _npa_near(cities, i, p[2:5]), (name, p)
        seen.append({p[: len(p) - 4] for p in phones})
    assert not seen[0] & seen[1]  # the two cities share no leading digits


def test_french_zones_follow_the_region():
    cities = load_cities("FR")
    for name, head in FR_ZONES:
        i = _city(cities, name)
        phones = make_phones(np.random.default_rng(10), "FR", 30, cities=np.full(30, i))
        assert all(p.startswith(head) for p in phones.to_pylist()), name


def test_gb_drama_range_is_the_nearest_citys():
    # Newcastle's is Tyneside's 0191; Exeter has none of its own: Bristol's 0117 is nearest
    # in England; Swansea takes Wales's Cardiff 029.
    cities = load_cities("GB")
    for name, head in [("Newcastle upon Tyne", "+44191"), ("Exeter", "+44117"),
                       ("Swansea", "+442920")]:  # fmt: skip
        i = _city(cities, name)
        phones = make_phones(np.random.default_rng(11), "GB", 30, cities=np.full(30, i))
        assert all(p.startswith(head) for p in phones.to_pylist()), name


def test_every_city_has_an_area_of_its_own_country():
    # Every gazetteer city of every locale country maps to a segment (none is left to the
    # whole-country draw), and its numbers are valid.
    for cc in FOLLOW:
        plan, cities = phone_plan(cc), load_cities(cc)
        assert len(plan.cities) == len(cities) and (plan.cities > 0).all(), cc
        idx = np.arange(0, len(cities), max(1, len(cities) // 50))
        phones = make_phones(np.random.default_rng(12), cc, len(idx), cities=idx)
        _check_valid(phones.to_pylist(), cc)


def test_one_draw_from_the_callers_generator():
    # Whatever the plan, make_phones takes exactly one draw from the caller's stream, so a
    # change of plan leaves every other column of a shard alone.
    a, b = np.random.default_rng(13), np.random.default_rng(13)
    make_phones(a, "DE", 500, cities=np.zeros(500, dtype=np.int64))
    b.integers(0, 2**62)
    assert a.random() == b.random()


def test_cities_of_the_wrong_length_are_an_error():
    with pytest.raises(ValueError, match="cities has 2 entries for 3 phones"):
        make_phones(np.random.default_rng(0), "DE", 3, cities=np.array([0, 1]))


def test_plan_from_the_disk_cache_equals_a_fresh_one():
    phone_plan("SE")  # on disk now
    cached = phone_plan.__wrapped__("SE")
    fresh = phones_module._build_plan("SE")
    for field in ("digits", "plen", "cum", "rows", "seg_end", "cities"):
        assert np.array_equal(getattr(cached, field), getattr(fresh, field)), field
    assert cached.regions == fresh.regions and cached.length == fresh.length
    assert cached.language == fresh.language == "en"


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
