"""The post prompt on the process's chat model (pipeline/lm/chat.py, shared with the bios).

A post's tail restates the author's fields in the examples' format, the topic (its own
interest, or the parent's topic for a reply) and the local day and time, so a Saturday
morning post can say so. Mentions and hashtags are never sampled (the chat model bans '@'
and '#'): the stage adds them, so the columns and the text agree by construction.
"""

import tomllib
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from pipeline.core.cache import once_per_process
from pipeline.core.text import lower_first
from pipeline.lm.chat import chat_model, split_chat_template
from pipeline.lm.gate import clean_text, country_names

_DATA = tomllib.loads((files("pipeline") / "data" / "post_prompt.toml").read_text(encoding="utf-8"))
TONES: tuple[str, ...] = tuple(_DATA["tones"])
SYSTEM: str = _DATA["system"]
EXAMPLES: tuple[tuple[str, str], ...] = tuple((e["fields"], e["post"]) for e in _DATA["examples"])
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_LM_CHARS = 200  # room left in 280 for the mentions and hashtags the stage adds
NOT_WORKING = frozenset({"Homemaker", "Retired", "Student", "Unemployed"})
KEEP = frozenset({"AI", "TV", "K-pop", "DIY", "NBA", "NFL", "F1", "UFC", "3D", "VR", "LGBTQ+"})


def part_of_day(hour: int) -> str:
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 22:
        return "evening"
    return "night"


@cache
def _country(cc: str) -> str:
    return country_names().get(cc, (cc,))[0]


def pronoun(gender: str) -> str:
    return {"female": "she", "male": "he"}.get(gender, "they")


def fields_line(row: dict, kind: str, topic: str, hour: int, weekday: int, tone: str) -> str:
    occ = row["occupation"]
    occ = occ.lower() if occ in NOT_WORKING else lower_first(occ, KEEP)
    what = "Reply to a post about" if kind == "reply" else "Post about"
    return (
        f"{row['first_name_latin']} ({pronoun(row['gender'])}), {row['age']}, {occ}, "
        f"{row['city']}, {_country(row['country_code'])}. {what} {lower_first(topic, KEEP)}. "
        f"[{DAYS[weekday]} {part_of_day(hour)}; {tone}]"
    )


class PostWriter:
    """Writes (text, stopped) for a batch of posts: one LM continuation each."""

    def __init__(self, model_dir: Path, dtype: str):
        self.chat = chat_model(model_dir, dtype)
        self.tok = self.chat.tok
        prefix, self.turn_end = split_chat_template(self.chat.hf_tok, SYSTEM, list(EXAMPLES))
        self.sampler = self.chat.sampler(prefix)

    def write(self, rows: list[dict], kinds: list[str], topics: list[str], hours: list[int],
              weekdays: list[int], seeds: list[int], cfg: Any) -> tuple[list, list]:  # fmt: skip
        """LM text per post (`rows` are the authors). `cfg` has the bio_* sampling fields
        (one LM per run) and post_max_new_tokens."""
        import dataclasses

        from pipeline.lm.sampling import SampleConfig

        sc = dataclasses.replace(SampleConfig.from_bio_fields(cfg),
                                 max_new_tokens=cfg.post_max_new_tokens)  # fmt: skip
        lines = [
            fields_line(r, k, t, h, w, TONES[s % len(TONES)]) + self.turn_end
            for r, k, t, h, w, s in zip(rows, kinds, topics, hours, weekdays, seeds, strict=True)
        ]
        ids = [self.tok.encode(line, add_special_tokens=False).ids for line in lines]
        groups = [{"female": 1, "male": 2}.get(r["gender"], 0) for r in rows]
        out, stopped = self.chat.generate(self.sampler, ids, seeds, sc, groups)
        texts = [clean_text(self.tok.decode(o)) for o in out]
        # Out of tokens or too long: keep the complete sentences that fit (the gate judges).
        for i, t in enumerate(texts):
            if not stopped[i] or len(t) > MAX_LM_CHARS:
                head = t[: MAX_LM_CHARS + 1]
                cut = max(head.rfind(". "), head.rfind("! "), head.rfind("? ")) + 1
                if cut >= 20:
                    texts[i], stopped[i] = t[:cut], True
        return texts, stopped


@once_per_process
def get_writer(model_dir: Path, dtype: str) -> PostWriter:
    """Once per process and model (the weights themselves are shared with the bios)."""
    return PostWriter(Path(model_dir), dtype)
