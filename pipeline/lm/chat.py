"""One chat model per process, shared by every stage that writes with it (bios, posts).

A stage brings its prompt (a system line and worked examples) and gets a `Sampler` whose
shared prefix is that prompt rendered by the model's own chat template; the weights, the
tokenizer, the stop tokens and the lock are loaded once and shared. So a run with LM bios and
LM posts holds one copy of the weights, and two shard threads never both load it.

Kept free of the rest of profilegen (torch, tokenizers and transformers only, plus
pipeline.core and pipeline.lm): the GPU benchmark runs it on a machine without pyarrow.
"""

import dataclasses
import functools
import json
import logging
import threading
from pathlib import Path

from pipeline.core.cache import once_per_process
from pipeline.core.device import set_torch_threads, torch_device
from pipeline.errors import ProfilegenError

log = logging.getLogger("profilegen.lm")
FAST_ARCHS = ("llama", "mistral")  # what pipeline/lm/llama.py implements
# Pieces no profile text may contain: URLs, mentions and hashtags (stages add their own
# where a column says so), and brackets (the style tag is bracketed, so the model cannot
# copy it); "oji" is the tail of "emoji" (tag echo, again).
BANNED_PIECES = ("http", "www.", "#", "@", "[", "]", "oji")


def resolve_dtype(dtype: str) -> str:
    """The compute dtype `dtype` ("auto", "float32", "bfloat16") means on this machine."""
    return dtype_choice(dtype)[0]


def dtype_choice(dtype: str) -> tuple[str, str]:
    """(dtype, why). `auto` decides from the device and the CPU's features, never from a
    timing, so every machine of one CPU type makes the same choice (and the same bytes).

    bfloat16 on a CPU pays only where the matrix units run it natively *and* fast. Measured
    on 2 cores with torch's GEMM at the decoder's shapes (64 x 576 x 1536):
    - AMD EPYC (family 26) with AVX512-BF16: fp32 ~187 GFLOP/s, bf16 ~650: bf16;
    - Intel Xeon with AVX512-BF16 but no AMX: fp32 ~185, bf16 ~126: float32;
    - AMX (Intel Sapphire Rapids and later) is what torch's bf16 kernels are built for: bf16;
    - AVX2-only CPUs have no bf16 dot product at all: float32.
    """
    if dtype != "auto":
        return dtype, "asked for"
    if torch_device("bio").startswith("cuda"):
        return "bfloat16", "auto: a CUDA device"
    return cpu_dtype()


def cpu_dtype() -> tuple[str, str]:
    """(dtype, why): the faster matmul dtype of this CPU, by dtype_choice's rule. Also what
    the metrics' sentence embedder (always on the CPU) runs in."""
    flags, vendor = cpu_flags()
    if "amx_bf16" in flags:
        return "bfloat16", "auto: CPU with AMX-BF16"
    if "avx512_bf16" in flags and vendor == "AuthenticAMD":
        return "bfloat16", "auto: AMD CPU with AVX512-BF16"
    if "avx512_bf16" in flags:
        return "float32", "auto: AVX512-BF16 without AMX runs bf16 slower than fp32 on Intel"
    return "float32", "auto: no native bf16 matrix instructions"


def model_record(model: str | None, dtype: str, sha256: str) -> dict:
    """What a stage writing with the chat model records in the provenance: `auto` resolves
    per machine, so the dtype that actually ran and why."""
    ran, why = dtype_choice(dtype)
    return {"sha256": sha256, "name": model or "smollm2-135m", "dtype": ran, "dtype_rule": why,
            "device": torch_device("bio")}  # fmt: skip


@functools.cache
def cpu_flags() -> tuple[set[str], str]:
    """(feature flags, vendor id) of this machine's first CPU, from /proc/cpuinfo (Linux;
    elsewhere none, so `auto` is float32). Read once: every shard and metric asks."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set(), ""
    fields = dict(
        (k.strip(), v.strip()) for k, _, v in (ln.partition(":") for ln in text.splitlines()) if v
    )
    return set(fields.get("flags", "").split()), fields.get("vendor_id", "")


def split_chat_template(tok, system: str, examples: list[tuple[str, str]]) -> tuple[str, str]:
    """Render (user, assistant) examples with the model's own chat template and cut it where a
    row's text goes: (prefix up to the last user message, text between it and the reply)."""
    mark = "\ue000"  # a private-use character no template will emit on its own
    msgs = [{"role": "system", "content": system}]
    for user, reply in examples:
        msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
    msgs.append({"role": "user", "content": mark})
    text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    if text.count(mark) != 1:
        raise ProfilegenError("the model's chat template does not render a user message")
    prefix, turn_end = text.split(mark)
    return prefix, turn_end


class ChatModel:
    """Weights, tokenizer, stop tokens and pronoun groups of one model in one dtype."""

    def __init__(self, model_dir: Path, dtype: str):
        import torch
        from tokenizers import Tokenizer
        from transformers import PreTrainedTokenizerFast

        from pipeline.lm.llama import Llama

        self.lock = threading.Lock()  # one generation at a time: torch already uses every core
        set_torch_threads()
        self.dtype = resolve_dtype(dtype)
        self.device = torch_device("bio")
        arch = json.loads((model_dir / "config.json").read_text()).get("model_type")
        # Llama-family checkpoints run on our shared-prefix decoder; any other causal LM
        # runs through transformers (same sampling, no prefix sharing: slower).
        self.fast = arch in FAST_ARCHS
        if self.fast:
            model = Llama.from_pretrained(model_dir, getattr(torch, self.dtype)).to(self.device)
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
        self.hf_tok = hf_tok = PreTrainedTokenizerFast.from_pretrained(model_dir)
        vocab = min(vocab, self.tok.get_vocab_size(with_added_tokens=True))
        special = {t.content for t in hf_tok.added_tokens_decoder.values()}
        stop = {hf_tok.convert_tokens_to_ids(t) for t in special if "end" in t or "eos" in t}
        stop |= {i for i in (hf_tok.eos_token_id,) if i is not None}
        # A bio or a post is one line: any token carrying a newline ends it.
        self.pieces = pieces = self.tok.decode_batch([[i] for i in range(vocab)])
        self.stop = stop | {i for i, p in enumerate(pieces) if "\n" in p}
        self.special = {hf_tok.convert_tokens_to_ids(t) for t in special} - self.stop

        # A 135M model loses track of gender ("Jennifer ... He's a pro"): 7% of bios. Rows of
        # a known gender may not sample the other one's pronouns (English words only).
        def words(ws):
            return {i for i, p in enumerate(pieces) if p.strip() in ws and p.strip()}

        self.he = words({"He", "he", "him", "his", "His", "himself"})
        self.she = words({"She", "she", "her", "Her", "hers", "herself"})

    def sampler(self, prefix: str, banned_pieces: tuple[str, ...] = BANNED_PIECES):
        """A sampler continuing `prefix` (its KV cache computed once), with group 0 banning
        the special tokens and `banned_pieces`, group 1 (female rows) he-words, group 2 she."""
        from pipeline.lm.sampling import HFSampler, Sampler

        banned = self.special | {
            i for i, p in enumerate(self.pieces) if any(b in p for b in banned_pieces)
        }
        make = Sampler if self.fast else HFSampler
        return make(self.model, self.tok.encode(prefix).ids, self.stop, [banned, self.he, self.she])

    def generate(self, sampler, ids: list[list[int]], seeds: list[int], sc, groups: list[int]):
        """sampler.generate under the model's lock, halving the batch on out-of-memory: rows
        keep their own seeds, so only floating-point rounding (not the sampling) sees it."""
        with self.lock:
            while True:
                try:
                    return sampler.generate(ids, seeds, sc, groups)
                except (RuntimeError, MemoryError) as e:
                    if "out of memory" not in str(e).lower() and not isinstance(e, MemoryError):
                        raise
                    if sc.batch_size == 1:
                        raise ProfilegenError("out of memory even at LM batch size 1") from None
                    sc = dataclasses.replace(sc, batch_size=sc.batch_size // 2)
                    log.warning("LM batch out of memory; retrying at %d rows", sc.batch_size)


def chat_model(model_dir: Path, dtype: str) -> ChatModel:
    """The process's ChatModel for (model_dir, dtype), loaded on first use."""
    return _chat_model(Path(model_dir), dtype)


@once_per_process
def _chat_model(model_dir: Path, dtype: str) -> ChatModel:
    return ChatModel(model_dir, dtype)
