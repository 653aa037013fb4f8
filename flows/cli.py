"""The `profilegen` command line: parse, validate, hand over to a flow, report.

Every mistake a user can make ends as one line on stderr and exit code 2, checked before
anything is written (and before Prefect's server is started: that takes seconds).
"""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from pipeline.config import build_config
from pipeline.errors import ProfilegenError

app = typer.Typer(
    help="Synthetic social-profile datasets: coherent identities written as Parquet.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def generate(
    rows: Annotated[str | None, typer.Option(help="Number of profiles [default: 1000].")] = None,
    seed: Annotated[str | None, typer.Option(help="Integer seed [default: 0].")] = None,
    locales: Annotated[
        str | None,
        typer.Option(help="Weighted locale mix, e.g. en_US:0.6,ja_JP:0.4 [default: world mix]."),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(help="Output directory or URL (s3://bucket/prefix) [default: output/demo]."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML or TOML file; flags override it.")
    ] = None,
    avatars: Annotated[
        str | None, typer.Option(help="Avatar source: gan (the GAN checkpoint) or none.")
    ] = None,
    avatar_checkpoint: Annotated[
        str | None,
        typer.Option(help="GAN checkpoint dir [default: models/avatar-gan-64, shipped]."),
    ] = None,
    avatar_size: Annotated[
        str | None, typer.Option(help="Resize avatars to this many pixels [default: native].")
    ] = None,
    bios: Annotated[
        str | None, typer.Option(help="Bio source: lm (SmolLM2 + gate), template or none.")
    ] = None,
    bio_model: Annotated[
        str | None,
        typer.Option(
            help="HF causal-LM dir or hub id with a chat template [default: SmolLM2-135M]."
        ),
    ] = None,
    bio_language: Annotated[
        str | None,
        typer.Option(help="native (the row's language where the model writes it) or en."),
    ] = None,
    bio_temperature: Annotated[str | None, typer.Option(help="LM sampling [default: 0.7].")] = None,
    bio_top_p: Annotated[str | None, typer.Option(help="LM nucleus [default: 0.92].")] = None,
    bio_batch_size: Annotated[
        str | None, typer.Option(help="Rows per LM batch [default: 64].")
    ] = None,
    bio_retries: Annotated[
        str | None, typer.Option(help="LM resamples before the template [default: 3].")
    ] = None,
    bio_dtype: Annotated[
        str | None, typer.Option(help="auto, float32 or bfloat16 (auto: bf16 where native).")
    ] = None,
    shard_rows: Annotated[
        str | None, typer.Option(help="Rows per Parquet shard [default: 50000].")
    ] = None,
    workers: Annotated[str | None, typer.Option(help="Shards made at once [default: 2].")] = None,
    runner: Annotated[
        str | None,
        typer.Option(help="Where shards run: thread, process or dask [default: thread]."),
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler tcp://HOST:PORT [default: a local cluster].", show_default=False
        ),
    ] = None,
    reference_date: Annotated[
        str | None, typer.Option(help="Date ages are computed at [default: 2026-01-01].")
    ] = None,
    resume: Annotated[
        bool | None,
        typer.Option(
            "--resume/--overwrite",
            help="Continue a killed run of the same config, or replace what is in --out. "
            "Without either: continue a same-config run, refuse any other.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Generate a dataset of fake profiles (Parquet shards + card + manifest)."""
    mode = "auto" if resume is None else ("resume" if resume else "overwrite")
    try:
        cfg = build_config(
            config,
            rows=rows,
            seed=seed,
            locales=locales,
            out=out,
            avatars=avatars,
            avatar_checkpoint=avatar_checkpoint,
            avatar_size=avatar_size,
            bios=bios,
            bio_model=bio_model,
            bio_language=bio_language,
            bio_temperature=bio_temperature,
            bio_top_p=bio_top_p,
            bio_batch_size=bio_batch_size,
            bio_retries=bio_retries,
            bio_dtype=bio_dtype,
            shard_rows=shard_rows,
            workers=workers,
            runner=runner,
            dask_address=dask_address,
            reference_date=reference_date,
        )
        from pipeline.dataset.writer import check_output

        check_output(cfg, cfg.out, mode)
        cfg.dataset_fields()  # loads the avatar checkpoint now, so a bad one fails here
        if cfg.bios == "lm":
            from pipeline.lm.weights import resolve_bio_model

            resolve_bio_model(cfg.bio_model)  # missing weights or no chat template: fail now
        from flows.runners import check_orchestration

        check_orchestration(cfg)  # Prefect API and Dask scheduler answer, or one line here
    except ProfilegenError as e:
        fail(str(e))

    # Imported late: `import prefect` alone costs ~2 s, wasted on a bad-input exit.
    from flows import progress
    from flows.generate import run_generate

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    with bar:
        job = bar.add_task("profiles", total=cfg.rows, rate="")
        bios_job = None
        if cfg.bios != "none":
            bios_job = bar.add_task("bios", total=cfg.rows, rate="")

        def on_rows(n: int, fields: dict) -> None:
            bar.advance(job, n)
            speed = bar.tasks[job].speed
            bar.update(job, rate=f"{speed:,.0f} rows/s" if speed else "")
            if bios_job is not None and fields.get("bios"):
                bar.advance(bios_job, fields["bios"])
                speed = bar.tasks[bios_job].speed
                bar.update(bios_job, rate=f"{speed:,.1f} bios/s" if speed else "")

        progress.set_listener(on_rows)
        try:
            summary = run_generate(cfg, mode)
        except ProfilegenError as e:
            fail(str(e))
        finally:
            progress.set_listener(None)
    typer.echo(
        f"wrote {summary['rows']:,} profiles in {summary['shards']} shard(s) to {summary['out']} "
        f"({summary['written']} made, {summary['skipped']} already there; "
        f"config {summary['config_hash']})"
    )


@app.command()
def serve(
    cron: Annotated[str, typer.Option(help='When to run, e.g. "0 2 * * *" (02:00 UTC daily).')],
    config: Annotated[Path, typer.Option("--config", help="YAML or TOML generate config.")],
    name: Annotated[
        str, typer.Option(help="Deployment name; datasets go to ROOT/NAME/<slot>/.")
    ] = "profiles",
    root: Annotated[str, typer.Option(help="Folder that holds the dated datasets.")] = "output",
) -> None:
    """Serve scheduled generation from this process (needs `prefect server start`)."""
    try:
        build_config(config)  # a bad config fails now, not at 02:00
        if not name or Path(name).name != name:
            raise ProfilegenError(f"--name must be a plain folder name, got {name!r}")
        from prefect.client.schemas.schedules import CronSchedule
        from prefect.settings import PREFECT_API_URL

        try:
            CronSchedule(cron=cron)
        except ValueError:
            raise ProfilegenError(f"--cron: not a valid cron expression: {cron!r}") from None
        if not PREFECT_API_URL.value():
            # The ephemeral server has no scheduler: the schedule would never fire.
            raise ProfilegenError(
                "serve needs a running Prefect server: start `prefect server start` and set "
                "PREFECT_API_URL=http://127.0.0.1:4200/api"
            )
        from flows.runners import check_prefect_api

        check_prefect_api()
    except ProfilegenError as e:
        fail(str(e))

    from flows.generate import generate_from_config

    params = {"config_file": str(config.resolve()), "name": name, "root": str(Path(root).resolve())}
    generate_from_config.serve(name=name, cron=cron, parameters=params)


@app.command("train-avatars")
def train_avatars(
    data: Annotated[
        str, typer.Option(help="builtin (python-avatars corpus) or a photo folder.")
    ] = "builtin",
    resolution: Annotated[int, typer.Option(help="64 or 128.")] = 64,
    steps: Annotated[int, typer.Option(help="Training steps (batches).")] = 20_000,
    batch: Annotated[int, typer.Option(help="Batch size.")] = 64,
    out: Annotated[
        str, typer.Option(help="Checkpoint dir, e.g. models/NAME.")
    ] = "models/avatar-gan-new",
    arch: Annotated[str, typer.Option(help="cgan (ours) or seed-mlp (the baseline).")] = "cgan",
    seed: Annotated[int, typer.Option(help="Seed for init, data order, noise.")] = 0,
    corpus_size: Annotated[int, typer.Option(help="Builtin avatars to render.")] = 20_000,
    checkpoint_every: Annotated[int, typer.Option(help="Steps between checkpoints.")] = 1000,
    baseline: Annotated[
        str | None, typer.Option(help="A trained baseline checkpoint to compare in the card.")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --out.")] = False,
) -> None:
    """Train the avatar GAN (checkpoints, sample grids, metrics, model card)."""
    from dataclasses import asdict

    try:
        from pipeline.avatars.evaluate import check_training_data
        from pipeline.avatars.train import TrainConfig, check_resume

        tc = TrainConfig(
            data=data, resolution=resolution, arch=arch, steps=steps, batch=batch,
            corpus_size=corpus_size, seed=seed, checkpoint_every=checkpoint_every,
        )  # fmt: skip
        check_resume(tc, Path(out), resume)
        check_training_data(data, resolution)
        if baseline:
            from pipeline.avatars.gan import AvatarGAN

            AvatarGAN.from_pretrained(baseline)
    except ProfilegenError as e:
        fail(str(e))

    from flows import progress
    from flows.train import train_avatar_gan

    bar = Progress(
        TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
        console=err, disable=not err.is_terminal,
    )  # fmt: skip
    command = "profilegen " + " ".join(sys.argv[1:])
    with bar:
        job = bar.add_task("train", total=steps, rate="")
        if resume:
            import torch

            bar.update(job, completed=torch.load(Path(out) / "training/state.pt",
                                                 weights_only=False)["step"])  # fmt: skip

        def on_step(n: int, fields: dict) -> None:
            bar.update(job, advance=n, rate=f"{fields.get('img_per_s', 0):,.0f} img/s")

        progress.set_listener(on_step)
        try:
            result = train_avatar_gan(asdict(tc), out, resume, command, baseline)
        except ProfilegenError as e:
            fail(str(e))
        finally:
            progress.set_listener(None)
    m = result["metrics"]
    typer.echo(f"trained {out}: KID {m['kid']:.4f}, attribute accuracy {m['attr_acc_mean']:.3f}, "
               f"near-copies {m['near_copy_fraction']:.4f}; card in {out}/README.md")  # fmt: skip


@app.command("eval-avatars")
def eval_avatars(
    checkpoint: Annotated[str, typer.Argument(help="Checkpoint dir to evaluate.")],
    baseline: Annotated[str | None, typer.Option(help="A second checkpoint to compare.")] = None,
    n: Annotated[int, typer.Option(help="Generated images per checkpoint.")] = 2000,
    inception_weights: Annotated[
        str | None, typer.Option(help="Local Inception weights for FID/KID features.")
    ] = None,
) -> None:
    """KID, FID, precision/recall, density/coverage, attribute accuracy, memorization."""
    try:
        from pipeline.avatars.evaluate import evaluate_checkpoint, format_metrics

        metrics = evaluate_checkpoint(checkpoint, baseline=baseline, n=n,
                                      inception_weights=inception_weights)  # fmt: skip
    except ProfilegenError as e:
        fail(str(e))
    typer.echo(format_metrics(metrics))


@app.command("train-attribute-net")
def train_attribute_net(
    out: Annotated[str, typer.Option(help="Where to save it.")] = "models/attribute-net-64",
) -> None:
    """Train the attribute classifier that eval-avatars uses as its feature space."""
    from pipeline.avatars.evaluate import train_feature_net

    net = train_feature_net(out)
    typer.echo(f"saved {out}: held-out accuracy {net.meta.get('heldout_accuracy')}")


@app.command()
def inspect(
    directory: Annotated[
        str, typer.Argument(help="A dataset written by `generate` (path or URL).")
    ],
    rows: Annotated[int, typer.Option(help="Rows to show.")] = 5,
) -> None:
    """Show a dataset's schema, counts, a few rows and a validation summary."""
    from flows.report import print_inspection

    try:
        ok = print_inspection(directory, rows)
    except ProfilegenError as e:
        fail(str(e))
    if not ok:
        raise typer.Exit(1)


@app.command("eval-bios")
def eval_bios(
    directory: Annotated[
        str, typer.Argument(help="A dataset written by `generate` (path or URL).")
    ],
    sample: Annotated[int, typer.Option(help="Bios embedded for the cosine metric.")] = 1000,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the metrics to this JSON file.")
    ] = None,
) -> None:
    """Bio quality: gate pass rate, leaks, duplicates, diversity, field consistency."""
    import json

    from pipeline.bios.metrics import dataset_bio_metrics, format_bio_metrics
    from pipeline.dataset.storage import open_store
    from pipeline.dataset.writer import read_manifest

    try:
        if sample < 2:
            raise ProfilegenError(f"--sample must be at least 2, got {sample}")
        store = open_store(directory)
        manifest = read_manifest(store)
        if "bio" not in read_shard_columns(store, manifest):
            raise ProfilegenError(f"{directory} has no bio column (generated with --bios none)")
        metrics = dataset_bio_metrics(store, len(manifest["shards"]), sample)
    except ProfilegenError as e:
        fail(str(e))
    typer.echo(format_bio_metrics(metrics))
    if json_out is not None:
        import math

        clean = {k: None if isinstance(v, float) and math.isnan(v) else v
                 for k, v in metrics.items()}  # fmt: skip
        text = json.dumps(clean, indent=2) + "\n"
        open_store(str(json_out.parent.resolve())).put_bytes(json_out.name, text.encode())
    bad = metrics["leak_rate"] > 0 or metrics["duplicate_rate"] > 0
    raise typer.Exit(1 if bad else 0)


def read_shard_columns(store, manifest: dict) -> list[str]:
    from pipeline.dataset.writer import read_shard_schema

    return read_shard_schema(store, manifest["shards"][0]["file"]).names


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
