"""Copy each lesson's real-vs-fake figure from its stored class run into docs/readme/.

    python scripts/readme_pictures.py                       # the lessons as published (make publish)
    python scripts/readme_pictures.py /tmp/01.ipynb [...]   # or notebooks executed elsewhere

Takes notebooks that ran in the class setting (it refuses others): by default every lesson in
notebooks/, whose outputs scripts/publish_lessons.py stored. Finds the figure of the last cell
that calls ``show_real_vs_fake`` (or the call PICTURE_CELL names for the lesson) and writes it
to docs/readme/<notebook>.png as a small palette PNG, 800 pixels wide, the picture README.md shows (tests/test_readme.py checks
that each README picture is the one its lesson stores).
"""
from __future__ import annotations

import argparse
import base64
import io
from pathlib import Path

import nbformat
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "readme"
COLOURS = 64  # a palette this size keeps digits, faces and sprites readable
WIDTH = 800  # pixels: the width GitHub shows a README picture at


PICTURE_CELL = {"00_points_2d": "plot_points_frame(fix.frame()",  # the ring with every mode covered
                "06_troubleshooting": "figsize=(12, 6))\nfor ax, run in zip(axes, (no_dropout, dropout))",  # failure, fix
                "02_dcgan_mnist": "show_real_vs_fake(spread_images(train_digits"}  # the DCGAN, not section 7's model
"""The call whose figure README shows, for lessons that draw no real-vs-fake grid or whose last one
is of another model."""


def real_vs_fake_png(nb: nbformat.NotebookNode, call: str = "show_real_vs_fake(") -> bytes:
    """The picture (PNG or JPEG) of the last cell that holds ``call`` (ValueError if none)."""
    for cell in reversed(nb.cells):
        if cell.cell_type == "code" and call in cell.source:
            for output in cell.get("outputs", []):
                for mime in ("image/png", "image/jpeg"):
                    if mime in output.get("data", {}):
                        return base64.b64decode(output["data"][mime])
    raise ValueError("no executed show_real_vs_fake figure in it: publish it first (make publish)")


def executed_setting(nb: nbformat.NotebookNode) -> str:
    """The setting the notebook was published from, else the one it printed ("setting 'class': ..."),
    else "unknown"."""
    published = nb.metadata.get("gan_tutorial", {}).get("published", {})
    if "setting" in published:
        return published["setting"]
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = output.get("text", "")
            if text.startswith("setting '"):
                return text.split("'")[1]
    return "unknown"


def readme_png(nb: nbformat.NotebookNode, name: str = "") -> bytes:
    """README's picture of lesson ``name``: its real-vs-fake figure (or PICTURE_CELL's), 800 pixels
    wide, a 64-colour palette."""
    image = Image.open(io.BytesIO(real_vs_fake_png(nb, PICTURE_CELL.get(name, "show_real_vs_fake(")))).convert("RGB")
    if image.width > WIDTH:
        image = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
    out = io.BytesIO()
    image.quantize(COLOURS).save(out, format="PNG", optimize=True)
    return out.getvalue()


def published_lessons() -> list[Path]:
    """The lesson notebooks README shows a picture of: every one."""
    return sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks executed in the class setting")
    args = parser.parse_args(argv)
    args.notebooks = args.notebooks or published_lessons()
    OUT.mkdir(parents=True, exist_ok=True)
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        setting = executed_setting(nb)
        if setting != "class":
            parser.error(f"{path} ran in the {setting!r} setting; README shows class-setting runs")
        target = OUT / f"{path.stem}.png"
        target.write_bytes(readme_png(nb, path.stem))
        print(f"{target}: {target.stat().st_size / 1024:.0f} KB from {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
