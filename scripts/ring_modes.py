"""Lesson 00's mode-collapse numbers, measured: the ring of 8 under two recipes, over seeds.

    python scripts/ring_modes.py                     # 5 seeds, 3,000 steps, writes the record
    python scripts/ring_modes.py --seeds 0,1 --steps 500 --out /tmp/ring.json

Trains :class:`gan_tutorial.points.PointGAN` on the ring with each recipe of ``RECIPES``,
measures the modes covered (>= 1% of 1,000 fakes within 3 sigma of a mode) and the
Jensen-Shannon divergence every 250 steps, and writes everything, with the settings, the
seconds each run took and the machine's torch, to docs/results/lesson00_ring.json (the
record lesson 00 and docs/results.md quote).
"""
from __future__ import annotations

import json
import platform
import statistics
import time
from dataclasses import asdict
from pathlib import Path

import torch

import script_args
from gan_tutorial.plumbing.checkpoint import write_text
from gan_tutorial.points import PointGAN, PointRecipe

RECIPES = {
    "collapse": {},  # the lesson's default: non-saturating loss, Adam lr 1e-3 for D and G
    "fix": {"lr_g": 5e-4},  # the same with G's learning rate halved
}
RECORD = Path(__file__).resolve().parent.parent / "docs" / "results" / "lesson00_ring.json"


def run(recipe: dict, seed: int, steps: int, every: int) -> dict:
    gan = PointGAN(points="ring", seed=seed, **recipe)
    began = time.perf_counter()
    gan.train(steps, measure_every=every)
    h = gan.history
    return {"seed": seed, "seconds": round(time.perf_counter() - began, 1), "steps": h.frame_step,
            "modes_covered": h.modes_covered, "js": [round(j, 4) for j in h.js]}


NAMES = {"collapse": "collapse: lr D = lr G = 1e-3", "fix": "fix: lr G = 5e-4"}


def markdown_table(record: dict) -> str:
    """The table docs/results.md shows between its ring-record markers (a test compares them)."""
    lines = ["| recipe | modes covered, seeds " + "-".join(str(s) for s in _seed_span(record)) +
             " | median | fewest | Jensen-Shannon at the end |", "|---|---|---|---|---|"]
    for name, result in record["recipes"].items():
        lines.append(f"| {NAMES.get(name, name)} | {', '.join(map(str, result['final_modes']))} | "
                     f"{result['median_modes']:g} | {result['fewest_modes']} | "
                     f"{', '.join(f'{js:.3f}' for js in result['final_js'])} |")
    return "\n".join(lines)


def _seed_span(record: dict) -> tuple[int, int]:
    seeds = [run["seed"] for result in record["recipes"].values() for run in result["runs"]]
    return min(seeds), max(seeds)


@script_args.one_line_on_full_disk
def main(argv: list[str] | None = None) -> int:
    parser = script_args.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=script_args.seeds, default="0-4", help="e.g. 0-4 or 0,3,7")
    parser.add_argument("--steps", type=script_args.positive_int, default=3000)
    parser.add_argument("--every", type=script_args.positive_int, default=250)
    parser.add_argument("--out", type=script_args.output_file, default=RECORD)
    args = parser.parse_args(argv)
    record = {"what": "modes of the ring of 8 covered by lesson 00's PointGAN, per recipe and seed",
              "torch": torch.__version__, "threads": torch.get_num_threads(),
              "machine": platform.processor() or platform.machine(), "steps": args.steps,
              "recipes": {}}
    for name, changes in RECIPES.items():
        runs = []
        for seed in args.seeds:
            runs.append(run(changes, seed, args.steps, args.every))
            print(f"{name} seed {seed}: modes {runs[-1]['modes_covered'][-1]}, JS {runs[-1]['js'][-1]:.3f}, "
                  f"{runs[-1]['seconds']} s", flush=True)
        final = [r["modes_covered"][-1] for r in runs]
        record["recipes"][name] = {
            "recipe": asdict(PointGAN(points="ring", **changes).recipe) | {"seed": "per run"},
            "final_modes": final, "median_modes": statistics.median(final), "fewest_modes": min(final),
            "final_js": [r["js"][-1] for r in runs], "runs": runs}
    write_text(args.out, json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}; its table for docs/results.md:\n{markdown_table(record)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
