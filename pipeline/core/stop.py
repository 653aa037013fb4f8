"""A cooperative stop: a signal handler asks, long loops check between batches.

Writes are atomic and every finished shard has its receipt, so stopping between two
batches loses at most the shard in progress, and the same command resumes the run.
"""

import threading

from pipeline.errors import ProfilegenError

_requested = threading.Event()


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
