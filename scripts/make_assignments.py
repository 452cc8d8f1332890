"""Write student versions of the lessons: every solution replaced by a stub that raises a hint.

    python scripts/make_assignments.py                       # notebooks/0*.ipynb -> assignments/
    python scripts/make_assignments.py --out DIR notebooks/01_fc_gan_mnist.ipynb

Needs only nbformat, not nbgrader. The lessons carry nbgrader's markup: solution cells have
``metadata.nbgrader.solution`` and ``### BEGIN SOLUTION`` / ``### END SOLUTION`` around the
answer; graded check cells have ``grade``, ``points`` and ``locked``. A teacher who uses nbgrader
runs ``nbgrader generate_assignment`` on them directly. This script applies the same rule as
nbgrader's ``ClearSolutions`` preprocessor (the region between the markers becomes
``# YOUR CODE HERE`` and a ``raise NotImplementedError``; a solution cell without markers is
replaced whole; markers outside a solution cell are an error) and clears every output, as
``generate_assignment`` does. One difference, for learners working without nbgrader: the stub
says which exercise it is and where its hint is: one click away in the exercise's text (a
collapsed ``<details><summary>Hint</summary>`` block), or, in a cell that still has one, the
cell's ``# Hint:`` line, repeated.

A student version never replaces a lesson: an --out that would overwrite one of the notebooks it
reads, or any of the lessons in notebooks/ (--out notebooks), is refused before anything is
written, and so is any other bad argument (one line, exit code 2). Nothing is written unless
every notebook converts; each file is written whole or not at all.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

import script_args  # noqa: E402
from gan_tutorial.plumbing.checkpoint import write_file  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HINT = re.compile(r"^\s*#\s*Hint:\s*(.+?)\s*$", re.MULTILINE)
MARKDOWN_STUB = "YOUR ANSWER HERE"


class MarkupError(ValueError):
    """A notebook's solution markup is broken; the message names the notebook and the cell."""


def _stub(indent: str, grade_id: str, hint: str | None) -> list[str]:
    message = f"{grade_id}: replace this line with your answer."
    message += f" Hint: {hint}" if hint else " The hint is one click away, in the exercise's text above."
    return [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError({message!r})"]


def clear_solution(source: str, grade_id: str, code: bool, where: str) -> str:
    """``source`` with every BEGIN/END SOLUTION region replaced by a stub (the whole cell if none)."""
    hint_match = HINT.search(source)
    hint = hint_match.group(1) if hint_match else None
    if END in source and BEGIN not in source:
        raise MarkupError(f"{where}: '{END}' without a '{BEGIN}' before it")
    if BEGIN not in source:
        return "\n".join(_stub("", grade_id, hint)) if code else MARKDOWN_STUB
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        if line.strip() == BEGIN:
            if inside:
                raise MarkupError(f"{where}: '{BEGIN}' twice without '{END}' in between")
            inside = True
            indent = line[:len(line) - len(line.lstrip())]
            out += _stub(indent, grade_id, hint) if code else [indent + MARKDOWN_STUB]
        elif line.strip() == END:
            if not inside:
                raise MarkupError(f"{where}: '{END}' without a '{BEGIN}' before it")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkupError(f"{where}: '{BEGIN}' is never closed by '{END}'")
    return "\n".join(out)


def student_version(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """A copy of ``nb`` with solutions stubbed out and all outputs cleared."""
    nb = nbformat.from_dict(nb)  # a deep copy
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = clear_solution(cell.source, meta.get("grade_id", f"cell {index}"),
                                         cell.cell_type == "code", where)
        elif BEGIN in cell.source or END in cell.source:
            raise MarkupError(f"{where}: solution markers in a cell that is not a solution cell; "
                              f"give it metadata.nbgrader with solution: true")
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


@script_args.one_line_on_full_disk
def main() -> int:
    parser = script_args.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=script_args.existing_file,
                        help="lesson notebooks (default: all)")
    parser.add_argument("--out", type=script_args.output_folder, default=REPO / "assignments",
                        help="output folder")
    args = parser.parse_args()
    lessons = REPO / "notebooks"
    paths = args.paths or sorted(lessons.glob("[0-9]*.ipynb"))
    if args.out.resolve() == lessons.resolve():
        parser.error(f"--out {args.out} is {lessons}, the lessons' own folder: the student versions "
                     f"would replace the teacher's solutions; give another folder, e.g. --out assignments")
    targets = [args.out / path.name for path in paths]
    clash = script_args.overwritten(targets, [*paths, *lessons.glob("*.ipynb")])
    if clash:
        parser.error(f"--out {args.out} would overwrite the solution notebook {clash[1]} with its student "
                     f"version: give another folder, e.g. --out assignments")
    twice = sorted({t.name for t in targets if targets.count(t) > 1})
    if twice:
        parser.error(f"two notebooks named {', '.join(twice)} would be written to the same file in "
                     f"{args.out}: convert them one at a time, into different --out folders")
    notebooks = []
    for path in paths:
        try:
            notebooks.append(nbformat.read(path, as_version=4))
        except Exception as err:  # nbformat raises JSON, validation and Unicode errors
            parser.error(f"{path} is not a notebook nbformat can read ({type(err).__name__}): give a "
                         f".ipynb lesson")
    students = []
    for path, nb in zip(paths, notebooks):
        try:
            students.append(student_version(nb, path.name))
        except MarkupError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for nb, student, target in zip(notebooks, students, targets):
        write_file(target, lambda tmp: nbformat.write(student, tmp))
        n = sum(bool(c.metadata.get("nbgrader", {}).get("solution")) for c in nb.cells)
        print(f"wrote {target} ({n} exercises to solve)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
