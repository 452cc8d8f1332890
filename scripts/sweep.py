"""Success rates of a lesson's setting: train it with several seeds and precisions, then judge.

    python scripts/sweep.py 02 --seeds 0-4 --precision auto fp32 --fp32-seeds 0-2
    python scripts/sweep.py 02 --report-only        # judge the finished runs again
    python scripts/sweep.py 02 --config configs/lesson02_class_64px_1500x32.json \
        --seeds 0-1 --precision auto fp32-avx2 --fp32-seeds 0-1   # a pinned setting, AVX2 emulated

Each run is `python -m gan_tutorial train LESSON --setting SETTING --seed S --precision P`
into RUNS/lessonNN_SETTING/P_seedS (a run that stopped is resumed, a finished one is kept).
With ``--config FILE`` the runs train that file (a pinned setting) into RUNS/lessonNN_STEM.
The precision ``fp32-avx2`` is fp32 on an AVX2-only CPU, emulated on a newer one
(``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2``), to time the slowest CPUs a class meets.
Then every run is judged against the lesson's pass criterion (stated in CRITERIA before any
run), and the script writes, next to the runs and under --publish:

* lessonNN_SETTING.md: one table row per run (precision, seed, minutes, the estimate printed
  before training and its error, iterations, quality numbers, verdict) and the pass counts and
  median minutes per precision;
* lessonNN_SETTING.png: a contact sheet, the final fixed-noise grid of every run.

The colour lessons have no digit classifier: their automatic check is the diversity ratio,
and a person looks at every thumbnail. Write what you saw into RUNS/lessonNN_SETTING/looks.json,
{"auto_seed0": {"pass": true, "saw": "faces, some smeared"}, ...}, with "count": the cells of
the 64-image grid read as the look where the criterion asks for a count (lesson 03); a run without a look is
reported as "needs a look", never as passed. A run without the measurements its criterion reads
(trained with --no-eval) is "not measured", one that is training right now (it holds its folder's
lock) "still training", and one that saved nothing "not run": none of them gets a verdict.
The arguments are checked before any run starts; a bad one ends the script with one line.
"""
from __future__ import annotations

from collections.abc import Callable
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
import script_args  # noqa: E402
from gan_tutorial.plumbing.checkpoint import write_file, write_text  # noqa: E402
from gan_tutorial.plumbing.processes import signal_on_parent_death  # noqa: E402
from gan_tutorial.plumbing.run_lock import lock_holder as still_training  # noqa: E402

LOOKS = "looks.json"
# sweep precisions that are another precision on an emulated CPU: (precision, environment)
EMULATED = {"fp32-avx2": ("fp32", {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"})}


@dataclass(frozen=True)
class Criterion:
    """What a run must reach to count as a working GAN (issue 14), fixed before running."""

    min_digits: int | None = None  # digits the classifier finds among the fakes
    max_top_share: float | None = None  # share of the most frequent digit
    max_frechet: float | None = None  # Fréchet distance on the shipped classifier
    diversity: tuple[float, float] | None = None  # allowed diversity ratio (colour lessons)
    look: str | None = None  # what a person must see in the grid
    min_count: int | None = None  # cells of the 64-image grid a person must count as the look

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
        if self.min_count is not None:
            parts.append(f"at least {self.min_count} of its 64 cells read as {self.look}")
        return ", ".join(parts)

    def measurements(self) -> list[str]:
        """The metrics this criterion reads."""
        limits = (("digits_covered", self.min_digits), ("top_digit_share", self.max_top_share),
                  ("frechet_distance", self.max_frechet), ("diversity_ratio", self.diversity))
        return [name for name, limit in limits if limit is not None]


CRITERIA = {
    "01": Criterion(min_digits=9, max_top_share=0.25, max_frechet=250),
    "02": Criterion(min_digits=10, max_top_share=0.20, max_frechet=200),
    "03": Criterion(diversity=(0.7, 1.3), look="faces", min_count=48),
    "04": Criterion(diversity=(0.7, 1.3), look="sprite-like shapes (distinct silhouettes and "
                                              "colours on a light background)"),
}


def judge(metrics: dict[str, float], criterion: Criterion, look: dict | None = None) -> tuple[str, list[str]]:
    """("pass" | "fail" | "needs a look" | "not measured", the reasons) for one run's final metrics.

    A run lacking a metric the criterion reads (trained with --no-eval) is "not measured": no
    verdict, and no number made up for what was never measured."""
    missing = [name for name in criterion.measurements() if name not in metrics]
    if missing:
        return "not measured", [f"no {', '.join(missing)}: trained with --no-eval?"]
    failures = []
    if criterion.min_digits is not None and metrics["digits_covered"] < criterion.min_digits:
        failures.append(f"{metrics['digits_covered']:.0f} digits")
    if criterion.max_top_share is not None and metrics["top_digit_share"] > criterion.max_top_share:
        failures.append(f"top digit {metrics['top_digit_share']:.0%}")
    if criterion.max_frechet is not None and not metrics["frechet_distance"] <= criterion.max_frechet:
        failures.append(f"Fréchet {metrics['frechet_distance']:.0f}")  # a NaN distance fails too
    if criterion.diversity is not None:
        low, high = criterion.diversity
        ratio = metrics["diversity_ratio"]
        if not low <= ratio <= high:
            failures.append(f"diversity {ratio:.2f}")
    if criterion.look is not None:
        if look is None:
            return ("fail" if failures else "needs a look"), failures
        if criterion.min_count is not None:
            if look.get("count") is None:  # a look that did not count the cells is no verdict
                return ("fail" if failures else "needs a look"), failures + ["the cells were not counted"]
            if look["count"] < criterion.min_count:
                failures.append(f"{look['count']} of 64 cells read as {criterion.look}")
        if not look.get("pass"):
            failures.append("not what the look asks for")
    return ("fail" if failures else "pass"), failures


parse_seeds = script_args.seeds  # "0-4" -> [0, 1, 2, 3, 4]; "0,3,7" -> [0, 3, 7]


def run_name(precision: str, seed: int) -> str:
    return f"{precision}_seed{seed}"


def finished(folder: Path) -> bool:
    """Whether a run folder holds a run that trained all its epochs."""
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        return False
    return summary["epochs_done"] >= summary["config"]["epochs"] and not summary["interrupted"]


def _stop_with_parent(parent: int) -> Callable[[], None]:
    """A preexec_fn: the child gets SIGTERM (a training run saves, then stops) when the sweep
    dies, however it dies; a sweep killed alone left its run training for hours (Linux only)."""
    def preexec() -> None:
        signal_on_parent_death(signal.SIGTERM)
        if os.getppid() != parent:  # the sweep died before the line above
            os.kill(os.getpid(), signal.SIGTERM)
    return preexec


def train(lesson: str, setting: str, seed: int, precision: str, folder: Path, threads: int,
          config: Path | None = None) -> None:
    """Run (or resume) one training run in a subprocess, its output in folder/train.log; the
    run stops (and saves) when the sweep dies. With ``config`` it trains that file (its setting)."""
    folder.mkdir(parents=True, exist_ok=True)
    precision, emulation = EMULATED.get(precision, (precision, {}))
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), **emulation}
    what = [str(config)] if config else [lesson, "--setting", setting]
    command = [sys.executable, "-m", "gan_tutorial", "train", *what,
               "--seed", str(seed), "--precision", precision, "--out", str(folder)]
    shown = " ".join(f"{key}={value}" for key, value in emulation.items())
    print(f"[{time.strftime('%H:%M:%S')}] {shown + ' ' if shown else ''}{' '.join(command[1:])}", flush=True)
    with open(folder / "train.log", "a") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO,
                                preexec_fn=_stop_with_parent(os.getpid()))
    if result.returncode != 0:
        print(f"  failed with exit code {result.returncode}: see {folder / 'train.log'}", flush=True)


def collect(lesson: str, folder: Path, names: list[str]) -> list[dict]:
    """One row per run: its summary numbers and verdict. A run training right now is "still
    training", one that saved nothing "not run" (whatever its folder holds), neither judged."""
    looks = json.loads((folder / LOOKS).read_text()) if (folder / LOOKS).is_file() else {}
    rows = []
    for name in names:
        run = folder / name
        owner = still_training(run)
        if owner or not (run / "summary.json").is_file():
            if owner:
                verdict, reasons = "still training", [owner]
            elif (run / "checkpoint.pt").is_file():
                verdict, reasons = "stopped before the end", []
            else:
                verdict = "not run"
                reasons = ["nothing saved, see train.log"] if (run / "train.log").is_file() else []
            rows.append({"name": name, "verdict": verdict, "reasons": reasons, "metrics": {}})
            continue
        summary = json.loads((run / "summary.json").read_text())
        look = looks.get(name)  # what a person saw in the run's grid, if anyone looked
        verdict, reasons = judge(summary["metrics"], CRITERIA[lesson], look)
        if not finished(run):
            verdict, reasons = "did not finish", [f"{summary['epochs_done']} epochs"]
        emulated = name.split("_seed")[0] in EMULATED  # named after the sweep's precision
        this_run = summary.get("this_run", {})
        one_go = this_run.get("iterations") == summary["iterations"]  # not resumed: the estimate covers it
        estimate = this_run.get("estimated_seconds") if one_go else None
        rows.append({"name": name, "seed": summary["config"]["seed"],
                     "precision": name.split("_seed")[0] if emulated else summary["precision"],
                     "minutes": summary["training_seconds_total"] / 60, "iterations": summary["iterations"],
                     "estimated_minutes": None if estimate is None else estimate / 60,
                     "estimate_error": None if estimate is None else estimate / this_run["training_seconds"] - 1,
                     "threads": summary["torch_threads"], "metrics": summary["metrics"],
                     "verdict": verdict, "reasons": reasons, "saw": _saw(look or {}, CRITERIA[lesson]),
                     "count": (look or {}).get("count"),
                     "grid": str(run / "samples.png")})
    return rows


def _saw(look: dict, criterion: Criterion) -> str:
    """What a person wrote about a run's grid, after the count of its cells where one was made."""
    count = f"{look['count']} of 64 read as {criterion.look}" if look.get("count") is not None else ""
    return "; ".join(part for part in (count, look.get("saw", "")) if part)


_SHOWN = (("frechet_distance", "Fréchet {:.0f}"), ("digits_covered", "{:.0f} digits"),
          ("top_digit_share", "top {:.0%}"), ("diversity_ratio", "diversity {:.2f}"))


def _quality(metrics: dict[str, float]) -> str:
    """The numbers a run measured (only those), or "not measured"."""
    return ", ".join(text.format(metrics[key]) for key, text in _SHOWN if key in metrics) or "not measured"


def table(lesson: str, setting: str, rows: list[dict]) -> str:
    """The Markdown table of a sweep, with the criterion and pass counts."""
    lines = [f"Pass criterion (lesson {lesson}, {setting} setting): {CRITERIA[lesson].text()}.", "",
             "| run | precision | seed | minutes (threads) | estimate (error) | iterations | quality | verdict "
             "| what a person saw |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        why = f" ({'; '.join(row['reasons'])})" if row["reasons"] else ""
        if "seed" not in row:
            lines.append(f"| {row['name']} | | | | | | | {row['verdict']}{why} | |")
            continue
        estimate = ("" if row.get("estimate_error") is None else
                    f"{row['estimated_minutes']:.1f} ({row['estimate_error']:+.0%})")
        lines.append(f"| {row['name']} | {row['precision']} | {row['seed']} | {row['minutes']:.1f} "
                     f"({row['threads']}) | {estimate} | {row['iterations']:,} | {_quality(row['metrics'])} | "
                     f"{row['verdict']}{why} | {row['saw']} |")
    lines.append("")
    for precision in sorted({row.get("precision") for row in rows if "seed" in row}):
        mine = [row for row in rows if row.get("precision") == precision]
        passed = sum(row["verdict"] == "pass" for row in mine)
        unmeasured = sum(row["verdict"] == "not measured" for row in mine)
        minutes = statistics.median(row["minutes"] for row in mine)
        lines.append(f"- {precision}: {passed} of {len(mine)} passed"
                     f"{f' ({unmeasured} not measured)' if unmeasured else ''}; median "
                     f"{minutes:.1f} min per run.")
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
    try:
        write_file(path, lambda tmp: fig.savefig(tmp, dpi=72, bbox_inches="tight"))  # whole or not at all
    finally:
        plt.close(fig)


@script_args.one_line_on_full_disk
def main() -> None:
    from gan_tutorial.plumbing.environment import SETTINGS
    from gan_tutorial.plumbing.precision import PRECISIONS

    parser = script_args.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("lesson", type=script_args.lesson, help=", ".join(CRITERIA))
    parser.add_argument("--setting", choices=SETTINGS, default="class")
    parser.add_argument("--seeds", type=parse_seeds, default="0-4",
                        help="seeds for the first precision, e.g. 0-4 or 0,2")
    parser.add_argument("--precision", nargs="+", choices=(*PRECISIONS, *EMULATED), default=["auto", "fp32"],
                        help="fp32-avx2: fp32 with an AVX2-only CPU emulated")
    parser.add_argument("--config", type=Path,
                        help="train this JSON file (a pinned setting of LESSON) instead of the preset")
    parser.add_argument("--fp32-seeds", type=parse_seeds, default="0-2",
                        help="seeds for every precision after the first")
    parser.add_argument("--runs", type=script_args.output_folder, default=REPO / "runs" / "sweep")
    parser.add_argument("--threads", type=script_args.positive_int, default=2, help="torch threads per run")
    parser.add_argument("--publish", type=script_args.output_folder,
                        help="also copy the table and contact sheet here")
    parser.add_argument("--report-only", action="store_true", help="train nothing, judge what is there")
    args = parser.parse_args()

    lesson = args.lesson
    if lesson not in CRITERIA:
        parser.error(f"lesson {lesson} has no pass criterion in CRITERIA (scripts/sweep.py): choose one "
                     f"of {', '.join(CRITERIA)}, or state its criterion there before sweeping it")
    twice = sorted({p for p in args.precision if args.precision.count(p) > 1})
    if twice:
        parser.error(f"--precision {' '.join(twice)} is listed twice: give each precision once")
    setting = args.setting
    if args.config is not None:
        try:
            pinned = json.loads(args.config.read_text())
        except (OSError, ValueError) as err:
            parser.error(f"--config {args.config}: {err}")
        if not isinstance(pinned, dict) or str(pinned.get("lesson")).removeprefix("0") != lesson.removeprefix("0"):
            parser.error(f"--config {args.config} is a setting of lesson {pinned.get('lesson')}, not {lesson}")
        setting = args.config.stem.removeprefix(f"lesson{lesson}_")  # the runs' and records' name
        args.config = args.config.resolve()
    folder = args.runs / f"lesson{lesson}_{setting}"
    if args.report_only and not folder.is_dir():
        parser.error(f"nothing to judge: {folder} does not exist; drop --report-only to train, or point "
                     f"--runs at the folder holding lesson{lesson}_{setting}")
    plan = [(precision, seed) for i, precision in enumerate(args.precision)
            for seed in (args.seeds if i == 0 else args.fp32_seeds)]
    names = [run_name(precision, seed) for precision, seed in plan]
    busy = [f"{name} ({owner})" for name in names if (owner := still_training(folder / name))]
    if busy and not args.report_only:
        parser.error(f"{', '.join(busy)} in {folder} is still training: wait for it (or stop it), or "
                     f"pass --report-only to judge what is there")
    if not args.report_only:
        for precision, seed in plan:
            run = folder / run_name(precision, seed)
            if not finished(run):
                train(lesson, setting, seed, precision, run, args.threads, args.config)
    rows = collect(lesson, folder, names)
    write_text(folder / f"lesson{lesson}_{setting}.json", json.dumps(rows, indent=1) + "\n")
    text = table(lesson, setting, rows)
    targets = [folder] + ([args.publish] if args.publish else [])
    for target in targets:
        target.mkdir(parents=True, exist_ok=True)
        write_text(target / f"lesson{lesson}_{setting}.md", text)
        contact_sheet(rows, target / f"lesson{lesson}_{setting}.png")
    print(text)


if __name__ == "__main__":
    main()
