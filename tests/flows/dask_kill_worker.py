"""Dask worker preload for tests/flows/test_runners.py: kill this worker in the middle of a shard.

The first time any worker writes shard 1, its Parquet temp file is cut to half its size (as
if the process died mid-write) and the process is SIGKILLed before the rename. The marker
file makes it happen once per test and records the partial file's path.
"""

import os
import signal
from pathlib import Path

import pipeline.dataset.storage as storage

MARKER = Path(os.environ["PROFILEGEN_TEST_KILL_MARKER"])
# Dask may run a preload twice in one process: never wrap the wrapper. (This patches
# os.replace for the whole worker process, which runs nothing but this test's shards.)
_real = getattr(storage.os.replace, "real", storage.os.replace)


def _half_written_then_die(src, dst, *args, **kw):
    if ".train-00001-" in str(src) and not MARKER.exists():
        MARKER.write_text(str(src))
        os.truncate(src, os.path.getsize(src) // 2)
        os.kill(os.getpid(), signal.SIGKILL)
    return _real(src, dst, *args, **kw)


_half_written_then_die.real = _real
storage.os.replace = _half_written_then_die
