"""Config fields of the follow-graph stage."""

from typing import Literal

from pydantic import BaseModel, Field, model_validator

# The default mean out-degree: in LDBC's range for datasets of 1k-100k people (~20-40).
DEFAULT_MEAN_FOLLOWS = 30.0


class Options(BaseModel):
    follows: Literal["graph", "none"] = Field(
        "graph", description="the follows table: graph (who follows whom) or none"
    )
    mean_follows: float | None = Field(
        None, gt=0, description="mean follows per user within the dataset "
        f"(default: {DEFAULT_MEAN_FOLLOWS:g}, less where the dataset is too small for it)",
    )  # fmt: skip
    reciprocity: float = Field(
        0.36, ge=0, le=1, description="share of follows that are followed back (edge-based)"
    )
    # Config-file keys for the graph's shape; the defaults follow LDBC's 45/45/10 split.
    follows_place_share: float = Field(0.45, ge=0, le=1, description="base follows by place")
    follows_interest_share: float = Field(
        0.45, ge=0, le=1, description="base follows by shared interest"
    )
    follows_closure_share: float = Field(
        0.10, ge=0, le=0.5, description="follows of a friend's friend (clustering)"
    )

    @model_validator(mode="after")
    def _check_graph(self):
        if self.follows == "graph":
            from pipeline.graph.stage import graph_params

            graph_params(self)  # raises ValueError with one line (too small, too dense)
        return self
