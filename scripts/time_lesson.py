"""How long each cell of a lesson takes, run top to bottom as a learner would, in one setting.

    python scripts/time_lesson.py notebooks/00_points_2d.ipynb                  # class setting
    python scripts/time_lesson.py notebooks/00_points_2d.ipynb --setting quick --out /tmp/t.json
    python scripts/time_lesson.py notebooks/02_dcgan_mnist.ipynb --executed /tmp/02_executed.ipynb

Executes a copy of the notebook (the notebook itself is not rewritten) with
GAN_TUTORIAL_SETTING set and the live view off, records each code cell's seconds from
nbclient's timestamps, and writes them with the total and the longest cell to
docs/results/<notebook>_times.json, the record the docs quote. ``--executed`` also keeps the
executed copy, outputs and all.
"""
from __future__ import annotations

import json
import os
import platform
from datetime import datetime
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

import script_args
from gan_tutorial.plumbing.checkpoint import write_text
from gan_tutorial.plumbing.precision import resolve_precision

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "results"


def _seconds(cell) -> float:
    times = cell.metadata.get("execution", {})
    start, end = times.get("iopub.execute_input"), times.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


@script_args.one_line_on_full_disk
def main(argv: list[str] | None = None) -> int:
    parser = script_args.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=script_args.existing_file)
    parser.add_argument("--setting", choices=["quick", "class", "full"], default="class")
    parser.add_argument("--out", type=script_args.output_file)
    parser.add_argument("--executed", type=script_args.output_file, help="also write the executed notebook here")
    args = parser.parse_args(argv)
    os.environ.update({"GAN_TUTORIAL_SETTING": args.setting, "GAN_TUTORIAL_LIVE": "0"})
    os.environ.pop("GAN_TUTORIAL_QUICK", None)
    nb = nbformat.read(args.notebook, as_version=4)
    NotebookClient(nb, timeout=3600, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": str(args.notebook.parent)}}).execute()
    cells = [{"cell": i, "first_line": c.source.splitlines()[0][:80] if c.source else "",
              "seconds": round(_seconds(c), 2)}
             for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    longest = max(cells, key=lambda c: c["seconds"])
    if args.executed:
        nbformat.write(nb, args.executed)
    record = {"notebook": args.notebook.name, "setting": args.setting, "torch": torch.__version__,
              "threads": torch.get_num_threads(), "machine": platform.machine(),
              "precision": resolve_precision("auto", torch.device("cpu")),
              "cpus": os.cpu_count(), "load_average_15min": round(os.getloadavg()[2], 2),
              "total_seconds": round(sum(c["seconds"] for c in cells), 1), "longest": longest, "cells": cells}
    out = args.out or RESULTS / f"{args.notebook.stem}_times.json"
    write_text(out, json.dumps(record, indent=1) + "\n")
    print(f"{args.notebook.name} ({args.setting}): {record['total_seconds']:.0f} s of code in all; longest cell "
          f"{longest['cell']} ({longest['first_line']!r}): {longest['seconds']:.1f} s. Wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
