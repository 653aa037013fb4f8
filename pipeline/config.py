"""The generation config: one pydantic model, from defaults, a YAML/TOML file and overrides.

Everything that changes the bytes of the dataset lives here and is hashed into
`config_hash`; run options that don't (where to write, how many workers) are kept out of
the hash so a moved or resumed dataset still matches.
"""

import datetime as dt
import hashlib
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import ProfilegenError
from pipeline.identity.locales import DEFAULT_MIX, get_locale

# Fields that say where and how to run, not what to make.
RUN_FIELDS = ("out", "workers", "avatar_checkpoint", "bio_model", "runner", "dask_address")


class GenerateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rows: int = Field(1000, gt=0, description="number of profiles")
    seed: int = Field(0, ge=0, lt=2**63, description="the one seed every random draw derives from")
    locales: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MIX))
    shard_rows: int = Field(50_000, gt=0, description="rows per Parquet shard")
    # A fixed date, not today: ages and account dates must not drift between runs.
    reference_date: dt.date = dt.date(2026, 1, 1)
    age_min: int = Field(13, ge=13, le=100)
    age_max: int = Field(80, ge=13, le=100)
    female_share: float = Field(0.5, ge=0.0, le=1.0)
    # gan: the shipped checkpoint (models/avatar-gan-64) unless avatar_checkpoint says otherwise.
    avatars: Literal["none", "gan"] = "gan"
    avatar_checkpoint: str | None = Field(None, description="GAN checkpoint dir (default: shipped)")
    avatar_size: int | None = Field(None, ge=16, le=1024, description="resize avatars to this")
    # lm: SmolLM2 (or bio_model) writes, the quality gate judges, templates catch the rest.
    bios: Literal["none", "template", "lm"] = "lm"
    bio_model: str | None = Field(None, description="HF causal-LM dir or hub id (default: SmolLM2)")
    bio_language: Literal["native", "en"] = "native"
    bio_temperature: float = Field(0.7, gt=0, le=2)
    bio_top_k: int = Field(40, ge=1, le=1000)
    bio_top_p: float = Field(0.92, gt=0, le=1)
    bio_repetition_penalty: float = Field(1.15, ge=1, le=2)
    bio_max_new_tokens: int = Field(40, ge=8, le=200)
    bio_batch_size: int = Field(64, ge=1, le=4096)
    bio_retries: int = Field(3, ge=0, le=10, description="LM resamples before the template")
    bio_dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    out: str = "output/demo"
    workers: int = Field(2, gt=0, le=64, description="shards made at once")
    # How shards are spread: threads of this process, a process pool, or Dask workers (a
    # local cluster of `workers` processes, or the scheduler at dask_address).
    runner: Literal["thread", "process", "dask"] = "thread"
    dask_address: str | None = Field(None, description="Dask scheduler, tcp://HOST:PORT")

    @field_validator(
        "seed", "rows", "shard_rows", "age_min", "age_max", "workers", "avatar_size",
        "bio_top_k", "bio_max_new_tokens", "bio_batch_size", "bio_retries", mode="before",
    )  # fmt: skip
    @classmethod
    def _integer(cls, v: Any) -> Any:
        # pydantic's lax mode would take 1.0 or True for an int; a seed of 1.5 is a mistake.
        if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
            raise ValueError(f"must be an integer, got {v!r}")
        if isinstance(v, str):
            try:
                return int(v)
            except ValueError:
                raise ValueError(f"must be an integer, got {v!r}") from None
        return v

    @field_validator("dask_address")
    @classmethod
    def _dask_address(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"(tcp|tls)://[^/\s]+:\d+", v):
            raise ValueError(f"expected tcp://HOST:PORT, got {v!r}")
        return v

    @model_validator(mode="before")
    @classmethod
    def _address_means_dask(cls, data: Any) -> Any:
        # --dask-address alone is enough to ask for the Dask runner.
        if isinstance(data, dict) and data.get("dask_address") and data.get("runner") is None:
            data = {**data, "runner": "dask"}
        return data

    @field_validator("locales", mode="before")
    @classmethod
    def _locales(cls, v: Any) -> Any:
        return parse_locales(v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _check(self) -> "GenerateConfig":
        if not self.locales:
            raise ValueError("locales: give at least one locale")
        for code, w in self.locales.items():
            get_locale(code)
            if not (w > 0 and math.isfinite(w)):
                raise ValueError(f"locales: weight of {code} must be > 0, got {w}")
        total = sum(self.locales.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"locales: weights sum to {total:g}, not 1")
        if self.dask_address and self.runner != "dask":
            raise ValueError(f"dask_address needs runner dask, not {self.runner}")
        if self.age_min > self.age_max:
            raise ValueError(f"age_min {self.age_min} is above age_max {self.age_max}")
        return self

    @property
    def n_shards(self) -> int:
        return -(-self.rows // self.shard_rows)

    def dataset_fields(self) -> dict[str, Any]:
        """The fields that determine the output bytes, JSON-ready, locales in sorted order."""
        d = self.model_dump(mode="json", exclude=set(RUN_FIELDS))
        d["locales"] = dict(sorted(d["locales"].items()))
        if self.avatars == "gan":
            # The checkpoint's bytes, not its path, decide the avatars.
            d["avatar_model_sha256"] = avatar_model_sha256(self.avatar_checkpoint)
        if self.bios == "lm":
            from pipeline.lm.weights import bio_model_sha256

            d["bio_model_sha256"] = bio_model_sha256(self.bio_model)
        else:  # sampling settings only matter to the LM
            for k in [k for k in d if k.startswith("bio_")]:
                del d[k]
        return d

    @property
    def config_hash(self) -> str:
        blob = json.dumps(self.dataset_fields(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def avatar_model_sha256(checkpoint: str | None) -> str:
    # Imported here: torch costs seconds to import and most commands never need it.
    from pipeline.avatars.stage import load_avatar_model, resolve_checkpoint

    return load_avatar_model(resolve_checkpoint(checkpoint))[1]


def parse_locales(spec: str) -> dict[str, float]:
    """'en_US:0.6,ja_JP:0.4' -> {'en_US': 0.6, 'ja_JP': 0.4}; a lone 'de_DE' weighs 1."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        code, _, weight = part.partition(":")
        code = code.strip()
        get_locale(code)
        try:
            out[code] = float(weight) if weight else 1.0
        except ValueError:
            raise ProfilegenError(
                f"--locales: weight of {code} is not a number: {weight!r}"
            ) from None
    if not out:
        raise ProfilegenError("--locales: give at least one locale, e.g. en_US:0.6,ja_JP:0.4")
    return out


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
