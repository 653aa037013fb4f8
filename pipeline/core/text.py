"""Text helpers shared by the identity and bio stages: Unicode scripts, case and articles.

SCRIPTS is the one table of which code points belong to which script; romanization picks
its rules with it and the bio gate tokenises and judges a bio's language with it.
"""

import re
from collections.abc import Collection, Sequence
from functools import cache

# Script -> inclusive code-point ranges (Unicode blocks). The gate's tokeniser tries the
# scripts in this order; none of the ranges overlap.
SCRIPTS: dict[str, tuple[tuple[int, int], ...]] = {
    # ASCII letters, the ordinal indicators ª º, Latin-1 to Latin Extended-B, combining
    # diacritics, Latin Extended Additional (Vietnamese).
    "latin": ((0x0041, 0x005A), (0x0061, 0x007A), (0x00AA, 0x00AA), (0x00BA, 0x00BA),
              (0x00C0, 0x024F), (0x0300, 0x036F), (0x1E00, 0x1EFF)),
    "cyrillic": ((0x0400, 0x052F),),
    "arabic": ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF),
               (0xFE70, 0xFEFF)),
    "devanagari": ((0x0900, 0x097F), (0xA8E0, 0xA8FF)),
    "thai": ((0x0E00, 0x0E7F),),
    "kana": ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)),
    "han": ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F)),
    "hangul": ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F)),
}  # fmt: skip

_BOUNDS = sorted((lo, hi, name) for name, ranges in SCRIPTS.items() for lo, hi in ranges)


@cache
def script_of(ch: str) -> str:
    """The SCRIPTS name of one character, or "other"."""
    cp = ord(ch)
    for lo, hi, name in _BOUNDS:
        if cp < lo:
            break
        if cp <= hi:
            return name
    return "other"


def has_script(text: str, name: str) -> bool:
    """Whether any character of `text` is in script `name`."""
    return any(script_of(ch) == name for ch in text)


def script_class(name: str) -> str:
    """A regex character class of script `name`, e.g. "[\\u0400-\\u052F]"."""
    parts = []
    for lo, hi in SCRIPTS[name]:
        parts.append(_escape(lo) if lo == hi else f"{_escape(lo)}-{_escape(hi)}")
    return "[" + "".join(parts) + "]"


def _escape(cp: int) -> str:
    ch = chr(cp)
    if ch.isascii() and ch.isalnum():
        return ch
    return f"\\u{cp:04X}" if cp <= 0xFFFF else f"\\U{cp:08X}"


# ---------------------------------------------------------------------------------------------
# Case and articles for occupations and interests inside a sentence.


def lower_first(phrase: str, keep: Collection[str] = ()) -> str:
    """ "Mobile app developer" -> "mobile app developer"; a phrase in `keep` (proper nouns:
    "Formula 1") and one whose first word is an acronym or mixed case ("CTO", "HR manager",
    "DevOps engineer", "TV series", "K-pop") keep their case."""
    head = phrase.split(" ", 1)[0]
    if phrase in keep or len(head) < 2 or not head[1].islower():
        return phrase
    if any(c.isupper() for c in head[1:]):
        return phrase
    return phrase[:1].lower() + phrase[1:]


# Acronyms read letter by letter: these letters' names start with a vowel sound (an HR
# manager, an MBA, an SEO specialist; a UX designer, a CTO).
_VOWEL_LETTERS = frozenset("AEFHILMNORSX")
_ACRONYM = re.compile(r"[A-Z][A-Z0-9]+")


def article(phrase: str, consonant_starts: tuple[str, ...] = ("uni", "use", "usu", "eu")) -> str:
    """ "a" or "an" before `phrase`, by the sound of its first word: an acronym by its first
    letter's name, another word by its first letter, except where it starts with one of
    `consonant_starts` (a university student, a European)."""
    word = phrase.split(" ", 1)[0]
    if _ACRONYM.fullmatch(word):
        return "an" if word[0] in _VOWEL_LETTERS else "a"
    low = word.lower()
    if low.startswith(consonant_starts):
        return "a"
    return "an" if low[:1] in "aeiou" else "a"


_WORDS = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)


def words(text: str) -> list[str]:
    """Lowercased words of any script (apostrophes and hyphens inside a word kept)."""
    return _WORDS.findall(text.lower())


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct word n-grams over all n-grams of `texts` (Li et al. 2016's distinct-n)."""
    grams, total = set(), 0
    for t in texts:
        w = words(t)
        g = list(zip(*(w[i:] for i in range(n)), strict=False))
        grams.update(g)
        total += len(g)
    return len(grams) / total if total else 0.0
