"""Graded exercises carry nbgrader's markup; `make assignments` writes runnable student versions."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
LESSONS = ["01_fc_gan_mnist", "02_dcgan_mnist", "03_dcgan_celeba", "04_dcgan_pokemon"]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def load_script():
    spec = importlib.util.spec_from_file_location("make_assignments", REPO / "scripts/make_assignments.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lesson(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def solution_lines(nb) -> list[str]:
    """The answer lines between the solution markers (what a student must not see)."""
    lines, inside = [], False
    for cell in nb.cells:
        for line in cell.source.splitlines():
            if line.strip() == BEGIN:
                inside = True
            elif line.strip() == END:
                inside = False
            elif inside and line.strip() and not line.strip().startswith("#"):
                lines.append(line.strip())
    return lines


@pytest.fixture(scope="module")
def students(tmp_path_factory) -> Path:
    """Student versions written by the same command as `make assignments`."""
    out = tmp_path_factory.mktemp("assignments")
    result = subprocess.run([sys.executable, str(REPO / "scripts/make_assignments.py"), "--out", str(out)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return out


# ------------------------------------------------------------------ the markup in the lessons
@pytest.mark.parametrize("name", LESSONS)
def test_graded_exercises_carry_nbgrader_markup(name):
    cells = lesson(name).cells
    solutions = [i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("solution")]
    graded = [i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(solutions) >= 2, f"{name}: fewer than two graded exercises"
    ids = [c.metadata.nbgrader.grade_id for c in cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), f"{name}: grade_id used twice: {ids}"
    for i in solutions:
        meta = cells[i].metadata.nbgrader
        assert cells[i].cell_type == "code"
        assert meta == {"grade": False, "grade_id": meta.grade_id, "locked": False,
                        "schema_version": 3, "solution": True, "task": False}
        assert cells[i].source.count(BEGIN) == cells[i].source.count(END) == 1
        assert "# Hint:" in cells[i].source, f"{name}, cell {i}: the stub needs a '# Hint:' line"
        check = cells[i + 1]  # every solution is followed by its locked, graded check
        assert i + 1 in graded, f"{name}, cell {i}: no graded check right after the solution"
        assert check.metadata.nbgrader["locked"] and check.metadata.nbgrader["points"] > 0
        assert check.metadata.nbgrader["schema_version"] == 3
        assert "check_" in check.source and BEGIN not in check.source
    for cell in cells:
        if BEGIN in cell.source:
            assert cell.metadata.get("nbgrader", {}).get("solution"), "markers outside a solution cell"


@pytest.mark.parametrize("name", LESSONS)
def test_every_lesson_has_three_to_five_exercises_with_outcomes(name):
    text = "\n".join(c.source for c in lesson(name).cells if c.cell_type == "markdown")
    section = text[text.index("## Exercises"):]
    numbered = [line for line in section.splitlines() if re.match(r"\d\. ", line)]
    assert 3 <= len(numbered) <= 5, numbered
    assert section.count("*Expected") >= len(numbered), "every exercise states its expected outcome"


# ------------------------------------------------------------------ the transform
def test_stub_keeps_the_context_and_raises_the_hint():
    script = load_script()
    source = "x = 1\n# Hint: add one.\n    ### BEGIN SOLUTION\n    y = x + 1\n    ### END SOLUTION\nprint(y)"
    stubbed = script.clear_solution(source, "ex9", code=True, where="test")
    assert "y = x + 1" not in stubbed
    assert stubbed.startswith("x = 1\n# Hint: add one.\n    # YOUR CODE HERE\n")
    assert "    raise NotImplementedError('ex9: replace this line with your answer. Hint: add one.')" in stubbed
    assert stubbed.endswith("print(y)")


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n### END SOLUTION", "without a"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "twice"),
])
def test_broken_markup_is_refused_with_the_cell_named(source, message):
    script = load_script()
    with pytest.raises(script.MarkupError, match=f"lesson.ipynb, cell 3: .*{message}"):
        script.clear_solution(source, "ex", code=True, where="lesson.ipynb, cell 3")


def test_markers_outside_a_solution_cell_are_refused():
    script = load_script()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"{BEGIN}\nx = 1\n{END}")])
    with pytest.raises(script.MarkupError, match="not a solution cell"):
        script.student_version(nb, "x.ipynb")


# ------------------------------------------------------------------ the student versions
@pytest.mark.parametrize("name", LESSONS)
def test_student_version_contains_no_solution_and_no_outputs(name, students):
    student = nbformat.read(students / f"{name}.ipynb", as_version=4)
    answers = solution_lines(lesson(name))
    assert answers, "no solutions found in the lesson"
    student_text = "\n".join(c.source for c in student.cells)
    for line in answers:
        assert line not in student_text, f"solution text left in the student version: {line}"
    assert student_text.count("raise NotImplementedError(") == \
        sum(bool(c.metadata.get("nbgrader", {}).get("solution")) for c in student.cells)
    assert all(c.outputs == [] for c in student.cells if c.cell_type == "code")
    assert len(student.cells) == len(lesson(name).cells)


@pytest.mark.slow
@pytest.mark.parametrize("name", LESSONS)
def test_student_version_runs_until_the_first_exercise_and_shows_its_hint(name, students, tmp_path):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    student = nbformat.read(students / f"{name}.ipynb", as_version=4)
    first = next(i for i, c in enumerate(student.cells) if c.metadata.get("nbgrader", {}).get("solution"))
    hint = next(line for line in lesson(name).cells[first].source.splitlines() if "# Hint:" in line)
    student.cells = student.cells[:first + 2]  # up to the first exercise and its check
    env_path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    os.environ["PYTHONPATH"] = env_path  # the kernel imports this checkout's gan_tutorial
    client = NotebookClient(student, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(CellExecutionError) as failure:
        client.execute()
    assert "NotImplementedError" in str(failure.value)
    assert hint.split("Hint:")[1].strip() in str(failure.value)
    errors = [i for i, c in enumerate(student.cells) if c.cell_type == "code"
              and any(o.output_type == "error" for o in c.outputs)]
    assert errors == [first], f"expected the first error at the exercise (cell {first}), got {errors}"
