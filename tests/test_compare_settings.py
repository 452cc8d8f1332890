"""scripts/compare_settings.py: a class setting beside a pinned one, from the two sweeps' rows."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
compare_settings = importlib.import_module("compare_settings")


def row(precision: str, minutes: float, verdict: str = "pass", count: int | None = 60,
        error: float | None = 0.05, diversity: float = 1.1) -> dict:
    return {"seed": 0, "precision": precision, "minutes": minutes, "iterations": 100, "verdict": verdict,
            "metrics": {"diversity_ratio": diversity}, "estimate_error": error, "count": count}


def test_new_over_old_passes_counts_and_estimates_per_precision():
    new = [row("bf16", 4.0, count=63), row("bf16", 4.4, count=64, error=-0.1), row("bf16", 4.2, count=60),
           row("fp32-avx2", 10.0), row("fp32-avx2", 9.0, verdict="fail", count=40)]
    old = [row("bf16", 10.0, count=64), row("bf16", 12.0, count=63, error=0.2), row("fp32-avx2", 30.0)]
    text, records = compare_settings.compare("03", new, old, "class_64px_1683x32")
    by = {(r["precision"], r["setting"]): r for r in records}
    assert by["bf16", "class"]["new_over_old"] == pytest.approx(4.2 / 11.0)  # medians: 4.2 and 11.0
    assert by["fp32-avx2", "class"]["new_over_old"] == pytest.approx(9.5 / 30.0)
    assert by["bf16", "class_64px_1683x32"]["new_over_old"] is None
    assert (by["bf16", "class"]["passed"], by["fp32-avx2", "class"]["passed"]) == (3, 1)
    assert by["bf16", "class"]["counted"] == (60, 64) and by["fp32-avx2", "class"]["counted"] == (40, 60)
    assert by["bf16", "class_64px_1683x32"]["estimate_errors"] == (0.05, 0.2)
    assert "| bf16 | class | 3 | 3 of 3 | 4.2 | 0.38 | diversity 1.10, 60 to 64 of 64 cells read as faces " \
           "| -10% to +5% |" in text
    assert "| fp32-avx2 | class | 2 | 1 of 2 | 9.5 | 0.32 |" in text
    assert "| fp32-avx2 | class_64px_1683x32 | 1 | 1 of 1 | 30.0 |  | diversity 1.10, 60 of 64 cells read as faces |" in text


def test_runs_without_a_count_or_estimate_show_none():
    new, old = [row("bf16", 5.0, count=None, error=None)], [row("bf16", 10.0, count=None, error=None)]
    text, records = compare_settings.compare("02", new, old, "class_64px_1500x32")
    assert records[0]["counted"] is None and records[0]["estimate_errors"] is None
    assert "| bf16 | class | 1 | 1 of 1 | 5.0 | 0.50 | diversity 1.10 |  |" in text
