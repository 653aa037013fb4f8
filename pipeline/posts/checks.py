"""Validation of a written posts table: every promise the card makes, recomputed from the
files (what `profilegen inspect` shows and the tests make fail one by one)."""

import json

import numpy as np
import pyarrow as pa

from pipeline.core.arrays import Lookup, unique
from pipeline.lm.gate import HASHTAG_RE, MENTION_RE, has_leak
from pipeline.posts.plan import KINDS
from pipeline.stages import Check

MAX_CHARS = 280


def post_checks(t: pa.Table, store) -> list[Check]:
    from pipeline.dataset.validate import load_table

    p = load_table(store, "posts")
    m = p.num_rows
    uid = t["user_id"].to_numpy()
    user_row = Lookup(uid)
    author = user_row(p["user_id"].to_numpy())
    unknown = int((author < 0).sum())
    a = np.maximum(author, 0)
    pid = p["post_id"].to_numpy()
    dups = m - len(unique(pid))
    per_user = np.bincount(author[author >= 0], minlength=len(uid))
    bad_count = int((per_user != t["posts_in_dataset"].to_numpy()).sum())
    at = p["created_at"].combine_chunks().cast(pa.int64()).to_numpy()
    created = t["created_at"].combine_chunks().cast(pa.int64()).to_numpy()
    prov = json.loads(t.schema.metadata[b"profilegen"])
    ref = int(np.datetime64(prov["reference_date"], "ms").astype(np.int64))
    early = int(((at <= created[a]) & (author >= 0)).sum())
    late = int((at >= ref).sum())
    kind = p["kind"].to_numpy(zero_copy_only=False).astype(object)
    odd_kinds = sorted(set(kind.tolist()) - set(KINDS), key=str)

    # Threads: each reference names an earlier post of this dataset; counts equal the rows.
    post_row = Lookup(pid)
    broken = misplaced = not_after = 0
    counts_off = 0
    for col, k, count in (("reply_to_post_id", "reply", "reply_count"),
                          ("repost_of_post_id", "repost", "repost_count")):  # fmt: skip
        ref_col = p[col].combine_chunks()
        has = ref_col.is_valid().to_numpy(zero_copy_only=False)
        misplaced += int((has != (kind == k)).sum())
        child = np.flatnonzero(has)
        par = post_row(ref_col.fill_null(0).to_numpy()[child])
        broken += int((par < 0).sum())
        ok = par >= 0
        not_after += int((at[child[ok]] <= at[par[ok]]).sum())
        counts_off += int((np.bincount(par[ok], minlength=m) != p[count].to_numpy()).sum())

    # Text: present except for reposts, short, leak-free; tags and mentions as the columns say.
    text = p["text"].to_pylist()
    source = p["source"].to_pylist()
    missing = sum((x is None) != (k == "repost") for x, k in zip(text, kind, strict=True))
    long = sum(1 for x, k in zip(text, kind, strict=True)
               if x is not None and k != "article" and len(x) > MAX_CHARS)  # fmt: skip
    leaks = sum(has_leak(x) for x in text if x)
    # By kind, not by text: a post that lost its text fails the text check alone.
    odd_source = sum((s is not None) if k == "repost" else s not in ("lm", "template")
                     for s, k in zip(source, kind, strict=True))  # fmt: skip
    tags = p["hashtags"].to_pylist()
    bad_tags = sum(HASHTAG_RE.findall(x or "") != tg for x, tg in zip(text, tags, strict=True))
    mentions = p["mentions"].combine_chunks()
    flat = mentions.flatten().to_numpy()
    m_rows = user_row(flat)
    unknown_mentions = int((m_rows < 0).sum())
    names = t["username"].to_numpy(zero_copy_only=False).astype(object)
    ptr = mentions.offsets.to_numpy()
    bad_mentions = 0
    for i in np.flatnonzero(np.diff(ptr) > 0):
        said = set(MENTION_RE.findall(text[i] or ""))
        want = {names[r] for r in m_rows[ptr[i] : ptr[i + 1]] if r >= 0}
        bad_mentions += said != want
    owner = np.repeat(author, np.diff(ptr))
    self_mentions = int(((m_rows == owner) & (owner >= 0)).sum())
    lang = p["language"].to_pylist()
    no_lang = sum(x is not None and g is None for x, g in zip(text, lang, strict=True))
    return [
        Check("posts by users of this dataset", unknown == 0, f"{unknown} unknown authors"),
        Check("post_id unique", dups == 0, f"{dups} duplicates in {m:,} posts"),
        Check("posts_in_dataset = posts per user", bad_count == 0, f"{bad_count} differ"),
        Check("posts after their account exists", early == 0, f"{early} too early"),
        Check("posts before reference date", late == 0, f"{late} late"),
        Check("post kinds known", not odd_kinds, f"other values {odd_kinds[:3]}"),
        Check("replies/reposts name a post of this dataset", broken == 0, f"{broken} broken"),
        Check("reply_to/repost_of only on replies/reposts", misplaced == 0,
              f"{misplaced} misplaced"),
        Check("replies and reposts after their parent", not_after == 0, f"{not_after} not after"),
        Check("reply_count/repost_count = rows that answer", counts_off == 0,
              f"{counts_off} counts differ"),
        Check("text on every post but reposts", missing == 0, f"{missing} wrong"),
        Check(f"posts and replies <= {MAX_CHARS} chars", long == 0, f"{long} longer"),
        Check("posts without prompt leaks", leaks == 0, f"{leaks} leaked"),
        Check("post source is lm/template", odd_source == 0, f"{odd_source} wrong"),
        Check("hashtags = the text's #tags", bad_tags == 0, f"{bad_tags} differ"),
        Check("mentions are users of this dataset", unknown_mentions == 0,
              f"{unknown_mentions} unknown"),
        Check("mentions = the text's @usernames", bad_mentions == 0, f"{bad_mentions} differ"),
        Check("no self-mentions", self_mentions == 0, f"{self_mentions} self-mentions"),
        Check("post language recorded", no_lang == 0, f"{no_lang} texts without one"),
    ]  # fmt: skip
