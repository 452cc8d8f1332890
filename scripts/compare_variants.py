"""Lesson 07's comparison: every variant of lesson 02's DCGAN (32px) over several seeds.

    python scripts/compare_variants.py --runs /root/sweeps/lesson07 --publish docs/results

Reads the finished runs ``RUNS/<variant>_<setting>_seed<k>/`` (as ``python -m gan_tutorial
train <variant> --setting <setting> --seed <k> --out ...`` writes them; scripts/run_variants.sh
trains them), then writes under --publish:

* lesson07_<setting>.md: two tables. Equal updates: one row per variant with seeds done,
  minutes and iterations, the final Fréchet distance (median and range over seeds), digits
  covered, and for the conditional model (lesson 08) the share drawn as asked. Equal time
  (with --times): each variant's Fréchet distance after as many minutes as the baseline's
  class run takes, read from the evaluations every run records. Every run is listed too;
* lesson07_<setting>_quality.png: Fréchet distance against training minutes, one line per run;
* lesson07_<setting>_grids.png: the final fixed-noise grid of every run (a contact sheet).

Minutes: with ``--times`` (the JSON scripts/time_variants.py writes, every variant timed side
by side in one process) a run's minutes are its updates times its variant's measured seconds
per update, comparable across variants. Without it they are each run's own measured training
time, with whatever load the machine had then.
A run that is missing or did not finish is listed as such, never left out; so is a run still
training (it holds its folder's lock) and one trained with --no-eval (no Fréchet distance to show).
The arguments are checked before any run is read; a bad one ends the script with one line.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch


import script_args  # noqa: E402
from gan_tutorial.plumbing.checkpoint import write_file, write_text  # noqa: E402
from gan_tutorial.history import History  # noqa: E402
from gan_tutorial.lessons import LESSONS  # noqa: E402
from sweep import contact_sheet  # noqa: E402  (scripts/sweep.py, beside this file)
from gan_tutorial.plumbing.run_lock import lock_holder as still_training  # noqa: E402

VARIANTS = [name for name in LESSONS if name.startswith("07")] + ["08"]
MEASURED = ("frechet_distance", "digits_covered", "top_digit_share")  # what the tables show


def read_run(folder: Path) -> dict:
    """One run's final numbers, its quality curve (minutes, Fréchet) and its grid; or why not."""
    row = {"run": folder.name, "folder": folder}
    summary_file = folder / "summary.json"
    owner = still_training(folder)
    if owner:
        row["status"] = f"still training ({owner})"
        return row
    if not summary_file.is_file():
        row["status"] = "stopped before the end" if (folder / "checkpoint.pt").is_file() else "not run"
        return row
    summary = json.loads(summary_file.read_text())
    if summary.get("interrupted"):
        row["status"] = f"stopped at {summary['iterations']:,} updates (resumable)"
        return row
    missing = [name for name in MEASURED if name not in summary.get("metrics", {})]
    if missing:
        row["status"] = (f"not measured (no {', '.join(missing)}: trained with --no-eval? train it "
                         f"again without --no-eval, into an empty folder)")
        return row
    if not (folder / "checkpoint.pt").is_file():
        row["status"] = "checkpoint.pt is missing (copied in part?)"
        return row
    state = torch.load(folder / "checkpoint.pt", map_location="cpu", weights_only=True)
    history = History.from_state_dict(state["history"])
    seconds_per_iteration = history.train_seconds / max(1, history.iterations)
    row.update(status="done", summary=summary, metrics=summary["metrics"],
               minutes=summary["training_seconds_total"] / 60, iterations=summary["iterations"],
               threads=summary["torch_threads"], precision=summary["precision"],
               curve=([i * seconds_per_iteration / 60 for i in history.metric_iterations],
                      history.metrics.get("frechet_distance", [])),
               metric_iterations=list(history.metric_iterations),
               grid=folder / "samples.png")
    return row


def _median_range(values: list[float], digits: int = 0) -> str:
    if not values:
        return ""
    text = f"{statistics.median(values):.{digits}f}"
    return text if len(values) == 1 else f"{text} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def apply_times(rows: list[dict], seconds_per_update: dict[str, float]) -> None:
    """Minutes from updates x the variant's side-by-side measured seconds per update."""
    for r in rows:
        if r["status"] == "done" and r["variant"] in seconds_per_update:
            spu = seconds_per_update[r["variant"]]
            r["measured_minutes"] = r["minutes"]
            r["minutes"] = r["iterations"] * spu / 60
            r["curve"] = ([i * spu / 60 for i in r["metric_iterations"]], r["curve"][1])


def _interpolate(x: float, xs: list[float], ys: list[float]) -> float:
    """ys at x, linear between the two points around it (the last y beyond the end)."""
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if x0 <= x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return ys[-1] if x > xs[-1] else ys[0]


def at_equal_time(rows: list[dict], seconds_per_update: dict[str, float]) -> str:
    """Each variant's Fréchet distance after the baseline's class-run minutes (interpolated
    between the two evaluations around that time), over the seeds that ran that long (5% short
    allowed: a variant a little faster than the baseline would have run past the run's end)."""
    base = [r["iterations"] for r in rows if r["variant"] == "07" and r["status"] == "done"]
    if not base or "07" not in seconds_per_update:
        return ""
    budget = statistics.median(base) * seconds_per_update["07"]  # seconds
    lines = [f"Equal time: each variant after {budget / 60:.1f} minutes, the baseline's run "
             f"(1 thread, seconds per update measured side by side by scripts/time_variants.py); "
             f"the Fréchet distance at that time, interpolated between the run's evaluations "
             f"before and after it.", "",
             "| variant | seconds per update | updates in that time | Fréchet distance, median (range) "
             "| seeds |", "|---|---|---|---|---|"]
    for variant in VARIANTS:
        if variant not in seconds_per_update:
            continue
        updates = int(budget / seconds_per_update[variant])
        values, short = [], []
        for r in rows:
            if r["variant"] != variant or r["status"] != "done":
                continue
            if r["iterations"] < 0.95 * updates:  # stopped well before the time was up
                short.append(r["run"])
                continue
            values.append(_interpolate(updates, r["metric_iterations"], r["curve"][1]))
        note = f" (too short: {', '.join(short)})" if short else ""
        lines.append(f"| {variant} | {seconds_per_update[variant]:.3f} | {updates:,} | "
                     f"{_median_range(values)} | {len(values)}{note} |")
    return "\n".join(lines) + "\n"


def table(rows: list[dict], setting: str, timed: bool = False) -> str:
    minutes = ("minutes are updates x each variant's seconds per update, measured side by side"
               if timed else "minutes are measured per run (training only)")
    lines = [f"The {setting} setting, equal updates: every variant trains the "
             f"same number of G updates on the same seeds; {minutes}.", "",
             "| variant | what changes | runs done | minutes (median) | iterations | Fréchet distance, "
             "median (range) | digits covered | digits drawn as asked |", "|---|---|---|---|---|---|---|---|"]
    for variant in VARIANTS:
        mine = [r for r in rows if r["variant"] == variant]
        done = [r for r in mine if r["status"] == "done"]
        if not mine:
            continue
        title = LESSONS[variant].title
        if not done:
            lines.append(f"| {variant} | {title} | 0 of {len(mine)} | | | | | |")
            continue
        # only runs of the setting's whole length count here; shorter ones (stopped on purpose for
        # the equal-time table) are named, and counted there
        length = max(r["iterations"] for r in done)
        short = [r for r in done if r["iterations"] < length]
        done = [r for r in done if r["iterations"] == length]
        stopped = ", ".join(f"{r['iterations']:,}" for r in short)
        runs = f"{len(done)} of {len(mine)}" + (
            f" ({len(short)} stopped at {stopped} updates)" if short else "")
        asked = [100 * r["metrics"]["label_accuracy"] for r in done if "label_accuracy" in r["metrics"]]
        lines.append(f"| {variant} | {title} | {runs} | "
                     f"{_median_range([r['minutes'] for r in done], 1)} | {length:,} | "
                     f"{_median_range([r['metrics']['frechet_distance'] for r in done])} | "
                     f"{_median_range([r['metrics']['digits_covered'] for r in done])} | "
                     f"{_median_range(asked) + '%' if asked else ''} |")
    lines += ["", "Every run:", "", "| run | status | precision (threads) | updates | minutes | Fréchet | "
              "digits | most frequent digit | drawn as asked |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["status"] != "done":
            lines.append(f"| {r['run']} | {r['status']} | | | | | | | |")
            continue
        m = r["metrics"]
        asked = f"{m['label_accuracy']:.0%}" if "label_accuracy" in m else ""
        lines.append(f"| {r['run']} | done | {r['precision']} ({r['threads']}) | {r['iterations']:,} | "
                     f"{r['minutes']:.1f} | "
                     f"{m['frechet_distance']:.0f} | {m['digits_covered']:.0f} | "
                     f"{m['top_digit_share']:.0%} | {asked} |")
    return "\n".join(lines) + "\n"


def quality_plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5))
    colours = dict(zip(VARIANTS, plt.cm.tab10.colors))
    labelled = set()
    for r in rows:
        if r["status"] != "done" or not r["curve"][1]:
            continue
        label = None if r["variant"] in labelled else r["variant"]
        labelled.add(r["variant"])
        ax.plot(*r["curve"], color=colours[r["variant"]], label=label, alpha=0.8)
    ax.set(xlabel="training minutes (this machine, 1 thread)", ylabel="Fréchet distance (lower is better)",
           yscale="log", title="Quality against time, one line per run")
    if labelled:
        ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        write_file(path, lambda tmp: fig.savefig(tmp, dpi=72))  # whole or not at all
    finally:
        plt.close(fig)


def _variant_title(row: dict) -> tuple[str, str]:
    return f"{row['run']}\nFréchet {row['metrics']['frechet_distance']:.0f}", "black"


def _times_file(text: str) -> dict[str, float]:
    """An argparse type: the seconds per update in a file scripts/time_variants.py wrote."""
    path = script_args.existing_file(text)
    try:
        times = json.loads(path.read_text())["seconds_per_update"]
        if not (isinstance(times, dict) and all(float(v) > 0 for v in times.values())):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise argparse.ArgumentTypeError(
            f"{text} holds no seconds_per_update (a positive number per variant): give the JSON "
            f"scripts/time_variants.py --out writes") from None
    return {variant: float(v) for variant, v in times.items()}


@script_args.one_line_on_full_disk
def main() -> None:
    from gan_tutorial.plumbing.environment import SETTINGS

    parser = script_args.Parser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=script_args.existing_folder, required=True)
    parser.add_argument("--setting", choices=SETTINGS, default="class")
    parser.add_argument("--seeds", type=script_args.seeds, default="0,1,2", help="e.g. 0,1,2 or 0-4")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=VARIANTS,
                        help="which presets to read (default: all of lesson 07's and lesson 08)")
    parser.add_argument("--name", default="lesson07",
                        help="file name stem of what is written, e.g. lesson08 for 08's full run")
    parser.add_argument("--publish", type=script_args.output_folder, required=True)
    parser.add_argument("--times", type=_times_file,
                        help="seconds per update of each variant (scripts/time_variants.py --out)")
    args = parser.parse_args()
    if not args.name or Path(args.name).name != args.name or args.name in {".", ".."}:
        parser.error(f"--name {args.name!r} is not a file name stem: give one without folders, e.g. lesson08")
    rows = []
    for variant in args.variants:
        for seed in args.seeds:
            row = read_run(args.runs / f"{variant}_{args.setting}_seed{seed}")
            rows.append({**row, "variant": variant, "seed": seed})
            if row["status"].startswith("not measured"):
                print(f"note: {row['run']} is {row['status']}", file=sys.stderr)
    args.publish.mkdir(parents=True, exist_ok=True)
    stem = args.publish / f"{args.name}_{args.setting}"
    times = args.times or {}
    apply_times(rows, times)
    text = table(rows, args.setting, timed=bool(times))
    equal_time = at_equal_time(rows, times)
    if equal_time:
        text += "\n" + equal_time
    write_text(f"{stem}.md", text)
    quality_plot(rows, Path(f"{stem}_quality.png"))
    done = [r for r in rows if r["status"] == "done"]
    contact_sheet(done, Path(f"{stem}_grids.png"), columns=6, title=_variant_title, size=200)
    print(text)


if __name__ == "__main__":
    main()
