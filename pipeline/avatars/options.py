"""Config fields of the avatar stage."""

from typing import Literal

from pydantic import BaseModel, Field


class Options(BaseModel):
    # gan: the shipped checkpoint (models/avatar-gan-64) unless avatar_checkpoint says otherwise.
    avatars: Literal["none", "gan"] = Field("gan", description="avatar source")
    # A run field: the checkpoint's bytes, not its path, decide the avatars (see fingerprint).
    avatar_checkpoint: str | None = Field(
        None, description="GAN checkpoint dir (default: models/avatar-gan-64, shipped)",
        json_schema_extra={"run": True},
    )  # fmt: skip
    avatar_size: int | None = Field(
        None, ge=16, le=1024, description="resize avatars to this many pixels (default: native)"
    )
    # Like bio_retries: 0 draws one image per row, as before the option existed (same hash).
    avatar_retries: int = Field(
        3, ge=0, le=10, description="redraws of an avatar whose gender, age band or skin tone "
        "reads back (attribute net) other than the row's, the best-agreeing draw kept; 0: off",
    )  # fmt: skip
