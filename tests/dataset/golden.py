"""Golden outputs: sha256s of every file a few fixed configs write, to prove a refactor
changed no byte.

Raw file hashes hold only for the package versions (and, for model columns, the CPU type)
they were recorded with, so each config also keeps a *content* digest that leaves out what
versions change: Parquet encoding and the `versions` block of the provenance. The test
compares raw hashes where versions and CPU match, content digests wherever the CPU does
(model outputs), and the model-free content everywhere.

    .venv/bin/python -m tests.dataset.golden   # re-record (explain why in the commit)
"""

import hashlib
import json
import platform
import re
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

GOLDEN = Path(__file__).with_name("golden.json")
# Columns a model writes: their bytes depend on the CPU's kernels, not only on the seed.
MODEL_COLUMNS = ("avatar", "bio", "bio_source", "bio_language")

CASES = {
    "fields": dict(rows=600, shard_rows=200, seed=7, locales="en_US:0.4,ja_JP:0.3,ar_SA:0.3",
                   avatars="none", bios="none", follows="none", posts="none", bots="none"),
    "gan": dict(rows=48, shard_rows=24, seed=3, locales="de_DE:0.5,ko_KR:0.5",
                avatars="gan", bios="none", follows="none", posts="none", bots="none"),
    "template": dict(rows=400, shard_rows=200, seed=11, avatars="none", bios="template",
                     follows="none", posts="none", bots="none"),
    "lm": dict(rows=16, shard_rows=8, seed=5, locales="en_US", avatars="none", bios="lm",
               follows="none", posts="lm", posts_lm_share=0.3, bots="none"),
    "social": dict(rows=300, shard_rows=100, seed=13, avatars="none", bios="template",
                   follows="graph", posts="template", bots="none"),
    "bots": dict(rows=400, shard_rows=200, seed=17, avatars="none", bios="template",
                 follows="graph", posts="template", bots="mixed", bot_share=0.3),
}  # fmt: skip


def cpu_type() -> str:
    """What decides a model's float results: the CPU model and its vector extensions."""
    name, flags = platform.machine(), ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = " ".join(sorted(f for f in line.split(":", 1)[1].split()
                                        if f.startswith(("avx", "amx", "fma"))))  # fmt: skip
                break
    except OSError:
        pass
    return f"{name} [{flags}]"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _table_digest(t: pa.Table, drop: tuple[str, ...] = ()) -> str:
    t = t.drop_columns([c for c in drop if c in t.column_names]).replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t.combine_chunks())
    return _sha(sink.getvalue().to_pybytes())


def _without_versions(prov: dict) -> dict:
    return {k: v for k, v in prov.items() if k != "versions"}


def _card_digest(text: str) -> str:
    def strip(m: re.Match) -> str:
        return "```json\n" + json.dumps(_without_versions(json.loads(m.group(1))), sort_keys=True)

    return _sha(re.sub(r"```json\n(.*?)\n```", strip, text, flags=re.S).encode())


def digest(out: Path) -> dict:
    """{"files": {rel: sha256}, "content": {...}, "model_free": {...}} of a dataset folder."""
    files, content, free = {}, {}, {}
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(out).as_posix()
        files[rel] = _sha(p.read_bytes())
        if rel.endswith(".parquet"):
            t = pq.read_table(p)
            prov = json.loads(t.schema.metadata[b"profilegen"])
            meta = _sha(json.dumps(_without_versions(prov), sort_keys=True).encode())
            content[rel] = _table_digest(t) + ":" + meta
            free[rel] = _table_digest(t, MODEL_COLUMNS)
        elif rel == "README.md":
            content[rel] = _card_digest(p.read_text())
    return {"files": files, "content": content, "model_free": free}


def versions() -> dict:
    from pipeline.dataset.writer import package_versions

    return package_versions()


def record(write_dataset, tmp: Path) -> dict:
    from pipeline.config import build_config

    cases = {}
    for name, kw in CASES.items():
        out = tmp / name
        write_dataset(build_config(None, **kw, out=str(out)), out)
        cases[name] = digest(out)
    return {"versions": versions(), "cpu": cpu_type(), "cases": cases}


if __name__ == "__main__":
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.conftest import _write_dataset

    with tempfile.TemporaryDirectory() as d:
        GOLDEN.write_text(json.dumps(record(_write_dataset, Path(d)), indent=1, sort_keys=True)
                          + "\n")  # fmt: skip
    print(f"recorded {GOLDEN}")
