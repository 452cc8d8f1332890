"""The notebooks are clean JSON, import everything, and give nbval something to check.

nbval runs in lax mode: it executes every cell and compares the stored output only of cells
tagged nbval-check-output (text that is the same in the quick run and the stored class run).
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = ["00_points_2d", "01_fc_gan_mnist", "02_dcgan_mnist", "03_dcgan_celeba", "04_dcgan_pokemon",
           "05_fc_vs_dcgan", "06_troubleshooting", "07_modern_gans", "08_conditional_gan"]
# lessons that train images with GANTrainer.fit (05 compares two lessons' models; 06 reads saved runs;
# 00 trains points with its own small loop)
TRAINING_LESSONS = ["01_fc_gan_mnist", "02_dcgan_mnist", "03_dcgan_celeba", "04_dcgan_pokemon",
                    "07_modern_gans", "08_conditional_gan"]
# lessons that write networks or a training step on the page, each checked against the package there
ON_THE_PAGE = {"00_points_2d": ["assert same_outputs", "assert same_numbers and same_weights"],
               "01_fc_gan_mnist": ["assert same_numbers and same_weights"],
               "02_dcgan_mnist": ["assert same_parameters and same_images", "assert same_parameters and same_logits",
                                  "assert same_losses and same_weights"],
               "03_dcgan_celeba": ["assert same_loss and same_weights"],
               "04_dcgan_pokemon": ["assert same_parameters and same_images", "assert same_parameters and same_logits"]}
CHECKED = "nbval-check-output"


def load(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_every_lesson_is_there():
    found = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    assert found[:len(LESSONS)] == LESSONS


@pytest.mark.parametrize("name", LESSONS)
def test_notebook_is_valid(name):  # its size: tests/test_published_notebooks.py
    nb = load(name)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert "widgets" not in nb.metadata


@pytest.mark.parametrize("name", LESSONS)
def test_cells_are_numbered_as_one_clean_run(name):
    counts = [c.execution_count for c in code_cells(load(name))]
    assert counts == list(range(1, len(counts) + 1))


@pytest.mark.parametrize("name", LESSONS)
def test_checked_cells_store_text_nbval_can_compare(name):
    for cell in code_cells(load(name)):
        if CHECKED not in cell.metadata.get("tags", []):
            continue
        assert cell.outputs, f"a checked cell stores nothing to compare:\n{cell.source[:200]}"
        for out in cell.outputs:
            assert out.output_type in {"stream", "execute_result"}, cell.source[:200]
            assert set(out.get("data", {})) <= {"text/plain"}, f"a checked cell stores a picture:\n{cell.source[:200]}"
            if out.output_type == "stream":
                assert out.name == "stdout", f"stderr stored in a checked cell:\n{cell.source[:200]}"


@pytest.mark.parametrize("name", LESSONS)
def test_nbval_has_outputs_to_check(name):
    checked = [c for c in code_cells(load(name)) if CHECKED in c.metadata.get("tags", []) and c.outputs]
    assert len(checked) >= 3


SOLUTION = re.compile(r"### BEGIN SOLUTION.*?### END SOLUTION", re.DOTALL)


def without_solutions(source: str) -> str:
    """Code outside the graded exercises' answers (a learner's own answer may build a layer)."""
    return SOLUTION.sub("", source)


WRITTEN_OUT = re.compile(r"nn\.Sequential\(|\bopt\w*\.step\(\)")
"""What a page that writes a network or a training step by hand contains."""


@pytest.mark.parametrize("name", LESSONS)
def test_what_a_notebook_writes_by_hand_is_checked_against_the_package_there(name):
    """A lesson may write its networks and training step on the page (as the d2l book does), but
    then a cell that nbval runs must assert they equal the package's (so the two cannot drift);
    functions and classes stay in the package, except in a learner's answer."""
    cells = code_cells(load(name))
    source = "\n".join(c.source for c in cells)
    assert "from gan_tutorial import" in source
    assert not re.search(r"^\s*(def|class)\s", without_solutions(source), re.MULTILINE), \
        "functions and classes belong in the gan_tutorial package (a learner's answer may define its own)"
    written = WRITTEN_OUT.findall(without_solutions(source))
    if name not in ON_THE_PAGE:
        assert not written, f"{name} writes {sorted(set(written))} by hand but checks nothing against the package"
        return
    assert written, f"{name} is listed as writing code on the page but writes none"
    for marker in ON_THE_PAGE[name]:  # the checking cells: run and compared by nbval
        checking = [c for c in cells if marker in c.source]
        assert len(checking) == 1, f"{name}: {marker!r} is not in exactly one cell"
        assert CHECKED in checking[0].metadata.get("tags", []), f"{name}: nbval does not compare {marker!r}"
        printed = "".join(o.get("text", "") for o in checking[0].outputs).splitlines()[0]
        assert "True" in printed and "False" not in printed, f"{name}: {marker!r} printed {printed!r}"


def test_the_check_refuses_a_page_that_writes_a_network_and_checks_nothing():
    page = "from gan_tutorial import x\nnet = nn.Sequential(nn.Linear(2, 2))\nopt_d.step()\nloss.backward()"
    assert WRITTEN_OUT.findall(without_solutions(page)) == ["nn.Sequential(", "opt_d.step()"]


def test_lesson_00_writes_its_networks_and_step_on_the_page_and_checks_them():
    cells = code_cells(load("00_points_2d"))
    source = "\n".join(c.source for c in cells)
    for piece in ("nn.Sequential(", "load_state_dict(package_G.net.state_dict())", "loss_d.backward()",
                  "opt_d.step()", "loss_g.backward()", "opt_g.step()", "gan.step()", "copy.deepcopy("):
        assert piece in source, f"lesson 00's page lacks {piece}"
    expected = {"assert same_outputs": "same names and shapes: True | same outputs: True\n",
                "assert same_numbers": "same numbers: True | same weights after the step: True\n"}
    for marker, text in expected.items():  # nbval re-runs these cells and compares the stored line
        compared = [c for c in cells if marker in c.source]
        assert len(compared) == 1 and CHECKED in compared[0].metadata.get("tags", [])
        assert "".join(o.get("text", "") for o in compared[0].outputs) == text


def test_lesson_02_writes_g_d_and_the_dcgan_step_on_the_page_and_checks_them():
    cells = code_cells(load("02_dcgan_mnist"))
    source = "\n".join(c.source for c in cells)
    for piece in ("net_G = nn.Sequential(", "net_D = nn.Sequential(", "nn.ConvTranspose2d(", "nn.Conv2d(",
                  ".detach()", "loss_d.backward()", "opt_d.step()", "loss_g.backward()", "opt_g.step()",
                  ".train_step(real)", "G.main.state_dict()", "D.main.state_dict()"):
        assert piece in source, f"lesson 02's page lacks {piece}"
    expected = {"assert same_parameters and same_images": "same parameter names and shapes: True | same images from the same noise: True\n",
                "assert same_losses and same_weights": "same losses: True | same weights after the step: True\n"}
    for marker, text in expected.items():
        (cell,) = [c for c in cells if marker in c.source]
        assert "".join(o.get("text", "") for o in cell.outputs).startswith(text)


def test_lesson_01_walks_through_the_step_and_compares_it_with_the_trainer():
    source = "\n".join(c.source for c in code_cells(load("01_fc_gan_mnist")))
    for piece in (".detach()", "loss_d.backward()", "opt_d.step()", "loss_g.backward()",
                  "opt_g.step()", ".train_step(real)", "copy.deepcopy(", "assert same_numbers"):
        assert piece in source, f"lesson 01's walk-through lacks {piece}"
    # nbval re-runs the notebook and compares this stored output, so the equality is checked
    # on every test run, not only when the notebook was last refreshed.
    compared = [c for c in code_cells(load("01_fc_gan_mnist")) if "assert same_numbers" in c.source]
    assert len(compared) == 1 and CHECKED in compared[0].metadata.get("tags", [])
    assert "".join(o.get("text", "") for o in compared[0].outputs) == \
        "same numbers: True | same weights after the step: True\n"


@pytest.mark.parametrize("name", LESSONS)
def test_the_training_step_is_one_click_away(name):
    text = "\n".join(c.source for c in load(name).cells if c.cell_type == "markdown")
    assert "](../gan_tutorial/train.py)" in text
    if name != "01_fc_gan_mnist":
        anchor = "01_fc_gan_mnist.ipynb#The-training-step-on-the-page"
        assert f"]({anchor})" in text, f"{name} does not link to lesson 01's walk-through"
    else:
        assert "### The training step on the page" in text


def test_refresh_keeps_tags_and_nbgrader_markup_only():
    spec = importlib.util.spec_from_file_location("refresh", NOTEBOOKS.parent / "scripts/refresh_notebooks.py")
    refresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(refresh)
    grading = {"grade": True, "grade_id": "ex", "locked": True, "points": 1, "schema_version": 3,
               "solution": False, "task": False}
    cell = nbformat.v4.new_code_cell("check(x)", metadata={
        "tags": [CHECKED], "nbgrader": grading, "scrolled": True, "collapsed": False})
    plain = nbformat.v4.new_markdown_cell("text", metadata={"editable": False})
    nb = refresh.clean(nbformat.v4.new_notebook(cells=[cell, plain]))
    assert nb.cells[0].metadata == {"tags": [CHECKED], "nbgrader": grading}
    assert nb.cells[1].metadata == {}


@pytest.mark.parametrize("name", TRAINING_LESSONS)
def test_notebook_shows_what_every_lesson_must(name):
    source = "\n".join(c.source for c in code_cells(load(name)))
    for call in ("seed_everything(", "get_device(", ".fit(", "show_progress(", "show_real_vs_fake("):
        assert call in source, f"{name} never calls {call}"
    assert re.search(r"plot_(training|losses)\(", source)
    assert re.search(r"plot_(training|d_outputs)\(", source)
    assert "lesson_setting(" in source and "preset(" in source, \
        "the run length must come from the lesson's setting, which quick mode shrinks"


def test_make_test_fast_collects_the_unit_tests_only():
    """The fast tier's command (Makefile) must run: it once failed on nbval's addopts."""
    import subprocess
    import sys

    repo = NOTEBOOKS.parent
    command = [line.strip().split("-m pytest", 1)[1] for line in (repo / "Makefile").read_text().splitlines()
               if "-m pytest tests -m" in line][0]
    marker = command.split('-m "', 1)[1].split('"')[0]
    result = subprocess.run([sys.executable, "-m", "pytest", "tests", "-m", marker, "--collect-only", "-q"],
                            cwd=repo, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    collected = [line for line in result.stdout.splitlines() if "::" in line]
    assert len(collected) > 300
    assert not any("test_browser.py" in line or ".ipynb" in line for line in collected)
