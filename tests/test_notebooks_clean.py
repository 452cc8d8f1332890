"""The notebooks are clean JSON, import everything, and give nbval something to check."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = ["01_fc_gan_mnist", "02_dcgan_mnist", "03_dcgan_celeba", "04_dcgan_pokemon"]
IGNORED = {"nbval-ignore-output", "nbval-skip"}


def load(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_every_lesson_is_there():
    found = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    assert found[:len(LESSONS)] == LESSONS


@pytest.mark.parametrize("name", LESSONS)
def test_notebook_is_valid_and_small(name):
    nb = load(name)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert (NOTEBOOKS / f"{name}.ipynb").stat().st_size < 100_000, "outputs or blobs left in"
    assert "widgets" not in nb.metadata


@pytest.mark.parametrize("name", LESSONS)
def test_cells_are_numbered_as_one_clean_run(name):
    counts = [c.execution_count for c in code_cells(load(name))]
    assert counts == list(range(1, len(counts) + 1))


@pytest.mark.parametrize("name", LESSONS)
def test_varying_cells_are_ignored_and_stored_empty(name):
    for cell in code_cells(load(name)):
        tags = set(cell.metadata.get("tags", []))
        if tags & IGNORED:
            assert cell.outputs == [], f"ignored cell keeps outputs:\n{cell.source[:200]}"
        for out in cell.outputs:
            assert out.output_type in {"stream", "execute_result"}, cell.source[:200]
            if out.output_type == "stream":
                assert out.name == "stdout", f"stderr stored in a checked cell:\n{cell.source[:200]}"


@pytest.mark.parametrize("name", LESSONS)
def test_nbval_has_outputs_to_check(name):
    checked = [c for c in code_cells(load(name))
               if not set(c.metadata.get("tags", [])) & IGNORED and c.outputs]
    assert len(checked) >= 3


@pytest.mark.parametrize("name", LESSONS)
def test_notebooks_define_nothing_and_import_the_package(name):
    source = "\n".join(c.source for c in code_cells(load(name)))
    assert "from gan_tutorial import" in source
    assert not re.search(r"^\s*(def|class)\s", source, re.MULTILINE), \
        "models, loops and plots belong in the gan_tutorial package"
    assert "nn.Sequential(" not in source and "optimizer.step()" not in source


@pytest.mark.parametrize("name", LESSONS)
def test_notebook_shows_what_every_lesson_must(name):
    source = "\n".join(c.source for c in code_cells(load(name)))
    for call in ("seed_everything(", "get_device(", ".fit(", "show_progress(", "show_real_vs_fake("):
        assert call in source, f"{name} never calls {call}"
    assert re.search(r"plot_(training|losses)\(", source)
    assert re.search(r"plot_(training|d_outputs)\(", source)
    assert "full_or_quick(" in source, "quick mode must shrink the run"
