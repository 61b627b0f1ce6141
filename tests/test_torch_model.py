"""TorchModel: float64 Jacobian and kernel via torch.func, translation to the built-in MLP, smoothness, bad input."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from plproof import MLP, InvalidInput, NotCertifiable, Problem, precision  # noqa: E402
from plproof.models.ball import ball_bounds, fd_hvp  # noqa: E402
from plproof.models.torch_model import TorchModel  # noqa: E402
from plproof.numeric.rigor import RigorLevel  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
nn = torch.nn


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("plproof_example_torch_model", EXAMPLES / "torch_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sequential(d: int, widths: list[int], act: type, bias: bool = False, seed: int = 0):
    torch.manual_seed(seed)
    layers, fan_in = [], d
    for h in widths:
        layers += [nn.Linear(fan_in, h, bias=bias), act()]
        fan_in = h
    return nn.Sequential(*layers, nn.Linear(fan_in, 1, bias=bias)).double()


def X_data(n: int = 4, d: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d))


def test_example_matches_builtin_two_layer_kernel(example):
    builtin = example.init
    w0 = builtin.default_w0()
    model = example.model
    assert model.is_smooth and model.builtin_obstacle is None
    assert np.abs(model.F(model.default_w0()) - builtin.F(w0)).max() < 1e-14
    mlp, w_mlp = model.to_builtin()
    assert np.array_equal(example.builtin_problem.w0, w_mlp)
    assert isinstance(mlp, MLP) and mlp.widths == [example.WIDTH] and mlp.activation.name == "tanh"
    assert np.abs(w_mlp - w0).max() < 1e-14  # v = sqrt(m) t undoes t = v / sqrt(m)
    K = builtin.kernel(w0)
    assert np.abs(mlp.kernel(w_mlp) - K).max() < 1e-10
    # torch's own autodiff Jacobian, in the NTK coordinates w = c * w_torch, gives the same kernel
    J = model.jacobian(model.default_w0()) / model.builtin_scale()
    assert np.abs(J @ J.T - K).max() < 1e-10


@pytest.mark.parametrize("act, name", [(nn.Sigmoid, "sigmoid"), (nn.Softplus, "softplus"), (nn.Tanh, "tanh")])
def test_deep_sequential_translates_with_ntk_factors(act, name):
    X = X_data()
    model = TorchModel(sequential(3, [5, 4], act), X)
    mlp, w = model.to_builtin()
    assert mlp.widths == [5, 4] and mlp.activation.name == name
    w_t = model.default_w0()
    assert np.abs(mlp.F(w) - model.F(w_t)).max() < 1e-13
    J = model.jacobian(w_t) / model.builtin_scale()
    assert np.abs(mlp.jacobian(w) - J).max() < 1e-12
    w_other = w_t + 0.1
    assert np.abs(mlp.F(model.to_builtin(w_other)[1]) - model.F(w_other)).max() < 1e-13


def test_jacobian_and_hvp_match_finite_differences():
    X = X_data()
    model = TorchModel(sequential(3, [6], nn.Tanh, bias=True), X)
    w = model.default_w0()
    h = 1e-6
    J_fd = np.stack([(model.F(w + h * e) - model.F(w - h * e)) / (2 * h) for e in np.eye(w.size)], axis=1)
    assert model.jacobian(w).shape == (4, model.n_params) and np.abs(model.jacobian(w) - J_fd).max() < 1e-8
    V = np.random.default_rng(1).standard_normal((4, w.size))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    assert np.abs(model.hessian_vector_products(w, V) - fd_hvp(model.jacobian, w, V)).max() < 1e-7


def test_rigor_levels_sampled_for_modules_translated_for_sequential(example):
    w = example.model.default_w0()
    bb = ball_bounds(example.model, w, 0.1, samples=2)
    assert bb.rigor is RigorLevel.SAMPLED and bb.method == "sampled"
    biased = TorchModel(sequential(3, [6], nn.Tanh, bias=True), X_data())
    assert biased.to_builtin() is None and "bias" in biased.builtin_obstacle
    assert biased.is_smooth


class Clamped(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 1)

    def forward(self, x):
        return torch.clamp(self.lin(x), min=0.0)


class SmoothCustom(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 1)

    def forward(self, x):
        return torch.tanh(self.lin(x))


@pytest.mark.parametrize("module, smooth", [
    (sequential(3, [4], nn.ReLU), False), (sequential(3, [4], nn.LeakyReLU), False),
    (sequential(3, [4], nn.ELU), False), (Clamped(), False), (SmoothCustom(), True),
    (sequential(3, [4], nn.GELU), True),
    (nn.Sequential(nn.TransformerEncoderLayer(3, 1, 8, dropout=0.0), nn.Linear(3, 1)),
     False),
])
def test_smoothness_from_modules_and_forward_code(module, smooth):
    model = TorchModel(module, X_data())
    assert model.is_smooth is smooth
    if not smooth:
        assert "not twice differentiable" in model.smooth_obstacle
        assert "non-smooth" in Problem(model, np.zeros(4)).obstruction()
        with pytest.raises(NotCertifiable):
            ball_bounds(model, model.default_w0(), 0.1)


def test_bad_input():
    X = X_data()
    with pytest.raises(InvalidInput, match="torch.nn.Module"):
        TorchModel(lambda x: x, X)
    with pytest.raises(InvalidInput, match=r"module failed on X \(4 x 3\)"):
        TorchModel(nn.Linear(2, 1), X)
    with pytest.raises(InvalidInput, match="one output per row"):
        TorchModel(nn.Linear(3, 2), X)
    with pytest.raises(InvalidInput, match="NaN or Inf"):
        TorchModel(nn.Linear(3, 1), np.where(np.eye(4, 3) > 0, np.nan, X))
    with pytest.raises(InvalidInput, match="trainable"):
        TorchModel(nn.Linear(3, 1).requires_grad_(False), X)
    model = TorchModel(nn.Linear(3, 1), X)
    with pytest.raises(NotCertifiable, match="float64 only"):
        with precision(digits=30):
            model.F(model.default_w0())
    overflow = TorchModel(nn.Linear(3, 1), np.full((4, 3), 2.0))
    with pytest.raises(InvalidInput, match="outputs have NaN or Inf"):
        overflow.F([1e308, 1e308, 1e308, 0.0])
