"""The stage architecture holds: stages are found through the registry only, and what
identifies a dataset (the config hash) is computed without models or network."""

import re
import subprocess
import sys
from pathlib import Path

from pipeline import stages

REPO = Path(__file__).parents[1]


def test_no_module_outside_a_stage_compares_its_selection_string():
    selectors = stages.selectors()
    assert set(selectors) >= {"avatars", "bios", "follows"}
    fields = "|".join(selectors)
    # cfg.bios == "lm", config.avatars != "none", cfg.follows in (...), d["bios"] == ...
    pattern = re.compile(
        rf"""(\.({fields})\b|\[["']({fields})["']\])\s*(==|!=|\bin\b|\bnot in\b)"""
    )
    offenders = []
    for path in sorted([*REPO.glob("pipeline/**/*.py"), *REPO.glob("flows/**/*.py")]):
        rel = path.relative_to(REPO).as_posix()
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for m in pattern.finditer(line):
                field = m.group(2) or m.group(3)
                if not rel.startswith(f"pipeline/{selectors[field]}/"):
                    offenders.append(f"{rel}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_no_module_outside_the_registry_names_a_stage_package():
    # flows/ and the shared plumbing reach a stage through pipeline.stages, never directly
    # (flows/ may import a stage's own tools for its own commands: train-avatars, eval-bios).
    allowed_flows = {"flows/train.py", "flows/cli.py"}
    offenders = []
    for path in sorted([*REPO.glob("pipeline/*.py"), *REPO.glob("pipeline/dataset/*.py"),
                        *REPO.glob("pipeline/core/*.py"), *REPO.glob("flows/*.py")]):  # fmt: skip
        rel = path.relative_to(REPO).as_posix()
        if rel in allowed_flows or rel == "pipeline/stages.py":
            continue
        for name in stages.STAGES:
            if re.search(rf"pipeline\.{name}\b", path.read_text()):
                offenders.append(f"{rel} names pipeline.{name}")
    assert not offenders, offenders


def test_config_hash_loads_no_model_and_opens_no_socket():
    # A subprocess, so "torch is not imported" means something; sockets are made to fail.
    code = """
import socket, sys
def refuse(*a, **k):
    raise AssertionError("config_hash opened a socket")
socket.socket.connect = refuse
socket.create_connection = refuse
from pipeline.config import build_config
for kw in ({}, {"bios": "template", "avatars": "none"}, {"follows": "none"}):
    h = build_config(None, **kw).config_hash
    assert len(h) == 16, h
# A hub id is hashed from the local cache only: not cached, one clear error, no socket.
from pipeline.errors import ProfilegenError
try:
    build_config(None, bio_model="nobody-xyz/not-a-cached-model").config_hash
    raise SystemExit("a hub id that is not cached was hashed")
except ProfilegenError as e:
    assert "not in the local Hugging Face cache" in str(e), e
heavy = [m for m in ("torch", "transformers", "safetensors") if m in sys.modules]
assert not heavy, heavy
print("ok")
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


def test_a_stage_is_one_registration_line():
    # Every registered name is a subpackage with options.py and stage.py, and the config is
    # composed of exactly their fields plus the run's own.
    from pipeline.config import GenerateConfig, RunOptions

    fields = set(RunOptions.model_fields)
    for name, stage in zip(stages.STAGES, stages.registered(), strict=True):
        assert (REPO / "pipeline" / name / "options.py").is_file()
        assert stage.name == name
        fields |= set(stages.option_mixins()[stages.STAGES.index(name)].model_fields)
    assert fields == set(GenerateConfig.model_fields)


def test_warm_loads_what_the_shards_will_ask_for(monkeypatch):
    # The CLI overlaps this with Prefect's server start: it must ask for the very writers
    # (same arguments, so the per-process cache hits) that the shards ask for, and only
    # for stages that will use a model.
    import pipeline.bios.stage as bio_stage
    import pipeline.posts.writer as post_writer
    from pipeline.config import build_config
    from pipeline.lm.weights import resolve_bio_model

    asked = []
    monkeypatch.setattr(bio_stage, "get_writer", lambda *a: asked.append(("bios", a)))
    monkeypatch.setattr(post_writer, "get_writer", lambda *a: asked.append(("posts", a)))
    cfg = build_config(None, rows=10, bios="lm", posts="lm")
    stages.warm(cfg)
    assert asked == [("bios", (cfg.bio_model, cfg.bio_dtype)),
                     ("posts", (resolve_bio_model(cfg.bio_model), cfg.bio_dtype))]  # fmt: skip
    asked.clear()
    stages.warm(build_config(None, rows=10, bios="template", posts="template"))
    assert asked == []
