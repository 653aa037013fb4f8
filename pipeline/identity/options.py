"""Config fields of the identity stage: who the people are."""

import math
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from pipeline.errors import ProfilegenError
from pipeline.identity.locales import DEFAULT_MIX, get_locale


class Options(BaseModel):
    locales: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_MIX),
        description="weighted locale mix, e.g. en_US:0.6,ja_JP:0.4 (default: the world mix)",
    )
    age_min: int = Field(13, ge=13, le=100, description="youngest age")
    age_max: int = Field(80, ge=13, le=100, description="oldest age")
    female_share: float = Field(0.5, ge=0.0, le=1.0, description="share of female rows")

    @field_validator("locales", mode="before")
    @classmethod
    def _locales(cls, v: Any) -> Any:
        return parse_locales(v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _check_identity(self):
        if not self.locales:
            raise ValueError("locales: give at least one locale")
        for code, w in self.locales.items():
            get_locale(code)
            if not (w > 0 and math.isfinite(w)):
                raise ValueError(f"locales: weight of {code} must be > 0, got {w}")
        total = sum(self.locales.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"locales: weights sum to {total:g}, not 1")
        if self.age_min > self.age_max:
            raise ValueError(f"age_min {self.age_min} is above age_max {self.age_max}")
        return self


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
