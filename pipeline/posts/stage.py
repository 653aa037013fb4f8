"""The posts stage: a `posts` table of posts, replies, reposts and articles, and each
profile's `posts_in_dataset`.

Planned once per run like the follow graph (a reply's parent and a post's reply count live
in other shards): pipeline/posts/plan.py draws who posts what kind of post when and what it
answers, and each shard's slice is kept in the run's state folder. A shard task then writes
the texts of its own users' posts: the LM for a share of posts and replies (`--posts lm`,
`posts_lm_share`), judged by the same gate as bios (pipeline/lm/gate.py), resampled, then
templated; articles and the rest by the template engine. A repost carries no text of its
own (join on repost_of_post_id). Mentions and hashtags are added to the text by the stage,
so the columns say exactly what the text holds. Every random choice derives from (seed,
global post index, attempt): a post's text does not depend on shard, batch or worker.
"""

import io
import json
import re
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import stages
from pipeline.core.arrays import Lookup
from pipeline.core.rng import mix63, row_seeds, splitmix64_int, unit
from pipeline.core.stop import check_stop
from pipeline.errors import ProfilegenError
from pipeline.lm.gate import HASHTAG_RE, check_text
from pipeline.posts.plan import ARTICLE, KINDS, POST, REPLY, REPOST, Authors, build_plan
from pipeline.stages import Check, ShardContext, Stage

PLAN_DIR = ".profilegen/posts"
POSTS_VERSION = 1  # bump when the plan or the texts change: it is part of the config hash
MAX_CHARS = 280  # a post, with its mentions and hashtags
# Hints of earlier stages read when they exist: how a bot posts, what it writes.
HINTS = ["_cadence", "campaign_id"]
TEXT_HINTS = ["_text", "_theme"]
NEEDS = ["user_id", "username", "created_at", "posts_count", "followers_count", "timezone",
         "interests"]  # fmt: skip
# What the LM prompt, the gate and the templates read of the author.
ROW_FIELDS = ["first_name", "last_name", "first_name_latin", "last_name_latin", "display_name",
              "username", "gender", "age", "email", "website", "language", "country_code",
              "city", "region", "occupation", "interests"]  # fmt: skip
TS = pa.timestamp("ms", tz="UTC")
POSTS_SCHEMA = pa.schema([
    pa.field("post_id", pa.int64(), nullable=False),
    pa.field("user_id", pa.int64(), nullable=False),
    pa.field("created_at", TS, nullable=False),
    pa.field("kind", pa.string(), nullable=False),
    pa.field("text", pa.string()),
    pa.field("language", pa.string()),
    pa.field("hashtags", pa.list_(pa.string()), nullable=False),
    pa.field("mentions", pa.list_(pa.int64()), nullable=False),
    pa.field("reply_to_post_id", pa.int64()),
    pa.field("repost_of_post_id", pa.int64()),
    pa.field("like_count", pa.int64(), nullable=False),
    pa.field("reply_count", pa.int64(), nullable=False),
    pa.field("repost_count", pa.int64(), nullable=False),
    pa.field("source", pa.string()),
])  # fmt: skip
COUNT_FIELD = pa.field("posts_in_dataset", pa.int64(), nullable=False)
LM_KEYS = ("posts_lm_share", "post_max_new_tokens")
SAMPLING = ("bio_temperature", "bio_top_k", "bio_top_p", "bio_repetition_penalty",
            "bio_batch_size", "bio_retries", "bio_dtype")  # fmt: skip


def _plan_file(shard: int) -> str:
    return f"{PLAN_DIR}/shard-{shard:05d}.arrow"


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue().to_pybytes()


def hashtag(topic: str) -> str:
    """'TV series' -> '#TVSeries', 'K-pop' -> '#Kpop', 'hiking' -> '#Hiking'."""
    parts = re.findall(r"[^\W_]+", topic)
    return "#" + "".join(p if p.isupper() else p[:1].upper() + p[1:] for p in parts)


def compose(body: str, kind: int, mentions: list[str], tags: list[str]) -> str:
    """The post as shown: a reply opens with its parent's author, other mentions follow the
    text, hashtags close it (dropped, not cut, if the whole would pass MAX_CHARS)."""
    handles = ["@" + m for m in mentions]
    if kind == REPLY and handles:
        head, rest = handles[0] + " ", handles[1:]
    else:
        head, rest = "", handles
    text = head + body + "".join(" " + h for h in rest)
    with_tags = text + "".join(" " + hashtag(t) for t in tags)
    return with_tags if len(with_tags) <= MAX_CHARS else text


class PostStage(Stage):
    name = "posts"
    SOURCES = (
        "the posts' skeleton (volume, times, replies, reposts, mentions): profilegen's "
        "own construction (pipeline/posts/plan.py), after Pew 2019 and LDBC SNB",
    )
    HOW_MADE = {
        "posts_in_dataset": "rows of this user in the `posts` table (posts over the last "
        "posts_days days before reference_date; tied by rank to posts_count)",
    }

    def enabled(self, cfg) -> bool:
        return cfg.posts != "none"

    def sources(self, cfg) -> tuple[str, ...]:
        if cfg.posts == "lm":
            return (*self.SOURCES, "SmolLM2-135M-Instruct (Apache-2.0) for a share of post texts")
        return self.SOURCES

    def fingerprint(self, cfg, fields: dict) -> None:
        if cfg.posts == "none":  # a dataset without posts hashes as if the stage did not exist
            for k in ("posts_days", *LM_KEYS):
                fields.pop(k, None)
            return
        fields["posts_version"] = POSTS_VERSION
        if stages.makes(cfg, "_text"):  # bots post from their own frames: data, hashed
            from importlib import resources

            from pipeline.core.files import sha256_file

            fields["bot_posts_sha256"] = sha256_file(
                resources.files("pipeline.data") / "bot_posts.toml"
            )
        if cfg.posts == "lm":
            from pipeline.lm.weights import bio_model_sha256

            # The bios stage drops the sampling knobs when bios are not LM: posts use them.
            for k in SAMPLING:
                fields[k] = getattr(cfg, k)
            fields["bio_model_sha256"] = bio_model_sha256(cfg.bio_model)
        else:
            for k in LM_KEYS:
                fields.pop(k, None)

    def models(self, cfg) -> dict:
        if cfg.posts != "lm":
            return {}
        from pipeline.lm.chat import model_record

        sha = cfg.dataset_fields()["bio_model_sha256"]
        return {"posts": model_record(cfg.bio_model, cfg.bio_dtype, sha)}

    def preflight(self, cfg) -> None:
        if cfg.posts == "lm" and cfg.posts_lm_share > 0:
            from pipeline.lm.weights import resolve_bio_model

            resolve_bio_model(cfg.bio_model)  # missing weights: fail before anything is written

    def warm(self, cfg) -> None:
        if cfg.posts == "lm" and cfg.posts_lm_share > 0:
            from pipeline.lm.weights import resolve_bio_model
            from pipeline.posts.writer import get_writer

            get_writer(resolve_bio_model(cfg.bio_model), cfg.bio_dtype)

    def summary(self, cfg) -> str:
        if cfg.posts == "none":
            return ""
        lm = (
            f", {cfg.posts_lm_share:.0%} of posts and replies by the LM"
            if cfg.posts == "lm"
            else ""
        )
        return f"Posts: {cfg.posts} ({cfg.posts_days} days before the reference date{lm})."

    def limitations(self, cfg) -> str:
        if cfg.posts == "none":
            return ("There is no posts table (generated with --posts none): posts_count is a "
                    "declared count only.")  # fmt: skip
        return (
            "Posts are English (the shipped model and templates); a reply is written from "
            "its parent's topic, not its text; articles and most posts are templated "
            "(a CPU cannot write millions of LM posts); likes are counts, not rows."
        )

    def columns(self, cfg) -> list[pa.Field]:
        return [COUNT_FIELD]

    def tables(self, cfg) -> list[str]:
        return ["posts"]

    # -- plan -------------------------------------------------------------------------------

    def plan(self, cfg, store) -> None:
        done = f"{PLAN_DIR}/done.json"
        mark = {"config_hash": cfg.config_hash}
        if store.is_file(done) and json.loads(store.read_bytes(done)) == mark:
            return  # resumed: this config's plan is already there
        store.makedirs(PLAN_DIR)
        needs = NEEDS + [h for h in HINTS if stages.makes(cfg, h)]
        t = pa.concat_tables([stages.make_columns(cfg, i, needs) for i in range(cfg.n_shards)])
        user_id = t["user_id"].to_numpy()
        tz = pc.dictionary_encode(t["timezone"].combine_chunks())
        authors = Authors(
            created_at=t["created_at"].combine_chunks().cast(pa.int64()).to_numpy() // 1000,
            posts_count=t["posts_count"].to_numpy(),
            followers_count=t["followers_count"].to_numpy(),
            tz=tz.indices.to_numpy().astype(np.int32),
            tz_names=tz.dictionary.to_pylist(),
        )
        if "_cadence" in t.column_names:  # how bots post (plan.py's cadence codes)
            authors.cadence = t["_cadence"].to_numpy().astype(np.int8)
            authors.campaign = t["campaign_id"].fill_null(0).to_numpy().astype(np.int64)
        follows = _follows(cfg, store, user_id)
        ref = int(np.datetime64(cfg.reference_date, "s").astype(np.int64))
        p = build_plan(authors, follows, ref, cfg.posts_days, cfg.seed)
        m = len(p.author)
        offset = np.uint64(splitmix64_int(cfg.seed ^ 0x9057) >> 2)
        post_id = mix63(np.arange(m, dtype=np.uint64) + offset).astype(np.int64)
        # Topics: the interest of the topic's post's author picked by its draw.
        interests = t["interests"].combine_chunks()
        ptr = interests.offsets.to_numpy()
        owner = p.author[p.topic_of]
        n_int = ptr[owner + 1] - ptr[owner]
        topic = interests.values.take(pa.array(ptr[owner] + p.topic_pick[p.topic_of] % n_int))
        # A second hashtag: another interest of the author's own.
        own_n = ptr[p.author + 1] - ptr[p.author]
        second = interests.values.take(pa.array(ptr[p.author] + (p.topic_pick // 7) % own_n))
        usernames = t["username"].combine_chunks()
        lm = np.zeros(m, dtype=bool)
        if cfg.posts == "lm":
            lm = (unit(row_seeds(cfg.seed, 0, m, salt=0x1F)) < cfg.posts_lm_share) & (
                (p.kind == POST) | (p.kind == REPLY))  # fmt: skip
        starts = np.minimum(np.arange(cfg.n_shards + 1) * cfg.shard_rows, cfg.rows)
        bounds = np.searchsorted(p.author, starts)
        for i in range(cfg.n_shards):
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            mp = p.mention_indptr[lo : hi + 1]
            mrows = p.mention_rows[mp[0] : mp[-1]]
            mentions = pa.ListArray.from_arrays(pa.array(mp - mp[0], pa.int32()),
                                                pa.array(user_id[mrows]))  # fmt: skip
            names = pa.ListArray.from_arrays(pa.array(mp - mp[0], pa.int32()),
                                             usernames.take(pa.array(mrows)))  # fmt: skip
            par = p.parent[lo:hi]
            plan = pa.table({
                "seq": np.arange(lo, hi, dtype=np.int64),
                "post_id": post_id[lo:hi],
                "author": (p.author[lo:hi] - starts[i]).astype(np.int32),
                "created_at": p.created_at[lo:hi],
                "kind": p.kind[lo:hi],
                "parent_id": np.where(par >= 0, post_id[np.maximum(par, 0)], -1),
                "topic": topic.slice(lo, hi - lo),
                "second": second.slice(lo, hi - lo),
                "mentions": mentions, "mention_names": names,
                "reply_count": p.reply_count[lo:hi], "repost_count": p.repost_count[lo:hi],
                "like_count": p.like_count[lo:hi], "hashtags": p.hashtags[lo:hi],
                "local_hour": p.local_hour[lo:hi], "weekday": p.weekday[lo:hi],
                "lm": lm[lo:hi],
            })  # fmt: skip
            store.put_bytes(_plan_file(i), _ipc(plan))
            buf = io.BytesIO()
            np.save(buf, p.per_user[starts[i] : starts[i + 1]])
            store.put_bytes(f"{PLAN_DIR}/counts-{i:05d}.npy", buf.getvalue())
        store.put_bytes(done, json.dumps(mark).encode())

    # -- make -------------------------------------------------------------------------------

    def make(self, ctx: ShardContext, table: pa.Table, store) -> tuple[pa.Table, dict]:
        try:
            plan = pa.ipc.open_file(pa.py_buffer(store.read_bytes(_plan_file(ctx.shard))))
            plan = plan.read_all()
            counts = np.load(io.BytesIO(store.read_bytes(f"{PLAN_DIR}/counts-{ctx.shard:05d}.npy")))
        except FileNotFoundError:
            raise ProfilegenError(f"{store.url}: the posts' plan is missing; rerun the same "
                                  f"command to resume") from None  # fmt: skip
        table = table.append_column(COUNT_FIELD, pa.array(counts, pa.int64()))
        fields = ROW_FIELDS + [h for h in TEXT_HINTS if h in table.column_names]
        texts, source, stats = write_texts(ctx.cfg, plan, table.select(fields).to_pylist())
        ctx.stats.update(stats)
        user_id = table["user_id"].to_numpy()[plan["author"].to_numpy()]
        return table, {"posts": _posts_table(plan, user_id, texts, source)}

    def metrics(self, cfg, store) -> dict:
        from pipeline.posts.metrics import dataset_post_metrics

        return dataset_post_metrics(store, cfg.n_shards, seed=cfg.seed)

    def card(self, cfg, metrics: dict | None) -> str:
        if not metrics:
            return ""
        from pipeline.posts.metrics import format_post_metrics

        return f"""## Posts
The `posts` table (config `posts`, files `data/posts/`) holds one row per post, reply, repost
or article of the last {cfg.posts_days} days before {cfg.reference_date}, each by a user of
this dataset (`user_id`) and never before that account's `created_at`. `post_id` is unique;
`reply_to_post_id` / `repost_of_post_id` name an earlier post of this dataset, by an account
the author follows where there is a follows table; `reply_count` and `repost_count` are the
rows that answer a post, exactly; `like_count` grows with the author's declared followers and
the post's replies and reposts. `mentions` are `user_id`s whose `@username` is in the text,
`hashtags` the text's `#tags`. A repost has no text of its own. `source` says who wrote the
text: `lm` (SmolLM2, judged by the bio gate) or `template`. Each profile's
`posts_in_dataset` is its number of rows here. Measured on this dataset (`profilegen
eval-posts` recomputes them):

{format_post_metrics(metrics)}

"""

    def checks(self, t: pa.Table, store, manifest) -> list[Check]:
        from pipeline.posts.checks import post_checks

        return post_checks(t, store)


def _follows(cfg, store, user_id: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(follower rows, followee rows) sorted by follower, from whichever stage writes the
    `follows` table; None without one."""
    parts = [stages.make_table(cfg, i, "follows", store) for i in range(cfg.n_shards)]
    if not parts or parts[0] is None:
        return None
    f = pa.concat_tables(parts)
    row = Lookup(user_id)
    src, dst = row(f["follower_id"].to_numpy()), row(f["followee_id"].to_numpy())
    k = np.lexsort((dst, src))
    return src[k], dst[k]


def write_texts(cfg, plan: pa.Table, rows: list[dict]):
    """(text, source) per planned post of one shard, and the stage's counters."""
    from pipeline.posts.bots import bot_post
    from pipeline.posts.templates import template_article, template_post

    n = plan.num_rows
    kind = plan["kind"].to_numpy()
    author = plan["author"].to_numpy()
    topic = plan["topic"].to_pylist()
    hour = plan["local_hour"].to_numpy().tolist()
    wday = plan["weekday"].to_numpy().tolist()
    seq = plan["seq"].to_numpy()
    start = int(seq[0]) if n else 0
    texts: list[str | None] = [None] * n
    source: list[str | None] = [None] * n
    stats = {"posts": n, "lm_asked": 0, "first_try": 0, "lm": 0, "template": 0, "attempts": 0,
             "rejects": Counter()}  # fmt: skip
    seen: set[str] = set()
    todo = [
        int(i) for i in np.flatnonzero(plan["lm"].to_numpy()) if not rows[author[i]].get("_text")
    ]  # a bot's posts are its own kind of text
    stats["lm_asked"] = len(todo)
    if todo:
        from pipeline.lm.weights import resolve_bio_model
        from pipeline.posts.writer import PostWriter, get_writer

        writer: PostWriter = get_writer(resolve_bio_model(cfg.bio_model), cfg.bio_dtype)
        for attempt in range(1 + cfg.bio_retries):
            if not todo:
                break
            check_stop()
            seeds = row_seeds(cfg.seed, start, n, salt=0x5000 + attempt)
            out, stopped = writer.write(
                [rows[author[i]] for i in todo], [KINDS[kind[i]] for i in todo],
                [topic[i] for i in todo], [hour[i] for i in todo], [wday[i] for i in todo],
                [int(seeds[i]) for i in todo], cfg)  # fmt: skip
            stats["attempts"] += len(todo)
            left = []
            for i, text, ok in zip(todo, out, stopped, strict=True):
                reason = check_text(text, rows[author[i]], "en", 200) if ok else "too_long"
                if reason is None and text.lower() in seen:
                    reason = "duplicate"
                if reason is None:
                    texts[i], source[i] = text, "lm"
                    seen.add(text.lower())
                    stats["first_try"] += attempt == 0
                    stats["lm"] += 1
                else:
                    stats["rejects"][reason] += 1
                    left.append(i)
            todo = left
    tseeds = row_seeds(cfg.seed, start, n, salt=0x5099)
    created = plan["created_at"].to_numpy()
    for i in range(n):
        if texts[i] is not None or kind[i] == REPOST:
            continue
        row, s = rows[author[i]], int(tseeds[i])
        for k in range(16):
            if row.get("_text"):
                text = bot_post(row, row["_text"], topic[i], s + k, int(created[i]), k)
            elif kind[i] == ARTICLE:
                text = template_article(row, topic[i], s + k)
            else:
                text = template_post(row, KINDS[kind[i]], topic[i], s + k, hour[i], wday[i])
            if text.lower() not in seen:
                break
        seen.add(text.lower())
        texts[i], source[i] = text, "template"
        stats["template"] += 1
    stats["rejects"] = dict(sorted(stats["rejects"].items()))
    return texts, source, stats


def _posts_table(plan: pa.Table, user_id, bodies: list, source: list) -> pa.Table:
    """The shard's posts table from its plan and its texts (bodies without mentions/tags)."""
    n = plan.num_rows
    kind = plan["kind"].to_numpy()
    names = plan["mention_names"].to_pylist()
    topic, second = plan["topic"].to_pylist(), plan["second"].to_pylist()
    ntags = plan["hashtags"].to_numpy()
    texts, tags = [], []
    for i in range(n):
        if bodies[i] is None:
            texts.append(None)
            tags.append([])
            continue
        want = [topic[i]] + ([second[i]] if second[i] != topic[i] else [])
        text = compose(bodies[i], int(kind[i]), names[i], want[: int(ntags[i])])
        texts.append(text)
        tags.append(HASHTAG_RE.findall(text))
    parent = plan["parent_id"].to_numpy()
    is_reply, is_repost = kind == REPLY, kind == REPOST
    lang = [None if t is None else "en" for t in texts]
    return pa.Table.from_arrays([
        plan["post_id"].combine_chunks().cast(pa.int64()),
        pa.array(user_id, pa.int64()),
        pa.array(plan["created_at"].to_numpy() * 1000, pa.int64()).cast(TS),
        pa.array(np.array(KINDS, dtype=object)[kind], pa.string()),
        pa.array(texts, pa.string()),
        pa.array(lang, pa.string()),
        pa.array(tags, pa.list_(pa.string())),
        plan["mentions"].combine_chunks().cast(pa.list_(pa.int64())),
        pa.array(np.where(is_reply, parent, 0), pa.int64(), mask=~is_reply),
        pa.array(np.where(is_repost, parent, 0), pa.int64(), mask=~is_repost),
        plan["like_count"].combine_chunks().cast(pa.int64()),
        plan["reply_count"].combine_chunks().cast(pa.int64()),
        plan["repost_count"].combine_chunks().cast(pa.int64()),
        pa.array(source, pa.string()),
    ], schema=POSTS_SCHEMA)  # fmt: skip


STAGE = PostStage()
