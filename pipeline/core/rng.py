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


def unit(z: np.ndarray) -> np.ndarray:
    """U[0,1) from 64-bit hash words: their top 53 bits, every double in the range equally
    likely. The one way a hash becomes a uniform."""
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def row_seeds(seed: int, start: int, n: int, salt: int = 0) -> np.ndarray:
    """SplitMix64 of (seed, global row index, salt): independent streams per row, and a row's
    stream does not depend on which shard or batch holds it."""
    return seeds_at(seed, np.arange(start, start + n, dtype=np.uint64), salt)


def seeds_at(seed: int, index: np.ndarray, salt: int = 0) -> np.ndarray:
    """row_seeds at any indices (rows, campaigns): seeds_at(s, [i], k) == row_seeds(s, i, 1, k)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) * np.uint64(0xD1B54A32D192ED03)
        z = z + np.uint64(salt) * np.uint64(0x8CB92BA72F3D8DD7)
        z = z + (np.asarray(index).astype(np.uint64) + np.uint64(1)) * GOLDEN
        return splitmix64(z)


def mix63(x: np.ndarray) -> np.ndarray:
    """A bijection on [0, 2^63): xorshift-multiply rounds, each invertible mod 2^63. Ids are
    mix63(index + offset): unique by construction, and they look random."""
    mask = np.uint64(2**63 - 1)
    x = x & mask
    x ^= x >> np.uint64(31)
    x = (x * np.uint64(0x7FB5D329728EA185)) & mask
    x ^= x >> np.uint64(27)
    x = (x * np.uint64(0x41C64E6DA3BC0075)) & mask
    x ^= x >> np.uint64(33)
    return x


_GOLDEN_INT = int(GOLDEN)


class Draw:
    """Uniform choices from splitmix64(seed + k * golden), k = 1, 2, ...

    Each 64-bit word is spent as mixed-radix digits (x % n, then x //= n) and replaced by the
    next one once fewer than n * 2^16 values are left, so the modulo bias stays below 2^-16.
    ~0.2 us a word, where random.Random(seed) costs ~5 us just to seed: the template engines
    (bios, posts) draw a word at a time.
    """

    __slots__ = ("seed", "k", "x", "room")

    def __init__(self, seed: int):
        self.seed, self.k, self.x, self.room = int(seed) & M64, 0, 0, 0

    def __call__(self, n: int) -> int:
        if self.room < n << 16:
            self.k += 1
            self.x, self.room = splitmix64_int((self.seed + self.k * _GOLDEN_INT) & M64), 1 << 64
        r = self.x % n
        self.x //= n
        self.room //= n
        return r

    def pick(self, seq):
        return seq[self(len(seq))]
