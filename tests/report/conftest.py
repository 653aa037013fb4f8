import pytest


def _dataset(tmp_path_factory, name: str, **kw):
    from pipeline import write_dataset
    from pipeline.config import build_config

    out = tmp_path_factory.mktemp("report") / name
    base = dict(
        rows=240, shard_rows=120, seed=3, locales="en_US:0.5,ja_JP:0.25,pt_BR:0.25", out=str(out)
    )
    write_dataset(build_config(None, **{**base, **kw}), "auto", out)
    return out


@pytest.fixture(scope="session")
def full_dataset(tmp_path_factory):
    """Every table and column a report shows: avatars, template bios, follows, posts."""
    return _dataset(
        tmp_path_factory, "full", avatars="gan", bios="template", follows="graph", posts="template"
    )


@pytest.fixture(scope="session")
def bare_dataset(tmp_path_factory):
    """Identity columns only: no avatars, bios, follows or posts."""
    return _dataset(
        tmp_path_factory, "bare", avatars="none", bios="none", follows="none", posts="none"
    )
