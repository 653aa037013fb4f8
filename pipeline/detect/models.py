"""The two baseline detectors and how they are scored. Both are binary (bot or human),
trained on the train split and scored on the test split at a 0.5 threshold; the validation
split is left for whoever tunes on top of them.

Deterministic: fixed seeds and fixed thread counts, so the same dataset gives the same
numbers on any machine (a forest's trees do not depend on n_jobs; the boosting model runs
on one OpenMP thread, which also keeps it from stalling on a busy machine: 10x slower with
two threads on two shared cores).
"""

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from threadpoolctl import threadpool_limits

SEED = 0
N_JOBS = 2  # the forest's joblib workers
OPENMP_THREADS = 1  # the boosting model's
THRESHOLD = 0.5
TREES = 300  # the forest's trees
# Rows each tree bootstraps, at most: a fully grown tree has about a node per row, so this
# bounds the forest's memory (~1.5 GB at 300 trees) and time on a million-profile dataset.
MAX_TREE_ROWS = 50_000
BOOSTING_ROUNDS = 300

MODELS = {
    "forest": "random forest on BotometerLite's profile features (Yang et al. 2020)",
    "boosting": "histogram gradient boosting on profile, follow-graph and posting features",
}


def make(name: str, rows: int):
    if name == "forest":
        return RandomForestClassifier(n_estimators=TREES, max_samples=min(rows, MAX_TREE_ROWS),
                                      random_state=SEED, n_jobs=N_JOBS)  # fmt: skip
    return HistGradientBoostingClassifier(max_iter=BOOSTING_ROUNDS, learning_rate=0.05,
                                          l2_regularization=1.0, early_stopping=False,
                                          random_state=SEED)  # fmt: skip


def fit_predict(name: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray):
    """P(bot) of the test rows from model `name` trained on the train rows."""
    with threadpool_limits(OPENMP_THREADS):
        model = make(name, len(y_train)).fit(x_train, y_train)
        return model.predict_proba(x_test)[:, 1]


def scores(y: np.ndarray, p_bot: np.ndarray) -> dict[str, float | None]:
    """Accuracy, precision, recall, F1 (bots the positive class) and ROC-AUC."""
    pred = p_bot >= THRESHOLD
    return {
        "accuracy": accuracy_score(y, pred),
        "precision": precision_score(y, pred, zero_division=0),
        "recall": recall_score(y, pred, zero_division=0),
        "f1": f1_score(y, pred, zero_division=0),
        "roc_auc": roc_auc_score(y, p_bot) if len(set(y.tolist())) == 2 else None,
    }


def per_class(account_type: np.ndarray, decoy: np.ndarray, p_bot: np.ndarray) -> dict:
    """Per bot class the share caught (recall); for humans, and for the decoys among them,
    the share flagged as bots (false-positive rate)."""
    pred = p_bot >= THRESHOLD
    out: dict[str, dict] = {}
    classes = sorted(set(account_type.tolist()) - {"human"})
    for cls in classes + (["human"] if (account_type == "human").any() else []):
        mine = account_type == cls
        key = "false_positive_rate" if cls == "human" else "recall"
        out[cls] = {"accounts": int(mine.sum()), key: float(pred[mine].mean())}
    decoys = (account_type == "human") & decoy
    rate = float(pred[decoys].mean()) if decoys.any() else None
    out["decoy"] = {"accounts": int(decoys.sum()), "false_positive_rate": rate}
    return out
