"""Where profilegen keeps what it can rebuild (gazetteer table, avatar corpora, the
de-quantized bio model): $PROFILEGEN_CACHE_DIR, else ~/.cache/profilegen."""

import os
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("PROFILEGEN_CACHE_DIR") or Path.home() / ".cache" / "profilegen")
