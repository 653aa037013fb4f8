"""Exports of a finished dataset into the layouts other tools read.

    from pipeline.export import export_dataset
    export_dataset("output/bots", "twibot22", "output/bots-twibot22")

One module per format (`twibot22`: TwiBot-22's user.json, tweet_0..8.json, edge.csv,
label.csv, split.csv). An export reads the dataset shard by shard and writes every file
through the dataset store (pipeline.dataset.storage), so it works on a local folder or a
bucket alike. `loaders` is the other way out: the dataset itself, straight into `datasets`
and PyTorch.
"""

from typing import Any

from pipeline.errors import ProfilegenError

FORMATS = ("twibot22",)


def export_dataset(src: Any, fmt: str, out: Any) -> dict[str, Any]:
    """Write dataset `src` (path, URL or Store) in format `fmt` into `out`; return what was
    written (counts, files and their sha256). Raises ProfilegenError, with nothing written,
    when `src` is not a finished dataset, lacks what the format needs, or `out` can't take
    the export."""
    if fmt not in FORMATS:
        raise ProfilegenError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
    from pipeline.export import twibot22

    return twibot22.export(src, out)
