"""Config fields of the bio stage. The sampling knobs are the one source of their defaults:
pipeline.lm's SampleConfig is built from them."""

from typing import Literal

from pydantic import BaseModel, Field


class Options(BaseModel):
    # lm: SmolLM2 (or bio_model) writes, the quality gate judges, templates catch the rest.
    bios: Literal["none", "template", "lm"] = Field(
        "lm", description="bio source: lm (the LM + quality gate), template or none"
    )
    bio_model: str | None = Field(
        None, description="HF causal-LM dir or hub id with a chat template (default: SmolLM2)",
        json_schema_extra={"run": True},
    )  # fmt: skip
    bio_language: Literal["native", "en"] = Field(
        "native", description="native (the row's language where the model writes it) or en"
    )
    bio_temperature: float = Field(0.7, gt=0, le=2, description="LM sampling temperature")
    bio_top_k: int = Field(40, ge=1, le=1000, description="LM top-k")
    bio_top_p: float = Field(0.92, gt=0, le=1, description="LM nucleus")
    bio_repetition_penalty: float = Field(1.15, ge=1, le=2, description="LM repetition penalty")
    bio_max_new_tokens: int = Field(40, ge=8, le=200, description="LM tokens per bio at most")
    # 256: decoding wants many rows per step (its matmuls starve on few); prompts still run
    # 64 rows at a time (pipeline/lm/sampling.py PREFILL_ROWS). 2 cores: 19.1 -> 21.2 bios/s.
    bio_batch_size: int = Field(256, ge=1, le=4096, description="rows per LM batch")
    bio_retries: int = Field(3, ge=0, le=10, description="LM resamples before the template")
    bio_dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="LM compute dtype (auto: by CPU features, bf16 where it is faster)"
    )
