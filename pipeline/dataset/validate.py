"""Checks a finished dataset against its promises: integrity first, then each stage's own
checks (pipeline/<stage>/stage.py), each recomputed from the data, not from generator
internals. Used by `profilegen inspect` and by the tests, so what a user can check is what
CI checks.
"""

import json

import pyarrow as pa

from pipeline import stages
from pipeline.config import build_config
from pipeline.dataset.storage import open_store
from pipeline.dataset.writer import PROFILES, Location, read_manifest, read_shard, shard_file
from pipeline.stages import Check

__all__ = ["Check", "load_table", "validate_dataset"]


def load_table(
    out: Location,
    table: str = PROFILES,
    columns: list[str] | None = None,
    n_shards: int | None = None,
) -> pa.Table:
    """One table of a dataset, all shards: of a finished dataset (its manifest), or, with
    `n_shards`, of a run still open (the files by name: stages measure before the manifest)."""
    out = open_store(out)
    if n_shards is None:
        n_shards = len(read_manifest(out)["shards"])
    files = [shard_file(i, n_shards, table) for i in range(n_shards)]
    return pa.concat_tables(read_shard(out, f, columns) for f in files)


def validate_dataset(out: Location) -> list[Check]:
    out = open_store(out)
    manifest = read_manifest(out)
    recorded = _recorded(manifest)
    bad = [f for f, s in recorded if out.sha256(f) != s]
    checks = [Check("shard checksums", not bad, f"{len(bad)} mismatched" if bad else
                    f"{len(recorded)} files verified")]  # fmt: skip
    try:
        t = load_table(out)
    except (OSError, pa.ArrowException) as e:  # a truncated shard: unreadable, not a traceback
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        return [*checks, Check("shards readable", False, first)]
    checks.append(Check("row count", t.num_rows == manifest["rows"],
                        f"{t.num_rows} rows, manifest says {manifest['rows']}"))  # fmt: skip
    # The stages this dataset was made with, from its own recorded config.
    prov = json.loads(t.schema.metadata[b"profilegen"])
    cfg = build_config(None, **_config_of(prov["config"]))
    for stage in stages.active(cfg):
        checks += stage.checks(t, out, manifest)
    return checks


def _recorded(manifest: dict) -> list[tuple[str, str]]:
    out = [(s["file"], s["sha256"]) for s in manifest["shards"]]
    out += [
        (t["file"], t["sha256"]) for s in manifest["shards"] for t in s.get("tables", {}).values()
    ]
    return out


def _config_of(fields: dict) -> dict:
    """The recorded (hashed) config fields, less what stages added (weight hashes). A stage
    that did not run leaves no selection field behind (it hashes as if absent): none."""
    from pipeline.config import GenerateConfig

    known = GenerateConfig.model_fields
    return {**dict.fromkeys(stages.selectors(), "none"),
            **{k: v for k, v in fields.items() if k in known}}  # fmt: skip
