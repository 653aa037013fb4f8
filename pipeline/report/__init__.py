"""The dataset's quality report: one self-contained HTML page, `DIR/report.html`.

    from pipeline.report import write_report
    write_report("output/demo")          # -> {"path": ".../report.html", "bytes": ..., ...}

Not a stage: it reads a finished dataset (manifest, shard metadata, the Parquet files in
streaming passes) and writes one file beside the manifest. pipeline.report.scan computes,
pipeline.report.figures draws (matplotlib), pipeline.report.html lays out,
pipeline.report.build decides what each section shows.
"""

from pipeline.report.build import REPORT, build_report, write_report

__all__ = ["REPORT", "build_report", "write_report"]
