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
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="lesson notebooks (default: all)")
    parser.add_argument("--out", type=Path, default=REPO / "assignments", help="output folder")
    args = parser.parse_args()
    paths = args.paths or sorted((REPO / "notebooks").glob("[0-9]*.ipynb"))
    args.out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        try:
            student = student_version(nb, path.name)
        except MarkupError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        target = args.out / path.name
        nbformat.write(student, target)
        n = sum(bool(c.metadata.get("nbgrader", {}).get("solution")) for c in nb.cells)
        print(f"wrote {target} ({n} exercises to solve)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
