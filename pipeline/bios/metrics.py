"""How good are a dataset's bios? Gate statistics, leaks, duplicates, diversity, consistency.

- first-try pass rate and template fallbacks come from the gate's counts in the shard
  receipts (what happened while generating, which the bios alone cannot tell);
- leak rate: bios that match the leak patterns (must be 0: the gate rejects them);
- duplicate rate and distinct-1/2 (unique word uni/bigrams over all of them);
- mean pairwise cosine similarity of all-MiniLM-L6-v2 sentence embeddings (lower = more
  varied), on a sample;
- field consistency: bios that mention an occupation or an interest from our tables
  mention only the row's own (cities are the gate's job: it rejects another big city);
- reads like a person (issue 15): narrator mixing (first person and "he"/"she" or the name
  for the same person), self-contradiction (own occupation negated, another occupation,
  another place, a family or fortune the row lacks), the share of bios whose every
  sentence or fragment carries a fact of the row, acronym-case defects ("hR manager"),
  the length distribution and the style mix (fragments, one, two, three or more
  sentences; with emoji).
"""

import re
from collections.abc import Sequence
from functools import cache

import numpy as np

from pipeline.core.text import distinct_n
from pipeline.lm.embed import mean_pairwise_cosine
from pipeline.lm.gate import (
    acronym_defect,
    bio_units,
    contradictions,
    has_leak,
    narrator_mixed,
    unit_has_fact,
)

_SEPARATOR = re.compile(r"\s[·|•]\s|\s[·|•]$")
_EMOJI = re.compile("[\u2600-\u27bf\U0001f000-\U0001faff]")


def bio_shape(text: str) -> str:
    """fragments (a "Nurse · Austin · jazz" line), one_sentence, two_sentences or
    three_plus: the shape a reader sees."""
    if _SEPARATOR.search(text):
        return "fragments"
    n = len(bio_units(text))
    return ("one_sentence", "two_sentences")[n - 1] if 1 <= n <= 2 else "three_plus"


def person_metrics(bios: Sequence[str], rows: Sequence[dict]) -> dict:
    """Narrator mixing, self-contradiction, facts in every sentence, acronym case, length
    distribution and style mix over `bios` (rows need the identity columns the gate reads;
    English bios are what these rules know). "" (a bot's empty bio) is left out."""
    kept = [(b, r) for b, r in zip(bios, rows, strict=True) if b]
    bios, rows = [b for b, _ in kept], [r for _, r in kept]
    n = max(len(bios), 1)
    mixed = contra = all_facts = defects = emoji = 0
    kinds = dict.fromkeys(("own_occupation", "other_occupation", "other_place",
                           "family_or_fortune"), 0)  # fmt: skip
    shapes = dict.fromkeys(("fragments", "one_sentence", "two_sentences", "three_plus"), 0)
    for b, r in zip(bios, rows, strict=True):
        mixed += narrator_mixed(b, r)
        c = contradictions(b, r)
        contra += any(c.values())
        for k, v in c.items():
            kinds[k] += v
        units = bio_units(b)
        all_facts += bool(units) and all(unit_has_fact(u, r) for u in units)
        defects += acronym_defect(b, r)
        emoji += bool(_EMOJI.search(b))
        shapes[bio_shape(b)] += 1
    lengths = np.array([len(b) for b in bios] or [0])
    p10, p50, p90 = np.percentile(lengths, [10, 50, 90])
    return {
        "narrator_mixing_rate": mixed / n,
        "self_contradiction_rate": contra / n,
        **{f"contradiction_{k}": v / n for k, v in kinds.items()},
        "every_sentence_has_fact": all_facts / n,
        "acronym_case_defects": defects,
        "chars_p10": float(p10),
        "chars_p50": float(p50),
        "chars_p90": float(p90),
        **{f"style_{k}": v / n for k, v in shapes.items()},
        "style_emoji": emoji / n,
    }


@cache
def _vocab() -> tuple[tuple[dict[str, str], re.Pattern], tuple[dict[str, str], re.Pattern]]:
    """Occupation titles and interests from our own tables: lower-cased name -> canonical
    name, and one alternation regex over all of them (longest first)."""
    from pipeline.identity.interests import load_interests
    from pipeline.identity.occupations import load_jobs

    def table(names):
        d = {n.lower(): n for n in names}
        alt = "|".join(map(re.escape, sorted(d, key=len, reverse=True)))
        return d, re.compile(rf"(?<!\w)(?:{alt})(?!\w)")

    occ = table(j[0] for j in load_jobs() if len(j[0]) > 4)
    ints = table(i for i in load_interests()[0] if len(i) > 3)
    return occ, ints


def _mentions(text: str, vocab: tuple[dict[str, str], re.Pattern]) -> set[str]:
    names, pattern = vocab
    return {names[m.group()] for m in pattern.finditer(text.lower())}


def field_consistency(bios: Sequence[str], rows: Sequence[dict]) -> dict[str, float]:
    """Among bios that mention an occupation / interest from our tables, the share whose
    mentions are all the row's own; and the share mentioning at least one own interest."""
    occ_t, int_t = _vocab()
    occ_n = occ_ok = int_n = int_ok = own_int = all_ok = 0
    for b, r in zip(bios, rows, strict=True):
        ok = True
        occ = _mentions(b, occ_t)
        # "Nurse" inside "Registered nurse" is the row's own: compare by containment.
        own = r["occupation"].lower()
        if occ:
            occ_n += 1
            good = all(o.lower() in own or own in o.lower() for o in occ)
            occ_ok += good
            ok &= good
        ints = _mentions(b, int_t)
        mine = {i for i in r["interests"]}
        own_int += bool(ints & mine)
        if ints:
            int_n += 1
            good = ints <= mine  # every interest it names is the row's own
            int_ok += good
            ok &= good
        all_ok += ok
    n = max(len(bios), 1)
    return {
        "field_consistency": all_ok / n,
        "occupation_consistency": occ_ok / occ_n if occ_n else 1.0,
        "interest_consistency": int_ok / int_n if int_n else 1.0,
        "mentions_own_interest": own_int / n,
    }


def bio_metrics(
    bios: Sequence[str],
    sources: Sequence[str],
    rows: Sequence[dict],
    gate: Sequence[dict] = (),
    sample: int = 1000,
    seed: int = 0,
    text_sample: int = 50_000,
) -> dict[str, float | int]:
    """Every bio metric for one dataset; `gate` = the shard receipts' "bios" counts.

    Leaks and duplicates are counted over every bio; distinct-n and field consistency over
    a seeded sample of `text_sample` rows, the embedding cosine over `sample` of them."""
    n = len(bios)
    # The LM's first try is judged over the rows it wrote for, not a bot's given bio.
    lm_rows = sum(g.get("rows", 0) - g.get("given", 0) for g in gate)
    first = sum(g.get("first_try", 0) for g in gate)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(n, size=min(sample, n), replace=False)) if n else []
    keyed = [b.lower() for b in bios]
    text_pick = np.sort(rng.choice(n, size=min(text_sample, n), replace=False)) if n else []
    # --bios template: no LM ran, so its rates would read as a failure (0% first-try pass,
    # 100% "fallbacks") of what the user chose: they are not applicable.
    lm_ran = any(g.get("attempts", 0) for g in gate) or any(s == "lm" for s in sources)
    out = {
        "rows": n,
        "lm_share": sum(s == "lm" for s in sources) / max(n, 1),
        "template_fallback_rate": sum(s == "template" for s in sources) / max(n, 1)
        if lm_ran
        else None,
        "first_try_pass_rate": (first / lm_rows if lm_rows else float("nan")) if lm_ran else None,
        "leak_rate": sum(has_leak(b) for b in bios) / max(n, 1),
        # "" is a profile without a bio (a bot's tell), never a repeat of another.
        "duplicate_rate": 1 - (len(set(keyed) - {""}) + keyed.count("")) / max(n, 1),
        "distinct_1": distinct_n([bios[i] for i in text_pick], 1),
        "distinct_2": distinct_n([bios[i] for i in text_pick], 2),
        "mean_chars": float(np.mean([len(b) for b in bios])) if n else 0.0,
        "mean_pairwise_cosine": mean_pairwise_cosine([bios[i] for i in pick]),
    }
    out.update(field_consistency([bios[i] for i in text_pick], [rows[i] for i in text_pick]))
    if rows and "city" in rows[0]:  # the identity columns the gate's rules read
        out.update(person_metrics([bios[i] for i in text_pick], [rows[i] for i in text_pick]))
    rejects: dict[str, int] = {}
    for g in gate:
        for k, v in g.get("rejects", {}).items():
            rejects[k] = rejects.get(k, 0) + v
    out["rejects"] = dict(sorted(rejects.items(), key=lambda kv: -kv[1]))
    return out


def format_bio_metrics(m: dict) -> str:
    """A markdown table for the card and the CLI."""
    lines = ["| metric | value |", "|---|---|"]
    for k, v in m.items():
        if k == "rejects":
            v = ", ".join(f"{a} {b}" for a, b in v.items()) or "none"
        elif v is None:
            v = "n/a (template bios: no LM ran)"
        elif isinstance(v, float):
            v = f"{v:.4f}"
        lines.append(f"| {k} | {v} |")
    return "\n".join(lines)


def dataset_bio_metrics(out, n_shards: int, sample: int = 1000, max_rows: int = 500_000) -> dict:
    """bio_metrics over a written dataset (a folder or URL): the bios of its first shards up
    to `max_rows` rows (reading 100M bios for a card would cost more than making them), gate
    counts from all its receipts (while the run is open) or its manifest (once finished)."""
    import pyarrow.parquet as pq

    from pipeline.dataset.storage import open_store
    from pipeline.dataset.writer import finished_shard, read_manifest, shard_file

    store = open_store(out)
    if store.is_file("manifest.json"):
        entries = read_manifest(store)["shards"]
    else:
        entries = [finished_shard(store, i, n_shards) or {} for i in range(n_shards)]
    from pipeline.bios.stage import ROW_FIELDS

    cols = ["bio", "bio_source", *ROW_FIELDS]
    tables, have = [], 0
    for i in range(n_shards):
        if have >= max_rows:
            break
        fs, path = store.arrow(shard_file(i, n_shards))
        names = set(pq.read_schema(path, filesystem=fs).names)
        tables.append(pq.read_table(path, columns=[c for c in cols if c in names],
                                    filesystem=fs))  # fmt: skip
        have += tables[-1].num_rows
    import pyarrow as pa

    t = pa.concat_tables(tables)
    rows = t.select([c for c in ROW_FIELDS if c in t.column_names]).to_pylist()
    gate = [e["bios"] for e in entries if e.get("bios")]
    return bio_metrics(t["bio"].to_pylist(), t["bio_source"].to_pylist(), rows, gate, sample)
