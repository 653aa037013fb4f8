"""What a scheduled run changes: its seed and its folder both come from its schedule slot.

A schedule that wrote the same seed into the same folder every night would make the same
dataset (or refuse to, finding it there). So a run the scheduler created for slot T gets a
seed mixed from the configured seed and T, and a folder named after T: a retried or late run
for the same slot makes the same bytes in the same place, and no two slots share either.
"""

import datetime as dt
from pathlib import Path

import numpy as np


def scheduled_seed(base_seed: int, slot: dt.datetime) -> int:
    """A 63-bit seed from (base seed, slot in whole UTC seconds)."""
    ts = int(slot.astimezone(dt.UTC).timestamp())
    state = np.random.SeedSequence([base_seed, ts]).generate_state(1, dtype=np.uint64)[0]
    return int(state >> np.uint64(1))  # GenerateConfig takes seeds below 2**63


def slot_name(slot: dt.datetime) -> str:
    """Folder name of a slot, sortable and unique per minute: 2026-11-27T0200Z."""
    return slot.astimezone(dt.UTC).strftime("%Y-%m-%dT%H%MZ")


def scheduled_out(root: str | Path, name: str, slot: dt.datetime) -> Path:
    """ROOT/NAME/<slot>: where the run scheduled for `slot` writes its dataset."""
    return Path(root) / name / slot_name(slot)
