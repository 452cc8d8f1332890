"""The class settings that README.md, docs/teaching.md and the notebooks state are the presets'.

A class setting is a fixed number of updates; when a preset changes, every page that tells a
teacher how much work a class run does must change with it.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from gan_tutorial.lessons import LESSONS

REPO = Path(__file__).resolve().parent.parent
CLASS_LESSONS = ["01", "02", "03", "04"]


def class_work(lesson: str) -> str:
    """How the pages write a class setting's work, e.g. "1,800 updates of 32"."""
    setting = LESSONS[lesson].settings["class"]
    return f"{setting.iterations:,} updates of {setting.batch_size}"


def class_cell(page: Path, lesson: str) -> str:
    """The class column of lesson ``lesson``'s row in ``page``'s settings table (the table whose
    header names a lesson column and a class column)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        header = [cell.strip().lower() for cell in line.split("|")]
        if len(header) > 2 and header[1] == "lesson" and any(c.startswith("class") for c in header):
            column = next(k for k, c in enumerate(header) if c.startswith("class"))
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                if re.match(rf"\|\s*{lesson}\b", row):
                    rows.append(row.split("|")[column])
            assert len(rows) == 1, f"{page.name}: {len(rows)} rows for lesson {lesson} in its settings table"
            return rows[0]
    raise AssertionError(f"{page.name} has no settings table (a header with lesson and class columns)")


@pytest.mark.parametrize("page", ["README.md", "docs/teaching.md"])
@pytest.mark.parametrize("lesson", CLASS_LESSONS)
def test_settings_tables_state_the_presets_class_work(page, lesson):
    cell = class_cell(REPO / page, lesson)
    assert class_work(lesson) in cell, (
        f"{page}, lesson {lesson}: the class column says {cell.strip()[:80]!r}, but the preset "
        f"trains {class_work(lesson)} (gan_tutorial/lessons/__init__.py)")


@pytest.mark.parametrize("lesson", ["02", "03", "04"])  # the notebooks whose SETTING line counts updates
def test_notebook_setting_comment_states_the_presets_updates(lesson):
    notebook = nbformat.read(REPO / "notebooks" / LESSONS[lesson].notebook, as_version=4)
    code = "".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    stated = re.findall(r"\"class\" \(([\d,]+) updates[^)]*\)", code)
    updates = f"{LESSONS[lesson].settings['class'].iterations:,}"
    assert stated, f"{LESSONS[lesson].notebook} no longer says how many updates its class setting trains"
    assert set(stated) == {updates}, (
        f"{LESSONS[lesson].notebook} says the class setting is {stated} updates; the preset trains {updates}")


def test_the_check_sees_a_stale_row(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("| lesson | quick | class | full |\n|---|---|---|---|\n"
                    "| 02 DCGAN | 128 digits | 4 epochs × 19,200 digits = 1,200 updates of 64 | 5 epochs |\n")
    assert class_cell(page, "02").strip().endswith("1,200 updates of 64")
    assert class_work("02") not in class_cell(page, "02")
