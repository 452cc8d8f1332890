"""Run each lesson in the class setting and store what it draws in the notebook itself.

    make publish                                            # every lesson, then README's pictures
    python scripts/publish_lessons.py notebooks/02_dcgan_mnist.ipynb
    python scripts/publish_lessons.py --from-tree /tmp/pub notebooks/02_dcgan_mnist.ipynb

A reader then sees every figure, table, grid and the progress player on GitHub or in
JupyterLab without training anything. Each notebook is executed as scripts/time_lesson.py
does (class setting, live view off; the cell times go to docs/results/<notebook>_times.json,
the record the pages quote), its pictures are shrunk (palette PNGs, JPEGs for photographs;
the player keeps plots.PLAYER_FRAMES frames, as JPEGs 400 pixels wide), stderr (progress bars)
is dropped, and the outputs are grafted onto the notebook's code cells, which must hold the same
code: text edited meanwhile is kept.
``--from-tree`` executes the copy in another checkout (a git worktree, so that a long run and
the test suite do not share notebooks/runs) and writes into this one.

The notebook's metadata records the setting, the CPU, the precision, the threads and a hash
of the code that ran, and its title cell names the machine once; tests/test_published_notebooks.py
fails when stored outputs come from a quick run, lack a figure, or the code changed since.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import sys
from pathlib import Path

import nbformat
from PIL import Image

import script_args
import time_lesson
from refresh_notebooks import clean
from gan_tutorial.plumbing.checkpoint import write_text

REPO = Path(__file__).resolve().parent.parent
COLOURS = 256  # palette size of stored pictures: plots and image grids stay sharp
PHOTO_COLOURS, PHOTO_QUALITY = 50_000, 80  # a figure with more colours is stored as a JPEG
FRAME_WIDTH, FRAME_QUALITY = 400, 55  # the player's frames: 40 pixels per digit of a 10 x 10 grid
DATA_URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)")  # to_jshtml breaks lines with a backslash
NOTE_START, NOTE_END = "<!-- published -->", "<!-- /published -->"


def code_hash(nb: nbformat.NotebookNode) -> str:
    """SHA-256 of the notebook's code cells, in order: what a stored output was made by."""
    sources = "\n\x00\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return hashlib.sha256(sources.encode()).hexdigest()


def small_picture(data: bytes) -> tuple[str, bytes]:
    """A figure as (MIME type, bytes): photographs (faces, sprites) as JPEG, anything else (plots,
    digit grids) as a palette PNG, whichever is smaller than the figure as drawn."""
    image = Image.open(io.BytesIO(data))
    out = io.BytesIO()
    if image.convert("RGB").getcolors(PHOTO_COLOURS) is None:  # more colours than a plot has
        image.convert("RGB").save(out, format="JPEG", quality=PHOTO_QUALITY, optimize=True)
        mime = "image/jpeg"
    else:
        mode = "RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB"
        image.convert(mode).quantize(COLOURS, method=Image.Quantize.FASTOCTREE).save(out, format="PNG", optimize=True)
        mime = "image/png"
    return (mime, out.getvalue()) if out.tell() < len(data) else ("image/png", data)


def small_frame(data: bytes) -> bytes:
    """A frame of the progress player as a JPEG at most FRAME_WIDTH wide (noise compresses badly as PNG)."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if image.width > FRAME_WIDTH:
        image = image.resize((FRAME_WIDTH, round(image.height * FRAME_WIDTH / image.width)), Image.LANCZOS)
    red, green, blue = (band.tobytes() for band in image.split())
    if red == green == blue:  # digits: one channel is a third of the bytes
        image = image.convert("L")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=FRAME_QUALITY, optimize=True)
    return out.getvalue()


def shrink_output(output: nbformat.NotebookNode) -> None:
    """Re-encode every picture in an output: figures by small_picture, the player's frames as JPEGs."""
    data = output.get("data", {})
    if "image/png" in data:
        mime, picture = small_picture(base64.b64decode(data.pop("image/png")))
        data[mime] = base64.b64encode(picture).decode()
    if "text/html" in data:
        html = "".join(data["text/html"]) if isinstance(data["text/html"], list) else data["text/html"]
        recode = lambda m: "data:image/jpeg;base64," + base64.b64encode(  # noqa: E731
            small_frame(base64.b64decode(m.group(1).replace("\\\n", "")))).decode()
        data["text/html"] = DATA_URI.sub(recode, html)


def kept_outputs(cell: nbformat.NotebookNode) -> list:
    """A cell's outputs as stored: stderr (progress bars, warnings of the run) and widgets dropped."""
    kept = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and output.name == "stderr":
            continue
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {}):
            continue
        shrink_output(output)
        kept.append(output)
    return kept


def machine_words(record: dict) -> str:
    """The machine in words a learner can compare theirs with: cores, instruction set, precision."""
    flags = Path("/proc/cpuinfo").read_text().split() if Path("/proc/cpuinfo").exists() else []
    isa = ("AVX512-BF16 and AMX" if "amx_bf16" in flags else "AVX512-BF16" if "avx512_bf16" in flags
           else "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else record["machine"])
    threads = f"{record['threads']} thread" + ("s" if record["threads"] > 1 else "")
    return f"a {record['cpus']}-core {record['machine']} CPU with {isa}, {record['precision']}, {threads}"


def published_note(record: dict, machine: str) -> str:
    minutes = record["total_seconds"] / 60
    return (f"{NOTE_START}\n*The outputs stored on this page come from one run of the class setting "
            f"(`make publish`) on {machine}: {minutes:.1f} minutes in all. "
            f"Running the notebook replaces them with yours.*\n{NOTE_END}")


def with_note(text: str, note: str) -> str:
    """The title cell's text with the publishing note in place of any earlier one."""
    if NOTE_START in text:
        return re.sub(re.escape(NOTE_START) + ".*?" + re.escape(NOTE_END), lambda _: note, text, flags=re.DOTALL)
    return text.rstrip() + "\n\n" + note


def graft(executed: nbformat.NotebookNode, target: nbformat.NotebookNode, record: dict) -> nbformat.NotebookNode:
    """The target notebook with the executed copy's outputs; its code cells must be the same."""
    ran = [c for c in executed.cells if c.cell_type == "code"]
    cells = [c for c in target.cells if c.cell_type == "code"]
    if [c.source for c in ran] != [c.source for c in cells]:
        raise SystemExit("the notebook's code changed while it ran: publish it again")
    for cell, done in zip(cells, ran):
        cell.outputs = kept_outputs(done)
    machine = machine_words(record)
    target.cells[0].source = with_note(target.cells[0].source, published_note(record, machine))
    target.metadata["gan_tutorial"] = {"published": {
        "setting": record["setting"], "code_sha256": code_hash(target), "machine": machine,
        "precision": record["precision"], "threads": record["threads"], "torch": record["torch"],
        "total_seconds": record["total_seconds"]}}
    return clean(target)  # cells numbered as one top-to-bottom run, editor metadata dropped


@script_args.one_line_on_full_disk
def main(argv: list[str] | None = None) -> int:
    parser = script_args.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=script_args.existing_file)
    parser.add_argument("--setting", choices=["quick", "class", "full"], default="class",
                        help="quick: to try the script (tests refuse a notebook published from it)")
    parser.add_argument("--from-tree", type=Path, help="execute the notebooks of this checkout instead")
    parser.add_argument("--graft-only", action="store_true",
                        help="store the outputs of the copy a run already executed (notebooks/runs/published/)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        path = path.resolve()
        source = (args.from_tree / "notebooks" / path.name) if args.from_tree else path
        executed = path.parent / "runs" / "published" / path.name
        executed.parent.mkdir(parents=True, exist_ok=True)
        record_path = REPO / "docs" / "results" / f"{path.stem}_times.json"
        print(f"publishing {path.name} ({args.setting} setting) ...", flush=True)
        if not args.graft_only:
            time_lesson.main([str(source), "--setting", args.setting, "--out", str(record_path),
                              "--executed", str(executed)])
        record = json.loads(record_path.read_text())
        nb = graft(nbformat.read(executed, as_version=4), nbformat.read(path, as_version=4), record)
        write_text(path, nbformat.writes(nb) + "\n")
        print(f"wrote {path.name}: {path.stat().st_size / 1024:.0f} KiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
