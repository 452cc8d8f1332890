"""Graded exercises: nbgrader's markup, a hint one click away, no answer shown above them, and
student versions (from `make assignments` and from nbgrader's generate_assignment) without
solutions whose locked checks fail on the stub and pass on the solution.

Every test runs over every lesson notebook that has graded exercises, so a new lesson's or a
new exercise's cells are covered as soon as they carry the markup.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest

from exercise_runner import context, run_cells
from suite_data import require_notebook_data

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HINT = re.compile(r"<details>\s*<summary>\s*Hint", re.IGNORECASE)


def lesson(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def solutions(nb) -> list[int]:
    """Indices of the solution cells, in order."""
    return [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution")]


LESSONS = [p.stem for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) if solutions(lesson(p.stem))]


def solution_lines(cells) -> list[str]:
    """The answer lines between the solution markers (what a student must not see)."""
    lines, inside = [], False
    for cell in cells:
        for line in cell.source.splitlines():
            if line.strip() == BEGIN:
                inside = True
            elif line.strip() == END:
                inside = False
            elif inside and line.strip() and not line.strip().startswith("#"):
                lines.append(line.strip())
    return lines


def test_every_numbered_lesson_from_02_to_05_has_graded_exercises():
    for name in ("02_dcgan_mnist", "03_dcgan_celeba", "04_dcgan_pokemon", "05_fc_vs_dcgan"):
        assert name in LESSONS, f"{name} has no graded exercise"


# ------------------------------------------------------------------ the markup in the lessons
@pytest.mark.parametrize("name", LESSONS)
def test_graded_exercises_carry_nbgrader_markup(name):
    cells = lesson(name).cells
    graded = [i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(solutions(lesson(name))) >= 2, f"{name}: fewer than two graded exercises"
    ids = [c.metadata.nbgrader.grade_id for c in cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), f"{name}: grade_id used twice: {ids}"
    for i in solutions(lesson(name)):
        meta = cells[i].metadata.nbgrader
        assert cells[i].cell_type == "code"
        assert meta == {"grade": False, "grade_id": meta.grade_id, "locked": False,
                        "schema_version": 3, "solution": True, "task": False}
        assert cells[i].source.count(BEGIN) == cells[i].source.count(END) == 1
        check = cells[i + 1]  # every solution is followed by its locked, graded check
        assert i + 1 in graded, f"{name}, cell {i}: no graded check right after the solution"
        assert check.metadata.nbgrader["locked"] and check.metadata.nbgrader["points"] > 0
        assert check.metadata.nbgrader["schema_version"] == 3
        assert "check_" in check.source and BEGIN not in check.source
    for cell in cells:
        if BEGIN in cell.source:
            assert cell.metadata.get("nbgrader", {}).get("solution"), "markers outside a solution cell"


def exercise_text(cells, i: int) -> str:
    """The markdown cells right above solution cell ``i``: the exercise's statement."""
    text = []
    while i > 0 and cells[i - 1].cell_type == "markdown":
        i -= 1
        text.insert(0, cells[i].source)
    return "\n".join(text)


@pytest.mark.parametrize("name", LESSONS)
def test_every_exercise_has_its_hint_collapsed_one_click_away(name):
    cells = lesson(name).cells
    for i in solutions(lesson(name)):
        grade_id = cells[i].metadata.nbgrader.grade_id
        assert HINT.search(exercise_text(cells, i)), \
            f"{name}, {grade_id}: no <details><summary>Hint</summary> in the markdown right above it"
        assert "# Hint:" not in cells[i].source, f"{name}, {grade_id}: the hint is printed in the code cell"


def normalised(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("name", LESSONS)
def test_no_answer_is_printed_above_its_exercise(name):
    cells = lesson(name).cells
    for i in solutions(lesson(name)):
        above = normalised("\n".join(c.source for c in cells[:i]))
        for line in solution_lines([cells[i]]):
            answer = normalised(line.split("=", 1)[1] if re.match(r"^\w+\s*=[^=]", line) else line)
            assert len(answer) < 6 or answer not in above, \
                f"{name}, {cells[i].metadata.nbgrader.grade_id}: the answer {line!r} stands above the exercise"


@pytest.mark.parametrize("name", LESSONS)
def test_every_lesson_has_three_to_five_exercises_with_outcomes(name):
    text = "\n".join(c.source for c in lesson(name).cells if c.cell_type == "markdown")
    section = text[text.index("## Exercises"):]
    numbered = [line for line in section.splitlines() if re.match(r"\d\. ", line)]
    assert 3 <= len(numbered) <= 5, numbered
    assert section.count("*Expected") >= len(numbered), "every exercise states its expected outcome"
    assert section.count("(graded") >= len(solutions(lesson(name))), "the list names every graded exercise"


# ------------------------------------------------------------------ the transform
def load_script():
    spec = importlib.util.spec_from_file_location("make_assignments", REPO / "scripts/make_assignments.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stub_keeps_the_context_and_points_at_the_hint():
    script = load_script()
    source = "x = 1\n    ### BEGIN SOLUTION\n    y = x + 1\n    ### END SOLUTION\nprint(y)"
    stubbed = script.clear_solution(source, "ex9", code=True, where="test")
    assert "y = x + 1" not in stubbed
    assert stubbed.startswith("x = 1\n    # YOUR CODE HERE\n")
    assert ("    raise NotImplementedError(\"ex9: replace this line with your answer. The hint is one "
            "click away, in the exercise's text above.\")") in stubbed
    assert stubbed.endswith("print(y)")


def test_a_hint_line_left_in_a_cell_is_repeated_by_the_stub():
    stubbed = load_script().clear_solution("# Hint: add one.\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION",
                                           "ex9", code=True, where="test")
    assert "raise NotImplementedError('ex9: replace this line with your answer. Hint: add one.')" in stubbed


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
@pytest.fixture(scope="module")
def make_assignments_versions(tmp_path_factory) -> Path:
    """Student versions written by the same command as `make assignments`."""
    out = tmp_path_factory.mktemp("assignments")
    result = subprocess.run([sys.executable, str(REPO / "scripts/make_assignments.py"), "--out", str(out)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return out


def nbgrader_command() -> list[str] | None:
    """How to run nbgrader here: this interpreter's module, else an `nbgrader` on the PATH."""
    if importlib.util.find_spec("nbgrader") is not None:
        return [sys.executable, "-m", "nbgrader"]
    found = shutil.which("nbgrader")
    return [found] if found else None


@pytest.fixture(scope="module")
def nbgrader_versions(tmp_path_factory) -> Path:
    """Student versions written by `nbgrader generate_assignment` from a course's source folder."""
    command = nbgrader_command()
    if command is None:
        message = ("nbgrader is not installed: `pip install nbgrader` (0.9) to check that "
                   "generate_assignment writes the student versions")
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(message + " (CI=true: this test may not be skipped)", pytrace=False)
        pytest.skip(message)
    course = tmp_path_factory.mktemp("course")
    source = course / "source" / "lessons"
    source.mkdir(parents=True)
    for name in LESSONS:
        shutil.copy(NOTEBOOKS / f"{name}.ipynb", source)
    env = dict(os.environ)  # nbgrader runs `alembic` from its own environment's bin folder
    env["PATH"] = os.pathsep.join([str(Path(command[0]).parent), env.get("PATH", "")])
    result = subprocess.run([*command, "generate_assignment", "lessons", f"--CourseDirectory.root={course}"],
                            cwd=course, env=env, capture_output=True, text=True, timeout=300, check=False)
    released = course / "release" / "lessons"
    assert result.returncode == 0 and released.is_dir(), result.stdout[-3000:] + result.stderr[-3000:]
    assert "[GenerateAssignmentApp | ERROR]" not in result.stderr, result.stderr[-3000:]
    return released


MAKERS = {"make assignments": "make_assignments_versions", "nbgrader": "nbgrader_versions"}


@pytest.fixture(params=sorted(MAKERS))
def students(request) -> Path:
    return request.getfixturevalue(MAKERS[request.param])


@pytest.mark.parametrize("name", LESSONS)
def test_student_version_has_every_exercise_and_no_solution_and_no_outputs(name, students):
    student = nbformat.read(students / f"{name}.ipynb", as_version=4)
    answers = solution_lines(lesson(name).cells)
    assert answers, "no solutions found in the lesson"
    student_text = "\n".join(c.source for c in student.cells)
    for line in answers:
        assert line not in student_text, f"solution text left in the student version: {line}"
    assert len(student.cells) == len(lesson(name).cells)
    assert solutions(student) == solutions(lesson(name)), "an exercise went missing"
    for i in solutions(student):
        assert "raise NotImplementedError(" in student.cells[i].source
        assert student.cells[i + 1].source == lesson(name).cells[i + 1].source, "the check cell changed"
    assert all(c.outputs == [] for c in student.cells if c.cell_type == "code")


def code_sources(nb) -> list[str | None]:
    return [c.source if c.cell_type == "code" else None for c in nb.cells]


@pytest.mark.parametrize("name", LESSONS)
def test_each_check_fails_on_the_stub_and_passes_on_the_solution(name, make_assignments_versions, monkeypatch,
                                                                 request):
    """Run every exercise of the student version: its locked check after the stub, then after the
    lesson's solution, with the cells the exercise needs before it (earlier answers solved).
    nbgrader's student versions are graded whole, stubs and solutions, in test_grading_cycle.py."""
    require_notebook_data(request, name)
    teacher = lesson(name)
    student = nbformat.read(make_assignments_versions / f"{name}.ipynb", as_version=4)
    solved = code_sources(student)
    for i in solutions(teacher):
        solved[i] = teacher.cells[i].source  # what a learner who solved the earlier exercises has
    monkeypatch.chdir(NOTEBOOKS)  # where the notebook's relative paths point
    try:
        for i in solutions(teacher):
            grade_id = teacher.cells[i].metadata.nbgrader.grade_id
            namespace = {"__name__": "__main__"}
            run_cells([solved[j] for j in context(solved, i, i + 1)], namespace, f"{name} before {grade_id}")
            with pytest.raises(NotImplementedError):
                run_cells([student.cells[i].source], namespace, f"{name} {grade_id} stub")
            with pytest.raises((AssertionError, NameError)):
                run_cells([student.cells[i + 1].source], namespace, f"{name} {grade_id} check on the stub")
            printed = run_cells([teacher.cells[i].source, student.cells[i + 1].source], namespace,
                                f"{name} {grade_id} solution")
            assert "Correct!" in printed, f"{name}, {grade_id}: the check printed {printed!r}"
    finally:
        plt.close("all")


@pytest.mark.slow
@pytest.mark.parametrize("name", LESSONS)
def test_student_version_runs_until_the_first_exercise_and_stops_there(name, make_assignments_versions, tmp_path,
                                                                     request):
    require_notebook_data(request, name)
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    student = nbformat.read(make_assignments_versions / f"{name}.ipynb", as_version=4)
    first = solutions(student)[0]
    student.cells = student.cells[:first + 2]  # up to the first exercise and its check
    env_path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    os.environ["PYTHONPATH"] = env_path  # the kernel imports this checkout's gan_tutorial
    client = NotebookClient(student, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(CellExecutionError) as failure:
        client.execute()
    assert "NotImplementedError" in str(failure.value)
    assert student.cells[first].metadata.nbgrader.grade_id in str(failure.value)
    errors = [i for i, c in enumerate(student.cells) if c.cell_type == "code"
              and any(o.output_type == "error" for o in c.outputs)]
    assert errors == [first], f"expected the first error at the exercise (cell {first}), got {errors}"
