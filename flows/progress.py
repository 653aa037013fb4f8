"""A process-local hook so tasks (threads of this process) can move the CLI's progress bar."""

from collections.abc import Callable
from typing import Any

_listener: Callable[[int, dict[str, Any]], None] | None = None


def set_listener(fn: Callable[[int, dict[str, Any]], None] | None) -> None:
    global _listener
    _listener = fn


def advance(n: int, **fields: Any) -> None:
    """Report `n` more units done (rows, steps), with optional fields such as img_per_s."""
    if _listener is not None:
        _listener(n, fields)
