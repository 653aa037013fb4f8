"""`eval-detector`'s report: train both detectors on a dataset, score them on its test
split, and write the figures as `detector.json` and the card's "Detector baseline"."""

import datetime as dt
import re
import textwrap
from importlib import metadata
from typing import Any

import numpy as np

from pipeline.dataset.storage import Store, open_store
from pipeline.dataset.writer import CARD, read_manifest, write_json
from pipeline.detect import features as F
from pipeline.detect import models
from pipeline.detect.read import read_inputs
from pipeline.errors import ProfilegenError

REPORT = "detector.json"
SECTION = "## Detector baseline"
SPLITS = ("train", "validation", "test")


def _labels(inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = inputs.profiles
    account_type = np.asarray(p["account_type"].to_numpy(zero_copy_only=False), dtype=object)
    split = np.asarray(p["split"].to_numpy(zero_copy_only=False), dtype=object)
    decoy = (p["decoy"].fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
             if "decoy" in p.column_names else np.zeros(p.num_rows, bool))  # fmt: skip
    return account_type, split, decoy


def _check_splits(url: str, bot: np.ndarray, split: np.ndarray) -> None:
    for name in ("train", "test"):
        mine = split == name
        if not (bot & mine).any():
            raise ProfilegenError(
                f"{url}: the {name} split has no bots ({int(mine.sum())} accounts); "
                f"generate with a larger --bot-share or more --rows"
            )
        if not (~bot & mine).any():
            raise ProfilegenError(f"{url}: the {name} split has no humans; lower --bot-share")


def _round(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    if isinstance(x, float | np.floating):
        return round(float(x), 4)
    return x


def evaluate_dataset(out: Store | str) -> dict[str, Any]:
    """Train and score both detectors on the dataset at `out`; the report as a dict."""
    store = open_store(out)
    manifest = read_manifest(store)
    inputs = read_inputs(store, manifest)
    account_type, split, decoy = _labels(inputs)
    bot = account_type != "human"
    _check_splits(store.url, bot, split)
    train, test = split == "train", split == "test"

    config = manifest.get("config", {})
    reference = dt.date.fromisoformat(str(config.get("reference_date", "2026-01-01")))
    reference_ms = int(dt.datetime(reference.year, reference.month, reference.day,
                                   tzinfo=dt.UTC).timestamp() * 1000)  # fmt: skip
    bigrams = F.ScreenNameBigrams.fit(inputs.profiles["username"].filter(train))
    profile = F.profile_features(inputs.profiles, inputs.default_profile, reference_ms, bigrams)
    matrices = {"forest": profile, "boosting": np.column_stack([profile, inputs.behaviour])}
    names = {"forest": F.PROFILE_FEATURES,
             "boosting": F.PROFILE_FEATURES + inputs.behaviour_names}  # fmt: skip

    results = {}
    for name, x in matrices.items():
        p_bot = models.fit_predict(name, x[train], bot[train], x[test])
        results[name] = {
            "model": models.MODELS[name],
            "features": names[name],
            "test": models.scores(bot[test], p_bot),
            "per_class": models.per_class(account_type[test], decoy[test], p_bot),
        }
    splits = {s: {"accounts": int((split == s).sum()), "bots": int((bot & (split == s)).sum())}
              for s in SPLITS}  # fmt: skip
    return _round({
        "dataset": {
            "rows": int(len(bot)),
            "bot_difficulty": config.get("bot_difficulty"),
            "bot_share": config.get("bot_share"),
            "bots": int(bot.sum()),
            "splits": splits,
            "tables": ["profiles"] + inputs.tables,
            "config_hash": manifest.get("config_hash"),
        },
        "botometer_lite": {"used": F.PROFILE_FEATURES, "left_out": F.LEFT_OUT,
                           "columns": {k: v for k, v in F.BOTOMETER_LITE.items() if v}},
        "settings": {"seed": models.SEED, "n_jobs": models.N_JOBS, "threshold": models.THRESHOLD,
                     "forest_trees": models.TREES,
                     "boosting_rounds": models.BOOSTING_ROUNDS,
                     "scikit_learn": metadata.version("scikit-learn")},
        "models": results,
    })  # fmt: skip


def _cell(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def format_report(r: dict[str, Any]) -> str:
    """The report as a Markdown table: the test split's scores, then per class."""
    d, m = r["dataset"], r["models"]
    test = d["splits"]["test"]
    head = (f"bot_difficulty {d['bot_difficulty'] or 'n/a'}, bot_share {d['bot_share']}: "
            f"{d['rows']:,} accounts, {d['bots']:,} bots; trained on train "
            f"({d['splits']['train']['accounts']:,}), scored on test ({test['accounts']:,}, "
            f"{test['bots']:,} bots)")  # fmt: skip
    cols = list(m)
    lines = [head, "",
             "| test split | " + " | ".join(f"{c} ({len(m[c]['features'])} features)"
                                           for c in cols) + " |",
             "|---|" + "---|" * len(cols)]  # fmt: skip
    for k in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        lines.append(f"| {k} | " + " | ".join(_cell(m[c]["test"][k]) for c in cols) + " |")
    for cls, v in m[cols[0]]["per_class"].items():
        key = "recall" if "recall" in v else "false_positive_rate"
        label = "false-positive rate" if key != "recall" else "recall"
        who = "decoy humans" if cls == "decoy" else ("humans" if cls == "human" else cls)
        cells = " | ".join(_cell(m[c]["per_class"][cls][key]) for c in cols)
        lines.append(f"| {label}: {who} ({v['accounts']:,}) | {cells} |")
    return "\n".join(lines)


def card_section(r: dict[str, Any]) -> str:
    b, settings = r["botometer_lite"], r["settings"]
    about = (
        f"Measured by `profilegen eval-detector` on this dataset: two bot detectors trained "
        f"on the `train` split and scored on the `test` split (bots the positive class, "
        f"threshold {settings['threshold']}, seed {settings['seed']}: the same dataset gives "
        f"the same numbers). The forest uses {len(b['used'])} of BotometerLite's 20 profile "
        f"features (Yang et al. 2020); the {len(b['left_out'])} with no counterpart in this "
        f"data are left out ({', '.join(b['left_out'])}). The boosting model adds "
        f"follow-graph and posting features (degrees, reciprocity, posting hours and gaps, "
        f"links and hashtags, near-duplicate and synchronized texts, creation bursts). The "
        f"labels (`account_type`, `campaign_id`, `split`, `decoy`) are never features. All "
        f"figures: `{REPORT}`."
    )
    return f"{SECTION}\n{textwrap.fill(about, 90)}\n\n{format_report(r)}\n\n"


def write_results(out: Store | str, r: dict[str, Any]) -> None:
    """`detector.json` and the card's section (replaced if there, else put before
    "## Intended use"), each written atomically through the store."""
    store = open_store(out)
    try:
        with store.user_errors("write to"):
            _write(store, r)
    except OSError as e:
        raise ProfilegenError(f"cannot write to {store.url}: {e.strerror or e}") from None


def _write(store: Store, r: dict[str, Any]) -> None:
    write_json(store, REPORT, r)
    if not store.is_file(CARD):
        return
    card = store.read_bytes(CARD).decode()
    section = card_section(r)
    old = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.M | re.S)
    if old.search(card):
        card = old.sub(lambda _: section, card, count=1)
    elif "\n## Intended use" in card:
        card = card.replace("\n## Intended use", "\n" + section + "## Intended use", 1)
    else:
        card = card.rstrip("\n") + "\n\n" + section
    store.put_bytes(CARD, card.encode())
