"""Per-row random streams: `row_seeds` gives the bio stage's seeds, value for value."""

import numpy as np

from pipeline.core.rng import GOLDEN, row_seeds, splitmix64

# Recorded from pipeline/bios/stage.py's row_seeds before it moved here: datasets already
# written depend on these.
RECORDED = {
    (11, 0, 3, 0): [8587596929920305519, 12479808127057413073, 2262571728726217358],
    (0, 5, 2, 1): [2334365905077769922, 8886641267152429433],
    (2**63 - 1, 1000, 2, 99): [1252133322192734707, 10443378298907436198],
    (4, 0, 1, 3): [6863097656469162098],
}


def test_row_seeds_match_the_recorded_values():
    for (seed, start, n, salt), want in RECORDED.items():
        got = row_seeds(seed, start, n, salt=salt)
        assert got.dtype == np.uint64 and [int(x) for x in got] == want


def test_a_rows_seed_does_not_depend_on_its_shard():
    whole = row_seeds(7, 0, 100, salt=2)
    assert np.array_equal(np.concatenate([row_seeds(7, 0, 40, 2), row_seeds(7, 40, 60, 2)]), whole)
    assert len(set(whole.tolist())) == 100
    assert not np.array_equal(row_seeds(7, 0, 100, salt=3), whole)


def test_splitmix64_is_a_bijection_sample():
    z = np.arange(10_000, dtype=np.uint64) * GOLDEN
    assert len(np.unique(splitmix64(z))) == len(z)


def test_the_scalar_splitmix_is_the_array_one():
    import numpy as np

    from pipeline.core.rng import splitmix64, splitmix64_int

    xs = np.array([0, 1, 2**63, 2**64 - 1, 0x9E3779B97F4A7C15], dtype=np.uint64)
    assert [splitmix64_int(int(x)) for x in xs] == [int(v) for v in splitmix64(xs)]
