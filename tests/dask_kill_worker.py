"""Dask worker preload for tests/test_runners.py: kill this worker in the middle of a shard.

The first time any worker writes shard 1, its Parquet temp file is cut to half its size (as
if the process died mid-write) and the process is SIGKILLed before the rename. The marker
file makes it happen once per test and records the partial file's path.
"""

import os
import signal
from pathlib import Path

import pipeline.dataset as dataset

MARKER = Path(os.environ["PROFILEGEN_TEST_KILL_MARKER"])
# Dask may run a preload twice in one process: never wrap the wrapper.
_real = getattr(dataset.pq.write_table, "real", dataset.pq.write_table)


def _write_then_die(table, where, **kw):
    _real(table, where, **kw)
    if ".train-00001-" in str(where) and not MARKER.exists():
        MARKER.write_text(str(where))
        os.truncate(where, os.path.getsize(where) // 2)
        os.kill(os.getpid(), signal.SIGKILL)


_write_then_die.real = _real
dataset.pq.write_table = _write_then_die
