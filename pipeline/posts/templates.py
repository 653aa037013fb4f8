"""Template posts: a small grammar that writes short English posts, replies and articles.

A post is a lead (a short opener), a body about the topic and a closer, each drawn from its
own frame list, plus an emoji and a little casual punctuation; some bodies use the row's
city or life (job, studies, retirement...), some leads and bodies the author's local time
("Monday morning", "Can't sleep", "Weekend plan"), drawn only from the slots whose hours and
weekdays hold. A reply is a reaction, a body about the topic and sometimes a question back.
An article is a title and 3-5 paragraphs of sentences drawn by paragraph role. Every frame
only says what the row says: its own city and occupation, never a name, age, family or money.

The output is a pure function of the arguments: a counter-based splitmix64 stream of the
seed drives every choice, so a post is the same whichever batch or worker makes it. The
frames and word lists are data: pipeline/data/post_templates.toml.
"""

import re
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from importlib.resources import files

from pipeline.core.rng import M64, Draw, splitmix64_int
from pipeline.core.text import article, lower_first

# Template posts and replies leave room for the @mentions and #hashtags added later (the
# network's limit is 280).
MAX_POST_CHARS = 200
MIN_POST_CHARS = 20
ARTICLE_MIN_CHARS, ARTICLE_MAX_CHARS = 600, 2500
KINDS = ("post", "reply")


# ---------------------------------------------------------------------------------------------
# Tables.

_DATA = tomllib.loads(
    (files("pipeline") / "data" / "post_templates.toml").read_text(encoding="utf-8")
)
KEEP_CASE = frozenset(_DATA["keep_case"])
DAYS: tuple[str, ...] = tuple(_DATA["days"])
STAGES: dict[str, str] = _DATA["stages"]  # life-stage occupation -> kind; others are "job"
ROW_KINDS = ("job", *dict.fromkeys(STAGES.values()))
PART: dict[int, str] = {h: part for part, hours in _DATA["parts"].items() for h in hours}
EMOJI: dict[str, str] = {k.casefold(): v for k, v in _DATA["emoji"].items()}
MOOD_EMOJI: tuple[str, ...] = tuple(_DATA["mood_emoji"])

POST_LEADS: tuple[str, ...] = tuple(_DATA["post"]["leads"])
POST_BODIES: tuple[str, ...] = tuple(_DATA["post"]["bodies"])
POST_CLOSERS: tuple[str, ...] = tuple(_DATA["post"]["closers"])
SELF_EMPLOYED = frozenset(_DATA["self_employed"])
REPLY_LEADS: tuple[str, ...] = tuple(_DATA["reply"]["leads"])
REPLY_BODIES: tuple[str, ...] = tuple(_DATA["reply"]["bodies"])
REPLY_TAILS: tuple[str, ...] = tuple(_DATA["reply"]["tails"])


def _self_pools(table: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    """Self frames by who says them: a life stage, "job" (self-employed) or "employee" (a
    job with a boss and coworkers, who may also say everything "job" says)."""
    pools = {k: tuple(v) for k, v in table.items() if k != "employee"}
    pools["employee"] = pools["job"] + tuple(table["employee"])
    return pools


POST_SELF = _self_pools(_DATA["post"]["self"])
REPLY_SELF = _self_pools(_DATA["reply"]["self"])
TIME_SLOTS: list[dict] = _DATA["time"]

_ART = _DATA["article"]
TITLES: tuple[str, ...] = tuple(_ART["titles"])
LIFE: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _ART["life"].items()}
SENTENCES: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _ART["sentences"].items()}
LIFE_SENTENCES: dict[str, tuple[str, ...]] = {
    k: tuple(v) for k, v in _ART["life_sentences"].items()
}
# Middle paragraphs in reading order; an article keeps 1-3 of them.
MIDDLES = ("routine", "place", "life", "lesson")


def _time_table() -> dict[tuple[int, int, str], tuple[tuple[str, ...], ...]]:
    """(hour, weekday, row kind) -> (leads, bodies, replies) of every slot that holds then,
    so a post picks from one precomputed tuple and can never say "morning" at 22h."""
    table = {}
    for h in range(24):
        for wd in range(7):
            for kind in ROW_KINDS:
                leads, bodies, replies = [], [], []
                for slot in TIME_SLOTS:
                    hours, days = slot.get("hours", range(24)), slot.get("days", range(7))
                    if h not in hours or wd not in days or kind not in slot.get("kinds", ROW_KINDS):
                        continue
                    leads += slot["leads"]
                    bodies += slot["bodies"]
                    replies += slot["replies"]
                table[(h, wd, kind)] = (tuple(leads), tuple(bodies), tuple(replies))
    return table


TIME_TABLE = _time_table()
CLOCK = tuple(f"{h % 12 or 12}{'am' if h < 12 else 'pm'}" for h in range(24))

# ---------------------------------------------------------------------------------------------
# Fields in the forms the frames need (cached: a dataset has few topics, cities and jobs).

_NOTES = re.compile(r"\s*[\[(][^\])]*[\])]|`")
# Characters a post must never carry, whatever a gazetteer name holds.
_STRIP = str.maketrans("", "", '@#[](){}<>"`')


@lru_cache(maxsize=4096)
def _topic(topic: str) -> tuple[str, str, str | None]:
    # "Photography" -> "photography" inside a sentence; "AI", "K-pop", "TV series" keep case.
    t = " ".join(topic.translate(_STRIP).split())
    return lower_first(t, KEEP_CASE), t[:1].upper() + t[1:], EMOJI.get(t.casefold())


@lru_cache(maxsize=65536)
def _city(city: str) -> str:
    # GeoNames notes ("[Fraccionamiento]") and backticks read as markup: drop them.
    return " ".join(_NOTES.sub(" ", city).translate(_STRIP).split()) or "my city"


@lru_cache(maxsize=4096)
def _job(occupation: str) -> tuple[str, str, str, str, str]:
    """(kind, who, occ, a_occ, Occ): "Registered nurse" -> ("job", "employee", "registered
    nurse", "a registered nurse", "Registered nurse"). `who` picks the self frames: a
    self-employed job has no boss to mention; life stages only need their kind."""
    kind = STAGES.get(occupation, "job") if occupation else "unemployed"
    who = "employee" if kind == "job" and occupation not in SELF_EMPLOYED else kind
    occ = lower_first(" ".join(occupation.translate(_STRIP).split()), KEEP_CASE)
    # "a urologist", "a one-off", but "an urban planner".
    a = article(occ, consonant_starts=("uni", "use", "usu", "eu", "one", "uro")) if occ else ""
    return kind, who, occ, f"{a} {occ}", occ[:1].upper() + occ[1:]


def _fields(row: Mapping, topic: str, h: int = 0, wd: int = 0) -> tuple[str, str, dict, str | None]:
    kind, who, occ, a_occ, Occ = _job(row.get("occupation") or "")
    t, T, emoji = _topic(topic)
    city = _city(row.get("city") or "")
    fields = {
        "t": t, "T": T, "city": city, "City": city[:1].upper() + city[1:], "occ": occ,
        "a_occ": a_occ, "Occ": Occ, "Day": DAYS[wd], "part": PART.get(h, ""), "clock": CLOCK[h],
    }  # fmt: skip
    return kind, who, fields, emoji


def _check_time(local_hour: int, weekday: int) -> tuple[int, int]:
    h, wd = int(local_hour), int(weekday)
    if not (0 <= h < 24 and 0 <= wd < 7):
        raise ValueError(f"local_hour {local_hour} / weekday {weekday} out of range")
    return h, wd


# ---------------------------------------------------------------------------------------------
# Posts and replies.


def _post_frames(d: Draw, who: str, time: tuple) -> tuple[str | None, str, str | None]:
    t_leads, t_bodies, _ = time
    r = d(20)
    if r < 7 and (t_leads or t_bodies):  # ~35%: the local time sets the scene
        if t_bodies and (not t_leads or d(2)):
            body, lead = d.pick(t_bodies), (d.pick(POST_LEADS) if d(4) == 0 else None)
        else:
            lead, body = d.pick(t_leads), d.pick(POST_BODIES)
    elif r < 11:  # ~20%: the row's own city or life
        body = d.pick(POST_SELF["city"] if d(2) else POST_SELF[who])
        lead = None
        if d(3) == 0:
            lead = d.pick(t_leads) if t_leads and d(2) else d.pick(POST_LEADS)
    else:
        body = d.pick(POST_BODIES)
        lead = d.pick(POST_LEADS) if d(6) else None
    tail = d.pick(POST_CLOSERS) if d(20) < 13 or lead is None else None
    return lead, body, tail


def _reply_frames(d: Draw, who: str, time: tuple) -> tuple[str | None, str, str | None]:
    t_replies = time[2]
    r = d(20)
    if r < 2 and t_replies:
        lead = d.pick(t_replies)
    elif r < 18:
        lead = d.pick(REPLY_LEADS)
    else:
        lead = None
    body = d.pick(REPLY_SELF["city"] if d(2) else REPLY_SELF[who]) if d(6) == 0 else None
    body = body or d.pick(REPLY_BODIES)
    # A reply that is only a body would repeat across authors: it always gets a question.
    tail = d.pick(REPLY_TAILS) if d(5) < 2 or lead is None else None
    return lead, body, tail


def template_post(
    row: Mapping, kind: str, topic: str, seed: int, local_hour: int, weekday: int
) -> str:
    """One English post ("post") or reply ("reply") about `topic` by `row`, written at its
    local hour (0-23) and weekday (0 = Monday): a pure function of the arguments."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    h, wd = _check_time(local_hour, weekday)
    d = Draw(seed)
    row_kind, who, fields, t_emoji = _fields(row, topic, h, wd)
    time = TIME_TABLE[(h, wd, row_kind)]
    frames = (_post_frames if kind == "post" else _reply_frames)(d, who, time)
    lead, body, tail = (f.format_map(fields) if f else None for f in frames)

    # Emoji in ~45% of posts and ~35% of replies: the topic's own or a mood; now and then
    # doubled, now and then before the closer.
    e = d(20)
    emoji = None
    if e < (9 if kind == "post" else 7):
        emoji = t_emoji if t_emoji and e < 4 else d.pick(MOOD_EMOJI)
        if d(8) == 0:
            emoji += emoji
    mid_emoji = emoji is not None and tail is not None and d(5) == 0

    # Casual punctuation: a dropped final period, an exclamation, a lowercase start.
    c = d(20)
    lower = d(14) == 0 and not frames[0 if lead else 1].startswith(("{", "I ", "I'"))

    def render(lead: str | None, tail: str | None) -> str:
        parts = [lead, body]
        if mid_emoji:
            parts.append(emoji)
        parts.append(tail)
        text = " ".join(p for p in parts if p)
        if text.endswith(".") and not text.endswith(".."):
            if c < 3:
                text = text[:-1]
            elif c == 3:
                text = text[:-1] + "!"
        elif text.endswith("!") and c == 4:
            text += "!"
        if emoji and not mid_emoji:
            text += " " + emoji
        return text

    # Longest first, then drop what costs least: the closer, then the lead.
    text = render(lead, tail)
    if len(text) > MAX_POST_CHARS and tail:
        text = render(lead, None)
    if len(text) > MAX_POST_CHARS and lead:
        text = render(None, None)
    if len(text) < MIN_POST_CHARS:
        text = render(lead, (tail + " " if tail else "") + d.pick(POST_CLOSERS))
    if len(text) > MAX_POST_CHARS:  # absurdly long city or topic: a plain line still fits
        text = f"Thinking about {fields['t']}."[:MAX_POST_CHARS].rstrip()
    if lower and text[:1].isupper() and text[1:2].islower():  # "okay", never "pSA"
        text = text[:1].lower() + text[1:]
    return text


# ---------------------------------------------------------------------------------------------
# Articles.


def _sentences(d: Draw, pool: tuple[str, ...], k: int) -> list[str]:
    """k distinct sentences of `pool` (all of them if it is shorter), in drawn order."""
    k = min(k, len(pool))
    chosen: list[int] = []
    while len(chosen) < k:
        i = d(len(pool))
        if i not in chosen:
            chosen.append(i)
    return [pool[i] for i in chosen]


def template_article(row: Mapping, topic: str, seed: int) -> str:
    """A long-form English article about `topic` by `row`: a title line, a blank line and
    3-5 paragraphs separated by blank lines, 600-2,500 characters; a pure function."""
    d = Draw(splitmix64_int(int(seed) & M64))  # not the stream of the same seed's post
    kind, _, fields, _ = _fields(row, topic)
    fields["life"] = d.pick(LIFE[kind]).format_map(fields)
    title = d.pick(TITLES).format_map(fields)
    title = title[:1].upper() + title[1:]

    n_mid = 1 + d(3)
    keep = sorted(_sentences(d, tuple(range(len(MIDDLES))), n_mid))
    pools = {**SENTENCES, "life": LIFE_SENTENCES[kind]}
    # (pool, sentences) per paragraph: an intro with how it started, the middles, then
    # advice and a goodbye.
    plan = [[("intro", 1 + d(2)), ("origin", 1 + d(2))]]
    plan += [[(MIDDLES[i], 3 + d(2))] for i in keep]
    plan.append([("advice", 1 + d(2)), ("closing", 1 + d(2))])

    chosen = [[s for pool, k in para for s in _sentences(d, pools[pool], k)] for para in plan]
    # Too short: one more sentence per paragraph, from its last pool, until it fits.
    while len(" ".join(s for p in chosen for s in p)) < ARTICLE_MIN_CHARS - len(title) - 8:
        grew = False
        for para, sents in zip(plan, chosen, strict=True):
            pool = pools[para[-1][0]]
            extra = [s for s in pool if s not in sents]
            if extra:
                sents.insert(len(sents) - (para[-1][0] == "closing"), d.pick(extra))
                grew = True
        if not grew:
            break
    paras = [" ".join(s.format_map(fields) for s in sents) for sents in chosen]
    text = title + "\n\n" + "\n\n".join(paras)
    while len(text) > ARTICLE_MAX_CHARS and len(paras) > 3:  # very long city or topic
        paras.pop(-2)
        text = title + "\n\n" + "\n\n".join(paras)
    return text
