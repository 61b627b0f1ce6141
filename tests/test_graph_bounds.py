"""The per-layer bounds over a ball of a layer graph (docs/rigor.md §2.7): above the sampled suprema at random and
adversarial points of the ball for every covered layer type (dense, 1-D and 2-D convolutions with stride and
padding, average pooling, ...), equal in the verifier's own implementation, and refused by name where an
operation is not covered or a subclass changes F."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import plproof
from plproof.data import uniform_targets, unit_inputs
from plproof.errors import NotCertifiable
from plproof.models.ball import HessianGridBounds, hessian_norms_at
from plproof.models.graph import LayerGraph, Network
from plproof.models.graph.ops import Reshape
from plproof.numeric.arith import FLOAT64
from plproof.numeric.rigor import RigorLevel
from plproof.numeric.scalars import FLOATS
from plproof.theory.graph_ball import GraphBounds, require_covered
from plproof.verify.graph import GraphFamily


def _dense_bias(par: str) -> LayerGraph:
    g = LayerGraph(2, par)
    h = g.activation(g.dense(g.input, 5), "tanh")
    h = g.activation(g.dense(h, 4), "tanh")
    g.dense(g.activation(g.dense(h, 4), "tanh"), 1)  # depth 3
    return g


def _residual() -> LayerGraph:
    g = LayerGraph(2, "ntk")
    h = g.activation(g.dense(g.input, 4), "sigmoid")
    r = g.activation(g.dense(h, 4, bias=False), "softplus")
    h = g.scale(g.add(h, r), 2.0, divide=True)
    g.dense(h, 1)
    return g


def _concat() -> LayerGraph:
    g = LayerGraph(2, "standard")
    a = g.activation(g.dense(g.input, 3), "sin")
    b = g.activation(g.dense(g.input, 3), "tanh")
    h = g.reshape(g.concat([a, b]), (6,))
    g.dense(g.scale(h, -0.7), 1)
    return g


def _conv1d() -> LayerGraph:
    g = LayerGraph((2, 7), "ntk")
    h = g.activation(g.conv(g.input, 3, 3, stride=2, padding=1), "tanh")
    h = g.activation(g.conv(h, 2, 2, bias=False), "softplus")
    g.dense(g.flatten(h), 1)
    return g


def _conv2d_pool() -> LayerGraph:
    g = LayerGraph((1, 5, 5), "standard")
    h = g.avg_pool(g.activation(g.conv(g.input, 2, 3, padding=1), "tanh"), 2, stride=1)
    h = g.activation(g.conv(h, 2, 3, stride=2, padding=1), "sigmoid")
    g.dense(g.flatten(g.avg_pool(h, 2, padding=1)), 1)
    return g


def residual_problem(width: int) -> plproof.Problem:
    """A residual tanh network with biases whose output layer starts at 0 (F(w0) = 0): it certifies at verified
    from width 64 (the certificate campaigns use it)."""
    g = LayerGraph(2, "ntk")
    h = g.scale(g.activation(g.dense(g.input, width), "tanh"), 0.5)
    g.dense(g.add(h, g.activation(g.dense(h, width), "tanh")), 1)
    w0 = g.init(2)
    w0[-width - 1:] = 0.0
    return plproof.Problem(Network(unit_inputs(3, 2, seed=1), g, w0), uniform_targets(3, 0.001, 2))


def conv_problem(channels: int) -> plproof.Problem:
    """Two tanh convolutions (1-D, stride 2 and padding) and an average pooling, the output layer at 0 (F(w0) = 0):
    verified from 8 channels at targets of 1e-4 (the certificate campaigns use it)."""
    g = LayerGraph((2, 6), "ntk")
    h = g.activation(g.conv(g.input, channels, 3, stride=2, padding=1), "tanh")
    h = g.avg_pool(g.activation(g.conv(h, channels, 2, padding=1), "tanh"), 2)
    g.dense(g.flatten(h), 1)
    w0 = g.init(2)
    w0[-(g.params[-2].size + 1):] = 0.0
    return plproof.Problem(Network(unit_inputs(3, 12, seed=1), g, w0), uniform_targets(3, 1e-4, 2))


GRAPHS = {"dense-ntk": lambda: _dense_bias("ntk"), "dense-standard": lambda: _dense_bias("standard"),
          "residual-scale": _residual, "concat-reshape": _concat, "conv1d-stride": _conv1d,
          "conv2d-pool": _conv2d_pool}


def _net(kind: str) -> Network:
    graph = GRAPHS[kind]()
    X = np.random.default_rng(1).standard_normal((3, int(np.prod(graph.input_shape))))
    return Network(X / np.linalg.norm(X, axis=1, keepdims=True), graph, seed=3)


def _points(net: Network, R: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Random interior and sphere points, one-coordinate spikes, and w0 +- R v along the top Hessian eigenvectors at w0
    (the adversarial directions)."""
    w0, m = net.default_w0(), net.n_params
    out = []
    for j in range(6):
        u = rng.standard_normal(m)
        out.append(w0 + R * (1 if j % 2 else rng.random()) * u / np.linalg.norm(u))
    out += [w0 + R * np.eye(m)[i] for i in rng.choice(m, 3, replace=False)]
    H = np.stack([(net.jacobian(w0 + 1e-5 * e) - net.jacobian(w0 - 1e-5 * e)) / 2e-5 for e in np.eye(m)], axis=2)
    for Hk in H:
        vals, vecs = np.linalg.eigh((Hk + Hk.T) / 2)
        v = vecs[:, np.argmax(np.abs(vals))]
        out += [w0 + R * v, w0 - R * v]
    return out


@pytest.mark.parametrize("kind", sorted(GRAPHS))
@pytest.mark.parametrize("R", [0.0, 0.5, 2.0])
def test_bounds_hold_at_random_and_adversarial_points(kind, R, capsys):
    net = _net(kind)
    bb = net.ball_bounds(net.default_w0())
    assert isinstance(bb, GraphBounds) and bb.rigor is RigorLevel.VERIFIED
    rng = np.random.default_rng(7)
    eps_k = np.array(bb.per_input(R))
    w0, J0 = net.default_w0(), net.jacobian(net.default_w0())
    hess, change, curv = np.zeros(net.n_outputs), 0.0, 0.0
    for w in _points(net, R, rng) if R else [w0]:
        H = np.stack([(net.jacobian(w + 1e-5 * e) - net.jacobian(w - 1e-5 * e)) / 2e-5 for e in np.eye(w.size)], axis=2)
        H = (H + np.swapaxes(H, 1, 2)) / 2
        hess = np.maximum(hess, [np.linalg.norm(Hk, 2) for Hk in H])
        change = max(change, np.linalg.norm(net.jacobian(w) - J0, 2))
        r = rng.standard_normal(net.n_outputs)
        curv = max(curv, np.linalg.norm(np.tensordot(r / np.linalg.norm(r), H, 1), 2))
    assert np.all(hess <= eps_k * (1 + 1e-6))
    assert change <= float(bb.delta(FLOATS, R)) + 1e-9
    assert curv <= float(bb.curvature(FLOATS, R, 1.0)) * (1 + 1e-6)
    with capsys.disabled():
        print(f"\n{kind} R={R}: epsilon bound/sampled {eps_k.max() / hess.max():.2f}"
              + (f", delta {float(bb.delta(FLOATS, R)) / change:.2f}" if R else ""))


def test_hessian_norms_at_agrees_with_the_full_hessian():
    net = _net("dense-ntk")
    eps = net.ball_bounds(net.default_w0()).per_input(0.0)
    assert np.all(hessian_norms_at(net, net.default_w0(), np.random.default_rng(0)) <= np.array(eps) * (1 + 1e-6))


@pytest.mark.parametrize("kind", sorted(GRAPHS))
def test_the_verifier_recomputes_the_same_bounds_on_its_own(kind):
    net = _net(kind)
    bb, fam = net.ball_bounds(net.default_w0()), GraphFamily(net.describe(), net.X, net.default_w0())
    for R in (0.0, 0.3, 2.0):
        pairs = [(float(bb.epsilon(FLOATS, R)), fam.epsilon(Fraction(R))),
                 (float(bb.delta(FLOATS, R)), fam.delta(Fraction(R))),
                 (float(bb.curvature(FLOATS, R, 1.0)), fam.kappa(Fraction(R), Fraction(1)))]
        for producer, verifier in pairs:
            assert float(verifier) == pytest.approx(producer, rel=1e-9, abs=1e-300)


class Flip(Reshape):
    """A user's own operation (here the reshape's map, but not one §2.7 proves anything about)."""

    ball_bounded = False


def test_an_uncovered_operation_is_named_and_only_sampled():
    g = LayerGraph((1, 4, 4))
    g.dense(g.node(Flip((32,)), g.activation(g.conv(g.input, 2, 3, padding=1), "tanh")), 1)
    net = Network(np.random.default_rng(0).standard_normal((2, 16)), g)
    assert net.ball_rigor is RigorLevel.SAMPLED and "node 3 (Flip)" in net.ball_obstacle
    assert isinstance(net.ball_bounds(net.default_w0()), HessianGridBounds)
    with pytest.raises(NotCertifiable, match="node 3 \\(Flip\\)"):
        require_covered(net)


def test_a_subclass_that_changes_F_inherits_no_bound():
    class Doubled(Network):
        def _F(self, w, ar):
            return 2 * super()._F(w, ar)

    net = _net("dense-ntk")
    twisted = Doubled(net.X, net.graph, net.default_w0())
    bb = twisted.ball_bounds(twisted.default_w0())
    assert not isinstance(bb, GraphBounds) and bb.rigor is RigorLevel.SAMPLED


WINDOWS = [((7,), (3,), (2,), (1,)), ((8,), (2,), (1,), (0,)), ((5, 6), (3, 2), (2, 1), (1, 0)),
           ((8, 8), (3, 3), (2, 2), (1, 1)), ((6, 6), (2, 2), (2, 2), (0, 0)), ((5, 5), (3, 3), (1, 1), (2, 2))]


@pytest.mark.parametrize("spatial,kernel,stride,padding", WINDOWS)
def test_the_window_constants_of_G6_and_G7_hold_as_matrices(spatial, kernel, stride, padding):
    """nu counted by the producer (the gather's fullest column) and by the verifier (per axis) agree; as matrices,
    ||U||_2 = sqrt(nu), ||c W U(x)|| <= c ||W||_2 sqrt(nu) ||x||, |(U^T W^T G)_i| <= ||W[:, c', :]||_F ||G||_F (G6),
    and the pooling S / |window| has ||.||_2 <= sqrt(nu / |window|), ||S^T||_inf / |window| <= nu / |window| (G7)."""
    from plproof.verify.graph import _overlap

    rng = np.random.default_rng(0)
    g = LayerGraph((2,) + spatial, "standard")
    conv = g.nodes[g.conv(g.input, 3, kernel, stride, padding)].op
    pool = g.nodes[g.avg_pool(g.input, kernel, stride, padding)].op
    desc = {"kernel": list(kernel), "stride": list(stride), "padding": list(padding)}
    assert conv.overlap == pool.overlap == _overlap(spatial, desc)
    nu, d = conv.overlap, 2 * int(np.prod(spatial))
    U = conv.unfold(np.eye(d), FLOAT64).reshape(d, -1).T  # rows (c', j, p), one column per input entry
    assert np.linalg.norm(U, 2) == pytest.approx(np.sqrt(nu), rel=1e-12)
    W, G = rng.standard_normal((3, conv.fan_in)), rng.standard_normal((3, conv.positions))
    x = rng.standard_normal(d)
    bound = np.linalg.norm(W, 2) * np.sqrt(nu) * np.linalg.norm(x)
    assert np.linalg.norm(W @ conv.unfold(x[None], FLOAT64)[0]) <= bound * (1 + 1e-12)
    back = conv.fold((W.T @ G)[None], FLOAT64)[0].reshape(2, -1)
    channel = np.linalg.norm(W.reshape(3, 2, -1), axis=(0, 2))
    assert np.all(np.abs(back) <= channel[:, None] * np.linalg.norm(G) * (1 + 1e-12))
    S = pool.forward([np.eye(d)], [], FLOAT64)[0].T
    assert np.linalg.norm(S, 2) <= np.sqrt(nu / pool.window) * (1 + 1e-12)
    assert np.abs(S.T).sum(axis=1).max() <= nu / pool.window * (1 + 1e-12)


def _hessians(net: Network, w: np.ndarray) -> np.ndarray:
    """The per-output Hessians at w (central differences of the closed-form Jacobian), symmetrised."""
    H = np.stack([(net.jacobian(w + 1e-5 * e) - net.jacobian(w - 1e-5 * e)) / 2e-5 for e in np.eye(w.size)], axis=2)
    return (H + np.swapaxes(H, 1, 2)) / 2


def _ascend(net: Network, R: float, k: int, w: np.ndarray, steps: int) -> float:
    """The largest |lambda(Hess f(x_k))| met by projected gradient ascent on |u^T Hess f(x_k; w) u| over B(w0, R),
    u the top eigenvector at each iterate (its w-gradient: a second difference of row k of DF along u)."""
    w0, best = net.default_w0(), 0.0
    for _ in range(steps):
        vals, vecs = np.linalg.eigh(_hessians(net, w)[k])
        i = np.argmax(np.abs(vals))
        best, u = max(best, abs(vals[i])), vecs[:, i]
        g = (net.jacobian(w + 1e-3 * u)[k] - 2 * net.jacobian(w)[k] + net.jacobian(w - 1e-3 * u)[k]) / 1e-6
        w = w + np.sign(vals[i]) * 0.3 * R * g / max(np.linalg.norm(g), 1e-300)
        w = w0 + (w - w0) * min(1.0, R / max(np.linalg.norm(w - w0), 1e-300))
    return best


@pytest.mark.parametrize("kind,R", [("dense-ntk", 0.5), ("conv2d-pool", 0.5),
                                    *[pytest.param(k, R, marks=pytest.mark.slow) for k in sorted(GRAPHS)
                                      for R in (0.5, 2.0) if (k, R) not in (("dense-ntk", 0.5), ("conv2d-pool", 0.5))]])
def test_gradient_ascent_over_the_ball_stays_below_the_bound(kind, R, capsys):
    """A stronger adversary than fixed points: ascent on the Hessian's top eigenvalue from the adversarial points."""
    net = _net(kind)
    eps = np.array(net.ball_bounds(net.default_w0()).per_input(R))
    starts = _points(net, R, np.random.default_rng(7))
    found = np.array([max(_ascend(net, R, k, w, 8) for w in (starts[0], starts[-2 * net.n_outputs + 2 * k]))
                      for k in range(net.n_outputs)])
    assert np.all(found <= eps * (1 + 1e-6))
    with capsys.disabled():
        print(f"\n{kind} R={R}: epsilon bound/ascent {eps.max() / found.max():.2f}")


def test_the_verifier_agrees_on_a_convolution_fed_through_a_reshape():
    """The data-fed ||U(x_k)||_2 of G6 (C2) on a flat input viewed as an image, in both implementations."""
    g = LayerGraph(36, "ntk")
    h = g.activation(g.conv(g.reshape(g.input, (1, 6, 6)), 2, 3, stride=2, padding=1), "tanh")
    g.dense(g.flatten(h), 1)
    net = Network(np.random.default_rng(2).standard_normal((2, 36)), g, seed=1)
    bb, fam = net.ball_bounds(net.default_w0()), GraphFamily(net.describe(), net.X, net.default_w0())
    for R in (0.0, 0.5):
        assert float(fam.epsilon(Fraction(R))) == pytest.approx(float(bb.epsilon(FLOATS, R)), rel=1e-9)
