"""Post texts of bots: spam links, financial lures, self-declared automation and
astroturf campaigns' near-duplicates, from pipeline/data/bot_posts.toml.

The style comes from the `_text` hint and a campaign's cause and hashtag from `_theme`
(both written by the stage that decides who is a bot); everything else is a pure function
of the arguments, like the human templates.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
from collections.abc import Mapping
from importlib import resources

from pipeline.core.rng import Draw

DAY = 86400


@functools.cache
def frames() -> dict:
    text = resources.files("pipeline.data").joinpath("bot_posts.toml").read_text("utf-8")
    return tomllib.loads(text)


def bot_post(
    row: Mapping, style: str, topic: str, seed: int, created: int, attempt: int = 0
) -> str:
    """One post of a bot of `style` about `topic`, posted at `created` (UTC seconds)."""
    f = frames()
    d = Draw(seed)
    cause, tag = (row.get("_theme") or "\x1f").split("\x1f")
    if style == "campaign":
        # Members pick by (campaign, day), not by their own seed: same day, same message.
        day = Draw(hash_day(tag, created // DAY))
        frame = day.pick(f["campaign"])
    else:
        frame = d.pick(f[style])
    text = frame.format(
        link=f"https://example.net/{d(16**6):06x}", topic=topic, tick=d.pick(f["ticks"]),
        n=2 + d(98), cause=cause, tag=tag, city=row.get("city", ""),
    )  # fmt: skip
    # A flair on the second try and later: copies, but not byte-identical ones.
    return text + (d.pick(f["flair"][1:]) if attempt else d.pick(f["flair"]))


def hash_day(tag: str, day: int) -> int:
    return int.from_bytes(
        hashlib.blake2b(f"{tag}:{day}".encode(), digest_size=8).digest(), "little"
    )
