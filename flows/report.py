"""`profilegen inspect`: schema, counts, sample rows and the validation summary, in rich."""

import json

import pyarrow.compute as pc
from rich.console import Console
from rich.table import Table

from pipeline.dataset.storage import open_store
from pipeline.dataset.validate import load_table, validate_dataset
from pipeline.dataset.writer import Location, read_manifest, read_shard_schema

SHOWN = ("username", "display_name", "age", "gender", "locale", "city", "region",
         "occupation", "email", "phone")  # fmt: skip


def print_inspection(out: Location, n_rows: int = 5) -> bool:
    console = Console()
    out = open_store(out)
    manifest = read_manifest(out)
    schema = read_shard_schema(out, manifest["shards"][0]["file"])
    prov = json.loads(schema.metadata[b"profilegen"])
    console.print(f"[bold]{out}[/]: {manifest['rows']:,} rows in {len(manifest['shards'])} "
                  f"shard(s), seed {prov['seed']}, reference date {prov['reference_date']}, "
                  f"config {manifest['config_hash']}")  # fmt: skip

    cols = Table(title="schema", show_lines=False)
    cols.add_column("column")
    cols.add_column("type")
    for f in schema:
        cols.add_row(f.name, str(f.type))
    console.print(cols)

    table = load_table(out)
    counts = Table(title="rows per locale")
    counts.add_column("locale")
    counts.add_column("rows", justify="right")
    for row in sorted(pc.value_counts(table["locale"]).to_pylist(), key=lambda r: -r["counts"]):
        counts.add_row(row["values"], f"{row['counts']:,}")
    console.print(counts)

    sample = Table(title=f"first {n_rows} rows")
    shown = [c for c in SHOWN if c in table.column_names]
    for c in shown:
        sample.add_column(c, overflow="fold")
    for r in table.slice(0, n_rows).select(shown).to_pylist():
        sample.add_row(*(str(r[c]) for c in shown))
    console.print(sample)

    for table, n in manifest.get("tables", {}).items():
        console.print(f"table [bold]{table}[/]: {n:,} rows (data/{table}/)")
    for stage, metrics in manifest.get("metrics", {}).items():
        shown_m = Table(title=f"{stage} metrics")
        shown_m.add_column("metric")
        shown_m.add_column("value", justify="right")
        for k, v in metrics.items():
            shown_m.add_row(k, f"{v:.4g}" if isinstance(v, float) else str(v))
        console.print(shown_m)

    checks = validate_dataset(out)
    summary = Table(title="validation")
    summary.add_column("check")
    summary.add_column("result")
    summary.add_column("detail")
    for c in checks:
        summary.add_row(c.name, "[green]ok[/]" if c.ok else "[red]FAIL[/]", c.detail)
    console.print(summary)
    return all(c.ok for c in checks)
