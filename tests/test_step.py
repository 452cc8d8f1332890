"""The training step on one screen (issue 29): every loss plugs into the same step, the loop
reaches it in two calls, divergence is read from the numbers, and building a trainer changes
no global state."""
from __future__ import annotations

import ast
import copy
import inspect
import textwrap

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from gan_tutorial import losses
from gan_tutorial.losses import LOSSES, GANLoss, make_loss
from gan_tutorial.plumbing.runtime import cudnn_autotune
from gan_tutorial.train import GANTrainer, TrainingDivergedError


class TinyG(nn.Module):
    latent_shape = (4,)

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.Tanh())

    def forward(self, z):
        return self.net(z)


class TinyD(nn.Module):
    outputs_logits = True

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Linear(8, 1)

    def forward(self, x):
        return self.net(x).view(-1)


def trainer(**options) -> GANTrainer:
    torch.manual_seed(0)
    return GANTrainer(TinyG(), TinyD(), device="cpu", precision="fp32", n_fixed=4, **options)


def function_ast(function) -> ast.FunctionDef:
    return ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]


# ------------------------------------------------------------------------------ one step, any loss
class LeastSquares(GANLoss):
    """A loss the package does not ship (LSGAN, Mao et al. 2017), counting its calls."""

    name = "least-squares"

    def __init__(self) -> None:
        self.calls = {"d_loss": 0, "g_loss": 0, "penalty": 0}

    def d_loss(self, out_real, out_fake):
        self.calls["d_loss"] += 1
        return ((out_real - 1) ** 2).mean() + (out_fake ** 2).mean()

    def g_loss(self, out_fake):
        self.calls["g_loss"] += 1
        return ((out_fake - 1) ** 2).mean()

    def penalty(self, critic, real, fake):
        self.calls["penalty"] += 1
        return 0.0


@pytest.mark.parametrize("d_steps", [1, 3])
def test_a_new_loss_plugs_into_the_same_step(d_steps):
    t = trainer(d_steps=d_steps)
    t.loss = LeastSquares()
    real = torch.rand(6, 8) * 2 - 1
    before = [p.clone() for p in (*t.G.parameters(), *t.D.parameters())]
    stats = t.train_step(real)
    assert t.loss.calls == {"d_loss": d_steps, "g_loss": 1, "penalty": d_steps}
    assert all(not torch.equal(a, b) for a, b in zip(before, (*t.G.parameters(), *t.D.parameters())))
    assert all(torch.isfinite(v) for v in stats.values())


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("g_loss", ["non-saturating", "minimax"])
def test_every_shipped_loss_is_an_object_the_step_calls(loss, g_loss):
    """D's loss in the step is the loss object's, on D's outputs (same weights, same noise)."""
    t = trainer(loss=loss, g_loss=g_loss)
    assert isinstance(t.loss, GANLoss) and t.loss.name == loss
    G0, D0 = copy.deepcopy(t.G), copy.deepcopy(t.D)
    real = torch.rand(6, 8) * 2 - 1
    torch.manual_seed(1)
    stats = t.train_step(real)
    torch.manual_seed(1)
    z = torch.randn(6, 4)  # the step's first random draw: the noise of D's update
    with torch.no_grad():
        expected = t.loss.d_loss(D0(real), D0(G0(z))).item()
    if loss == "wgan-gp":  # plus the gradient penalty (random points between reals and fakes)
        assert stats["loss_d"].item() > expected
    else:
        assert stats["loss_d"].item() == pytest.approx(expected, abs=1e-6)


def test_the_step_has_no_branch_and_fits_one_screen():
    step = function_ast(GANTrainer.train_step)
    assert not [n for n in ast.walk(step) if isinstance(n, ast.If)], "train_step branches on an option"
    assert step.end_lineno - step.lineno + 1 <= 35
    source = inspect.getsource(GANTrainer.train_step)
    assert "(1) Update D" in source and "(2) Update G" in source


def test_the_trainer_class_is_under_350_lines():
    lines, _ = inspect.getsourcelines(GANTrainer)
    assert len(lines) < 350


def test_fit_reaches_the_step_in_two_calls():
    t = trainer()
    depths = []
    original = t.train_step

    def recording(*args, **kwargs):
        names = [frame.function for frame in inspect.stack()[1:]]
        depths.append(names.index("fit"))
        return original(*args, **kwargs)

    t.train_step = recording
    t.fit(DataLoader(TensorDataset(torch.rand(8, 8)), batch_size=4), epochs=1, progress=False)
    assert depths and max(depths) <= 2, depths  # fit -> step_on -> train_step


def test_make_loss_names_what_is_wrong():
    with pytest.raises(ValueError, match="loss must be one of"):
        make_loss("l2")
    with pytest.raises(ValueError, match="g_loss must be one of"):
        make_loss("bce", g_loss="max")
    with pytest.raises(ValueError, match="logits=True"):
        make_loss("hinge", logits=False)
    assert isinstance(make_loss("bce", g_loss="minimax"), losses.MinimaxBCE)


# ------------------------------------------------------------------------------ divergence
class Refuses(TinyD):
    """A D whose forward fails with BCE's own words, although every number is finite."""

    def forward(self, x):
        raise RuntimeError("all elements of input should be between 0 and 1")


def test_an_error_text_alone_is_not_divergence():
    t = GANTrainer(TinyG(), Refuses(), device="cpu", precision="fp32", n_fixed=4)
    with pytest.raises(RuntimeError) as err:
        t.fit(DataLoader(TensorDataset(torch.rand(8, 8)), batch_size=4), epochs=1, progress=False)
    assert not isinstance(err.value, TrainingDivergedError)


class Sigmoid(TinyD):
    outputs_logits = False

    def forward(self, x):
        return torch.sigmoid(self.net(x).view(-1))


def test_nan_weights_are_divergence_whatever_the_error_says():
    t = GANTrainer(TinyG(), Sigmoid(), device="cpu", precision="fp32", n_fixed=4)
    with torch.no_grad():
        t.D.net.weight.fill_(float("nan"))
    with pytest.raises(TrainingDivergedError, match="weights hold NaN or inf"):
        t.fit(DataLoader(TensorDataset(torch.rand(8, 8)), batch_size=4), epochs=1, progress=False)


# ------------------------------------------------------------------------------ no global state
def backends_state() -> dict:
    return {"cudnn.benchmark": torch.backends.cudnn.benchmark,
            "cudnn.deterministic": torch.backends.cudnn.deterministic,
            "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
            "matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "mkldnn": torch.backends.mkldnn.enabled,
            "float32_matmul_precision": torch.get_float32_matmul_precision(),
            "deterministic": torch.are_deterministic_algorithms_enabled(),
            "threads": torch.get_num_threads(), "default_dtype": torch.get_default_dtype()}


def test_building_and_training_a_trainer_leaves_torch_backends_as_they_were():
    before = backends_state()
    t = trainer()
    assert backends_state() == before
    t.fit(DataLoader(TensorDataset(torch.rand(8, 8)), batch_size=4), epochs=1, progress=False)
    assert backends_state() == before


def test_cudnn_autotuning_is_on_only_inside_the_loop_on_cuda():
    before = torch.backends.cudnn.benchmark
    with cudnn_autotune(torch.device("cuda")):
        assert torch.backends.cudnn.benchmark is True
    assert torch.backends.cudnn.benchmark == before
    with cudnn_autotune(torch.device("cpu")):
        assert torch.backends.cudnn.benchmark == before
