"""Errors the data loaders raise; each message names the file or folder and the fix."""
from __future__ import annotations


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not where the tutorial looked; the message says how to get it."""


class CorruptDatasetError(DatasetNotFoundError):
    """A dataset file exists but its contents are wrong; the message names it and says to delete it."""
