"""The numbers the pages type by hand, checked against the records the measuring scripts wrote.

    python tests/page_numbers.py [ROOT]      # list the contradictions in a checkout (default: this one)

Pages: README.md, the docs a learner or teacher reads (not docs/results.md, where the history of a
number lives) and the notebooks' text. Records: docs/results/sweeps/lessonNN_class.md (pass counts
of the class settings, written by scripts/sweep.py), docs/results/*.json and *.md (times and
comparisons written by the scripts that measured them) and the presets (update counts).
tests/test_page_numbers.py asserts that this finds nothing in the repository.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = ("data.md", "training.md", "cli.md", "library.md", "teaching.md", "metrics.md")
NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10}
DATE = re.compile(r"\b202\d-\d\d-\d\d\b")  # a day of this project (a file name of 2015 is not history)
MACHINE = re.compile(r"\b(EPYC|Xeon|Ryzen|H100|H200|A100|Core i\d)\b")
STALE = re.compile(r"\bnot yet (run|published|measured)\b", re.IGNORECASE)
WHOLE_RUN_SECONDS = {"total_seconds", "training_seconds", "training_seconds_total"}  # not one cell's or step's
LESSON = re.compile(r"\b(?:lesson|notebook)s? (0\d)\b|\b(0\d) [A-Z]|\[(0\d) ")


def pages(root: Path) -> list[tuple[str, str, str | None]]:
    """(where, paragraph, lesson of the page or None) for every paragraph and table row of the pages."""
    found = []
    for path in [root / "README.md", *(root / "docs" / name for name in DOCS)]:
        if path.is_file():
            for i, part in enumerate(paragraphs(path.read_text(encoding="utf-8"))):
                found.append((f"{path.relative_to(root)} paragraph {i}", part, None))
    for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for c, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "markdown":
                text = "".join(cell["source"])
                text = re.sub(r"<!-- published -->.*?<!-- /published -->", "", text, flags=re.DOTALL)
                for part in paragraphs(text):
                    found.append((f"{path.name} cell {c}", part, path.name[:2]))
    return found


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs; each table row on its own."""
    parts = []
    for block in re.split(r"\n\s*\n", text):
        rows = block.splitlines()
        if rows and all(r.lstrip().startswith("|") for r in rows):
            parts.extend(rows)
        else:
            parts.append(" ".join(r.strip().lstrip(">").strip() for r in rows))  # quotes read as text
    return parts


def sweep_counts(root: Path) -> dict[str, dict[str, tuple[int, int]]]:
    """Per lesson: {"all": (passed, runs), precision: (passed, runs)} from the class sweeps' records."""
    counts = {}
    for path in sorted((root / "docs" / "results" / "sweeps").glob("lesson0?_class.md")):
        per = {m[0]: (int(m[1]), int(m[2])) for m in
               re.findall(r"^- ([\w-]+): (\d+) of (\d+) passed", path.read_text(encoding="utf-8"), re.MULTILINE)}
        if per:
            per["all"] = (sum(p for p, _ in per.values()), sum(n for _, n in per.values()))
            counts[path.name[6:8]] = per
    return counts


def recorded_minutes(root: Path) -> set[str]:
    """Every time in minutes (one decimal) that a record holds: the whole-run seconds of the JSON
    records under docs/results and of the saved runs (notebooks/saved_runs/*/run.json), and any
    "N.N min" the scripts wrote into docs/results/**/*.md."""
    values = set()
    results = root / "docs" / "results"

    def walk(value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in WHOLE_RUN_SECONDS and isinstance(item, (int, float)):
                    values.add(f"{item / 60:.1f}")
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in [*results.glob("*.json"), *(root / "notebooks" / "saved_runs").glob("*/run.json")]:
        try:
            walk(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue
    for path in [*results.glob("*.md"), *(results / "sweeps").glob("*.md")]:
        values.update(re.findall(r"(\d+\.\d) ?min", path.read_text(encoding="utf-8")))
    return values


def class_update_counts() -> set[int]:
    """The updates of every lesson's class setting, from the presets."""
    from gan_tutorial.lessons import LESSONS

    return {lesson.settings["class"].iterations for lesson in LESSONS.values()
            if "class" in lesson.settings and lesson.settings["class"].iterations}


def named_lessons(text: str) -> list[str]:
    """The lessons a text names ("lesson 02", "02 DCGAN", "[02 "), in order."""
    return [next(g for g in m.groups() if g) for m in LESSON.finditer(text)]


def lesson_of(text: str, end: int, page_lesson: str | None) -> str | None:
    """The lesson a number at ``end`` speaks of: the last one named before it, else the page's own."""
    named = named_lessons(text[:end])
    return named[-1] if named else page_lesson


def history_problems(text: str) -> list[str]:
    return [f"{what} ({pattern.search(text).group(0)!r}); history goes in docs/results.md"
            for pattern, what in ((DATE, "a date"), (MACHINE, "a machine model"), (STALE, "a stale 'not yet'"))
            if pattern.search(text)]


def pass_count_problems(text: str, page_lesson: str | None, counts: dict) -> list[str]:
    """Pass counts ("7 of 8", "all five seeds", "every run passed") against the sweep records."""
    if not re.search(r"\bpass", text):
        return []
    found = []
    for m in re.finditer(r"\b(\d+) of (\d+)\b", text):
        lesson, said = lesson_of(text, m.start(), page_lesson), (int(m[1]), int(m[2]))
        if lesson in counts and said[1] in {n for _, n in counts[lesson].values()} \
                and said not in counts[lesson].values():
            found.append(f"lesson {lesson} passed {m[0]}, its sweep record says "
                         f"{counts[lesson]['all'][0]} of {counts[lesson]['all'][1]}")
    for m in re.finditer(r"\ball (\w+) (?:seeds|runs)\b", text):
        lesson, n = lesson_of(text, m.start(), page_lesson), NUMBER_WORDS.get(m[1])
        if lesson in counts and n and n != counts[lesson]["all"][1]:
            found.append(f"'all {m[1]}' runs of lesson {lesson}; its sweep record has {counts[lesson]['all'][1]}")
    if re.search(r"\bevery run passed\b", text):
        named = set(named_lessons(text)) or set(counts)
        failed = sorted(k for k in named & set(counts) if counts[k]["all"][0] < counts[k]["all"][1])
        if failed:
            found.append(f"'every run passed', but lesson {', '.join(failed)} did not")
    return found


def minute_problems(text: str, minutes: set[str], lesson_minutes: dict[str, float]) -> list[str]:
    """Times: an N.N that no record holds, a range of class minutes the records fall outside."""
    found = []
    if "class" in text:
        for m in re.finditer(r"\b(\d+) to (\d+) min(?:utes?)?\b", text):
            named = set(named_lessons(text)) or set(lesson_minutes)
            outside = {k: v for k, v in lesson_minutes.items() if k in named and not int(m[1]) <= v <= int(m[2])}
            if outside:
                found.append(f"class runs of {m[0]}, but the records say "
                             + ", ".join(f"lesson {k} {v:.1f} min" for k, v in sorted(outside.items())))
    found += [f"{m[0]} is in no record under docs/results"
              for m in re.finditer(r"\b(\d+\.\d) ?min(?:utes?)?\b", text) if m[1] not in minutes]
    return found


def update_problems(text: str, updates: set[int]) -> list[str]:
    """The length of a class run, named before it in a sentence, that no class preset trains."""
    found = []
    for sentence in re.split(r"(?<=[.;:])\s", text):
        for m in re.finditer(r"(?<![\d,])(\d{1,2},\d{3}|\d{3,5})(?= updates\b)|(?<=updates instead of )"
                             r"(\d{1,2},\d{3}|\d{3,5})(?![\d,])", sentence):
            moment = re.search(r"\b(after|every|until|at)\b[^.]{0,12}$", sentence[:m.start()],
                               re.IGNORECASE)  # a point in a run, not its length
            if "class" in sentence[:m.start()] and int(m[0].replace(",", "")) not in updates and not moment \
                    and not re.search(r"\bfull\b|d2l|source", sentence):
                found.append(f"a class run of {m[0]} updates; the class settings train "
                             f"{', '.join(f'{u:,}' for u in sorted(updates))} updates")
    return found


def problems(root: Path = REPO) -> list[str]:
    """Every contradiction found between the pages and the records (an empty list: none)."""
    counts, minutes, updates = sweep_counts(root), recorded_minutes(root), class_update_counts()
    lesson_minutes = {path.name[:2]: json.loads(path.read_text(encoding="utf-8"))["total_seconds"] / 60
                      for path in (root / "docs" / "results").glob("0?_*_times.json")}  # whole lessons, class setting
    found = []
    for where, text, page_lesson in pages(root):
        found += [f"{where}: {problem}" for problem in
                  history_problems(text) + pass_count_problems(text, page_lesson, counts)
                  + minute_problems(text, minutes, lesson_minutes) + update_problems(text, updates)]
    return found


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO
    listed = problems(root)
    print("\n".join(listed) or "no contradictions")
    print(f"{len(listed)} found in {root}")
