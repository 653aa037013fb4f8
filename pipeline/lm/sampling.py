"""Batched sampling of many short continuations of one shared prefix (see llama.py).

Where the time goes, and what we do about it (SmolLM2-135M, 2 CPU cores):
- the shared prefix (instructions + examples, ~390 tokens) is run once per process, not per row;
- rows are sorted by prompt length and batched, so left padding stays small;
- logits are computed for the last position only (the vocabulary projection is a fifth of
  the model's FLOPs per token);
- a row stops at its own end-of-turn, and finished rows are dropped from the batch.
Sampling draws one uniform per row and step from a counter-based hash of (row seed, step),
so a row's text depends on its own seed, not on which rows share its batch.
"""

import inspect
from dataclasses import dataclass

import numpy as np
import torch

from pipeline.core.rng import GOLDEN, splitmix64, unit
from pipeline.core.stop import check_stop
from pipeline.lm.llama import Llama


@dataclass(frozen=True)
class SampleConfig:
    """No defaults of its own: the generate config's bio_* fields are the one source, and
    `from_bio_fields` is how a run gets here from them."""

    temperature: float
    top_k: int
    top_p: float
    repetition_penalty: float
    max_new_tokens: int
    batch_size: int

    @classmethod
    def from_bio_fields(cls, cfg) -> "SampleConfig":
        """From a GenerateConfig, or anything with its bio_* fields (the GPU benchmark has no
        pydantic, so no GenerateConfig)."""
        return cls(
            temperature=cfg.bio_temperature,
            top_k=cfg.bio_top_k,
            top_p=cfg.bio_top_p,
            repetition_penalty=cfg.bio_repetition_penalty,
            max_new_tokens=cfg.bio_max_new_tokens,
            batch_size=cfg.bio_batch_size,
        )


def uniforms(seeds: np.ndarray, step: int) -> np.ndarray:
    """One U[0,1) per row from SplitMix64(seed + golden * (step+1)): stateless and cheap."""
    with np.errstate(over="ignore"):
        z = splitmix64(seeds.astype(np.uint64) + GOLDEN * np.uint64(step + 1))
    return unit(z)


def pick(logits: torch.Tensor, u: torch.Tensor, cfg: SampleConfig) -> torch.Tensor:
    """Top-k, then top-p, then inverse-CDF with the row's own uniform."""
    top, idx = (logits / cfg.temperature).topk(cfg.top_k, dim=-1)
    p = top.softmax(dim=-1)
    keep = (p.cumsum(dim=-1) - p) < cfg.top_p  # the most likely token always stays
    p = p * keep
    cdf = p.cumsum(dim=-1)
    choice = (cdf < u[:, None] * cdf[:, -1:]).sum(dim=-1).clamp_max(cfg.top_k - 1)
    return idx.gather(1, choice[:, None])[:, 0]


def next_token(logits, bias, gen, seeds: np.ndarray, step: int, cfg: SampleConfig):
    """One sampling step for a batch: bans (bias), repetition penalty, each row's uniform."""
    logits = logits.float() + bias
    if gen.shape[1]:
        # CTRL-style penalty on tokens this row already wrote: small models loop.
        g = logits.gather(1, gen)
        g = torch.where(g > 0, g / cfg.repetition_penalty, g * cfg.repetition_penalty)
        logits.scatter_(1, gen, g)
    u = torch.from_numpy(uniforms(seeds, step)).float().to(logits.device)
    return pick(logits, u, cfg)


# Rows per prompt (prefill) pass; see Sampler._batch.
PREFILL_ROWS = 64


class Sampler:
    """Continuations of `prefix` (token ids) for many row-specific suffixes."""

    def __init__(self, model: Llama, prefix: list[int], stop: set[int], banned: list[set[int]]):
        """`banned[g]`: tokens rows of group g may never sample (group 0 applies to all)."""
        self.model = model
        self.prefix_len = len(prefix)
        self.prefix_kv = model.prefill_prefix(prefix)
        self.stop = torch.tensor(sorted(stop))
        bias = torch.zeros(len(banned), model.config.vocab_size)
        for g, ids in enumerate(banned):
            bias[g, sorted(ids | banned[0])] = float("-inf")
        self.bias = bias

    def generate(self, suffixes: list[list[int]], seeds: list[int], cfg: SampleConfig,
                 groups: list[int] | None = None):  # fmt: skip
        """Token ids each row generated (stop token excluded) and whether it stopped by itself."""
        groups = groups or [0] * len(suffixes)
        out: list[list[int]] = [[] for _ in suffixes]
        done = [False] * len(suffixes)
        order = sorted(range(len(suffixes)), key=lambda i: (len(suffixes[i]), i))
        for b in range(0, len(order), cfg.batch_size):
            check_stop()  # a SIGTERM ends the shard here, between two batches
            rows = order[b : b + cfg.batch_size]
            batch = self._batch([suffixes[i] for i in rows], [seeds[i] for i in rows],
                                torch.tensor([groups[i] for i in rows]), cfg)  # fmt: skip
            for i, toks, stopped in batch:
                out[rows[i]], done[rows[i]] = toks, stopped
        return out, done

    def _batch(self, suffixes, seeds, groups, cfg):
        m, B = self.model, len(suffixes)
        dev = m.device
        S = max(len(s) for s in suffixes)
        ids = torch.zeros(B, S, dtype=torch.long)
        valid = torch.zeros(B, S, dtype=torch.bool)
        for r, s in enumerate(suffixes):
            ids[r, S - len(s) :] = torch.tensor(s)
            valid[r, S - len(s) :] = True
        lens = torch.tensor([len(s) for s in suffixes])
        # Left padding: row r's first real token sits at slot S - len, position prefix_len.
        pos = self.prefix_len + (torch.arange(S)[None] - (S - lens)[:, None]).clamp_min(0)
        cache = m.new_cache(self.prefix_kv, B, S + cfg.max_new_tokens)
        ids, pos, valid = ids.to(dev), pos.to(dev), valid.to(dev)
        # Prompts in chunks of PREFILL_ROWS rows written into the batch's cache: decoding
        # wants many rows (few rows per step leave the matmuls starved), while the prompt's
        # attention copies the prefix once per row, so it wants few at a time. Each chunk
        # runs only its own longest prompt's slots (rows are sorted by length): padding
        # costs as much as a real token.
        hs = []
        for a in range(0, B, PREFILL_ROWS):
            b = min(B, a + PREFILL_ROWS)
            s = S - int(lens[a:b].max())
            part = cache.rows(a, b)
            part.used = s
            hs.append(m.step(ids[a:b, s:], pos[a:b, s:], valid[a:b, s:], part))
        h = torch.cat(hs)
        cache.used = S
        seeds = np.array(seeds, dtype=np.uint64)
        alive = torch.arange(B)  # batch row -> original row (on the CPU, for bookkeeping)
        dead = torch.zeros(B, dtype=torch.bool)  # finished, but still in the batch
        bias = self.bias.to(dev)[groups.to(dev)]
        stop = self.stop.to(dev)
        next_pos = (self.prefix_len + lens).to(dev)
        gen = torch.zeros(B, 0, dtype=torch.long, device=dev)
        results = {}
        for t in range(cfg.max_new_tokens):
            tok = next_token(m.lm_head(h), bias, gen, seeds[alive.numpy()], t, cfg)
            stopped = torch.isin(tok, stop).cpu() & ~dead
            gen = torch.cat((gen, tok[:, None]), dim=1)
            for r in torch.nonzero(stopped)[:, 0].tolist():
                results[int(alive[r])] = (gen[r, :-1].tolist(), True)
            dead |= stopped
            if t == cfg.max_new_tokens - 1 or bool(dead.all()):
                break
            # Dropping finished rows copies the whole cache: worth it once an eighth of the
            # batch is done, not for every single row.
            if int(dead.sum()) >= max(1, len(alive) // 8):
                live = torch.nonzero(~dead)[:, 0]
                alive, dead = alive[live], dead[live]
                live = live.to(dev)
                gen, tok, next_pos, bias = gen[live], tok[live], next_pos[live], bias[live]
                cache.keep(live)
            ones = torch.ones(len(alive), 1, dtype=torch.bool, device=dev)
            h = m.step(tok[:, None], next_pos[:, None], ones, cache)
            next_pos = next_pos + 1
        for r, orig in enumerate(alive.tolist()):
            if orig not in results:  # ran out of tokens: the caller decides (usually too long)
                results[orig] = (gen[r].tolist(), False)
        for i in range(B):
            yield i, results[i][0], results[i][1]


class HFSampler(Sampler):
    """The same sampling (per-row uniforms, bans, penalty, stops) for any transformers
    causal LM: full prompts, left-padded, its own KV cache. No shared prefix and no row
    dropping, so several times slower than `Sampler`; it is the `--bio-model` path for
    architectures pipeline/lm/llama.py does not implement (Qwen2, Gemma, Phi, GPT-2, ...)."""

    def __init__(self, model, prefix: list[int], stop: set[int], banned: list[set[int]]):
        self.model, self.prefix = model, prefix
        # transformers 5.x renames forward's `past_key_values` to `cache` (old name deprecated).
        params = inspect.signature(model.forward).parameters
        self.cache_arg = "cache" if "cache" in params else "past_key_values"
        self.stop = torch.tensor(sorted(stop))
        bias = torch.zeros(len(banned), model.config.get_text_config().vocab_size)
        for g, ids in enumerate(banned):
            bias[g, sorted(i for i in ids | banned[0] if i < bias.shape[1])] = float("-inf")
        self.bias = bias

    @torch.no_grad()
    def _batch(self, suffixes, seeds, groups, cfg):
        m, dev = self.model, self.model.device
        rows = [self.prefix + s for s in suffixes]
        B, S = len(rows), max(len(r) for r in rows)
        ids = torch.zeros(B, S, dtype=torch.long)
        mask = torch.zeros(B, S, dtype=torch.long)
        for r, toks in enumerate(rows):
            ids[r, S - len(toks) :] = torch.tensor(toks)
            mask[r, S - len(toks) :] = 1
        # Positions count real tokens only: left padding must not shift a row's positions.
        pos = (mask.cumsum(-1) - 1).clamp_min(0)
        ids, mask, pos = ids.to(dev), mask.to(dev), pos.to(dev)
        out = m(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True)
        past, logits = out.past_key_values, out.logits[:, -1]
        seeds = np.array(seeds, dtype=np.uint64)
        bias = self.bias.to(dev)[groups.to(dev)]
        stop = self.stop.to(dev)
        gen = torch.zeros(B, 0, dtype=torch.long, device=dev)
        done = torch.zeros(B, dtype=torch.bool)
        results = {}
        last = pos[:, -1]
        for t in range(cfg.max_new_tokens):
            tok = next_token(logits, bias, gen, seeds, t, cfg)
            stopped = torch.isin(tok, stop).cpu() & ~done
            gen = torch.cat((gen, tok[:, None]), dim=1)
            for r in torch.nonzero(stopped)[:, 0].tolist():
                results[r] = (gen[r, :-1].tolist(), True)
            done |= stopped
            if bool(done.all()) or t == cfg.max_new_tokens - 1:
                break
            mask = torch.cat((mask, torch.ones(B, 1, dtype=mask.dtype, device=dev)), dim=1)
            last = last + 1
            out = m(input_ids=tok[:, None], attention_mask=mask, position_ids=last[:, None],
                    use_cache=True, **{self.cache_arg: past})  # fmt: skip
            past, logits = out.past_key_values, out.logits[:, -1]
        for r in range(B):
            yield r, *results.get(r, (gen[r].tolist(), False))
