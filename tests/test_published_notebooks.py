"""Every lesson as committed shows what its class setting draws, from a real run of today's code.

scripts/publish_lessons.py (``make publish``) runs each notebook in the class setting and stores
its outputs; nbval's quick run (lax mode) compares only the cells tagged nbval-check-output and
writes nothing back. These tests read the stored outputs: they must come from a class run
(not quick), of the code the notebook holds now, with a picture in every cell that draws one.
"""
from __future__ import annotations

import base64
import copy
import re

import nbformat
import pytest

from publish_lessons import NOTE_END, NOTE_START, code_hash
from test_notebooks_clean import LESSONS, NOTEBOOKS, code_cells, load

from gan_tutorial.plots import PLAYER_FRAMES

# a call that draws a figure: every plots.plot_*/show_* function, and a figure the page builds
DRAWS = re.compile(r"^(?!\s*#).*\b(plot_\w+|show_(?!progress)\w+|plt\.subplots|show_progress)\(", re.MULTILINE)
PICTURES = {"image/png", "image/jpeg"}  # figures; photographs are stored as JPEG
MAX_BYTES = 1_500_000  # one notebook with every figure and the player: about a megabyte at most


def pictures(cell) -> int:
    """Figures and players stored in a cell's outputs."""
    n = 0
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        n += bool(PICTURES & set(data)) or "data:image/" in str(data.get("text/html", ""))
    return n


def player_frames(cell) -> int:
    """Frames of the progress player stored in a cell (to_jshtml embeds one picture per frame)."""
    html = "".join(str(o.get("data", {}).get("text/html", "")) for o in cell.get("outputs", []))
    return html.count("data:image/") if "Animation" in html else 0


def published_problems(nb: nbformat.NotebookNode) -> list[str]:
    """What is wrong with a notebook's stored outputs (an empty list: nothing)."""
    meta = nb.metadata.get("gan_tutorial", {}).get("published")
    if not meta:
        return ["no stored class run: run `make publish`"]
    problems = []
    if meta["setting"] != "class":
        problems.append(f"outputs stored from the {meta['setting']!r} setting, not class")
    if meta["code_sha256"] != code_hash(nb):
        problems.append("code cells changed since the outputs were stored: run `make publish` for it")
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                     for c in code_cells(nb) for o in c.outputs)
    printed = set(re.findall(r"^setting '(\w+)'", text, re.MULTILINE))
    if printed - {"class"}:
        problems.append(f"an output says it ran in the {sorted(printed - {'class'})} setting")
    for cell in code_cells(nb):
        errors = [o for o in cell.outputs if o.output_type == "error" or o.get("name") == "stderr"]
        if errors:
            problems.append(f"an error or stderr is stored under {cell.source.splitlines()[0]!r}")
        if DRAWS.search(cell.source) and not pictures(cell):
            problems.append(f"no figure stored under {cell.source.splitlines()[0]!r}")
        if player_frames(cell) > PLAYER_FRAMES:
            problems.append(f"the player holds {player_frames(cell)} frames (at most {PLAYER_FRAMES})")
    notes = sum(c.source.count(NOTE_START) for c in nb.cells)
    if notes != 1 or NOTE_END not in nb.cells[0].source:
        problems.append(f"the title cell must name the machine once ({notes} notes found)")
    return problems


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_stores_its_class_run(name):
    assert published_problems(load(name)) == []


@pytest.mark.parametrize("name", LESSONS)
def test_stored_outputs_stay_small(name):
    size = (NOTEBOOKS / f"{name}.ipynb").stat().st_size
    assert size < MAX_BYTES, f"{name} is {size / 1e6:.1f} MB: shrink its figures or frames"


def test_a_lesson_that_trains_shows_curves_grids_and_the_player():
    for name in ("01_fc_gan_mnist", "02_dcgan_mnist", "03_dcgan_celeba", "04_dcgan_pokemon",
                 "07_modern_gans", "08_conditional_gan"):
        cells = code_cells(load(name))
        player = [c for c in cells if "show_progress(" in c.source]
        assert player and all(0 < player_frames(c) <= PLAYER_FRAMES for c in player), name
        assert sum(pictures(c) for c in cells) >= 5, f"{name} stores fewer than 5 figures"


def test_the_check_refuses_quick_stale_and_missing_figures():
    """Each doctoring of a published notebook is caught (the test above can fail)."""
    good = load("02_dcgan_mnist")
    assert published_problems(good) == []
    quick = copy.deepcopy(good)
    quick.metadata["gan_tutorial"]["published"]["setting"] = "quick"
    assert any("'quick' setting" in p for p in published_problems(quick))
    printed_quick = copy.deepcopy(good)
    cell = next(c for c in code_cells(printed_quick) if "print(f\"setting" in c.source)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="setting 'quick': 20 updates\n")]
    assert any("ran in the ['quick'] setting" in p for p in published_problems(printed_quick))
    stale = copy.deepcopy(good)
    code_cells(stale)[3].source += "\n# a changed line"
    assert any("changed since" in p for p in published_problems(stale))
    bare = copy.deepcopy(good)
    next(c for c in code_cells(bare) if "plot_losses(" in c.source).outputs = []
    assert any("no figure stored under 'plot_losses" in p for p in published_problems(bare))
    unpublished = copy.deepcopy(good)
    del unpublished.metadata["gan_tutorial"]
    assert published_problems(unpublished) == ["no stored class run: run `make publish`"]


def test_stored_pictures_are_valid_images():
    from io import BytesIO

    from PIL import Image

    for name in LESSONS:
        for cell in code_cells(load(name)):
            for output in cell.outputs:
                for mime in PICTURES & set(output.get("data", {})):
                    Image.open(BytesIO(base64.b64decode(output["data"][mime]))).verify()


def test_publishing_stores_photos_as_jpeg_plots_as_png_and_refuses_changed_code():
    from io import BytesIO

    import numpy as np
    import pytest
    from PIL import Image
    from publish_lessons import graft, small_picture

    def png(array) -> bytes:
        out = BytesIO()
        Image.fromarray(array).save(out, format="PNG")
        return out.getvalue()

    noise = np.random.default_rng(0).integers(0, 256, (300, 300, 3), dtype=np.uint8)  # photo-like
    plot = np.full((300, 300, 3), 255, dtype=np.uint8)
    plot[100:110, :] = (31, 119, 180)  # a line on white
    assert small_picture(png(noise))[0] == "image/jpeg"
    mime, data = small_picture(png(plot))
    assert mime == "image/png" and len(data) <= len(png(plot))  # never larger than drawn
    ran = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("x = 1")])
    edited = copy.deepcopy(ran)
    edited.cells[1].source = "x = 2"
    record = {"setting": "class", "machine": "x86_64", "threads": 1, "cpus": 2, "precision": "bf16",
              "torch": "2", "total_seconds": 60.0}
    with pytest.raises(SystemExit, match="code changed"):
        graft(ran, edited, record)
    published = graft(ran, copy.deepcopy(ran), record)
    assert published_problems(published) == [] and NOTE_START in published.cells[0].source
