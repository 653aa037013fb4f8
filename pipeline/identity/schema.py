"""The identity columns: names, order and Arrow types. Later stages append theirs."""

import pyarrow as pa

IDENTITY_FIELDS: list[pa.Field] = [
    pa.field("user_id", pa.int64(), nullable=False),
    pa.field("username", pa.string(), nullable=False),
    pa.field("display_name", pa.string(), nullable=False),
    pa.field("first_name", pa.string(), nullable=False),
    pa.field("last_name", pa.string(), nullable=False),
    pa.field("first_name_latin", pa.string(), nullable=False),
    pa.field("last_name_latin", pa.string(), nullable=False),
    pa.field("gender", pa.string(), nullable=False),
    pa.field("birthdate", pa.date32(), nullable=False),
    pa.field("age", pa.int16(), nullable=False),
    pa.field("email", pa.string(), nullable=False),
    pa.field("phone", pa.string(), nullable=False),
    pa.field("locale", pa.string(), nullable=False),
    pa.field("language", pa.string(), nullable=False),
    pa.field("country_code", pa.string(), nullable=False),
    pa.field("city", pa.string(), nullable=False),
    pa.field("region", pa.string(), nullable=False),
    pa.field("latitude", pa.float64(), nullable=False),
    pa.field("longitude", pa.float64(), nullable=False),
    pa.field("timezone", pa.string(), nullable=False),
    pa.field("occupation", pa.string(), nullable=False),
    pa.field("interests", pa.list_(pa.string()), nullable=False),
    pa.field("website", pa.string(), nullable=True),
    # Parquet has no seconds unit: ms is what readers get back, so declare ms (whole seconds).
    pa.field("created_at", pa.timestamp("ms", tz="UTC"), nullable=False),
    pa.field("followers_count", pa.int64(), nullable=False),
    pa.field("following_count", pa.int64(), nullable=False),
    pa.field("posts_count", pa.int64(), nullable=False),
    pa.field("verified", pa.bool_(), nullable=False),
]

IDENTITY_SCHEMA = pa.schema(IDENTITY_FIELDS)
IDENTITY_COLUMNS = [f.name for f in IDENTITY_FIELDS]
