"""A lesson's class setting beside a pinned older one: whole-run minutes, passes, quality, estimate.

    python scripts/sweep.py 02 --seeds 0-4 --precision auto fp32-avx2 --fp32-seeds 0-2 --threads 1
    python scripts/sweep.py 02 --config configs/lesson02_class_64px_1500x32.json \\
        --seeds 0-1 --precision auto fp32-avx2 --fp32-seeds 0-1 --threads 1
    python scripts/compare_settings.py 02 lesson02_class_64px_1500x32 --publish docs/results/sweeps

Reads the two sweeps' records (RUNS/lessonNN_class/lessonNN_class.json and
RUNS/lessonNN_STEM/lessonNN_STEM.json, as sweep.py writes them) and writes
lessonNN_class_vs_NAME.md and .json (NAME: STEM without "class_"): per precision, each setting's
runs, median whole-run minutes (the time ``fit`` took, evaluations included), passes, median
quality (with the fewest and most cells a person read as faces, where the runs were counted), and
the error of the estimate printed before training; then the new setting's minutes
as a share of the old one's. Run the two sweeps side by side (same machine, same session, one
thread each), or the times do not compare.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
import script_args  # noqa: E402
from gan_tutorial.plumbing.checkpoint import write_text  # noqa: E402

QUALITY = (("frechet_distance", "Fréchet {:.0f}"), ("top_digit_share", "top digit {:.0%}"),
           ("diversity_ratio", "diversity {:.2f}"))
LOOK = {"03": "faces", "04": "sprites"}  # what a person counted in a run's grid (sweep.py's looks)


def load_rows(runs: Path, lesson: str, setting: str) -> list[dict]:
    """The finished runs of one sweep (rows with a seed), as sweep.py recorded them."""
    path = runs / f"lesson{lesson}_{setting}" / f"lesson{lesson}_{setting}.json"
    if not path.is_file():
        raise SystemExit(f"no sweep record {path}: run scripts/sweep.py for it first")
    return [row for row in json.loads(path.read_text()) if "seed" in row]


def summarise(rows: list[dict]) -> dict:
    """Runs, median minutes, passes, median quality and estimate errors of some runs."""
    errors = [row["estimate_error"] for row in rows if row.get("estimate_error") is not None]
    quality = {key: statistics.median(row["metrics"][key] for row in rows)
               for key, _ in QUALITY if rows and all(key in row["metrics"] for row in rows)}
    counts = [row.get("count") for row in rows]  # cells of the 64-grid a person read as the look
    return {"runs": len(rows), "passed": sum(row["verdict"] == "pass" for row in rows),
            "counted": (min(counts), max(counts)) if rows and None not in counts else None,
            "iterations": sorted({row["iterations"] for row in rows}),
            "minutes": statistics.median(row["minutes"] for row in rows) if rows else None,
            "quality": quality, "estimate_errors": (min(errors), max(errors)) if errors else None}


def compare(lesson: str, new: list[dict], old: list[dict], old_name: str) -> tuple[str, list[dict]]:
    """The Markdown comparison and its rows (one per precision and setting)."""
    precisions = sorted({row["precision"] for row in new + old})
    lines = [f"Lesson {lesson}: the class setting beside the pinned setting `{old_name}` "
             f"(configs/lesson{lesson}_{old_name}.json). Minutes: the whole run (`fit`, evaluations "
             f"included), median over the runs; estimate: the minutes printed before training, "
             f"against the run's own time.", "",
             "| precision | setting | runs | passed | minutes (median) | new / old | median quality "
             "| estimate error |", "|---|---|---|---|---|---|---|---|"]
    records = []
    for precision in precisions:
        both = {name: summarise([row for row in rows if row["precision"] == precision])
                for name, rows in (("class", new), (old_name, old))}
        ratio = (both["class"]["minutes"] / both[old_name]["minutes"]
                 if both["class"]["runs"] and both[old_name]["runs"] else None)
        for name, summary in both.items():
            if not summary["runs"]:
                continue
            quality = ", ".join(text.format(summary["quality"][key]) for key, text in QUALITY
                                if key in summary["quality"])
            if summary["counted"]:
                fewest, most = summary["counted"]
                quality += f", {fewest if fewest == most else f'{fewest} to {most}'} of 64 cells read as {LOOK[lesson]}"
            errors = summary["estimate_errors"]
            error = f"{errors[0]:+.0%} to {errors[1]:+.0%}" if errors else ""
            share = f"{ratio:.2f}" if name == "class" and ratio is not None else ""
            lines.append(f"| {precision} | {name} | {summary['runs']} | {summary['passed']} of "
                         f"{summary['runs']} | {summary['minutes']:.1f} | {share} | {quality} | {error} |")
            records.append({"precision": precision, "setting": name, **summary,
                            "new_over_old": ratio if name == "class" else None})
    return "\n".join(lines) + "\n", records


def main() -> None:
    parser = script_args.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("lesson", type=script_args.lesson)
    parser.add_argument("old", help="the pinned setting's name: its config file's stem")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "sweep")
    parser.add_argument("--publish", type=script_args.output_folder, help="also write the table here")
    args = parser.parse_args()
    old_name = args.old.removeprefix(f"lesson{args.lesson}_")
    text, records = compare(args.lesson, load_rows(args.runs, args.lesson, "class"),
                            load_rows(args.runs, args.lesson, old_name), old_name)
    name = f"lesson{args.lesson}_class_vs_{old_name.removeprefix('class_')}"
    for target in [args.runs] + ([args.publish] if args.publish else []):
        write_text(target / f"{name}.md", text)
        write_text(target / f"{name}.json", json.dumps(records, indent=1) + "\n")
    print(text)


if __name__ == "__main__":
    main()
