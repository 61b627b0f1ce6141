"""PyTorch modules read into layer graphs (plproof.models.torch_trace): ordinary modules with custom forward
methods trace with torch's parameters one-to-one and match torch.func; refusals name what was not read."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import mpmath
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from plproof import (InvalidInput, Network, NotCertifiable, Problem, RigorLevel, TorchModel, check,  # noqa: E402
                     from_torch)
from plproof.cli.check import _translated  # noqa: E402
from plproof.numeric.arith import MPArith  # noqa: E402

nn = torch.nn
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


class TwoLayerBias(nn.Module):
    """m^{-1/2} out(tanh(hidden(x))) + skip(x), biases everywhere but the skip."""

    def __init__(self, d: int = 3, m: int = 16) -> None:
        super().__init__()
        self.hidden, self.out, self.skip = nn.Linear(d, m), nn.Linear(m, 1), nn.Linear(d, 1, bias=False)
        self.m = m

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x))) / math.sqrt(self.m) + self.skip(x)


class ResidualMLP(nn.Module):
    """Two residual blocks h + act(block(h)) between an input layer and a head; output squeezed to (n,)."""

    def __init__(self, d: int = 3, h: int = 8) -> None:
        super().__init__()
        self.inp, self.b1, self.b2, self.head = nn.Linear(d, h), nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, 1)

    def forward(self, x):
        h = torch.tanh(self.inp(x))
        h = h + 0.5 * nn.functional.gelu(self.b1(h))
        h = h - torch.sigmoid(self.b2(h))
        return self.head(h).squeeze(-1)


class SmallCNN(nn.Module):
    """8x8 images: conv (padding) -> tanh -> avg pool -> conv (stride 2, no bias) -> softplus, concatenated
    with the pooled map, -> dense."""

    def __init__(self) -> None:
        super().__init__()
        self.c1, self.pool = nn.Conv2d(1, 3, 3, padding=1), nn.AvgPool2d(2)
        self.c2 = nn.Conv2d(3, 2, 3, stride=2, padding=1, bias=False)
        self.fc = nn.Linear(2 * 2 * 2 + 3 * 4 * 4, 1)

    def forward(self, x):
        h = self.pool(torch.tanh(self.c1(x.view(-1, 1, 8, 8))))
        a = nn.functional.softplus(self.c2(h))
        return self.fc(torch.cat([a.flatten(1), h.reshape(h.size(0), -1)], dim=1))


class Conv1dNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv, self.lin = nn.Conv1d(2, 3, 3, stride=2, padding=1), nn.Linear(9, 1)

    def forward(self, x):
        h = torch.sin(self.conv(x.reshape(x.shape[0], 2, 5)))
        return self.lin(nn.functional.avg_pool1d(h, 1).flatten(1))


MODULES = {"two-layer-bias-skip": (TwoLayerBias, 3), "residual-mlp": (ResidualMLP, 3), "cnn-8x8": (SmallCNN, 64),
           "conv1d": (Conv1dNet, 10),
           "sequential": (lambda: nn.Sequential(nn.Linear(3, 5), nn.Softplus(), nn.Linear(5, 4), nn.GELU(),
                                                nn.Linear(4, 1)), 3)}


def build(name: str, n: int = 5, seed: int = 0):
    make, d = MODULES[name]
    torch.manual_seed(seed)
    module = make().double()
    X = np.random.default_rng(seed).standard_normal((n, d))
    return module, X


def torch_jacobian(module, X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """DF by torch.func.jacrev over functional_call, parameters in named_parameters() order."""
    named = list(module.named_parameters())
    Xt = torch.from_numpy(X)

    def F(v):
        params, start = {}, 0
        for k, p in named:
            params[k] = v[start:start + p.numel()].reshape(p.shape)
            start += p.numel()
        return torch.func.functional_call(module, params, (Xt,)).reshape(-1)

    return torch.func.jacrev(F)(torch.from_numpy(w)).numpy()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_trace_one_to_one_and_match_torch_func(name):
    module, X = build(name)
    net = from_torch(module, X)
    assert isinstance(net, Network)
    assert [p.name for p in net.graph.params] == [k for k, _ in module.named_parameters()]
    assert [p.shape for p in net.graph.params] == [tuple(p.shape) for _, p in module.named_parameters()]
    w = net.default_w0()
    assert np.array_equal(w, torch.cat([p.detach().reshape(-1) for p in module.parameters()]).numpy())
    J_t = torch_jacobian(module, X, w)
    assert np.abs(net.jacobian(w) - J_t).max() <= 1e-12 * np.abs(J_t).max()
    K_t = J_t @ J_t.T
    assert np.abs(net.kernel(w) - K_t).max() <= 1e-12 * np.abs(K_t).max()
    # a GD step in the user's own parametrisation: torch's gradient of the square loss
    y = np.random.default_rng(1).standard_normal(X.shape[0])
    grad_t = J_t.T @ (TorchModel(module, X).F(w) - y)
    assert np.abs(net.vjp(w, net.F(w) - y) - grad_t).max() <= 1e-12 * np.abs(grad_t).max()


def test_traced_cnn_matches_60_digit_finite_differences():
    module, X = build("cnn-8x8", n=2)
    net = from_torch(module, X)
    w = net.default_w0()
    ar = MPArith(60)
    cols = np.random.default_rng(0).choice(w.size, 12, replace=False)
    with ar.active():
        J = net.jacobian(w, ar)
        wm, h = ar.asarray(w), mpmath.mpf(10) ** -20
        for j in cols:
            e = ar.zeros(w.size)
            e[j] = h
            fd = (net.F(wm + e, ar) - net.F(wm - e, ar)) / (2 * h)
            assert max(abs(v) for v in (J[:, j] - fd)) < mpmath.mpf(10) ** -35


class Gated(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.bn = nn.Linear(3, 4), nn.Linear(3, 4), nn.BatchNorm1d(4)

    def forward(self, x):
        return (self.bn(torch.exp(self.a(x))) * self.b(x)).sum(dim=1, keepdim=True)


class Kinked(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin, self.out = nn.Linear(3, 4), nn.Linear(4, 1)

    def forward(self, x):
        return self.out(torch.clamp(self.lin(x), min=0.0))


class Branchy(nn.Module):
    """Control flow on tensor values: torch.fx cannot trace it."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        return torch.tanh(self.lin(x)) if x.sum() > 0 else self.lin(x)


def test_refusals_name_every_unsupported_part():
    X = np.random.default_rng(0).standard_normal((4, 3))
    with pytest.raises(NotCertifiable) as info:
        from_torch(Gated().double(), X)
    message = str(info.value)
    for part in ("torch.exp", "BatchNorm1d (at 'bn')", "mul of two tensors", "x.sum()", "sampled=True"):
        assert part in message
    assert isinstance(from_torch(Gated().double(), X, sampled=True), TorchModel)
    with pytest.raises(NotCertifiable, match=r"not C\^2: torch.clamp"):
        from_torch(Kinked().double(), X)
    relu = TorchModel(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)).double(), X)
    assert relu.smooth_obstacle == "ReLU (at '1') is not twice differentiable" and relu.to_graph() is None


def test_module_tree_is_read_where_tracing_fails():
    """A Sequential around an untraceable block: torch's layers are read from the tree, the block is named."""
    X = np.random.default_rng(0).standard_normal((4, 3))
    seq = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), Branchy(), nn.Linear(4, 1)).double()
    model = TorchModel(seq, X)
    assert "Branchy (at '2'): torch.fx cannot trace its forward" in model.graph_obstacle
    assert model.is_smooth  # nothing non-smooth was seen: the black box is smooth as far as can be read
    assert model.to_graph() is None


def test_weight_sharing_is_refused():
    class Shared(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin, self.out = nn.Linear(3, 3), nn.Linear(3, 1)

        def forward(self, x):
            return self.out(torch.tanh(self.lin(torch.tanh(self.lin(x)))))

    with pytest.raises(NotCertifiable, match="weight sharing"):
        from_torch(Shared().double(), np.zeros((2, 3)))


def test_frozen_tensors_stay_fixed():
    module, X = build("two-layer-bias-skip")
    module.hidden.weight.requires_grad_(False)
    net = from_torch(module, X)
    black_box = TorchModel(module, X)
    assert net.n_params == black_box.n_params and np.array_equal(net.default_w0(), black_box.default_w0())
    w = net.default_w0()
    assert np.abs(net.jacobian(w) - black_box.jacobian(w)).max() <= 1e-12 * np.abs(black_box.jacobian(w)).max()


def test_cli_translation_prefers_builtin_then_graph_and_refuses_unreadable_above_sampled():
    module, X = build("two-layer-bias-skip")
    problem = Problem(TorchModel(module, X), np.zeros(X.shape[0]))
    assert isinstance(_translated(problem, quiet=True).model, Network)
    bad = Problem(TorchModel(Gated().double(), X[:, :3]), np.zeros(X.shape[0]))
    assert _translated(bad, quiet=True) is bad
    with pytest.raises(NotCertifiable, match="--rigor sampled"):
        _translated(bad, quiet=True, rigor=RigorLevel.VERIFIED)


@pytest.mark.parametrize("example,name", [("torch_bias_skip.py", "problem"), ("torch_bias_skip.py", "residual_problem"),
                                          pytest.param("torch_cnn.py", "problem", marks=pytest.mark.slow)])
def test_examples_certify_at_verified_and_their_certificates_verify(example, name, tmp_path):
    """The two-layer net with biases and a skip, the residual MLP and the CNN (examples/): traced into graphs,
    certified by the ball route at rigor verified (docs/rigor.md §2.7), and accepted by the verifier."""
    from plproof.certificate.build import from_evidence
    from plproof.certificate.format import write_certificate
    from plproof.verify import verify

    spec = importlib.util.spec_from_file_location(f"plproof_example_{example[:-3]}", EXAMPLES / example)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    problem = getattr(module, name)
    assert isinstance(problem.model, Network) and np.all(problem.model.F(problem.model.default_w0()) == 0)
    evidence = check(problem, confirm=False)
    assert evidence.certified and evidence.rigor is RigorLevel.VERIFIED, evidence.reason
    result = verify(write_certificate(from_evidence(evidence, problem), tmp_path / "cert.json"))
    assert result.valid, result.reason


def test_bad_module_input():
    with pytest.raises(InvalidInput, match="torch.nn.Module"):
        from_torch(lambda x: x, np.zeros((2, 3)))


class PoolExcludingPad(nn.Module):
    """F.avg_pool2d with count_include_pad=False given by position (a different map from the graph's pooling)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.head = nn.Conv2d(1, 2, 3, padding=1), nn.Linear(18, 1)

    def forward(self, x):
        h = torch.nn.functional.avg_pool2d(torch.tanh(self.conv(x.view(-1, 1, 4, 4))), 2, 2, 1, False, False)
        return self.head(h.flatten(1))


def test_a_pooling_that_excludes_padding_is_refused_even_by_position():
    with pytest.raises(NotCertifiable, match="count_include_pad=False"):
        from_torch(PoolExcludingPad().double(), np.zeros((2, 16)))
