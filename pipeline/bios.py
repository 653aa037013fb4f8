"""Bios for a shard: the LM writes, the gate judges, rejects are resampled, then templated.

Per row: up to 1 + `bio_retries` LM samples, each with its own seed; the first one that
passes the gate (pipeline/bio_gate.py) and is not a duplicate within the shard is kept.
Rows still without a bio get one from the template engine, and `bio_source` says so.
Every random choice derives from (dataset seed, global row index, attempt), so a row's
bio does not depend on which shard or batch it lands in.
"""

import dataclasses
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipeline.bio_gate import MAX_CHARS, check_bio, clean_bio
from pipeline.bio_prompt import fields_line, opener, persona
from pipeline.bio_templates import template_bio
from pipeline.config import GenerateConfig
from pipeline.errors import ProfilegenError

log = logging.getLogger("profilegen.bios")
BIO_FIELDS = ("bio", "bio_source", "bio_language")
# Languages each shipped model writes well enough to pass the gate; others get English.
MODEL_LANGUAGES = {"smollm2-135m": ("en",)}


def row_seeds(seed: int, start: int, n: int, salt: int = 0) -> np.ndarray:
    """SplitMix64 of (seed, global row index, salt): independent streams per row."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) * np.uint64(0xD1B54A32D192ED03) + np.uint64(salt) * np.uint64(
            0x8CB92BA72F3D8DD7
        )
        z = z + (np.arange(start, start + n, dtype=np.uint64) + np.uint64(1)) * np.uint64(
            0x9E3779B97F4A7C15
        )
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


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
    rows = table.select(
        ["first_name", "last_name", "first_name_latin", "last_name_latin", "display_name",
         "username", "gender", "age", "email", "website", "language", "country_code", "city",
         "region", "occupation", "interests"]
    ).to_pylist()  # fmt: skip
    n = len(rows)
    langs = bio_languages(table, cfg)
    bios: list[str | None] = [None] * n
    source = ["template"] * n
    stats = BioStats(rows=n)
    seen: set[str] = set()
    if cfg.bios == "lm":
        writer = get_writer(cfg.bio_model, cfg.bio_dtype)
        todo = list(range(n))
        for attempt in range(1 + cfg.bio_retries):
            if not todo:
                break
            seeds = row_seeds(cfg.seed, start, n, salt=1 + attempt)
            texts, stopped = writer.write([rows[i] for i in todo], [int(seeds[i]) for i in todo],
                                          [int(row_seeds(cfg.seed, start, n)[i]) for i in todo],
                                          cfg)  # fmt: skip
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


class BioWriter:
    """The bio model of one process: weights, tokenizer and the shared prefix's KV cache."""

    def __init__(self, model_dir: Path, dtype: str):
        import torch
        from tokenizers import Tokenizer
        from transformers import PreTrainedTokenizerFast

        from pipeline.lm import Llama
        from pipeline.lm_sample import Sampler

        self.lock = threading.Lock()  # one generation at a time: torch already uses every core
        self.dtype = resolve_dtype(dtype)
        self.device = bio_device()
        model = Llama.from_pretrained(model_dir).to(self.device, getattr(torch, self.dtype))
        self.model = model.fuse()
        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        hf_tok = PreTrainedTokenizerFast.from_pretrained(model_dir)
        self.prefix, self.turn_end = split_chat_template(hf_tok)
        vocab = self.model.config.vocab_size
        special = {t.content for t in hf_tok.added_tokens_decoder.values()}
        stop = {hf_tok.convert_tokens_to_ids(t) for t in special if "end" in t or "eos" in t}
        stop |= {i for i in (hf_tok.eos_token_id,) if i is not None}
        # A bio is one line: any token carrying a newline ends it.
        pieces = self.tok.decode_batch([[i] for i in range(vocab)])
        stop |= {i for i, p in enumerate(pieces) if "\n" in p}
        banned = {hf_tok.convert_tokens_to_ids(t) for t in special} - stop
        # No URLs, mentions or hashtags, and no brackets: the style tag is bracketed, so the
        # model cannot copy it into the bio; "oji" is the tail of "emoji" (tag echo, again).
        bad = ("http", "www.", "#", "@", "[", "]", "oji")
        banned |= {i for i, p in enumerate(pieces) if any(b in p for b in bad)}

        # A 135M model loses track of gender ("Jennifer ... He's a pro"): 7% of bios. Rows of
        # a known gender may not sample the other one's pronouns (English words only).
        def words(ws):
            return {i for i, p in enumerate(pieces) if p.strip() in ws and p.strip()}

        he, she = (
            words({"He", "he", "him", "his", "His", "himself"}),
            words({"She", "she", "her", "Her", "hers", "herself"}),
        )
        self.sampler = Sampler(
            self.model, self.tok.encode(self.prefix).ids, stop, [banned, he, she]
        )

    def suffix(self, row: dict, seed: int) -> tuple[str, str]:
        p = persona(seed)
        start = opener(row, p, seed)
        return fields_line(row, p) + self.turn_end + start, start

    def write(self, rows: list[dict], seeds: list[int], style_seeds: list[int],
              cfg: GenerateConfig) -> tuple[list[str], list[bool]]:  # fmt: skip
        from pipeline.lm_sample import SampleConfig

        sc = SampleConfig(
            temperature=cfg.bio_temperature,
            top_k=cfg.bio_top_k,
            top_p=cfg.bio_top_p,
            repetition_penalty=cfg.bio_repetition_penalty,
            max_new_tokens=cfg.bio_max_new_tokens,
            batch_size=cfg.bio_batch_size,
        )
        parts = [self.suffix(r, s) for r, s in zip(rows, style_seeds, strict=True)]
        ids = [self.tok.encode(text, add_special_tokens=False).ids for text, _ in parts]
        groups = [{"female": 1, "male": 2}.get(r["gender"], 0) for r in rows]
        with self.lock:
            while True:
                try:
                    out, stopped = self.sampler.generate(ids, seeds, sc, groups)
                    break
                except (RuntimeError, MemoryError) as e:
                    # Out of memory: halve the batch and go on. Rows keep their own seeds,
                    # so only floating-point rounding (not the sampling) sees the change.
                    if "out of memory" not in str(e).lower() and not isinstance(e, MemoryError):
                        raise
                    if sc.batch_size == 1:
                        raise ProfilegenError("out of memory even at bio batch size 1") from None
                    sc = dataclasses.replace(sc, batch_size=sc.batch_size // 2)
                    log.warning("bio batch out of memory; retrying at %d rows", sc.batch_size)
        texts = [
            clean_bio(start + self.tok.decode(o)) for (_, start), o in zip(parts, out, strict=True)
        ]
        # Out of tokens or over the length limit: keep the complete sentences that fit, if
        # they say more than the opener. The gate still judges what is left.
        for i, (t, (_, start)) in enumerate(zip(texts, parts, strict=True)):
            if not stopped[i] or len(t) > MAX_CHARS:
                head = t[: MAX_CHARS + 1]
                cut = max(head.rfind(". "), head.rfind("! "), head.rfind("? ")) + 1
                if cut > len(start) + 10:
                    texts[i], stopped[i] = t[:cut], True
        return texts, stopped


def split_chat_template(tok) -> tuple[str, str]:
    """Render the examples with the model's own chat template and cut it where a row's
    fields go: (prefix up to the last user message, text between it and the reply)."""
    from pipeline.bio_prompt import EXAMPLES, SYSTEM

    mark = "\ue000"  # a private-use character no template will emit on its own
    msgs = [{"role": "system", "content": SYSTEM}]
    for user, start, rest in EXAMPLES:
        msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": start + rest}]
    msgs.append({"role": "user", "content": mark})
    text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    if text.count(mark) != 1:
        raise ProfilegenError("the model's chat template does not render a user message")
    prefix, turn_end = text.split(mark)
    return prefix, turn_end


def bio_device() -> str:
    """cuda when a GPU is visible (PROFILEGEN_BIO_DEVICE overrides), else cpu."""
    import torch

    return os.environ.get("PROFILEGEN_BIO_DEVICE") or (
        "cuda" if torch.cuda.is_available() else "cpu"
    )


def resolve_dtype(dtype: str) -> str:
    """auto: bfloat16 where the CPU multiplies bf16 natively (AVX512-BF16/AMX), else float32."""
    if dtype != "auto":
        return dtype

    if bio_device().startswith("cuda"):
        return "bfloat16"
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    return "bfloat16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "float32"


@lru_cache(maxsize=2)
def get_writer(model: str | None, dtype: str) -> BioWriter:
    """Once per process (and per model): every shard a worker makes reuses it."""
    from pipeline.lm_weights import resolve_bio_model

    torch_threads()
    return BioWriter(resolve_bio_model(model), dtype)


def torch_threads() -> None:
    import torch

    n = int(os.environ.get("PROFILEGEN_TORCH_THREADS", "0")) or (os.cpu_count() or 1)
    torch.set_num_threads(n)
