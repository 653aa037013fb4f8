"""The `profilegen` command line: parse, validate, hand over to a flow, report.

Every mistake a user can make ends as one line on stderr and exit code 2, checked before
anything is written (and before Prefect's server is started: that takes seconds).
"""

import datetime as dt
import inspect
import os
import signal
import sys
import threading
import typing
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from pipeline.config import build_config
from pipeline.core.stop import Stopped, request_stop, stages_run_here, stop_requested
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


def _metavar(annotation) -> str:
    """What the help shows as the option's type, from the config field's annotation."""
    a = annotation
    if typing.get_origin(a) is not typing.Literal:
        a = next((x for x in typing.get_args(a) if x is not type(None)), a)
    if typing.get_origin(a) is typing.Literal:
        return "[" + "|".join(typing.get_args(a)) + "]"
    return {int: "INTEGER", float: "FLOAT", dt.date: "DATE", str: "TEXT"}.get(a, "TEXT")


def _config_option(name: str, field) -> inspect.Parameter:
    """One --flag per config field: help, type and default come from the field itself, so a
    stage's new knob is a flag without this file naming it. Values arrive as text and are
    validated by the config (one line on a bad value), not by click."""
    default = field.get_default(call_default_factory=False)
    shown = field.default_factory is None and default is not None
    help_text = (field.description or name.replace("_", " ")).rstrip(".")
    help_text = help_text[0].upper() + help_text[1:] + "."
    if shown:  # escaped: rich would take a bare [default: ...] for markup and drop it
        help_text += f" \\[default: {default}]"
    option = typer.Option(
        f"--{name.replace('_', '-')}",
        help=help_text,
        metavar=_metavar(field.annotation),
        show_default=False,
    )
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=Annotated[str | None, option])  # fmt: skip


def _generate(
    config: Path | None = None,
    resume: bool | None = None,
    verbose: bool = False,
    **options: str | None,
) -> None:
    """Generate a dataset of fake profiles (Parquet shards + card + manifest)."""
    mode = "auto" if resume is None else ("resume" if resume else "overwrite")
    try:
        cfg = build_config(config, **options)
        from pipeline.dataset.writer import preflight

        preflight(cfg, mode=mode)  # output folder, weights, plannable sizes: before anything runs
        from flows.runners import check_orchestration

        check_orchestration(cfg)  # Prefect API and Dask scheduler answer, or one line here
    except ProfilegenError as e:
        fail(str(e))

    # Imported late: `import prefect` alone costs ~2 s, wasted on a bad-input exit.
    from flows import progress
    from flows.generate import run_generate
    from flows.runners import cli_api

    if not verbose:
        _quiet()  # after `import prefect`, which configures its loggers
    from pipeline import stages

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
        # One more bar per stage that reports progress in its own unit (bios).
        units = {s.progress_unit: bar.add_task(s.progress_unit, total=cfg.rows, rate="")
                 for s in stages.active(cfg) if s.progress_unit}  # fmt: skip

        def on_rows(n: int, fields: dict) -> None:
            bar.advance(job, n)
            speed = bar.tasks[job].speed
            bar.update(job, rate=f"{speed:,.0f} rows/s" if speed else "")
            for unit, task_id in units.items():
                if fields.get(unit):
                    bar.advance(task_id, fields[unit])
                    speed = bar.tasks[task_id].speed
                    bar.update(task_id, rate=f"{speed:,.1f} {unit}/s" if speed else "")

        progress.set_listener(on_rows)
        previous = {sig: signal.signal(sig, _stop_on_signal) for sig in STOP_SIGNALS}
        try:
            # Shards of the thread runner run in this process: their models load while
            # Prefect's server starts. Other runners load them in their own processes.
            warm = (lambda: stages.warm(cfg)) if cfg.runner == "thread" else (lambda: None)
            with cli_api(meanwhile=warm) as server:
                _RUN["server"] = server
                summary = run_generate(cfg, mode)
        except (Stopped, KeyboardInterrupt) as e:
            if not stop_requested():
                raise
            err.print(f"[bold red]stopped:[/] {STOPPED.format(out=cfg.out)}", highlight=False)
            raise typer.Exit(128 + _RUN.get("signal", signal.SIGTERM)) from e
        except ProfilegenError as e:
            fail(str(e))
        finally:
            _RUN.pop("server", None)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            progress.set_listener(None)
    typer.echo(
        f"wrote {summary['rows']:,} profiles in {summary['shards']} shard(s) to {summary['out']} "
        f"({summary['written']} made, {summary['skipped']} already there; "
        f"config {summary['config_hash']})"
    )


STOPPED = "the shard in progress was dropped; rerun the same command to resume {out}"
# After a stop is asked for, how long shards get to reach their next batch boundary.
STOP_GRACE_S = 20


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# The run in progress: its temporary Prefect server, and the signal that stopped it.
_RUN: dict = {}


def _stop_on_signal(signum: int, frame) -> None:
    """Ctrl-C or SIGTERM (a scheduler's or `timeout`'s stop): shards stop at their next
    batch, the flow ends, the temporary server is stopped, the folder stays resumable. If
    the run has not ended within STOP_GRACE_S (a batch stuck in a long kernel), the process
    exits anyway, after stopping the server: every write is atomic."""
    if stop_requested():  # a second Ctrl-C: the user does not want to wait
        _hard_exit(128 + signum)
    request_stop()
    _RUN["signal"] = signum
    timer = threading.Timer(STOP_GRACE_S, _hard_exit, args=(128 + signum,))
    timer.daemon = True
    timer.start()
    if not stages_run_here():
        raise KeyboardInterrupt  # out of the flow's wait for its workers


def _hard_exit(code: int) -> None:
    server = _RUN.get("server")
    if server is not None:
        server.stop()
    os._exit(code)


def _quiet() -> None:
    """A default run shows the progress bars, the summary line and warnings: Prefect's INFO
    lines (server start, flow and task states) and transformers' loading bars only with
    --verbose."""
    import logging

    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs", "prefect.server",
                 "prefect.subprocess_server", "distributed"):  # fmt: skip
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - transformers is a dependency
        return
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_warning()


def _generate_signature() -> None:
    from pipeline.config import GenerateConfig, field_order

    fixed = [
        inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None,
                          annotation=Annotated[Path | None, typer.Option(
                              "--config", metavar="FILE",
                              help="YAML or TOML file; flags override it.")]),
        inspect.Parameter("resume", inspect.Parameter.KEYWORD_ONLY, default=None,
                          annotation=Annotated[bool | None, typer.Option(
                              "--resume/--overwrite",
                              help="Continue a killed run of the same config, or replace what "
                              "is in --out. Without either: continue a same-config run, refuse "
                              "any other.", show_default=False)]),
        inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, default=False,
                          annotation=Annotated[bool, typer.Option(
                              "--verbose", "-v", help="Also show Prefect's and the libraries' "
                              "INFO logs and loading bars.")]),
    ]  # fmt: skip
    fields = GenerateConfig.model_fields
    params = [_config_option(n, fields[n]) for n in field_order()] + fixed
    _generate.__signature__ = inspect.Signature(params)
    _generate.__annotations__ = {p.name: p.annotation for p in params}


_generate_signature()
app.command("generate")(_generate)


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
    aux_weight: Annotated[
        float | None,
        typer.Option(
            help="Weight of the auxiliary classifier loss; 0: projection only "
            "\\[default: the training config's]."
        ),
    ] = None,
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
            **({} if aux_weight is None else {"aux_weight": aux_weight}),
        )  # fmt: skip
        check_resume(tc, Path(out), resume)
        check_training_data(data, resolution)
        if baseline:
            from pipeline.avatars.gan import AvatarGAN

            # Compared after training: a baseline of another resolution would fail only
            # then, minutes later. Check it now.
            base = AvatarGAN.from_pretrained(baseline)
            if base.config.resolution != resolution:
                raise ProfilegenError(
                    f"--baseline {baseline} is {base.config.resolution} px but --resolution is "
                    f"{resolution}; train or pick a {resolution} px baseline"
                )
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
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the metrics to this JSON file.")
    ] = None,
    write_eval: Annotated[
        bool,
        typer.Option(
            "--write-eval",
            help="Write CHECKPOINT/eval.json (its model card's "
            "figures); off by default so a shipped checkpoint stays as shipped.",
        ),
    ] = False,
) -> None:
    """KID, FID, precision/recall, density/coverage, attribute accuracy, memorization."""
    try:
        from pipeline.avatars.evaluate import evaluate_checkpoint, format_metrics

        metrics = evaluate_checkpoint(
            checkpoint,
            baseline=baseline,
            n=n,
            inception_weights=inception_weights,
            out=Path(checkpoint) / "eval.json" if write_eval else None,
        )
        if json_out is not None:
            import json

            from pipeline.core.files import atomic_write

            atomic_write(json_out, json.dumps(metrics, indent=2, sort_keys=True, default=float)
                         + "\n")  # fmt: skip
    except ProfilegenError as e:
        fail(str(e))
    typer.echo(format_metrics(metrics))


@app.command("train-attribute-net")
def train_attribute_net(
    # Not models/attribute-net-64: retraining must not overwrite the shipped network by
    # default (pass --out models/attribute-net-64 to replace it on purpose).
    out: Annotated[str, typer.Option(help="Where to save it.")] = "models/attribute-net-new",
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


@app.command()
def report(
    directory: Annotated[
        str, typer.Argument(help="A dataset written by `generate` (path or URL).")
    ],
    validate: Annotated[
        bool,
        typer.Option(
            "--validate/--no-validate",
            help="Also run the validation checks for the overview (they read the whole "
            "profiles table at once: seconds per 100,000 rows).",
        ),
    ] = False,
) -> None:
    """Write DIR/report.html: one self-contained HTML page (overview, people, faces, words,
    network, activity, accounts, column shapes) that opens offline in any browser."""
    from pipeline.report import write_report

    try:
        summary = write_report(directory, validate=validate)
    except ProfilegenError as e:
        fail(str(e))
    typer.echo(f"wrote {summary['path']} ({summary['bytes'] / 1e6:.2f} MB, "
               f"{len(summary['sections'])} sections)")  # fmt: skip


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
        _write_json(json_out, metrics)
    bad = metrics["leak_rate"] > 0 or metrics["duplicate_rate"] > 0
    raise typer.Exit(1 if bad else 0)


@app.command("eval-posts")
def eval_posts(
    directory: Annotated[
        str, typer.Argument(help="A dataset written by `generate` (path or URL).")
    ],
    sample: Annotated[int, typer.Option(help="Reply/parent pairs embedded for relevance.")] = 400,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the metrics to this JSON file.")
    ] = None,
) -> None:
    """Post quality: volume, local-time rhythm, threads, gate pass rate, leaks, duplicates,
    diversity, topical consistency and reply relevance."""

    from pipeline.dataset.storage import open_store
    from pipeline.dataset.writer import read_manifest
    from pipeline.posts.metrics import dataset_post_metrics, format_post_metrics

    try:
        if sample < 10:
            raise ProfilegenError(f"--sample must be at least 10, got {sample}")
        store = open_store(directory)
        manifest = read_manifest(store)
        if "posts" not in manifest.get("tables", {}):
            raise ProfilegenError(f"{directory} has no posts table (generated with --posts none)")
        metrics = dataset_post_metrics(store, len(manifest["shards"]), sample)
    except ProfilegenError as e:
        fail(str(e))
    typer.echo(format_post_metrics(metrics))
    if json_out is not None:
        _write_json(json_out, metrics)
    bad = metrics["leak_rate"] > 0 or metrics["posts_before_account"] > 0
    raise typer.Exit(1 if bad else 0)


EXPORT_FORMATS = ("twibot22: TwiBot-22's user.json, tweet_0..8.json, edge.csv, label.csv, "
                  "split.csv (needs the accounts stage's labels).")  # fmt: skip


@app.command()
def export(
    directory: Annotated[str, typer.Argument(help="A dataset written by `generate`.")],
    fmt: Annotated[str, typer.Option("--format", help=EXPORT_FORMATS)],
    out: Annotated[str, typer.Option(help="Folder or URL: new, empty, or an earlier export.")],
) -> None:
    """Write the dataset in another benchmark's layout, so its detectors run on it as is."""
    from pipeline.export import export_dataset

    try:
        summary = export_dataset(directory, fmt, out)
    except ProfilegenError as e:
        fail(str(e))
    typer.echo(f"exported {summary['users']:,} users, {summary['tweets']:,} tweets and "
               f"{sum(summary['edges'].values()):,} edges ({fmt}) to {out}")  # fmt: skip


def _write_json(path: Path, metrics: dict) -> None:
    """Metrics as JSON at `path` (atomic, through the store); NaN (not measurable) as null."""
    import json
    import math

    from pipeline.dataset.storage import open_store

    clean = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in metrics.items()}
    text = json.dumps(clean, indent=2) + "\n"
    open_store(str(path.parent.resolve())).put_bytes(path.name, text.encode())


def read_shard_columns(store, manifest: dict) -> list[str]:
    from pipeline.dataset.writer import read_shard_schema

    return read_shard_schema(store, manifest["shards"][0]["file"]).names


@app.command("eval-detector")
def eval_detector(
    directory: Annotated[
        str, typer.Argument(help="A dataset written by `generate` with bots (path or URL).")
    ],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report to this JSON file.")
    ] = None,
) -> None:
    """Baseline bot detectors: a random forest on BotometerLite's profile features and
    gradient boosting on profile, graph and posting features, trained on the train split
    and scored on the test split; writes DIR/detector.json and the card's section."""

    from pipeline.detect.report import evaluate_dataset, format_report, write_results

    try:
        report = evaluate_dataset(directory)
        write_results(directory, report)
    except ProfilegenError as e:
        fail(str(e))
    typer.echo(format_report(report))
    if json_out is not None:
        _write_json(json_out, report)


def main() -> None:
    """The `profilegen` console script: the app, then an exit without the interpreter's
    teardown. After a run the interpreter spends seconds freeing the gazetteer's, models'
    and caches' objects one by one (2.7 s after make run's 1,000 rows on an idle 2-core AMD
    EPYC) with nothing left to do: every file is written atomically and closed, Prefect's
    log and event workers are drained and its server stopped. atexit handlers still run."""
    import atexit

    try:
        app()
        code = 0
    except SystemExit as e:
        code = e.code
    if isinstance(code, str):  # sys.exit("message"), as Python prints it
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


if __name__ == "__main__":  # pragma: no cover
    main()
