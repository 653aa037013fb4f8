"""The follow-graph stage: a `follows` table over the dataset's own users, and in-dataset
follower counts on every profile that equal the table's degrees exactly.

The graph needs every user at once (who is near whom), so it is planned once per run before
any shard (`plan`): the identity columns of all rows are made again (cheap and
deterministic), pipeline.graph.build draws the edges, and each shard's slice (its users'
follows and in/out-degrees) is kept in the run's state folder. A shard task then only reads
its slice, whichever worker runs it, so the bytes don't depend on the runner. The state
goes with the run's other state once the manifest is written.
"""

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import stages
from pipeline.core.arrays import Lookup, unique
from pipeline.errors import ProfilegenError
from pipeline.graph.build import REASONS, GraphParams, People, build_follows, check_params
from pipeline.graph.options import DEFAULT_MEAN_FOLLOWS
from pipeline.stages import Check, ShardContext, Stage

PLAN_DIR = ".profilegen/graph"
# Bump when the graph construction changes: it is part of the config hash.
GRAPH_VERSION = 1
# What the graph reads of each profile.
# Hints of earlier stages the graph reads when they exist: how a bot follows.
HINTS = ["_follow", "campaign_id"]
NEEDS = ["user_id", "country_code", "city", "age", "interests", "created_at",
         "followers_count", "following_count"]  # fmt: skip
FOLLOWS_SCHEMA = pa.schema([
    pa.field("follower_id", pa.int64(), nullable=False),
    pa.field("followee_id", pa.int64(), nullable=False),
    pa.field("created_at", pa.timestamp("ms", tz="UTC"), nullable=False),
    pa.field("reason", pa.string(), nullable=False),
])  # fmt: skip
COUNT_FIELDS = [pa.field("followers_in_dataset", pa.int64(), nullable=False),
                pa.field("following_in_dataset", pa.int64(), nullable=False)]  # fmt: skip
KEYS = ("follows", "mean_follows", "reciprocity", "follows_place_share",
        "follows_interest_share", "follows_closure_share")  # fmt: skip


def graph_params(cfg) -> GraphParams:
    """The build's parameters from the config; ValueError (one line) if they can't work."""
    n = cfg.rows
    mean = cfg.mean_follows
    if mean is None:  # the default, thinned for datasets too small to hold it
        from pipeline.graph.build import MAX_DENSITY

        mean = min(DEFAULT_MEAN_FOLLOWS, round(MAX_DENSITY * (n - 1), 2))
    rest = max(0.0, 1.0 - cfg.follows_place_share - cfg.follows_interest_share)
    p = GraphParams(
        mean_follows=float(mean), reciprocity=cfg.reciprocity,
        place_share=cfg.follows_place_share, interest_share=cfg.follows_interest_share,
        popularity_share=rest * 0.6, random_share=rest * 0.4,
        closure_share=cfg.follows_closure_share,
    )  # fmt: skip
    try:
        check_params(n, p)
    except ValueError as e:
        hint = "; pass --follows none for no graph" if n < 10 else ""
        raise ValueError(f"--follows graph: {e}{hint}") from None
    return p


def _plan_file(shard: int) -> str:
    return f"{PLAN_DIR}/shard-{shard:05d}.npz"


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _codes(values) -> np.ndarray:
    """int32 code per value (codes in order of first appearance: deterministic)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return pc.dictionary_encode(values).indices.to_numpy().astype(np.int32)


def people_of(cfg) -> tuple[People, np.ndarray]:
    """(People, user_id) of every row, from the stages that make the columns the graph reads."""
    needs = NEEDS + [h for h in HINTS if stages.makes(cfg, h)]
    t = pa.concat_tables([stages.make_columns(cfg, i, needs) for i in range(cfg.n_shards)])
    country = _codes(t["country_code"])
    city = _codes(pc.binary_join_element_wise(t["country_code"], t["city"], "\x1f"))
    interests = t["interests"].combine_chunks()
    ids = _codes(interests.flatten())
    created = t["created_at"].combine_chunks().cast(pa.int64()).to_numpy() // 1000
    people = People(
        country=country,
        city=city,
        age=t["age"].to_numpy().astype(np.int16),
        interest_indptr=interests.offsets.to_numpy().astype(np.int64),
        interest_ids=ids,
        created_at=created.astype(np.int64),
        followers_count=t["followers_count"].to_numpy().astype(np.int64),
        following_count=t["following_count"].to_numpy().astype(np.int64),
    )
    if "_follow" in t.column_names:  # how each bot follows (pipeline/graph/bots.py)
        people.follow = t["_follow"].to_numpy().astype(np.int8)
        people.campaign = t["campaign_id"].fill_null(0).to_numpy().astype(np.int64)
    return people, t["user_id"].to_numpy()


class GraphStage(Stage):
    name = "graph"
    SOURCES = ("the follow graph: profilegen's own LDBC-style construction "
               "(pipeline/graph/build.py), no outside data",)  # fmt: skip
    HOW_MADE = {
        "followers_in_dataset": "in-degree in the `follows` table: how many users of this "
        "dataset follow this one (exactly; tied by rank to followers_count)",
        "following_in_dataset": "out-degree in the `follows` table: how many users of this "
        "dataset this one follows (exactly; tied by rank to following_count)",
    }

    def enabled(self, cfg) -> bool:
        return cfg.follows == "graph"

    def fingerprint(self, cfg, fields: dict) -> None:
        if self.enabled(cfg):
            fields["mean_follows"] = graph_params(cfg).mean_follows  # the resolved default
            fields["graph_version"] = GRAPH_VERSION
        else:  # a dataset without a graph hashes as if the stage did not exist
            for k in KEYS:
                fields.pop(k, None)

    def summary(self, cfg) -> str:
        if not self.enabled(cfg):
            return ""
        p = graph_params(cfg)
        return (f"Follows: graph (mean {p.mean_follows:g} follows per user in the dataset, "
                f"reciprocity target {p.reciprocity:g}).")  # fmt: skip

    def limitations(self, cfg) -> str:
        if not self.enabled(cfg):
            return ("There is no follows table (generated with --follows none): "
                    "followers_count and following_count are declared counts only.")  # fmt: skip
        return ("The follow graph is a closed world: in-dataset counts are far below the "
                "declared platform-wide ones, by design.")  # fmt: skip

    def columns(self, cfg) -> list[pa.Field]:
        return list(COUNT_FIELDS)

    def tables(self, cfg) -> list[str]:
        return ["follows"]

    def plan(self, cfg, store) -> None:
        done = f"{PLAN_DIR}/done.json"
        mark = {"config_hash": cfg.config_hash}
        if store.is_file(done) and json.loads(store.read_bytes(done)) == mark:
            return  # a resumed run: the plan of this very config is already there
        store.makedirs(PLAN_DIR)
        people, user_id = people_of(cfg)
        ref = int(np.datetime64(cfg.reference_date, "s").astype(np.int64))
        params = graph_params(cfg)
        e = build_follows(people, params, cfg.seed, ref)
        if people.follow is not None:
            from pipeline.graph.bots import add_bot_follows

            e = add_bot_follows(e, people.follow, people.campaign, people.created_at,
                                params.mean_follows, cfg.seed, ref)  # fmt: skip
        n = cfg.rows
        indeg = np.bincount(e.followee, minlength=n)
        outdeg = np.bincount(e.follower, minlength=n)
        # Edges are sorted by follower: shard i's follows are one contiguous run.
        starts = np.minimum(np.arange(cfg.n_shards + 1) * cfg.shard_rows, n)
        bounds = np.searchsorted(e.follower, starts)
        for i in range(cfg.n_shards):
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            rows = slice(i * cfg.shard_rows, min(n, (i + 1) * cfg.shard_rows))
            store.put_bytes(_plan_file(i), _npz(
                follower_id=user_id[e.follower[lo:hi]], followee_id=user_id[e.followee[lo:hi]],
                created_at=e.created_at[lo:hi], reason=e.reason[lo:hi],
                followers_in_dataset=indeg[rows], following_in_dataset=outdeg[rows],
            ))  # fmt: skip
        # Measured on the build's own row indices; the edges' other columns are on disk now.
        reasons = np.bincount(e.reason, minlength=len(REASONS))
        src, dst = e.follower.astype(np.int32), e.followee.astype(np.int32)
        del e
        metrics = _measure(src, dst, reasons, people, indeg, outdeg)
        store.put_bytes(f"{PLAN_DIR}/metrics.json", json.dumps(metrics, sort_keys=True).encode())
        store.put_bytes(done, json.dumps(mark).encode())

    def make(self, ctx: ShardContext, table: pa.Table, store) -> tuple[pa.Table, dict]:
        try:
            plan = np.load(io.BytesIO(store.read_bytes(_plan_file(ctx.shard))))
        except FileNotFoundError:
            raise ProfilegenError(f"{store.url}: the follow graph's plan is missing; rerun "
                                  f"the same command to resume") from None  # fmt: skip
        for f in COUNT_FIELDS:
            table = table.append_column(f, pa.array(plan[f.name], pa.int64()))
        reasons = np.array(REASONS, dtype=object)[plan["reason"]]
        follows = pa.Table.from_arrays([
            pa.array(plan["follower_id"], pa.int64()), pa.array(plan["followee_id"], pa.int64()),
            pa.array(plan["created_at"] * 1000, pa.int64()).cast(FOLLOWS_SCHEMA[2].type),
            pa.array(reasons, pa.string()),
        ], schema=FOLLOWS_SCHEMA)  # fmt: skip
        return table, {"follows": follows}

    def metrics(self, cfg, store) -> dict:
        # Measured at plan time, on the very edges the shards hold (see _measure).
        return json.loads(store.read_bytes(f"{PLAN_DIR}/metrics.json"))

    def card(self, cfg, metrics: dict | None) -> str:
        if not metrics:
            return ""
        rows = "\n".join(f"| {k} | {v} |" for k, v in metrics.items())
        return f"""## Follows
The `follows` table (config `follows`, files `data/follows/`) holds one row per follow:
**`follower_id` follows `followee_id`** (both `user_id`s of this dataset): the follower sees
the followee's posts. `created_at` is after both accounts were created and before the
reference date; `reason` says why the edge exists ({", ".join(REASONS)}). Each profile's
`followers_in_dataset` is its in-degree in this table and `following_in_dataset` its
out-degree, exactly; `followers_count` / `following_count` stay the declared platform-wide
counts (a closed world of {cfg.rows:,} users cannot hold a celebrity's millions), tied to the
in-dataset counts by rank. Built LDBC-style (similarity windows by place and by interest,
popularity, random, friend-of-friend closure, follow-backs to the target reciprocity):
see pipeline/graph/build.py. Measured on this dataset:

| metric | value |
|---|---|
{rows}

"""

    def checks(self, t: pa.Table, store, manifest) -> list[Check]:
        from pipeline.dataset.validate import load_table

        f = load_table(store, "follows")
        uid = t["user_id"].to_numpy()
        src, dst, n = _indices(uid, f)
        unknown = int((src < 0).sum() + (dst < 0).sum())
        ok = (src >= 0) & (dst >= 0)
        src, dst = src[ok], dst[ok]
        key = src * n + dst
        dups = len(key) - len(unique(key))
        loops = int((src == dst).sum())
        indeg, outdeg = np.bincount(dst, minlength=n), np.bincount(src, minlength=n)
        bad_in = int((indeg != t["followers_in_dataset"].to_numpy()).sum())
        bad_out = int((outdeg != t["following_in_dataset"].to_numpy()).sum())
        created = t["created_at"].combine_chunks().cast(pa.int64()).to_numpy()
        at = f["created_at"].combine_chunks().cast(pa.int64()).to_numpy()[ok]
        prov = json.loads(t.schema.metadata[b"profilegen"])
        ref = int(np.datetime64(prov["reference_date"], "ms").astype(np.int64))
        early = int(((at <= created[src]) | (at <= created[dst])).sum())
        late = int((at >= ref).sum())
        odd = sorted(set(pc.unique(f["reason"]).to_pylist()) - set(REASONS), key=str)
        return [
            Check("follows between users of this dataset", unknown == 0,
                  f"{unknown} unknown ids in {f.num_rows:,} follows"),
            Check("no self-follows", loops == 0, f"{loops} self-follows"),
            Check("no duplicate follows", dups == 0, f"{dups} duplicates"),
            Check("followers_in_dataset = in-degree", bad_in == 0, f"{bad_in} of {n} differ"),
            Check("following_in_dataset = out-degree", bad_out == 0, f"{bad_out} of {n} differ"),
            Check("follows after both accounts exist", early == 0, f"{early} too early"),
            Check("follows before reference date", late == 0, f"{late} late"),
            Check("follow reasons known", not odd, f"{len(odd)} other values {odd[:3]}"),
        ]  # fmt: skip


def _measure(src, dst, reasons, people: People, indeg: np.ndarray, outdeg: np.ndarray) -> dict:
    """The graph's shape, from the build's own row indices (no id lookups, no re-read of 30M
    follows): what the card, the manifest and `inspect` report."""
    from pipeline.graph.metrics import graph_metrics, spearman

    n = len(indeg)
    m = graph_metrics(n, src, dst, country=people.country, age=people.age, city=people.city)
    m["spearman_in_vs_followers_count"] = spearman(indeg, people.followers_count)
    m["spearman_out_vs_following_count"] = spearman(outdeg, people.following_count)
    shares = reasons / max(1, int(reasons.sum()))
    for name, share in sorted(zip(REASONS, shares.tolist(), strict=True)):
        m[f"reason_{name}_share"] = share
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()}


def _indices(user_id: np.ndarray, follows: pa.Table) -> tuple[np.ndarray, np.ndarray, int]:
    """Row indices of each follow's two users (-1 for an id not in the dataset)."""
    index = Lookup(user_id)
    src = index(follows["follower_id"].to_numpy())
    dst = index(follows["followee_id"].to_numpy())
    return src, dst, len(user_id)


STAGE = GraphStage()
