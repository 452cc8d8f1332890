"""scripts/compare_variants.py: stopped runs are not counted as finished, and the equal-time
table reads each run's quality at the baseline's minutes."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))  # compare_variants imports sweep from beside it
spec = importlib.util.spec_from_file_location("compare_variants", REPO / "scripts" / "compare_variants.py")
compare_variants = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_variants)


def _run(variant: str, seed: int, iterations: int, evals: list[int], frechet: list[float]) -> dict:
    return {"run": f"{variant}_class_seed{seed}", "variant": variant, "seed": seed, "status": "done",
            "iterations": iterations, "minutes": 99.0, "metric_iterations": evals,
            "curve": ([0.0] * len(evals), frechet)}


def test_a_stopped_run_is_listed_as_stopped_not_done(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"interrupted": True, "iterations": 1481}))
    row = compare_variants.read_run(tmp_path)
    assert row["status"] == "stopped at 1,481 updates (resumable)"
    assert compare_variants.read_run(tmp_path / "absent")["status"] == "not run"


def test_minutes_come_from_updates_times_the_measured_seconds_per_update():
    rows = [_run("07", 0, 1500, [0, 750, 1500], [800.0, 300.0, 150.0])]
    compare_variants.apply_times(rows, {"07": 0.2})
    assert rows[0]["minutes"] == 5.0 and rows[0]["measured_minutes"] == 99.0
    assert rows[0]["curve"][0] == [0.0, 2.5, 5.0]


def test_equal_time_reads_each_run_at_the_baselines_minutes():
    times = {"07": 0.2, "07-wgan-gp": 1.0, "07-hinge": 0.21}
    rows = [_run("07", 0, 1500, [0, 100, 1500], [800.0, 600.0, 150.0]),
            _run("07", 1, 1500, [0, 100, 1500], [800.0, 600.0, 170.0]),
            # 300 s of baseline = 300 WGAN-GP updates: the evaluation at 300, not 400's
            _run("07-wgan-gp", 0, 1500, [0, 100, 300, 400], [800.0, 500.0, 400.0, 100.0]),
            _run("07-wgan-gp", 1, 100, [0, 100], [800.0, 500.0]),  # stopped long before 300 s
            # 1,428 hinge updates fit: 28% of the way from the evaluation at 1,400 to 1,500's
            _run("07-hinge", 0, 1500, [0, 1400, 1500], [800.0, 200.0, 100.0])]
    text = compare_variants.at_equal_time(rows, times)
    assert "after 5.0 minutes" in text
    assert "| 07 | 0.200 | 1,500 | 160 (150–170) | 2 |" in text
    assert "| 07-wgan-gp | 1.000 | 300 | 400 | 1 (too short: 07-wgan-gp_class_seed1) |" in text
    assert "| 07-hinge | 0.210 | 1,428 | 172 | 1 |" in text
    assert compare_variants.at_equal_time(rows, {}) == ""


def test_equal_updates_rows_count_only_runs_of_the_whole_length():
    rows = [_run("07-wgan-gp", 0, 1500, [0, 1500], [800.0, 160.0]),
            _run("07-wgan-gp", 1, 300, [0, 300], [800.0, 400.0]),
            _run("07-wgan-gp", 2, 300, [0, 300], [800.0, 430.0])]
    for r in rows:
        r["metrics"] = {"frechet_distance": r["curve"][1][-1], "digits_covered": 10.0,
                        "top_digit_share": 0.1}
        r.update(precision="bf16", threads=1)
    text = compare_variants.table(rows, "class")
    assert "| 07-wgan-gp | WGAN-GP | 1 of 3 (2 stopped at 300, 300 updates) | 99.0 | 1,500 | 160 |" in text
