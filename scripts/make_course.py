"""Write an nbgrader course folder: one assignment per graded lesson, carrying what it shows.

    python scripts/make_course.py --out course          # then, in course/: nbgrader generate_assignment lesson02

Each assignment ``source/lessonNN/`` holds the lesson's notebook (solutions and all: nbgrader's
generate_assignment strips them) and every file the notebook shows or links to, so that the
released copy in ``release/lessonNN/`` works on its own: the pictures and result tables under
``docs/`` it reads, the package files it links to (under ``code/``, to read), and lesson 06's
saved runs (and README.md where a lesson links its times table). Links and paths ``../docs/``,
``../gan_tutorial/``, ``../scripts/`` and ``../README.md`` become paths inside the assignment; the graded and locked cells are left as they are.

``nbgrader_config.py`` in the course folder sets what autograding these lessons needs: quick mode
(GAN_TUTORIAL_QUICK=1, each notebook trains for seconds), a cell timeout of 600 s (nbgrader's
default, 30 s, stops the first training cell), and this Python's bin folder on the PATH (nbgrader
runs ``alembic`` from there, so ``.venv/bin/nbgrader`` works without activating the venv).

An --out that exists is refused unless it is a course this script wrote (it then adds to it).
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat

import script_args  # noqa: E402
from gan_tutorial.plumbing.checkpoint import write_text  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
MARK = "# gan-tutorial course (scripts/make_course.py)"
CONFIG = f'''{MARK}
import os
import sys

c = get_config()  # noqa: F821 - nbgrader defines it
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "gan-tutorial"
# Autograding trains every lesson in quick mode, seconds per notebook
os.environ["GAN_TUTORIAL_QUICK"] = "1"
os.environ.setdefault("GAN_TUTORIAL_LIVE", "0")
# A training cell takes longer than nbgrader's default of 30 s
c.Execute.timeout = 600
# nbgrader runs `alembic` from its own environment: works without activating the venv
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
'''
LINK = re.compile(r"\.\./(docs|gan_tutorial|scripts)/([^)\s\"'#]+)")


def graded_lessons() -> list[Path]:
    """The numbered lessons with graded exercises."""
    return [p for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
            if any(c.metadata.get("nbgrader", {}).get("solution") for c in nbformat.read(p, as_version=4).cells)]


def lesson_number(text: str) -> str:
    """An argparse type: a lesson notebook's number ("2" -> "02")."""
    number = text.zfill(2)
    if not list(NOTEBOOKS.glob(f"{number}_*.ipynb")):
        numbers = ", ".join(p.name[:2] for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
        raise argparse.ArgumentTypeError(f"no lesson {text!r}: the lessons are {numbers}")
    return number


def assignment_name(notebook: Path) -> str:
    return f"lesson{notebook.name[:2]}"


def _files_shown(nb: nbformat.NotebookNode) -> set[Path]:
    """Files under the repository that the notebook's links and paths name (resolved)."""
    found: set[Path] = set()
    for cell in nb.cells:
        for top, rest in LINK.findall(cell.source):
            path = REPO / top / rest
            if path.is_file():
                found.add(path)
        if "../README.md" in cell.source:  # the lessons' times table
            found.add(REPO / "README.md")
        if 'Path("../docs/results")' in cell.source:  # a cell that reads the published results
            found.update(p for p in (REPO / "docs" / "results").iterdir()
                         if p.is_file() and p.name.startswith(("lesson07", "lesson08")))
    return found


def _inside(path: Path) -> str:
    """Where a repository file goes inside an assignment (docs/..., code/gan_tutorial/...)."""
    relative = path.relative_to(REPO).as_posix()
    return relative if relative.startswith("docs/") or relative == "README.md" else f"code/{relative}"


def _rewrite(source: str) -> str:
    linked = LINK.sub(lambda m: ("docs/" if m.group(1) == "docs" else f"code/{m.group(1)}/") + m.group(2), source)
    return linked.replace('Path("../docs/results")', 'Path("docs/results")').replace("](../README.md", "](README.md")


def write_assignment(notebook: Path, source_root: Path) -> Path:
    """``source_root/lessonNN/``: the notebook with its paths made local, and the files it shows."""
    folder = source_root / assignment_name(notebook)
    nb = nbformat.read(notebook, as_version=4)
    shown = _files_shown(nb)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not (meta.get("locked") or meta.get("grade")):  # nbgrader checksums those: untouched
            cell.source = _rewrite(cell.source)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for path in sorted(shown):
        target = folder / _inside(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    if "load_run(" in "\n".join(c.source for c in nb.cells):
        shutil.copytree(NOTEBOOKS / "saved_runs", folder / "saved_runs")
    nbformat.write(nb, folder / notebook.name)
    return folder


@script_args.one_line_on_full_disk
def main(argv: list[str] | None = None) -> int:
    parser = script_args.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the course folder to write")
    parser.add_argument("lessons", nargs="*", type=lesson_number,
                        help="lesson numbers (default: every lesson with graded exercises)")
    args = parser.parse_args(argv)
    config = args.out / "nbgrader_config.py"
    if args.out.exists() and not (config.is_file() and config.read_text().startswith(MARK)):
        parser.error(f"--out {args.out} exists and is not a course this script wrote: choose a new folder")
    lessons = [p for p in graded_lessons() if not args.lessons or p.name[:2] in args.lessons]
    if not lessons:
        parser.error(f"no lesson with graded exercises among {', '.join(args.lessons)}")
    args.out.mkdir(parents=True, exist_ok=True)
    write_text(config, CONFIG)
    for notebook in lessons:
        folder = write_assignment(notebook, args.out / "source")
        files = [p for p in folder.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        print(f"{folder.relative_to(args.out)}: {notebook.name} and {len(files) - 1} files it shows "
              f"({size / 1e6:.1f} MB)")
    print(f"Wrote {args.out}. Next, in {args.out}: nbgrader generate_assignment {assignment_name(lessons[0])} "
          f"(docs/teaching.md, 'Grading')", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
