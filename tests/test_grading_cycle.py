"""A class graded end to end, with the commands docs/teaching.md gives a teacher.

nbgrader: the course folder from scripts/make_course.py, ``generate_assignment`` for every lesson
with graded exercises, a simulated class (a student who answers everything right, one who hands
in the stubs, one whose answers are some right, some wrong and some raising, a right one after a
raising one among them), ``autograde``, ``generate_feedback``; each score is checked against
what was submitted. Without nbgrader: the documented ``nbconvert`` command on a submission with a
failing cell keeps the right answer after it. The released assignments carry every file they
show.

The lessons run in parallel, two at a time (each kernel on one thread): autograding executes
every submission whole, about 30 s per notebook in quick mode.
"""
from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from suite_data import require_notebook_data

REPO = Path(__file__).resolve().parent.parent
TEACHING = REPO / "docs" / "teaching.md"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUDENTS = ("all_right", "all_stubs", "mixed")
MIXED = ("raises", "right", "wrong")  # the mixed student's answers, in turn, from an offset per lesson


def documented(block: str) -> list[str]:
    """The command lines of the fenced block after ``<!-- block -->`` in docs/teaching.md."""
    text = TEACHING.read_text()
    found = re.search(rf"<!-- {block} -->\s*```(?:bash|sh)?\n(.*?)```", text, re.DOTALL)
    assert found, f"docs/teaching.md has no <!-- {block} --> command block"
    return [line for line in found.group(1).splitlines() if line.strip() and not line.startswith("#")]


def graded_lessons() -> list[Path]:
    return [p for p in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
            if any(c.metadata.get("nbgrader", {}).get("solution") for c in nbformat.read(p, as_version=4).cells)]


# ------------------------------------------------------------------ simulated answers
def split_solution(source: str) -> tuple[list[str], list[str], list[str], str]:
    """The lines before the solution markers, between them and after them, and the markers' indent."""
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == BEGIN)
    end = next(i for i, line in enumerate(lines) if line.strip() == END)
    indent = lines[start][:len(lines[start]) - len(lines[start].lstrip())]
    return lines[:start], lines[start + 1:end], lines[end + 1:], indent


def with_answer(source: str, answer: list[str]) -> str:
    """``source`` with its solution region (markers included) replaced by ``answer``."""
    before, _, after, indent = split_solution(source)
    return "\n".join(before + [indent + line for line in answer] + after)


def wrong_answer(source: str) -> str:
    """The solution region replaced by an answer that runs but is wrong: every name the answer
    defines set to None (a function returns None), or ``pass`` where it defines nothing."""
    body = []
    for node in ast.parse(textwrap.dedent("\n".join(split_solution(source)[1]))).body:
        if isinstance(node, ast.Assign):
            body += [f"{target.id} = None" for target in node.targets if isinstance(target, ast.Name)]
        elif isinstance(node, ast.FunctionDef):
            body.append(f"def {node.name}(*args, **kwargs): return None")
    return with_answer(source, body or ["pass"])


def raising_answer(source: str) -> str:
    return with_answer(source, ["raise ValueError('a bug in the student answer')"])


def submission(released: nbformat.NotebookNode, teacher: nbformat.NotebookNode, student: str,
               offset: int) -> tuple[nbformat.NotebookNode, dict[str, str]]:
    """The student's notebook and, per graded check, what it answered ("right", "wrong", ...)."""
    nb = nbformat.from_dict(json.loads(json.dumps(released)))
    answered = {}
    solutions = [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution")]
    for k, i in enumerate(solutions):
        how = {"all_right": "right", "all_stubs": "stub"}.get(student) or MIXED[(k + offset) % len(MIXED)]
        source = teacher.cells[i].source
        nb.cells[i].source = {"right": source, "stub": nb.cells[i].source, "wrong": wrong_answer(source),
                              "raises": raising_answer(source)}[how]
        answered[nb.cells[i + 1].metadata.nbgrader.grade_id] = how
    return nb, answered


# ------------------------------------------------------------------ the nbgrader cycle
def run(command: list[str], cwd: Path, timeout: int = 1500) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GAN_TUTORIAL_SETTING",)}
    env["OMP_NUM_THREADS"] = "1"  # two lessons at a time on two cores
    env["PATH"] = "/usr/bin:/bin"  # as a teacher who did not activate the venv: nbgrader_config.py fixes it
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{shlex.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def as_run(line: str, course: Path) -> tuple[list[str], Path]:
    """A documented command line, with this venv's programs and the test's course folder."""
    words = shlex.split(line.removeprefix("cd course && "))
    bin_dir = Path(sys.executable).parent
    if words[0].endswith(("python", "python3")):
        return [sys.executable, *[str(REPO / w) if w.startswith("scripts/") else w for w in words[1:]]], REPO
    if words[0].endswith("nbgrader"):
        return [str(bin_dir / "nbgrader"), *words[1:]], course
    raise AssertionError(f"unexpected command in docs/teaching.md: {line}")


def cycle(lesson: Path, root: Path) -> dict:
    """The documented nbgrader commands for one lesson, with a simulated class between them."""
    name = f"lesson{lesson.name[:2]}"
    course = root / name
    lines = [line.replace("lesson02", name).replace("--out course", f"--out {course} {lesson.name[:2]}")
             for line in documented("grading-commands")]
    make, generate, autograde, feedback = lines
    run(*as_run(make, course))
    run(*as_run(generate, course))
    released = nbformat.read(course / "release" / name / lesson.name, as_version=4)
    teacher = nbformat.read(lesson, as_version=4)
    answers = {}
    for student in STUDENTS:
        nb, answers[student] = submission(released, teacher, student, offset=int(lesson.name[:2]) + 1)
        folder = course / "submitted" / student / name
        shutil.copytree(course / "release" / name, folder)
        nbformat.write(nb, folder / lesson.name)
    run(*as_run(autograde, course))
    run(*as_run(feedback, course))
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in STUDENTS:
            sub = gradebook.find_submission(name, student)
            scores[student] = {g.name: (g.score, g.max_score) for nb in sub.notebooks for g in nb.grades}
    return {"course": course, "name": name, "answers": answers, "scores": scores}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, request) -> dict[str, dict]:
    for lesson in graded_lessons():
        require_notebook_data(request, lesson.stem)
    root = tmp_path_factory.mktemp("class")
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda lesson: cycle(lesson, root), graded_lessons()))
    return {result["name"]: result for result in done}


LESSONS = [f"lesson{p.name[:2]}" for p in graded_lessons()]


@pytest.mark.slow
@pytest.mark.parametrize("name", LESSONS)
def test_each_score_is_what_was_submitted(graded_class, name):
    result = graded_class[name]
    for student in STUDENTS:
        scores, answers = result["scores"][student], result["answers"][student]
        assert set(scores) == set(answers), (student, scores, answers)
        for grade_id, how in answers.items():
            score, points = scores[grade_id]
            assert points > 0
            assert score == (points if how == "right" else 0), f"{name}, {student}, {grade_id}: {how} scored {score}"


@pytest.mark.slow
def test_the_mixed_class_has_every_kind_of_answer_and_a_right_one_after_a_failing_one(graded_class):
    kinds = [list(result["answers"]["mixed"].values()) for result in graded_class.values()]
    assert {"right", "wrong", "raises"} <= {k for lesson in kinds for k in lesson}
    assert any(a != "right" and b == "right" for lesson in kinds for a, b in zip(lesson, lesson[1:]))


@pytest.mark.slow
@pytest.mark.parametrize("name", LESSONS)
def test_feedback_reports_each_students_score(graded_class, name):
    result = graded_class[name]
    for student in STUDENTS:
        html = next((result["course"] / "feedback" / student / name).glob("*.html")).read_text()
        total = sum(score for score, _ in result["scores"][student].values())
        points = sum(points for _, points in result["scores"][student].values())
        assert f"Score: {total:.1f} / {points:.1f}" in html, (student, total, points)


@pytest.mark.slow
@pytest.mark.parametrize("name", LESSONS)
def test_a_released_assignment_carries_every_file_it_shows(graded_class, name):
    result = graded_class[name]
    released = result["course"] / "release" / name
    notebook = next(released.glob("*.ipynb"))
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        for target in re.findall(r"\]\(([^)#\s]+)", cell.source):
            if not re.match(r"[a-z]+:", target) and not target.endswith(".ipynb"):
                assert (released / target).exists(), f"{notebook.name}: {target} is not in the release"
        locked = cell.metadata.get("nbgrader", {}).get("locked")
        assert locked or "../" not in re.sub(r"\(\.\./[^)]*\.ipynb", "", cell.source), cell.source[:200]
    executed = nbformat.read(result["course"] / "autograded" / "all_right" / name / notebook.name, as_version=4)
    printed = "\n".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "Not yet published" not in printed and "No such file" not in printed


# ------------------------------------------------------------------ without nbgrader
@pytest.mark.slow
def test_the_command_without_nbgrader_keeps_a_right_answer_after_a_failing_cell(tmp_path, request):
    require_notebook_data(request, "02_dcgan_mnist")
    lesson = REPO / "notebooks" / "02_dcgan_mnist.ipynb"
    teacher = nbformat.read(lesson, as_version=4)
    subprocess.run([sys.executable, str(REPO / "scripts/make_assignments.py"), "--out", str(tmp_path / "a"),
                    str(lesson)], check=True, capture_output=True)
    student = nbformat.read(tmp_path / "a" / lesson.name, as_version=4)
    nb, answers = submission(student, teacher, "mixed", offset=0)
    assert list(answers.values())[:2] == ["raises", "right"]
    submitted = tmp_path / "submitted"
    submitted.mkdir()
    nbformat.write(nb, submitted / lesson.name)
    (line,) = documented("checking-without-nbgrader")
    words = shlex.split(line)
    assert words[0] == "GAN_TUTORIAL_QUICK=1" and words[1].endswith("jupyter") and "--allow-errors" in words, line
    env = {**os.environ, "GAN_TUTORIAL_QUICK": "1", "OMP_NUM_THREADS": "1"}
    files = [str(p) for p in sorted(submitted.glob("*.ipynb"))]
    command = [str(Path(sys.executable).parent / "jupyter"),
               *[f for w in words[2:] for f in (files if w == "submitted/*.ipynb" else [w])]]
    subprocess.run(command, cwd=tmp_path, env=env, check=True, capture_output=True, timeout=900)
    checked = nbformat.read(tmp_path / "checked" / lesson.name, as_version=4)
    checks = [i for i, c in enumerate(checked.cells) if c.metadata.get("nbgrader", {}).get("grade")]
    outputs = ["".join(o.get("text", "") + o.get("evalue", "") for o in checked.cells[i].outputs) for i in checks]
    assert "Correct!" not in outputs[0] and "Correct!" in outputs[1], outputs
