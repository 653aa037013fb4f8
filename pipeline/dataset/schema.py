"""The column contract: names, Arrow types and the Hugging Face features they map to.

Later stages append columns (avatar, avatar_attributes, bio, bio_source); the identity
columns below keep their names, order and types.
"""

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

# The Hugging Face Image feature is stored as this struct; `datasets` decodes it to PIL.
IMAGE_TYPE = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])

_HF_DTYPES = {
    pa.int16(): "int16",
    pa.int64(): "int64",
    pa.float64(): "float64",
    pa.string(): "string",
    pa.bool_(): "bool",
    pa.date32(): "date32",
    pa.binary(): "binary",
}


def hf_feature(t: pa.DataType) -> dict:
    """Arrow type -> Hugging Face `datasets` feature JSON (the subset our columns use)."""
    if t == IMAGE_TYPE:
        return {"_type": "Image"}
    if pa.types.is_timestamp(t):
        dtype = f"timestamp[{t.unit}" + (f", tz={t.tz}]" if t.tz else "]")
        return {"dtype": dtype, "_type": "Value"}
    if pa.types.is_list(t):
        return {"feature": hf_feature(t.value_type), "_type": "List"}
    if pa.types.is_struct(t):
        return {f.name: hf_feature(f.type) for f in t}
    return {"dtype": _HF_DTYPES[t], "_type": "Value"}


def hf_features(schema: pa.Schema) -> dict:
    return {f.name: hf_feature(f.type) for f in schema}
