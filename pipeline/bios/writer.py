"""The bio prompt on the process's chat model (pipeline/lm/chat.py): the shared prefix's KV
cache, one short tail per row, and the cut of an over-long bio to its complete sentences.

Kept apart from pipeline/bios/stage.py (which decides what to keep) so the model side imports
nothing but torch, tokenizers and transformers: the GPU benchmark runs it on a machine
without the rest of profilegen's dependencies.
"""

import re
from pathlib import Path
from typing import Any

from pipeline.bios.prompt import EXAMPLES, SYSTEM, fields_line, opener, persona
from pipeline.lm.chat import chat_model, split_chat_template
from pipeline.lm.gate import MAX_CHARS, clean_text, unit_has_fact


class BioWriter:
    """The bio prompt on the process's chat model: its own prefix KV cache, shared weights."""

    def __init__(self, model_dir: Path, dtype: str):
        self.chat = chat_model(model_dir, dtype)
        self.tok, self.dtype, self.device = self.chat.tok, self.chat.dtype, self.chat.device
        examples = [(user, start + rest) for user, start, rest in EXAMPLES]
        self.prefix, self.turn_end = split_chat_template(self.chat.hf_tok, SYSTEM, examples)
        self.sampler = self.chat.sampler(self.prefix)

    def suffix(self, row: dict, seed: int) -> tuple[str, str]:
        p = persona(seed)
        start = opener(row, p, seed)
        return fields_line(row, p) + self.turn_end + start, start

    def write(self, rows: list[dict], seeds: list[int], style_seeds: list[int],
              cfg: Any) -> tuple[list[str], list[bool]]:  # fmt: skip
        """LM bios for `rows` (sampling from `seeds`, persona from `style_seeds`); `cfg` is a
        GenerateConfig or anything with its bio_* fields. Returns (text, stopped) per row."""
        from pipeline.lm.sampling import SampleConfig

        sc = SampleConfig.from_bio_fields(cfg)
        parts = [self.suffix(r, s) for r, s in zip(rows, style_seeds, strict=True)]
        ids = [self.tok.encode(text, add_special_tokens=False).ids for text, _ in parts]
        groups = [{"female": 1, "male": 2}.get(r["gender"], 0) for r in rows]
        out, stopped = self.chat.generate(self.sampler, ids, seeds, sc, groups)
        texts = [
            clean_text(start + self.tok.decode(o)) for (_, start), o in zip(parts, out, strict=True)
        ]
        # Out of tokens or over the length limit: keep the complete sentences that fit, if
        # they say more than the opener. The gate still judges what is left.
        for i, (t, (_, start)) in enumerate(zip(texts, parts, strict=True)):
            # The shape's sentences and no more: a 135M model's third sentence is where it
            # wanders ("Shoe-hitting!"); what it wrote is cut, never rewritten.
            kept = keep_sentences(t, persona(style_seeds[i]).sentences)
            if kept != t:
                t, texts[i], stopped[i] = kept, kept, True
            if len(_LETTERS.findall(t[len(start) :])) < 3:
                texts[i] = ""  # the model added nothing to the opener: the gate says "empty"
                continue
            if not stopped[i] or len(t) > MAX_CHARS:
                head = t[: MAX_CHARS + 1]
                cut = max(head.rfind(". "), head.rfind("! "), head.rfind("? ")) + 1
                if cut > len(start) + 10:
                    texts[i], stopped[i] = t[:cut], True
        return texts, stopped


_LETTERS = re.compile(r"[^\W\d_]")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def keep_sentences(text: str, n: int) -> str:
    """The first `n` sentences of `text` (a piece without letters, an emoji, stays with the
    sentence before it)."""
    out: list[str] = []
    count = 0
    for piece in _SENTENCE_END.split(text):
        if _LETTERS.search(piece):
            if count == n:
                break
            count += 1
        out.append(piece)
    return " ".join(out)


# Where the last sentence of a bio may be cut: its list items and clauses.
_PIECE = re.compile(r",\s+|;\s+|\s+(?:and|&)\s+|\s+[·|•]\s+")
_END = re.compile(r"[^\w]*$")  # after the last letter or digit: punctuation, emoji, spaces
_NOT_EMOJI = frozenset(" .,;:!?…·|•–—-&'\"()")
_DANGLING = re.compile(r"\s+(?:and|or|but|with|&)$", re.I)  # "DIY and 👩️🌞"


def cut_tail(text: str, row: dict, keep: int = 0, emoji: bool = True) -> str:
    """`text` without the list items or clauses that end its last sentence after the last one
    naming an interest, the occupation or the age of `row` ("into DIY, a great example of how
    people can make their own business", "hip hop, wine, repeat", "İzmir, Turkish."); when
    none after the opener does, after the last one naming the row's place or name. The first
    `keep` characters (the primed opener) are never cut; a dangling comma or "and" goes, and
    so does a trailing emoji unless the row's persona asked for one (`emoji`: the model adds one to
    about as many bios whether asked or not). What is left is the model's own words, not
    rewritten: the gate judges it."""
    end = _END.search(text)
    core, tail = text[: end.start()], text[end.start() :]
    conj = _DANGLING.search(core)
    if conj and conj.start() >= keep:
        core = core[: conj.start()].rstrip(",;")
    start = max(core.rfind(". "), core.rfind("! "), core.rfind("? ")) + 1
    bounds = [b for b in _PIECE.finditer(core) if b.start() >= start and b.end() >= keep]
    # Piece j (from 1) runs from bound j-1 to bound j; bound 0 ends the opener's piece.
    ends = [b.start() for b in bounds[1:]] + [len(core)] * bool(bounds)
    pieces = [core[b.end() : e] for b, e in zip(bounds, ends, strict=True)]
    last = max((j for j, p in enumerate(pieces, 1) if unit_has_fact(p, row, names=False)),
               default=None)  # fmt: skip
    if last is None:
        last = max((j for j, p in enumerate(pieces, 1) if unit_has_fact(p, row)), default=0)
    icons = "".join(c for c in tail if c not in _NOT_EMOJI)
    dangling = any(c in ",;·|•&" for c in tail) or conj is not None and conj.start() >= keep
    if last == len(pieces) and not dangling and (emoji or not icons):
        return text
    out = core if last == len(pieces) else core[: bounds[last].start()]
    out += "." if any(c in ".!?…" for c in tail) else ""
    return f"{out} {icons}" if icons and emoji else out
