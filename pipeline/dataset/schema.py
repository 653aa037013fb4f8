"""Arrow types shared by stages and the Hugging Face features they map to.

Each stage declares its own columns (pipeline/<stage>/); this module knows only how any
column is typed for the Hub.
"""

import pyarrow as pa

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
