"""Who is a bot, of which class, in which campaign and split, and which tells it shows.

Every decision is a function of (seed, global row index) through the one seeded hash
(core.rng.row_seeds), so a row's account type does not depend on the shard it falls in and
any stage can recompute it. Campaigns are global: an astroturf row joins campaign
`hash(row) mod n_campaigns`, so its members are spread over the whole dataset (a farm's
accounts are not created in one block of user ids) and planned stages (graph, posts) can
gather them. The split of a campaign member is its campaign's, so no campaign straddles
train and test.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources

import numpy as np

from pipeline.accounts.options import BOT_CLASSES
from pipeline.core.rng import row_seeds, splitmix64, unit

TYPES = ("human", *BOT_CLASSES)
SPLITS = ("train", "validation", "test")
SPLIT_SHARES = (0.7, 0.1, 0.2)  # TwiBot-22 uses 7:2:1; a larger test split scores each class
# Hint codes (the values of the `_follow` and `_cadence` hint columns).
FOLLOW = ("", "mass", "spam", "campaign", "follow_back")
CADENCE = ("", "round_clock", "bursty", "sync", "silent", "news_burst")
PROFILE_TELLS = ("username", "young", "avatar", "bio", "counts", "name")
# Salts: one independent stream per decision.
_BOT, _CLASS, _CAMPAIGN, _SPLIT, _DECOY, _TELL = 0xB07, 0xC1A55, 0xCA4, 0x5117, 0xDEC0, 0x7E11


@functools.cache
def table() -> dict:
    return tomllib.loads(resources.files("pipeline.data").joinpath("account_types.toml")
                         .read_text(encoding="utf-8"))  # fmt: skip


def _uniform(seed: int, start: int, n: int, salt: int) -> np.ndarray:
    return unit(row_seeds(seed, start, n, salt))


@dataclass
class Accounts:
    """Per row of [start, start + n)."""

    kind: np.ndarray  # int8 index into TYPES
    campaign: np.ndarray  # int64 campaign number (1..), 0 for none
    split: np.ndarray  # int8 index into SPLITS
    decoy: np.ndarray  # bool
    tells: dict[str, np.ndarray]  # profile tell -> bool per row (what shows)
    bio: np.ndarray  # object: "" (the bios stage writes it) or a bot bio style
    follow: np.ndarray  # int8 index into FOLLOW
    cadence: np.ndarray  # int8 index into CADENCE
    text: np.ndarray  # object: "" or a bot post style


def n_campaigns(cfg) -> int:
    weights = _weights(cfg)
    astro = cfg.rows * cfg.bot_share * weights[BOT_CLASSES.index("astroturf")]
    return max(1, int(round(astro / cfg.campaign_size)))


def _weights(cfg) -> np.ndarray:
    w = np.array([cfg.bot_mix.get(c, 0.0) for c in BOT_CLASSES], dtype=np.float64)
    return w / w.sum()


def assign(cfg, start: int, n: int) -> Accounts:
    seed = cfg.seed
    diff = table()["difficulty"][cfg.bot_difficulty]
    is_bot = _uniform(seed, start, n, _BOT) < cfg.bot_share
    cls = np.searchsorted(np.cumsum(_weights(cfg)), _uniform(seed, start, n, _CLASS), "right")
    kind = np.where(is_bot, 1 + np.minimum(cls, len(BOT_CLASSES) - 1), 0).astype(np.int8)
    astro = kind == TYPES.index("astroturf")
    camp = (row_seeds(seed, start, n, _CAMPAIGN) % np.uint64(n_campaigns(cfg))).astype(np.int64)
    campaign = np.where(astro, camp + 1, 0)

    # The split: from the row, or from the campaign for its members.
    key = np.where(astro, campaign, -1 - (start + np.arange(n)))
    h = splitmix64((key.astype(np.uint64) ^ np.uint64(seed)) + np.uint64(_SPLIT))
    u = unit(h)
    split = np.searchsorted(np.cumsum(SPLIT_SHARES), u, "right").astype(np.int8)
    split = np.minimum(split, len(SPLITS) - 1)

    decoy = ~is_bot & (_uniform(seed, start, n, _DECOY) < diff["decoy_share"])
    tells = {t: np.zeros(n, bool) for t in PROFILE_TELLS}
    bio = np.full(n, "", dtype=object)
    text = np.full(n, "", dtype=object)
    follow = np.zeros(n, np.int8)
    cadence = np.zeros(n, np.int8)
    draws = {t: _uniform(seed, start, n, _TELL + i) for i, t in enumerate(PROFILE_TELLS)}
    behave = _uniform(seed, start, n, _TELL + 100) < diff["behaviour"]
    for name in BOT_CLASSES:
        spec = table()["class"][name]
        rows = kind == TYPES.index(name)
        for t in spec["tells"]:
            tells[t] |= rows & (draws[t] < diff["profile"])
        bio[rows & tells["bio"]] = spec["bio"]
        on = rows & behave
        text[on] = spec["text"]
        follow[on] = FOLLOW.index(spec["follow"])
        cadence[on] = CADENCE.index(spec["cadence"])

    # Decoys: two habits each, drawn without replacement from the decoy list.
    habits = table()["decoy"]["tells"]
    pick = np.argsort(np.stack([_uniform(seed, start, n, _DECOY + 1 + i)
                                for i in range(len(habits))]), axis=0)[:2]  # fmt: skip
    for i, habit in enumerate(habits):
        on = decoy & (pick == i).any(axis=0)
        if habit == "avatar" or habit == "young":
            tells[habit] |= on
        elif habit == "empty_bio":
            bio[on] = "empty"
        elif habit == "news_burst":
            cadence[on] = CADENCE.index("news_burst")
        elif habit == "follow_back":
            follow[on] = FOLLOW.index("follow_back")
    return Accounts(kind=kind, campaign=campaign, split=split, decoy=decoy, tells=tells,
                    bio=bio, follow=follow, cadence=cadence, text=text)  # fmt: skip
