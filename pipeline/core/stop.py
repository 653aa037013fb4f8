"""A cooperative stop: a signal handler asks, long loops check between batches.

Writes are atomic and every finished shard has its receipt, so stopping between two
batches loses at most the shard in progress, and the same command resumes the run.
"""

import contextlib
import threading
from collections.abc import Iterator

from pipeline.errors import ProfilegenError

_requested = threading.Event()
# Set while the main thread runs the stages itself (see `stages_here`).
_here = threading.Event()


class Stopped(ProfilegenError):
    """Raised inside a stage when a stop was asked for (SIGTERM, Ctrl-C)."""


def request_stop() -> None:
    _requested.set()


def clear_stop() -> None:
    _requested.clear()


def stop_requested() -> bool:
    return _requested.is_set()


def check_stop() -> None:
    """Call between batches: raises Stopped once a stop was asked for."""
    if _requested.is_set():
        raise Stopped("stopped by a signal; rerun the same command to resume")


@contextlib.contextmanager
def stages_here() -> Iterator[None]:
    """Mark a block in which the main thread makes shards itself: a signal handler then only
    asks (the stages stop at their next batch, the caller ends the run after the shard)
    instead of interrupting the main thread, which would cut a stage mid-batch."""
    _here.set()
    try:
        yield
    finally:
        _here.clear()


def stages_run_here() -> bool:
    return _here.is_set()
