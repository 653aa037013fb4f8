"""The accounts stage: every profile's `account_type` (human or one of five bot classes),
its astroturf `campaign_id`, its `split`, and a bot's profile tells.

It runs right after identity. A bot's profile is identity's row with the tells its class
and the difficulty show rewritten here (a digit-run username, a new or campaign-burst
account, bot-like declared counts, the username as display name); what the later stages do
differently for a bot (a default image, a spam bio, mass follows, round-the-clock posts) is
said in hint columns (`_avatar`, `_bio`, `_follow`, `_cadence`, `_text`, `_theme`) that
they read and the writer drops. So the label is never one give-away column: each stage
shows it its own way, and at `hard` most profile tells are off.
"""

from __future__ import annotations

import re
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.accounts.assign import (
    CADENCE,
    FOLLOW,
    SPLIT_SHARES,
    SPLITS,
    TYPES,
    Accounts,
    _uniform,
    assign,
    n_campaigns,
)
from pipeline.accounts.assign import (
    table as account_table,
)
from pipeline.core.files import sha256_file
from pipeline.core.rng import row_seeds, seeds_at
from pipeline.stages import Check, ShardContext, Stage

ACCOUNTS_VERSION = 1  # bump when the assignment or the tells change (part of the config hash)
FIELDS = [
    pa.field("account_type", pa.string(), nullable=False),
    pa.field("campaign_id", pa.int64()),
    pa.field("split", pa.string(), nullable=False),
    pa.field("decoy", pa.bool_(), nullable=False),
]
HINTS = [
    pa.field("_avatar", pa.bool_()),  # a default image instead of an avatar
    pa.field("_bio", pa.string()),  # null: the bios stage writes it; "": no bio; else the bio
    pa.field("_follow", pa.int8()),  # index into assign.FOLLOW
    pa.field("_cadence", pa.int8()),  # index into assign.CADENCE
    pa.field("_text", pa.string()),  # "" or a bot post style (spam, financial, ...)
    pa.field("_theme", pa.string()),  # a campaign's cause and hashtag, "cause\x1f#tag"
]
KEYS = ("bots", "bot_share", "bot_mix", "bot_difficulty", "campaign_size")
DAY = 86400
DATA = resources.files("pipeline.data")
FLAIR = (" 🔥", " ✅", " 💯", " 👇", " 🙏", " ‼️", " 📢", " 🚀", " ⭐", " 👀", " 💪", " 🎯")
_S = 0xACC0  # salts of this stage's own draws


def _u(seed: int, start: int, n: int, salt: int) -> np.ndarray:
    return _uniform(seed, start, n, _S + salt)


def _lognormal(u: np.ndarray, median: float, sigma: float, u2: np.ndarray) -> np.ndarray:
    # Box-Muller from two uniforms: a draw per row that depends on the row alone.
    z = np.sqrt(-2 * np.log(np.maximum(u, 1e-300))) * np.cos(2 * np.pi * u2)
    return median * np.exp(sigma * z)


def tag_of(cause: str) -> str:
    return "#" + "".join(w[:1].upper() + w[1:] for w in re.findall(r"[A-Za-z0-9]+", cause))


def campaign_theme(seed: int, campaign: int) -> tuple[str, str]:
    """(cause, #tag) of campaign number `campaign` (1..)."""
    causes = account_table()["campaigns"]["causes"]
    h = int(row_seeds(seed, campaign, 1, _S + 50)[0])
    cause = causes[h % len(causes)].replace("{n}", str(10 + (h >> 20) % 90))
    return cause, tag_of(cause)


class AccountStage(Stage):
    name = "accounts"
    HOW_MADE = {
        "account_type": "human or a bot class after Botometer v4's taxonomy (spammer, "
        "fake_follower, astroturf, self_declared, financial), drawn per row at bot_share and "
        "bot_mix: the label",
        "campaign_id": "the astroturf campaign (coordinated accounts) the bot belongs to; null "
        "for every other account",
        "split": "train / validation / test (70/10/20), from the user (or its campaign: no "
        "campaign straddles two splits)",
        "decoy": "a human given two bot-like habits (news bursts, follow-back, default image, "
        "no bio, new account): labelled human, for measuring false positives",
    }
    SOURCES = ("account types: profilegen's own construction after Botometer v4's classes "
               "and TwiBot-22's layout (pipeline/accounts/), no outside data",)  # fmt: skip

    def enabled(self, cfg) -> bool:
        return cfg.bots != "none"

    def fingerprint(self, cfg, fields: dict) -> None:
        if cfg.bots == "none":  # no bots: hashes as if the stage did not exist
            for k in KEYS:
                fields.pop(k, None)
            return
        fields["bot_mix"] = dict(sorted(cfg.bot_mix.items()))
        fields["accounts_version"] = ACCOUNTS_VERSION
        # The tells' probabilities and frames are data: their bytes decide the output too.
        fields["account_types_sha256"] = sha256_file(DATA / "account_types.toml")

    def summary(self, cfg) -> str:
        if cfg.bots == "none":
            return ""
        return (f"Accounts: {cfg.bot_share:.0%} bots ({cfg.bot_difficulty}), "
                f"{n_campaigns(cfg)} astroturf campaign(s).")  # fmt: skip

    def limitations(self, cfg) -> str:
        if cfg.bots == "none":
            return ""
        return ("Bots are synthetic and behave as the literature describes real ones, which is "
                "not a measurement of any platform's bots; a detector's scores here say how "
                "well it reads these tells, not how it does on real accounts.")  # fmt: skip

    def columns(self, cfg) -> list[pa.Field]:
        return FIELDS + HINTS

    def make(self, ctx: ShardContext, table: pa.Table, store) -> tuple[pa.Table, dict]:
        cfg, n = ctx.cfg, ctx.rows
        a = assign(cfg, ctx.start, n)
        if "username" in table.column_names:  # made alone (make_columns) it has no profile
            table = _profile_tells(cfg, ctx.start, table, a)
        bio, theme = _bios(cfg, ctx.start, table, a)
        cols = {
            "account_type": pa.array(np.array(TYPES, dtype=object)[a.kind], pa.string()),
            "campaign_id": pa.array(
                np.where(a.campaign > 0, a.campaign, 0), pa.int64(), mask=a.campaign == 0
            ),  # fmt: skip
            "split": pa.array(np.array(SPLITS, dtype=object)[a.split], pa.string()),
            "decoy": pa.array(a.decoy),
            "_avatar": pa.array(a.tells["avatar"]),
            "_bio": bio,
            "_follow": pa.array(a.follow, pa.int8()),
            "_cadence": pa.array(a.cadence, pa.int8()),
            "_text": pa.array(a.text, pa.string()),
            "_theme": theme,
        }
        for f in FIELDS + HINTS:
            table = table.append_column(f, cols[f.name])
        ctx.stats.update({t: int((a.kind == i).sum()) for i, t in enumerate(TYPES)})
        return table, {}

    def metrics(self, cfg, store) -> dict:
        from pipeline.dataset.validate import load_table

        t = load_table(
            store,
            "profiles",
            ["account_type", "campaign_id", "split", "decoy"],
            n_shards=cfg.n_shards,
        )
        kind = t["account_type"].to_numpy(zero_copy_only=False)
        out: dict = {"bot_share": round(float(np.mean(kind != "human")), 4),
                     "bot_difficulty": cfg.bot_difficulty,
                     "campaigns": int(pc.count_distinct(t["campaign_id"]).as_py()),
                     "decoys": int(pc.sum(t["decoy"]).as_py() or 0)}  # fmt: skip
        for name in TYPES:
            out[f"accounts_{name}"] = int(np.sum(kind == name))
        split = t["split"].to_numpy(zero_copy_only=False)
        for s in SPLITS:
            out[f"split_{s}"] = int(np.sum(split == s))
        return out

    def card(self, cfg, metrics: dict | None) -> str:
        if not metrics:
            return ""
        d = account_table()["difficulty"][cfg.bot_difficulty]
        counts = " | ".join(f"{t}: {metrics[f'accounts_{t}']:,}" for t in TYPES)
        return f"""## Account types
Every profile has an `account_type`: **human**, or a bot class after Botometer v4's
taxonomy. The labels are the generator's own (no annotation): which rows are bots is drawn
from (seed, row) at `bot_share` = {cfg.bot_share:g}, the class at `bot_mix`, before any
other column is made.

{_class_table()}

Difficulty **{cfg.bot_difficulty}**: each profile tell of a bot shows with probability
{d["profile"]:g}, each behaviour tell (follows, cadence, post texts) with {d["behaviour"]:g};
{d["decoy_share"]:.0%} of humans are **decoys** (`decoy` = true: two bot-like habits such as
news bursts, a follow-back community, a default image, no bio, a new account), labelled
`human`. `split` is train/validation/test ({"/".join(f"{s:.0%}" for s in SPLIT_SHARES)}),
from the user id, or from the campaign for its members, so no campaign is split. Drop
`account_type`, `campaign_id`, `split` and `decoy` from a detector's features: they are the
labels. `profilegen export --format twibot22` writes TwiBot-22's layout; `profilegen
eval-detector` trains baselines on the train split and scores the test split.

Counts: {counts}; {metrics["campaigns"]} campaigns, {metrics["decoys"]} decoys.

"""

    def checks(self, t: pa.Table, store, manifest) -> list[Check]:
        return account_checks(t, manifest["config"])


CLASSES = (
    ("spammer", "promotes links and follow-for-follow", "digit-run username, new account, "
     "default image, spam bio with a link, follows many, posts links round the clock"),
    ("fake_follower", "a bought follower", "digit-run username, default image, no bio, "
     "follows many within the dataset, followed by few, almost never posts"),
    ("astroturf", "a member of a coordinated campaign (`campaign_id`)", "accounts created in "
     "the campaign's burst, a campaign bio, members follow each other and the accounts they "
     "promote, near-duplicate posts at synchronized times"),
    ("self_declared", "an automated account that says so", '"bot" in the bio, posts on a '
     "schedule round the clock, follows few"),
    ("financial", "crypto/forex lures", "lure bio with a link, bursty posts with tickers and "
     "links, follows many"),
)  # fmt: skip


def _class_table() -> str:
    rows = "\n".join(f"| `{c}` | {what} | {how} |" for c, what, how in CLASSES)
    return "| class | what it is | how it shows (when its tells are on) |\n|---|---|---|\n" + rows


def account_checks(t: pa.Table, config: dict) -> list[Check]:
    kind = t["account_type"].to_numpy(zero_copy_only=False).astype(str)
    odd = sorted(set(kind) - set(TYPES))
    share = float(np.mean(kind != "human"))
    want = config["bot_share"]
    tol = 4 * np.sqrt(want * (1 - want) / max(len(kind), 1)) + 1e-9
    camp = t["campaign_id"].to_numpy(zero_copy_only=False)
    has = ~np.array([c is None or (isinstance(c, float) and np.isnan(c)) for c in camp])
    astro = kind == "astroturf"
    split = t["split"].to_numpy(zero_copy_only=False).astype(str)
    mixed = 0
    if has.any():
        c = np.array([int(x) for x in camp[has]])
        s = split[has]
        order = np.lexsort((s, c))
        c, s = c[order], s[order]
        first = np.r_[True, c[1:] != c[:-1]]
        mixed = int(len(np.unique(c[(~first) & (s != np.roll(s, 1))])))
    bad_decoy = int((t["decoy"].to_numpy(zero_copy_only=False) & (kind != "human")).sum())
    return [
        Check("account types known", not odd, f"{len(odd)} other values {odd[:3]}"),
        Check("bot share as configured", abs(share - want) <= tol,
              f"{share:.2%} bots, configured {want:.0%}"),
        Check("campaign_id set exactly for astroturf", bool((has == astro).all()),
              f"{int((has != astro).sum())} rows differ"),
        Check("splits known", set(split) <= set(SPLITS), f"{sorted(set(split))}"),
        Check("no campaign across splits", mixed == 0, f"{mixed} campaigns split"),
        Check("decoys are humans", bad_decoy == 0, f"{bad_decoy} bot decoys"),
    ]  # fmt: skip


def _profile_tells(cfg, start: int, t: pa.Table, a: Accounts) -> pa.Table:
    """Identity's columns with the profile tells that show rewritten, bots' and decoys'."""
    n = t.num_rows
    seed = cfg.seed
    spec = account_table()["class"]
    ref = int(np.datetime64(cfg.reference_date, "s").astype(np.int64))
    bot = a.kind > 0

    # Username: the stem (letters and separators, cut) + 3 digits + the row's own tail
    # zero-padded: the tail is a bijection of the row, so the handle stays unique, and a run
    # of >= 10 digits never equals a human's tail.
    user = t["username"].to_pylist()
    disp = t["display_name"].to_pylist()
    r3 = (100 + _u(seed, start, n, 1) * 900).astype(int)
    for i in np.flatnonzero(a.tells["username"]):
        m = re.match(r"^(.*?)(\d+)$", user[i])
        stem, tail = (m.group(1), m.group(2)) if m else (user[i], "")
        user[i] = stem[:8].rstrip("._") + f"{r3[i]}" + tail.zfill(7)
    for i in np.flatnonzero(a.tells["name"]):
        disp[i] = user[i]

    # Account creation: new accounts (or a campaign's creation burst), never before the 13th
    # birthday.
    created = t["created_at"].combine_chunks().cast(pa.int64()).to_numpy() // 1000
    birth = t["birthdate"].combine_chunks().cast(pa.int32()).to_numpy().astype(np.int64) * DAY
    b13 = birth + int(13 * 365.25 * DAY) + DAY
    young = a.tells["young"]
    days = 1 + _u(seed, start, n, 2) ** 2 * np.where(bot, 120, 300)
    new = ref - (days * DAY).astype(np.int64)
    camp = a.campaign > 0
    if camp.any():
        burst = 20 + (seeds_at(seed, a.campaign[camp], _S + 51) % np.uint64(600)).astype(np.int64)
        new[camp] = ref - burst * DAY + (_u(seed, start, n, 3)[camp] * 3 * DAY).astype(np.int64)
    new = np.clip(new, b13, ref - 1)
    created = np.where(young & (new < ref), new, created)

    # Declared counts of the class (posts as a rate over the account's age).
    followers = t["followers_count"].to_numpy().copy()
    following = t["following_count"].to_numpy().copy()
    posts = t["posts_count"].to_numpy().copy()
    verified = t["verified"].to_numpy(zero_copy_only=False).copy()
    age_days = np.maximum(1.0, (ref - created) / DAY)
    u = [_u(seed, start, n, 10 + k) for k in range(6)]
    for j, name in enumerate(TYPES[1:], start=1):
        rows = (a.kind == j) & a.tells["counts"]
        s = spec[name]
        followers[rows] = _lognormal(u[0], *s["followers"], u[1])[rows].astype(np.int64)
        following[rows] = _lognormal(u[2], *s["following"], u[3])[rows].astype(np.int64)
        rate = _lognormal(u[4], *s["posts_per_day"], u[5])
        posts[rows] = (rate * age_days)[rows].astype(np.int64)
        verified[rows] = False
    burst = a.cadence == CADENCE.index("news_burst")  # decoys: a news account's volume
    posts[burst & ~bot] = (posts * 10 + age_days * 5)[burst & ~bot].astype(np.int64)
    fb = (a.follow == FOLLOW.index("follow_back")) & ~bot
    both = (1500 + u[0] * 3500).astype(np.int64)
    followers[fb], following[fb] = both[fb], (both * (0.9 + 0.2 * u[1]))[fb].astype(np.int64)

    cols = {
        "username": pa.array(user, pa.string()),
        "display_name": pa.array(disp, pa.string()),
        "created_at": pa.array(created * 1000, pa.int64()).cast(t.schema.field("created_at").type),
        "followers_count": pa.array(followers, pa.int64()),
        "following_count": pa.array(following, pa.int64()),
        "posts_count": pa.array(posts, pa.int64()),
        "verified": pa.array(verified, pa.bool_()),
    }
    for name, col in cols.items():
        i = t.schema.get_field_index(name)
        t = t.set_column(i, t.schema.field(name), col)
    return t


def _bios(cfg, start: int, t: pa.Table, a: Accounts) -> tuple[pa.Array, pa.Array]:
    """(`_bio`, `_theme`) hints: the bio of a bot whose bio tell shows (null: the bios stage
    writes it as for anyone), and each campaign member's cause and hashtag."""
    n = len(a.kind)
    seed = cfg.seed
    frames = account_table()["bios"]
    interests = t["interests"].to_pylist() if "interests" in t.column_names else [[]] * n
    pick = _u(seed, start, n, 20)
    num = (2 + _u(seed, start, n, 21) * 48).astype(int)
    code = row_seeds(seed, start, n, _S + 22)
    themes: list[str | None] = [None] * n
    theme = {c: "\x1f".join(campaign_theme(seed, c)) for c in np.unique(a.campaign).tolist() if c}
    for i in np.flatnonzero(a.campaign > 0):
        themes[i] = theme[int(a.campaign[i])]
    out: list[str | None] = [None] * n
    seen: set[str] = set()
    for i in np.flatnonzero(a.bio != ""):
        style = a.bio[i]
        if style == "empty":
            out[i] = ""
            continue
        cause, tag = themes[i].split("\x1f") if themes[i] else ("", "")
        interest = (interests[i][0] if interests[i] else "news").replace(" ", "")
        # Bots copy bios, but the dataset promises unique ones: another frame, number or
        # flair until this shard has not seen it (the cross-shard dedupe does the rest).
        for k in range(12):
            h = int(code[i]) + k * 0x9E3779B9
            frame = frames[style][(int(pick[i] * len(frames[style])) + k) % len(frames[style])]
            text = frame.format(link=f"https://example.net/{h % 16**6:06x}", interest=interest,
                                n=(num[i] + k * 7) % 97 + 2, cause=cause, tag=tag)  # fmt: skip
            text += FLAIR[(h >> 8) % len(FLAIR)] if k else ""
            if text.lower() not in seen:
                break
        seen.add(text.lower())
        out[i] = text
    return pa.array(out, pa.string()), pa.array(themes, pa.string())


STAGE = AccountStage()
