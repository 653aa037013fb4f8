"""The `train_avatar_gan` flow: data -> feature net -> GAN training -> evaluation -> card."""

import json
import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows import progress
from flows.scheduling import schedule_slot
from pipeline.avatars.evaluate import (
    evaluate_checkpoint,
    load_training_data,
    quick_metrics,
    write_model_card,
)
from pipeline.avatars.train import TrainConfig, train
from pipeline.core.device import torch_device
from pipeline.core.schedule import scheduled_seed, slot_name


@task(cache_policy=NO_CACHE)
def fit(tc_dict: dict, out: str, resume: bool, command: str) -> dict[str, Any]:
    tc = TrainConfig(**tc_dict)
    corpus = load_training_data(tc.data, tc.resolution, tc.corpus_size, tc.seed)
    t0 = time.perf_counter()
    last: dict[str, Any] = {}

    def on_step(step: int, stats: dict) -> None:
        last.update(stats)
        progress.advance(1, **stats)

    def on_checkpoint(step: int, model) -> dict:
        metrics = quick_metrics(model, corpus, out)
        create_table_artifact(
            key="avatar-gan-metrics",
            table=[{"step": step, **{k: round(v, 4) for k, v in metrics.items()}}],
            description=f"checkpoint metrics at step {step} ({out})",
        )
        return metrics

    train(tc, corpus.images, corpus.labels, Path(out), corpus.description, resume=resume,
          on_step=on_step, on_checkpoint=on_checkpoint)  # fmt: skip
    wall = time.perf_counter() - t0
    run = {
        "command": command,
        "train_config": asdict(tc),
        "wall_seconds": round(wall, 1),
        "img_per_s": round(last.get("img_per_s", 0.0), 1),
        "hardware": hardware(),
        "data": corpus.description,
    }
    run_file = Path(out) / "training" / "run.json"
    runs = json.loads(run_file.read_text()) if resume and run_file.exists() else []
    run_file.write_text(json.dumps([*runs, run], indent=2) + "\n")
    return run


def hardware() -> str:
    if torch_device("avatar").startswith("cuda"):
        return f"{torch.cuda.get_device_name(0)} (CUDA, bf16 autocast)"
    return f"CPU {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"


@flow(name="train-avatar-gan")
def train_avatar_gan(
    tc: dict, out: str, resume: bool = False, command: str = "", baseline: str | None = None
) -> dict[str, Any]:
    """Train (or resume) the avatar GAN into `out`, evaluate it, write its model card.

    A run created by a schedule trains into OUT/<slot>/ with a seed mixed from tc's seed and
    the slot, so a weekly retrain never overwrites last week's model.
    """
    slot = schedule_slot()
    if slot is not None:
        out = str(Path(out) / slot_name(slot))
        tc = {**tc, "seed": scheduled_seed(tc.get("seed", 0), slot)}
    run = fit(tc, out, resume, command)
    metrics = evaluate_checkpoint(out, baseline=baseline, out=Path(out) / "eval.json")
    card = write_model_card(out, metrics, baseline=baseline)
    create_markdown_artifact(key="avatar-gan-card", markdown=card, description=out)
    return {"run": run, "metrics": metrics}
