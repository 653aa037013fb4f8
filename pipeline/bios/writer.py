"""The bio model of one process: weights, tokenizer, the shared prefix's KV cache, and the
rules of what it may write (stop tokens, banned tokens, pronouns per row's gender).

Kept apart from pipeline/bios/stage.py (which decides what to keep) so the model side imports
nothing but torch, tokenizers and transformers: the GPU benchmark runs it on a machine
without the rest of profilegen's dependencies.
"""

import dataclasses
import json
import logging
import threading
from pathlib import Path
from typing import Any

from pipeline.bios.gate import MAX_CHARS, clean_bio
from pipeline.bios.prompt import fields_line, opener, persona
from pipeline.core.device import set_torch_threads, torch_device
from pipeline.errors import ProfilegenError

log = logging.getLogger("profilegen.bios")
FAST_ARCHS = ("llama", "mistral")  # what pipeline/lm/llama.py implements


class BioWriter:
    """The bio model of one process: weights, tokenizer and the shared prefix's KV cache."""

    def __init__(self, model_dir: Path, dtype: str):
        import torch
        from tokenizers import Tokenizer
        from transformers import PreTrainedTokenizerFast

        from pipeline.lm.llama import Llama
        from pipeline.lm.sampling import HFSampler, Sampler

        self.lock = threading.Lock()  # one generation at a time: torch already uses every core
        set_torch_threads()
        self.dtype = resolve_dtype(dtype)
        self.device = torch_device("bio")
        arch = json.loads((model_dir / "config.json").read_text()).get("model_type")
        # Llama-family checkpoints run on our shared-prefix decoder; any other causal LM
        # runs through transformers (same sampling, no prefix sharing: slower).
        self.fast = arch in FAST_ARCHS
        if self.fast:
            model = Llama.from_pretrained(model_dir).to(self.device, getattr(torch, self.dtype))
            self.model = model.fuse()
            vocab = self.model.config.vocab_size
        else:
            from transformers import AutoModelForCausalLM

            self.model = (
                AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, self.dtype))
                .to(self.device)
                .eval()
            )
            vocab = self.model.config.get_text_config().vocab_size
        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        hf_tok = PreTrainedTokenizerFast.from_pretrained(model_dir)
        self.prefix, self.turn_end = split_chat_template(hf_tok)
        vocab = min(vocab, self.tok.get_vocab_size(with_added_tokens=True))
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
        make = Sampler if self.fast else HFSampler
        self.sampler = make(self.model, self.tok.encode(self.prefix).ids, stop, [banned, he, she])

    def suffix(self, row: dict, seed: int) -> tuple[str, str]:
        p = persona(seed)
        start = opener(row, p, seed)
        return fields_line(row, p) + self.turn_end + start, start

    def write(self, rows: list[dict], seeds: list[int], style_seeds: list[int],
              cfg: Any) -> tuple[list[str], list[bool]]:  # fmt: skip
        """LM bios for `rows` (sampling from `seeds`, persona from `style_seeds`); `cfg` is a
        GenerateConfig or anything with its bio_* fields. Returns (text, stopped) per row."""
        from pipeline.lm.sampling import SampleConfig

        sc = SampleConfig.from_bio_fields(cfg)
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
    from pipeline.bios.prompt import EXAMPLES, SYSTEM

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


def resolve_dtype(dtype: str) -> str:
    """auto: bfloat16 where the CPU multiplies bf16 natively (AVX512-BF16/AMX), else float32."""
    if dtype != "auto":
        return dtype

    if torch_device("bio").startswith("cuda"):
        return "bfloat16"
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    return "bfloat16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "float32"
