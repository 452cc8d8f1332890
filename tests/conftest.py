"""Fixtures for the unit tests."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

from gan_tutorial.data import data_root

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The data root holding the real datasets (MNIST/, celeba/, pokemon/)."""
    root = data_root()
    missing = [name for name in ("MNIST/raw", "celeba/img_align_celeba", "pokemon")
               if not (root / name).is_dir()]
    if missing:
        pytest.fail(f"Test data missing under {root}: {missing}. Set GAN_TUTORIAL_DATA to a "
                    f"folder holding MNIST/raw, celeba/img_align_celeba and pokemon/ "
                    f"(see README.md, 'Data').")
    return root
