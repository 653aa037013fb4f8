"""Training images for the avatar GAN: a python-avatars starter corpus, or the user's photos.

`--data builtin`: cartoon faces drawn with python-avatars and rendered by resvg. Every row
first gets its condition labels (gender, age_band, skin; see avatar_labels.CONDITIONS), then
the visual attributes that realise them, drawn the way profile pictures look rather than
uniformly over what the library can draw: friendly faces, grey hair that comes with age,
beards on some men, long hair on most women, plain backgrounds. The attributes are kept as
int arrays (indices into ATTRIBUTES) so any row can be re-rendered or inspected.

`--data DIR`: a folder of jpg/jpeg/png, centre-cropped and resized; labels come from an
optional labels.csv and are -1 (unknown) where it gives none.

Rendering takes ~5 ms a face at 64 px (~10 ms at 128), so a corpus is rendered by a process
pool and cached on disk as .npz, keyed by everything the pixels depend on.
"""

import csv
import functools
import io
import math
import multiprocessing as mp
import re
import threading
import tomllib
import warnings
from dataclasses import dataclass
from importlib import metadata
from importlib.resources import files
from pathlib import Path

import numpy as np
import python_avatars as pa
import resvg_py
from PIL import Image, ImageOps

from pipeline.avatars.conditions import CONDITIONS
from pipeline.core.cache import cache_root
from pipeline.core.files import atomic_path
from pipeline.errors import ProfilegenError

# Bump when sampling or rendering below changes, so stale disk caches are not reused.
CORPUS_VERSION = 1


@dataclass
class Corpus:
    images: np.ndarray  # uint8 N x S x S x 3
    labels: dict[str, np.ndarray]  # CONDITIONS keys (int64, -1 = unknown) and, builtin, ATTRIBUTES
    description: str  # a paragraph for the model card


# --- what can be drawn ---------------------------------------------------------------------
# The values and their base weights are data: pipeline/data/avatars.toml.

_DATA = tomllib.loads((files("pipeline") / "data" / "avatars.toml").read_text(encoding="utf-8"))
_WEIGHTS = _DATA["weights"]

# Condition label -> python-avatars SkinColor names that realise it, with weights.
SKIN_COLORS: dict[str, dict[str, float]] = _DATA["skin_colors"]
# Hair colours by name (a hex each), and the ones that are grey.
HAIR_COLORS: dict[str, str] = _DATA["hair_colors"]
GREY = ("silver_gray", "platinum")
# Soft solid backgrounds: the circle's fill, or the whole square for the transparent style.
BACKGROUNDS: dict[str, str] = _DATA["backgrounds"]
CANVAS = "#FFFFFF"  # behind the circle style, outside the circle

BRIGHT = tuple(_DATA["clothing_colors"]["bright"])
MUTED = tuple(_DATA["clothing_colors"]["muted"])

# Tops that python-avatars draws with a hat/scarf rather than hair (HatType, not HairType).
HATS = tuple(_DATA["tops"]["hats"])
_HAT_MEMBER = {"fedora": "HAT"}  # HairType.HAT also exists (a hat over hair): avoid the clash
TOPS_SHORT = tuple(_DATA["tops"]["short"])
TOPS_LONG = tuple(_DATA["tops"]["long"])

# Attribute -> the values it can take; the int arrays sample_labels returns index these.
_LISTED = {k: tuple(v) for k, v in _DATA["attributes"].items()}
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "style": _LISTED["style"],
    "background": tuple(BACKGROUNDS),
    "skin_color": tuple(c.lower() for cs in SKIN_COLORS.values() for c in cs),
    "top": TOPS_SHORT + TOPS_LONG + HATS,
    "hat_color": BRIGHT + MUTED,
    "hair_color": tuple(HAIR_COLORS),
    "facial_hair": _LISTED["facial_hair"],
    "facial_hair_color": tuple(HAIR_COLORS),
    **{k: _LISTED[k] for k in ("eyebrows", "eyes", "nose", "mouth", "accessory", "clothing")},
    "clothing_color": BRIGHT + MUTED,
    "shirt_graphic": _LISTED["shirt_graphic"],
}
_CHOICE_WEIGHTS: dict[str, list[float]] = _DATA["choice_weights"]

_TEXTURED = frozenset(_DATA["tops"]["textured"])  # afro-textured: likelier with darker skin
_BALDING = frozenset(_DATA["tops"]["balding"])
_TRENDY = frozenset(_DATA["tops"]["trendy"])
_SHORT_F = frozenset(_DATA["tops"]["short_female"])  # what older women wear more


def _by_age(weights: dict, a: int) -> dict[str, float]:
    """Base weights with the age band's entry taken where a weight is one per band."""
    return {k: w[a] if isinstance(w, list) else w for k, w in weights.items()}


# --- sampling ----------------------------------------------------------------------------

_G, _A, _S = (len(CONDITIONS[k]) for k in ("gender", "age_band", "skin"))


def _top_weights(g: str, a: int, s: str) -> dict[str, float]:
    """Relative weights of each top for one (gender, age band index, skin) cell."""
    w = _by_age(_WEIGHTS["top"][g], a)
    if g == "female":
        for t in w:  # hair gets shorter with age
            if t in _SHORT_F:
                w[t] *= (1.0, 1.0, 1.8, 3.0)[a]
            elif t not in HATS:
                w[t] *= (1.2, 1.0, 0.8, 0.5)[a]
    else:
        for t in w:
            if t in _BALDING:
                w[t] *= (0.1, 1.0, 4.0, 7.0)[a]
            elif t in _TRENDY:
                w[t] *= (1.8, 1.0, 0.6, 0.3)[a]
    for t in w:
        if t in _TEXTURED:
            w[t] *= {"light": 0.4, "medium": 1.5, "dark": 5.0}[s]
        elif t in ("straight_1", "straight_strand", "long_not_too_long") and s == "dark":
            w[t] *= 0.5
        elif t in ("hijab", "turban") and s != "light":
            w[t] *= 2.0
    return w


def _hair_color_weights(a: int, s: str) -> dict[str, float]:
    base = _WEIGHTS["hair_color"][s]
    total = sum(base.values())
    grey = (0.0, 0.03, 0.25, 0.8)[a]  # share of grey/white heads by age band
    pastel = (0.04, 0.015, 0.0, 0.0)[a]
    w = {k: v / total * (1 - grey - pastel) for k, v in base.items()}
    w.update(silver_gray=grey * 0.7, platinum=grey * 0.3)
    w.update(pastel_pink=pastel * 0.6, pastel_blue=pastel * 0.4)
    return w


def _facial_hair_weights(g: str, a: int) -> dict[str, float]:
    if g == "female":
        return {"none": 1}
    p = (0.12, 0.3, 0.36, 0.42)[a]  # ~30% of men overall, more with age
    kinds = _by_age(_WEIGHTS["facial_hair"], a)
    total = sum(kinds.values())
    return {"none": 1 - p} | {k: p * v / total for k, v in kinds.items()}


def _accessory_weights(g: str, a: int) -> dict[str, float]:
    glasses = (0.08, 0.12, 0.25, 0.4)[a]
    shades = (0.04, 0.03, 0.02, 0.01)[a]
    kinds = dict(_WEIGHTS["accessory"])
    if g != "female":
        kinds["kurt"] = 0
    total = sum(kinds.values())
    w = {"none": 1 - glasses - shades} | {k: glasses * v / total for k, v in kinds.items()}
    return w | {"sunglasses": shades / 3, "sunglasses_2": shades / 3, "wayfarers_2": shades / 3}


def _clothing_weights(g: str, a: int) -> dict[str, float]:
    w = dict(_WEIGHTS["clothing"][a])
    if "shirt_scoop_neck" in w:
        w["shirt_scoop_neck"] *= 2.0 if g == "female" else 0.3
    if "shirt_wick" in w and g == "female":
        w["shirt_wick"] *= 0.2  # suit and tie
    return w


def _clothing_color_weights(a: int) -> dict[str, float]:
    bright = (0.7, 0.45, 0.3, 0.25)[a]  # the young wear brighter colours
    return {c: bright / len(BRIGHT) for c in BRIGHT} | {c: (1 - bright) / len(MUTED) for c in MUTED}


def _cdf(attr: str, weights: dict[str, float]) -> np.ndarray:
    """Weights by value name -> cumulative probabilities in ATTRIBUTES[attr] order."""
    names = ATTRIBUTES[attr]
    unknown = set(weights) - set(names)
    assert not unknown, (attr, unknown)
    p = np.array([weights.get(n, 0.0) for n in names], dtype=np.float64)
    c = np.cumsum(p / p.sum())
    c[-1] = 1.0  # so a uniform draw in [0, 1) always lands on a value
    return c


def _draw(rng: np.random.Generator, cdfs: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """One draw per row from the distribution of that row's cell: cdfs[cell[i]].

    Vectorized per cell (24 of them) rather than per row, and O(n) memory, not n x values.
    """
    u = rng.random(len(cell))
    out = np.empty(len(cell), dtype=np.int64)
    for c, cdf in enumerate(cdfs):
        rows = cell == c
        out[rows] = np.searchsorted(cdf, u[rows], side="right")  # first value with cdf > u
    return out


def _choice(rng: np.random.Generator, attr: str, n: int, p: list[float] | None = None):
    return rng.choice(len(ATTRIBUTES[attr]), size=n, p=p).astype(np.int64)


@functools.cache
def _tables() -> dict[str, np.ndarray]:
    """Per-cell CDFs; cell = (gender * n_age_bands + age_band) * n_skins + skin."""
    genders, skins = CONDITIONS["gender"], CONDITIONS["skin"]
    out: dict[str, list] = {k: [] for k in ("top", "hair_color", "facial_hair", "accessory",
                                             "clothing", "clothing_color")}  # fmt: skip
    for g in genders:
        for a in range(_A):
            for s in skins:
                out["top"].append(_cdf("top", _top_weights(g, a, s)))
                out["hair_color"].append(_cdf("hair_color", _hair_color_weights(a, s)))
                out["facial_hair"].append(_cdf("facial_hair", _facial_hair_weights(g, a)))
                out["accessory"].append(_cdf("accessory", _accessory_weights(g, a)))
                out["clothing"].append(_cdf("clothing", _clothing_weights(g, a)))
                out["clothing_color"].append(_cdf("clothing_color", _clothing_color_weights(a)))
    skin_cdfs = []  # per skin label, over ATTRIBUTES["skin_color"]
    for s in skins:
        skin_cdfs.append(_cdf("skin_color", {c.lower(): w for c, w in SKIN_COLORS[s].items()}))
    tables = {k: np.stack(v) for k, v in out.items()}
    tables["skin_color"] = np.stack(skin_cdfs)
    return tables


@functools.cache
def _slots() -> tuple[frozenset[str], frozenset[str]]:
    """(tops that can carry facial hair, tops that can carry glasses).

    python-avatars draws facial hair and accessories *inside* the top's SVG, so a few tops
    (long_hair_curly, loose_hair, curly_2, hijab) silently drop them. Read from the SVGs so
    the labels never claim something the picture does not show.
    """
    beard, glasses = set(), set()
    for name in ATTRIBUTES["top"]:
        member = _top(name)
        path = Path(pa.__file__).parent / type(member).__path__ / f"{member.value}.svg"
        text = path.read_text(encoding="utf-8")
        if 'id="Facial-Hair"' in text:
            beard.add(name)
        if 'id="Accessory"' in text:
            glasses.add(name)
    return frozenset(beard), frozenset(glasses)


def sample_labels(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Condition labels and the visual attributes that realise them, n rows (int64 arrays).

    Keys: the CONDITIONS keys (index into CONDITIONS[k]) and the ATTRIBUTES keys (index into
    ATTRIBUTES[k]). Draw order is fixed, so the same generator state gives the same rows.
    """
    idx = {k: {v: i for i, v in enumerate(vs)} for k, vs in ATTRIBUTES.items()}
    gender = rng.integers(0, _G, n)
    age = rng.integers(0, _A, n)
    skin = rng.choice(_S, size=n, p=[0.4, 0.35, 0.25])
    cell = (gender * _A + age) * _S + skin
    t = _tables()
    out = {"gender": gender, "age_band": age, "skin": skin}
    out["skin_color"] = _draw(rng, t["skin_color"], skin)
    for attr in ("top", "hair_color", "facial_hair", "accessory", "clothing", "clothing_color"):
        out[attr] = _draw(rng, t[attr], cell)
    out["style"] = _choice(rng, "style", n)
    out["background"] = _choice(rng, "background", n)
    out["hat_color"] = _choice(rng, "hat_color", n)
    for attr in ("eyebrows", "eyes", "nose", "mouth"):
        out[attr] = _choice(rng, attr, n, _CHOICE_WEIGHTS[attr])
    graphic = 1 + rng.integers(0, len(ATTRIBUTES["shirt_graphic"]) - 1, n)  # never "none"
    is_graphic = out["clothing"] == idx["clothing"]["graphic_shirt"]
    out["shirt_graphic"] = np.where(is_graphic, graphic, 0)

    # Beards match the hair (grey with grey), except that nobody dyes a beard pastel.
    hc = out["hair_color"]
    pastel = np.isin(hc, [idx["hair_color"]["pastel_pink"], idx["hair_color"]["pastel_blue"]])
    out["facial_hair_color"] = np.where(pastel, idx["hair_color"]["brown_dark"], hc)

    # Drop what the chosen top cannot draw, so a row's attributes describe its picture.
    beard, glasses = _slots()
    tops = np.array(ATTRIBUTES["top"])[out["top"]]
    out["facial_hair"] = np.where(np.isin(tops, list(beard)), out["facial_hair"], 0)
    out["accessory"] = np.where(np.isin(tops, list(glasses)), out["accessory"], 0)
    return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}


# --- rendering ---------------------------------------------------------------------------

# python-avatars draws on a 264x280 canvas; a square around the head (cutting most of the
# torso) keeps the face large at 64 px. Face centre is ~(132, 130) in canvas units.
CROP = (22.0, 14.0, 220.0)  # x, y, side in canvas units
# Render at SUPERSAMPLE x size, then LANCZOS down. Measured at 64 px: 2x is ~12% more edge
# contrast (Lanczos sharpens) but looks the same and halves the rate; resvg's own
# anti-aliasing at 1x is within 2/255 mean of a 4x render.
SUPERSAMPLE = 1
_ROOT_SIZE = re.compile(r'width="264px" height="280px" viewBox="0 0 264 280"')
# In python-avatars 1.4 the circle style's colour sits on an empty-fill group drawn over
# Background-Color, so every circle comes out black; fill that group instead.
_CIRCLE_FILL = re.compile(r'(id="circle_Fabric-Color"[^>]*?fill=)""')


def _top(name: str) -> pa.HairType | pa.HatType:
    if name in HATS:
        return pa.HatType[_HAT_MEMBER.get(name, name.upper())]
    return pa.HairType["NONE" if name == "no_hair" else name.upper()]


def _member(enum_cls, name: str):
    return enum_cls["NONE" if name == "none" else name.upper()]


def _avatar(labels: dict[str, np.ndarray], i: int) -> pa.Avatar:
    v = {k: ATTRIBUTES[k][int(labels[k][i])] for k in ATTRIBUTES}
    return pa.Avatar(
        style=pa.AvatarStyle[v["style"].upper()],
        background_color=BACKGROUNDS[v["background"]],
        top=_top(v["top"]),
        hat_color=pa.ClothingColor[v["hat_color"].upper()].value,
        eyebrows=_member(pa.EyebrowType, v["eyebrows"]),
        eyes=_member(pa.EyeType, v["eyes"]),
        nose=_member(pa.NoseType, v["nose"]),
        mouth=_member(pa.MouthType, v["mouth"]),
        facial_hair=_member(pa.FacialHairType, v["facial_hair"]),
        skin_color=pa.SkinColor[v["skin_color"].upper()].value,
        hair_color=HAIR_COLORS[v["hair_color"]],
        facial_hair_color=HAIR_COLORS[v["facial_hair_color"]],
        accessory=_member(pa.AccessoryType, v["accessory"]),
        clothing=_member(pa.ClothingType, v["clothing"]),
        clothing_color=pa.ClothingColor[v["clothing_color"].upper()].value,
        shirt_graphic=_member(pa.ClothingGraphic, v["shirt_graphic"]),
    )


def svg(labels: dict[str, np.ndarray], i: int) -> str:
    """Row i as a square SVG (cropped around the head), ready for any renderer."""
    s = _avatar(labels, i).render()
    x, y, side = CROP
    s, found = _ROOT_SIZE.subn(
        f'width="{side}" height="{side}" viewBox="{x} {y} {side} {side}"', s, 1
    )
    if not found:  # a python-avatars release with another canvas: CROP needs a new look
        raise RuntimeError("python-avatars SVG root is not the 264x280 canvas CROP assumes")
    bg = BACKGROUNDS[ATTRIBUTES["background"][int(labels["background"][i])]]
    return _CIRCLE_FILL.sub(rf'\g<1>"{bg}"', s, 1)


def render(labels: dict[str, np.ndarray], i: int, size: int) -> np.ndarray:
    """Row i of sample_labels' output as a size x size x 3 uint8 image."""
    style = ATTRIBUTES["style"][int(labels["style"][i])]
    bg = BACKGROUNDS[ATTRIBUTES["background"][int(labels["background"][i])]]
    px = size * SUPERSAMPLE
    png = resvg_py.svg_to_bytes(
        svg_string=svg(labels, i),
        width=px,
        height=px,
        background=bg if style == "transparent" else CANVAS,
        skip_system_fonts=True,  # no text is drawn; loading fonts costs time per call
    )
    im = Image.open(io.BytesIO(png)).convert("RGB")  # resvg-py 0.5: RGBA PNG bytes
    if im.size != (size, size):
        im = im.resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(im, dtype=np.uint8)


# --- the builtin corpus: pool + disk cache -----------------------------------------------

_worker: dict = {}


def _init_worker(labels: dict[str, np.ndarray], size: int) -> None:
    _worker.update(labels=labels, size=size)


def _render_rows(span: tuple[int, int]) -> tuple[int, np.ndarray]:
    start, stop = span
    labels, size = _worker["labels"], _worker["size"]
    return start, np.stack([render(labels, i, size) for i in range(start, stop)])


def render_all(labels: dict[str, np.ndarray], size: int, workers: int = 2) -> np.ndarray:
    """Every row rendered, in row order whatever the number of workers."""
    n = len(labels["gender"])
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    chunk = max(8, min(128, math.ceil(n / (max(workers, 1) * 8))))
    spans = [(s, min(s + chunk, n)) for s in range(0, n, chunk)]
    # A daemon process (e.g. inside another pool) may not start children: render here.
    if workers <= 1 or len(spans) == 1 or mp.current_process().daemon:
        _init_worker(labels, size)
        for span in spans:
            start, block = _render_rows(span)
            images[start : start + len(block)] = block
        return images
    # fork: children start in ms and share the label arrays. But forking a process that runs
    # other threads (Prefect's, torch's) can copy a held lock into the child and hang it
    # (seen here: a train-avatars flow deadlocked), so then pay for spawn.
    single = threading.active_count() == 1
    method = "fork" if single and "fork" in mp.get_all_start_methods() else "spawn"
    ctx = mp.get_context(method)
    with ctx.Pool(workers, initializer=_init_worker, initargs=(labels, size)) as pool:
        for start, block in pool.imap_unordered(_render_rows, spans):
            images[start : start + len(block)] = block
    return images


def cache_path(n: int, size: int, seed: int, cache_dir: Path | None = None) -> Path:
    root = cache_dir or cache_root()
    versions = f"pa{metadata.version('python-avatars')}-resvg{metadata.version('resvg-py')}"
    return Path(root) / f"avatars-v{CORPUS_VERSION}-{versions}-n{n}-s{size}-seed{seed}.npz"


def _save(path: Path, corpus: Corpus) -> None:
    # A concurrent or killed build never leaves a half-written cache for the next run to trust.
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        arrays = {f"label_{k}": v for k, v in corpus.labels.items()}
        # Flat cartoon colours deflate ~8x; loading 3,000 at 64 px takes 0.13 s, not 0.09 s.
        np.savez_compressed(
            f, images=corpus.images, description=np.array(corpus.description), **arrays
        )


def _load(path: Path, n: int, size: int) -> Corpus | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            images = z["images"]
            labels = {k[len("label_") :]: z[k] for k in z.files if k.startswith("label_")}
            description = str(z["description"])
    except (OSError, ValueError, KeyError, EOFError):
        return None  # missing, truncated or foreign: rebuild it
    want = set(CONDITIONS) | set(ATTRIBUTES)
    if (images.shape != (n, size, size, 3) or images.dtype != np.uint8 or set(labels) != want
            or any(v.shape != (n,) for v in labels.values())):  # fmt: skip
        return None
    return Corpus(images, labels, description)


def _describe(labels: dict[str, np.ndarray], n: int, size: int, seed: int) -> str:
    idx = {k: {v: i for i, v in enumerate(vs)} for k, vs in ATTRIBUTES.items()}
    male = labels["gender"] == CONDITIONS["gender"].index("male")
    female = ~male
    old = labels["age_band"] == len(CONDITIONS["age_band"]) - 1
    grey = np.isin(labels["hair_color"], [idx["hair_color"][g] for g in GREY])
    beard = labels["facial_hair"] != 0
    long_ = np.isin(np.array(ATTRIBUTES["top"])[labels["top"]], TOPS_LONG)

    def share(mask, of):
        return f"{mask[of].mean():.0%}" if of.any() else "n/a"

    return (
        f"{n:,} synthetic cartoon faces drawn with python-avatars "
        f"{metadata.version('python-avatars')} and rendered with resvg at {size}x{size} px "
        f"(profilegen avatar corpus v{CORPUS_VERSION}, seed {seed}). Conditions: gender "
        f"uniform over female/male, age_band uniform over {'/'.join(CONDITIONS['age_band'])}, "
        "skin light/medium/dark about 40/35/25%. Visual attributes are drawn to match the "
        "conditions the way profile pictures look: friendly expressions, plain backgrounds, "
        f"grey hair mostly at 65+ ({share(grey, old)} of 65+ here), facial hair on "
        f"{share(beard, male)} of men and no women, long hair on {share(long_, female)} of "
        "women, glasses more common with age. No real person is depicted."
    )


def build_corpus(
    n: int, size: int, seed: int, cache_dir: Path | None = None, workers: int = 2
) -> Corpus:
    """The builtin starter corpus: n avatars at size px, identical for the same seed."""
    if n < 1:
        raise ProfilegenError(f"corpus size must be at least 1, got {n}")
    if size < 8:
        raise ProfilegenError(f"image size must be at least 8 px, got {size}")
    path = cache_path(n, size, seed, cache_dir)
    cached = _load(path, n, size)
    if cached is not None:
        return cached
    # A stream of its own: other parts of a run seeded with the same number stay independent.
    rng = np.random.default_rng([seed, 0xA7A7A5])
    labels = sample_labels(rng, n)
    corpus = Corpus(render_all(labels, size, workers), labels, _describe(labels, n, size, seed))
    try:
        _save(path, corpus)
    except OSError:
        pass  # a read-only cache dir only costs the rebuild next time
    return corpus


# --- the user's photos ---------------------------------------------------------------------

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
LABELS_CSV = "labels.csv"


def _read_labels_csv(path: Path) -> dict[str, dict[str, int]]:
    """labels.csv -> {relative posix path: {condition: label}}; blank cells are left out."""
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: Excel's BOM
        reader = csv.DictReader(f)
        cols = [c.strip() for c in reader.fieldnames or []]
        if "filename" not in cols:
            raise ProfilegenError(f"{path}: needs a 'filename' column (got {', '.join(cols)})")
        for c in cols:
            if c != "filename" and c not in CONDITIONS:
                raise ProfilegenError(
                    f"{path}: unknown column '{c}' (expected filename, {', '.join(CONDITIONS)})"
                )
        out: dict[str, dict[str, int]] = {}
        for row in reader:
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            line = reader.line_num
            if not row["filename"]:
                raise ProfilegenError(f"{path} line {line}: empty filename")
            name = Path(row["filename"].replace("\\", "/")).as_posix()  # also drops "./"
            if name in out:
                raise ProfilegenError(f"{path} line {line}: '{name}' is listed twice")
            out[name] = {}
            for key in CONDITIONS:
                value = row.get(key, "")
                if not value:
                    continue
                if value not in CONDITIONS[key]:
                    raise ProfilegenError(
                        f"{path} line {line}: unknown {key} '{value}' "
                        f"(expected one of {', '.join(CONDITIONS[key])})"
                    )
                out[name][key] = CONDITIONS[key].index(value)
    return out


def _open_square(path: Path, size: int) -> tuple[Image.Image | None, tuple[int, int]]:
    """(centre-cropped RGB image at size px, original size), or (None, size) if too small."""
    with Image.open(path) as im:
        full = im.size
        if min(full) < size:
            return None, full
        im.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, still >= size
        im = ImageOps.exif_transpose(im)  # phone photos are stored sideways + an EXIF flag
        if im.mode in ("RGBA", "LA", "P"):
            im = im.convert("RGBA")
            flat = Image.new("RGBA", im.size, "white")  # transparent -> white, not black
            im = Image.alpha_composite(flat, im)
        im = ImageOps.fit(im.convert("RGB"), (size, size), Image.Resampling.LANCZOS)
        return im, full


def load_folder(path: Path, size: int) -> Corpus:
    """Every jpg/jpeg/png under path (recursive, sorted), centre-cropped to size x size RGB.

    Labels come from an optional labels.csv at the folder root: a `filename` column (path
    relative to the folder) and any of the CONDITIONS columns, with values written as label
    names (gender=female, age_band=25-44). Images it does not list, and blank cells, get
    label -1 (unknown); without labels.csv every label is -1. Hidden files are ignored;
    unreadable images are skipped (with a warning) unless none are readable.
    """
    root = Path(path)
    if not root.exists():
        raise ProfilegenError(f"image folder not found: {root}")
    if not root.is_dir():
        raise ProfilegenError(f"not a folder: {root}")
    files = sorted(
        (p for p in root.rglob("*") if p.is_file()
         and not any(part.startswith(".") for part in p.relative_to(root).parts)),
        key=lambda p: p.relative_to(root).as_posix(),
    )  # fmt: skip
    labels_csv = root / LABELS_CSV
    files = [p for p in files if p != labels_csv]
    if not files:
        raise ProfilegenError(f"image folder is empty: {root}")
    table = _read_labels_csv(labels_csv) if labels_csv.is_file() else {}

    names = {p.relative_to(root).as_posix() for p in files}
    missing = sorted(set(table) - names)
    if missing:
        raise ProfilegenError(
            f"{labels_csv}: {len(missing)} listed file(s) not in the folder, e.g. '{missing[0]}'"
        )

    images, kept = [], []
    not_images, corrupt, small = 0, 0, []
    for p in files:
        if p.suffix.lower() not in IMAGE_SUFFIXES:
            not_images += 1
            continue
        try:
            im, full = _open_square(p, size)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            corrupt += 1  # includes PIL.UnidentifiedImageError (an OSError)
            continue
        if im is None:
            small.append((min(full), full, p.relative_to(root).as_posix()))
            continue
        images.append(np.asarray(im, dtype=np.uint8))
        kept.append(p.relative_to(root).as_posix())

    if small:
        _, (w, h), name = min(small)
        raise ProfilegenError(
            f"{len(small)} image(s) in {root} are smaller than {size} px on their short side "
            f"(smallest: {name}, {w}x{h}); use a smaller image size or remove them"
        )
    skipped = ", ".join(
        f"{k} {why}" for k, why in ((not_images, "not images"), (corrupt, "corrupt")) if k
    )
    if not images:
        raise ProfilegenError(f"0 readable images in {root}: {skipped}")
    if skipped:
        warnings.warn(f"skipped files in {root}: {skipped}", stacklevel=2)

    labels = {k: np.full(len(kept), -1, dtype=np.int64) for k in CONDITIONS}
    for i, name in enumerate(kept):
        for k, v in table.get(name, {}).items():
            labels[k][i] = v
    n_labelled = sum(1 for name in kept if table.get(name))
    # The folder's name only: a model card should not carry the user's home path.
    description = (
        f"{len(kept):,} images from the folder {root.resolve().name!r} (jpg/jpeg/png, "
        f"centre-cropped and resized to {size}x{size} px with Lanczos)"
        + (f"; skipped {skipped}" if skipped else "")
        + (f"; {n_labelled:,} with labels from {LABELS_CSV}" if table else "; no labels")
        + "."
    )
    return Corpus(np.stack(images), labels, description)
