"""Write the generated tables of docs/teaching.md, README.md and docs/results.md: points, times, settings.

    python scripts/teaching_tables.py            # rewrite the table in docs/teaching.md
    python scripts/teaching_tables.py --check    # exit 1 if the table differs from what it would write

Points come from the lessons' nbgrader metadata, experiments from their Exercises lists, the
run time from docs/results/<notebook>_times.json (written by scripts/publish_lessons.py, via
scripts/time_lesson.py: every code cell of the lesson run top to bottom in the class setting),
the reading time from the words of the lesson's text at 150 words a minute. Exercise time is an estimate: 10 minutes per graded
exercise and per experiment, plus the experiments' own training, which the lesson states. The
settings' work comes from the presets (gan_tutorial/lessons); what each lesson stores, from the
published notebooks' metadata and outputs.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "teaching.md"
README = REPO / "README.md"
RESULTS_PAGE = REPO / "docs" / "results.md"
RESULTS = REPO / "docs" / "results"
WORDS_PER_MINUTE = 150
MINUTES_PER_EXERCISE = 10


def minutes(seconds: float) -> str:
    """A measured duration as a page writes it: "7 min", or "21 s" under a minute."""
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.0f} min"


def load_note(run: dict) -> str:
    """How busy the machine was while the lesson ran (its 15-minute load average), if recorded."""
    if "load_average_15min" not in run:
        return ", machine load not recorded"
    return f", load {run['load_average_15min']:.1f} on {run['cpus']} cores"


def measured(run: dict, link: str) -> str:
    """A lesson's whole-notebook time with how it was measured, and a link to its record."""
    threads = f"{run['threads']} thread{'s' if run['threads'] > 1 else ''}"
    precision = f", {run['precision']}" if run.get("precision") else ""
    return f"{minutes(run['total_seconds'])} ({threads}{precision}{load_note(run)}; [record]({link}))"


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
            run = measured(f["run"], f"results/{path.stem}_times.json")
            whole = f"about {5 * round((f['read'] + run_min + exercises) / 5):.0f} min"
        else:
            run, whole = "not measured yet", "–"
        rows.append(f"| [{path.stem[:2]}](../notebooks/{path.name}) | {f['points']} | {f['experiments']} | "
                    f"{f['points'] + 3 * f['experiments']} | {f['read']} min | {run} | {exercises} min | {whole} |")
    return "\n".join(rows)


def _own_options(options: dict) -> str:
    """What a setting changes from its lesson (e.g. ", at 32×32, lr 0.0004"), or ""."""
    said = []
    size = options.get("data_kwargs", {}).get("image_size")
    if size:
        said.append(f"at {size}×{size}")
    if "lr" in options:
        said.append(f"lr {options['lr']:g}")
    if "ema_decay" in options:
        said.append(f"G averaged (decay {options['ema_decay']:g})")
    return ", " + ", ".join(said) if said else ""


def settings() -> str:
    """The work of each training lesson's class and full setting, from the presets."""
    from gan_tutorial.lessons import LESSONS

    rows = ["| lesson | class setting | full setting |", "|---|---|---|"]
    for name in ("01", "02", "03", "04", "07", "08"):
        lesson, work = LESSONS[name], []
        for setting in ("class", "full"):
            s = lesson.settings[setting]
            images = f"{s.limit:,} images" if s.limit else "the whole dataset"
            if s.iterations:
                text = f"{s.iterations:,} updates of {s.batch_size} ({s.epochs} epochs × {images})"
            else:
                text = f"{s.epochs} epochs × {images}, batches of {s.batch_size}"
            work.append(text + _own_options(s.options))
        rows.append(f"| {name} {lesson.title} | {work[0]} | {work[1]} |")
    return "\n".join(rows)


EXERCISE_06_3 = RESULTS / "lesson06_exercise3_summary.json"
"""The summary.json that `python -m gan_tutorial train sigmoid.json --seed 2` wrote (lesson 06, exercise 3)."""


def exercise_06_3() -> str:
    """Lesson 06's own training: the time of one run of its exercise 3, from that run's summary."""
    if not EXERCISE_06_3.is_file():
        return "not measured yet"
    run = json.loads(EXERCISE_06_3.read_text())
    frechet = run["metrics"]["frechet_distance"]
    return (f"one run, seed {run['config']['seed']}: {run['training_seconds_total'] / 60:.1f} min on "
            f"{run['torch_threads']} thread{'s' if run['torch_threads'] > 1 else ''} in {run['precision']}, "
            f"Fréchet distance {frechet:.0f} after {run['iterations']} updates; "
            f"[record](results/{EXERCISE_06_3.name})")


def readme_times() -> str:
    """README's table: how long running each lesson top to bottom took, from the records."""
    rows = ["| lesson | running every cell in the class setting (measured) |", "|---|---|"]
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        record = RESULTS / f"{path.stem}_times.json"
        if record.is_file():
            cell = measured(json.loads(record.read_text()), f"docs/results/{record.name}")
        else:
            cell = "not measured yet"
        rows.append(f"| [{path.stem}](notebooks/{path.name}) | {cell} |")
    return "\n".join(rows)


def published_lessons() -> str:
    """docs/results.md's table of the class run each notebook stores (make publish)."""
    rows = ["| lesson | stored run | figures | players | notebook size |", "|---|---|---|---|---|"]
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        meta = nb.metadata.get("gan_tutorial", {}).get("published")
        if not meta:
            rows.append(f"| [{path.stem}](../notebooks/{path.name}) | not published | | | |")
            continue
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        figures = sum(bool({"image/png", "image/jpeg"} & set(o.get("data", {}))) for o in outputs)
        players = sum("Animation" in str(o.get("data", {}).get("text/html", "")) for o in outputs)
        rows.append(f"| [{path.stem}](../notebooks/{path.name}) | {meta['setting']} setting, "
                    f"{minutes(meta['total_seconds'])} on {meta['machine']} | {figures} | {players} | "
                    f"{path.stat().st_size / 1024:,.0f} KiB |")
    return "\n".join(rows)


def render(page: str) -> str:
    """``page`` (docs/teaching.md, README.md or docs/results.md) with every generated block it holds written anew."""
    blocks = (("lesson-points-and-times", table), ("lesson-settings", settings),
              ("lesson06-exercise3", exercise_06_3), ("readme-times", readme_times),
              ("published-lessons", published_lessons))
    for block, make in blocks:
        begin, end = f"<!-- {block} -->", f"<!-- /{block} -->"
        if begin not in page:
            continue
        text = make()
        start, stop = page.index(begin) + len(begin), page.index(end)
        inline = "\n" not in text
        page = page[:start] + (text if inline else "\n" + text + "\n") + page[stop:]
    return page


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    stale = []
    for path in (PAGE, README, RESULTS_PAGE):
        page = path.read_text(encoding="utf-8")
        written = render(page)
        if written != page:
            stale.append(path)
            if "--check" not in argv:
                path.write_text(written, encoding="utf-8")
                print(f"Wrote the generated tables of {path.relative_to(REPO)}")
    if stale and "--check" in argv:
        print(f"out of date: {', '.join(str(p.relative_to(REPO)) for p in stale)}: run python "
              f"scripts/teaching_tables.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
