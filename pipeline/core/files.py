"""The one way files are written and hashed: temp file beside the target, fsync, rename.

A reader (another worker, a resumed run, a user's `ls`) sees the old file or the new one,
never half of one. Temp names are `.<name>.tmp-<pid>-<thread>` so concurrent writers never
share one, and `stale_temps` can sweep up what a killed writer left.
"""

import functools
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEMP_GLOB = ".*.tmp-*"


@contextmanager
def atomic_path(path: str | os.PathLike, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temp path beside `path`; write to it in the block. On success it is fsynced
    and renamed onto `path`; on any error (KeyboardInterrupt included) it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike, data: bytes | str | memoryview) -> None:
    """Write `data` (str as UTF-8) to `path` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp folder beside `path`; fill it in the block; it is then renamed onto
    `path` (a cache entry appears whole or not at all). If another process renamed its own
    copy first, ours is dropped: the two are the same by construction."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp-"))
    try:
        yield tmp
        try:
            tmp.rename(path)
        except OSError:  # the other process won the race
            pass
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Temp files a killed writer left in `folder`."""
    return sorted(Path(folder).glob(TEMP_GLOB))


def sha256_file(path: str | os.PathLike) -> str:
    """sha256 of a file, cached per (path, size, mtime): weights are hashed for every shard's
    provenance and read once per process."""
    p = Path(path).resolve()
    st = p.stat()
    return _sha256_cached(str(p), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _sha256_cached(path: str, size: int, mtime: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
