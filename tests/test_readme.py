"""README.md is a front door: short, current, no history (the history of a number lives in docs/results.md)."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
FRONT_PAGES = [README, *(REPO / "docs" / name for name in ("data.md", "training.md", "cli.md", "library.md"))]


def test_readme_is_under_150_lines_and_has_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 150
    assert "make lab" in text and "make test" in text


def test_every_lesson_is_in_the_readme_with_a_picture_from_a_class_run():
    text = README.read_text(encoding="utf-8")
    for notebook in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"(notebooks/{notebook.name})" in text, notebook.name
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert pictures and all(p.startswith("docs/readme/") for p in pictures), pictures
    for picture in pictures:
        record = REPO / "docs" / "results" / f"{Path(picture).stem}_times.json"
        assert record.is_file(), f"{picture} has no class-run record {record.name}"


def test_front_pages_state_facts_not_history():
    for page in FRONT_PAGES:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), f"{page.name} holds a date"
        assert not re.search(r"\b(EPYC|Xeon|H100|H200)\b", text), f"{page.name} names a machine model"


def test_readme_pictures_are_the_ones_the_lessons_store():
    """Each README picture is the real-vs-fake figure its notebook stores from its class run."""
    import nbformat
    from readme_pictures import published_lessons, readme_png

    lessons = published_lessons()
    assert len(lessons) >= 9
    text = README.read_text(encoding="utf-8")
    for path in lessons:
        picture = REPO / "docs" / "readme" / f"{path.stem}.png"
        assert f"](docs/readme/{picture.name})" in text, f"README shows no picture of {path.name}"
        assert picture.read_bytes() == readme_png(nbformat.read(path, as_version=4), path.stem), \
            f"{picture.name} is not what {path.name} stores: run python scripts/readme_pictures.py"


def test_a_lesson_that_draws_two_real_vs_fake_grids_names_the_one_readme_shows():
    """Lesson 02 draws its DCGAN's grid and, in section 7, another model's: README must show the
    lesson's own model, so a notebook with more than one grid names its picture in PICTURE_CELL."""
    import nbformat
    from readme_pictures import PICTURE_CELL, real_vs_fake_png

    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        grids = [cell for cell in nb.cells if cell.cell_type == "code" and "show_real_vs_fake(" in cell.source]
        if len(grids) > 1:
            assert path.stem in PICTURE_CELL, f"{path.name} draws {len(grids)} real-vs-fake grids: name README's"
            assert real_vs_fake_png(nb, PICTURE_CELL[path.stem])  # the named cell holds a picture
