"""The generation config: one pydantic model, from defaults, a YAML/TOML file and overrides.

GenerateConfig is composed of the run's own fields (below) and every registered stage's
`Options` (pipeline/<stage>/options.py), so a stage brings its knobs with it. Everything
that changes the bytes of the dataset is hashed into `config_hash`; fields marked `run`
(where to write, how many workers, which path a checkpoint sits at) are kept out of the
hash so a moved or resumed dataset still matches.
"""

import datetime as dt
import hashlib
import json
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline import stages
from pipeline.errors import ProfilegenError

RUN = {"run": True}
# Shard files are named train-NNNNN-of-NNNNN: five digits. Past that a run can't be planned.
MAX_SHARDS = 99_999
# Row indices, ids and handle numbers are computed in 64-bit integers; a trillion rows is far
# beyond any run that could finish, and far inside what those integers hold.
MAX_ROWS = 10**12


class RunOptions(BaseModel):
    rows: int = Field(1000, gt=0, le=MAX_ROWS, description="number of profiles")
    seed: int = Field(0, ge=0, lt=2**63, description="the one seed every random draw derives from")
    # A fixed date, not today: ages and account dates must not drift between runs.
    reference_date: dt.date = Field(dt.date(2026, 1, 1), description="date ages are computed at")
    shard_rows: int = Field(50_000, gt=0, description="rows per Parquet shard")
    out: str = Field("output/demo", description="output directory or URL (s3://bucket/prefix)",
                     json_schema_extra=RUN)  # fmt: skip
    workers: int = Field(2, gt=0, le=64, description="shards made at once", json_schema_extra=RUN)
    # How shards are spread: threads of this process, a process pool, or Dask workers (a
    # local cluster of `workers` processes, or the scheduler at dask_address).
    runner: Literal["thread", "process", "dask"] = Field(
        "thread", description="where shards run", json_schema_extra=RUN
    )
    dask_address: str | None = Field(
        None, description="Dask scheduler tcp://HOST:PORT (default: a local cluster)",
        json_schema_extra=RUN,
    )  # fmt: skip

    @model_validator(mode="before")
    @classmethod
    def _integers(cls, data: Any) -> Any:
        # pydantic's lax mode would take 1.0 or True for an int; a seed of 1.5 is a mistake.
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name, f in cls.model_fields.items():
            if name in data and _is_int(f.annotation):
                data[name] = _integer(name, data[name])
        # --dask-address alone is enough to ask for the Dask runner.
        if data.get("dask_address") and data.get("runner") is None:
            data["runner"] = "dask"
        return data

    @field_validator("dask_address")
    @classmethod
    def _dask_address(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"(tcp|tls)://[^/\s]+:\d+", v):
            raise ValueError(f"expected tcp://HOST:PORT, got {v!r}")
        return v

    @model_validator(mode="after")
    def _check_run(self):
        if self.dask_address and self.runner != "dask":
            raise ValueError(f"dask_address needs runner dask, not {self.runner}")
        if self.n_shards > MAX_SHARDS:
            raise ValueError(
                f"{self.rows:,} rows in shards of {self.shard_rows:,} make {self.n_shards:,} "
                f"shards, more than the {MAX_SHARDS:,} a run can plan; raise --shard-rows"
            )
        return self

    @property
    def n_shards(self) -> int:
        return -(-self.rows // self.shard_rows)

    def dataset_fields(self) -> dict[str, Any]:
        """The fields that determine the output bytes, JSON-ready, locales in sorted order.
        Stages add their weight-file hashes and drop knobs that don't apply (no model load,
        no network: see Stage.fingerprint)."""
        d = self.model_dump(mode="json", exclude=run_fields())
        d["locales"] = dict(sorted(d["locales"].items()))
        for s in stages.registered():
            s.fingerprint(self, d)
        return d

    @property
    def config_hash(self) -> str:
        blob = json.dumps(self.dataset_fields(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def run_fields() -> set[str]:
    """Fields that say where and how to run, not what to make: kept out of the hash."""
    return {n for n, f in GenerateConfig.model_fields.items()
            if (f.json_schema_extra or {}).get("run")}  # fmt: skip


def field_order() -> list[str]:
    """The run's fields, then each stage's in stage order (pydantic's own order is the MRO's)."""
    return list(RunOptions.model_fields) + [
        n
        for m in stages.option_mixins()
        for n in m.model_fields
        if n not in RunOptions.model_fields
    ]


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return int in typing.get_args(annotation)
    return False


def _integer(name: str, v: Any) -> Any:
    if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
        raise ProfilegenError(f"{name}: must be an integer, got {v!r}")
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            raise ProfilegenError(f"{name}: must be an integer, got {v!r}") from None
    return v


class GenerateConfig(RunOptions, *stages.option_mixins()):
    model_config = ConfigDict(extra="forbid", frozen=True)


def read_config_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ProfilegenError(f"config file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        elif path.suffix == ".toml":
            data = tomllib.loads(text)
        else:
            raise ProfilegenError(f"config file {path}: use a .yaml, .yml or .toml file")
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ProfilegenError(f"config file {path} is malformed: {first}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ProfilegenError(f"config file {path} must hold a mapping of keys to values")
    known = set(GenerateConfig.model_fields)
    for key in data:
        if key not in known:
            raise ProfilegenError(
                f"config file {path}: unknown key {key!r} (known: {', '.join(sorted(known))})"
            )
    return data


def build_config(file: str | Path | None = None, **overrides: Any) -> GenerateConfig:
    """Defaults <- config file <- overrides (None means 'not given')."""
    values = read_config_file(file) if file else {}
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return GenerateConfig(**values)
    except ValidationError as e:
        raise ProfilegenError(_one_line(e)) from None


def _one_line(e: ValidationError) -> str:
    err = e.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if where and not msg.startswith(where):
        return f"{where}: {msg}"
    return msg
