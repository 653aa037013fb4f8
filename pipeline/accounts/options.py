"""Config fields of the accounts stage: how many bots, of which classes, how well hidden."""

from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

BOT_CLASSES = ("spammer", "fake_follower", "astroturf", "self_declared", "financial")
# TwiBot-22's class shares are not published per Botometer class; this mix keeps every class
# large enough to score (>= 10% of bots) with fake followers, the commonest bought kind, first.
DEFAULT_MIX = {"spammer": 0.25, "fake_follower": 0.30, "astroturf": 0.20,
               "self_declared": 0.10, "financial": 0.15}  # fmt: skip


class Options(BaseModel):
    bots: Literal["mixed", "none"] = Field(
        "mixed", description="account types: mixed (labelled bots among humans) or none"
    )
    # 10%: inside Varol et al. 2017's 9-15% estimate of bots among active Twitter accounts,
    # a little under TwiBot-22's 14% (a benchmark enriched for bots on purpose).
    bot_share: float = Field(0.10, gt=0, le=0.9, description="share of accounts that are bots")
    bot_mix: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_MIX),
        description="weights of the bot classes (spammer, fake_follower, astroturf, "
        "self_declared, financial)",
    )
    bot_difficulty: Literal["easy", "medium", "hard"] = Field(
        "medium", description="how strong the bots' tells are: easy, medium or hard"
    )
    campaign_size: int = Field(
        20, ge=2, le=10_000, description="mean accounts per astroturf campaign"
    )

    @field_validator("bot_mix", mode="before")
    @classmethod
    def _mix(cls, v):
        # "spammer:0.5,financial:0.5" on the command line, a table in a config file.
        if isinstance(v, str):
            out = {}
            for part in filter(None, (p.strip() for p in v.split(","))):
                name, _, w = part.partition(":")
                try:
                    out[name.strip()] = float(w)
                except ValueError:
                    raise ValueError(f"expected class:weight, got {part!r}") from None
            v = out
        return v

    @model_validator(mode="after")
    def _check_bots(self):
        unknown = sorted(set(self.bot_mix) - set(BOT_CLASSES))
        if unknown:
            raise ValueError(f"bot_mix: unknown class {unknown[0]!r} (one of "
                             f"{', '.join(BOT_CLASSES)})")  # fmt: skip
        if any(not w >= 0 for w in self.bot_mix.values()) or not sum(self.bot_mix.values()) > 0:
            raise ValueError("bot_mix: weights must be >= 0 and not all 0")
        if self.bots == "none":
            for k in ("bot_share", "bot_difficulty", "campaign_size"):
                if getattr(self, k) != type(self).model_fields[k].default:
                    raise ValueError(f"{k} needs bots: pass --bots mixed")
            if self.bot_mix != DEFAULT_MIX:
                raise ValueError("bot_mix needs bots: pass --bots mixed")
        return self
