"""E.164 phone numbers of a country, valid by phonenumbers, drawn with numpy.

Each country gets a *plan*, built once per process: a table of leading digits of the national
significant number (NSN), each completed with uniform random digits, and the regions each
may be used for. Drawing is then pure numpy: pick a row by weight (its share of the number
space), fill the free digits, and lay the bytes out as one Arrow string buffer.

Where the numbering plan reserves numbers for fiction and phonenumbers accepts them, only
those are used (checked exhaustively when the plan is built; blocks it rejects are dropped):
  US, CA  +1 NPA 555-0100..0199, in every geographic area code phonenumbers accepts (359 US,
          56 CA); all 100 numbers of each are valid. The area code follows the row's
          state or province where phonenumbers' geocoding data names one.
  GB      Ofcom's drama ranges for Leeds ... Manchester, London 020 7946 0xxx, Tyneside,
          Cardiff and Belfast (1,000 each, by nation). NOT the drama mobiles 07700 900xxx
          nor 01632 960xxx: libphonenumber deliberately marks those invalid.
  FR      ARCEP's fiction ranges 01 99 00, 02 61 91, 03 53 01, 04 65 71, 05 36 49 xx xx,
          by the region's zone. Its mobile range 06 39 98 xx xx is invalid in phonenumbers.
  AU      ACMA's 0X 5550 xxxx and 0X 7010 xxxx by state, plus the 30 mobiles ACMA lists
          (0491 570 006, 0491 570 156 ...). Only those 30 are reserved, not 0491 570 xxx.
Pools are small (GB 15,000 numbers, one US state may have 100), so phones repeat.

Other countries get mobile numbers: leading-digit prefixes of the example mobile's length
whose every completion phonenumbers calls MOBILE (or FIXED_LINE_OR_MOBILE) for the country.
They are found by descending the digit trie from a fixed seed, testing 100 completions per
prefix (all 100 values of the next two digits) at once with phonenumbers' own patterns run
by Arrow's RE2, then spot-checked with phonenumbers itself.

The reserved ranges are data: pipeline/data/phones.toml.
"""

import functools
import re
import tomllib
import zlib
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import PhoneMetadata
from phonenumbers import PhoneNumberType as T
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from pipeline.identity.gazetteer import UnknownCountryError

MOBILE_TYPES = (T.MOBILE, T.FIXED_LINE_OR_MOBILE)
PERSONAL_TYPES = (T.FIXED_LINE, T.MOBILE, T.FIXED_LINE_OR_MOBILE)  # no toll-free, premium...
SPOT_CHECKS = 128  # numbers per plan checked with phonenumbers itself

NANP_FICTION = "55501"  # NPA + 555-01XX
_DATA = tomllib.loads((files("pipeline") / "data" / "phones.toml").read_text(encoding="utf-8"))
GB_DRAMA: dict[str, list[str]] = _DATA["gb_drama"]  # Ofcom drama ranges, by nation
FR_FICTION: dict[str, list[str]] = _DATA["fr_fiction"]  # ARCEP fiction ranges, by region
AU_STATES: dict[str, list[str]] = _DATA["au"]["states"]  # area code digit -> states
AU_MOBILES: list[str] = _DATA["au"]["mobiles"]
# Postal abbreviations, to read phonenumbers' "City, ST" area descriptions.
NANP_ABBREV: dict[str, str] = _DATA["nanp_states"]
NANP_ALIASES: dict[str, str] = _DATA["nanp_aliases"]

# phonenumbers' _number_type_helper checks these before fixed line and mobile, in this order.
_SPECIAL_DESCS = ["premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
                  "pager", "uan", "voicemail"]  # fmt: skip
_SPECIAL_TYPES = [T.PREMIUM_RATE, T.TOLL_FREE, T.SHARED_COST, T.VOIP, T.PERSONAL_NUMBER,
                  T.PAGER, T.UAN, T.VOICEMAIL]  # fmt: skip
_TWO_DIGITS = np.array([(a, b) for a in range(10) for b in range(10)], dtype=np.uint8)


@dataclass(frozen=True)
class Plan:
    """Where a country's numbers come from. Segment 0 is the whole country."""

    country_code: str
    calling_code: str
    length: int  # NSN digits
    digits: np.ndarray  # (P, length) uint8: each prefix's fixed digits (rest ignored)
    plen: np.ndarray  # (P,) how many leading digits are fixed
    cum: np.ndarray  # segment g's cumulative weights, shifted into (g, g + 1]
    rows: np.ndarray  # the prefix each cum entry stands for
    seg_end: np.ndarray  # (G,) one past each segment's last cum entry
    regions: dict  # _key(region name) -> segment


def make_phones(
    rng: np.random.Generator,
    country_code: str,
    n: int,
    regions: np.ndarray | pa.Array | None = None,
) -> pa.StringArray:
    """`n` E.164 numbers of `country_code`; with `regions` (admin1 names, length n), each
    from its row's region where the plan has regional numbers (US, CA, GB, FR, AU)."""
    plan = phone_plan(country_code.strip().upper())
    nsn, _ = _draw(rng, plan, _segments(plan, regions, n))
    return _strings("+" + plan.calling_code, nsn)


@functools.lru_cache(maxsize=256)
def phone_plan(cc: str) -> Plan:
    """The country's plan (upper-case ISO code), built on first use in the process."""
    md = PhoneMetadata.metadata_for_region(cc)
    if md is None:
        raise UnknownCountryError(
            f"no phone numbering plan for country code {cc!r}: expected an ISO 3166-1 alpha-2 "
            "code that phonenumbers supports, e.g. US, GB, IN"
        )
    reserved = {"US": _nanp_blocks, "CA": _nanp_blocks, "GB": _gb_blocks, "FR": _fr_blocks,
                "AU": _au_blocks}.get(cc)  # fmt: skip
    length, blocks = _keep_valid(cc, *reserved(cc)) if reserved else (0, [])
    if not blocks:
        length, blocks = (
            _mobile_blocks(cc, MOBILE_TYPES) or _mobile_blocks(cc, PERSONAL_TYPES) or (0, [])
        )
    if not blocks:
        # e.g. Åland (AX) or Christmas Island (CX): every number phonenumbers accepts under
        # their calling code, it attributes to Finland or Australia.
        raise UnknownCountryError(f"phonenumbers attributes no number to country code {cc!r}")
    # The pattern runs below mirror phonenumbers' _number_type_helper; confirm with the real
    # thing, and drop any prefix where they disagree (a future metadata quirk, say).
    head = "+" + str(md.country_code)
    for _ in range(3):
        plan = _assemble(cc, str(md.country_code), length, blocks)
        rng = np.random.default_rng(zlib.crc32(cc.encode()))
        nsn, rows = _draw(rng, plan, np.zeros(SPOT_CHECKS, dtype=np.int64))
        phones = _strings(head, nsn).to_pylist()
        bad = {int(r) for p, r in zip(phones, rows, strict=True) if not _is_valid(p, cc)}
        if not bad:
            return plan
        blocks = [b for i, b in enumerate(blocks) if i not in bad]
    raise AssertionError(f"cannot make valid phone numbers for {cc}")


def _draw(rng: np.random.Generator, plan: Plan, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NSN digits (n, length) and prefix rows for rows drawn from segments g."""
    pos = np.searchsorted(plan.cum, g + rng.random(len(g)), side="right")
    # g + u rounds up to g + 1 for u within 2^-52 of 1; stay inside the segment.
    rows = plan.rows[np.minimum(pos, plan.seg_end[g] - 1)]
    lo = int(plan.plen.min())  # digits before lo are fixed in every prefix
    nsn = plan.digits[rows]
    rand = rng.integers(0, 10, size=(len(g), plan.length - lo), dtype=np.uint8)
    free = np.arange(lo, plan.length) >= plan.plen[rows][:, None]
    nsn[:, lo:] = np.where(free, rand, nsn[:, lo:])
    return nsn, rows


def _is_valid(e164: str, cc: str) -> bool:
    n = phonenumbers.parse(e164)
    return phonenumbers.is_valid_number(n) and phonenumbers.region_code_for_number(n) == cc


def _key(name: str) -> str:
    from anyascii import anyascii

    return re.sub(r"[^0-9a-z]", "", anyascii(name).casefold())


def _segments(plan: Plan, regions, n: int) -> np.ndarray:
    """Each row's segment: its region's, or 0 (the whole country)."""
    if regions is None or len(plan.regions) == 0:
        return np.zeros(n, dtype=np.int64)
    if len(regions) != n:
        raise ValueError(f"regions has {len(regions)} entries for {n} phones")
    if isinstance(regions, pa.ChunkedArray):
        regions = regions.combine_chunks()
    enc = pc.dictionary_encode(regions if isinstance(regions, pa.Array) else pa.array(regions))
    # One dict lookup per distinct region, not per row; unknown and null rows get 0.
    seg = [plan.regions.get(_key(r), 0) for r in enc.dictionary.to_pylist()] + [0]
    idx = pc.fill_null(enc.indices, len(seg) - 1).to_numpy()
    return np.asarray(seg, dtype=np.int64)[idx]


def _strings(head: str, digits: np.ndarray) -> pa.StringArray:
    """head + the row's digits for every row, as one Arrow buffer (no Python strings)."""
    n, length = digits.shape
    h = np.frombuffer(head.encode(), dtype=np.uint8)
    width = len(h) + length
    if n * width >= 2**31:
        raise ValueError(f"{n} phones overflow one Arrow string array; make them in batches")
    buf = np.empty((n, width), dtype=np.uint8)
    buf[:, : len(h)] = h
    buf[:, len(h) :] = digits + ord("0")
    offsets = np.arange(0, n * width + 1, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf))


# -- plan assembly --------------------------------------------------------------------------


def _assemble(cc: str, calling_code: str, length: int, blocks: list) -> Plan:
    """blocks: (prefix, region names) pairs; a prefix's weight is its count of numbers."""
    prefixes = [p for p, _ in blocks]
    plen = np.array([len(p) for p in prefixes])
    digits = np.zeros((len(prefixes), length), dtype=np.uint8)
    for i, p in enumerate(prefixes):
        digits[i, : len(p)] = np.frombuffer(p.encode(), dtype=np.uint8) - ord("0")
    weight = 10.0 ** (length - plen)
    names = sorted({r for _, rs in blocks for r in rs})
    regions = {_key(r): g for g, r in enumerate(names, start=1)}
    members = [np.arange(len(blocks))] + [
        np.array([i for i, (_, rs) in enumerate(blocks) if r in rs]) for r in names
    ]
    cums = []
    for g, rows in enumerate(members):
        c = np.cumsum(weight[rows])
        cums.append(g + c / c[-1])
        cums[-1][-1] = g + 1.0
    return Plan(
        country_code=cc,
        calling_code=calling_code,
        length=length,
        digits=digits,
        plen=plen,
        cum=np.concatenate(cums),
        rows=np.concatenate(members),
        seg_end=np.cumsum([len(m) for m in members]),
        regions=regions,
    )


def _keep_valid(cc: str, length: int, blocks: list) -> tuple[int, list]:
    """The blocks all of whose numbers are valid (enumerated: reserved pools are small)."""
    keep = set()
    for free in sorted({length - len(p) for p, _ in blocks}):
        same = [i for i, (p, _) in enumerate(blocks) if length - len(p) == free]
        heads = np.stack([_digits(blocks[i][0]) for i in same])
        tails = np.indices((10,) * free, dtype=np.uint8).reshape(free, 10**free).T
        d = np.concatenate(
            [np.repeat(heads, len(tails), axis=0), np.tile(tails, (len(heads), 1))], axis=1
        )
        ok = _valid(cc, d, PERSONAL_TYPES).reshape(len(heads), len(tails)).all(axis=1)
        keep.update(i for i, good in zip(same, ok, strict=True) if good)
    return length, [b for i, b in enumerate(blocks) if i in keep]


def _digits(s: str) -> np.ndarray:
    return np.frombuffer(s.encode(), dtype=np.uint8) - ord("0")


# -- reserved ranges ------------------------------------------------------------------------


def _nanp_blocks(cc: str) -> tuple[int, list]:
    regions = _nanp_regions()
    return 10, [(f"{npa}{NANP_FICTION}", regions.get(str(npa), ())) for npa in range(200, 1000)]


@functools.lru_cache(maxsize=1)
def _nanp_regions() -> dict[str, tuple[str, ...]]:
    """Area code -> the states/provinces phonenumbers' English geocoding data names for it."""
    from phonenumbers.geodata import GEOCODE_DATA  # ~0.3 s: every language's prefix table

    known = set(NANP_ABBREV.values())

    def names(desc: str) -> list[str]:
        if ", " in desc:  # "San Francisco, CA"
            return [NANP_ABBREV.get(desc.rsplit(", ", 1)[1], "")]
        return [NANP_ALIASES.get(p, p) for p in desc.split("/")]  # "Nova Scotia/PEI"

    by_npa: dict[str, list] = {}
    for prefix, descs in GEOCODE_DATA.items():
        if prefix[0] == "1" and len(prefix) >= 4 and "en" in descs:
            # The 4-digit entry names the area code's state; longer ones name cities in it.
            whole = len(prefix) == 4
            by_npa.setdefault(prefix[1:4], []).extend((whole, n) for n in names(descs["en"]))
    out = {}
    for npa, found in by_npa.items():
        whole = [n for w, n in found if w and n in known]
        parts = [n for w, n in found if not w and n in known]
        if whole:
            out[npa] = tuple(sorted(set(whole)))
        elif parts:  # e.g. 905 (Ontario) has only city entries
            out[npa] = (max(sorted(set(parts)), key=parts.count),)
    return out


def _gb_blocks(cc: str) -> tuple[int, list]:
    return 10, [(p, (nation,)) for nation, ps in GB_DRAMA.items() for p in ps]


def _fr_blocks(cc: str) -> tuple[int, list]:
    return 9, [(p.replace(" ", ""), tuple(rs)) for p, rs in FR_FICTION.items()]


def _au_blocks(cc: str) -> tuple[int, list]:
    every_state = tuple(s for ss in AU_STATES.values() for s in ss)
    landlines = [(area + x, tuple(ss)) for area, ss in AU_STATES.items() for x in ("5550", "7010")]
    return 9, landlines + [(m, every_state) for m in AU_MOBILES]


# -- other countries: mobile prefixes -------------------------------------------------------


def _mobile_blocks(cc: str, ok_types) -> tuple[int, list] | None:
    """Prefixes whose every completion is valid, by descending the digit trie level-wise."""
    example = None
    for t in (*ok_types, T.FIXED_LINE):
        example = example or phonenumbers.example_number_for_type(cc, t)
    if example is None:
        return None
    nsn = phonenumbers.national_significant_number(example)
    length, path = len(nsn), _digits(nsn)
    rng = np.random.default_rng(zlib.crc32(cc.encode()))
    min_fixed = max(1, min(3, length - 3))
    frontier = np.arange(10, dtype=np.uint8)[:, None]  # all live prefixes of length k
    found = []
    while len(frontier):
        f, k = frontier.shape
        rest = length - k
        # 100 completions per prefix: every value of the next two digits, random after that,
        # so a sub-block the patterns exclude one or two digits down is always seen.
        d = np.empty((f, 100, length), dtype=np.uint8)
        d[:, :, :k] = frontier[:, None, :]
        d[:, :, k : k + min(rest, 2)] = _TWO_DIGITS[None, :, 2 - min(rest, 2) :]
        d[:, :, k + 2 :] = rng.integers(0, 10, size=(f, 100, max(rest - 2, 0)), dtype=np.uint8)
        flat = d.reshape(-1, length)
        ok = np.concatenate(  # in slices, to bound the Arrow buffers
            [_valid(cc, flat[i : i + 200_000], ok_types) for i in range(0, len(flat), 200_000)]
        ).reshape(f, 100)
        full = ok.all(axis=1) & (k >= min_fixed)
        # No valid completion: prune, except along the example number, which must lead
        # somewhere (NANP islands: 876 is 0.3% of the 10-digit space).
        dead = ~ok.any(axis=1) & (k >= 2) & ~(frontier == path[:k]).all(axis=1)
        found += ["".join(map(str, p)) for p in frontier[full]]
        mixed = ~full & ~dead
        if rest <= 2:
            # The 100 completions were all of them: keep exactly the valid ones.
            found += ["".join(map(str, x)) for x in d[mixed][ok[mixed]]]
            break
        parents = frontier[mixed]
        children = np.tile(np.arange(10, dtype=np.uint8), len(parents))[:, None]
        frontier = np.concatenate([np.repeat(parents, 10, axis=0), children], axis=1)
    found = list(dict.fromkeys(found))  # rest == 1 repeats each completion ten times
    return (length, [(p, ()) for p in found]) if found else None


# -- phonenumbers' validity, vectorized -------------------------------------------------------


def _valid(cc: str, nsn: np.ndarray, ok_types) -> np.ndarray:
    """is_valid_number, region_code_for_number == cc and number_type in ok_types, for rows of
    NSN digits, mirroring phonenumbers' logic with its patterns run by Arrow (RE2)."""
    length = nsn.shape[1]
    arr = _strings("", nsn)
    md = PhoneMetadata.metadata_for_region(cc)
    ok = np.isin(_types(arr, length, md), ok_types)
    regions = COUNTRY_CODE_TO_REGION_CODE.get(md.country_code, ())
    if len(regions) > 1:
        # region_code_for_number returns the first region (main country first) that claims
        # the number: by leading digits if it has them, else by any valid type.
        for r in regions[: regions.index(cc)]:
            other = PhoneMetadata.metadata_for_region(r)
            if other is not None:
                ok &= ~_claims(arr, length, other)
        if md.leading_digits:
            ok &= _regex(arr, "^(?:" + md.leading_digits + ")")
    return ok


def _claims(arr: pa.Array, length: int, md) -> np.ndarray:
    if md.leading_digits:
        return _regex(arr, "^(?:" + md.leading_digits + ")")
    return _types(arr, length, md) != T.UNKNOWN


def _types(arr: pa.Array, length: int, md) -> np.ndarray:
    """phonenumbers' _number_type_helper for equal-length NSNs."""
    t = np.full(len(arr), T.UNKNOWN, dtype=np.int16)
    left = _matches(arr, length, md.general_desc)
    for name, typ in zip(_SPECIAL_DESCS, _SPECIAL_TYPES, strict=True):
        hit = left & _matches(arr, length, getattr(md, name))
        t[hit] = typ
        left &= ~hit
    fixed = left & _matches(arr, length, md.fixed_line)
    if md.same_mobile_and_fixed_line_pattern:
        t[fixed] = T.FIXED_LINE_OR_MOBILE
        return t
    mobile = left & _matches(arr, length, md.mobile)
    t[fixed & mobile] = T.FIXED_LINE_OR_MOBILE
    t[fixed & ~mobile] = T.FIXED_LINE
    t[~fixed & mobile] = T.MOBILE
    return t


def _matches(arr: pa.Array, length: int, desc) -> np.ndarray:
    if desc is None or not desc.national_number_pattern:
        return np.zeros(len(arr), dtype=bool)
    if desc.possible_length and length not in desc.possible_length:
        return np.zeros(len(arr), dtype=bool)
    return _regex(arr, "^(?:" + desc.national_number_pattern + ")$")


def _regex(arr: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False)
