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
        str | None, typer.Option(help="Output directory [default: output/demo].")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML or TOML file; flags override it.")
    ] = None,
    avatars: Annotated[str | None, typer.Option(help="Avatar source: none.")] = None,
    bios: Annotated[str | None, typer.Option(help="Bio source: none.")] = None,
    shard_rows: Annotated[
        str | None, typer.Option(help="Rows per Parquet shard [default: 50000].")
    ] = None,
    workers: Annotated[str | None, typer.Option(help="Shards made at once [default: 2].")] = None,
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
            bios=bios,
            shard_rows=shard_rows,
            workers=workers,
            reference_date=reference_date,
        )
        from pipeline.dataset import check_output

        check_output(cfg, Path(cfg.out), mode)
    except ProfilegenError as e:
        fail(str(e))

    # Imported late: `import prefect` alone costs ~2 s, wasted on a bad-input exit.
    from flows import progress
    from flows.generate import run_generate

    bar = Progress(
        TextColumn("[bold]profiles"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    with bar:
        job = bar.add_task("generate", total=cfg.rows, rate="")

        def on_rows(n: int) -> None:
            bar.advance(job, n)
            speed = bar.tasks[job].speed
            bar.update(job, rate=f"{speed:,.0f} rows/s" if speed else "")

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
def inspect(
    directory: Annotated[Path, typer.Argument(help="A dataset written by `generate`.")],
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


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
