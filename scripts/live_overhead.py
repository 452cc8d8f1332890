"""What the live training view costs: each lesson's class setting trained with and without it.

    python scripts/live_overhead.py                       # lessons 01-04, 07, 08; auto and fp32
    python scripts/live_overhead.py 02 --precision auto --snapshots 1

For each lesson and precision it trains the class setting's models on the class setting's data
for ``--snapshots`` times its snapshot interval, four times from the same seed: with
``fit(live=True)`` twice and ``live=False`` twice, in the order ABBA. It reports the seconds the
view spent drawing (its own clock: the cost itself) as a share of the run, and the difference
of the runs' times (which this machine's drift of up to 15% between runs blurs). The live view's
picture goes to a stand-in for the notebook's display that does what the kernel does with it
(base64 and JSON), so the cost measured is drawing plus sending; the view's module (matplotlib
included) is imported before timing, as a notebook has by then. No evaluations run, so the
share is of training time alone (a whole class run, which also evaluates, pays less). Writes
docs/results/live_overhead.json, the record the docs quote.
"""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import IPython.display
import torch

import script_args
import gan_tutorial.train
from gan_tutorial.live import LiveView
from gan_tutorial.data import limit_dataset, make_loader
from gan_tutorial.lessons import build_models, load_dataset, preset, trainer_kwargs
from gan_tutorial.plumbing.checkpoint import write_text
from gan_tutorial.plumbing.runtime import seed_everything
from gan_tutorial.train import GANTrainer

LESSONS = ["01", "02", "03", "04", "07", "08"]
RECORD = Path(__file__).resolve().parent.parent / "docs" / "results" / "live_overhead.json"


class KernelStandIn:
    """A display handle that serialises each picture as ipykernel would before sending it."""

    def __init__(self) -> None:
        self.updates = 0

    def update(self, obj) -> None:
        json.dumps({"data": {"image/png": base64.b64encode(obj.data).decode()}, "metadata": {}})
        self.updates += 1


def timed_run(lesson: str, precision: str, snapshots: int, live: bool, steps: int | None = None) -> dict:
    config = preset(lesson, "class").override(precision=precision)
    seed_everything(config.seed)
    trainer = GANTrainer(*build_models(config), **trainer_kwargs(config))
    steps = steps or snapshots * config.snapshot_every
    dataset = load_dataset(config)
    loader = make_loader(limit_dataset(dataset, min(len(dataset), steps * config.batch_size)),
                         config.batch_size, device=trainer.device)
    epochs = -(-steps // len(loader))  # enough passes over the data for ``steps`` updates
    handle, views = KernelStandIn(), []
    IPython.display.display = lambda *args, **kwargs: handle
    gan_tutorial.train.notebook_kernel = lambda: True  # the stand-in is the notebook
    LiveView.__init__ = lambda self, *a, _init=LiveView.__init__, **k: (views.append(self), _init(self, *a, **k))[1]
    began = time.perf_counter()
    history = trainer.fit(loader, epochs, snapshot_every=config.snapshot_every, progress=False, live=live)
    if history.stop_reason is not None:  # Ctrl-C or SIGTERM: a cut run measures nothing
        raise SystemExit(f"stopped ({history.stop_reason}) during lesson {lesson}: nothing written")
    return {"seconds": time.perf_counter() - began, "steps": trainer.history.iterations,
            "pictures": sum(v.schedule.drawn for v in views), "precision": trainer.precision,
            "drawing": sum(v.schedule.spent for v in views)}


def _row(row: dict) -> str:
    return (f"| {row['lesson']} | {row['precision']} | {row['steps']:,} | {row['pictures']} | "
            f"{row['drawing_seconds']:.2f} s | {100 * row['drawing_share']:.1f}% | {row['seconds_off']:.1f} s | "
            f"{row['seconds_live']:.1f} s | {100 * row['overhead']:+.1f}% |")


def markdown_table(record: dict) -> str:
    """The table docs/results.md shows between its live-overhead markers (a test compares them)."""
    lines = ["| lesson | precision | steps | pictures | drawing them | share of the run | run without "
             "the view | with it | difference |", "|---|---|---|---|---|---|---|---|---|"]
    return "\n".join(lines + [_row(row) for row in record["runs"]])


@script_args.one_line_on_full_disk
def main() -> int:
    parser = script_args.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", type=script_args.lesson, default=LESSONS)
    parser.add_argument("--precision", nargs="+", choices=["auto", "fp32", "bf16"], default=["auto", "fp32"])
    parser.add_argument("--snapshots", type=script_args.positive_int, default=2)
    parser.add_argument("--out", type=script_args.output_file, default=RECORD)
    args = parser.parse_args()
    rows = []
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(markdown_table({"runs": []}))
    for i, lesson in enumerate(args.lessons):
        for precision in args.precision:
            timed_run(lesson, precision, 1, False, steps=10)  # warm-up: kernels and buffers, untimed
            order = (False, True, True, False) if i % 2 == 0 else (True, False, False, True)
            runs = {False: [], True: []}
            for live in order:  # ABBA: a machine that drifts slower or faster favours neither
                runs[live].append(timed_run(lesson, precision, args.snapshots, live))
            off = sum(r["seconds"] for r in runs[False]) / 2
            on = sum(r["seconds"] for r in runs[True]) / 2
            drawing = sum(r["drawing"] for r in runs[True]) / 2
            row = {"lesson": lesson, "precision": runs[True][0]["precision"], "steps": runs[True][0]["steps"],
                   "seconds_off": round(off, 2), "seconds_live": round(on, 2),
                   "pictures": runs[True][0]["pictures"], "drawing_seconds": round(drawing, 2),
                   "drawing_share": round(drawing / on, 4), "overhead": round(on / off - 1, 4)}
            rows.append(row)
            print(_row(row), flush=True)
    record = {"what": "training time with the live view against without, class settings, no evaluations",
              "torch": torch.__version__, "threads": torch.get_num_threads(), "snapshots": args.snapshots,
              "runs": rows}
    write_text(args.out, json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
