"""scripts/sweep.py judges runs by the criterion stated before running, never by a guess."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("sweep", REPO / "scripts" / "sweep.py")
sweep = importlib.util.module_from_spec(spec)
sys.modules["sweep"] = sweep  # its dataclass looks itself up there
spec.loader.exec_module(sweep)


def test_digit_lessons_pass_only_within_every_limit():
    good = {"digits_covered": 10, "top_digit_share": 0.16, "frechet_distance": 181}
    assert sweep.judge(good, sweep.CRITERIA["02"]) == ("pass", [])
    assert sweep.judge({**good, "top_digit_share": 0.21}, sweep.CRITERIA["02"]) == ("fail", ["top digit 21%"])
    assert sweep.judge({**good, "digits_covered": 9}, sweep.CRITERIA["02"])[0] == "fail"
    assert sweep.judge({**good, "frechet_distance": 951}, sweep.CRITERIA["02"])[1] == ["Fréchet 951"]
    assert sweep.judge({**good, "top_digit_share": 0.30}, sweep.CRITERIA["01"]) == ("fail", ["top digit 30%"])
    # nothing measured is no pass, and no fail with numbers made up for what was never measured
    assert sweep.judge({}, sweep.CRITERIA["01"]) == (
        "not measured", ["no digits_covered, top_digit_share, frechet_distance: trained with --no-eval?"])


def test_colour_lessons_need_a_persons_look_as_well_as_the_number():
    crit = sweep.CRITERIA["04"]
    assert sweep.judge({"diversity_ratio": 0.88}, crit) == ("needs a look", [])
    assert sweep.judge({"diversity_ratio": 0.88}, crit, {"pass": True, "saw": "sprites"}) == ("pass", [])
    assert sweep.judge({"diversity_ratio": 0.88}, crit, {"pass": False})[0] == "fail"
    assert sweep.judge({"diversity_ratio": 0.42}, crit, {"pass": True})[0] == "fail"  # checkerboard


def test_lesson_03_counts_the_faces_in_the_grid():
    crit, fine = sweep.CRITERIA["03"], {"diversity_ratio": 1.1}
    assert sweep.judge(fine, crit, {"pass": True, "count": 48}) == ("pass", [])
    assert sweep.judge(fine, crit, {"pass": True, "count": 47}) == ("fail", ["47 of 64 cells read as faces"])
    assert sweep.judge(fine, crit, {"pass": True}) == ("needs a look", ["the cells were not counted"])
    assert sweep.judge({"diversity_ratio": 1.4}, crit, {"pass": True})[0] == "fail"
    assert "at least 48 of its 64 cells read as faces" in crit.text()
    assert sweep._saw({"count": 57, "saw": "pale"}, crit) == "57 of 64 read as faces; pale"
    assert sweep._saw({"saw": "pale"}, sweep.CRITERIA["04"]) == "pale"


def test_seed_lists():
    assert sweep.parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert sweep.parse_seeds("0,3,7") == [0, 3, 7]


def test_fp32_avx2_runs_fp32_with_an_avx2_cpu_emulated_and_a_pinned_setting_trains_its_file(monkeypatch, tmp_path):
    ran = []
    monkeypatch.setattr(sweep.subprocess, "run",
                        lambda command, env, **kw: ran.append((command, env)) or sweep.subprocess.CompletedProcess(command, 0))
    sweep.train("02", "class", 3, "fp32-avx2", tmp_path / "a", 1)
    sweep.train("02", "class_64px", 4, "auto", tmp_path / "b", 1, config=tmp_path / "pinned.json")
    (emulated, env), (pinned, plain_env) = ran
    assert emulated[emulated.index("--precision") + 1] == "fp32"
    assert env["ATEN_CPU_CAPABILITY"] == "avx2" and env["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert emulated[3:6] == ["train", "02", "--setting"]
    assert pinned[3:5] == ["train", str(tmp_path / "pinned.json")] and "--setting" not in pinned
    assert plain_env.get("ATEN_CPU_CAPABILITY") == sweep.os.environ.get("ATEN_CPU_CAPABILITY")  # not emulated


def _finished_run(folder: Path, name: str, estimated: float | None, iterations_this_run: int = 100) -> None:
    run = folder / name
    run.mkdir(parents=True)
    summary = {"config": {"seed": 0, "epochs": 1}, "epochs_done": 1, "interrupted": False,
               "precision": "fp32", "training_seconds_total": 120.0, "iterations": 100, "torch_threads": 1,
               "metrics": {"digits_covered": 10, "top_digit_share": 0.12, "frechet_distance": 110.0},
               "this_run": {"iterations": iterations_this_run, "training_seconds": 100.0,
                            "estimated_seconds": estimated}}
    (run / "summary.json").write_text(sweep.json.dumps(summary))


def test_the_table_shows_each_runs_estimate_against_its_own_time(tmp_path):
    _finished_run(tmp_path, "fp32-avx2_seed0", estimated=90.0)
    _finished_run(tmp_path, "fp32_seed0", estimated=150.0, iterations_this_run=40)  # resumed: no estimate
    rows = sweep.collect("02", tmp_path, ["fp32-avx2_seed0", "fp32_seed0"])
    assert rows[0]["precision"] == "fp32-avx2" and rows[1]["precision"] == "fp32"
    assert abs(rows[0]["estimate_error"] - (-0.10)) < 1e-9 and rows[1]["estimate_error"] is None
    text = sweep.table("02", "class", rows)
    assert "| fp32-avx2_seed0 | fp32-avx2 | 0 | 2.0 (1) | 1.5 (-10%) | 100 |" in text
    assert "- fp32-avx2: 1 of 1 passed; median 2.0 min per run." in text


def test_a_sweep_of_a_pinned_setting_really_trains_it_in_emulated_fp32(tmp_path, mnist_data):
    """End to end, on lesson 02's quick setting written out as a pinned file: the run trains the
    file, in fp32 (what auto picks on an AVX2-only CPU), and the record names the emulation."""
    from gan_tutorial.lessons import preset

    pinned = tmp_path / "lesson02_quick_pinned.json"
    pinned.write_text(sweep.json.dumps(preset("02", "quick").to_dict()))
    result = sweep.subprocess.run(
        [sweep.sys.executable, str(REPO / "scripts" / "sweep.py"), "02", "--config", str(pinned), "--seeds", "0",
         "--precision", "fp32-avx2", "--threads", "1", "--runs", str(tmp_path / "runs")],
        capture_output=True, text=True, timeout=600, env={**sweep.os.environ, "GAN_TUTORIAL_DATA": str(mnist_data)})
    assert result.returncode == 0, result.stdout + result.stderr
    folder = tmp_path / "runs" / "lesson02_quick_pinned"
    summary = sweep.json.loads((folder / "fp32-avx2_seed0" / "summary.json").read_text())
    assert summary["precision"] == "fp32" and summary["config"]["setting"] == "quick"
    assert "| fp32-avx2_seed0 | fp32-avx2 | 0 |" in (folder / "lesson02_quick_pinned.md").read_text()
