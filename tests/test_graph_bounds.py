"""The per-layer bounds over a ball of a layer graph (docs/rigor.md §2.7): above the sampled suprema at random and
adversarial points of the ball for every covered layer type, equal in the verifier's own implementation, and
refused by name where an operation is not covered or a subclass changes F."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import plproof
from plproof.data import uniform_targets, unit_inputs
from plproof.errors import NotCertifiable
from plproof.models.ball import HessianGridBounds, hessian_norms_at
from plproof.models.graph import LayerGraph, Network
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


def residual_problem(width: int) -> plproof.Problem:
    """A residual tanh network with biases whose output layer starts at 0 (F(w0) = 0): it certifies at verified
    from width 64 (the certificate campaigns use it)."""
    g = LayerGraph(2, "ntk")
    h = g.scale(g.activation(g.dense(g.input, width), "tanh"), 0.5)
    g.dense(g.add(h, g.activation(g.dense(h, width), "tanh")), 1)
    w0 = g.init(2)
    w0[-width - 1:] = 0.0
    return plproof.Problem(Network(unit_inputs(3, 2, seed=1), g, w0), uniform_targets(3, 0.001, 2))


GRAPHS = {"dense-ntk": lambda: _dense_bias("ntk"), "dense-standard": lambda: _dense_bias("standard"),
          "residual-scale": _residual, "concat-reshape": _concat}


def _net(kind: str) -> Network:
    X = np.random.default_rng(1).standard_normal((3, 2))
    return Network(X / np.linalg.norm(X, axis=1, keepdims=True), GRAPHS[kind](), seed=3)


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


def test_an_uncovered_operation_is_named_and_only_sampled():
    g = LayerGraph((1, 4, 4))
    g.dense(g.flatten(g.activation(g.conv(g.input, 2, 3, padding=1), "tanh")), 1)
    net = Network(np.random.default_rng(0).standard_normal((2, 16)), g)
    assert net.ball_rigor is RigorLevel.SAMPLED and "node 1 (Conv)" in net.ball_obstacle
    assert isinstance(net.ball_bounds(net.default_w0()), HessianGridBounds)
    with pytest.raises(NotCertifiable, match="node 1 \\(Conv\\)"):
        require_covered(net)


def test_a_subclass_that_changes_F_inherits_no_bound():
    class Doubled(Network):
        def _F(self, w, ar):
            return 2 * super()._F(w, ar)

    net = _net("dense-ntk")
    twisted = Doubled(net.X, net.graph, net.default_w0())
    bb = twisted.ball_bounds(twisted.default_w0())
    assert not isinstance(bb, GraphBounds) and bb.rigor is RigorLevel.SAMPLED
