"""Latin forms of personal names written in non-Latin scripts.

``romanize(name, locale)`` turns one name-table entry (a first name or a last name, possibly of
several words) into the Latin spelling people of that language would typically use themselves,
e.g. for e-mail addresses. ``handle_form(latin)`` squeezes that into ``[a-z]+`` for usernames.

Both run once per name-table entry at process start, so the code favours readable rules over
speed. What each script gets:

* Arabic (ar_*): a curated dictionary of common names and name parts in their usual Latin
  spelling, particles (``Al-``, ``Abdul``, ``bin``, ``Abu`` ...), and a letter-based fallback
  that guesses the unwritten short vowels from the shape of the word. ``ar_DZ`` uses Maghrebi
  (French-based) conventions: Djamel, Belkacem, Abdelkader.
* Devanagari (hi_IN): rule-based transliteration with Hindi schwa deletion (Ajit, Sharma, Aditya).
* Hangul (ko_KR): Revised Romanization per syllable with the spellings Koreans commonly use
  in names (Kim, Lee, Park; Sunghoon, Younghee, Jiwoo).
* Han (zh_CN): anyascii (pinyin) joined as one word (Xiuying), fixed readings for surnames.
* Japanese (ja_JP): Faker's own romaji for names in its pair tables, anyascii otherwise.
* Cyrillic: anyascii (ru_RU), the official national system for uk_UA (Yevhen, Hryhorii).
* Thai (th_TH): simplified RTGS with syllable rules (implicit vowels, leading vowels, final
  consonant values, silent letters): Somchai, Kiattisak, Chaloemphon.
* Everything else (Latin with diacritics, Greek, Cyrillic ...): anyascii with tidied capitals.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

__all__ = ["handle_form", "romanize"]

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"))
_SPACES = re.compile(r"\s+")


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=16384)
def romanize(name: str, locale: str) -> str:
    """Latin form of ``name`` (a name-table entry of ``locale``), capitalised like a name.

    Spaces and hyphens of multi-part names are kept ("Abu Dawood", "Al-Rashid"). The result is
    plain ASCII; it is empty only when ``name`` contains nothing romanisable.
    """
    text = unicodedata.normalize("NFC", name).translate(_ZERO_WIDTH)
    text = _SPACES.sub(" ", text).strip()
    if not text:
        return ""
    lang, _, region = locale.replace("-", "_").partition("_")
    lang, region = lang.lower(), region.upper()

    if _has(text, _is_arabic):
        out = _romanize_arabic(text, maghreb=region in _MAGHREB_REGIONS)
    elif _has(text, _is_devanagari):
        out = _romanize_devanagari(text)
    elif _has(text, _is_hangul):
        out = _romanize_korean(text)
    elif _has(text, _is_kana) or (lang == "ja" and _has(text, _is_han)):
        out = _romanize_japanese(text)
    elif _has(text, _is_han):
        out = _romanize_chinese(text)
    elif _has(text, _is_thai):
        out = _romanize_thai(text)
    elif lang == "uk" and _has(text, _is_cyrillic):
        out = _romanize_ukrainian(text)
    else:
        out = _romanize_default(text)

    out = _SPACES.sub(" ", anyascii(out)).strip(" -")
    if not out:  # a rule set produced nothing: fall back to the plain transliteration
        out = _SPACES.sub(" ", _romanize_default(text)).strip(" -")
    return out


def handle_form(latin: str) -> str:
    """Lowercase ``[a-z]+`` form of a Latin name for usernames and e-mail local parts.

    Accents are folded ("Zoë" -> "zoe"); spaces, apostrophes, hyphens and digits are dropped
    ("O'Connor-Smith" -> "oconnorsmith"). Never empty: "user" when nothing is left.
    """
    folded = re.sub(r"[^a-z]", "", anyascii(latin).lower())
    return folded or "user"


# --------------------------------------------------------------------------------------------
# helpers shared by several scripts
# --------------------------------------------------------------------------------------------


def _in_ranges(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in ranges)


def _is_arabic(ch: str) -> bool:
    return _in_ranges(
        ch,
        ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    )


def _is_devanagari(ch: str) -> bool:
    return _in_ranges(ch, ((0x0900, 0x097F), (0xA8E0, 0xA8FF)))


def _is_hangul(ch: str) -> bool:
    return _in_ranges(ch, ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F)))


def _is_kana(ch: str) -> bool:
    return _in_ranges(ch, ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)))


def _is_han(ch: str) -> bool:
    return _in_ranges(
        ch, ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F))
    )


def _is_thai(ch: str) -> bool:
    return _in_ranges(ch, ((0x0E00, 0x0E7F),))


def _is_cyrillic(ch: str) -> bool:
    return _in_ranges(ch, ((0x0400, 0x052F),))


def _has(text: str, pred) -> bool:
    return any(pred(ch) for ch in text)


def _cap(word: str) -> str:
    """First letter upper, the rest lower ("MinJun" -> "Minjun")."""
    for i, ch in enumerate(word):
        if ch.isalpha():
            return word[:i] + ch.upper() + word[i + 1 :].lower()
    return word


def _cap_parts(text: str) -> str:
    """_cap() on every space- or hyphen-separated part."""
    return "".join(_cap(p) for p in re.split(r"([ \-])", text))


# --------------------------------------------------------------------------------------------
# default: anyascii (Latin with diacritics, Cyrillic, Greek, Thai, anything else)
# --------------------------------------------------------------------------------------------


def _romanize_default(text: str) -> str:
    words = []
    for word in text.split(" "):
        latin = anyascii(word)
        if _has(word, lambda ch: "a" <= ch.lower() <= "z"):
            words.append(latin)  # Latin-script word: keep its own capitalisation
            continue
        if _has(word, _is_cyrillic):
            latin = latin.replace("'", "")  # soft/hard signs: Natal'ya -> Natalya
        words.append(_cap_parts(latin))
    return " ".join(words)


# --------------------------------------------------------------------------------------------
# Ukrainian: official national transliteration (Cabinet of Ministers resolution 55, 2010)
# --------------------------------------------------------------------------------------------

_UK_MAP = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia", "ъ": "", "ы": "y",
    "э": "e", "ё": "io", "'": "", "’": "", "ʼ": "",
}  # fmt: skip
_UK_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}


def _romanize_ukrainian(text: str) -> str:
    out = []
    prev_letter = False
    low = text.lower()
    for i, ch in enumerate(low):
        if ch in _UK_MAP:
            if not prev_letter and ch in _UK_INITIAL:
                latin = _UK_INITIAL[ch]
            elif ch == "г" and i > 0 and low[i - 1] == "з":
                latin = "gh"  # зг -> zgh (Zghurskyi), to tell it from ж
            else:
                latin = _UK_MAP[ch]
            out.append(latin)
            prev_letter = True
        else:
            out.append(anyascii(ch))
            prev_letter = ch.isalpha()
    return _cap_parts("".join(out))


# --------------------------------------------------------------------------------------------
# Korean
# --------------------------------------------------------------------------------------------

_KO_SURNAMES = {
    "김": "Kim", "이": "Lee", "리": "Lee", "박": "Park", "최": "Choi", "정": "Jung", "강": "Kang",
    "조": "Cho", "윤": "Yoon", "장": "Jang", "임": "Lim", "림": "Lim", "한": "Han", "오": "Oh",
    "서": "Seo", "신": "Shin", "권": "Kwon", "황": "Hwang", "안": "Ahn", "송": "Song", "류": "Yoo",
    "유": "Yoo", "홍": "Hong", "전": "Jeon", "고": "Ko", "문": "Moon", "양": "Yang", "손": "Son",
    "배": "Bae", "백": "Baek", "허": "Heo", "노": "Noh", "남": "Nam", "심": "Shim", "하": "Ha",
    "곽": "Kwak", "성": "Sung", "차": "Cha", "주": "Joo", "우": "Woo", "구": "Koo", "민": "Min",
    "진": "Jin", "지": "Ji", "나": "Na", "엄": "Um", "채": "Chae", "원": "Won", "천": "Cheon",
    "방": "Bang", "공": "Kong", "현": "Hyun", "함": "Ham", "변": "Byun", "염": "Yeom",
    "여": "Yeo", "추": "Choo", "도": "Do", "소": "So", "석": "Seok", "선": "Sun", "설": "Seol",
    "마": "Ma", "길": "Gil", "연": "Yeon", "위": "Wi", "표": "Pyo", "명": "Myung", "기": "Ki",
    "반": "Ban", "라": "Ra", "왕": "Wang", "금": "Keum", "옥": "Ok", "육": "Yook", "인": "In",
    "맹": "Maeng", "제": "Je", "모": "Mo", "탁": "Tak", "국": "Kook", "어": "Eo", "은": "Eun",
    "편": "Pyeon", "용": "Yong", "로": "Roh",
    # two-syllable surnames
    "남궁": "Namgung", "황보": "Hwangbo", "제갈": "Jegal", "선우": "Sunwoo", "독고": "Dokgo",
    "사공": "Sagong", "서문": "Seomun", "동방": "Dongbang", "사마": "Sama",
}  # fmt: skip


# Revised Romanization by jamo (one syllable at a time, as names are usually written).
_KO_INITIALS = "g kk n d tt r m b pp s ss - j jj ch k t p h".split()
_KO_VOWELS = "a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i".split()
_KO_FINALS = "- k k k n n n t l k m l l l p l m p p t t ng t t k t p t".split()

# Spellings Koreans commonly choose for given-name syllables instead of strict RR
# (Sunghoon, Kyungsoo, Younghee, Hyunwoo, Jungho).
_KO_NAME_SYLLABLES = {
    "성": "sung", "현": "hyun", "경": "kyung", "영": "young", "정": "jung", "혁": "hyuk",
    "숙": "sook", "수": "soo", "희": "hee", "철": "chul", "훈": "hoon", "순": "soon",
    "병": "byung", "명": "myung", "윤": "yoon", "광": "kwang", "규": "kyu", "주": "joo",
    "중": "joong", "근": "keun", "용": "yong", "종": "jong", "승": "seung", "석": "seok",
}  # fmt: skip


def _ko_syllable(ch: str) -> str:
    idx = ord(ch) - 0xAC00
    if not 0 <= idx < 11172:
        return anyascii(ch).lower()
    lead, vowel, tail = idx // 588, (idx % 588) // 28, idx % 28
    return _KO_INITIALS[lead].strip("-") + _KO_VOWELS[vowel] + _KO_FINALS[tail].strip("-")


def _romanize_korean(text: str) -> str:
    words = []
    for word in text.split(" "):
        if word in _KO_SURNAMES:
            words.append(_KO_SURNAMES[word])
            continue
        sylls = []
        for ch in word:
            latin = _KO_NAME_SYLLABLES.get(ch) or _ko_syllable(ch)
            if ch == "우":
                latin = "woo"  # Woojin, Jiwoo, Hyunwoo: the usual spelling of 우 in names
            sylls.append(latin)
        words.append(_cap("".join(sylls)))
    return " ".join(words)


# --------------------------------------------------------------------------------------------
# Chinese
# --------------------------------------------------------------------------------------------

# Surnames whose reading differs from the character's most common reading (anyascii's choice).
_ZH_SURNAMES = {
    "曾": "Zeng", "单": "Shan", "解": "Xie", "仇": "Qiu", "区": "Ou", "朴": "Piao", "查": "Zha",
    "乐": "Yue", "覃": "Qin", "盖": "Ge", "缪": "Miao", "翟": "Zhai", "尉迟": "Yuchi",
    "万俟": "Moqi", "单于": "Chanyu", "长孙": "Zhangsun", "种": "Chong", "秘": "Bi", "召": "Shao",
    "员": "Yun", "黑": "He", "长": "Chang", "重": "Chong", "藏": "Zang", "燕": "Yan",
}  # fmt: skip


def _romanize_chinese(text: str) -> str:
    words = []
    for word in text.split(" "):
        if word in _ZH_SURNAMES:
            words.append(_ZH_SURNAMES[word])
        else:
            words.append(_cap("".join(anyascii(ch) for ch in word)))
    return " ".join(words)


# --------------------------------------------------------------------------------------------
# Japanese
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _ja_table() -> dict[str, str]:
    """kanji/kana -> romaji from Faker's ja_JP (kanji, kana, romaji) pair tables."""
    table: dict[str, str] = {}
    try:
        from faker.providers.person.ja_JP import Provider
    except ImportError:  # pragma: no cover - faker is a hard dependency of the project
        return table
    for attr in ("first_name_pairs", "last_name_pairs"):
        for kanji, kana, romaji in getattr(Provider, attr, ()):
            table.setdefault(kanji, romaji)
            table.setdefault(kana, romaji)
    return table


def _romanize_japanese(text: str) -> str:
    table = _ja_table()
    words = []
    for word in text.split(" "):
        # Fallback for kanji outside the table gives Chinese readings: acceptable, not good.
        words.append(table.get(word) or _cap(anyascii(word)))
    return " ".join(words)


# --------------------------------------------------------------------------------------------
# Thai: simplified RTGS (Royal Thai General System), the basis of most Thai names' spellings
# --------------------------------------------------------------------------------------------

_TH_INITIAL = {
    "ก": "k", "ข": "kh", "ฃ": "kh", "ค": "kh", "ฅ": "kh", "ฆ": "kh", "ง": "ng", "จ": "ch",
    "ฉ": "ch", "ช": "ch", "ซ": "s", "ฌ": "ch", "ญ": "y", "ฎ": "d", "ฏ": "t", "ฐ": "th",
    "ฑ": "th", "ฒ": "th", "ณ": "n", "ด": "d", "ต": "t", "ถ": "th", "ท": "th", "ธ": "th",
    "น": "n", "บ": "b", "ป": "p", "ผ": "ph", "ฝ": "f", "พ": "ph", "ฟ": "f", "ภ": "ph", "ม": "m",
    "ย": "y", "ร": "r", "ล": "l", "ว": "w", "ศ": "s", "ษ": "s", "ส": "s", "ห": "h", "ฬ": "l",
    "อ": "", "ฮ": "h",
}  # fmt: skip
_TH_FINAL = {
    **dict.fromkeys("กขฃคฅฆ", "k"), **dict.fromkeys("จชซฌฎฏฐฑฒดตถทธศษส", "t"),
    **dict.fromkeys("ญณนรลฬ", "n"), **dict.fromkeys("บปพฟภ", "p"),
    "ง": "ng", "ม": "m", "ย": "i", "ว": "o", "อ": "", "ห": "", "ฮ": "", "ผ": "p", "ฝ": "p",
}  # fmt: skip
_TH_LEAD = set("เแโใไ")
_TH_MARKS = set("ะัาำิีึืุู")  # vowel signs written after/above/below the consonant
_TH_CLUSTERS = set("กขคปพผตบดฟท")  # can take ร/ล (and ก/ข/ค can take ว) as second letter
_TH_DROP = re.compile("[\u0e47-\u0e4c\u0e4e]")  # tone marks, maitaikhu, nikhahit ...
# letters under thanthakhat (and ทร/ตร after a nasal final: จันทร์ chan, ภัทร์ phat)
_TH_SILENT = re.compile("(?<=น)[ทต]ร\u0e4c|[\u0e01-\u0e2e][ิุ]?\u0e4c")
# Frequent name parts whose spelling the rules below cannot produce.
_TH_PARTS = {
    "เกียรติ": "kiat", "ประเสริฐ": "prasoet", "เจริญ": "charoen", "สมบูรณ์": "sombun",
    "ฤทธิ์": "rit", "ธรรม": "tham", "ศรี": "si", "รัตนา": "rattana", "วัฒนา": "watthana",
    "ชาติ": "chat", "วุฒิ": "wut", "ภูมิ": "phum", "กาญจน์": "kan", "สวัสดิ์": "sawat",
    "ราษฎร์": "rat", "เกษม": "kasem", "เกษตร": "kaset", "ลักษณ์": "lak", "พันธุ์": "phan",
    "ทรง": "song",
}  # fmt: skip
_TH_PART_CHARS = {chr(0xE000 + k): latin for k, latin in enumerate(_TH_PARTS.values())}
_TH_PART_KEYS = sorted(zip(_TH_PARTS, _TH_PART_CHARS, strict=True), key=lambda kv: -len(kv[0]))


def _th_cons(ch: str) -> bool:
    return ch in _TH_INITIAL


def _th_starts_syllable(t: str, j: int) -> bool:
    """Whether the consonant at ``j`` begins a syllable (has a vowel sign of its own)."""
    if j >= len(t):
        return False
    if t[j] in _TH_PART_CHARS:
        return True
    if not _th_cons(t[j]):
        return False
    nxt = t[j + 1] if j + 1 < len(t) else ""
    after = t[j + 2] if j + 2 < len(t) else ""
    if nxt and (nxt in _TH_MARKS or nxt == "ฤ"):
        return True
    if t[j] == "อ" and nxt == "ย":
        return True  # อยู่ yu: silent อ
    if nxt == "อ" and _th_cons(after) and after != "อ":
        return not (after == "ย" and j + 3 < len(t) and t[j + 3] in _TH_MARKS)  # ลอง long
    if nxt == "ร" and after == "ร":
        return True  # วรรณ wan
    return t[j] in _TH_CLUSTERS and nxt in ("ร", "ล") and bool(after) and after in _TH_MARKS


def _th_vowel(t: str, i: int, lead: str) -> tuple[str, int, bool, bool]:
    """Vowel of the syllable whose initial ends before ``i``.

    Returns (latin, next index, may take a final, must take a final)."""
    n = len(t)
    nxt = t[i] if i < n else ""
    after = t[i + 1] if i + 1 < n else ""
    if nxt == "ฤ":
        return "ri", i + 1, True, True  # กฤต krit
    if lead == "เ":
        if (nxt, after) == ("ี", "ย"):
            return "ia", i + 2, True, False
        if (nxt, after) == ("ื", "อ"):
            return "uea", i + 2, True, False
        if (nxt, after) == ("า", "ะ"):
            return "o", i + 2, False, False  # เลาะ lo
        if nxt in ("ิ", "อ"):
            return "oe", i + 1, True, True
        if nxt == "า":
            return "ao", i + 1, False, False
        if nxt == "ะ":
            return "e", i + 1, False, False
        return "e", i, True, True  # เมธ met, เชษฐ chet
    if lead in ("แ", "โ"):
        vowel = "ae" if lead == "แ" else "o"
        return (vowel, i + 1, False, False) if nxt == "ะ" else (vowel, i, True, False)
    if lead:  # ใ ไ
        skip = nxt == "ย" and not _th_starts_syllable(t, i)  # ไทย thai
        return "ai", i + skip, False, False
    if nxt == "ั":
        return ("ua", i + 2, True, False) if after == "ว" else ("a", i + 1, True, True)
    if nxt == "า":
        return "a", i + 1, True, False
    if nxt == "ะ":
        return "a", i + 1, False, False
    if nxt == "ำ":
        return "am", i + 1, False, False
    if nxt in ("ิ", "ี"):
        return "i", i + 1, True, False
    if nxt in ("ึ", "ื"):
        return "ue", i + 1 + (after == "อ"), True, False
    if nxt in ("ุ", "ู"):
        return "u", i + 1, True, False
    if nxt == "อ" and not _th_starts_syllable(t, i):
        return "o", i + 1, True, False  # ก้อง kong
    if nxt == "ว" and _th_cons(after) and not _th_starts_syllable(t, i):
        return "ua", i + 1, True, False  # สวน suan
    if nxt == "ร" and after == "ร":  # ธรรม tham, วรรณ wan, จรรยา chanya
        if i + 2 >= n or _th_starts_syllable(t, i + 2):
            return "an", i + 2, False, False
        return "a", i + 2, True, True
    if not _th_cons(nxt):
        return "a", i, False, False  # the word (or the syllable before a name part) ends
    if _th_starts_syllable(t, i) or (i == n - 2 and _th_cons(t[i + 1])):
        return "a", i, False, False  # open syllable: สมัย samai, ปฐม pathom
    if nxt == "ร" and t[i - 1] == "ว" and _th_starts_syllable(t, i + 1):
        return "ora", i + 1, False, False  # วรพงษ์ Woraphong
    return "o", i, True, True  # closed syllable with inherent o: คม khom, พรชัย Phonchai


def _th_syllables(t: str) -> str:
    out: list[str] = []
    i, n = 0, len(t)
    while i < n:
        if t[i] in _TH_PART_CHARS:
            latin = _TH_PART_CHARS[t[i]]
            out.append(latin + ("ti" if latin == "kiat" and i + 1 < n else ""))  # Kiattisak
            i += 1
            continue
        lead = t[i] if t[i] in _TH_LEAD else ""
        i += bool(lead)
        if i >= n or not (_th_cons(t[i]) or t[i] == "ฤ"):
            if i < n:  # stray vowel sign
                out.append(anyascii(t[i]).lower())
                i += 1
            continue
        c = t[i]
        i += 1
        nxt = t[i] if i < n else ""
        after = t[i + 1] if i + 1 < n else ""
        if c == "ฤ":
            out.append("rue" if not _th_cons(nxt) or _th_starts_syllable(t, i) else "ri")
            continue
        init = _TH_INITIAL[c]
        if c == "อ" and nxt == "ย" and after and after in _TH_MARKS:
            init, i = "y", i + 1  # silent อ: อยู่ yu
        elif c == "ห" and nxt and nxt in "งญนมยรลว" and (lead or (after and after in _TH_MARKS)):
            init, i = _TH_INITIAL[nxt], i + 1  # silent ห: หญิง ying
        elif c in _TH_CLUSTERS and nxt in ("ร", "ล") and (lead or (after and after in _TH_MARKS)):
            init = "s" if (c, nxt) == ("ท", "ร") else init + _TH_INITIAL[nxt]  # ประ pra
            i += 1
        elif c in "กขค" and nxt == "ว" and after in ("ั", "า"):
            init, i = init + "w", i + 1  # ขวัญ khwan
        elif lead == "เ" and _th_cons(nxt) and i + 2 < n:
            third = t[i + 2]
            if (
                (after == "ิ" and _th_cons(third) and not _th_starts_syllable(t, i + 2))
                or (after == "ี" and third == "ย")
                or (after == "ื" and third == "อ")
            ):
                out.append(init + "a")  # เฉลิม chaloem: the leading vowel is the 2nd's
                init, i = _TH_INITIAL[nxt], i + 1
        vowel, i, closable, must_close = _th_vowel(t, i, lead)
        final = ""
        if closable and i < n and t[i] in _TH_FINAL and not _th_starts_syllable(t, i):
            # one consonant would be left over: it starts "C-o-C" unless silent (บุตร but)
            stranded = i == n - 2 and _th_cons(t[i + 1])
            if stranded:
                last = t[i + 1]
                silent_r = last == "ร" and t[i] in ("ต", "ท")  # บุตร but, สมุทร samut
                must_close = must_close or silent_r or _TH_FINAL[t[i]] == _TH_FINAL[last]
            bad = (t[i] == "ย" and vowel in ("i", "ue", "ai")) or (
                t[i] == "ว" and vowel in ("u", "ue", "o", "ua")
            )
            if t[i] == "ร" and vowel != "o" and _th_starts_syllable(t, i + 1):
                bad = True  # Pali compounds: ธีรวุฒิ thirawut, จิรวิทย์ chirawit
            if not bad and (not stranded or must_close):
                final = _TH_FINAL[t[i]]
                i += 1 + stranded  # (the stranded letter is silent)
                if t[i : i + 1] == "ร" and (i + 1 == n or _th_starts_syllable(t, i + 1)):
                    i += 1  # silent ร after a final: จักร chak (but ตั้งรบ tangrop)
        if vowel == "a" and final == "i":
            vowel, final = "", "ai"  # ชาย chai
        out.append(init + vowel + final)
    return "".join(out)


def _romanize_thai(text: str) -> str:
    words = []
    for word in text.split(" "):
        for thai, char in _TH_PART_KEYS:
            word = word.replace(thai, char)
        word = _TH_DROP.sub("", _TH_SILENT.sub("", word))
        words.append(_cap(_th_syllables(word)))
    return " ".join(words)


# --------------------------------------------------------------------------------------------
# Hindi (Devanagari)
# --------------------------------------------------------------------------------------------

_HI_CONSONANTS = {
    "क": "k", "ख": "kh", "ग": "g", "घ": "gh", "ङ": "n", "च": "ch", "छ": "chh", "ज": "j",
    "झ": "jh", "ञ": "n", "ट": "t", "ठ": "th", "ड": "d", "ढ": "dh", "ण": "n", "त": "t",
    "थ": "th", "द": "d", "ध": "dh", "न": "n", "प": "p", "फ": "ph", "ब": "b", "भ": "bh",
    "म": "m", "य": "y", "र": "r", "ल": "l", "ळ": "l", "व": "v", "श": "sh", "ष": "sh", "स": "s",
    "ह": "h",
}  # fmt: skip
_HI_NUKTA_FORMS = {  # consonant + nukta (after NFD)
    "क": "q", "ख": "kh", "ग": "gh", "ज": "z", "झ": "zh", "ड": "r", "ढ": "rh", "फ": "f",
    "य": "y", "न": "n", "र": "r", "ळ": "l",
}  # fmt: skip
_HI_VOWELS = {
    "अ": "a", "आ": "a", "इ": "i", "ई": "i", "उ": "u", "ऊ": "u", "ऋ": "ri", "ॠ": "ri", "ऌ": "li",
    "ए": "e", "ऐ": "ai", "ओ": "o", "औ": "au", "ऑ": "o", "ऍ": "e", "ऎ": "e", "ऒ": "o", "ॲ": "e",
}  # fmt: skip
_HI_MATRAS = {
    "ा": "a", "ि": "i", "ी": "i", "ु": "u", "ू": "u", "ृ": "ri", "ॄ": "ri", "ॢ": "li", "े": "e",
    "ै": "ai", "ो": "o", "ौ": "au", "ॉ": "o", "ॅ": "e", "ॆ": "e", "ॊ": "o",
}  # fmt: skip
_HI_VIRAMA, _HI_NUKTA = "\u094d", "\u093c"
_HI_NASAL_SIGNS = {"\u0901", "\u0902"}  # chandrabindu, anusvara
_HI_VISARGA = "\u0903"
_HI_LABIALS = set("पफबभम")
_HI_NASALS = set("ङञणनम")
_HI_SONORANTS = set("यरलवङञणनम")

# Spellings the rules cannot reach: regional conventions (Bengali, South Indian, Christian
# surnames), English spellings fixed by usage, and a few malformed entries of Faker's list.
_HI_OVERRIDES = {
    "सिंह": "Singh", "मुख़र्जी": "Mukherjee", "मुखर्जी": "Mukherjee", "चटर्जी": "Chatterjee",
    "बनर्जी": "Banerjee", "चौधरी": "Chaudhary", "चोधरी": "Chaudhary", "रॉय चौधरी": "Roy Chaudhary",
    "रेड्डी": "Reddy", "सक्सेना": "Saxena", "अगरवाल": "Agarwal", "अग्रवाल": "Agarwal",
    "अहलूवालिया": "Ahluwalia", "बुरुाह": "Baruah", "बरुआ": "Baruah", "डी’सोउज़ा": "D'Souza",
    "डी’कोस्टा": "D'Costa", "रोद्रिगुएस": "Rodrigues", "वेंकटएसन": "Venkatesan",
    "बलासुब्रमानियम": "Balasubramaniam", "सुब्रमण्यम": "Subramaniam", "झादव": "Jadhav",
    "जेटली": "Jaitley", "मेनन": "Menon", "टंडन": "Tandon", "हजारिका": "Hazarika",
    "गावडे": "Gawade", "महरा": "Mehra", "कपूर": "Kapoor", "तिवारी": "Tiwari",
    "श्रीवास्तव": "Srivastava", "राय": "Rai", "जयरामन": "Jayaraman", "रंगराजन": "Rangarajan",
    "ज़स्विन्देर्": "Jaswinder", "रुपिन्द्र": "Rupinder", "दुत्ता": "Dutta", "दत्ता": "Dutta",
    "पिल्लई": "Pillai", "ठाकुर": "Thakur", "बोस": "Bose", "राव": "Rao", "नायर": "Nair",
    "पवार": "Pawar",
}  # fmt: skip


class _Ph:
    """One phoneme of a Devanagari word: consonant "C", vowel "V" or nasal sign "N"."""

    __slots__ = ("kind", "text", "char", "schwa", "half")

    def __init__(self, kind: str, text: str, char: str = "", schwa: bool = False) -> None:
        self.kind, self.text, self.char, self.schwa = kind, text, char, schwa
        self.half = False  # consonant written with virama (first part of a conjunct)


def _hi_parse(word: str) -> list[_Ph]:
    word = unicodedata.normalize("NFD", word)
    # Faker's list has the i-matra typed before its consonant ("िनशा"): put it back after.
    if len(word) > 1 and word[0] in _HI_MATRAS and word[1] in _HI_CONSONANTS:
        word = word[1] + word[0] + word[2:]
    phs: list[_Ph] = []
    i, n = 0, len(word)
    while i < n:
        ch = word[i]
        if ch in _HI_CONSONANTS:
            latin = _HI_CONSONANTS[ch]
            if i + 1 < n and word[i + 1] == _HI_NUKTA:
                latin = _HI_NUKTA_FORMS.get(ch, latin)
                i += 1
            phs.append(_Ph("C", latin, ch))
            nxt = word[i + 1] if i + 1 < n else ""
            if nxt == _HI_VIRAMA:
                phs[-1].half = True  # no vowel
                i += 1
            elif nxt in _HI_MATRAS:
                phs.append(_Ph("V", _HI_MATRAS[nxt], nxt))
                i += 1
            else:
                phs.append(_Ph("V", "a", "", schwa=True))  # inherent vowel
        elif ch in _HI_VOWELS:
            phs.append(_Ph("V", _HI_VOWELS[ch], ch))
        elif ch in _HI_MATRAS:  # stray vowel sign (malformed entry): read as a vowel
            phs.append(_Ph("V", _HI_MATRAS[ch], ch))
        elif ch in _HI_NASAL_SIGNS:
            phs.append(_Ph("N", "n", ch))
        elif ch == _HI_VISARGA:
            phs.append(_Ph("C", "h", ch))
        elif ch == "ॐ":
            phs.append(_Ph("V", "om", ch))
        elif ch in "'’ʼ":
            phs.append(_Ph("V", "'", ch))  # D'Souza: kept as a separator, not a sound
        i += 1
    return phs


def _hi_keep_final_schwa(phs: list[_Ph]) -> bool:
    """Whether the inherent 'a' at the end of the word is pronounced (and so written)."""
    last = len(phs) - 1
    if not any(p.kind == "V" for p in phs[:last]):
        return True  # the word's only vowel
    cluster = []  # consonants (and nasal signs) right before the final vowel
    j = last - 1
    while j >= 0 and phs[j].kind in "CN":
        cluster.insert(0, phs[j])
        j -= 1
    if len(cluster) == 1:
        # प्रिय -> Priya: keep 'a' after य that follows an i-vowel
        return cluster[0].char == "य" and j >= 0 and phs[j].text == "i"
    c1, c2 = cluster[-2], cluster[-1]
    c1_nasal = c1.kind == "N" or c1.char in _HI_NASALS
    if c1_nasal and c2.char not in _HI_SONORANTS:
        return False  # आनन्द Anand, वसन्त Vasant, नंद Nand
    if c1.char == "र" and c2.char not in "णनमय":
        return False  # हर्श Harsh, सिद्धार्थ Siddharth
    if (c1.char, c2.char) == ("क", "ष"):
        return False  # दक्ष Daksh
    if c1.char == c2.char and c1.char not in _HI_SONORANTS:
        return False  # भट्ट Bhatt
    return True  # आदित्य Aditya, कृष्ण Krishna, इन्द्र Indra


def _hi_delete_schwas(phs: list[_Ph]) -> list[_Ph]:
    phs = list(phs)
    if phs and phs[-1].schwa and len(phs) > 1 and not _hi_keep_final_schwa(phs):
        phs.pop()
    # Medial schwa deletion, right to left: V C a C V -> V C C V (कमला Kamla, जगदीश Jagdish).
    # Deleting one schwa makes its left neighbour's right context a cluster, so two adjacent
    # syllables never both lose their vowel.
    for i in range(len(phs) - 3, 1, -1):
        p = phs[i]
        if not p.schwa:
            continue
        if not (phs[i - 1].kind == "C" and phs[i - 2].kind == "V"):
            continue
        if not (phs[i + 1].kind == "C" and phs[i + 2].kind == "V"):
            continue
        if phs[i + 1].char == "य":
            continue  # विजया Vijaya, दमयंती Damayanti
        if (
            phs[i - 1].char in "वमप"
            and phs[i + 1].char == "त"
            and i + 2 == len(phs) - 1
            and phs[i + 2].text == "i"
        ):
            continue  # -vati/-mati/-pati: पद्मावती Padmavati, सुमति Sumati, श्रीपति Shripati
        del phs[i]
    return phs


def _hi_render(phs: list[_Ph]) -> str:
    out = []
    for k, p in enumerate(phs):
        prev = phs[k - 1] if k > 0 else None
        nxt = phs[k + 1] if k + 1 < len(phs) else None
        text = p.text
        if p.kind == "N":
            text = "m" if nxt is not None and nxt.char in _HI_LABIALS else "n"
        elif p.kind == "C":
            in_cluster = prev is not None and prev.kind == "C" and prev.half
            if p.char == "व" and in_cluster and prev.char != "र":
                text = "w"  # स्वपन Swapan, द्विवेदी Dwivedi, विश्वनाथ Vishwanath
            elif p.char == "ज" and nxt is not None and nxt.char == "ञ":
                text = "g"  # ज्ञ -> gy (Gyan)
            elif p.char == "ञ" and in_cluster and prev.char == "ज":
                text = "y"
        out.append(text)
    return "".join(out)


def _romanize_devanagari(text: str) -> str:
    if text in _HI_OVERRIDES:
        return _HI_OVERRIDES[text]
    words = []
    for word in text.split(" "):
        if word in _HI_OVERRIDES:
            words.append(_HI_OVERRIDES[word])
            continue
        if not _has(word, _is_devanagari):
            words.append(_romanize_default(word))
            continue
        latin = _hi_render(_hi_delete_schwas(_hi_parse(word)))
        words.append("'".join(_cap(part) for part in latin.split("'")) if latin else "")
    return " ".join(w for w in words if w)


# --------------------------------------------------------------------------------------------
# Arabic
# --------------------------------------------------------------------------------------------

_MAGHREB_REGIONS = {"DZ", "MA", "TN", "LY", "MR"}

# Curated common names and name parts, keyed by Arabic spelling (normalised with _ar_key, so
# hamza forms of alef and final ة/ه do not matter). Values are the usual Latin spelling
# in the Gulf and the Levant.
_AR_NAMES_TEXT = """
محمد Mohammed | محمّد Mohammed | أحمد Ahmed | علي Ali | عمر Omar | عمرو Amr | خالد Khalid
عبدالله Abdullah | يوسف Yousef | إبراهيم Ibrahim | حسن Hassan | حسين Hussein | محمود Mahmoud
مصطفى Mustafa | سعيد Saeed | سالم Salem | ناصر Nasser | فيصل Faisal | تركي Turki | سلطان Sultan
حمد Hamad | راشد Rashid | ماجد Majid | سعد Saad | سعود Saud | فهد Fahad | خليل Khalil
إسماعيل Ismail | يحيى Yahya | موسى Musa | عيسى Issa | زكريا Zakaria | سليمان Sulaiman
داوود Dawood | داود Dawood | أيوب Ayoub | يونس Younis | إلياس Elias | آدم Adam | نوح Nouh
هشام Hisham | هاشم Hashem | طارق Tariq | زياد Ziad | زيد Zaid | وليد Waleed | نبيل Nabil
جمال Jamal | كمال Kamal | عادل Adel | أنس Anas | أسامة Osama | عثمان Othman | بلال Bilal
حمزة Hamza | مالك Malik | نايف Nayef | نواف Nawaf | مشعل Mishal | متعب Mutaib | بندر Bandar
سلمان Salman | منصور Mansour | عمار Ammar | ياسر Yasser | طلال Talal | وائل Wael | رائد Raed
ثامر Thamer | تامر Tamer | سامي Sami | سمير Samir | كريم Karim | رامي Rami | هاني Hani
فادي Fadi | شادي Shadi | باسل Basel | باسم Basem | مازن Mazen | ماهر Maher | عماد Emad
عصام Essam | هيثم Haitham | حيدر Haidar | جعفر Jafar | عباس Abbas | مهدي Mahdi | صالح Saleh
صلاح Salah | فؤاد Fouad | رياض Riyad | رضا Reda | مراد Murad | معاذ Muath | مصعب Musab
سفيان Sufyan | لؤي Louay | قصي Qusai | غسان Ghassan | عدنان Adnan | مروان Marwan
رمضان Ramadan | شعبان Shaaban | رجب Rajab | حامد Hamed | حمدان Hamdan | حمود Hamoud
جاسم Jassim | قاسم Qasim | نادر Nader | أنور Anwar | أمين Amin | أمير Amir | أيمن Ayman
أكرم Akram | أشرف Ashraf | أسعد Asaad | إياد Iyad | إيهاب Ehab | بسام Bassam | بشير Bashir
بشار Bashar | توفيق Tawfiq | جابر Jaber | جلال Jalal | جميل Jamil | حاتم Hatem | حازم Hazem
حافظ Hafez | حكيم Hakim | حمدي Hamdi | خلف Khalaf | خليفة Khalifa | رشيد Rashid | رفيق Rafiq
زهير Zuhair | سهيل Suhail | شريف Sherif | شوقي Shawqi | صبري Sabri | صدام Saddam | ضياء Diaa
طه Taha | عاطف Atef | عامر Amer | عبود Abboud | عزيز Aziz | علاء Alaa | عمران Imran | عوض Awad
عيد Eid | غازي Ghazi | غالب Ghaleb | فارس Fares | فاروق Farouk | فتحي Fathi | فراس Firas
فريد Farid | فوزي Fawzi | فواز Fawaz | قيس Qais | كاظم Kazem | لطفي Lotfi | ليث Laith
مأمون Mamoun | مؤمن Moamen | مجدي Magdy | مختار Mokhtar | مدحت Medhat | مسعود Masoud
معتز Moataz | ممدوح Mamdouh | منير Mounir | مهند Mohannad | نزار Nizar | نعيم Naim | نور Nour
هادي Hadi | همام Humam | وسام Wisam | وسيم Wassim | وجدي Wagdy | ياسين Yassin | يزيد Yazeed
يعقوب Yaqoub | سيف Saif | غيث Ghaith | تميم Tamim | عمير Omair | عبيد Obaid | ثائر Thaer
رؤوف Raouf | رئيس Raees | شعيب Shoaib | صهيب Suhaib | عتيق Ateeq | مؤنس Mounes | مؤيد Moayad
تاج Taj | تقي Taqi | جهاد Jihad | حسام Hussam | حسني Husni | حنفي Hanafi | خضر Khidr
خميس Khamis | زهران Zahran | زين Zain | سراج Siraj | سهل Sahl | شهاب Shihab | صخر Sakhr
صقر Saqr | ضرغام Dirgham | عدي Uday | عزت Ezzat | عصمت Esmat | عطاء Ataa | عقيل Aqeel
علوان Alwan | غانم Ghanem | فخري Fakhri | فرج Faraj | فرحان Farhan | فضل Fadl | فلاح Falah
قحطان Qahtan | كنعان Kanaan | لقمان Luqman | مجاهد Mujahid | محسن Mohsen | محفوظ Mahfouz
مرزوق Marzouq | مرشد Murshid | مشاري Mishari | مصباح Misbah | معن Maan | مفيد Mufeed
منذر Munther | منتصر Muntasir | مهران Mehran | ميسرة Maysara | نجيب Najib | نديم Nadeem
نصر Nasr | نضال Nidal | نظام Nizam | نعمان Noman | نمر Nimr | هلال Hilal | يعرب Yarub
عدلي Adly | فكري Fikri | مرعي Marei | مكي Makki | نوري Nouri | رمزي Ramzi | روحي Rouhi
يسري Yousri | شكري Shukri | زبير Zubair | شبلي Shibli | عز Ezz | معز Moez | معمر Muammar
نجم Najm | ممتاز Mumtaz | عرفات Arafat | زيدان Zaidan | ميمون Maymoun | مبارك Mubarak
مختار Mokhtar | عبد Abd | عبده Abdo | محمدي Mohammedi | مظفر Muzaffar | مدين Madyan | بيروتي Beiruti
حسنين Hassanein | هلالي Hilali | مرسي Morsi | قطز Qutuz | فرزدق Farazdaq | مقداد Miqdad
# female
فاطمة Fatima | عائشة Aisha | خديجة Khadija | مريم Mariam | زينب Zainab | سارة Sara
ليلى Layla | هدى Huda | ريم Reem | نورة Noura | منى Mona | سلمى Salma | أمل Amal | هند Hind
رنا Rana | دانة Dana | لينا Lina | رهف Rahaf | شهد Shahad | جود Joud | لمى Lama | غادة Ghada
هيفاء Haifa | أسماء Asma | إيمان Iman | ايمان Iman | حنان Hanan | سعاد Souad | سميرة Samira
أميرة Amira | جميلة Jamila | نادية Nadia | رانيا Rania | رانية Rania | ياسمين Yasmin
دعاء Doaa | آلاء Alaa | آية Aya | رحمة Rahma | شيماء Shaimaa | بشرى Bushra | يسرى Yusra
نجلاء Najla | رزان Razan | لبنى Lubna | وفاء Wafaa | هناء Hanaa | عبير Abeer | روان Rawan
جنى Jana | ضحى Doha | ربى Ruba | بتول Batool | تالا Tala | حلا Hala | هالة Hala | ديمة Dima
ريما Rima | ميار Mayar | ليان Layan | ريان Rayan | رغد Raghad | وعد Waad | أروى Arwa
بثينة Buthaina | بهية Bahia | حياة Hayat | زهرة Zahra | كوثر Kawthar | نوال Nawal
هاجر Hajar | ميسون Maysoun | ميرا Mira | مايا Maya | لارا Lara | يارا Yara | جوري Jouri
سجى Saja | شذى Shatha | غيداء Ghaida | لمياء Lamia | ملاك Malak | مها Maha | نهى Noha
وئام Weam | سناء Sanaa | صفاء Safaa | عفاف Afaf | ابتسام Ibtisam | إخلاص Ikhlas
أحلام Ahlam | أريج Areej | أسيل Aseel | اصيل Aseel | بلقيس Balqis | جمانة Joumana | فرح Farah
سماح Samah | تسنيم Tasneem | نسرين Nesreen | ميساء Maysaa | عالية Alia | آيات Ayat
ألين Aline | إلينا Elena | جوليا Julia | لورا Laura | لورين Lauren | مادلين Madeleine
هايدي Heidi | روبين Robin | جوانا Joanna | ريتاج Retaj | ريناد Renad | جوان Jwan | بيسان Baisan
سديم Sadeem | أفنان Afnan | أزهار Azhar | أغاريد Aghareed | بنان Banan | بيلسان Bilsan
جلنار Julnar | جواهر Jawaher | خاشعة Khashia | رواء Rawaa | روعة Rawaa | سلسبيل Salsabil
ضحى Doha | غوى Ghawa | فردوس Firdaws | لوجين Lujain | ليساء Lisaa | ماذى Matha
ناردين Nardeen | نغم Nagham | نوف Nouf | هنادي Hanadi | هيا Haya | هيام Hiyam | أناهيد Anahid
ابتهال Ibtihal | ابتهاج Ibtihaj | ابتكار Ibtikar | افتكار Iftikar | اعتماد Itimad
اعتكاف Itikaf | بدرالدجى Badr Al-Duja | جيلان Jilan | سبأ Saba | تولين Tuleen | ريفال Rifal
# family names and name parts
شيخ Sheikh | قحطاني Qahtani | عتيبي Otaibi | غامدي Ghamdi | زهراني Zahrani | شهري Shehri
دوسري Dosari | مطيري Mutairi | عنزي Anazi | حربي Harbi | شمري Shammari | سبيعي Subaie
تميمي Tamimi | هاشمي Hashemi | حسيني Husseini | خطيب Khatib | بغدادي Baghdadi | حداد Haddad
نجار Najjar | خياط Khayyat | عسكري Askari | عجلان Ajlan | دباغ Dabbagh | مهنا Muhanna
لادن Laden | كانو Kanoo | شربتلي Sharbatly | عليان Olayan | جفالي Juffali | خرافي Kharafi
حكير Hokair | شايع Shaya | مهيدب Muhaidib | بقشان Bugshan | حنبولي Hanbouli | خوري Khoury
برغوثي Barghouti | نشاشيبي Nashashibi | طوقان Touqan | شاهين Shaheen | جرار Jarrar
أيوبي Ayoubi | أنصاري Ansari | بخاري Bukhari | مغربي Maghribi | شامي Shami | خالدي Khalidi
حلواني Halwani | دجاني Dajani | قرشي Qurashi | قريش Quraish | حجازي Hijazi | درويش Darwish
مصري Masri | عطية Attia | قطب Qutb | سيد Sayed | جزار Jazzar | ربيعة Rabia | هذيل Hudhail
جهينة Juhayna | عنزة Anizah | مطير Mutair | حرب Harb | شمر Shammar | عتيبة Otaibah
غامد Ghamid | دين Din | خيل Khail | بدر Badr | حجار Hajjar | عواض Awadh | معيض Muaidh
عايض Aidh | عطفة Atfa | ظافر Dhafer | لافي Lafi | جماز Jammaz | خضير Khudair | رفيع Rafie
صفوان Safwan | قصير Qusair | مقطة Maqta | مشاولة Mashawla | مغاولة Maghawla | فصيل Fusail
تركمان Turkman | زيتاوي Zeitawi | صالحي Salhi | سكاكيني Sakakini | نعنيش Naanish
حنبلي Hanbali | جنيدي Jundi | خازن Khazen | خماش Khammash | أدغم Adgham | إغباري Ighbari
زيدانية Zeidaniya | ترابين Tarabin | حمامي Hammami | حوسة Hosa | دغمش Dughmush | دلاشة Dalasha
صليبا Saliba | فطاير Fatayer | قرادة Qarada | كسواني Kiswani | مرمش Marmash | مهيار Mahyar
نسيبة Nusseibeh | أستيتية Istaitiya | اسنينة Sneineh | شقدم Shaqdam | شلبك Shalabak
غليون Ghalyoun | قمر Qamar | أوس Aws | أزد Azd | خزرج Khazraj | أشراف Ashraf | تغلب Taghlib
كندة Kinda | كنانة Kinana | همدان Hamdan | مذحج Madhhij | جذام Judham | لخم Lakhm | تنوخ Tanukh
خثعم Khatham | عسير Asir | سادة Sada | مفتي Mufti | إمام Imam | امام Imam | نقيب Naqib
# theophoric parts after "Abd": عبد الرحمن -> Abdulrahman
رحمن Rahman | رحيم Rahim | مجيد Majeed | لطيف Latif | حميد Hamid | ملك Malik | قادر Qader
جليل Jalil | حليم Halim | غني Ghani | رزاق Razzaq | سلام Salam | باري Bari | باقي Baqi
تواب Tawab | جبار Jabbar | حفيظ Hafiz | حق Haq | حي Hai | خالق Khaliq | سميع Samie
شكور Shakour | صمد Samad | عليم Aleem | غفور Ghafour | غفار Ghaffar | قدوس Quddous
قهار Qahhar | محيي Mohyi | مولى Mawla | واحد Wahid | اله Elah | إله Elah | له lah | منعم Monem
"""

# Maghrebi (French-based) spellings for ar_DZ: Faker's ar_DZ name lists plus common names.
_AR_MAGHREB_TEXT = """
محمد Mohamed | أحمد Ahmed | آدم Adam | أسامة Oussama | أرزقي Arezki | أكرم Akram | أمين Amine
أمير Amir | أنيس Anis | أيمن Aymen | أيوب Ayoub | إبراهيم Brahim | إلياس Ilyes | عادل Adel
علي Ali | عمر Omar | فاتح Fateh | فارس Fares | فاروق Farouk | فريد Farid | فرحات Ferhat
فضيل Fodil | غلاس Ghilas | قادة Kada | خالد Khaled | خليل Khalil | رابح Rabah | رضا Reda
رشدي Rochdi | رشيد Rachid | رمزي Ramzi | رياض Riad | زكريا Zakaria | سعد Saad | سعيد Said
سامي Sami | سمير Samir | سفيان Sofiane | سليم Salim | صالح Salah | شعبان Chaabane | شريف Cherif
طه Taha | لطفي Lotfi | لمين Lamine | مالك Malek | ماسينيسا Massinissa | مراد Mourad
محند Mohand | مصطفى Mustapha | منير Mounir | مهدي Mehdi | مولود Mouloud | موسى Moussa
ناصر Nacer | ناظم Nadhim | نادر Nadir | نسيم Nassim | وليد Walid | وسيم Wassim | وناس Ouanas
ياسر Yasser | ياسين Yacine | يانيس Yanis | يحيى Yahia | يوسف Youcef | يونس Younes | يوبا Yuba
جمال Djamel | عبد Abdel
آية Aya | أماني Amani | أمل Amel | أمينة Amina | أميرة Amira | أناييس Anais | أنيسة Anissa
أسماء Asma | إكرام Ikram | إيمان Imane | إيناس Ines | بشرى Bouchra | تينهينان Tinhinane
حياة Hayat | خديجة Khadidja | داليا Dalia | دنيا Dounia | رانية Rania | رشا Racha | روز Rose
ريم Rim | ريما Rima | زينة Zina | زينب Zineb | سارة Sarah | سعاد Souad | سرين Serine
سلمى Selma | سليمة Salima | سميرة Samira | سومية Soumia | سيليا Celia | سيلين Celine
شيراز Chiraz | صبرينة Sabrina | صفية Safia | صوفيا Sofia | فاطمة Fatima | فرح Farah
فريال Feriel | فوزية Fouzia | فلة Fella | كاتيا Katia | كاهينة Kahina | ليديا Lydia
ليزا Lisa | ليلى Leila | ليليا Lilia | ليندة Linda | لينا Lina | ماريا Maria | مايا Maya
ملاك Malak | مروة Meroua | مريم Meriem | مزرية Mezria | مينة Mina | ميرا Mira | ميليسا Melissa
نادية Nadia | نسرين Nesrine | نجمة Nedjma | نريمان Nerimane | نوال Naouel | نهاد Nihad
نور Nour | هاجر Hadjer | هانية Hania | هدى Houda | هناء Hana | وفاء Wafa | ياسمين Yasmine
ياسمينة Yasmina | يسرى Yousra
إبراهيمي Brahimi | إسماعيل Smail | بلقاسم Belkacem | بلحاج Belhadj | بوبكر Boubekeur
بومدين Boumediene | بوعلام Boualem | بوجمعة Boudjemaa | قدور Kaddour | مقران Mokrane
مقراني Mokrani | لخضر Lakhdar | لحمر Lahmar | لعربي Larbi | هواري Houari | زروال Zeroual
قاسي Kaci | قاسمي Kacemi | ميلودي Miloudi | تواتي Touati | تومي Toumi | صحراوي Sahraoui
زواوي Zouaoui | شاوي Chaoui | موساوي Moussaoui | بوخاري Boukhari | مولاي Moulay | عثماني Otmani
سعيداني Saidani | مباركي Mebarki | مخلوف Makhlouf | معزوز Maazouz | شيخ Cheikh | باشا Bacha
علاء الدين Alaeddine | داود Daoud | داوودي Daoudi | زيدان Zidane | بلعيد Belaid | سليمان Slimane
محمدي Mohammedi | مختاري Mokhtari | قاسم Kacem | زيد Zid | درويش Derouiche | سلطاني Soltani
"""


def _parse_name_table(text: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for line in text.strip().splitlines():
        if line.startswith("#"):
            continue
        for item in line.split("|"):
            words = item.split()
            arabic = " ".join(w for w in words if _has(w, _is_arabic))
            latin = " ".join(w for w in words if not _has(w, _is_arabic))
            table.setdefault(_ar_key(arabic), latin)
    return table


_AR_HARAKAT = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_AR_SHADDA, _AR_FATHA, _AR_DAMMA, _AR_KASRA, _AR_SUKUN = (
    "\u0651",
    "\u064e",
    "\u064f",
    "\u0650",
    "\u0652",
)
_AR_KEY_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ی": "ي",
                              "ک": "ك", "ۀ": "ة", "ە": "ة"})  # fmt: skip


def _ar_key(word: str) -> str:
    """Dictionary key: no harakat/tatweel, one alef, final ة as ه."""
    key = _AR_HARAKAT.sub("", word).translate(_AR_KEY_FOLD)
    key = " ".join(key.split())
    return re.sub("ة(?= |$)", "ه", key)


_AR_NAMES = _parse_name_table(_AR_NAMES_TEXT)
_AR_MAGHREB_NAMES = _parse_name_table(_AR_MAGHREB_TEXT)

# Particles of compound names (keys as produced by _ar_key).
_AR_PARTICLES = {
    "ابو": "Abu", "ابا": "Aba", "بن": "bin", "ابن": "ibn", "بنت": "bint", "بنو": "Banu",
    "بني": "Bani", "ال": "Al", "اولاد": "Awlad", "ذي": "Dhi", "ذو": "Dhu", "بو": "Bu",
    "الله": "Allah",
}  # fmt: skip
_AR_MAGHREB_PARTICLES = {"ابو": "Abou", "بن": "Ben", "اولاد": "Ouled", "بو": "Bou"}

_AR_CONSONANTS = {
    "ب": "b", "ت": "t", "ث": "th", "ج": "j", "ح": "h", "خ": "kh", "د": "d", "ذ": "dh", "ر": "r",
    "ز": "z", "س": "s", "ش": "sh", "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "ع": "", "غ": "gh",
    "ف": "f", "ق": "q", "ك": "k", "ک": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "ء": "",
    "پ": "p", "چ": "ch", "ژ": "zh", "گ": "g", "ڤ": "v", "ڨ": "g",
}  # fmt: skip
_AR_MAGHREB_CONSONANTS = {"ث": "t", "ج": "dj", "ذ": "d", "ش": "ch", "ق": "k", "ظ": "dh"}
_AR_LETTER_FOLD = str.maketrans({"ی": "ي", "ې": "ي", "ک": "ك", "ۀ": "ة", "ە": "ة", "ٱ": "ا"})
_AR_SUN_LETTERS = set("تثدذرزسشصضطظلن")
_AR_GUTTURALS = set("حهخعغء")
# Final two-consonant clusters that stay unbroken in CaCC words (Badr, Nasr, Majd, Hind).
_AR_CLUSTER_BEFORE_R = set("دصقختطبفضثذزسك")
_AR_FINAL_CLUSTERS = {("ج", "د"), ("ض", "ل"), ("ر", "ب"), ("ط", "ب"), ("ن", "د"), ("ر", "د"),
                      ("ل", "ب"), ("ر", "ق")}  # fmt: skip


class _Seg:
    """Part of an Arabic word being vowelled: consonant "C" (ع and hamza have text "") or
    vowel "V"; ``gem`` marks shadda, ``vowel`` the short vowel written after a consonant (or
    that the fallback inserts), ``letter`` the Arabic letter."""

    __slots__ = ("kind", "text", "letter", "gem", "vowel", "haraka")

    def __init__(self, kind: str, text: str, letter: str, gem: bool = False) -> None:
        self.kind, self.text, self.letter, self.gem = kind, text, letter, gem
        self.vowel = ""
        self.haraka = ""


def _ar_letters(word: str) -> list[tuple[str, bool, str]]:
    """(letter, has_shadda, haraka) for each letter of ``word``."""
    out: list[list] = []
    for ch in word:
        if ch == _AR_SHADDA and out:
            out[-1][1] = True
        elif ch in (_AR_FATHA, _AR_DAMMA, _AR_KASRA, _AR_SUKUN) and out:
            out[-1][2] = ch
        elif _AR_HARAKAT.match(ch):
            continue
        elif _is_arabic(ch) and ch.isalpha() or ch == "ء":
            out.append([ch, False, ""])
    return [tuple(x) for x in out]


def _ar_segments(word: str, maghreb: bool) -> list[_Seg]:
    """Letters -> consonant / vowel segments, long-vowel letters resolved."""
    cons = {**_AR_CONSONANTS, **(_AR_MAGHREB_CONSONANTS if maghreb else {})}
    letters = _ar_letters(word.translate(_AR_LETTER_FOLD))
    n = len(letters)
    segs: list[_Seg] = []
    for i, (ch, gem, haraka) in enumerate(letters):
        prev = letters[i - 1][0] if i > 0 else ""
        last = i == n - 1
        if ch in "اٱ":
            if i == 0:
                # ابتسام Ibtisam, اعتماد Itimad (ifti'al nouns); otherwise 'a'
                ifti = n > 3 and (letters[2][0] == "ت" or letters[1][0] + letters[2][0] == "ست")
                before_ya = n > 1 and letters[1][0] == "ي"  # ايمان Iman
                segs.append(_Seg("V", "i" if ifti or before_ya else "a", ch))
            else:
                segs.append(_Seg("V", "a", ch))
        elif ch in "أإآ":
            if i == 0:
                segs.append(_Seg("V", "i" if ch == "إ" else "a", ch))
            else:
                segs.append(_Seg("C", "", "ء"))
                if ch == "آ":
                    segs.append(_Seg("V", "a", "ا"))
        elif ch == "ئ" and prev in "اي" and i > 0:
            segs.append(_Seg("V", "e", ch))  # رائد Raed, وائل Wael
        elif ch in "ئؤء":
            if ch == "ء" and last and prev == "ا":
                segs.append(_Seg("V", "a", ch))  # علاء Alaa
            else:
                segs.append(_Seg("C", "", ch))
        elif ch in "وي":
            seg = _Seg("?", "", ch, gem)
            seg.haraka = haraka
            segs.append(seg)
            continue
        elif ch == "ى":
            segs.append(_Seg("V", "a", ch))
        elif ch == "ة":
            segs.append(_Seg("C", "t", ch) if prev == "ا" else _Seg("V", "a", ch))
        elif ch == "ه" and last and n >= 4 and prev not in "او" and not (n == 4 and prev == "ي"):
            segs.append(_Seg("V", "a", "ة"))  # colloquial spelling of ة: ديمه Dima
        elif ch in cons:
            segs.append(_Seg("C", cons[ch], ch, gem))
        else:
            continue
        segs[-1].haraka = haraka

    _ar_resolve_weak_letters(segs, maghreb)
    return segs


def _ar_resolve_weak_letters(segs: list[_Seg], maghreb: bool) -> None:
    """و / ي are consonants (w, y) or long vowels (ou, ee) or diphthongs (aw, ai)."""
    for i, seg in enumerate(segs):
        if seg.kind != "?":
            continue
        ch = seg.letter
        prev = segs[i - 1] if i > 0 else None
        nxt = segs[i + 1] if i + 1 < len(segs) else None
        consonant = (
            seg.gem
            or prev is None
            or prev.kind == "V"
            or (nxt is not None and (nxt.kind == "V" or nxt.gem))
            or (nxt is not None and nxt.kind == "?" and i + 2 == len(segs))
            or (ch == "و" and nxt is not None and nxt.kind == "?" and nxt.letter == "ي")
            or seg.haraka in (_AR_FATHA, _AR_DAMMA, _AR_KASRA)
        )
        if consonant:
            seg.kind, seg.text = "C", "w" if ch == "و" else "y"
            if maghreb and ch == "و" and prev is None:
                seg.text = "ou"  # وناس Ouanas
            continue
        seg.kind = "V"
        if nxt is None:
            seg.text = "u" if ch == "و" else "i"
            continue
        # C + و/ي + two consonants (+ final vowel): a diphthong (Faisal, Zainab, Jawhar);
        # CيC (+ final vowel) is usually one too (Zaid, Saif, Laith, Khairi).
        rest = segs[i + 1 :]
        body = rest[:-1] if rest[-1].kind in "V?" else rest
        all_cons = all(s.kind in "C?" for s in body)
        diphthong = (
            i == 1
            and all_cons
            and not (ch == "و" and segs[0].letter == "ي")  # يوسف Yousef, يونس Younes
            and (
                len(body) == 2  # فيصل Faisal, جوهر Jawhar, فوزي Fawzi
                or (ch == "ي" and len(body) == 1 and not maghreb)  # زيد Zaid, خيري Khairi
            )
        )
        if diphthong or (ch == "ي" and prev.letter == "و" and prev.kind == "C"):
            seg.text = "aw" if ch == "و" else "ai"  # (and الحويطات Al-Hawaitat)
        else:
            seg.text = "ou" if ch == "و" else ("i" if maghreb else "ee")


def _ar_is_cacc(segs: list[_Seg]) -> bool:
    """Three consonants, no long vowels (فهد, بدر, حسن): candidates for a final cluster."""
    return len(segs) == 3 and all(s.kind == "C" for s in segs)


def _ar_final_cluster_ok(c2: _Seg, c3: _Seg) -> bool:
    if c2.gem or c3.gem:
        return False
    if c2.letter in _AR_GUTTURALS:
        return True  # Fahd, Sahl, Saad
    if c3.letter == "ر" and c2.letter in _AR_CLUSTER_BEFORE_R:
        return True  # Badr, Nasr, Saqr
    return (c2.letter, c3.letter) in _AR_FINAL_CLUSTERS


def _ar_mim_prefix(segs: list[_Seg]) -> None:
    """Participles with the prefix م take "Mu": مسلم Muslim, منير Munir, مرتضى Murtada."""
    if len(segs) < 4 or segs[0].letter != "م" or segs[0].gem:
        return
    if segs[0].haraka not in ("", _AR_DAMMA) or any(s.haraka for s in segs[1:]):
        return  # other vowels are written: leave them to the general rules
    shape = "".join("C" if s.kind == "C" else s.text for s in segs)
    if shape == "CCCC" and segs[2].gem:  # mufaʿʿal: Mukarram, Muwaffaq
        segs[0].haraka = _AR_DAMMA
    elif shape == "CCCC":  # mufʿil: Muslim, Mukhlis, Mushrif
        segs[0].haraka, segs[1].haraka, segs[2].haraka = _AR_DAMMA, _AR_SUKUN, _AR_KASRA
    elif shape in ("CCeeC", "CCaCC"):  # Munir, Mufid; Mujahid, Munadil
        segs[0].haraka = _AR_DAMMA
    elif segs[2].letter == "ت" and shape in ("CCCCa", "CCCCi", "CCCCC"):  # Murtada, Muntasir
        segs[0].haraka, segs[1].haraka, segs[2].haraka = _AR_DAMMA, _AR_SUKUN, _AR_FATHA
        if shape == "CCCCC":
            segs[3].haraka = _AR_KASRA


def _ar_vowelize(segs: list[_Seg]) -> None:
    """Guess the unwritten short vowels: set ``seg.vowel`` on consonants followed by one."""
    long_vowels = {"a", "ou", "ee", "u", "i", "e"}

    def mark(k: int, default: str = "a") -> None:
        seg = segs[k]
        if seg.haraka:
            return  # written (or pattern-fixed) vowel or sukun
        nxt = segs[k + 1] if k + 1 < len(segs) else None
        vowel = default
        if nxt is not None and nxt.kind == "C" and nxt.text == "y" and not nxt.gem:
            after = segs[k + 2] if k + 2 < len(segs) else None
            if after is not None and after.kind == "V":
                vowel = "i"  # زياد Ziyad, ضياء Diyaa; ية -> iya (Bahiya)
        if nxt is not None and nxt.letter == "ؤ":
            vowel = "u"  # فؤاد Fuad
        seg.vowel = vowel

    _ar_mim_prefix(segs)
    # explicit harakat win
    for seg in segs:
        if seg.kind == "C" and seg.haraka in (_AR_FATHA, _AR_DAMMA, _AR_KASRA):
            seg.vowel = {_AR_FATHA: "a", _AR_DAMMA: "u", _AR_KASRA: "i"}[seg.haraka]

    # runs of consonants between vowels
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(segs):
        if segs[i].kind == "C":
            j = i
            while j + 1 < len(segs) and segs[j + 1].kind == "C":
                j += 1
            runs.append((i, j))
            i = j + 1
        else:
            i += 1

    cacc = _ar_is_cacc(segs)
    for start, end in runs:
        idx = list(range(start, end + 1))
        # A geminate needs a vowel before it, and after it unless it ends the word.
        sub_runs: list[list[int]] = [[]]
        for k in idx:
            if segs[k].gem and sub_runs[-1]:
                mark(sub_runs[-1][-1])
                sub_runs.append([])
            sub_runs[-1].append(k)
            if segs[k].gem and k != idx[-1]:
                mark(k)
                sub_runs.append([])
        sub_runs = [r for r in sub_runs if r]
        for r_no, run in enumerate(sub_runs):
            before = segs[run[0] - 1] if run[0] > 0 else None
            at_start = before is None
            at_end = run[-1] == len(segs) - 1
            if at_start:
                if len(run) > 1 or at_end and len(segs) == 1:
                    mark(run[0])
                run = run[1:]
                before_long = False
            else:
                before_long = (
                    before.kind == "V"
                    and before.text in long_vowels
                    and r_no == 0
                    and before is not segs[0]  # a word-initial vowel is short: أسد Asad
                )
            if not run:
                continue
            if not at_end:
                # medial run followed by a vowel: break clusters longer than two
                for pos in range(1, len(run) - 1, 2):
                    mark(run[pos])
                last, after = segs[run[-1]], segs[run[-1] + 1]
                if len(run) >= 2 and last.text == "y" and not last.gem and after.letter == "ة":
                    mark(run[-2], "i")  # زكية Zakiya, دانية Daniya
                continue
            # word-final run
            while len(run) >= 3:
                mark(run[1])
                run = run[2:]
                before_long = False
            if len(run) == 2:
                if before_long:
                    mark(run[0], "e")  # خالد Khaled, يوسف Yousef, زايد Zayed
                elif not (cacc and _ar_final_cluster_ok(segs[run[0]], segs[run[1]])):
                    mark(run[0])


def _ar_render(segs: list[_Seg]) -> str:
    out: list[str] = []
    for k, seg in enumerate(segs):
        text = seg.text
        if seg.kind == "C" and seg.gem and len(text) == 1:
            # doubled letter, except at the very end (عزّ Az, not Azz)
            if k != len(segs) - 1 or seg.vowel:
                text = text * 2
        if seg.kind == "C" and seg.letter == "ع" and not seg.vowel:
            nxt = segs[k + 1] if k + 1 < len(segs) else None
            prev = out[-1] if out else ""
            if prev.endswith("a") and not prev.endswith("aa") and (nxt is None or nxt.kind == "C"):
                text = "a"  # ع after a short a: Saad, Jaafar, Shaaban
            elif nxt is None and prev.endswith("ee"):
                out[-1], text = prev[:-2] + "i", "e"  # ربيع Rabie, بديع Badie
            elif nxt is None and prev.endswith("e"):
                text = "a"  # رافع Rafea, ساطع Satea
        out.append(text + seg.vowel)
    word = "".join(out)
    word = re.sub("a{3,}", "aa", word)
    word = re.sub("i(ee|i)", r"\1", word)  # written kasra + long ي: صدِّيقي Siddiqi
    word = re.sub("u(ou|u)", r"\1", word)
    word = re.sub("([iu])e([iu])", r"\1\2", word)
    word = re.sub("aey$", "ai", word)  # رجائي Rajai
    return word


def _ar_transliterate(word: str, maghreb: bool) -> str:
    """Letter-based fallback for one word that is not in the dictionaries."""
    segs = _ar_segments(word, maghreb)
    if not segs:
        return ""
    _ar_vowelize(segs)
    return _cap(_ar_render(segs))


def _to_maghreb(latin: str) -> str:
    """Gulf/Levant spelling -> French-based Maghrebi one: Rasheed -> Rachid, Qader -> Kader."""
    out = latin
    for old, new in (("ee", "i"), ("oo", "ou"), ("sh", "ch"), ("Sh", "Ch"), ("q", "k"),
                     ("Q", "K"), ("th", "t"), ("Th", "T"), ("dh", "d"), ("Dh", "D")):  # fmt: skip
        out = out.replace(old, new)
    out = re.sub("^J", "Dj", out.replace("jj", "dj"))  # Najjar -> Nadjar
    return re.sub("(?<![dD])j", "dj", out)


def _ar_word(word: str, maghreb: bool) -> str:
    """One word without particles: dictionary first, then the fallback."""
    key = _ar_key(word)
    if maghreb and key in _AR_MAGHREB_NAMES:
        return _AR_MAGHREB_NAMES[key]
    if key in _AR_NAMES:
        latin = _AR_NAMES[key]
        return _to_maghreb(latin) if maghreb else latin
    return _ar_transliterate(word, maghreb)


def _ar_article(stem: str, maghreb: bool) -> str:
    """ال + stem: Al-Rashid (Mashriq), El-Rachid (Maghreb)."""
    latin = _ar_word(stem, maghreb)
    return ("El-" if maghreb else "Al-") + latin


def _ar_abd(stem: str, maghreb: bool) -> str:
    """عبد ال + stem: Abdulrahman, Abdullah (Mashriq); Abderrahmane, Abdelkader (Maghreb)."""
    key = _ar_key(stem)
    if key in ("له", "لله"):
        return "Abdallah" if maghreb else "Abdullah"
    latin = _ar_word(stem, maghreb).lower()
    if maghreb:
        if stem[:1] in _AR_SUN_LETTERS and stem[:1] != "ل":
            return "Abde" + latin[:1] + latin
        return "Abdel" + latin
    return "Abdul" + latin


_AR_WORD = re.compile(r"^([^\u0600-\u06ff]*)([\u0600-\u06ff].*?)([^\u0600-\u06ff]*)$")


def _romanize_arabic(text: str, maghreb: bool = False) -> str:
    full_key = _ar_key(text)
    if maghreb and full_key in _AR_MAGHREB_NAMES:
        return _AR_MAGHREB_NAMES[full_key]
    if full_key in _AR_NAMES and " " in full_key:
        return _AR_NAMES[full_key]

    particles = {**_AR_PARTICLES, **(_AR_MAGHREB_PARTICLES if maghreb else {})}
    words = text.split(" ")
    out: list[str] = []
    i = 0
    while i < len(words):
        m = _AR_WORD.match(words[i])
        if not m:  # no Arabic letters in this word
            out.append(_romanize_default(words[i]))
            i += 1
            continue
        lead, word, trail = m.groups()  # brackets etc. around the word are kept
        key = _ar_key(word)
        nxt = _ar_key(words[i + 1]) if i + 1 < len(words) else ""
        if key == "عبد" and nxt.startswith("ال") and not trail:
            # عبد الرحمن -> Abdulrahman (one word)
            nxt_word = _AR_WORD.match(words[i + 1])
            if nxt_word and not nxt_word.group(1):
                latin = _ar_abd(nxt_word.group(2)[2:], maghreb)
                out.append(lead + latin + nxt_word.group(3))
                i += 2
                continue
        if key.startswith("عبدال") and len(key) > 5:
            latin = _ar_abd(word[5:], maghreb)
        elif key in particles and not (maghreb and key in _AR_MAGHREB_NAMES):
            latin = particles[key]
            latin = latin[0].upper() + latin[1:] if not out else latin
        elif key in _AR_NAMES or (maghreb and key in _AR_MAGHREB_NAMES):
            latin = _ar_word(word, maghreb)
        elif word.startswith("ال") and len(key) > 3:
            latin = _ar_article(word[2:], maghreb)
        elif maghreb and key.startswith("بو") and len(key) >= 5:
            latin = "Bou" + _ar_word(word[2:], maghreb).lower()  # بوزيد Bouzid
        elif maghreb and key.startswith("بل") and len(key) >= 5:
            latin = "Bel" + _ar_word(word[2:], maghreb).lower()  # بلعيد Belaid
        else:
            latin = _ar_word(word, maghreb)
        out.append(lead + latin + trail)
        i += 1
    return " ".join(w for w in out if w)
