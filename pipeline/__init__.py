"""profilegen's library: no Prefect in here. The front door:

    from pipeline import build_config, write_dataset
    write_dataset(build_config(rows=1000, out="output/demo"))

Data flows one way through the registered stages (pipeline/stages.py):
identity -> avatars -> bios -> graph -> dataset writer.
"""

__all__ = ["GenerateConfig", "build_config", "write_dataset", "validate_dataset"]


def __getattr__(name: str):
    # Lazy (PEP 562): `import pipeline.errors` must not pull in pydantic, pyarrow and friends.
    if name in ("GenerateConfig", "build_config"):
        from pipeline import config

        return getattr(config, name)
    if name == "write_dataset":
        from pipeline.dataset.shard import write_dataset

        return write_dataset
    if name == "validate_dataset":
        from pipeline.dataset.validate import validate_dataset

        return validate_dataset
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
