"""The bio LM's decoder and sampler, on a tiny random Llama (no weights needed).

The reference is transformers' own LlamaForCausalLM: our forward must give its logits, and
our cached, prefix-shared, left-padded, row-dropping decode must give the plain forward's.
"""

import numpy as np
import pytest
import torch

from pipeline.lm.llama import Llama
from pipeline.lm.sampling import SampleConfig, Sampler, pick, uniforms


def sample_config(**kw) -> SampleConfig:
    """SampleConfig has no defaults (a run's come from the generate config); these are the
    tests' own."""
    base = dict(temperature=0.7, top_k=40, top_p=0.92, repetition_penalty=1.15,
                max_new_tokens=40, batch_size=64)  # fmt: skip
    return SampleConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=97, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, rope_theta=10000.0,
        tie_word_embeddings=True, max_position_embeddings=256,
    )  # fmt: skip
    hf = LlamaForCausalLM(cfg).eval()
    path = tmp_path_factory.mktemp("tiny-llama")
    hf.save_pretrained(path)
    return hf, Llama.from_pretrained(path).fuse(), path


def test_forward_matches_transformers(tiny):
    hf, ours, _ = tiny
    ids = torch.tensor([[1, 5, 9, 33, 2, 70, 12, 8]])
    with torch.no_grad():
        want = hf(ids).logits
    assert torch.allclose(ours.logits_full(ids), want, atol=1e-4)


def test_save_and_load_round_trip(tiny, tmp_path):
    _, ours, _ = tiny
    ours.save_pretrained(tmp_path)
    again = Llama.from_pretrained(tmp_path).fuse()
    ids = torch.tensor([[3, 4, 5, 6]])
    assert torch.equal(again.logits_full(ids), ours.logits_full(ids))
    assert (tmp_path / "config.json").is_file() and (tmp_path / "model.safetensors").is_file()


def test_cached_decode_matches_full_forward(tiny):
    """Shared prefix + left-padded suffixes + one decode step + dropping a row."""
    _, m, _ = tiny
    prefix = [1, 7, 19, 4, 60]
    rows = [[11, 12, 13], [21, 22], [31]]
    cache = m.new_cache(m.prefill_prefix(prefix), len(rows), 8)
    S = 3
    ids = torch.tensor([[11, 12, 13], [0, 21, 22], [0, 0, 31]])
    valid = ids != 0
    lens = valid.sum(1)
    pos = len(prefix) + (torch.arange(S)[None] - (S - lens)[:, None]).clamp_min(0)
    last = m.lm_head(m.step(ids, pos, valid, cache))
    for r, row in enumerate(rows):
        want = m.logits_full(torch.tensor([prefix + row]))[0, -1]
        assert torch.allclose(last[r], want, atol=1e-4)
    # Drop row 1, then decode one token for rows 0 and 2.
    cache.keep(torch.tensor([0, 2]))
    nxt = torch.tensor([[40], [41]])
    npos = torch.tensor([[len(prefix) + 3], [len(prefix) + 1]])
    out = m.lm_head(m.step(nxt, npos, torch.ones(2, 1, dtype=torch.bool), cache))
    for r, row, tok in ((0, rows[0], 40), (1, rows[2], 41)):
        want = m.logits_full(torch.tensor([prefix + row + [tok]]))[0, -1]
        assert torch.allclose(out[r], want, atol=1e-4)


def test_uniforms_are_stateless_and_uniform():
    seeds = np.arange(20_000, dtype=np.uint64)
    a, b = uniforms(seeds, 3), uniforms(seeds, 3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, uniforms(seeds, 4))
    assert 0 <= a.min() and a.max() < 1 and abs(a.mean() - 0.5) < 0.01


def test_pick_stays_in_top_k_and_follows_u():
    logits = torch.tensor([[0.0, 5.0, 4.0, -3.0, 1.0]])
    cfg = sample_config(temperature=1.0, top_k=2, top_p=1.0)
    got = {int(pick(logits, torch.tensor([u]), cfg)) for u in np.linspace(0, 0.999, 50)}
    assert got == {1, 2}
    assert int(pick(logits, torch.tensor([0.0]), cfg)) == 1  # u=0: the most likely token


def test_rows_do_not_depend_on_their_batch(tiny):
    """A row's tokens come from its own seed: alone or among others, same continuation."""
    _, m, _ = tiny
    s = Sampler(m, [1, 7, 19, 4], stop={2}, banned=[set()])
    cfg = sample_config(max_new_tokens=12, batch_size=8, top_k=20)
    suffixes = [[5, 6], [7, 8, 9], [10], [11, 12, 13, 14]]
    seeds = [101, 202, 303, 404]
    together, _ = s.generate(suffixes, seeds, cfg)
    for i in range(4):
        alone, _ = s.generate([suffixes[i]], [seeds[i]], cfg)
        assert alone[0] == together[i]
    again, _ = s.generate(suffixes, seeds, cfg)
    assert again == together
    other, _ = s.generate(suffixes, [1, 2, 3, 4], cfg)
    assert other != together


def test_prompt_chunks_give_the_rows_one_pass_gives(tiny, monkeypatch):
    """Prompts run PREFILL_ROWS rows at a time, each chunk over its own longest prompt's
    slots, into one decoding batch: the logits (so the tokens) are the one-pass ones."""
    import pipeline.lm.sampling as sampling

    _, m, _ = tiny
    s = Sampler(m, [1, 7, 19, 4], stop={2}, banned=[set()])
    cfg = sample_config(max_new_tokens=12, batch_size=8, top_k=20)
    suffixes = [[5], [6, 7], [8, 9, 10], [11, 12, 13, 14], [15] * 6, [16, 17] * 4]
    seeds = [11, 22, 33, 44, 55, 66]
    one, _ = s.generate(suffixes, seeds, cfg)
    monkeypatch.setattr(sampling, "PREFILL_ROWS", 2)
    assert s.generate(suffixes, seeds, cfg)[0] == one
    # and the chunks really run shorter: the widest prompt pass of the first chunk is 2
    seen = []
    step = m.step
    monkeypatch.setattr(m, "step", lambda ids, *a: seen.append(ids.shape) or step(ids, *a))
    s.generate(suffixes, seeds, cfg)
    assert seen[:3] == [(2, 2), (2, 4), (2, 8)]


def test_banned_tokens_are_never_sampled(tiny):
    _, m, _ = tiny
    banned = set(range(3, 97, 2))  # every odd id from 3
    s = Sampler(m, [1, 7], stop={2}, banned=[banned, {4}])
    out, _ = s.generate([[5], [6]] * 8, list(range(16)), sample_config(max_new_tokens=10),
                        groups=[0, 1] * 8)  # fmt: skip
    for i, toks in enumerate(out):
        assert not set(toks) & banned
        if i % 2:
            assert 4 not in toks


def test_sample_config_comes_from_the_generate_config():
    from pipeline.config import build_config

    cfg = build_config(None, bio_temperature=0.9, bio_max_new_tokens=30)
    sc = SampleConfig.from_bio_fields(cfg)
    assert (sc.temperature, sc.top_k, sc.top_p, sc.repetition_penalty, sc.max_new_tokens,
            sc.batch_size) == (0.9, cfg.bio_top_k, cfg.bio_top_p, cfg.bio_repetition_penalty,
                               30, cfg.bio_batch_size)  # fmt: skip
    with pytest.raises(TypeError):
        SampleConfig()  # no defaults of its own to drift from the config's
