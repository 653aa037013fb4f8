"""`report.html` of a finished dataset: what is in it, section by section.

Everything comes from the dataset itself: the manifest (rows, tables, each stage's metrics),
the shards' `profilegen` schema metadata (seed, config, versions, model checksums), and
streaming passes over the Parquet files (pipeline.report.scan). Nothing depends on the
clock or the machine, so the same dataset gives the same bytes.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from pipeline.dataset.storage import Store, open_store
from pipeline.dataset.writer import PROFILES, Location, read_manifest, read_shard_schema
from pipeline.errors import ProfilegenError
from pipeline.report import figures as fig
from pipeline.report import html as h
from pipeline.report import scan
from pipeline.report.scan import BAND_NAMES, THUMBS_PER_GROUP, PostStats, ProfileStats

REPORT = "report.html"
DETECTOR = "detector.json"  # written by `profilegen eval-detector`; shown when present
THUMB = 48  # px per avatar thumbnail in the contact sheet
TOP_OCCUPATIONS = 15
# Shown elsewhere: the gate's rejects as their own table, the hour shares as a plot.
SKIP_METRICS = ("rejects", "local_hour_shares")


@dataclass
class Dataset:
    store: Store
    manifest: dict[str, Any]
    prov: dict[str, Any]
    columns: list[str]

    def files(self, table: str = PROFILES) -> list[str]:
        if table == PROFILES:
            return [s["file"] for s in self.manifest["shards"]]
        return [s["tables"][table]["file"] for s in self.manifest["shards"]]

    @property
    def tables(self) -> dict[str, int]:
        return {PROFILES: self.manifest["rows"], **self.manifest.get("tables", {})}

    def metrics(self, stage: str) -> dict[str, Any]:
        return self.manifest.get("metrics", {}).get(stage) or {}


def open_dataset(out: Location) -> Dataset:
    store = open_store(out)
    manifest = read_manifest(store)
    if not manifest.get("shards"):
        raise ProfilegenError(f"{store.url}/manifest.json lists no shards")
    schema = read_shard_schema(store, manifest["shards"][0]["file"])
    meta = schema.metadata or {}
    if b"profilegen" not in meta:
        raise ProfilegenError(f"{store.url}: its shards carry no profilegen metadata")
    return Dataset(store, manifest, json.loads(meta[b"profilegen"]), schema.names)


def build_report(out: Location, validation: list | None = None) -> tuple[str, dict[str, Any]]:
    """(the page's HTML, a short summary for logs and artifacts). `validation`: the checks
    of pipeline.dataset.validate when the caller ran them (they read the whole table)."""
    ds = open_dataset(out)
    tables = ds.tables
    need_users = "posts" in tables or (
        "follows" in tables and "followers_in_dataset" not in ds.columns
    )
    p = scan.scan_profiles(ds.store, ds.files(), need_users)
    if "follows" in tables and "followers_in_dataset" not in p.columns:
        scan.degrees_from_follows(ds.store, ds.files("follows"), p)
    posts = scan.scan_posts(ds.store, ds.files("posts"), p) if "posts" in tables else None
    detector = _detector(ds.store)
    shapes = column_shapes(ds, p)
    sections = [
        ("overview", "Overview", overview(ds, validation)),
        ("people", "People", people(ds, p)),
        ("faces", "Faces", faces(ds, p)),
        ("words", "Words", words(ds, p, posts)),
        ("network", "Network", network(ds, p)),
        ("activity", "Activity", activity(ds, p, posts)),
        ("accounts", "Accounts", accounts(p, detector)),
        ("shapes", "Column shapes", shapes_section(ds, p, shapes)),
    ]
    # Not the folder's path: a dataset's bytes (its report's too) don't depend on where it is.
    title = f"profilegen report: {ds.manifest['rows']:,} profiles"
    sub = (
        f"{ds.manifest['rows']:,} profiles, seed {ds.prov.get('seed')}, reference date "
        f"{ds.prov.get('reference_date')}, config {ds.manifest.get('config_hash')}"
    )
    failed = [c.name for c in validation or [] if not c.ok]
    summary = {
        "rows": ds.manifest["rows"],
        "tables": tables,
        "sections": [k for k, _, _ in sections],
        "shape_scores": {k: round(v["score"], 4) for k, v in shapes.items()},
        "validation": None if validation is None else {"checks": len(validation), "failed": failed},
    }
    return h.page(title, sub, sections), summary


def write_report(out: Location, validate: bool = False) -> dict[str, Any]:
    """Write `out`/report.html atomically (through the store); return the summary with the
    report's path and size. validate: also run the dataset's validation checks (they load
    the whole profiles table: not bounded in memory)."""
    store = open_store(out)
    checks = None
    try:
        if validate:
            from pipeline.dataset.validate import validate_dataset

            checks = validate_dataset(store)
        page, summary = build_report(store, checks)
    except (OSError, pa.ArrowException) as e:  # a truncated or foreign file: one line
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ProfilegenError(f"cannot read the dataset {store.url}: {first}") from None
    data = page.encode()
    store.put_bytes(REPORT, data)
    return {**summary, "path": f"{store.url.rstrip('/')}/{REPORT}", "bytes": len(data)}


# ---- sections ----------------------------------------------------------------------------


def overview(ds: Dataset, validation: list | None) -> str:
    prov, m = ds.prov, ds.manifest
    body = h.cards(
        [
            ("profiles", m["rows"]),
            *((f"{t} rows", n) for t, n in ds.tables.items() if t != PROFILES),
            ("shards", len(m["shards"])),
            ("seed", prov.get("seed")),
            ("reference date", prov.get("reference_date")),
        ]
    )
    body += h.table(
        ("table", "rows", "files"),
        [(t, n, f"data/{t}/ ({len(m['shards'])} shards)") for t, n in ds.tables.items()],
    )
    models = prov.get("models") or {}
    if models:
        body += "<h3>Models</h3>" + h.table(
            ("used for", "name", "sha256", "device", "dtype"),
            [
                (
                    k,
                    v.get("name") or v.get("arch"),
                    v.get("sha256"),
                    v.get("device"),
                    v.get("dtype"),
                )
                for k, v in sorted(models.items())
            ],
        )
    else:
        body += h.note("No models: this dataset was made without avatars, LM bios or LM posts.")
    body += "<h3>Validation</h3>"
    if validation is None:
        body += h.note(
            "Not run for this report (run `profilegen report DIR --validate` or "
            "`profilegen inspect DIR`)."
        )
    else:
        bad = [c for c in validation if not c.ok]
        body += (
            f'<p class="warn">{len(bad)} of {len(validation)} checks failed</p>'
            if bad
            else f'<p class="ok">all {len(validation)} checks passed</p>'
        )
        rows = [
            (c.name, "ok" if c.ok else "FAIL", c.detail)
            for c in bad + [c for c in validation if c.ok]
        ]
        body += h.details("every check", h.table(("check", "result", "detail"), rows))
    body += "<h3>Time</h3>" + h.note(
        "The generation time is not part of the dataset (its bytes are reproducible); the "
        "Prefect run's profiles-report artifact records it."
    )
    body += "<h3>Provenance</h3>"
    body += h.details(
        f"package versions ({len(prov.get('versions', {}))})", h.kv_table(prov.get("versions", {}))
    )
    body += h.details(
        "full config (config hash " + str(m.get("config_hash")) + ")",
        h.pre_json(prov.get("config", {})),
    )
    return body


def people(ds: Dataset, p: ProfileStats) -> str:
    target = (ds.prov.get("config") or {}).get("locales")
    figs = [
        (fig.age_pyramid(p.age_by_gender), "age pyramid by gender"),
        (fig.bars(p.locales, "Locales", target=target), "locale shares"),
        (fig.bars(p.countries, "Countries (top 25)"), "country shares"),
    ]
    body = h.cards(
        [
            ("profiles", p.rows),
            ("locales", len(p.locales)),
            ("countries", len(p.countries)),
            *((f"{g}", int(v.sum())) for g, v in sorted(p.age_by_gender.items())),
        ]
    )
    if p.cells.any():
        figs.insert(1, (fig.world_map(p.cells), "map of the profiles' cities"))
    else:
        body += h.note("No latitude/longitude columns: no map.")
    if any(p.occupations):
        top = Counter()
        for c in p.occupations:
            top.update(c)
        names = [k for k, _ in sorted(top.items(), key=lambda kv: (-kv[1], kv[0]))]
        names = names[:TOP_OCCUPATIONS]
        mat = np.array([[c[n] / (sum(c.values()) or 1) for c in p.occupations] for n in names])
        figs.append(
            (
                fig.heatmap(
                    mat,
                    names,
                    BAND_NAMES,
                    "Occupations by age band (share of the band)",
                    xlabel="age band",
                ),
                "occupations by age band",
            )
        )
    if p.interests:
        figs.append(
            (
                fig.bars(p.interests, "Interests (top 25)", xlabel="share of all interests"),
                "interest shares",
            )
        )
    return body + h.figures(*figs)


def faces(ds: Dataset, p: ProfileStats) -> str:
    if "avatar_attributes" not in p.columns or not p.avatars.best:
        return h.note("No avatars in this dataset (generated with --avatars none).")
    from pipeline.avatars.conditions import CONDITIONS

    groups = p.avatars.rows()
    order = sorted(
        groups,
        key=lambda g: tuple(
            CONDITIONS[k].index(v) if v in CONDITIONS[k] else 99
            for k, v in zip(("gender", "age_band", "skin"), g, strict=True)
        ),
    )
    picks = [pos for g in order for pos in groups[g]]
    pngs = scan.fetch_avatars(ds.store, ds.files(), picks)
    images = [_decode(b) for b in pngs]
    readback = _read_back(images, [g for g in order for _ in groups[g]])
    rows, at = [], 0
    for g in order:
        n = len(groups[g])
        mine = images[at : at + n]
        strip = _strip([im for im in mine if im is not None][:THUMBS_PER_GROUP])
        rb = readback[at : at + n] if readback is not None else None
        at += n
        cells = [" · ".join(g), img_or_blank(strip)]
        if rb is not None:
            ok, read = _agree(rb)
            cells.append(f"gender {ok[0]:.0%}, age band {ok[1]:.0%}, skin {ok[2]:.0%} (n={read})")
        rows.append(cells)
    head = ["gender · age band · skin (the conditions)", "sample"]
    if readback is not None:
        head.append("attribute read-back: classifier agrees with the condition")
    body = h.note(
        f"Avatars of a sample: up to {THUMBS_PER_GROUP} per group shown, read back "
        f"on up to {scan.READBACK_PER_GROUP} per group by the attribute classifier "
        "(models/attribute-net-64; its own held-out accuracy is ~93% gender, ~51% "
        "age band, ~99% skin)."
    )
    body += _sheet(head, rows)
    if readback is not None:
        ok, read = _agree(readback)
        body += h.cards(
            [
                ("avatars read back", read),
                ("gender read back", f"{ok[0]:.0%}"),
                ("age band read back", f"{ok[1]:.0%}"),
                ("skin read back", f"{ok[2]:.0%}"),
            ]
        )
    model = _model_eval(ds)
    if model:
        body += "<h3>The avatar model's own evaluation (eval.json of its checkpoint)</h3>"
        body += h.kv_table(model)
    body += h.kv_table(ds.metrics("avatars")) if ds.metrics("avatars") else ""
    return body


def img_or_blank(uri: str | None) -> str:
    return h.img(uri, "avatars") if uri else "–"


def _sheet(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{c}</th>" for c in head)
    tr = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="sheet"><thead><tr>{th}</tr></thead><tbody>{tr}</tbody></table>'


def _decode(data: bytes | None):
    from PIL import Image

    if not data:
        return None
    try:
        im = Image.open(io.BytesIO(data))
        return im.convert("RGB")
    except Exception:  # a broken avatar is validation's business; the sheet skips it
        return None


def _strip(images: list) -> str | None:
    """One PNG of THUMB px thumbnails side by side."""
    if not images:
        return None
    import base64

    from PIL import Image

    sheet = Image.new("RGB", (THUMB * len(images) + 2 * (len(images) - 1), THUMB), "white")
    for i, im in enumerate(images):
        sheet.paste(im.resize((THUMB, THUMB), Image.Resampling.LANCZOS), (i * (THUMB + 2), 0))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _read_back(images: list, wanted: list[tuple[str, str, str]]) -> list | None:
    """Per image: does the attribute classifier read the condition it was made for?
    (gender, age band, skin) booleans, None for an image that is missing or broken; None
    for all when the shipped classifier is not there."""
    from pipeline.avatars.conditions import CONDITIONS
    from pipeline.avatars.evaluate import SHIPPED_NET

    keep = [i for i, im in enumerate(images) if im is not None]
    if not SHIPPED_NET.is_dir() or not keep:
        return None
    from pipeline.avatars.metrics import AttributeNet, predict

    arr = np.stack([np.asarray(images[i].resize((64, 64))) for i in keep])
    pred = predict(AttributeNet.from_pretrained(SHIPPED_NET), arr)
    out: list = [None] * len(images)
    for j, i in enumerate(keep):
        out[i] = [
            bool(w in CONDITIONS[k] and pred[k][j] == CONDITIONS[k].index(w))
            for k, w in zip(("gender", "age_band", "skin"), wanted[i], strict=True)
        ]
    return out


def _agree(readback: list) -> tuple[np.ndarray, int]:
    """(share agreeing per attribute, images read) over the images that were read."""
    read = [r for r in readback if r is not None]
    return (np.array(read, dtype=float).mean(axis=0) if read else np.zeros(3)), len(read)


def _model_eval(ds: Dataset) -> dict[str, Any]:
    """The shipped checkpoint's eval.json when the dataset's avatars came from it."""
    from pipeline.avatars.stage import DEFAULT_CHECKPOINT
    from pipeline.core.weights import checkpoint_sha256

    want = ((ds.prov.get("models") or {}).get("avatar") or {}).get("sha256")
    path = DEFAULT_CHECKPOINT / "eval.json"
    try:
        if not want or not path.is_file() or checkpoint_sha256(DEFAULT_CHECKPOINT) != want:
            return {}
        ev = json.loads(path.read_text())
    except (OSError, ValueError, ProfilegenError):
        return {}
    keys = (
        "kid",
        "fid",
        "precision",
        "recall",
        "density",
        "coverage",
        "attr_acc_gender",
        "attr_acc_age_band",
        "attr_acc_skin",
        "near_copy_fraction",
        "feature_space",
    )
    return {k: ev[k] for k in keys if k in ev}


def words(ds: Dataset, p: ProfileStats, posts: PostStats | None) -> str:
    body = ""
    if "bio" in p.columns:
        rows = [
            (loc, _who(r), r["bio"], r["source"]) for loc, rs in p.bios.rows().items() for r in rs
        ]
        body += _texts("bios", p.bio_sources, ("locale", "row", "bio", "source"), rows, ds)
        body += h.figures((fig.length_hist(p.bio_chars, "Bio length", 160), "bio lengths"))
    else:
        body += h.note("No bios in this dataset (generated with --bios none).")
    if posts is not None:
        rows = [
            (loc, r["kind"], r["text"], r["source"])
            for loc, rs in posts.samples.rows().items()
            for r in rs
        ]
        body += _texts("posts", posts.sources, ("locale", "kind", "text", "source"), rows, ds)
    else:
        body += h.note("No posts table (generated with --posts none).")
    rejects = _rejects(ds)
    if rejects:
        kinds = sorted(rejects)
        reasons = sorted(
            {r for v in rejects.values() for r in v},
            key=lambda r: -sum(v.get(r, 0) for v in rejects.values()),
        )
        body += "<h3>Quality gate: why tries were rejected (then resampled)</h3>"
        body += h.table(
            ("reason", *kinds), [(r, *(rejects[k].get(r, 0) for k in kinds)) for r in reasons]
        )
    elif "bio" in p.columns or posts is not None:
        body += h.note(
            "The quality gate rejected nothing (or this dataset's texts are all "
            "templates, which it does not judge)."
        )
    return body


def _texts(stage: str, sources: Counter, header: tuple[str, ...], rows: list, ds: Dataset) -> str:
    """A text column's sources, its sample per locale, and its stage's metrics."""
    body = f"<h3>{stage.capitalize()}</h3>"
    body += h.cards([(f"source {k}", v) for k, v in sorted(sources.items())])
    per = "author locale" if stage == "posts" else "locale"
    body += h.details(
        f"sample: {scan.SAMPLE_PER_LOCALE} {stage} per {per} ({len(rows)})",
        h.table(header, rows),
        open_=True,
    )
    metrics = {k: v for k, v in ds.metrics(stage).items() if k not in SKIP_METRICS}
    if metrics:
        body += h.details(
            f"{stage} metrics (the {stage} stage, on the written dataset)", h.kv_table(metrics)
        )
    return body


def _who(r: dict[str, Any]) -> str:
    parts = [str(r[k]) for k in ("age", "occupation", "city", "country_code") if r.get(k)]
    return ", ".join(parts)


def _rejects(ds: Dataset) -> dict[str, dict[str, int]]:
    """Gate reject reasons per text kind (bios, posts), summed over the shards' receipts."""
    out: dict[str, Counter] = {}
    for s in ds.manifest["shards"]:
        for kind in ("bios", "posts"):
            for reason, n in ((s.get(kind) or {}).get("rejects") or {}).items():
                out.setdefault(kind, Counter())[reason] += n
    return {k: dict(v) for k, v in out.items() if v}


GRAPH_CARDS = (
    ("edges", "follows"),
    ("mean_out_degree", "mean out-degree"),
    ("reciprocity", "reciprocity"),
    ("avg_clustering", "avg clustering"),
    ("same_country_ratio", "same country × random"),
    ("same_city_ratio", "same city × random"),
    ("age_assortativity", "age assortativity"),
    ("in_degree_tail_alpha", "in-degree tail α"),
)


def network(ds: Dataset, p: ProfileStats) -> str:
    if "follows" not in ds.tables:
        return h.note("No follows table (generated with --follows none).")
    gm = ds.metrics("graph")
    body = h.cards([(label, gm[k]) for k, label in GRAPH_CARDS if k in gm])
    fits = {
        d: {"alpha": gm.get(f"{d}_degree_tail_alpha"), "x_min": gm.get(f"{d}_degree_tail_x_min")}
        for d in ("in", "out")
    }
    figs = [
        (
            fig.degree_ccdfs(
                {"in-degree": (p.in_degree, fits["in"]), "out-degree": (p.out_degree, fits["out"])},
                "Degree CCDFs (log-log)",
            ),
            "degree CCDFs",
        )
    ]
    reasons = Counter(
        {
            k[len("reason_") : -len("_share")]: v
            for k, v in gm.items()
            if k.startswith("reason_") and k.endswith("_share")
        }
    )
    if reasons:
        figs.append(
            (
                fig.bars(reasons, "Why each follow exists", xlabel="share of follows"),
                "follow reasons",
            )
        )
    body += h.figures(*figs)
    if gm:
        body += h.details("graph metrics (the graph stage, on the written dataset)", h.kv_table(gm))
    return body


def activity(ds: Dataset, p: ProfileStats, posts: PostStats | None) -> str:
    if posts is None:
        return h.note("No posts table (generated with --posts none).")
    per_user = np.bincount(posts.per_user)
    body = h.cards(
        [
            ("posts", posts.posts),
            *((k, v) for k, v in sorted(posts.kinds.items())),
            ("users who posted", int((posts.per_user > 0).sum())),
            ("median posts per user", float(np.median(posts.per_user))),
        ]
    )
    body += h.figures(
        (fig.week_hours(posts.week_hour), "posts per local hour and weekday"),
        (fig.counts_ccdf(per_user, "Posts per user", "posts in the dataset"), "posts per user"),
    )
    return body


def accounts(p: ProfileStats, detector: Any) -> str:
    body = ""
    if p.account_types:
        body += h.figures((fig.bars(p.account_types, "Account types"), "account types"))
        body += h.table(
            ("account_type", "profiles", "decoys"),
            [(k, v, p.decoys.get(k, 0)) for k, v in sorted(p.account_types.items())],
        )
    else:
        body += h.note("No account_type column: every profile is an ordinary account.")
    if p.splits:
        body += "<h3>Splits</h3>" + h.table(("split", "profiles"), sorted(p.splits.items()))
    if p.type_by_split:
        splits = sorted({s for _, s in p.type_by_split}, key=str)
        types = sorted({t for t, _ in p.type_by_split}, key=str)
        body += h.table(
            ("account_type", *map(str, splits)),
            [(t, *(p.type_by_split.get((t, s), 0) for s in splits)) for t in types],
        )
    if p.campaigns:
        body += "<h3>Campaigns</h3>" + h.cards(
            [("campaigns", len(p.campaigns)), ("accounts in campaigns", sum(p.campaigns.values()))]
        )
        top = sorted(p.campaigns.items(), key=lambda kv: (-kv[1], str(kv[0])))[:20]
        body += h.details("largest campaigns", h.table(("campaign_id", "accounts"), top))
    body += "<h3>Detector</h3>"
    if detector is None:
        body += h.note(
            f"No {DETECTOR} in the dataset folder (written by the detector "
            "evaluation when it is run)."
        )
    else:
        body += _json_tables(detector)
    return body


def _detector(store: Store) -> Any:
    if not store.is_file(DETECTOR):
        return None
    try:
        return json.loads(store.read_bytes(DETECTOR))
    except (OSError, ValueError):
        return {"error": f"{DETECTOR} is not valid JSON"}


def _json_tables(obj: Any, depth: int = 0) -> str:
    """Any JSON as tables: scalars as metric/value rows, lists of objects as tables, nested
    objects as their own headed blocks (the detector's format is its own)."""
    if isinstance(obj, list):
        if obj and all(isinstance(r, dict) for r in obj):
            cols = sorted({k for r in obj for k in r})
            return h.table(cols, [[r.get(c) for c in cols] for r in obj])
        return h.pre_json(obj)
    if not isinstance(obj, dict):
        return h.note(h.fmt(obj))
    scalars = {k: v for k, v in obj.items() if not isinstance(v, dict | list)}
    out = h.kv_table(scalars) if scalars else ""
    for k, v in obj.items():
        if isinstance(v, dict | list):
            inner = _json_tables(v, depth + 1) if depth < 3 else h.pre_json(v)
            out += f"<h3>{h.escape(str(k))}</h3>{inner}"
    return out


# ---- column shapes -----------------------------------------------------------------------


def tv_complement(observed: dict[Any, float], target: dict[Any, float]) -> float:
    """SDMetrics' TVComplement: 1 - total variation distance of two categorical
    distributions (1 = the same shares, 0 = disjoint)."""
    so, st = sum(observed.values()) or 1, sum(target.values()) or 1
    keys = set(observed) | set(target)
    return 1 - 0.5 * sum(abs(observed.get(k, 0) / so - target.get(k, 0) / st) for k in keys)


def column_shapes(ds: Dataset, p: ProfileStats) -> dict[str, dict[str, Any]]:
    """Columns with a configured target: score 0-1 and what it compares."""
    cfg = ds.prov.get("config") or {}
    out: dict[str, dict[str, Any]] = {}
    if "age_min" in cfg and "age_max" in cfg:
        from pipeline.identity.engine import age_pmf

        lo, hi = int(cfg["age_min"]), int(cfg["age_max"])
        ages = sum(p.age_by_gender.values())
        obs = {a: int(ages[a]) for a in range(len(ages)) if ages[a]}
        tgt = dict(zip(range(lo, hi + 1), age_pmf(lo, hi).tolist(), strict=True))
        out["age"] = {
            "score": tv_complement(obs, tgt),
            "metric": "TVComplement over single years",
            "target": f"social-media age mix, {lo}-{hi}",
            "obs": obs,
            "tgt": tgt,
        }
    if cfg.get("locales"):
        out["locale"] = {
            "score": tv_complement(dict(p.locales), cfg["locales"]),
            "metric": "TVComplement",
            "target": f"{len(cfg['locales'])} locales of the configured mix",
        }
    if "female_share" in cfg:
        g = Counter({k: int(v.sum()) for k, v in p.age_by_gender.items()})
        f = float(cfg["female_share"])
        out["gender"] = {
            "score": tv_complement(dict(g), {"female": f, "male": 1 - f}),
            "metric": "TVComplement",
            "target": f"female share {f:g}",
        }
    gm = ds.metrics("graph")
    if "reciprocity" in gm and "reciprocity" in cfg:
        r, t = float(gm["reciprocity"]), float(cfg["reciprocity"])
        out["follows reciprocity"] = {
            "score": max(0.0, 1 - abs(r - t)),
            "metric": "1 - |measured - target|",
            "target": f"reciprocity {t:g} (measured {r:.3f})",
        }
    return out


def shapes_section(ds: Dataset, p: ProfileStats, shapes: dict[str, dict[str, Any]]) -> str:
    if not shapes:
        return h.note("No column of this dataset has a configured target.")
    body = h.note(
        "Scores 0-1 in the manner of SDMetrics' QualityReport column shapes: "
        "1 - total variation distance between the dataset's shares and the "
        "configured ones (1 = identical)."
    )
    body += h.cards([(k, f"{v['score']:.3f}") for k, v in shapes.items()])
    body += h.table(
        ("column", "score", "metric", "target"),
        [(k, round(v["score"], 4), v["metric"], v["target"]) for k, v in shapes.items()],
    )
    if "age" in shapes:
        obs, tgt = shapes["age"]["obs"], shapes["age"]["tgt"]
        ages = np.arange(
            min(min(obs, default=13), min(tgt)), max(max(obs, default=80), max(tgt)) + 1
        )
        total = sum(obs.values()) or 1
        body += h.figures(
            (
                fig.age_shape(
                    np.array([obs.get(a, 0) / total for a in ages]),
                    np.array([tgt.get(a, 0) for a in ages]),
                    ages,
                ),
                "age: dataset vs configured",
            )
        )
    return body
