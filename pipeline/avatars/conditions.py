"""The conditions an avatar is made for, shared by corpus, GAN, metrics and datasets.

Index order is part of every checkpoint's config: append new values, never reorder.
"""

import numpy as np

# Condition name -> the values it can take (index = the integer label).
CONDITIONS: dict[str, tuple[str, ...]] = {
    "gender": ("female", "male"),  # presentation, matched to the row's gender
    "age_band": ("13-24", "25-44", "45-64", "65+"),
    "skin": ("light", "medium", "dark"),  # free attribute, sampled at generation time
}
AGE_BAND_LOWER = np.array([13, 25, 45, 65])


def age_band(ages: np.ndarray) -> np.ndarray:
    """Age in years -> age_band label (int64)."""
    return np.searchsorted(AGE_BAND_LOWER, np.asarray(ages), side="right") - 1
