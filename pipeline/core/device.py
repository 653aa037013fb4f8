"""Where torch runs and how many threads it takes: one answer for every model user.

The env vars are how a deployment steers a worker without touching the config (they are
run options: they change no `config_hash`). torch is imported inside the functions, so
importing this costs nothing and the GPU benchmark's slim install can use it.
"""

import os
from functools import cache


def torch_device(kind: str) -> str:
    """Device for the `kind` model ("avatar", "bio"): PROFILEGEN_<KIND>_DEVICE if set, else
    cuda when a GPU is visible, else cpu."""
    env = os.environ.get(f"PROFILEGEN_{kind.upper()}_DEVICE")
    if env:
        return env
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def torch_threads() -> int:
    """PROFILEGEN_TORCH_THREADS, else every core: process and Dask runners set the variable
    to cores / workers, so workers share the machine instead of each taking all of it."""
    return int(os.environ.get("PROFILEGEN_TORCH_THREADS", "0")) or (os.cpu_count() or 1)


def set_torch_threads() -> int:
    """Apply `torch_threads()` to this process (again is harmless); call before a model's
    first torch op. fp32 sums may split differently with another thread count, so every
    model user takes the same number. Returns it."""
    import torch

    keep_freed_memory()
    n = torch_threads()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def threads_per_process(workers: int) -> int:
    """Torch threads for each of `workers` processes on this machine: the cores shared out."""
    return max(1, (os.cpu_count() or 1) // workers)


@cache
def keep_freed_memory() -> bool:
    """Tell glibc's malloc to keep freed blocks instead of handing them back to the kernel.

    By default a block over a few MB (every activation of a batch) is mmap'ed on malloc and
    unmapped on free, so each new tensor page-faults its memory in again: on 2 cores that
    cost the LM's prompt pass a third of its time in bf16 (64 rows x 40 tokens: 1.6 s ->
    1.15 s) and silu alone ran 3.6x slower. The price: the process keeps its peak heap.
    Other allocators (macOS, musl) are left as they are."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    # M_MMAP_THRESHOLD (-3) and M_TRIM_THRESHOLD (-1), 1 GiB each (an int is the limit).
    return bool(mallopt(-3, 1 << 30)) and bool(mallopt(-1, 1 << 30))
