"""Publish finished lesson runs (made with `python -m gan_tutorial train`) to docs/results.md.

    python scripts/publish_results.py runs/lesson01_full runs/lesson04_full ...

For every run folder it copies the real-vs-fake grid, the training curves and the metric
curves into docs/results/, redraws the progress GIF small (few frames, small size) from
the checkpoint, and writes docs/results.md: one table row per run (setting, wall time,
iterations, images/s, precision, final quality numbers and their real-data floor) and a
section of pictures per run, with the run folder's notes.md (what a person saw in its
pictures) if there is one. Everything it writes comes from the runs' own files, each file
whole or not at all (a full disk leaves the old one); the arguments are checked first.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from PIL import Image

import script_args  # noqa: E402
from gan_tutorial.plots import save_progress_gif  # noqa: E402
from gan_tutorial.plumbing.checkpoint import write_file, write_text  # noqa: E402
from gan_tutorial.lessons import LESSONS, RunConfig, build_models  # noqa: E402
from gan_tutorial.train import GANTrainer  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
PICTURES = ("real_vs_fake.png", "curves.png", "metrics.png")
NOTES = "notes.md"  # optional, in a run folder: a few lines on what its pictures show
MAIN_METRIC = {"mnist": "frechet_distance"}  # colour lessons: fid, else diversity_ratio


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.2f} h"


def _quality(summary: dict) -> tuple[str, str]:
    """The headline quality number of a run and what it reads against."""
    metrics, references = summary.get("metrics", {}), summary.get("metric_references", {})
    key = MAIN_METRIC.get(summary["config"]["dataset"]) or ("fid" if "fid" in metrics else "diversity_ratio")
    if key not in metrics:
        return "not measured", ""
    value = f"{key.replace('_', ' ')} {metrics[key]:.3g}"
    if "digits_covered" in metrics and "top_digit_share" in metrics:  # only what was measured
        value += (f", {metrics['digits_covered']:.0f} digits covered, top digit "
                  f"{metrics['top_digit_share']:.0%}")
    refs = ", ".join(f"{name} {number:.3g}" for name, number in references.get(key, {}).items())
    return value, refs


def _save_small(source: Path, target: Path) -> None:
    """Copy a PNG as 256 palette colours: a third of the size, no visible change for these grids."""
    small = Image.open(source).convert("RGB").quantize(colors=256)
    write_file(target, lambda tmp: small.save(tmp, optimize=True))


def publish(run: Path, docs: Path = DOCS) -> tuple[str, str]:
    """Copy one run's pictures to ``docs``/results/ and return (table row, section)."""
    summary = json.loads((run / "summary.json").read_text())
    config = RunConfig.from_dict(summary["config"])
    name = f"lesson{config.lesson}_{config.setting}"
    target = docs / "results"
    target.mkdir(parents=True, exist_ok=True)
    for picture in PICTURES:
        if (run / picture).is_file():
            _save_small(run / picture, target / f"{name}_{picture}")
    G, D = build_models(config)
    trainer = GANTrainer(G, D, device="cpu")
    history = trainer.load(run / "checkpoint.pt")
    nrow = 10 if len(history.snapshots[0]) == 100 else 8
    write_file(target / f"{name}_progress.gif",
               lambda tmp: save_progress_gif(history, tmp, max_frames=8, size=3.0, nrow=nrow))

    seconds = summary["training_seconds_total"]
    images = history.iterations * config.batch_size
    quality, floor = _quality(summary)
    row = (f"| {config.lesson} {LESSONS[config.lesson].title} | {config.setting}: {config.epochs} epochs, "
           f"batch {config.batch_size}, {summary['config']['limit'] or 'all'} items | "
           f"{_minutes(seconds)} | {history.iterations:,} | {images / seconds:,.0f} | "
           f"{summary['precision']} | {quality} | {floor} |")
    last = min(100, history.iterations)
    mean = {key: sum(getattr(history, key)[-last:]) / last
            for key in ("loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2")}
    section = [f"## Lesson {config.lesson}: {LESSONS[config.lesson].title} ({config.setting})", "",
               f"{history.iterations:,} iterations in {_minutes(seconds)} on {summary['device']} "
               f"({summary['torch_threads']} threads, {summary['precision']}), "
               f"{summary.get('evaluation_seconds_this_run', 0):.0f} s of it evaluating quality. "
               f"Mean of the last {last} iterations: Loss_D {mean['loss_d']:.3f}, Loss_G "
               f"{mean['loss_g']:.3f}, D(x) {mean['d_x']:.2f}, D(G(z)) {mean['d_g_z1']:.2f} before / "
               f"{mean['d_g_z2']:.2f} after D's step.", ""]
    if summary.get("metrics"):
        numbers = ", ".join(f"{k} {v:.3g}" for k, v in summary["metrics"].items())
        section += [f"Final quality numbers: {numbers}.", ""]
    if (run / NOTES).is_file():  # what a person saw in the pictures, written after the run
        section += [(run / NOTES).read_text().strip(), ""]
    section += [f"![real vs fake](results/{name}_real_vs_fake.png)", "",
                f"![progress](results/{name}_progress.gif) ![curves](results/{name}_curves.png)", ""]
    if (target / f"{name}_metrics.png").is_file():
        section += [f"![quality during training](results/{name}_metrics.png)", ""]
    return row, "\n".join(section)


@script_args.one_line_on_full_disk
def main() -> None:
    parser = script_args.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=script_args.existing_folder,
                        help="folders written by gan_tutorial train")
    parser.add_argument("--intro", type=script_args.existing_file,
                        help="a Markdown file to put above the table")
    parser.add_argument("--outro", type=script_args.existing_file,
                        help="a Markdown file to put after the runs' sections")
    parser.add_argument("--docs", type=script_args.output_folder, default=DOCS,
                        help="where results.md and results/ go [default: the repository's docs/]")
    args = parser.parse_args()
    for run in args.runs:
        for name in ("summary.json", "checkpoint.pt"):
            if not (run / name).is_file():
                parser.error(f"{run} has no {name}: give the folder of a finished run of "
                             f"`python -m gan_tutorial train`")
    intro = args.intro.read_text() if args.intro else ""
    outro = [args.outro.read_text()] if args.outro else []
    torch.set_num_threads(max(1, torch.get_num_threads()))
    rows, sections = [], []
    for run in args.runs:
        row, section = publish(run, args.docs)
        rows.append(row)
        sections.append(section)
        print(f"published {run}")
    table = ["| lesson | settings | wall time | iterations | images/s | precision | final quality | "
             "real-data reference |", "|---|---|---|---|---|---|---|---|", *rows]
    write_text(args.docs / "results.md", "\n".join(["# What the lessons produce", "", intro, *table, "",
                                                   *sections, *outro]) + "\n")
    size = sum(p.stat().st_size for p in (args.docs / "results").iterdir())
    print(f"wrote {args.docs / 'results.md'}; pictures: {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
