"""Re-run the notebooks in quick mode and store them clean, ready for nbval.

    python scripts/refresh_notebooks.py                 # every notebook
    python scripts/refresh_notebooks.py notebooks/02_dcgan_mnist.ipynb
    python scripts/refresh_notebooks.py --clean-only    # only tidy the JSON

Cleaning keeps the text outputs of deterministic cells (nbval compares them),
numbers code cells 1, 2, 3, ... as one top-to-bottom run would, and drops: outputs of cells tagged ``nbval-ignore-output`` (figures,
training logs, animations: they vary and would bloat the file) and per-cell metadata
other than tags and ``nbgrader`` (the graded-exercise markup that ``nbgrader
generate_assignment`` and ``scripts/make_assignments.py`` read).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
IGNORE_TAGS = {"nbval-ignore-output", "nbval-skip"}
KEPT_CELL_METADATA = ("tags", "nbgrader")


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip what varies or bloats; keep deterministic text outputs."""
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata.pop("language_info", None)
    count = 0
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        cell.metadata = nbformat.NotebookNode(
            {key: cell.metadata[key] for key in KEPT_CELL_METADATA if cell.metadata.get(key)})
        cell.pop("id", None)
        if cell.cell_type != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        count += 1  # as if run once, top to bottom (nbval skips unrun cells' outputs)
        cell.execution_count = count
        if IGNORE_TAGS & set(tags):
            cell.outputs = []
        for out in cell.outputs:
            if "execution_count" in out:
                out.execution_count = count
    nb.nbformat_minor = 4
    return nb


def execute(nb: nbformat.NotebookNode, workdir: Path) -> None:
    """Run every cell in quick mode with the notebook's folder as working directory."""
    from nbclient import NotebookClient

    os.environ["GAN_TUTORIAL_QUICK"] = "1"
    NotebookClient(nb, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--clean-only", action="store_true", help="do not execute, only tidy")
    args = parser.parse_args()
    paths = args.paths or sorted((REPO / "notebooks").glob("[0-9]*.ipynb"))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if not args.clean_only:
            print(f"executing {path.name} in quick mode ...", flush=True)
            execute(nb, path.parent)
        nbformat.write(clean(nb), path)
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
