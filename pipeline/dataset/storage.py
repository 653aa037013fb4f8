"""Where a dataset is written: a local folder or any fsspec URL (s3://, memory://, ...).

`open_store(out)` turns `--out` into a Store: a root plus the few operations the dataset
code needs (atomic put, read, exists, list, remove), on paths relative to the root.

- Local folders behave as they always did: a put writes a temp file beside the target,
  fsyncs it and `os.replace`s it into place.
- Object stores have no rename. A put uploads to a temp key beside the target
  (`<dir>/.tmp-<uuid>-<name>`), copies it to the final key (a server-side copy: the object
  appears whole or not at all) and deletes the temp key. On failure the temp key is
  removed where possible; `clean_temp` sweeps up the ones a killed run left behind.

S3 settings come from the usual places: AWS_* variables, ~/.aws, instance roles,
AWS_ENDPOINT_URL (read by botocore) and fsspec's FSSPEC_S3_* options.
PROFILEGEN_S3_ENDPOINT_URL, if set, takes precedence as the endpoint (MinIO, moto, ...).
"""

import gc
import hashlib
import logging
import os
import posixpath
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO

from pipeline.core.files import atomic_write, stale_temps
from pipeline.errors import ProfilegenError

ENDPOINT_ENV = "PROFILEGEN_S3_ENDPOINT_URL"
TEMP_PREFIX = ".tmp-"
S3_PROTOCOLS = ("s3", "s3a")

log = logging.getLogger(__name__)


class Store:
    """A dataset root. `rel` arguments are '/'-separated paths under it ('' is the root)."""

    url: str

    def __str__(self) -> str:
        return self.url

    def exists(self, rel: str) -> bool:
        raise NotImplementedError

    def is_file(self, rel: str) -> bool:
        raise NotImplementedError

    def read_bytes(self, rel: str) -> bytes:
        raise NotImplementedError

    def open(self, rel: str) -> BinaryIO:
        raise NotImplementedError

    def put_bytes(self, rel: str, data: Any) -> None:
        """Write `data` (bytes-like) to `rel` atomically: all of it or nothing."""
        raise NotImplementedError

    def list(self, rel: str = "") -> list[str]:
        """Names directly under `rel` (files and folders), sorted; [] if there is nothing."""
        raise NotImplementedError

    def create_exclusive(self, rel: str, data: bytes) -> bool:
        """Create `rel` holding `data` unless it exists; True if this call created it.
        Object stores have no atomic create: there it is check-then-put (best effort)."""
        if self.exists(rel):
            return False
        self.put_bytes(rel, data)
        return True

    def remove(self, rel: str) -> None:
        raise NotImplementedError

    def remove_tree(self, rel: str) -> None:
        raise NotImplementedError

    def makedirs(self, rel: str) -> None:
        """Create folder `rel` where folders exist (a no-op on object stores)."""

    def clean_temp(self, rel: str) -> None:
        """Remove temp files a killed writer left in folder `rel`."""
        raise NotImplementedError

    def check_writable(self) -> None:
        """Raise ProfilegenError, worded for the user, unless a write to the root works."""
        raise NotImplementedError

    def check_readable(self) -> None:
        """Raise ProfilegenError, worded for the user, if the root can't be read at all
        (no bucket, bad credentials); a root that is merely empty passes."""

    def arrow(self, rel: str) -> tuple[Any, str]:
        """(pyarrow filesystem or None for local, path) for pyarrow's readers."""
        raise NotImplementedError

    @contextmanager
    def user_errors(self, doing: str) -> Iterator[None]:
        """Turn the store's errors (no bucket, bad credentials, ...) into one-line ones."""
        yield

    def sha256(self, rel: str) -> str:
        h = hashlib.sha256()
        with self.open(rel) as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()


class LocalStore(Store):
    def __init__(self, root: Path):
        self.root = root
        self.url = str(root)

    def path(self, rel: str) -> Path:
        return self.root / rel if rel else self.root

    def exists(self, rel: str) -> bool:
        return self.path(rel).exists()

    def is_file(self, rel: str) -> bool:
        return self.path(rel).is_file()

    def read_bytes(self, rel: str) -> bytes:
        return self.path(rel).read_bytes()

    def open(self, rel: str) -> BinaryIO:
        return open(self.path(rel), "rb")

    def put_bytes(self, rel: str, data: Any) -> None:
        atomic_write(self.path(rel), data)

    def create_exclusive(self, rel: str, data: bytes) -> bool:
        path = self.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return True

    def list(self, rel: str = "") -> list[str]:
        p = self.path(rel)
        return sorted(c.name for c in p.iterdir()) if p.is_dir() else []

    def remove(self, rel: str) -> None:
        self.path(rel).unlink(missing_ok=True)

    def remove_tree(self, rel: str) -> None:
        shutil.rmtree(self.path(rel), ignore_errors=True)

    def makedirs(self, rel: str) -> None:
        self.path(rel).mkdir(parents=True, exist_ok=True)

    def clean_temp(self, rel: str) -> None:
        for stale in stale_temps(self.path(rel)):
            stale.unlink()

    def check_writable(self) -> None:
        out = self.root
        if out.exists() and not out.is_dir():
            raise ProfilegenError(f"output path {out} exists and is not a directory")
        probe = out
        while not probe.exists():
            probe = probe.parent
        if not probe.is_dir():
            raise ProfilegenError(f"output directory {out} is not writable: {probe} is a file")
        # A real probe, not os.access: root passes access checks on read-only mounts.
        try:
            tempfile.TemporaryDirectory(dir=probe, prefix=".profilegen-probe-").cleanup()
        except OSError as e:
            raise ProfilegenError(
                f"output directory {out} is not writable ({probe}: {e.strerror})"
            ) from None

    def arrow(self, rel: str) -> tuple[Any, str]:
        return None, str(self.path(rel))


class FsspecStore(Store):
    """Any fsspec filesystem; S3 gets its bucket checked and its errors worded."""

    def __init__(self, url: str, fs: Any, root: str, bucket: str | None = None):
        self.url, self.fs, self.root, self.bucket = url, fs, root.rstrip("/"), bucket

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def exists(self, rel: str) -> bool:
        return self.fs.exists(self.path(rel))

    def is_file(self, rel: str) -> bool:
        return self.fs.isfile(self.path(rel))

    def read_bytes(self, rel: str) -> bytes:
        return self.fs.cat_file(self.path(rel))

    def open(self, rel: str) -> BinaryIO:
        return self.fs.open(self.path(rel), "rb")

    def put_bytes(self, rel: str, data: Any) -> None:
        final = self.path(rel)
        folder, name = posixpath.split(final)
        tmp = f"{folder}/{TEMP_PREFIX}{uuid.uuid4().hex}-{name}"
        try:
            self.fs.pipe_file(tmp, bytes(data))
            self.fs.cp_file(tmp, final)
        except BaseException:
            with suppress(Exception):
                self.fs.rm_file(tmp)
            raise
        try:
            self.fs.rm_file(tmp)
        except Exception as e:  # the put itself worked; the next run sweeps the temp key
            log.warning("could not remove temp object %s: %s", tmp, e)

    def list(self, rel: str = "") -> list[str]:
        path = self.path(rel)
        try:
            entries = self.fs.ls(path, detail=False)
        except FileNotFoundError:
            return []
        base = self.fs._strip_protocol(path).rstrip("/")
        names = {posixpath.basename(e.rstrip("/")) for e in entries if e.rstrip("/") != base}
        return sorted(names)

    def remove(self, rel: str) -> None:
        with suppress(FileNotFoundError):
            self.fs.rm_file(self.path(rel))

    def remove_tree(self, rel: str) -> None:
        if self.list(rel):
            with suppress(FileNotFoundError):
                self.fs.rm(self.path(rel), recursive=True)

    def clean_temp(self, rel: str) -> None:
        for name in self.list(rel):
            if name.startswith(TEMP_PREFIX):
                self.remove(f"{rel}/{name}")

    def check_writable(self) -> None:
        with self.user_errors("write to"):
            # A real write first: its error says what is wrong (a HEAD's only says 403).
            probe = self.path(f"{TEMP_PREFIX}{uuid.uuid4().hex}-probe")
            self.fs.pipe_file(probe, b"")
            self.fs.rm_file(probe)
            if self.root.partition("/")[2] and self.fs.isfile(self.root):
                raise ProfilegenError(f"output path {self.url} exists and is not a directory")

    def check_readable(self) -> None:
        with self.user_errors("read"):
            try:
                self.fs.ls(self.root, detail=False)  # the dataset root: a few entries
            except FileNotFoundError:
                if self.bucket and not self._bucket_exists():
                    raise

    def arrow(self, rel: str) -> tuple[Any, str]:
        from pyarrow.fs import FSSpecHandler, PyFileSystem

        return PyFileSystem(FSSpecHandler(self.fs)), self.path(rel)

    @contextmanager
    def user_errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except ProfilegenError:
            raise
        except Exception as e:
            raise ProfilegenError(self._describe(e, doing)) from None

    def _describe(self, e: Exception, doing: str) -> str:
        where = f"cannot {doing} {self.url}"
        name = type(e).__name__
        msg = (str(e).strip().splitlines() or [name])[0]
        if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
            return (
                f"{where}: no usable credentials ({msg}); set AWS_ACCESS_KEY_ID and "
                f"AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
            )
        if isinstance(e, PermissionError):
            return (
                f"{where}: access denied ({msg}); check AWS_ACCESS_KEY_ID and "
                f"AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) and the bucket's permissions"
            )
        if isinstance(e, FileNotFoundError) and self.bucket and not self._bucket_exists():
            return f"{where}: bucket {self.bucket!r} does not exist"
        if name in ("EndpointConnectionError", "ConnectTimeoutError") or isinstance(
            e, ConnectionError
        ):
            return f"{where}: cannot reach the object store ({msg}); check the endpoint"
        return f"{where}: {msg}"

    def _bucket_exists(self) -> bool:
        try:
            return self.fs.exists(self.bucket)
        except Exception:
            return True  # can't tell; report the original error instead


# One filesystem per protocol, options and AWS/fsspec environment: reused across shards
# (its connection pool with it), rebuilt when credentials in the environment change.
_filesystems: dict[tuple, Any] = {}
_filesystems_lock = threading.Lock()


def _filesystem(protocol: str, options: dict[str, Any]) -> Any:
    import fsspec

    env = tuple(
        sorted((k, v) for k, v in os.environ.items() if k.startswith(("AWS_", "PROFILEGEN_S3_")))
    )
    key = (protocol, tuple(sorted(options.items())), env)
    with _filesystems_lock:
        fs = _filesystems.get(key)
        if fs is None:
            fs = fsspec.filesystem(protocol, skip_instance_cache=True, **options)
            _filesystems[key] = fs
    return fs


def s3_options() -> dict[str, Any]:
    # No listing cache: a resume must see objects deleted or changed since the last look.
    options: dict[str, Any] = {"use_listings_cache": False}
    if endpoint := os.environ.get(ENDPOINT_ENV):
        options["endpoint_url"] = endpoint
    return options


def open_store(out: "Store | str | os.PathLike[str]") -> Store:
    """The Store for `out`: a Store as is, a local path, or an fsspec URL."""
    if isinstance(out, Store):
        return out
    url = os.fspath(out)
    if isinstance(out, os.PathLike) or ("://" not in url and "::" not in url):
        return LocalStore(Path(url))
    import fsspec
    from fsspec.implementations.local import LocalFileSystem
    from fsspec.utils import get_protocol

    protocol = get_protocol(url)
    try:
        cls = fsspec.get_filesystem_class(protocol)
    except ValueError:
        raise ProfilegenError(
            f"{url}: unknown storage protocol {protocol!r} (use a local path, s3://, or "
            f"another fsspec protocol)"
        ) from None
    except ImportError as e:
        raise ProfilegenError(f"{url}: protocol {protocol!r} is not installed ({e})") from None
    if "::" in url:  # chained URLs (e.g. simplecache::s3://...): fsspec's own resolution
        with _wrap(url, "open"):
            fs, root = fsspec.core.url_to_fs(url)
        return FsspecStore(url, fs, root)
    options = s3_options() if protocol in S3_PROTOCOLS else {}
    # Host and port live in the URL for protocols such as ftp:// and sftp://.
    options |= {k: v for k, v in cls._get_kwargs_from_urls(url).items() if k not in options}
    with _wrap(url, "open"):
        fs = _filesystem(protocol, options)
    root = cls._strip_protocol(url)
    if isinstance(fs, LocalFileSystem):
        return LocalStore(Path(root))
    bucket = None
    if protocol in S3_PROTOCOLS:
        bucket = root.partition("/")[0]
        if not bucket:
            raise ProfilegenError(f"{url}: give a bucket, e.g. s3://my-bucket/profiles")
    return FsspecStore(url, fs, root, bucket)


@contextmanager
def _wrap(url: str, doing: str) -> Iterator[None]:
    try:
        yield
    except ProfilegenError:
        raise
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        # A filesystem whose constructor failed half-way complains from its __del__ ("Exception
        # ignored in ... FTPFileSystem.__del__"): free it now, with that noise silenced, so
        # the user sees one line.
        e.__traceback__ = None
        del e
        hook, sys.unraisablehook = sys.unraisablehook, lambda _: None
        try:
            gc.collect()
        finally:
            sys.unraisablehook = hook
        raise ProfilegenError(f"cannot {doing} {url}: {first}") from None
