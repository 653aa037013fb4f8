import os

import pytest


@pytest.fixture(scope="session")
def labelled(tmp_path_factory):
    """300 profiles in 2 shards with GAN avatars, template bios, a follow graph, template
    posts and the accounts stage's labels (30% bots: some with a default image, no bio)."""
    from pipeline import write_dataset
    from pipeline.config import build_config

    os.environ.setdefault("PROFILEGEN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    out = tmp_path_factory.mktemp("export") / "d"
    cfg = build_config(None, rows=300, shard_rows=150, seed=11, bios="template",
                       posts="template", bot_share=0.3, out=str(out))  # fmt: skip
    write_dataset(cfg, "auto", out)
    return out
