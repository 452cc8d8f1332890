"""Class settings and the pinned settings they replaced: what each trains, and that the measured
comparison (scripts/compare_settings.py) is of today's class setting.

A file configs/lessonNN_class_<size>px_<updates>x<batch>.json pins an older class setting, so that
the new one can be timed beside it; docs/results/sweeps/lessonNN_class_vs_<stem>.json records the
two side by side. When a class preset changes again, that record no longer describes it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gan_tutorial.lessons import LESSONS, RunConfig, preset

REPO = Path(__file__).resolve().parent.parent
PINNED = sorted((REPO / "configs").glob("lesson*_class_*px_*x*.json"))
NAME = re.compile(r"lesson(\d\d)_class_(\d+)px_(\d+)x(\d+)\.json")


def updates(config: RunConfig) -> int:
    return config.epochs * (config.limit // config.batch_size)


def test_there_are_pinned_settings():
    assert PINNED, "configs/ holds no pinned class setting (lessonNN_class_<size>px_<updates>x<batch>.json)"


@pytest.mark.parametrize("path", PINNED, ids=lambda p: p.stem)
def test_a_pinned_setting_trains_what_its_name_says(path):
    lesson, size, n_updates, batch = NAME.fullmatch(path.name).groups()
    config = RunConfig.from_dict(json.loads(path.read_text()))  # every field, checked
    assert config.lesson == lesson and config.setting == "class"
    assert config.data_kwargs["image_size"] == int(size)
    assert (updates(config), config.batch_size) == (int(n_updates), int(batch))


@pytest.mark.parametrize("path", PINNED, ids=lambda p: p.stem)
def test_the_class_preset_is_not_the_pinned_one(path):
    pinned = RunConfig.from_dict(json.loads(path.read_text()))
    assert preset(pinned.lesson, "class").to_dict() != pinned.to_dict(), (
        f"{path.name} pins what the class preset trains: nothing to compare")


@pytest.mark.parametrize("path", PINNED, ids=lambda p: p.stem)
def test_the_measured_comparison_is_of_todays_class_setting(path):
    """Its class runs trained the preset's update count, its pinned runs the file's."""
    pinned = RunConfig.from_dict(json.loads(path.read_text()))
    setting = path.stem.removeprefix(f"lesson{pinned.lesson}_")  # as sweep.py names its runs
    record = (REPO / "docs" / "results" / "sweeps" /
              f"lesson{pinned.lesson}_class_vs_{setting.removeprefix('class_')}.json")
    assert record.is_file(), f"no comparison record {record.name}: run scripts/compare_settings.py"
    rows = json.loads(record.read_text())
    class_updates = LESSONS[pinned.lesson].settings["class"].iterations
    for row in rows:
        expected = class_updates if row["setting"] == "class" else updates(pinned)
        assert row["iterations"] == [expected], (record.name, row["setting"], row["precision"])
    assert {row["setting"] for row in rows} == {"class", setting}
