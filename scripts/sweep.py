"""Success rates of a lesson's setting: train it with several seeds and precisions, then judge.

    python scripts/sweep.py 02 --seeds 0-4 --precision auto fp32 --fp32-seeds 0-2
    python scripts/sweep.py 02 --report-only        # judge the finished runs again

Each run is `python -m gan_tutorial train LESSON --setting SETTING --seed S --precision P`
into RUNS/lessonNN_SETTING/P_seedS (a run that stopped is resumed, a finished one is kept).
Then every run is judged against the lesson's pass criterion (stated in CRITERIA before any
run), and the script writes, next to the runs and under --publish:

* lessonNN_SETTING.md: one table row per run (precision, seed, minutes, iterations, quality
  numbers, verdict) and the pass counts per precision;
* lessonNN_SETTING.png: a contact sheet, the final fixed-noise grid of every run.

The colour lessons have no digit classifier: their automatic check is the diversity ratio,
and a person looks at every thumbnail. Write what you saw into RUNS/lessonNN_SETTING/looks.json,
{"bf16_seed0": {"pass": true, "saw": "faces, some smeared"}, ...}; a run without a look is
reported as "needs a look", never as passed.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # this checkout's gan_tutorial, as the runs use
LOOKS = "looks.json"


@dataclass(frozen=True)
class Criterion:
    """What a run must reach to count as a working GAN (issue 14), fixed before running."""

    min_digits: int | None = None  # digits the classifier finds among the fakes
    max_top_share: float | None = None  # share of the most frequent digit
    max_frechet: float | None = None  # Fréchet distance on the shipped classifier
    diversity: tuple[float, float] | None = None  # allowed diversity ratio (colour lessons)
    look: str | None = None  # what a person must see in the grid

    def text(self) -> str:
        parts = []
        if self.min_digits is not None:
            parts.append(f"at least {self.min_digits} digits covered")
        if self.max_top_share is not None:
            parts.append(f"the most frequent digit at most {self.max_top_share:.0%} of the fakes")
        if self.max_frechet is not None:
            parts.append(f"Fréchet distance at most {self.max_frechet:g}")
        if self.diversity is not None:
            parts.append(f"diversity ratio between {self.diversity[0]} and {self.diversity[1]}")
        if self.look is not None:
            parts.append(f"a person sees {self.look} in the grid")
        return ", ".join(parts)


CRITERIA = {
    "01": Criterion(min_digits=9, max_top_share=0.25, max_frechet=250),
    "02": Criterion(min_digits=10, max_top_share=0.20, max_frechet=200),
    "03": Criterion(diversity=(0.7, 1.3), look="faces"),
    "04": Criterion(diversity=(0.7, 1.3), look="sprite-like shapes (distinct silhouettes and "
                                              "colours on a light background)"),
}


def judge(metrics: dict[str, float], criterion: Criterion, look: dict | None = None) -> tuple[str, list[str]]:
    """("pass" | "fail" | "needs a look", the reasons it failed) for one run's final metrics."""
    failures = []
    if criterion.min_digits is not None and metrics.get("digits_covered", 0) < criterion.min_digits:
        failures.append(f"{metrics.get('digits_covered', 0):.0f} digits")
    if criterion.max_top_share is not None and metrics.get("top_digit_share", 1) > criterion.max_top_share:
        failures.append(f"top digit {metrics.get('top_digit_share', 1):.0%}")
    if criterion.max_frechet is not None and not metrics.get("frechet_distance", float("inf")) <= criterion.max_frechet:
        failures.append(f"Fréchet {metrics.get('frechet_distance', float('nan')):.0f}")
    if criterion.diversity is not None:
        low, high = criterion.diversity
        ratio = metrics.get("diversity_ratio", float("nan"))
        if not low <= ratio <= high:
            failures.append(f"diversity {ratio:.2f}")
    if criterion.look is not None:
        if look is None:
            return ("fail" if failures else "needs a look"), failures
        if not look.get("pass"):
            failures.append("not what the look asks for")
    return ("fail" if failures else "pass"), failures


def parse_seeds(text: str) -> list[int]:
    """ "0-4" -> [0, 1, 2, 3, 4]; "0,3,7" -> [0, 3, 7]."""
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        seeds.extend(range(int(first), int(last or first) + 1))
    return seeds


def run_name(precision: str, seed: int) -> str:
    return f"{precision}_seed{seed}"


def finished(folder: Path) -> bool:
    """Whether a run folder holds a run that trained all its epochs."""
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        return False
    return summary["epochs_done"] >= summary["config"]["epochs"] and not summary["interrupted"]


def train(lesson: str, setting: str, seed: int, precision: str, folder: Path, threads: int) -> None:
    """Run (or resume) one training run in a subprocess, its output in folder/train.log."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    command = [sys.executable, "-m", "gan_tutorial", "train", lesson, "--setting", setting,
               "--seed", str(seed), "--precision", precision, "--out", str(folder)]
    print(f"[{time.strftime('%H:%M:%S')}] {' '.join(command[1:])}", flush=True)
    with open(folder / "train.log", "a") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    if result.returncode != 0:
        print(f"  failed with exit code {result.returncode}: see {folder / 'train.log'}", flush=True)


def collect(lesson: str, folder: Path, names: list[str]) -> list[dict]:
    """One row per finished run: its summary numbers and verdict."""
    looks = json.loads((folder / LOOKS).read_text()) if (folder / LOOKS).is_file() else {}
    rows = []
    for name in names:
        run = folder / name
        if not (run / "summary.json").is_file():
            verdict = "stopped before the end" if run.is_dir() else "not run yet"
            rows.append({"name": name, "verdict": verdict, "reasons": [], "metrics": {}})
            continue
        summary = json.loads((run / "summary.json").read_text())
        verdict, reasons = judge(summary["metrics"], CRITERIA[lesson], looks.get(name))
        if not finished(run):
            verdict, reasons = "did not finish", [f"{summary['epochs_done']} epochs"]
        rows.append({"name": name, "seed": summary["config"]["seed"], "precision": summary["precision"],
                     "minutes": summary["training_seconds_total"] / 60, "iterations": summary["iterations"],
                     "threads": summary["torch_threads"], "metrics": summary["metrics"],
                     "verdict": verdict, "reasons": reasons, "saw": looks.get(name, {}).get("saw", ""),
                     "grid": str(run / "samples.png")})
    return rows


def _quality(metrics: dict[str, float]) -> str:
    if "frechet_distance" in metrics:
        return (f"Fréchet {metrics['frechet_distance']:.0f}, {metrics['digits_covered']:.0f} digits, "
                f"top {metrics['top_digit_share']:.0%}")
    if "diversity_ratio" in metrics:
        return f"diversity {metrics['diversity_ratio']:.2f}"
    return "not measured"


def table(lesson: str, setting: str, rows: list[dict]) -> str:
    """The Markdown table of a sweep, with the criterion and pass counts."""
    lines = [f"Pass criterion (lesson {lesson}, {setting} setting): {CRITERIA[lesson].text()}.", "",
             "| run | precision | seed | minutes (threads) | iterations | quality | verdict | what a person saw |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        if "seed" not in row:
            lines.append(f"| {row['name']} | | | | | | {row['verdict']} | |")
            continue
        why = f" ({'; '.join(row['reasons'])})" if row["reasons"] else ""
        lines.append(f"| {row['name']} | {row['precision']} | {row['seed']} | {row['minutes']:.1f} "
                     f"({row['threads']}) | {row['iterations']:,} | {_quality(row['metrics'])} | "
                     f"{row['verdict']}{why} | {row['saw']} |")
    lines.append("")
    for precision in sorted({row.get("precision") for row in rows if "seed" in row}):
        mine = [row for row in rows if row.get("precision") == precision]
        passed = sum(row["verdict"] == "pass" for row in mine)
        minutes = sorted(row["minutes"] for row in mine)
        lines.append(f"- {precision}: {passed} of {len(mine)} passed; median {minutes[len(minutes) // 2]:.1f} "
                     f"min per run.")
    return "\n".join(lines) + "\n"


def _sweep_title(row: dict) -> tuple[str, str]:
    colour = {"pass": "tab:green", "fail": "tab:red"}.get(row["verdict"], "tab:orange")
    return f"{row['precision']} seed {row['seed']}\n{_quality(row['metrics'])}\n{row['verdict']}", colour


def contact_sheet(rows: list[dict], path: Path, columns: int = 4,
                  title: Callable[[dict], tuple[str, str]] = _sweep_title, size: int = 240) -> None:
    """Every finished run's final fixed-noise grid (``row["grid"]``) as a thumbnail, titled
    (and coloured) by ``title(row)``: by default the sweep's verdict."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    done = [row for row in rows if "grid" in row and Path(row["grid"]).is_file()]
    if not done:
        return
    columns = min(columns, len(done))
    n_rows = -(-len(done) // columns)
    fig, axes = plt.subplots(n_rows, columns, figsize=(2.6 * columns, 3.3 * n_rows), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, row in zip(axes.flat, done):
        image = Image.open(row["grid"]).convert("RGB")
        image.thumbnail((size, size))
        ax.imshow(image)
        text, colour = title(row)
        ax.set_title(text, fontsize=8, color=colour)
    fig.tight_layout()
    fig.savefig(path, dpi=72, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lesson", help="01, 02, 03 or 04")
    parser.add_argument("--setting", default="class")
    parser.add_argument("--seeds", default="0-4", help="seeds for the first precision, e.g. 0-4 or 0,2")
    parser.add_argument("--precision", nargs="+", default=["auto", "fp32"])
    parser.add_argument("--fp32-seeds", default="0-2", help="seeds for every precision after the first")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "sweep")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per run")
    parser.add_argument("--publish", type=Path, help="also copy the table and contact sheet here")
    parser.add_argument("--report-only", action="store_true", help="train nothing, judge what is there")
    args = parser.parse_args()

    from gan_tutorial.lessons import lesson_name

    lesson = lesson_name(args.lesson)
    folder = args.runs / f"lesson{lesson}_{args.setting}"
    plan = [(precision, seed) for i, precision in enumerate(args.precision)
            for seed in parse_seeds(args.seeds if i == 0 else args.fp32_seeds)]
    names = [run_name(precision, seed) for precision, seed in plan]
    if not args.report_only:
        for precision, seed in plan:
            run = folder / run_name(precision, seed)
            if not finished(run):
                train(lesson, args.setting, seed, precision, run, args.threads)
    rows = collect(lesson, folder, names)
    (folder / f"lesson{lesson}_{args.setting}.json").write_text(json.dumps(rows, indent=1) + "\n")
    text = table(lesson, args.setting, rows)
    targets = [folder] + ([args.publish] if args.publish else [])
    for target in targets:
        target.mkdir(parents=True, exist_ok=True)
        (target / f"lesson{lesson}_{args.setting}.md").write_text(text)
        contact_sheet(rows, target / f"lesson{lesson}_{args.setting}.png")
    print(text)


if __name__ == "__main__":
    main()
