"""Lesson 00's graded checks: right answers pass, wrong ones and guesses fail without saying which."""
from __future__ import annotations

import math

import pytest
import torch

from gan_tutorial.exercises.checks import CheckError
from gan_tutorial.exercises.points import (COMPASS, check_arrow_directions, check_missed_modes, compass_of,
                                           marked_fakes, missed_modes)
from gan_tutorial.points import PointGAN


@pytest.fixture(scope="module")
def quiz():
    gan = PointGAN(points="two_gaussians", seed=3)
    gan.train(200, measure_every=200)
    return gan, marked_fakes(gan)


def measured(gan, marked):
    return {name: compass_of(arrow) for name, arrow in zip(marked, gan.arrows(torch.stack(list(marked.values()))))}


def test_compass_names_the_eight_directions():
    assert [compass_of(torch.tensor(v)) for v in ([1.0, 0.0], [1.0, 1.0], [0.0, 2.0], [-1.0, 0.1], [0.2, -3.0])] \
        == ["E", "NE", "N", "W", "S"]


def test_marked_fakes_are_spread_apart(quiz):
    gan, marked = quiz
    points = torch.stack(list(marked.values()))
    assert list(marked) == ["A", "B", "C"] and torch.pdist(points).min() > 0.1


def test_the_measured_directions_pass_and_a_neighbour_within_45_degrees_too(quiz, capsys):
    gan, marked = quiz
    answer = measured(gan, marked)
    check_arrow_directions(answer, gan, marked)
    check_arrow_directions({k: v.lower() for k, v in answer.items()}, gan, marked)  # any case
    assert capsys.readouterr().out.startswith("Correct!")
    arrows = gan.arrows(torch.stack(list(marked.values())))
    angles = {k: math.degrees(math.atan2(float(a[1]), float(a[0]))) for k, a in zip(marked, arrows)}
    for name, angle in angles.items():  # the neighbour on the arrow's side is within 45 degrees
        side = 1 if (angle - 45 * COMPASS.index(answer[name]) + 180) % 360 - 180 > 0 else -1
        neighbour = COMPASS[(COMPASS.index(answer[name]) + side) % 8]
        check_arrow_directions({**answer, name: neighbour}, gan, marked)


def test_opposite_directions_fail_without_naming_which(quiz):
    gan, marked = quiz
    answer = measured(gan, marked)
    opposite = {k: COMPASS[(COMPASS.index(v) + 4) % 8] for k, v in answer.items()}
    for name in marked:
        wrong = {**answer, name: opposite[name]}
        with pytest.raises(CheckError) as err:
            check_arrow_directions(wrong, gan, marked)
        assert name not in str(err.value).split(".")[0] and "1 of" not in str(err.value)


def test_one_guess_for_all_is_refused(quiz):
    """The marked fakes' arrows point different ways, so no single direction passes for all."""
    gan, marked = quiz
    for word in COMPASS:
        with pytest.raises(CheckError):
            check_arrow_directions(dict.fromkeys(marked, word), gan, marked)


def test_malformed_answers_are_named(quiz):
    gan, marked = quiz
    for answer, words in ((["N", "S", "E"], "a dict"), ({"A": "N"}, "keys"),
                          ({"A": "up", "B": "N", "C": "N"}, "not a direction")):
        with pytest.raises(CheckError, match=words):
            check_arrow_directions(answer, gan, marked)


def test_the_check_measures_the_run_it_is_given(quiz):
    """The same marked points on a fresh, untrained run: the answer for the trained run fails."""
    gan, marked = quiz
    rebuilt = PointGAN(points="two_gaussians", seed=3)
    rebuilt.train(200, measure_every=200)
    assert measured(rebuilt, marked) == measured(gan, marked)  # the same run, rebuilt
    untrained = PointGAN(points="two_gaussians", seed=3)
    assert measured(untrained, marked) != measured(gan, marked)
    with pytest.raises(CheckError):
        check_arrow_directions(measured(gan, marked), untrained, marked)


@pytest.fixture(scope="module")
def collapsed():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the run's outcome depends on the thread count: the same run on every machine
    try:
        gan = PointGAN(points="ring", seed=0)
        gan.train(1500, measure_every=1500)
    finally:
        torch.set_num_threads(threads)
    return gan


def test_the_missed_modes_pass_in_any_order_and_form(collapsed, capsys):
    truth = missed_modes(collapsed)
    assert 0 < len(truth) < 8, "seed 0 at 1,500 steps is a partly collapsed run"
    for answer in (truth, list(reversed(truth)), set(truth), tuple(str(m) for m in truth)):
        check_missed_modes(answer, collapsed)
    assert "Correct!" in capsys.readouterr().out


def test_wrong_missed_modes_fail(collapsed):
    truth = missed_modes(collapsed)
    covered = [m for m in range(8) if m not in truth and m not in pale(collapsed)]
    for answer in (covered, truth[1:], truth + covered[:1], list(range(8)), []):
        with pytest.raises(CheckError, match="not the set"):
            check_missed_modes(answer, collapsed)
    with pytest.raises(CheckError, match="0 to 7"):
        check_missed_modes([8], collapsed)
    with pytest.raises(CheckError, match="list of mode numbers"):
        check_missed_modes("some", collapsed)


def pale(gan) -> list[int]:
    """Modes where D* is between 1/2 and 0.8: an answer may name them or not."""
    from gan_tutorial.exercises.points import d_star_at_modes

    return [i for i, v in enumerate(d_star_at_modes(gan, 1000)) if 0.5 < v <= 0.8]


def test_a_pale_green_mode_may_be_named_or_left_out(collapsed):
    truth = missed_modes(collapsed)
    check_missed_modes(truth + pale(collapsed), collapsed)


def test_missed_modes_agree_with_the_mode_count(collapsed):
    """A mode D* calls real (deep or pale green) holds few fakes: those and the covered modes do
    not overlap much."""
    frame = collapsed.frame(2000)
    assert len(missed_modes(collapsed) + pale(collapsed)) >= 8 - frame.modes_covered - 1


def test_missed_modes_need_the_ring():
    with pytest.raises(CheckError, match="ring"):
        missed_modes(PointGAN(points="gaussian"))
