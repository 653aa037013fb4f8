"""SplitMix64's finaliser on numpy arrays: the counter-based hash behind every per-row
random stream of the bio stage (row seeds, sampling uniforms). Numpy only, so the GPU
benchmark's slim install can import it."""

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M64 = (1 << 64) - 1


def splitmix64(z: np.ndarray) -> np.ndarray:
    """A bijection on uint64 with full avalanche: nearby counters give unrelated words."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def splitmix64_int(z: int) -> int:
    """The same finaliser on one Python int (the template engine draws a word at a time,
    where a numpy call would cost more than the arithmetic)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def row_seeds(seed: int, start: int, n: int, salt: int = 0) -> np.ndarray:
    """SplitMix64 of (seed, global row index, salt): independent streams per row, and a row's
    stream does not depend on which shard or batch holds it."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) * np.uint64(0xD1B54A32D192ED03)
        z = z + np.uint64(salt) * np.uint64(0x8CB92BA72F3D8DD7)
        z = z + (np.arange(start, start + n, dtype=np.uint64) + np.uint64(1)) * GOLDEN
        return splitmix64(z)
