"""A small Llama-family decoder, written for one job: sampling many short texts on a CPU.

transformers' `generate` pads a batch to its longest prompt, recomputes the shared
instructions for every row and runs every row until the slowest one stops. Bios need none
of that: every prompt starts with the same long prefix (instructions and examples), rows
differ only in a short tail of fields, and a bio is done at its first end-of-turn. So this
module keeps the prefix's keys and values once, shared by every row, and its sampler
(pipeline/lm/sampling.py) drops finished rows from the batch.

Parameter names follow Hugging Face's LlamaForCausalLM, so any Llama-architecture
checkpoint directory (SmolLM, SmolLM2, TinyLlama, Llama 3) loads as is.
"""

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.core.weights import config_error, load_config, load_into, load_state, save_weights


@dataclass(frozen=True)
class LMConfig:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    rms_norm_eps: float
    rope_theta: float
    tie_word_embeddings: bool

    @classmethod
    def from_hf(cls, d: dict) -> "LMConfig":
        heads = d["num_attention_heads"]
        # Any rope_type is read as plain RoPE: Llama 3.1's scaling changes positions beyond
        # 8k only, and bios never get there.
        rope = d.get("rope_parameters") or d.get("rope_scaling") or {}
        return cls(
            vocab_size=d["vocab_size"],
            hidden_size=d["hidden_size"],
            intermediate_size=d["intermediate_size"],
            num_hidden_layers=d["num_hidden_layers"],
            num_attention_heads=heads,
            num_key_value_heads=d.get("num_key_value_heads") or heads,
            head_dim=d.get("head_dim") or d["hidden_size"] // heads,
            rms_norm_eps=float(d.get("rms_norm_eps", 1e-5)),
            rope_theta=float(d.get("rope_theta") or rope.get("rope_theta") or 10000.0),
            tie_word_embeddings=bool(d.get("tie_word_embeddings", False)),
        )

    def to_hf(self) -> dict:
        return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", **asdict(self)}


def forward_flops(c: LMConfig, tokens: int, context: int, sampled: int) -> int:
    """FLOPs (2 per multiply-add) of `tokens` forward passes whose attention sees `context`
    positions in all (prefix included), plus `sampled` vocabulary projections. What the
    benchmark divides by the wall time: norms, RoPE and softmax are left out, as usual."""
    q, kv = c.num_attention_heads * c.head_dim, c.num_key_value_heads * c.head_dim
    per_layer = (
        c.hidden_size * (q + 2 * kv) + q * c.hidden_size + 3 * c.hidden_size * c.intermediate_size
    )
    linear = 2 * c.num_hidden_layers * per_layer * tokens
    attention = 4 * c.num_hidden_layers * c.num_attention_heads * c.head_dim * context
    return linear + attention + 2 * c.hidden_size * c.vocab_size * sampled


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # torch's fused kernel accumulates in float32 for bf16 inputs.
        return F.rms_norm(x, self.weight.shape, self.weight, self.eps)


class Attention(nn.Module):
    def __init__(self, c: LMConfig):
        super().__init__()
        self.h, self.kvh, self.hd = c.num_attention_heads, c.num_key_value_heads, c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, self.h * self.hd, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, self.kvh * self.hd, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, self.kvh * self.hd, bias=False)
        self.o_proj = nn.Linear(self.h * self.hd, c.hidden_size, bias=False)


class MLP(nn.Module):
    def __init__(self, c: LMConfig):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, c: LMConfig):
        super().__init__()
        self.self_attn = Attention(c)
        self.mlp = MLP(c)
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)


class Body(nn.Module):
    def __init__(self, c: LMConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList(Block(c) for _ in range(c.num_hidden_layers))
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def _attend_split(q, cache: "KVCache", i: int, T: int, neg: torch.Tensor) -> torch.Tensor:
    """Attention of new tokens (q: B, heads, S, hd) over the shared prefix and the rows' own
    slots, scored in two parts: the batch is folded into the rows of one matmul per key
    head, so the prefix is read once instead of being copied out per row (decoding: one
    token per row and step). Returns (B, heads, S, hd)."""
    B, _, S, hd = q.shape
    kvh, P = cache.prefix_k[i].shape[0], cache.prefix_k[i].shape[1]
    g = q.shape[1] // kvh
    # Query heads j*g..j*g+g-1 share key head j (grouped-query attention).
    q = q.reshape(B, kvh, g * S, hd) * (1.0 / math.sqrt(hd))
    qp = q.transpose(0, 1).reshape(kvh, B * g * S, hd)
    sp = (qp @ cache.prefix_k[i].transpose(1, 2)).view(kvh, B, g * S, P)
    sr = (q @ cache.k[i][:, :, :T].transpose(2, 3)).add_(neg)  # (B, kvh, g*S, T)
    # bf16 softmax still sums in float32 inside the kernel.
    w = torch.cat((sp.transpose(0, 1), sr), dim=-1).softmax(dim=-1)
    wp = w[..., :P].transpose(0, 1).reshape(kvh, B * g * S, P)
    o = (wp @ cache.prefix_v[i]).view(kvh, B, g * S, hd).transpose(0, 1)
    o = o + w[..., P:] @ cache.v[i][:, :, :T]
    return o.reshape(B, kvh * g, S, hd)


class KVCache:
    """Keys and values of one batch: a shared prefix (kvh, P, hd) per layer, plus per-row
    slots (B, kvh, T, hd) that rows fill left-padded, so every row writes its next token
    into the same slot and `valid` masks the padding."""

    def __init__(self, prefix_k, prefix_v, rows_k, rows_v, valid):
        self.prefix_k, self.prefix_v = prefix_k, prefix_v
        self.k, self.v = rows_k, rows_v
        self.valid = valid  # (B, T) bool: slot holds a real token
        self.used = 0  # slots written so far

    def rows(self, a: int, b: int) -> "KVCache":
        """Rows a..b-1 as a cache of their own, sharing this one's memory: a step on it
        writes into this cache (its `used` is the caller's to set afterwards)."""
        part = KVCache(self.prefix_k, self.prefix_v, [t[a:b] for t in self.k],
                       [t[a:b] for t in self.v], self.valid[a:b])  # fmt: skip
        part.used = self.used
        return part

    def keep(self, idx: torch.Tensor) -> None:
        """Drop finished rows: attention and matmuls then cost only what is still running."""
        self.k = [t.index_select(0, idx) for t in self.k]
        self.v = [t.index_select(0, idx) for t in self.v]
        self.valid = self.valid.index_select(0, idx)


class Llama(nn.Module):
    def __init__(self, c: LMConfig):
        super().__init__()
        self.config = c
        self.model = Body(c)
        self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        if c.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    # -- weights -------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, path: str | Path, dtype: torch.dtype | None = None) -> "Llama":
        """A Hugging Face Llama checkpoint directory (one model.safetensors or shards), its
        tensors in `dtype` (None: as stored)."""
        try:
            cfg = LMConfig.from_hf(load_config(path, "Llama"))
        except (KeyError, TypeError, ValueError) as e:
            raise config_error(path, "Llama", e) from None
        # Built on the meta device and given the checkpoint's tensors: a random init of
        # 135M parameters, then a dtype copy of them all, took 4 of a run's first 14 s.
        with torch.device("meta"):
            model = cls(cfg)
        state = load_state(path)
        if dtype is not None:
            state = {k: v.to(dtype) for k, v in state.items()}
        if cfg.tie_word_embeddings and "model.embed_tokens.weight" in state:
            # Tied: the head is the embedding, whatever a checkpoint stores as lm_head.
            state["lm_head.weight"] = state["model.embed_tokens.weight"]
        load_into(model, state, path, assign=True)
        return model.eval().requires_grad_(False)

    def fuse(self) -> "Llama":
        """One matmul for q|k|v and one for gate|up: at decode batch sizes, fewer and wider
        matmuls run markedly faster on a CPU. Call after any dtype or device change."""
        for layer in self.model.layers:
            a, m = layer.self_attn, layer.mlp
            a.qkv = torch.cat((a.q_proj.weight, a.k_proj.weight, a.v_proj.weight)).contiguous()
            m.gate_up = torch.cat((m.gate_proj.weight, m.up_proj.weight)).contiguous()
        return self

    def save_pretrained(self, path: str | Path) -> None:
        state = self.state_dict()
        if self.config.tie_word_embeddings:
            state.pop("lm_head.weight")  # safetensors refuses shared tensors; HF omits it too
        save_weights(path, state, self.config.to_hf())

    # -- forward ---------------------------------------------------------------------------
    @property
    def dtype(self) -> torch.dtype:
        return self.lm_head.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.lm_head.weight.device

    def _rope(self, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # Frequencies in float32 every time, not a buffer: module.to(bfloat16) would round a
        # buffer to 3 significant digits, and angle errors grow with the position.
        c = self.config
        half = torch.arange(0, c.head_dim, 2, device=pos.device, dtype=torch.float32)
        inv_freq = 1.0 / (c.rope_theta ** (half / c.head_dim))
        f = pos.to(torch.float32)[..., None] * inv_freq  # (..., S, hd/2)
        f = torch.cat((f, f), dim=-1)
        return f.cos().to(self.dtype), f.sin().to(self.dtype)

    @torch.no_grad()
    def prefill_prefix(self, ids: list[int]) -> tuple[list, list]:
        """Keys and values of the shared prefix, computed once per prompt design."""
        dev = self.device
        x = torch.tensor([ids], device=dev)
        cos, sin = self._rope(torch.arange(len(ids), device=dev))
        ks, vs = [], []
        h = self.model.embed_tokens(x)
        for layer in self.model.layers:
            a, att = layer.self_attn, layer.input_layernorm(h)
            q = a.q_proj(att).view(1, -1, a.h, a.hd).transpose(1, 2)
            k = a.k_proj(att).view(1, -1, a.kvh, a.hd).transpose(1, 2)
            v = a.v_proj(att).view(1, -1, a.kvh, a.hd).transpose(1, 2)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            ks.append(k[0].contiguous())
            vs.append(v[0].contiguous())
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
            h = h + a.o_proj(o.transpose(1, 2).reshape(1, -1, a.h * a.hd))
            h = h + layer.mlp(layer.post_attention_layernorm(h))
        return ks, vs

    def new_cache(self, prefix: tuple[list, list], batch: int, slots: int) -> KVCache:
        c = self.config
        shape = (batch, c.num_key_value_heads, slots, c.head_dim)
        kw = {"dtype": self.dtype, "device": self.device}
        rows_k = [torch.zeros(shape, **kw) for _ in range(c.num_hidden_layers)]
        rows_v = [torch.zeros(shape, **kw) for _ in range(c.num_hidden_layers)]
        valid = torch.zeros(batch, slots, dtype=torch.bool, device=self.device)
        return KVCache(prefix[0], prefix[1], rows_k, rows_v, valid)

    @torch.no_grad()
    def step(self, ids: torch.Tensor, pos: torch.Tensor, valid: torch.Tensor, cache: KVCache):
        """Run `ids` (B, S) at positions `pos` (B, S) into the next S slots of `cache`.

        `valid` (B, S) says which of the new tokens are real (False = left padding). Returns
        the final hidden state of the last slot, (B, hidden): logits are the caller's job,
        since only the last position of each row is ever sampled. Needs `fuse()` first.
        """
        B, S = ids.shape
        s0 = cache.used
        cache.valid[:, s0 : s0 + S] = valid
        cache.used = s0 + S
        T = cache.used
        c = self.config
        kvh, hd = c.num_key_value_heads, c.head_dim
        g = c.num_attention_heads // kvh
        nq, nk = c.num_attention_heads * hd, kvh * hd
        # Row slots a query may see: real tokens, and (among the new ones) only earlier ones.
        see = cache.valid[:, None, :T].expand(B, S, T).clone()
        dev = ids.device
        see[:, :, s0:T] &= torch.ones(S, S, dtype=torch.bool, device=dev).tril()
        P = cache.prefix_k[0].shape[1]
        # A row's prompt (S > 1 tokens, most of a bio's FLOPs) goes through torch's fused
        # attention, the prefix copied out to every row: in float32 that beats the split
        # scores below (64 rows x 40 tokens, 2 cores: 3.6 s vs 3.9 s). Not in bfloat16 on a
        # CPU, where torch's fused kernel is the slower one (1.69 s vs 1.13 s).
        fused = S > 1 and (self.dtype == torch.float32 or dev.type != "cpu")
        if fused:
            mask = torch.cat((see.new_ones(B, S, P), see), dim=-1)[:, None]
        else:
            # Split scores (see _attend_decode): one additive mask for every layer and head.
            neg = torch.zeros(B, 1, g * S, T, dtype=self.dtype, device=dev)
            neg.masked_fill_(~see.repeat(1, g, 1)[:, None], float("-inf"))
        cos, sin = self._rope(pos)  # (B, S, hd)
        cos, sin = cos[:, None], sin[:, None]
        h = self.model.embed_tokens(ids)
        for i, layer in enumerate(self.model.layers):
            a, mlp = layer.self_attn, layer.mlp
            qkv = F.linear(layer.input_layernorm(h), a.qkv)
            q = qkv[..., :nq].view(B, S, -1, hd).transpose(1, 2)
            k = qkv[..., nq : nq + nk].view(B, S, kvh, hd).transpose(1, 2)
            v = qkv[..., nq + nk :].view(B, S, kvh, hd).transpose(1, 2)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            cache.k[i][:, :, s0:T] = k
            cache.v[i][:, :, s0:T] = v
            if fused:
                pk, pv = (t[i].expand(B, -1, -1, -1) for t in (cache.prefix_k, cache.prefix_v))
                kk = torch.cat((pk, cache.k[i][:, :, :T]), dim=2)
                vv = torch.cat((pv, cache.v[i][:, :, :T]), dim=2)
                o = F.scaled_dot_product_attention(q, kk, vv, attn_mask=mask, enable_gqa=True)
            else:
                o = _attend_split(q, cache, i, T, neg)
            o = o.transpose(1, 2).reshape(B, S, nq)
            h = h + a.o_proj(o)
            gu = F.linear(layer.post_attention_layernorm(h), mlp.gate_up)
            gate, up = gu.chunk(2, dim=-1)
            h = h + mlp.down_proj(F.silu(gate) * up)
        return self.model.norm(h[:, -1])

    @torch.no_grad()
    def logits_full(self, ids: torch.Tensor) -> torch.Tensor:
        """Plain causal forward over (B, S) without cache: the reference the tests compare to."""
        B, S = ids.shape
        cos, sin = self._rope(torch.arange(S, device=ids.device))
        h = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            a, att = layer.self_attn, layer.input_layernorm(h)
            q = a.q_proj(att).view(B, S, a.h, a.hd).transpose(1, 2)
            k = a.k_proj(att).view(B, S, a.kvh, a.hd).transpose(1, 2)
            v = a.v_proj(att).view(B, S, a.kvh, a.hd).transpose(1, 2)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
            h = h + a.o_proj(o.transpose(1, 2).reshape(B, S, a.h * a.hd))
            h = h + layer.mlp(layer.post_attention_layernorm(h))
        return self.lm_head(self.model.norm(h))
