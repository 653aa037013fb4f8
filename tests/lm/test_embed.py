"""Sentence embeddings (all-MiniLM-L6-v2, shipped as a package): batches are sorted by
length for speed, and every row must still come back in its own place."""

import numpy as np

from pipeline.lm.embed import embed, mean_pairwise_cosine


def test_rows_come_back_in_order_and_unit_length():
    texts = ["a much longer sentence about hiking in the mountains every weekend", "hi",
             "jazz records and coffee", "hi", "tax forms, again"]  # fmt: skip
    e = embed(texts, batch=2)
    assert e.shape == (5, 384)
    assert np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
    for i, t in enumerate(texts):
        assert np.allclose(e[i], embed([t])[0], atol=1e-4), t
    assert np.allclose(e[1], e[3], atol=1e-5)
    assert embed([]).shape == (0, 384)


def test_similar_texts_are_closer():
    near = mean_pairwise_cosine(["I love jazz music", "jazz music is my love"])
    far = mean_pairwise_cosine(["I love jazz music", "quarterly tax filing deadline"])
    assert near > far + 0.2


def test_the_embedder_runs_in_the_cpus_faster_dtype(monkeypatch):
    import torch

    import pipeline.lm.chat as chat
    import pipeline.lm.embed as embed_module

    texts = ["Nurse in Lyon who loves hiking", "Hiking nurse, Lyon", "Rust developer in Oslo"]
    got = {}
    for flags, vendor in [({"avx2"}, "GenuineIntel"), ({"avx512_bf16"}, "AuthenticAMD")]:
        monkeypatch.setattr(chat, "cpu_flags", lambda f=flags, v=vendor: (f, v))
        embed_module._minilm.cache_clear()
        dtype = next(embed_module._minilm()[1].parameters()).dtype
        e = embed_module.embed(texts)
        assert e.dtype == np.float32 and np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-3)
        got[dtype] = e
    embed_module._minilm.cache_clear()
    assert set(got) == {torch.float32, torch.bfloat16}
    # bf16 moves a cosine in the third decimal, not the order of what is similar.
    s32, s16 = (got[d] @ got[d].T for d in (torch.float32, torch.bfloat16))
    assert np.abs(s32 - s16).max() < 0.02 and s16[0, 1] > s16[0, 2]
