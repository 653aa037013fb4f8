"""Where profilegen keeps what it can rebuild (gazetteer table, avatar corpora, the
de-quantized bio model): $PROFILEGEN_CACHE_DIR, else ~/.cache/profilegen."""

import functools
import os
import threading
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("PROFILEGEN_CACHE_DIR") or Path.home() / ".cache" / "profilegen")


def once_per_process(fn):
    """`fn`'s result per arguments, built once per process (the two latest kept) behind one
    lock, so two shard threads asking together do not both load a model."""
    cached = functools.lru_cache(maxsize=2)(fn)
    lock = threading.Lock()

    @functools.wraps(fn)
    def get(*args):
        with lock:
            return cached(*args)

    return get
