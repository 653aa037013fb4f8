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
