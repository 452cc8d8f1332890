"""Write docs/teaching.md's table of points and time per lesson from the notebooks and the records.

    python scripts/teaching_tables.py            # rewrite the table in docs/teaching.md
    python scripts/teaching_tables.py --check    # exit 1 if the table differs from what it would write

Points come from the lessons' nbgrader metadata, experiments from their Exercises lists, the
run time from docs/results/<notebook>_times.json (written by scripts/time_lesson.py: every code
cell of the lesson run top to bottom in the class setting), the reading time from the words of
the lesson's text at 150 words a minute. Exercise time is an estimate: 10 minutes per graded
exercise and per experiment, plus the experiments' own training, which the lesson states.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "teaching.md"
RESULTS = REPO / "docs" / "results"
BEGIN, END = "<!-- lesson-points-and-times -->", "<!-- /lesson-points-and-times -->"
WORDS_PER_MINUTE = 150
MINUTES_PER_EXERCISE = 10


def lesson_facts(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    graded = [c.metadata.nbgrader for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    section = text[text.index("## Exercises"):] if "## Exercises" in text else ""
    items = [line for line in section.splitlines() if re.match(r"\d\. \*\*", line)]
    experiments = [line for line in items if "(graded" not in line]
    words = len(re.findall(r"\w+", text))
    record = RESULTS / f"{path.stem}_times.json"
    run = json.loads(record.read_text()) if record.is_file() else None
    return {"name": path.stem, "points": sum(g.points for g in graded), "graded": len(graded),  # check cells
            "experiments": len(experiments), "read": round(words / WORDS_PER_MINUTE), "run": run}


def table() -> str:
    rows = ["| lesson | graded points | experiments (3 points each) | lesson total | reading (words ÷ 150/min) "
            "| running every cell, class setting (measured) | exercises (estimate) | whole lesson |",
            "|---|---|---|---|---|---|---|---|"]
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        f = lesson_facts(path)
        exercises = MINUTES_PER_EXERCISE * (f["graded"] + f["experiments"])
        if f["run"]:
            run_min = f["run"]["total_seconds"] / 60
            precision = f", {f['run']['precision']}" if f["run"].get("precision") else ""
            run = (f"{run_min:.0f} min ({f['run']['threads']} thread{'s' if f['run']['threads'] > 1 else ''}"
                   f"{precision}; [record](results/{path.stem}_times.json))")
            whole = f"about {5 * round((f['read'] + run_min + exercises) / 5):.0f} min"
        else:
            run, whole = "not measured yet", "–"
        rows.append(f"| [{path.stem[:2]}](../notebooks/{path.name}) | {f['points']} | {f['experiments']} | "
                    f"{f['points'] + 3 * f['experiments']} | {f['read']} min | {run} | {exercises} min | {whole} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    page = PAGE.read_text()
    start, end = page.index(BEGIN) + len(BEGIN), page.index(END)
    written = page[:start] + "\n" + table() + "\n" + page[end:]
    if "--check" in argv:
        if written != page:
            print(f"{PAGE} is out of date: run python scripts/teaching_tables.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(written)
    print(f"Wrote the table of points and time in {PAGE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
