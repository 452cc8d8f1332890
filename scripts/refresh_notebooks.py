"""Tidy the notebooks' JSON, keeping the class run's outputs that scripts/publish_lessons.py stored.

    python scripts/refresh_notebooks.py                 # every notebook
    python scripts/refresh_notebooks.py notebooks/02_dcgan_mnist.ipynb

Keeps per cell only the tags (``nbval-check-output`` marks a cell whose stored output nbval
compares with the quick run's, in lax mode) and the ``nbgrader`` markup that ``nbgrader
generate_assignment`` and ``scripts/make_assignments.py`` read; drops cell ids, widget state and
language info; numbers code cells 1, 2, 3, ... as one top-to-bottom run would. It executes
nothing: after editing a code cell, run ``make publish`` (tests/test_published_notebooks.py
fails on outputs stored for code that has changed since).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
KEPT_CELL_METADATA = ("tags", "nbgrader")


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip what varies between editors; keep the stored outputs."""
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata.pop("language_info", None)
    count = 0
    for cell in nb.cells:
        cell.metadata = nbformat.NotebookNode(
            {key: cell.metadata[key] for key in KEPT_CELL_METADATA if cell.metadata.get(key)})
        cell.pop("id", None)
        if cell.cell_type != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        count += 1  # as if run once, top to bottom
        cell.execution_count = count
        for out in cell.outputs:
            if "execution_count" in out:
                out.execution_count = count
    nb.nbformat_minor = 4
    return nb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args()
    for path in args.paths or sorted((REPO / "notebooks").glob("[0-9]*.ipynb")):
        nbformat.write(clean(nbformat.read(path, as_version=4)), path)
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
