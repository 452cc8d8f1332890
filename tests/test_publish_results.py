"""scripts/publish_results.py: docs/results.md is written from the runs' own files, nothing else."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from gan_tutorial.lessons.cli import main as cli

REPO = Path(__file__).resolve().parent.parent


def test_published_page_takes_every_number_from_the_run(tmp_path, mnist_data):
    run = tmp_path / "lesson01"
    assert cli(["train", "01", "--setting", "quick", "--limit", "300", "--epochs", "2",
                "--eval-every", "2", "--device", "cpu", "--out", str(run)]) == 0
    summary = json.loads((run / "summary.json").read_text())
    (run / "notes.md").write_text("NOTES: blurry digits, mostly 1s.\n")
    (tmp_path / "intro.md").write_text("INTRO: how the runs were made.\n")
    (tmp_path / "outro.md").write_text("OUTRO: lesson 05 lives in its notebook.\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "publish_results.py"), str(run),
                             "--docs", str(docs), "--intro", str(tmp_path / "intro.md"),
                             "--outro", str(tmp_path / "outro.md")],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    page = (docs / "results.md").read_text()
    assert (page.index("INTRO") < page.index("| lesson |") < page.index("## Lesson 01")
            < page.index("NOTES: blurry digits") < page.index("OUTRO"))
    row = next(line for line in page.splitlines() if line.startswith("| 01 "))
    assert f"| {summary['iterations']:,} |" in row
    assert f"{summary['training_seconds_total'] / 60:.1f} min" in row
    assert f"frechet distance {summary['metrics']['frechet_distance']:.3g}" in row
    floor = summary["metric_references"]["frechet_distance"]["real vs real"]
    assert f"real vs real {floor:.3g}" in row
    for name in ("real_vs_fake.png", "curves.png", "metrics.png", "progress.gif"):
        picture = docs / "results" / f"lesson01_quick_{name}"
        assert picture.is_file() and f"results/lesson01_quick_{name}" in page
    assert Image.open(docs / "results" / "lesson01_quick_real_vs_fake.png").mode == "P"  # kept small
    gif = Image.open(docs / "results" / "lesson01_quick_progress.gif")
    assert gif.n_frames >= 2 and gif.size[0] <= 500  # redrawn small for the page
    assert (docs / "results" / "lesson01_quick_progress.gif").stat().st_size < 1_000_000
