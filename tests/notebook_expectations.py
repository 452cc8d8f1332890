"""What a lesson notebook should show once run, read from the notebook itself.

The browser tests (tests/test_browser.py) compare what JupyterLab renders with these
expectations, so they follow the notebooks as lessons change: a cell that calls a plotting
function of ``gan_tutorial`` must show a figure, a cell that calls ``.fit(`` a progress bar, a
cell that calls ``show_progress`` the animation player, and a markdown cell with ``$…$`` math.
"""
from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

# Functions that display the animation player (matplotlib's to_jshtml HTML).
PLAYER_FUNCTIONS = frozenset({"show_progress"})
# Method names whose call trains with a tqdm progress bar.
TRAINING_METHODS = frozenset({"fit"})
# pyplot calls that draw a figure.
PYPLOT_DRAWING = frozenset({"figure", "subplots", "subplot", "subplot_mosaic", "imshow", "plot",
                            "show", "bar", "hist", "scatter", "matshow"})
# Markdown math: $…$ or $$…$$ (not \$), or \(…\) and \[…\].
_MATH = re.compile(r"(?<![\\$])\$\$?[^$\s][^$]*?(?<![\\\s])\$|\\\(.+?\\\)|\\\[.+?\\\]", re.S)
_CODE = re.compile(r"```.*?```|`[^`]*`", re.S)


def figure_functions() -> frozenset[str]:
    """Public functions of ``gan_tutorial`` annotated to return a matplotlib Axes or Figure."""
    import gan_tutorial

    names = set()
    for name in getattr(gan_tutorial, "__all__", dir(gan_tutorial)):
        obj = getattr(gan_tutorial, name, None)
        if name.startswith("_") or not inspect.isfunction(obj):
            continue
        returns = str(inspect.signature(obj).return_annotation)
        if "Axes" in returns or "Figure" in returns:
            names.add(name)
    return frozenset(names)


def _called_names(source: str) -> tuple[set[str], set[str], bool]:
    """Names of called functions, names of called methods, and whether ``plt.*`` is called."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: fall back to a plain-text scan
        words = set(re.findall(r"(\w+)\s*\(", source))
        methods = set(re.findall(r"\.(\w+)\s*\(", source))
        pyplot = any(f"plt.{name}(" in source for name in PYPLOT_DRAWING)
        return words, methods, pyplot
    functions, methods, pyplot = set(), set(), False
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name):
            functions.add(node.func.id)
        elif isinstance(node.func, ast.Attribute):
            methods.add(node.func.attr)
            if (isinstance(node.func.value, ast.Name) and node.func.value.id == "plt"
                    and node.func.attr in PYPLOT_DRAWING):
                pyplot = True
    return functions, methods, pyplot


def has_math(markdown: str) -> bool:
    """Whether a markdown cell holds LaTeX math outside code spans."""
    return bool(_MATH.search(_CODE.sub("", markdown)))


@dataclass
class LessonExpectations:
    """Cell indices (0-based, all cells counted) where a rendering is expected."""

    path: Path
    cell_types: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    figure_cells: list[int] = field(default_factory=list)
    training_cells: list[int] = field(default_factory=list)
    player_cells: list[int] = field(default_factory=list)
    math_cells: list[int] = field(default_factory=list)

    @property
    def code_cells(self) -> list[int]:
        return [i for i, kind in enumerate(self.cell_types) if kind == "code"]


def expectations(path: Path) -> LessonExpectations:
    """Read a notebook and list the cells that must show figures, bars, players and math."""
    nb = nbformat.read(path, as_version=4)
    figures = figure_functions()
    expected = LessonExpectations(path=Path(path))
    for i, cell in enumerate(nb.cells):
        expected.cell_types.append(cell.cell_type)
        expected.sources.append(cell.source)
        if cell.cell_type == "markdown" and has_math(cell.source):
            expected.math_cells.append(i)
        if cell.cell_type != "code":
            continue
        functions, methods, pyplot = _called_names(cell.source)
        if functions & figures or pyplot:
            expected.figure_cells.append(i)
        if methods & TRAINING_METHODS:
            expected.training_cells.append(i)
        if functions & PLAYER_FUNCTIONS:
            expected.player_cells.append(i)
    return expected
