"""Config fields of the posts stage."""

from typing import Literal

from pydantic import BaseModel, Field, model_validator

MAX_POSTS_DAYS = 3650  # ten years of posts: more is not a window, it is a platform's history


class Options(BaseModel):
    # lm: the LM writes a share of posts and replies (posts_lm_share), the gate judges, and
    # templates write the rest: a CPU cannot write millions of LM posts (README, Performance).
    posts: Literal["lm", "template", "none"] = Field(
        "lm", description="the posts table: lm (a share by the LM, the rest templated), "
        "template or none",
    )  # fmt: skip
    posts_days: int = Field(
        30, gt=0, le=MAX_POSTS_DAYS, description="days of posts before the reference date"
    )
    posts_lm_share: float = Field(
        0.05, ge=0, le=1, description="share of posts and replies the LM writes (--posts lm)"
    )
    post_max_new_tokens: int = Field(48, ge=8, le=200, description="LM tokens per post at most")

    @model_validator(mode="after")
    def _check_posts(self):
        # A knob set away from its default for posts that will not use it is a mistake;
        # the default itself is fine (a dumped config round-trips).
        def changed(names):
            return sorted(
                k for k in names if getattr(self, k) != type(self).model_fields[k].default
            )

        if self.posts == "none" and changed(("posts_days", *LM_FIELDS)):
            k = changed(("posts_days", *LM_FIELDS))[0]
            raise ValueError(f"{k} needs a posts table: pass --posts lm or template")
        if self.posts == "template" and changed(LM_FIELDS):
            raise ValueError(f"{changed(LM_FIELDS)[0]} needs --posts lm")
        return self


LM_FIELDS = ("posts_lm_share", "post_max_new_tokens")
