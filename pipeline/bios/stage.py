"""Bios for a shard: the LM writes, the gate judges, rejects are resampled, then templated.

Per row: up to 1 + `bio_retries` LM samples, each with its own seed; the first one that
passes the gate (pipeline/bio_gate.py) and is not a duplicate within the shard is kept.
Rows still without a bio get one from the template engine, and `bio_source` says so.
Every random choice derives from (dataset seed, global row index, attempt), so a row's
bio does not depend on which shard or batch it lands in.
"""

import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyarrow as pa

from pipeline.bios.gate import check_bio
from pipeline.bios.templates import template_bio
from pipeline.bios.writer import BioWriter
from pipeline.config import GenerateConfig
from pipeline.core.rng import GOLDEN, splitmix64
from pipeline.errors import ProfilegenError

BIO_FIELDS = ("bio", "bio_source", "bio_language")
# The identity columns prompts, gate and templates read.
ROW_FIELDS = ["first_name", "last_name", "first_name_latin", "last_name_latin", "display_name",
              "username", "gender", "age", "email", "website", "language", "country_code",
              "city", "region", "occupation", "interests"]  # fmt: skip
# Languages each shipped model writes well enough to pass the gate; others get English.
MODEL_LANGUAGES = {"smollm2-135m": ("en",)}


def row_seeds(seed: int, start: int, n: int, salt: int = 0) -> np.ndarray:
    """SplitMix64 of (seed, global row index, salt): independent streams per row."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) * np.uint64(0xD1B54A32D192ED03) + np.uint64(salt) * np.uint64(
            0x8CB92BA72F3D8DD7
        )
        z = z + (np.arange(start, start + n, dtype=np.uint64) + np.uint64(1)) * GOLDEN
        return splitmix64(z)


@dataclass
class BioStats:
    rows: int = 0
    first_try: int = 0
    lm: int = 0
    template: int = 0
    attempts: int = 0
    rejects: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"rows": self.rows, "first_try": self.first_try, "lm": self.lm,
                "template": self.template, "attempts": self.attempts,
                "rejects": dict(sorted(self.rejects.items()))}  # fmt: skip


def bio_languages(table: pa.Table, cfg: GenerateConfig) -> list[str]:
    langs = table.column("language").to_pylist()
    if cfg.bio_language == "en" or cfg.bios == "template":
        return ["en"] * len(langs)
    known = MODEL_LANGUAGES.get(cfg.bio_model or "smollm2-135m")
    return [x if known is None or x in known else "en" for x in langs]


def make_bios(
    table: pa.Table, cfg: GenerateConfig, start: int, on_bios: Callable[[int], None] | None = None
) -> tuple[list, BioStats]:
    """(bio, bio_source, bio_language) columns for `table`, whose first row is `start`.

    `on_bios(n)` is told each time n more rows have their final bio (for progress bars)."""
    tell = on_bios or (lambda n: None)
    rows = table.select(ROW_FIELDS).to_pylist()
    n = len(rows)
    langs = bio_languages(table, cfg)
    bios: list[str | None] = [None] * n
    source = ["template"] * n
    stats = BioStats(rows=n)
    seen: set[str] = set()
    if cfg.bios == "lm":
        writer = get_writer(cfg.bio_model, cfg.bio_dtype)
        style = row_seeds(cfg.seed, start, n)  # persona and opener: fixed across attempts
        todo = list(range(n))
        for attempt in range(1 + cfg.bio_retries):
            if not todo:
                break
            seeds = row_seeds(cfg.seed, start, n, salt=1 + attempt)
            texts, stopped = writer.write([rows[i] for i in todo], [int(seeds[i]) for i in todo],
                                          [int(style[i]) for i in todo], cfg)  # fmt: skip
            stats.attempts += len(todo)
            left, accepted = [], 0
            for i, text, ok in zip(todo, texts, stopped, strict=True):
                reason = check_bio(text, rows[i], langs[i]) if ok else "too_long"
                if reason is None and text.lower() in seen:
                    reason = "duplicate"
                if reason is None:
                    bios[i], source[i] = text, "lm"
                    accepted += 1
                    seen.add(text.lower())
                    stats.first_try += attempt == 0
                    stats.lm += 1
                else:
                    stats.rejects[reason] += 1
                    left.append(i)
            todo = left
            tell(accepted)
    tseeds = row_seeds(cfg.seed, start, n, salt=99)
    for i in range(n):
        if bios[i] is None:
            bios[i] = _unique_template(rows[i], int(tseeds[i]), seen)
            stats.template += 1
    tell(stats.template)
    if cfg.bios == "template":
        langs = ["en"] * n
    return [pa.array(bios, pa.string()), pa.array(source, pa.string()),
            pa.array(langs, pa.string())], stats  # fmt: skip


def _unique_template(row: dict, seed: int, seen: set[str]) -> str:
    for k in range(16):
        text = template_bio(row, seed + k)
        if text.lower() not in seen:
            seen.add(text.lower())
            return text
    raise ProfilegenError("template engine cannot find a unique bio; report this as a bug")


_writer_lock = threading.Lock()


def get_writer(model: str | None, dtype: str) -> BioWriter:
    """Once per process (and per model): every shard a worker makes reuses it. Locked, so
    two shard threads starting together don't both load the model."""
    with _writer_lock:
        return _writer(model, dtype)


@lru_cache(maxsize=2)
def _writer(model: str | None, dtype: str) -> BioWriter:
    from pipeline.lm.weights import resolve_bio_model

    torch_threads()
    return BioWriter(resolve_bio_model(model), dtype)


def torch_threads() -> None:
    import torch

    n = int(os.environ.get("PROFILEGEN_TORCH_THREADS", "0")) or (os.cpu_count() or 1)
    torch.set_num_threads(n)
