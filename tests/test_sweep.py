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


def test_seed_lists():
    assert sweep.parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert sweep.parse_seeds("0,3,7") == [0, 3, 7]
