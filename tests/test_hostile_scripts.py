"""Hostile inputs to the scripts (issue 28): each is refused up front with one line naming the
culprit and the fix (exit code 2, no traceback), or handled, and nothing unmeasured is published.

Careless arguments tried (the table of ``test_bad_arguments_are_refused_before_any_work``):

* sweep.py: lesson 07 and 08 (no pass criterion), lesson 9, --setting fast, --seeds 3-1, --seeds x,
  --seeds 0,0, --fp32-seeds -1, --precision fp64, --precision fp32 fp32, --threads 0,
  --runs FILE, --publish FILE, --report-only with a --runs folder that does not exist;
* compare_variants.py: --runs MISSING, --runs FILE, --seeds x / 3-1 / "", --setting fast,
  --times MISSING, --times NOT-JSON, --times without seconds_per_update, --publish FILE, --name a/b;
* conditional_report.py: a run folder that does not exist, a file, a folder without
  checkpoint.pt, an unconditional run, --out under a file (FILE/t.md), --out onto the run's own
  config.json, --out a folder;
* class_times.py: lesson 9 (alone and after a good lesson), --steps 0, --steps -5, --precision fp64;
* time_variants.py: --rounds 0, --steps 0, --threads -1, --out under a file (FILE/t.json);
* make_assignments.py: a notebook that does not exist, a folder, a file that is not a notebook,
  --out FILE, two notebooks of the same name;
* publish_results.py: a run folder that does not exist, a folder that is not a run, --intro
  MISSING, --docs FILE.

Each script's work (training, reading runs, timing, sampling, publishing) is replaced by a
function that fails the test, so a check made only after the work shows up as a failure.
"""
from __future__ import annotations

import errno
import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import matplotlib.figure
import nbformat
import pytest
import torch
from PIL import Image

from gan_tutorial.history import History
from gan_tutorial.lessons import preset
from gan_tutorial.plumbing.run_lock import run_lock

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
GOOD = {"digits_covered": 10.0, "top_digit_share": 0.12, "frechet_distance": 150.0}


def load(name: str):
    """A script as a module (one copy per session; scripts import each other by name)."""
    if name not in sys.modules:
        sys.path.insert(0, str(SCRIPTS))
        spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # sweep's dataclass looks itself up there
        spec.loader.exec_module(module)
    return sys.modules[name]


def run_main(monkeypatch, capsys, script: str, *argv) -> tuple[object, str]:
    """Run ``script``'s main with ``argv``; (its exit code, what it printed to stderr)."""
    module = load(script)
    monkeypatch.setattr(sys, "argv", [f"{script}.py", *map(str, argv)])
    capsys.readouterr()
    try:
        code = module.main()
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err
    if isinstance(code, str):  # SystemExit("message"): Python prints it to stderr
        err, code = err + code + "\n", 1
    return code, err


def assert_one_line(err: str, *names: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got:\n{err}"
    assert "Traceback" not in err
    for name in names:
        assert str(name) in lines[0], f"{name!r} not named in: {lines[0]}"


def no_work(*args, **kwargs):
    raise AssertionError("the script started its work before checking its arguments")


# ------------------------------------------------------------------ helpers making runs
def sweep_run(folder: Path, seed: int = 0, precision: str = "fp32", metrics: dict | None = None,
              interrupted: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    summary = {"config": {"seed": seed, "epochs": 2}, "precision": precision,
               "epochs_done": 1 if interrupted else 2, "interrupted": interrupted,
               "training_seconds_total": 120.0, "iterations": 300, "torch_threads": 1,
               "metrics": GOOD if metrics is None else metrics}
    (folder / "summary.json").write_text(json.dumps(summary))
    Image.new("RGB", (8, 8), "white").save(folder / "samples.png")
    return folder


def sweep_args(runs: Path, *more) -> list:
    return ["01", "--setting", "quick", "--seeds", "0", "--precision", "fp32", "--runs", runs, *more]


def variant_run(folder: Path, metrics: dict, seed: int = 0) -> Path:
    folder.mkdir(parents=True)
    summary = {"interrupted": False, "metrics": metrics, "training_seconds_total": 60.0,
               "iterations": 100, "torch_threads": 1, "precision": "fp32", "config": {"seed": seed}}
    (folder / "summary.json").write_text(json.dumps(summary))
    history = History(loss_d=[0.5] * 100, train_seconds=60.0,
                      metric_iterations=[0, 100] if metrics else [],
                      metrics={"frechet_distance": [800.0, metrics["frechet_distance"]]} if metrics else {})
    torch.save({"history": history.state_dict()}, folder / "checkpoint.pt")
    Image.new("RGB", (8, 8), "white").save(folder / "samples.png")
    return folder


def conditional_run(folder: Path, lesson: str = "08") -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(preset(lesson, "quick").to_dict()))
    (folder / "checkpoint.pt").write_bytes(b"not loaded: the report is replaced")
    return folder


def notebook(path: Path, source: str = "x = 1") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), path)
    return path


# ------------------------------------------------------------------ case 1: make_assignments
@pytest.mark.parametrize("how", ["input's own folder", "the lessons folder", "lessons folder via ..",
                                 "a link to the lessons folder", "the lessons folder, other input"])
def test_student_versions_never_replace_a_solution_notebook(tmp_path, monkeypatch, capsys, how):
    make_assignments = load("make_assignments")
    repo = tmp_path / "repo"  # a stand-in for the repository: the real lessons are never at risk
    lesson = notebook(repo / "notebooks" / "01_lesson.ipynb", "answer = 42")
    monkeypatch.setattr(make_assignments, "REPO", repo)
    (tmp_path / "link").symlink_to(repo / "notebooks")
    other = notebook(tmp_path / "mine" / "99_mine.ipynb")
    argv = {"input's own folder": ["--out", repo / "notebooks", lesson],
            "the lessons folder": ["--out", repo / "notebooks"],
            "lessons folder via ..": ["--out", repo / "notebooks" / ".." / "notebooks"],
            "a link to the lessons folder": ["--out", tmp_path / "link"],
            "the lessons folder, other input": ["--out", repo / "notebooks", other]}[how]
    before = lesson.read_bytes()
    code, err = run_main(monkeypatch, capsys, "make_assignments", *argv)
    assert code == 2
    assert_one_line(err, "notebooks", "--out")
    assert lesson.read_bytes() == before
    assert sorted(p.name for p in (repo / "notebooks").iterdir()) == ["01_lesson.ipynb"]


def test_student_versions_are_written_when_the_folders_differ(tmp_path, monkeypatch, capsys):
    make_assignments = load("make_assignments")
    repo = tmp_path / "repo"
    notebook(repo / "notebooks" / "01_lesson.ipynb")
    monkeypatch.setattr(make_assignments, "REPO", repo)
    code, err = run_main(monkeypatch, capsys, "make_assignments", "--out", tmp_path / "out")
    assert code == 0, err
    assert (tmp_path / "out" / "01_lesson.ipynb").is_file()


# ------------------------------------------------------------------ cases 2, 3, 9: bad arguments
def _bad_arguments(tmp: Path) -> dict[str, tuple[str, list, list[str]]]:
    """id -> (script, arguments, what the one line must name)."""
    afile = tmp / "a_file.txt"
    afile.write_text("not a folder")
    runs = tmp / "runs"
    runs.mkdir()
    good_run = conditional_run(tmp / "run08")
    unconditional = conditional_run(tmp / "run07", "07")
    no_checkpoint = tmp / "no_checkpoint"
    no_checkpoint.mkdir()
    (no_checkpoint / "config.json").write_text(json.dumps(preset("08", "quick").to_dict()))
    not_json = tmp / "times.json"
    not_json.write_text("{half")
    no_key = tmp / "times_no_key.json"
    no_key.write_text(json.dumps({"07": 0.2}))
    lesson = notebook(tmp / "nb" / "01_lesson.ipynb")
    twin = notebook(tmp / "nb2" / "01_lesson.ipynb")
    readme = tmp / "README.md"
    readme.write_text("# not a notebook\n")
    finished = tmp / "finished"
    finished.mkdir()
    (finished / "summary.json").write_text("{}")
    (finished / "checkpoint.pt").write_bytes(b"x")
    publish = ["--publish", tmp / "published"]
    return {
        # sweep.py (case 2: lessons without a pass criterion; case 3: a bad setting)
        "sweep-07": ("sweep", ["07", "--runs", runs], ["07", "01, 02, 03, 04"]),
        "sweep-08": ("sweep", ["08", "--runs", runs], ["08", "01, 02, 03, 04"]),
        "sweep-lesson-9": ("sweep", ["9", "--runs", runs], ["'9'"]),
        "sweep-setting": ("sweep", ["01", "--setting", "fast", "--runs", runs], ["fast", "quick"]),
        "sweep-seeds-backwards": ("sweep", sweep_args(runs) + ["--seeds", "3-1"], ["3-1"]),
        "sweep-seeds-word": ("sweep", sweep_args(runs) + ["--seeds", "x"], ["'x'"]),
        "sweep-seeds-twice": ("sweep", sweep_args(runs) + ["--seeds", "0,0"], ["0", "twice"]),
        "sweep-fp32-seeds-negative": ("sweep", sweep_args(runs) + ["--precision", "auto", "fp32",
                                                                   "--fp32-seeds", "-1"], ["-1"]),
        "sweep-precision": ("sweep", sweep_args(runs) + ["--precision", "fp64"], ["fp64"]),
        "sweep-precision-twice": ("sweep", sweep_args(runs) + ["--precision", "fp32", "fp32"],
                                  ["fp32", "twice"]),
        "sweep-threads": ("sweep", sweep_args(runs) + ["--threads", "0"], ["--threads", "0"]),
        "sweep-runs-file": ("sweep", sweep_args(afile), ["a_file.txt"]),
        "sweep-publish-file": ("sweep", sweep_args(runs) + ["--publish", afile], ["a_file.txt"]),
        "sweep-report-nothing": ("sweep", sweep_args(tmp / "missing", "--report-only"), ["missing"]),
        # compare_variants.py
        "compare-runs-missing": ("compare_variants", ["--runs", tmp / "missing", *publish], ["missing"]),
        "compare-runs-file": ("compare_variants", ["--runs", afile, *publish], ["a_file.txt"]),
        "compare-seeds-word": ("compare_variants", ["--runs", runs, "--seeds", "x", *publish], ["'x'"]),
        "compare-seeds-backwards": ("compare_variants", ["--runs", runs, "--seeds", "3-1", *publish],
                                    ["3-1"]),
        "compare-seeds-empty": ("compare_variants", ["--runs", runs, "--seeds", "", *publish], ["--seeds"]),
        "compare-setting": ("compare_variants", ["--runs", runs, "--setting", "fast", *publish], ["fast"]),
        "compare-times-missing": ("compare_variants",
                                  ["--runs", runs, "--times", tmp / "nope.json", *publish], ["nope.json"]),
        "compare-times-not-json": ("compare_variants", ["--runs", runs, "--times", not_json, *publish],
                                   ["times.json"]),
        "compare-times-no-key": ("compare_variants", ["--runs", runs, "--times", no_key, *publish],
                                 ["times_no_key.json", "seconds_per_update"]),
        "compare-publish-file": ("compare_variants", ["--runs", runs, "--publish", afile], ["a_file.txt"]),
        "compare-name-path": ("compare_variants", ["--runs", runs, "--name", "a/b", *publish], ["a/b"]),
        # conditional_report.py
        "report-missing": ("conditional_report", [tmp / "missing"], ["missing"]),
        "report-file": ("conditional_report", [afile], ["a_file.txt"]),
        "report-no-checkpoint": ("conditional_report", [no_checkpoint], ["checkpoint.pt"]),
        "report-unconditional": ("conditional_report", [unconditional], ["run07", "not a conditional run"]),
        "report-out-under-a-file": ("conditional_report", [good_run, "--out", afile / "t.md"],
                                    ["a_file.txt"]),
        "report-out-onto-config": ("conditional_report", [good_run, "--out", good_run / "config.json"],
                                   ["config.json"]),
        "report-out-folder": ("conditional_report", [good_run, "--out", runs], ["runs"]),
        # class_times.py
        "times-lesson-9": ("class_times", ["9"], ["'9'"]),
        "times-lesson-9-after-01": ("class_times", ["01", "9"], ["'9'"]),
        "times-steps-0": ("class_times", ["01", "--steps", "0"], ["--steps", "0"]),
        "times-steps-negative": ("class_times", ["01", "--steps", "-5"], ["--steps", "-5"]),
        "times-precision": ("class_times", ["01", "--precision", "fp64"], ["fp64"]),
        # time_variants.py (writes what compare_variants.py --times reads)
        "variant-times-rounds-0": ("time_variants", ["--rounds", "0"], ["--rounds", "0"]),
        "variant-times-steps-0": ("time_variants", ["--steps", "0"], ["--steps", "0"]),
        "variant-times-threads": ("time_variants", ["--threads", "-1"], ["--threads", "-1"]),
        "variant-times-out-under-a-file": ("time_variants", ["--out", afile / "t.json"], ["a_file.txt"]),
        # make_assignments.py
        "assign-missing": ("make_assignments", ["--out", tmp / "out", tmp / "nope.ipynb"], ["nope.ipynb"]),
        "assign-folder": ("make_assignments", ["--out", tmp / "out", tmp / "nb"], ["nb"]),
        "assign-not-notebook": ("make_assignments", ["--out", tmp / "out", readme], ["README.md"]),
        "assign-out-file": ("make_assignments", ["--out", afile, lesson], ["a_file.txt"]),
        "assign-same-name": ("make_assignments", ["--out", tmp / "out", lesson, twin], ["01_lesson.ipynb"]),
        # publish_results.py
        "publish-missing": ("publish_results", [tmp / "missing"], ["missing"]),
        "publish-not-a-run": ("publish_results", [runs], ["runs", "summary.json"]),
        "publish-intro-missing": ("publish_results", [finished, "--intro", tmp / "intro.md",
                                                      "--docs", tmp / "docs"], ["intro.md"]),
        "publish-docs-file": ("publish_results", [finished, "--docs", afile], ["a_file.txt"]),
    }


BAD_IDS = ["sweep-07", "sweep-08", "sweep-lesson-9", "sweep-setting", "sweep-seeds-backwards",
           "sweep-seeds-word", "sweep-seeds-twice", "sweep-fp32-seeds-negative", "sweep-precision",
           "sweep-precision-twice", "sweep-threads", "sweep-runs-file", "sweep-publish-file",
           "sweep-report-nothing", "compare-runs-missing", "compare-runs-file", "compare-seeds-word",
           "compare-seeds-backwards", "compare-seeds-empty", "compare-setting", "compare-times-missing",
           "compare-times-not-json", "compare-times-no-key", "compare-publish-file", "compare-name-path",
           "report-missing", "report-file", "report-no-checkpoint", "report-unconditional",
           "report-out-under-a-file", "report-out-onto-config", "report-out-folder", "times-lesson-9",
           "times-lesson-9-after-01", "times-steps-0", "times-steps-negative", "times-precision",
           "variant-times-rounds-0", "variant-times-steps-0", "variant-times-threads",
           "variant-times-out-under-a-file",
           "assign-missing", "assign-folder", "assign-not-notebook", "assign-out-file", "assign-same-name",
           "publish-missing", "publish-not-a-run", "publish-intro-missing", "publish-docs-file"]
WORK = {"sweep": "train", "compare_variants": "read_run", "conditional_report": "report",
        "class_times": "class_minutes", "time_variants": "trainer_and_batch",
        "make_assignments": "student_version", "publish_results": "publish"}  # each script's first work


@pytest.mark.parametrize("case", BAD_IDS)
def test_bad_arguments_are_refused_before_any_work(tmp_path, monkeypatch, capsys, case):
    script, argv, names = _bad_arguments(tmp_path)[case]
    monkeypatch.setattr(load(script), WORK[script], no_work)
    code, err = run_main(monkeypatch, capsys, script, *argv)
    assert code == 2, err
    assert_one_line(err, *names)
    assert not (tmp_path / "out").exists() and not (tmp_path / "published").exists()
    assert list((tmp_path / "runs").iterdir()) == []  # no run folder, table or sheet published


def test_every_case_of_the_table_is_run(tmp_path):
    assert sorted(_bad_arguments(tmp_path)) == sorted(BAD_IDS)


def test_a_bad_argument_prints_one_line_from_the_command_line(tmp_path):
    """The same, run as a user runs it: exit code 2, one line on stderr, no traceback."""
    result = subprocess.run([sys.executable, str(SCRIPTS / "sweep.py"), "07", "--seeds", "0", "--precision",
                             "fp32", "--runs", str(tmp_path)],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 2
    assert_one_line(result.stderr, "07", "01, 02, 03, 04")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ case 3: runs never started
def test_a_run_that_never_started_is_not_called_stopped(tmp_path, monkeypatch, capsys):
    sweep = load("sweep")
    folder = tmp_path / "runs" / "lesson01_quick"
    crashed = folder / "fp32_seed0"
    crashed.mkdir(parents=True)
    (crashed / "train.log").write_text("error: something before the first epoch\n")
    stopped = folder / "fp32_seed1"  # killed after a checkpoint: truly stopped before the end
    stopped.mkdir()
    (stopped / "checkpoint.pt").write_bytes(b"x")
    rows = sweep.collect("01", folder, ["fp32_seed0", "fp32_seed1", "fp32_seed2"])
    assert [row["verdict"] for row in rows] == ["not run", "stopped before the end", "not run"]
    code, err = run_main(monkeypatch, capsys, "sweep", *sweep_args(tmp_path / "runs", "--report-only"))
    assert code in (0, None), err
    table = (folder / "lesson01_quick.md").read_text()
    assert "| fp32_seed0 |" in table and "stopped before the end" not in table


# ------------------------------------------------------------------ case 4: killed alone
def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie nobody reaps is dead for this purpose


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_sweep_killed_alone_takes_its_training_run_with_it(tmp_path):
    pid_file = tmp_path / "child.pid"
    child = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(30)"
    parent = textwrap.dedent(f"""
        import subprocess, sys
        from pathlib import Path
        sys.path.insert(0, {str(SCRIPTS)!r})
        import sweep

        class Popen(subprocess.Popen):  # the training command, replaced by a child that waits
            def __init__(self, args, *rest, **kwargs):
                super().__init__([sys.executable, "-c", {child!r}], *rest, **kwargs)

        subprocess.Popen = Popen
        sweep.train("01", "quick", 0, "fp32", Path({str(tmp_path / 'run')!r}), 1)
    """)
    sweep_process = subprocess.Popen([sys.executable, "-c", parent],
                                     env={**os.environ, "OMP_NUM_THREADS": "1"})
    pid = None
    try:
        deadline = time.monotonic() + 60
        while not (pid_file.is_file() and pid_file.read_text()) and time.monotonic() < deadline:
            assert sweep_process.poll() is None, "the sweep ended before starting its run"
            time.sleep(0.1)
        pid = int(pid_file.read_text())
        sweep_process.terminate()  # `kill PID` of the sweep alone, not of its process group
        sweep_process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid), "the training run outlived the sweep that started it"
    finally:
        if sweep_process.poll() is None:
            sweep_process.kill()
        if pid is not None and _alive(pid):
            os.kill(pid, signal.SIGKILL)


# ------------------------------------------------------------------ case 5: still training
def test_a_run_still_training_is_reported_as_such_and_a_rerun_refused(tmp_path, monkeypatch, capsys):
    sweep = load("sweep")
    runs = tmp_path / "runs"
    folder = runs / "lesson01_quick"
    run = sweep_run(folder / "fp32_seed0", interrupted=True)  # resumed: its last summary says stopped
    monkeypatch.setattr(sweep, "train", no_work)
    with run_lock(run):  # what `python -m gan_tutorial train` holds while it trains
        code, err = run_main(monkeypatch, capsys, "sweep", *sweep_args(runs, "--report-only"))
        assert code in (0, None), err
        table = (folder / "lesson01_quick.md").read_text()
        row = next(line for line in table.splitlines() if line.startswith("| fp32_seed0 |"))
        assert "still training" in row
        assert "stopped" not in row and "did not finish" not in row and "fail" not in row
        code, err = run_main(monkeypatch, capsys, "sweep", *sweep_args(runs))
        assert code == 2
        assert_one_line(err, "fp32_seed0", "still training", "--report-only")
    # the lock released: the run is judged again
    assert sweep.collect("01", folder, ["fp32_seed0"])[0]["verdict"] == "did not finish"


def test_compare_variants_names_a_run_still_training(tmp_path):
    compare_variants = load("compare_variants")
    run = tmp_path / "07_class_seed0"
    run.mkdir()
    with run_lock(run):
        assert compare_variants.read_run(run)["status"].startswith("still training")
    assert compare_variants.read_run(run)["status"] == "not run"  # nothing saved, nobody training


# ------------------------------------------------------------------ case 6: not measured
@pytest.mark.parametrize("lesson, metrics", [("01", {}), ("02", {"frechet_distance": 180.0}),
                                             ("03", {})])
def test_a_run_without_measurements_is_published_as_not_measured(tmp_path, monkeypatch, capsys, lesson,
                                                                  metrics):
    sweep = load("sweep")
    runs = tmp_path / "runs"
    folder = runs / f"lesson{lesson}_quick"
    sweep_run(folder / "fp32_seed0", metrics=metrics)
    sweep_run(folder / "fp32_seed1", metrics=GOOD if lesson != "03" else {"diversity_ratio": 1.0})
    (folder / "looks.json").write_text(json.dumps({"fp32_seed0": {"pass": True, "saw": "faces"}}))
    code, err = run_main(monkeypatch, capsys, "sweep", lesson, "--setting", "quick", "--seeds", "0,1",
                         "--precision", "fp32", "--runs", runs, "--report-only")
    assert code in (0, None), err
    table = (folder / f"lesson{lesson}_quick.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| fp32_seed0 |"))
    assert "not measured" in row
    for invented in ("0 digits", "100%", "nan", "fail", "pass"):
        assert invented not in row, f"{invented!r} in {row}"
    rows = json.loads((folder / f"lesson{lesson}_quick.json").read_text())
    assert rows[0]["verdict"] == "not measured"


# ------------------------------------------------------------------ case 7: a full disk
def _full_disk_text(monkeypatch):
    """Every Path.write_text writes a few bytes, then finds the disk full."""
    def write_text(self, data, *args, **kwargs):
        with open(self, "w") as f:
            f.write(data[:5])
        raise OSError(errno.ENOSPC, "No space left on device", str(self))
    monkeypatch.setattr(Path, "write_text", write_text)


def _full_disk_savefig(monkeypatch):
    def savefig(self, fname, *args, **kwargs):
        Path(fname).write_bytes(b"\x89PNG trunc")
        raise OSError(errno.ENOSPC, "No space left on device", str(fname))
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)


def _full_disk_nbformat(monkeypatch):
    def write(nb, fp, *args, **kwargs):
        Path(fp).write_bytes(b'{"cells": [')
        raise OSError(errno.ENOSPC, "No space left on device", str(fp))
    monkeypatch.setattr(nbformat, "write", write)


def _sweep_setup(tmp, monkeypatch):
    folder = tmp / "runs" / "lesson01_quick"
    sweep_run(folder / "fp32_seed0")
    olds = [folder / "lesson01_quick.md", folder / "lesson01_quick.json", folder / "lesson01_quick.png"]
    return "sweep", sweep_args(tmp / "runs", "--report-only"), olds


def _compare_setup(tmp, monkeypatch):
    variant_run(tmp / "runs" / "07_class_seed0", dict(GOOD))
    (tmp / "pub").mkdir()
    olds = [tmp / "pub" / "lesson07_class.md", tmp / "pub" / "lesson07_class_quality.png"]
    return "compare_variants", ["--runs", tmp / "runs", "--variants", "07", "--seeds", "0",
                                "--publish", tmp / "pub"], olds


def _publish_setup(tmp, monkeypatch):
    run = tmp / "run"
    run.mkdir()
    (run / "summary.json").write_text("{}")
    (run / "checkpoint.pt").write_bytes(b"x")
    (tmp / "docs" / "results").mkdir(parents=True)
    monkeypatch.setattr(load("publish_results"), "publish", lambda run, docs: ("| row |", "section"))
    return "publish_results", [run, "--docs", tmp / "docs"], [tmp / "docs" / "results.md"]


def _report_setup(tmp, monkeypatch):
    monkeypatch.setattr(load("conditional_report"), "report", lambda run, root=None: "| digit |\n")
    out = tmp / "digits.md"
    return "conditional_report", [conditional_run(tmp / "run"), "--out", out], [out]


def _assign_setup(tmp, monkeypatch):
    (tmp / "out").mkdir()
    return ("make_assignments", ["--out", tmp / "out", notebook(tmp / "nb" / "01_lesson.ipynb")],
            [tmp / "out" / "01_lesson.ipynb"])


@pytest.mark.parametrize("setup, fill", [(_sweep_setup, _full_disk_text), (_sweep_setup, _full_disk_savefig),
                                         (_compare_setup, _full_disk_text),
                                         (_compare_setup, _full_disk_savefig),
                                         (_publish_setup, _full_disk_text), (_report_setup, _full_disk_text),
                                         (_assign_setup, _full_disk_nbformat)],
                         ids=["sweep-table", "sweep-sheet", "compare-table", "compare-plot", "publish-page",
                              "report-table", "assignments"])
def test_a_full_disk_leaves_the_published_files_as_they_were(tmp_path, monkeypatch, capsys, setup, fill):
    script, argv, olds = setup(tmp_path, monkeypatch)
    for old in olds:
        old.write_bytes(b"OLD " + old.name.encode())
    fill(monkeypatch)
    code, err = run_main(monkeypatch, capsys, script, *argv)
    assert code == 1
    assert_one_line(err, "No space left")
    if fill is _full_disk_savefig:  # the tables before the picture were written whole: fine
        olds = [old for old in olds if old.suffix == ".png"]
    for old in olds:
        assert old.read_bytes() == b"OLD " + old.name.encode(), f"{old.name} was damaged"
        left = [p.name for p in old.parent.iterdir() if p.name.endswith(".tmp" + old.suffix)]
        assert not left, f"temporary files left: {left}"


def test_a_full_disk_leaves_a_published_picture_as_it_was(tmp_path, monkeypatch):
    publish_results = load("publish_results")
    from gan_tutorial.plumbing.checkpoint import DiskFullError

    source, target = tmp_path / "grid.png", tmp_path / "lesson01_grid.png"
    Image.new("RGB", (8, 8), "white").save(source)
    target.write_bytes(b"OLD")

    def save(self, fp, *args, **kwargs):
        Path(fp).write_bytes(b"\x89PNG trunc")
        raise OSError(errno.ENOSPC, "No space left on device", str(fp))

    monkeypatch.setattr(Image.Image, "save", save)
    with pytest.raises(DiskFullError):
        publish_results._save_small(source, target)
    assert target.read_bytes() == b"OLD" and sorted(p.name for p in tmp_path.iterdir()) == [
        "grid.png", "lesson01_grid.png"]


# ------------------------------------------------------------------ case 8: --no-eval runs
def test_compare_variants_names_a_run_trained_without_evaluations(tmp_path, monkeypatch, capsys):
    runs = tmp_path / "runs"
    variant_run(runs / "07_class_seed0", dict(GOOD))
    variant_run(runs / "07_class_seed1", {}, seed=1)  # trained with --no-eval
    code, err = run_main(monkeypatch, capsys, "compare_variants", "--runs", runs, "--variants", "07",
                         "--seeds", "0,1", "--publish", tmp_path / "pub")
    assert code in (0, None), err
    assert "07_class_seed1" in err and "--no-eval" in err
    text = (tmp_path / "pub" / "lesson07_class.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| 07_class_seed1 |"))
    assert "not measured" in row and "--no-eval" in row
    assert "| 07_class_seed0 | done |" in text and "| 150 |" in text  # the measured run is still there
    assert "nan" not in text
    assert (tmp_path / "pub" / "lesson07_class_quality.png").is_file()
