"""Pages quote no number that a record contradicts, and no history (tests/page_numbers.py reads them)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import page_numbers
from page_numbers import REPO, problems


def test_pages_agree_with_the_records():
    assert problems() == []


def copy_of_pages(tmp_path: Path) -> Path:
    """The pages and records of this checkout, to doctor."""
    for folder in ("docs", "notebooks"):
        shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("runs", "*.png", "*.npz"))
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    return tmp_path


def with_text(root: Path, notebook: str, cell: int, text: str) -> None:
    path = root / "notebooks" / notebook
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"][cell]["source"] = text
    path.write_text(json.dumps(nb), encoding="utf-8")


def test_each_contradiction_of_issue_33_is_caught(tmp_path):
    """The kinds of contradiction the pages once held, each typed into a copy of today's pages."""
    root = copy_of_pages(tmp_path)
    assert problems(root) == []
    sweep = root / "docs" / "results" / "sweeps" / "lesson02_class.md"  # one run of lesson 02 failed
    sweep.write_text(sweep.read_text(encoding="utf-8").replace("- bf16: 5 of 5 passed", "- bf16: 4 of 5 passed"))
    readme = root / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\n\nIn our sweeps lesson 02 passed in 8 of 8 runs.\n"
                      "\n\nA class run of any lesson takes 3 to 9 minutes.\n")
    teaching = root / "docs" / "teaching.md"
    teaching.write_text(teaching.read_text(encoding="utf-8")
                        + "\n\nIn our sweeps every run passed its criterion (lesson 02 7 of 8).\n")
    with_text(root, "01_fc_gan_mnist.ipynb", 0, "36,000 updates; 3.0 minutes measured on our CPU. "
              "With dropout all five seeds we ran passed.")
    with_text(root, "07_modern_gans.ipynb", 0, "in the class setting for 5 epochs (1,500 updates instead of\n1,200).")
    with_text(root, "04_dcgan_pokemon.ipynb", 0, "> `\"full\"` (300 epochs; not\n> yet run with this recipe)")
    with_text(root, "05_fc_vs_dcgan.ipynb", 0, "One run on 2026-11-24: a 2-core AMD EPYC CPU.")
    found = "\n".join(problems(root))
    for expected in ("README.md paragraph", "lesson 02 passed 8 of 8, its sweep record says 7 of 8",
                     "'every run passed', but lesson 02 did not", "class runs of 3 to 9 minutes, but the records say", "3.0 minutes is in no record",
                     "'all five' runs of lesson 01; its sweep record has 8",
                     "07_modern_gans.ipynb cell 0: a class run of 1,200 updates",
                     "04_dcgan_pokemon.ipynb cell 0: a stale 'not yet'",
                     "05_fc_vs_dcgan.ipynb cell 0: a date", "05_fc_vs_dcgan.ipynb cell 0: a machine model"):
        assert expected in found, f"not caught: {expected}\n{found}"


def test_a_number_from_a_record_passes(tmp_path):
    root = copy_of_pages(tmp_path)
    record = json.loads((root / "docs/results/01_fc_gan_mnist_times.json").read_text())
    minutes = f"{record['total_seconds'] / 60:.1f}"
    with_text(root, "01_fc_gan_mnist.ipynb", 0, f"The class run took {minutes} minutes; lesson 01 passed 8 of 8 "
              "runs of its sweep, and 36,000 updates make a class run.")
    assert problems(root) == []


def test_the_lessons_class_update_counts_come_from_the_presets():
    from gan_tutorial.lessons import preset

    counts = page_numbers.class_update_counts()
    assert 1_500 in counts and 36_000 in counts and 1_200 not in counts
    cfg = preset("02", "class")
    assert cfg.epochs * (cfg.limit // cfg.batch_size) in counts
