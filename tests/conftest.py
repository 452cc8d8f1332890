"""Fixtures for the unit tests.

The dataset fixtures (``mnist_data``, ``celeba_data``, ``pokemon_data``) live in the
repository's top-level conftest.py, beside the once-per-session data check.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
