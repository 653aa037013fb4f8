"""A process-local hook so shard tasks (threads of this process) can move the CLI's bar."""

from collections.abc import Callable

_listener: Callable[[int], None] | None = None


def set_listener(fn: Callable[[int], None] | None) -> None:
    global _listener
    _listener = fn


def advance(rows: int) -> None:
    if _listener is not None:
        _listener(rows)
