"""Pages quote measured numbers only from the records the measuring scripts wrote (issue 31's
numbers: lesson 00's ring and the live view's cost)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "docs" / "results.md"


def block(page: Path, marker: str) -> str:
    found = re.search(rf"<!-- {marker} -->\n?(.*?)\n?<!-- /{marker} -->", page.read_text(encoding="utf-8"), re.S)
    assert found, f"{page.name} has no <!-- {marker} --> block"
    return found.group(1)


@pytest.mark.parametrize("script, record, marker", [
    ("ring_modes", "lesson00_ring.json", "ring-record"),
    ("live_overhead", "live_overhead.json", "live-overhead-record"),
])
def test_results_page_shows_the_record_as_the_script_renders_it(script, record, marker):
    module = __import__(script)
    data = json.loads((REPO / "docs" / "results" / record).read_text())
    assert block(RESULTS, marker) == module.markdown_table(data)


def test_the_check_fails_on_a_changed_number(tmp_path):
    import ring_modes

    data = json.loads((REPO / "docs" / "results" / "lesson00_ring.json").read_text())
    data["recipes"]["collapse"]["final_modes"][0] += 1
    assert block(RESULTS, "ring-record") != ring_modes.markdown_table(data)


def test_teaching_guides_points_and_times_are_what_the_lessons_and_records_give():
    import teaching_tables

    page = (REPO / "docs" / "teaching.md").read_text(encoding="utf-8")
    assert teaching_tables.render(page) == page, "run python scripts/teaching_tables.py"
    assert block(REPO / "docs" / "teaching.md", "lesson-points-and-times") == teaching_tables.table()
    record = json.loads((REPO / "docs" / "results" / "00_points_2d_times.json").read_text())
    assert record["setting"] == "class" and record["longest"]["seconds"] < 60, "a lesson 00 cell trains for a minute"


def test_the_points_and_times_table_changes_with_a_record(tmp_path, monkeypatch):
    import teaching_tables

    for record in (REPO / "docs" / "results").glob("[0-9][0-9]_*_times.json"):
        data = json.loads(record.read_text())
        data["total_seconds"] += 600
        (tmp_path / record.name).write_text(json.dumps(data))
    monkeypatch.setattr(teaching_tables, "RESULTS", tmp_path)
    assert block(REPO / "docs" / "teaching.md", "lesson-points-and-times") != teaching_tables.table()


def test_the_points_in_the_table_are_the_notebooks_nbgrader_points():
    import nbformat

    text = block(REPO / "docs" / "teaching.md", "lesson-points-and-times")
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        points = sum(c.metadata.nbgrader.points for c in cells if c.metadata.get("nbgrader", {}).get("grade"))
        assert f"| [{path.name[:2]}](../notebooks/{path.name}) | {points} |" in text


PROBES = {"none (lr G = 1e-3)": {"lr_g": 0.001}, "lr G = 2.5e-4": {"lr_g": 0.00025}, "lr G = 5e-4": {"lr_g": 0.0005},
          "lr G = 2e-3": {"lr_g": 0.002}, "lr G = 4e-3": {"lr_g": 0.004}, "hinge loss": {"loss": "hinge"},
          "minimax G loss (seeds 0, 1; stopped)": {"loss": "minimax"}, "batches of 64": {"batch_size": 64},
          "batches of 512 and lr G = 5e-4": {"batch_size": 512, "lr_g": 0.0005},
          "WGAN-GP, lr 1e-3 (seed 0; stopped)": {"loss": "wgan-gp"}}


def test_the_ring_probes_table_shows_its_record():
    runs = {}
    for line in (REPO / "docs" / "results" / "lesson00_ring_probes.jsonl").read_text().splitlines():
        run = json.loads(line)
        changes = {k: v for k, v in run["kw"].items() if k != "seed"}
        runs.setdefault(json.dumps(changes, sort_keys=True), []).append(run)
    rows = {cells[0]: cells[1:] for cells in (
        [c.strip() for c in line.strip("|").split("|")]
        for line in RESULTS.read_text(encoding="utf-8").splitlines() if line.startswith("| "))}
    for label, changes in PROBES.items():
        measured = sorted(runs[json.dumps(changes, sort_keys=True)], key=lambda r: r["kw"]["seed"])
        modes, js = rows[label]
        assert modes.split(":")[0] == ", ".join(str(r["modes"][-1]) for r in measured), label
        assert js == ", ".join(f"{r['js'][-1]:.3f}" for r in measured), label
