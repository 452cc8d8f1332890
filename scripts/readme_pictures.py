"""Copy each lesson's real-vs-fake figure from a class-setting run of its notebook into docs/readme/.

    python scripts/time_lesson.py notebooks/01_fc_gan_mnist.ipynb --executed /tmp/01.ipynb
    python scripts/readme_pictures.py /tmp/01.ipynb [...]

Takes notebooks that scripts/time_lesson.py executed in the class setting (it refuses others),
finds the figure of the cell that calls ``show_real_vs_fake`` (the last one), and writes it to
docs/readme/<notebook>.png as a small palette PNG, 800 pixels wide, the picture README.md shows.
"""
from __future__ import annotations

import argparse
import base64
import io
from pathlib import Path

import nbformat
from PIL import Image

OUT = Path(__file__).resolve().parent.parent / "docs" / "readme"
COLOURS = 64  # a palette this size keeps digits, faces and sprites readable
WIDTH = 800  # pixels: the width GitHub shows a README picture at


def real_vs_fake_png(nb: nbformat.NotebookNode) -> bytes:
    """The PNG of the last cell that calls show_real_vs_fake (ValueError if there is none)."""
    for cell in reversed(nb.cells):
        if cell.cell_type == "code" and "show_real_vs_fake(" in cell.source:
            for output in cell.get("outputs", []):
                if "image/png" in output.get("data", {}):
                    return base64.b64decode(output["data"]["image/png"])
    raise ValueError("no executed show_real_vs_fake figure in it: run it with scripts/time_lesson.py --executed")


def executed_setting(nb: nbformat.NotebookNode) -> str:
    """The setting the notebook printed when it ran ("setting 'class': ..."), or "unknown"."""
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = output.get("text", "")
            if text.startswith("setting '"):
                return text.split("'")[1]
    return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="notebooks executed in the class setting")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        setting = executed_setting(nb)
        if setting != "class":
            parser.error(f"{path} ran in the {setting!r} setting; README shows class-setting runs")
        image = Image.open(io.BytesIO(real_vs_fake_png(nb))).convert("RGB")
        if image.width > WIDTH:
            image = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
        target = OUT / f"{path.stem}.png"
        image.quantize(COLOURS).save(target, optimize=True)
        print(f"{target}: {image.width}x{image.height}, {target.stat().st_size / 1024:.0f} KB from {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
