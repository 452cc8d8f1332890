"""scripts/conditional_report.py: the per-digit table of a conditional run, from its checkpoint."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from gan_tutorial.lessons import build_models, preset, trainer_kwargs
from gan_tutorial.train import GANTrainer

REPO = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("conditional_report", REPO / "scripts" / "conditional_report.py")
conditional_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(conditional_report)


def _saved_run(folder: Path, lesson: str) -> Path:
    config = preset(lesson, "quick")
    GANTrainer(*build_models(config), device="cpu", **trainer_kwargs(config)).save(folder / "checkpoint.pt")
    (folder / "config.json").write_text(json.dumps(config.to_dict()))
    return folder


def test_the_table_counts_each_digit_drawn_as_asked(tmp_path, mnist_data, monkeypatch):
    def classifier_that_misreads_every_3(images):  # asked digits cycle 0..9, as the report asks
        read = torch.arange(len(images)) % 10
        read[read == 3] = 8
        return torch.nn.functional.one_hot(read, 10).float()

    monkeypatch.setattr(conditional_report, "classify_digits", classifier_that_misreads_every_3)
    text = conditional_report.report(_saved_run(tmp_path, "08"), root=mnist_data)
    assert "90.0% of 1,000 fakes (100 per digit) read as the digit asked for" in text
    rows = [line for line in text.splitlines() if line[:4] in {f"| {d} " for d in range(10)}]
    assert len(rows) == 10 and rows[3].startswith("| 3 | 0% |") and rows[4].startswith("| 4 | 100% |")
    fake, floor = (float(x) for x in rows[0].split("|")[3:5])
    assert fake > floor > 0  # an untrained G's noise is far from real 0s; real 0s are not


def test_an_unconditional_run_is_refused_by_name(tmp_path):
    with pytest.raises(SystemExit, match="is not a conditional run"):
        conditional_report.report(_saved_run(tmp_path, "07"))
