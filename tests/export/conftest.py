import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest


@pytest.fixture(scope="session")
def labelled(tmp_path_factory):
    """300 profiles in 2 shards with GAN avatars, template bios, a follow graph, template
    posts and the accounts stage's labels (30% bots)."""
    from pipeline import write_dataset
    from pipeline.config import GenerateConfig, build_config

    os.environ.setdefault("PROFILEGEN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    out = tmp_path_factory.mktemp("export") / "d"
    kw = dict(rows=300, shard_rows=150, seed=11, bios="template", posts="template")
    staged = "bot_share" in GenerateConfig.model_fields
    if staged:
        kw["bot_share"] = 0.3
    write_dataset(build_config(None, out=str(out), **kw), "auto", out)
    if not staged:
        _add_labels(out)
    return out


def _add_labels(out):
    """Until the accounts stage exists: its columns, drawn from the user id, bots without
    an avatar (a default image), rewritten into each shard with its metadata."""
    kinds = np.array(["human", "spammer", "fake_follower", "astroturf", "self_declared",
                      "financial"], object)  # fmt: skip
    for path in sorted((out / "data" / "profiles").glob("*.parquet")):
        t = pq.read_table(path)
        uid = t["user_id"].to_numpy()
        kind = np.where(uid % 10 < 3, 1 + uid % 5, 0)
        split = np.array(["train", "validation", "test"], object)[uid // 10 % 10 % 3]
        avatars = t["avatar"].to_pylist()
        avatar = pa.array([None if k else a for k, a in zip(kind, avatars, strict=True)],
                          t.schema.field("avatar").type)  # fmt: skip
        t = t.set_column(t.column_names.index("avatar"), "avatar", avatar)
        t = t.append_column("account_type", pa.array(kinds[kind]))
        t = t.append_column("split", pa.array(split))
        pq.write_table(t, path)  # read_table kept the schema's metadata
