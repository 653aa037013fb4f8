"""How real are a dataset's posts? Volume, rhythm, threads and text, measured on the files.

Read from the written tables, not the plan (so `eval-posts` on any finished dataset gets the
same figures as its card): the first shards up to MAX_POSTS posts (shards are random samples
of users; a reply whose parent is in an unread shard is left out of the pair measures).
- volume: posts per user, the top 10% users' share (Pew 2019: ~80%), posts before their
  account (must be 0);
- rhythm: the share per local hour in the author's own zone, the night trough (02-05h) against
  a flat day's 12.5%, the weekend's shift of the mean hour (of a day starting at 04:00);
- threads: reply delay (LDBC: mean 6.85 h), replies after parents;
- text: the gate's first-try pass and fallbacks (shard receipts), leaks (0), duplicate texts,
  distinct-1/2, topical consistency (original posts naming one of the author's interests),
  reply relevance (MiniLM cosine of reply vs its parent, minus reply vs a random post).
"""

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.arrays import Lookup
from pipeline.core.text import distinct_n
from pipeline.lm.gate import has_leak

MAX_POSTS = 2_000_000
NIGHT = (2, 3, 4)  # local hours of the trough: 02:00-04:59
_TAGS = re.compile(r"[@#]\w+")


def _local_hours(t_s: np.ndarray, tz_names: list[str], tz: np.ndarray):
    """(local hour, weekday 0=Mon) of UTC seconds `t_s` in zones tz_names[tz]."""
    from pipeline.posts.plan import _local, tz_offsets

    if not len(t_s):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    first = int(t_s.min()) // 86400 * 86400
    days = int((t_s.max() - first) // 86400) + 1
    table = tz_offsets(tz_names, first, days)
    off = table[tz, (t_s - first) // 86400]
    _, hour, wday = _local(t_s, off)
    return hour, wday


def _read(store, n: int):
    import pyarrow.parquet as pq

    from pipeline.dataset.writer import shard_file

    profiles, posts, have = [], [], 0
    cols = ["user_id", "created_at", "timezone", "interests", "posts_in_dataset"]
    for i in range(n):
        if have >= MAX_POSTS:
            break
        fs, path = store.arrow(shard_file(i, n))
        profiles.append(pq.read_table(path, columns=cols, filesystem=fs))
        fs, path = store.arrow(shard_file(i, n, "posts"))
        posts.append(pq.read_table(path, filesystem=fs))
        have += posts[-1].num_rows
    return pa.concat_tables(profiles), pa.concat_tables(posts), len(profiles) < n


def post_metrics(profiles: pa.Table, posts: pa.Table, gate: list[dict], sample: int = 400,
                 seed: int = 0) -> dict:  # fmt: skip
    """The metrics of `posts` by the users of `profiles` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    row = Lookup(profiles["user_id"].to_numpy())(posts["user_id"].to_numpy())
    m, n = posts.num_rows, profiles.num_rows
    t = posts["created_at"].combine_chunks().cast(pa.int64()).to_numpy() // 1000
    created = profiles["created_at"].combine_chunks().cast(pa.int64()).to_numpy() // 1000
    kind = np.array(posts["kind"].to_pylist(), dtype=object)
    per_user = np.bincount(row, minlength=n)
    top = np.sort(per_user)[::-1][: max(1, n // 10)].sum()
    tz = pc.dictionary_encode(profiles["timezone"].combine_chunks())
    hour, wday = _local_hours(t, tz.dictionary.to_pylist(), tz.indices.to_numpy()[row])
    hours = np.bincount(hour, minlength=24) / max(1, m)
    weekend = wday >= 5
    day = (hour - 4) % 24
    out = {
        "posts": m,
        "posts_per_user_mean": round(m / max(1, n), 3),
        "posts_per_user_median": float(np.median(per_user)) if n else 0.0,
        "users_with_posts_share": float((per_user > 0).mean()) if n else 0.0,
        "top10_users_post_share": float(top / max(1, m)),
        "posts_before_account": int((t <= created[row]).sum()),
        **{f"{k}_share": float((kind == k).mean()) if m else 0.0
           for k in ("post", "reply", "repost", "article")},
        "night_02_05_local_share": float(hours[list(NIGHT)].sum()),
        "peak_local_hour": int(np.argmax(hours)),
        # Hours of a day that starts at 04:00 (the trough), so 01:00 counts as late, not early.
        "weekend_mean_hour_shift": float(day[weekend].mean() - day[~weekend].mean())
        if weekend.any() and (~weekend).any() else 0.0,
        "local_hour_shares": [round(float(x), 4) for x in hours],
    }  # fmt: skip
    # Threads: pairs whose parent was read.
    post_row = Lookup(posts["post_id"].to_numpy())

    def parent_index(col: str) -> tuple[np.ndarray, np.ndarray]:
        ref = posts[col].combine_chunks()
        child = np.flatnonzero(ref.is_valid().to_numpy(zero_copy_only=False))
        par = post_row(ref.fill_null(0).to_numpy()[child])
        return child[par >= 0], par[par >= 0]

    rc, rp = parent_index("reply_to_post_id")
    sc, sp = parent_index("repost_of_post_id")
    delay = (t[rc] - t[rp]) / 3600
    out["reply_delay_mean_h"] = float(delay.mean()) if len(delay) else 0.0
    out["reply_within_day_share"] = float((delay <= 24).mean()) if len(delay) else 0.0
    out["answers_not_after_parent"] = int((t[rc] <= t[rp]).sum() + (t[sc] <= t[sp]).sum())
    # Text.
    text = posts["text"].to_pylist()
    source = posts["source"].to_pylist()
    written = [i for i, x in enumerate(text) if x is not None]
    keyed = [text[i].lower() for i in written]
    asked = sum(g.get("lm_asked", 0) for g in gate)
    out.update({
        "lm_posts": sum(s == "lm" for s in source),
        "template_posts": sum(s == "template" for s in source),
        "first_try_pass_rate": sum(g.get("first_try", 0) for g in gate) / asked if asked else None,
        "lm_template_fallback_rate": sum(g.get("lm_asked", 0) - g.get("lm", 0) for g in gate)
        / asked if asked else None,
        "leak_rate": sum(has_leak(text[i]) for i in written) / max(1, len(written)),
        "duplicate_text_rate": (len(keyed) - len(set(keyed))) / max(1, len(keyed)),
        "mean_chars": float(np.mean([len(text[i]) for i in written])) if written else 0.0,
    })  # fmt: skip
    pick = sorted(rng.choice(written, size=min(5000, len(written)), replace=False).tolist())
    bare = [_TAGS.sub(" ", text[i]) for i in pick]
    out["distinct_1"], out["distinct_2"] = distinct_n(bare, 1), distinct_n(bare, 2)
    # Topical consistency: an original post names one of its author's interests.
    interests = profiles["interests"].to_pylist()
    for src in ("lm", "template"):
        roots = [i for i in written if kind[i] == "post" and source[i] == src]
        hit = sum(any(x.lower() in text[i].lower() for x in interests[row[i]]) for i in roots)
        out[f"topical_{src}"] = hit / len(roots) if roots else None
    out.update(_relevance(text, rc, rp, rng, sample))
    return out


def _relevance(text, child, parent, rng, sample: int) -> dict:
    """Mean cosine of a reply with its parent, and with a random original post."""
    ok = [k for k in range(len(child)) if text[child[k]] and text[parent[k]]]
    if len(ok) < 10:
        return {"reply_parent_cosine": None, "reply_random_cosine": None}
    from pipeline.lm.embed import embed

    pick = rng.choice(ok, size=min(sample, len(ok)), replace=False)
    c, p = child[pick], parent[pick]
    # A parent of another pair: the same kind of text, unrelated (and already embedded).
    r = rng.permutation(len(p))
    e_c = embed([_TAGS.sub(" ", text[i]) for i in c])
    e_p = embed([_TAGS.sub(" ", text[i]) for i in p])
    e_r = e_p[r]
    return {"reply_parent_cosine": float((e_c * e_p).sum(1).mean()),
            "reply_random_cosine": float((e_c * e_r).sum(1).mean())}  # fmt: skip


def dataset_post_metrics(out, n_shards: int, sample: int = 400, seed: int = 0) -> dict:
    """post_metrics over a written dataset (a folder, URL or Store) and its receipts (while
    the run is open) or its manifest (once finished)."""
    from pipeline.dataset.storage import open_store
    from pipeline.dataset.writer import finished_shard, read_manifest

    store = open_store(out)
    if store.is_file("manifest.json"):
        entries = read_manifest(store)["shards"]
    else:
        entries = [finished_shard(store, i, n_shards) or {} for i in range(n_shards)]
    profiles, posts, _ = _read(store, n_shards)
    gate = [e["posts"] for e in entries if e.get("posts")]
    m = post_metrics(profiles, posts, gate, sample, seed)
    m["measured_on_users"] = profiles.num_rows
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()}


def format_post_metrics(m: dict) -> str:
    lines = ["| metric | value |", "|---|---|"]
    for k, v in m.items():
        if k == "local_hour_shares":
            v = " ".join(f"{x:.3f}" for x in v)
        lines.append(f"| {k} | {'n/a' if v is None else v} |")
    return "\n".join(lines)
