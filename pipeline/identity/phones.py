"""E.164 phone numbers of a country, valid by phonenumbers, drawn with numpy.

Each country gets a *plan*, built once per process (or read from disk): a table of leading
digits of the national significant number (NSN), each completed with uniform random digits,
and the places each may be used for. Drawing is then pure numpy: pick a row by weight (its
share of the number space), fill the free digits, and lay the bytes out as one Arrow string
buffer.

The area code follows the row's city. Every block of the plan belongs to an *area*: the
places phonenumbers' own geocoding data (phonenumbers.geodata, offline) gives for the
block's leading digits, matched by name to the gazetteer's cities (or, for a region name
such as "Michoacan" or "Gangwon", its region). A row takes the area whose nearest place is
nearest its city, among places in its own region; regions with no such place take the areas
named after the region. So a Munich row dials 089, a Hamburg row 040, a Monterrey row 81,
and the number's geocoder description names the city (or the region where the plan is
regional). Rows of an unknown city or region draw from the whole country.

Where the numbering plan reserves numbers for fiction and phonenumbers accepts them, only
those are used (checked exhaustively when the plan is built; blocks it rejects are dropped):
  US, CA  +1 NPA 555-0100..0199, in every geographic area code phonenumbers accepts (359 US,
          56 CA); all 100 numbers of each are valid. The area code is one of the row's state
          or province whose cities (phonenumbers' "City, ST" entries) come nearest its city.
  GB      Ofcom's drama ranges for Leeds ... Manchester, London 020 7946 0xxx, Tyneside,
          Cardiff and Belfast (1,000 each): the one nearest the row's city in its nation.
          NOT the drama mobiles 07700 900xxx nor 01632 960xxx: libphonenumber deliberately
          marks those invalid.
  FR      ARCEP's fiction ranges 01 99 00, 02 61 91, 03 53 01, 04 65 71, 05 36 49 xx xx,
          by the region's zone (regional: phonenumbers has no places for these ranges).
          Its mobile range 06 39 98 xx xx is invalid in phonenumbers.
  AU      ACMA's 0X 5550 xxxx and 0X 7010 xxxx by state, plus the 30 mobiles ACMA lists
          (0491 570 006, 0491 570 156 ...). Only those 30 are reserved, not 0491 570 xxx.
Pools are small (GB 15,000 numbers, London's 1,000; a US city's area codes 100 each), so
phones repeat, and more where the city fixes the area code: in 20,000 rows of the default
mix (make_identities, seed 0) 2.8% of rows share their number with another row: 15% of US
rows, 22% of Canadian (Montreal's five codes hold 500 numbers), 7% of British, 2% of French;
no row of any other country. Fictional US/CA numbers geocode to the state or province only
(phonenumbers lists no city for 555-01XX), so their area code is every code phonenumbers
places within NEAR_KM of the city's nearest listed place (New York: 212, 332, 347, 646, 718,
934), not one code alone.

Other countries get real-format numbers of the plan's geographic ranges, of one NSN length:
mobiles where phonenumbers geocodes mobiles by place and they reach more places (China's, by
city), else fixed lines (Mexico's codes are both). Every country a locale uses has
geographic codes, so every locale's area code follows the city. Blocks are found by
descending the digit trie from each place's geocoding prefix (at most KEYS_PER_PLACE
prefixes per place name), testing 100 completions per prefix (all 100 values of the next
two digits) at once with phonenumbers' own patterns run by Arrow's RE2, then spot-checked
with phonenumbers itself; a block never straddles a longer geocoding prefix, so every number
of it reads back as its place. These pools are large (10^5..10^7 numbers a city), so
repeats are birthday-rare. Cities phonenumbers does not list take the nearest listed place
of their region (Exeter: Bristol's 0117 drama range; a Bihar village: the nearest Bihar
town's code), and names phonenumbers spells otherwise are aliased in the data file.

A country whose plan has no place phonenumbers names, or that the gazetteer does not know,
falls back to mobiles from the whole plan (leading-digit prefixes of the example mobile's
length whose every completion phonenumbers calls MOBILE or FIXED_LINE_OR_MOBILE), and there
the area code cannot follow the city: mobile-only plans such as Singapore's have no
geographic codes. No locale of pipeline/data/locales.toml is such a country.

The reserved ranges, state abbreviations and place and region aliases are data:
pipeline/data/phones.toml. Plans are cached on disk (cache_root()/phones), keyed by this
module's and that file's bytes, phonenumbers' version and the gazetteer's.
"""

import functools
import hashlib
import re
import tomllib
import zlib
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import PhoneMetadata
from phonenumbers import PhoneNumberType as T
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, is_number_type_geographical

from pipeline.core.cache import cache_root
from pipeline.core.files import atomic_path
from pipeline.identity import gazetteer
from pipeline.identity.gazetteer import UnknownCountryError, load_cities

MOBILE_TYPES = (T.MOBILE, T.FIXED_LINE_OR_MOBILE)
FIXED_TYPES = (T.FIXED_LINE, T.FIXED_LINE_OR_MOBILE)
PERSONAL_TYPES = (T.FIXED_LINE, T.MOBILE, T.FIXED_LINE_OR_MOBILE)  # no toll-free, premium...
SPOT_CHECKS = 128  # numbers per plan checked with phonenumbers itself
KEYS_PER_PLACE = 8  # geocoding prefixes kept per place name (China has ~300 per city)
AMBIGUOUS = 5.0  # a name several cities share is the largest only if 5x the next
BIG_CITY = 100_000  # population above which a name is read as the city whatever its region
NEAR_KM = 10.0  # reserved plans: a city takes every area code placed this near its nearest
EARTH_KM = 6371.0

NANP_FICTION = "55501"  # NPA + 555-01XX
_DATA = tomllib.loads((files("pipeline") / "data" / "phones.toml").read_text(encoding="utf-8"))
GB_DRAMA: dict[str, list[str]] = _DATA["gb_drama"]  # Ofcom drama ranges, by nation
FR_FICTION: dict[str, list[str]] = _DATA["fr_fiction"]  # ARCEP fiction ranges, by region
AU_STATES: dict[str, list[str]] = _DATA["au"]["states"]  # area code digit -> states
AU_MOBILES: list[str] = _DATA["au"]["mobiles"]
# Postal abbreviations, to read phonenumbers' "City, ST" area descriptions.
NANP_ABBREV: dict[str, str] = _DATA["nanp_states"]
NANP_ALIASES: dict[str, str] = _DATA["nanp_aliases"]
STATE_ABBREV: dict[str, dict[str, str]] = {
    "US": NANP_ABBREV, "CA": NANP_ABBREV, "MX": _DATA["mx_states"], "BR": _DATA["br_states"],
}  # fmt: skip
REGION_ALIASES: dict[str, dict[str, str]] = _DATA["region_aliases"]
PLACE_ALIASES: dict[str, dict[str, str]] = _DATA["place_aliases"]
# Words around a place's name in phonenumbers' descriptions: "Greater Jakarta", "Hanoi City",
# "Amur Region", "Republic of Tatarstan", "Ahmedabad Local".
_PLACE_NOISE = re.compile(
    r"^(Greater|Republic of) | (City|city|province|Province|Region|region|Territory|territory"
    r"|Oblast|Republic|Autonomous District|Autonomous Region|Local)$"
)

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
    cities: np.ndarray  # (C,) segment of each city of load_cities(country_code)
    language: str  # the geocoding language areas were read in ("" if none)


def make_phones(
    rng: np.random.Generator,
    country_code: str,
    n: int,
    regions: np.ndarray | pa.Array | None = None,
    cities: np.ndarray | None = None,
) -> pa.StringArray:
    """`n` E.164 numbers of `country_code`. With `cities` (indices into
    load_cities(country_code), length n) each number's area follows its row's city; with only
    `regions` (admin1 names, length n), its row's region.

    Takes one draw from `rng` whatever the plan, so a change of plan changes phones only."""
    plan = phone_plan(country_code.strip().upper())
    sub = np.random.default_rng(rng.integers(0, 2**62))
    nsn, _ = _draw(sub, plan, _segments(plan, regions, cities, n))
    return _strings("+" + plan.calling_code, nsn)


@functools.lru_cache(maxsize=256)
def phone_plan(cc: str) -> Plan:
    """The country's plan (upper-case ISO code), built on first use in the process, or read
    from the disk cache (building all 24 locale countries' plans takes ~5 s, reading 0.1 s)."""
    path = _cache_path(cc)
    try:
        with np.load(path, allow_pickle=False) as z:
            return _plan_from(cc, z)
    except (OSError, KeyError, ValueError):
        pass  # missing, stale or unreadable: build it
    plan = _build_plan(cc)
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, **_plan_arrays(plan))
    except OSError:
        pass  # a read-only cache dir only costs the rebuild next time
    return plan


def _cache_path(cc: str) -> Path:
    """Keyed by everything a plan is made of: this module, its data, phonenumbers, cities."""
    h = hashlib.sha256()
    for name in ("identity/phones.py", "data/phones.toml"):
        h.update((files("pipeline") / name).read_bytes())
    h.update(phonenumbers.__version__.encode())
    h.update(gazetteer.cache_path().name.encode())
    return cache_root() / "phones" / f"{cc}-{h.hexdigest()[:20]}.npz"


_ARRAYS = ("digits", "plen", "cum", "rows", "seg_end", "cities")


def _plan_arrays(plan: Plan) -> dict:
    regions = sorted(plan.regions.items())
    return {
        **{a: getattr(plan, a) for a in _ARRAYS},
        "meta": np.array([plan.calling_code, str(plan.length), plan.language]),
        "region_names": np.array([r for r, _ in regions], dtype=str),
        "region_segments": np.array([g for _, g in regions], dtype=np.int64),
    }


def _plan_from(cc: str, z) -> Plan:
    calling_code, length, language = (str(x) for x in z["meta"])
    regions = dict(zip(z["region_names"].tolist(), z["region_segments"].tolist(), strict=True))
    return Plan(country_code=cc, calling_code=calling_code, length=int(length), regions=regions,
                language=language, **{a: z[a] for a in _ARRAYS})  # fmt: skip


def _build_plan(cc: str) -> Plan:
    md = PhoneMetadata.metadata_for_region(cc)
    if md is None:
        raise UnknownCountryError(
            f"no phone numbering plan for country code {cc!r}: expected an ISO 3166-1 alpha-2 "
            "code that phonenumbers supports, e.g. US, GB, IN"
        )
    reserved = {"US": _nanp_blocks, "CA": _nanp_blocks, "GB": _gb_blocks, "FR": _fr_blocks,
                "AU": _au_blocks}.get(cc)  # fmt: skip
    length, blocks = _keep_valid(cc, *reserved(cc)) if reserved else (0, [])
    # Reserved blocks are their own areas, placed by the geocoding prefix they fall under.
    blocks = [(p, rs, p) for p, rs in blocks]
    if not blocks:
        length, blocks = _geo_blocks(cc) or (0, [])
    if not blocks:
        length, blocks = (
            _mobile_blocks(cc, MOBILE_TYPES) or _mobile_blocks(cc, PERSONAL_TYPES) or (0, [])
        )
        blocks = [(p, rs, "") for p, rs in blocks]  # no area: the whole country
    if not blocks:
        # e.g. Åland (AX) or Christmas Island (CX): every number phonenumbers accepts under
        # their calling code, it attributes to Finland or Australia.
        raise UnknownCountryError(f"phonenumbers attributes no number to country code {cc!r}")
    places = _place_sets(cc, blocks, bool(reserved))
    # The pattern runs below mirror phonenumbers' _number_type_helper; confirm with the real
    # thing, and drop any prefix where they disagree (a future metadata quirk, say).
    head = "+" + str(md.country_code)
    for _ in range(3):
        plan = _assemble(cc, str(md.country_code), length, blocks, places)
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


_NOT_KEY = re.compile(r"[^0-9a-z]")


@functools.lru_cache(maxsize=1 << 18)
def _key(name: str) -> str:
    from anyascii import anyascii

    return _NOT_KEY.sub("", anyascii(name).casefold())


def _segments(plan: Plan, regions, cities, n: int) -> np.ndarray:
    """Each row's segment: its city's, else its region's, else 0 (the whole country)."""
    if cities is not None:
        cities = np.asarray(cities, dtype=np.int64)
        if len(cities) != n:
            raise ValueError(f"cities has {len(cities)} entries for {n} phones")
        if len(plan.cities) == 0:
            return np.zeros(n, dtype=np.int64)
        return plan.cities[cities].astype(np.int64)
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


@dataclass(frozen=True)
class _PlaceSets:
    """Which areas each city and region draws from: ids into `sets` (-1: the whole country)."""

    sets: list  # tuples of area names
    cities: np.ndarray  # (C,) set id per city
    regions: dict  # _key(region) -> set id


_NO_PLACES = _PlaceSets([], np.zeros(0, dtype=np.int64), {})


def _assemble(cc: str, calling_code: str, length: int, blocks: list, places: _PlaceSets) -> Plan:
    """blocks: (prefix, region names, area) triples; a prefix's weight is its count of numbers.
    Segment 0 is every block; then one segment per set of areas some city or region uses."""
    prefixes = [p for p, _, _ in blocks]
    plen = np.array([len(p) for p in prefixes])
    digits = np.zeros((len(prefixes), length), dtype=np.uint8)
    for i, p in enumerate(prefixes):
        digits[i, : len(p)] = np.frombuffer(p.encode(), dtype=np.uint8) - ord("0")
    weight = 10.0 ** (length - plen)
    by_area = defaultdict(list)
    for i, (_, _, area) in enumerate(blocks):
        by_area[area].append(i)
    members = [np.arange(len(blocks))]
    seg_of_set = np.zeros(len(places.sets) + 1, dtype=np.int64)  # last entry: -1, none
    for s, areas in enumerate(places.sets):
        rows = sorted(i for a in areas for i in by_area.get(a, ()))
        if rows:  # a set whose blocks were all dropped falls back to the whole country
            seg_of_set[s] = len(members)
            members.append(np.array(rows))
    cums = []
    for g, rows in enumerate(members):
        c = np.cumsum(weight[rows])
        cums.append(g + c / c[-1])
        cums[-1][-1] = g + 1.0
    regions = {r: int(seg_of_set[s]) for r, s in places.regions.items() if seg_of_set[s]}
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
        cities=seg_of_set[places.cities],
        language=_geo_keys(cc)[1] if places.sets else "",
    )


# -- places: phonenumbers' geocoding data, matched to the gazetteer --------------------------


@functools.lru_cache(maxsize=1)
def _geo_index() -> dict[int, dict[str, dict]]:
    """Calling code -> {NSN prefix: {language: description}} from phonenumbers' geodata."""
    from phonenumbers.geodata import GEOCODE_DATA  # ~0.3 s: every language's prefix table

    out: dict[int, dict[str, dict]] = defaultdict(dict)
    for prefix, descs in GEOCODE_DATA.items():
        for n in (1, 2, 3):  # calling codes are prefix-free
            if int(prefix[:n]) in COUNTRY_CODE_TO_REGION_CODE:
                out[int(prefix[:n])][prefix[n:]] = descs
                break
    return dict(out)


@functools.lru_cache(maxsize=256)
def _geo_keys(cc: str) -> tuple[dict[str, dict], str]:
    """The country's geocoding prefixes in the language its areas are read in: English,
    unless English names under 99% of them (Italian, Japanese: the local language)."""
    md = PhoneMetadata.metadata_for_region(cc)
    table = _geo_index().get(md.country_code, {}) if md else {}
    if not table:
        return {}, ""
    counts = Counter(lang for descs in table.values() for lang in descs)
    lang = "en"
    if counts["en"] < 0.99 * len(table):
        lang = max(sorted(counts), key=lambda x: counts[x])
    return {k: d for k, d in table.items() if lang in d}, lang


def geo_language(cc: str) -> str:
    """The language to ask phonenumbers' geocoder in for `cc`'s areas ("" if none)."""
    return phone_plan(cc.strip().upper()).language


class _Places:
    """Reads phonenumbers' area descriptions as gazetteer cities or regions of one country."""

    def __init__(self, cc: str):
        cities = load_cities(cc)
        self.cities = cities
        self.pop = cities.population
        names = cities.name.to_pylist()
        regions = cities.region.to_pylist()
        self.region_of = [_key(r) for r in regions]
        self.by_name: dict[str, list[int]] = defaultdict(list)
        for i in np.argsort(-self.pop, kind="stable").tolist():  # largest first
            self.by_name[_key(names[i])].append(i)
        self.names = sorted(self.by_name)
        self.largest = {}
        for i in np.argsort(-self.pop, kind="stable").tolist():
            self.largest.setdefault(self.region_of[i], i)
        self.regions = {_key(r): _key(r) for r in regions}
        for alias, name in REGION_ALIASES.get(cc, {}).items():
            self.regions[_key(alias)] = _key(name)
        self.abbrev = {a: _key(r) for a, r in STATE_ABBREV.get(cc, {}).items()}
        self.aliases = {}
        for alias, target in PLACE_ALIASES.get(cc, {}).items():
            name, _, region = target.partition(", ")
            self.aliases[_key(alias)] = (_key(name), _key(region) or None)
        self._memo: dict[tuple[str, bool], tuple[list[int], set[str]]] = {}

    def resolve(self, descs: dict, lang: str) -> tuple[list[int], set[str]]:
        """(cities, regions) a geocoding entry names: its language's text first, then
        English, then any other that names something."""
        texts = [descs[lang]] + [descs[x] for x in ["en", *sorted(descs)] if x in descs]
        # Exact names in any language before a name's first words ("Seville" is not
        # Sevilleja de la Jara when "Sevilla" is there).
        for loose in (False, True):
            for text in dict.fromkeys(texts):
                if (text, loose) not in self._memo:
                    self._memo[text, loose] = self._text(text, loose)
                found = self._memo[text, loose]
                if found[0] or found[1]:
                    return found
        return [], set()

    def _text(self, text: str, loose: bool) -> tuple[list[int], set[str]]:
        # "Bangkok/Nonthaburi", "San Francisco, CA", "Vitória - ES", "Istanbul (Europe)"
        points, regions = [], set()
        text = re.sub(r"\s*\([^)]*\)", "", text).strip()
        if _key(text) in self.aliases:  # "New York, NY": New York City, not the state
            city = self._city(*self.aliases[_key(text)], loose)
            return ([city] if city is not None else []), set()
        qual = None
        m = re.fullmatch(r"(.*?)(?:, | - )([^,/]+)", text)
        if m:
            text, qual = m.group(1), m.group(2).strip()
            qual = self.abbrev.get(qual) or self._region(_key(qual))
        for part in text.split("/"):
            for name in dict.fromkeys([part, _PLACE_NOISE.sub("", part)]):
                k = _key(name)
                if k in self.aliases:
                    city = self._city(*self.aliases[k], loose)
                else:
                    city = self._city(k, qual, loose)
                region = self._region(k)
                # A region's name is its largest city's ("Puebla", "Seoul"), not that of a
                # smaller namesake ("Khanh Hoa" the village, "Quebec" the city).
                if region and (city is None or city != self.largest.get(region)):
                    regions.add(region)
                    break
                if city is not None:
                    points.append(city)
                    break
        return points, regions

    def _city(self, k: str, qual: str | None, loose: bool = False) -> int | None:
        found = self.by_name.get(k)
        if not found and loose and len(k) >= 5:  # "Las Palmas": Las Palmas de Gran Canaria
            # (a big city only: "Palmerston, ON" is not Toronto's Palmerston-Little Italy)
            i = bisect_left(self.names, k)
            found = sorted(
                (c for n in self.names[i : i + 50] if n.startswith(k) for c in self.by_name[n]),
                key=lambda c: -self.pop[c],
            )
            if found and self.pop[found[0]] < BIG_CITY:
                return None
        if not found:
            return None
        if qual:
            there = [i for i in found if self.region_of[i] == qual]
            if there:
                return there[0]
        # A name several cities share is read as the largest only if it clearly is; under
        # another region than the entry's, only a large city (data older than the region:
        # Hyderabad, "Andhra Pradesh") is more likely than a small namesake.
        top = found[0]
        if len(found) > 1 and self.pop[top] < AMBIGUOUS * max(self.pop[found[1]], 1):
            return None
        if qual and self.pop[top] < BIG_CITY:
            return None
        return top

    def _region(self, k: str) -> str | None:
        if len(k) < 3:
            return None
        if k in self.regions:
            return self.regions[k]
        starts = {r for r in self.regions.values() if r.startswith(k)}
        return starts.pop() if len(starts) == 1 and len(k) >= 5 else None


@functools.lru_cache(maxsize=256)
def _places(cc: str) -> _Places | None:
    try:
        return _Places(cc)
    except UnknownCountryError:  # no cities: no places
        return None


def _place_sets(cc: str, blocks: list, reserved: bool) -> _PlaceSets:
    """Each city's areas: those whose places come nearest it within its region (reserved
    plans: among the areas its region may use); a region with no such place, its own."""
    keys, lang = _geo_keys(cc)
    areas = sorted({a for _, _, a in blocks if a})
    if not areas or not keys:
        if not reserved:
            return _NO_PLACES
    places = _places(cc)
    if places is None:
        return _NO_PLACES
    cities = places.cities
    region_of = np.array(places.region_of, dtype=object)
    ordered = sorted(keys)
    resolved = functools.cache(lambda k: places.resolve(keys[k], lang))

    area_points: dict[str, set[int]] = {}
    derived = set()  # areas placed by their longer prefixes' or their region's cities
    area_regions: dict[str, set[str]] = defaultdict(set)
    for _, rs, a in blocks:
        area_regions[a].update(_key(r) for r in rs)
    for a in areas:
        k = _longest_key(a, keys)
        pts, regs = resolved(k) if k else ([], set())
        if not pts:
            derived.add(a)
        if k and not pts:
            # "California", "Rio de Janeiro": the cities of its longer prefixes place it.
            lo = bisect_left(ordered, k)
            hi = bisect_left(ordered, k + ":")  # ":" sorts right after "9"
            pts = [p for d in ordered[lo:hi] for p in resolved(d)[0]]
            if regs:  # not the odd entry of another state's city among them
                pts = [p for p in pts if places.region_of[p] in regs]
        if not pts and not reserved:
            # "Khanh Hoa province", "Gyeonggi": its largest city stands for it.
            pts = [places.largest[r] for r in sorted(regs) if r in places.largest]
        area_points[a] = set(pts)
        if not reserved:
            area_regions[a].update(regs)

    point_city = np.array(sorted({p for ps in area_points.values() for p in ps}), dtype=np.int64)
    named, placed = defaultdict(set), defaultdict(set)
    for a, ps in area_points.items():
        for p in ps:
            (placed if a in derived else named)[p].add(a)
    # At a city, the areas named after it, else those its region or longer prefixes place
    # there (São Paulo: its own exchanges, not the whole state's "São Paulo"). Reserved
    # blocks are peers: at Toronto, all of 416, 437, 647 (placed) and 942 (named).
    if reserved:
        named = {p: named[p] | placed[p] for p in point_city.tolist()}
        placed = defaultdict(set)
    point_areas = {p: named[p] or placed[p] for p in point_city.tolist()}
    sets: dict[tuple, int] = {}
    set_id = lambda areas: sets.setdefault(tuple(sorted(areas)), len(sets))  # noqa: E731
    city_set = np.full(len(cities), -1, dtype=np.int64)
    lat, lon = np.radians(cities.latitude), np.radians(cities.longitude)

    def nearest(idx: np.ndarray, pts: np.ndarray, allowed: set | None) -> None:
        at = [named[p] & allowed or placed[p] & allowed if allowed else point_areas[p]
              for p in pts.tolist()]  # fmt: skip
        ids = np.array([set_id(a) for a in at])
        near: dict[tuple, int] = {}
        for s in range(0, len(idx), 1024):
            i = idx[s : s + 1024]
            dy = lat[i][:, None] - lat[pts][None, :]
            dx = (lon[i][:, None] - lon[pts][None, :]) * np.cos(lat[i])[:, None]
            dx = (dx + np.pi) % (2 * np.pi) - np.pi
            km = np.sqrt(dx * dx + dy * dy) * EARTH_KM
            if not reserved:
                city_set[i] = ids[np.argmin(km, axis=1)]
                continue
            # Fictional pools are small (100 numbers an area code): every area code of the
            # metro, i.e. of places within NEAR_KM of the nearest (New York's 212 ... 929).
            close = km <= km.min(axis=1, keepdims=True) + NEAR_KM
            for row, c in zip(close, i.tolist(), strict=True):
                js = tuple(np.flatnonzero(row).tolist())
                if js not in near:
                    near[js] = set_id(set().union(*(at[j] for j in js)))
                city_set[c] = near[js]

    by_region = defaultdict(set)
    for a, rs in area_regions.items():
        for r in rs:
            by_region[r].add(a)
    for r in sorted(set(places.region_of)):
        idx = np.flatnonzero(region_of == r)
        allowed = by_region.get(r) if reserved else None
        if allowed:
            pts = point_city[[bool(point_areas[p] & allowed) for p in point_city.tolist()]]
        else:
            pts = point_city[region_of[point_city] == r] if len(point_city) else point_city
        if len(pts):
            nearest(idx, pts, allowed)
        elif by_region.get(r):
            city_set[idx] = set_id(by_region[r])
        elif len(point_city):
            nearest(idx, point_city, None)
    # A region on its own (callers with regions but no cities): every area its cities use.
    regions, listed = {}, list(sets)
    for r in sorted(set(places.region_of)):
        used = {a for s in set(city_set[region_of == r].tolist()) if s >= 0 for a in listed[s]}
        if used:
            regions[r] = set_id(used)
    return _PlaceSets(list(sets), city_set, regions)


def _longest_key(prefix: str, keys: dict) -> str | None:
    for n in range(len(prefix), 0, -1):
        if prefix[:n] in keys:
            return prefix[:n]
    return None


def _geo_blocks(cc: str) -> tuple[int, list] | None:
    """Blocks of geographic numbers, each under one geocoding prefix that names a place."""
    keys, lang = _geo_keys(cc)
    if not keys:
        return None
    places = _places(cc)
    if places is None:
        return None
    roots, per_place = [], Counter()
    for k in sorted(keys):
        pts, regs = places.resolve(keys[k], lang)
        if (pts or regs) and per_place[keys[k][lang]] < KEYS_PER_PLACE:
            per_place[keys[k][lang]] += 1
            roots.append(k)
    # Mobiles where phonenumbers places them (China's, by city), else fixed lines; of one
    # NSN length, whichever reaches the most places (Korea's 9 digits: Seoul's 02 and the
    # provinces' 0XX alike; Brazil's fixed lines: its mobiles' DDD 31 has no entry).
    md = PhoneMetadata.metadata_for_region(cc)
    tries = []
    if is_number_type_geographical(T.MOBILE, md.country_code):
        example = phonenumbers.example_number_for_type(cc, T.MOBILE)
        if example is not None:
            tries.append((len(phonenumbers.national_significant_number(example)), MOBILE_TYPES))
    example = phonenumbers.example_number_for_type(cc, T.FIXED_LINE)
    if example is not None:
        n = len(phonenumbers.national_significant_number(example))
        possible = set(md.fixed_line.possible_length or ()) or {n}
        tries += [(m, FIXED_TYPES) for m in (n, n + 1, n - 1) if m in possible]
    best, most = None, 0
    inner = {k[:i] for k in keys for i in range(1, len(k))}  # prefixes of longer entries
    for length, ok_types in tries:
        blocks = _descend(cc, length, ok_types, roots, keys, inner)
        reach = len({root for _, root in blocks})
        if reach > most:
            best, most = (length, [(p, (), root) for p, root in blocks]), reach
    return best


def _descend(cc: str, length: int, ok_types, roots: list, keys: dict, inner: set) -> list:
    """(prefix, root) for prefixes under each root whose every completion is valid and none
    under a longer geocoding prefix (that one names another place, or none). `inner`: every
    proper prefix of a geocoding prefix."""
    rng = np.random.default_rng(zlib.crc32(cc.encode()))
    level: dict[int, list] = defaultdict(list)
    for r in roots:
        if len(r) <= length:
            level[len(r)].append((r, r))
    found = []
    for k in range(1, length + 1):
        items = level.pop(k, [])
        split = [it for it in items if it[0] in inner]
        test = [it for it in items if it[0] not in inner]
        if test:
            rest = length - k
            d = np.empty((len(test), 100, length), dtype=np.uint8)
            d[:, :, :k] = np.stack([_digits(p) for p, _ in test])[:, None, :]
            d[:, :, k : k + min(rest, 2)] = _TWO_DIGITS[None, :, 2 - min(rest, 2) :]
            d[:, :, k + 2 :] = rng.integers(0, 10, size=(len(test), 100, max(rest - 2, 0)),
                                            dtype=np.uint8)  # fmt: skip
            flat = d.reshape(-1, length)
            ok = np.concatenate(
                [_valid(cc, flat[i : i + 200_000], ok_types) for i in range(0, len(flat), 200_000)]
            ).reshape(len(test), 100)
            for i, (p, root) in enumerate(test):
                if ok[i].all():
                    found.append((p, root))
                elif not ok[i].any():
                    continue
                elif rest <= 2:  # the 100 completions were all of them: keep the valid ones
                    found += [("".join(map(str, x)), root) for x in d[i][ok[i]]]
                else:
                    split.append((p, root))
        for p, root in split:
            level[k + 1] += [(p + c, root) for c in "0123456789" if p + c not in keys]
    return list(dict.fromkeys(found))


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
