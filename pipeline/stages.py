"""Stages: every column and table of a dataset comes from one, behind this one interface.

A stage is a subpackage of `pipeline/` with two modules:
    options.py   `Options`, a pydantic mixin holding the config fields the stage owns
                 (GenerateConfig is composed from every stage's Options)
    stage.py     `STAGE`, an instance of a `Stage` subclass answering the questions below
Registering a stage is one line: its subpackage name in STAGES. Nothing else in the
project names a stage: the config, the shard task, the flow, the card, `inspect` and the
CLI iterate over what is registered. Order matters: a stage reads the columns of the
stages before it (bios read identity, the follow graph reads identity), hints included:
columns named `_...` that are never written (the accounts stage tells the avatars, bios,
graph and posts stages which rows are bots and which of their tells to show).

The questions, each answered in one place (LDBC datagen's generators and diffusers'
components are the models: the run holds order, not knowledge):
    enabled       does this config run the stage at all
    fingerprint   what identifies its output beyond the config: weight *file* hashes, never
                  a model load or a network call (the config hash is read for every shard)
    models        what it records in the provenance (model hash, device, dtype)
    preflight     what must hold before anything runs (weights present, sizes plannable):
                  called by the CLI and by the deployment entry point alike
    warm          load its models into this process ahead of the first shard
    plan          dataset-level work before any shard (the follow graph needs every row)
    make          its columns of one shard, and its rows of other tables for that shard
    finish        what it does once every shard exists (cross-shard bio dedupe)
    metrics/card  what it measures on the written dataset, and its card section
    checks        how a written dataset proves the stage did its job (validation)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from pipeline.config import GenerateConfig
    from pipeline.dataset.storage import Store

# The registry: one line per stage, in the order they run.
STAGES = ("identity", "accounts", "avatars", "bios", "graph", "posts")

# A column whose name starts with this is a hint from one stage to the later ones (how a bot
# of this row behaves in their part): stages read it like any column, the writer drops it.
HINT = "_"


@dataclass(frozen=True)
class Check:
    """One validation result: a name a user can grep for, pass/fail, and what was seen."""

    name: str
    ok: bool
    detail: str


@dataclass
class ShardContext:
    """What a stage sees while making one shard: the rows [start, start + rows)."""

    cfg: GenerateConfig
    shard: int
    start: int
    rows: int
    # The stage's counters for this shard, kept in the shard's receipt under its name.
    stats: dict[str, Any] = field(default_factory=dict)
    # progress(unit, n): n more units (e.g. "bios") done, for the CLI's bars.
    progress: Callable[[str, int], None] = lambda unit, n: None


class Stage:
    """Defaults say "nothing to do"; a stage overrides what it needs."""

    name: str = ""
    # Shown by the CLI as its own progress bar when the stage reports progress in this unit.
    progress_unit: str | None = None
    # Card descriptions, column -> how it was generated (see how_made).
    HOW_MADE: dict[str, str] = {}
    # Card "Sources": the data and models the stage's output derives from, with licences.
    SOURCES: tuple[str, ...] = ()

    def enabled(self, cfg: GenerateConfig) -> bool:
        return True

    def how_made(self, cfg: GenerateConfig) -> dict[str, str]:
        """Column -> how this config generated it, for the card."""
        return self.HOW_MADE

    def sources(self, cfg: GenerateConfig) -> tuple[str, ...]:
        return self.SOURCES

    def fingerprint(self, cfg: GenerateConfig, fields: dict[str, Any]) -> None:
        """Edit the hashed config fields in place: add weight hashes, drop unused knobs."""

    def models(self, cfg: GenerateConfig) -> dict[str, Any]:
        return {}

    def preflight(self, cfg: GenerateConfig) -> None:
        """Raise ProfilegenError if the run cannot work; write nothing."""

    def plan(self, cfg: GenerateConfig, store: Store) -> None:
        """Dataset-level work before any shard, kept in the run's state folder."""

    def warm(self, cfg: GenerateConfig) -> None:
        """Load into this process what `make` will need (its models, cached per process),
        so a caller can overlap the loading with other start-up work. Writes nothing."""

    def columns(self, cfg: GenerateConfig) -> list[pa.Field]:
        return []

    def tables(self, cfg: GenerateConfig) -> list[str]:
        """Names of the extra tables (besides `profiles`) the stage writes, one shard each."""
        return []

    def make(
        self, ctx: ShardContext, table: pa.Table, store: Store
    ) -> tuple[pa.Table, dict[str, pa.Table]]:
        """The shard's profiles with this stage's columns added, and its other tables' rows."""
        return table, {}

    def finish(self, cfg: GenerateConfig, store: Store) -> None:
        """Once every shard exists (may rewrite shards through pipeline.dataset.writer)."""

    def metrics(self, cfg: GenerateConfig, store: Store) -> dict[str, Any] | None:
        return None

    def summary(self, cfg: GenerateConfig) -> str:
        """One sentence for the card's "How it was made", e.g. "Bios: lm." ('' for none)."""
        return ""

    def limitations(self, cfg: GenerateConfig) -> str:
        """What the card's Limitations say about this stage in this config ('' for none)."""
        return ""

    def card(self, cfg: GenerateConfig, metrics: dict[str, Any] | None) -> str:
        """A markdown section for the dataset card ('' for none)."""
        return ""

    def checks(self, t: pa.Table, store: Store, manifest: dict[str, Any]) -> list[Check]:
        """Validation of a written dataset; `t` is the whole profiles table."""
        return []


@cache
def registered() -> tuple[Stage, ...]:
    return tuple(importlib.import_module(f"pipeline.{name}.stage").STAGE for name in STAGES)


@cache
def option_mixins() -> tuple[type, ...]:
    return tuple(importlib.import_module(f"pipeline.{name}.options").Options for name in STAGES)


def selectors() -> dict[str, str]:
    """field -> stage name, for each stage's selection field: a choice that includes "none"
    (avatars: gan|none, bios: lm|template|none, follows: graph|none)."""
    import typing

    out = {}
    for name, options in zip(STAGES, option_mixins(), strict=True):
        for key, info in options.model_fields.items():
            a = info.annotation
            if typing.get_origin(a) is typing.Literal and "none" in typing.get_args(a):
                out[key] = name
    return out


def makes(cfg: GenerateConfig, column: str) -> bool:
    """Does an active stage make `column` (a later stage asks before reading a hint)?"""
    return any(column in {f.name for f in s.columns(cfg)} for s in active(cfg))


def public(table: pa.Table) -> pa.Table:
    """The table as written: hint columns dropped."""
    return table.drop_columns([c for c in table.column_names if c.startswith(HINT)])


def active(cfg: GenerateConfig) -> list[Stage]:
    return [s for s in registered() if s.enabled(cfg)]


def extra_tables(cfg: GenerateConfig) -> list[str]:
    return [name for s in active(cfg) for name in s.tables(cfg)]


def preflight(cfg: GenerateConfig) -> None:
    for s in active(cfg):
        s.preflight(cfg)


def warm(cfg: GenerateConfig) -> None:
    for s in active(cfg):
        s.warm(cfg)


def make_columns(cfg: GenerateConfig, shard: int, names: list[str]) -> pa.Table:
    """Columns `names` of one shard, made by the stages that declare them (in stage order)
    and nothing else: how a stage reads other stages' columns of *every* row at plan time
    (the follow graph reads identity) without naming them or making avatars and bios."""
    start = shard * cfg.shard_rows
    ctx = ShardContext(cfg, shard, start, min(cfg.shard_rows, cfg.rows - start))
    table = pa.table({})
    for stage in active(cfg):
        if {f.name for f in stage.columns(cfg)} & set(names):
            table, _ = stage.make(ctx, table, None)
    missing = [n for n in names if n not in table.column_names]
    if missing:
        raise KeyError(f"no active stage makes column(s) {missing}")
    return table.select(names)


def make_table(cfg: GenerateConfig, shard: int, name: str, store: Store) -> pa.Table | None:
    """Rows of table `name` for one shard, from the active stage that writes it (None if no
    active stage does): how a later stage's plan reads an earlier stage's table (the posts
    read the follows) without naming it. A stage whose tables are read this way makes them
    from its plan, not from the shard's columns: it gets a table of the shard's length with
    no columns."""
    start = shard * cfg.shard_rows
    ctx = ShardContext(cfg, shard, start, min(cfg.shard_rows, cfg.rows - start))
    empty = pa.table({"_": pa.nulls(ctx.rows)}).drop_columns(["_"])
    for stage in active(cfg):
        if name in stage.tables(cfg):
            return stage.make(ctx, empty, store)[1][name]
    return None
