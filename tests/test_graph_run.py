"""The run route on layer graphs (docs/rigor.md §10, layer graphs): the graph's GD step, kernel and residual in
midpoint-radius arithmetic enclose the exact ones for every covered operation; a graph run certifies, its
certificate verifies, and its claim holds against GD itself (the exact iterates stay in the tube, GD after T stays
in the terminal ball at the certified rate); graphs the verifier could not re-check are refused by name."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest

import plproof
from plproof.certificate.build import run_certificate
from plproof.certificate.format import write_certificate
from plproof.data import uniform_targets, unit_inputs
from plproof.errors import NotCertifiable
from plproof.models.graph import LayerGraph, Network
from plproof.numeric.arith import MPArith
from plproof.verify import verify
from plproof.verify.midrad import MR, gd_step, kernel_enclosure
from tests.test_graph_bounds import GRAPHS, _net

DIGITS = 40


def bias_skip(width: int, scale: float, n: int = 3, d: int = 4) -> plproof.Problem:
    """m^{-1/2} out(tanh(hidden(x))) + skip(x) in torch's standard parametrisation (examples/torch_bias_skip.py's
    module as a graph), the output layer and the skip at 0 (F(w0) = 0)."""
    g = LayerGraph(d, "standard")
    h = g.activation(g.dense(g.input, width), "tanh")
    g.add(g.scale(g.dense(h, 1), 1 / np.sqrt(width)), g.dense(g.input, 1, bias=False))
    w0 = g.init(1)
    w0[width * (d + 1):] = 0.0
    return plproof.Problem(Network(unit_inputs(n, d, seed=1), g, w0), uniform_targets(n, scale, 2))


def _exact_step(net: Network, w: np.ndarray, y: np.ndarray, eta: float) -> tuple[np.ndarray, np.ndarray, float]:
    """(G(w), K(w), ||F(w) - y||) at DIGITS digits (w floats or mpmath numbers)."""
    ar = MPArith(DIGITS)
    with ar.active():
        w = ar.asarray(w)
        r = net.F(w, ar) - ar.asarray(y)
        G = ar.asarray(w) - net.vjp(w, r, ar) * ar.asarray(eta)
        K = net.kernel(w, ar)
        res = mpmath.sqrt(sum(v * v for v in r))
    return G, K, res


@pytest.mark.parametrize("kind", sorted(GRAPHS))
def test_the_enclosed_graph_step_contains_the_exact_step(kind):
    """For every covered operation (dense +- bias, NTK and standard, residual scaling, concat/reshape, 1-D and 2-D
    convolutions with stride and padding, pooling): ||G(w) - w~'|| <= rho, |K - K~| <= E, ||r|| <= the bound."""
    net = _net(kind)
    rng = np.random.default_rng(7)
    w = net.default_w0() + 0.3 * rng.standard_normal(net.n_params)
    y, eta = rng.standard_normal(net.n_outputs), 0.37
    w1, rho, res_hi = gd_step(net, w, y, eta)
    G, K, res = _exact_step(net, w, y, eta)
    gap = mpmath.sqrt(sum((g - mpmath.mpf(float(v))) ** 2 for g, v in zip(G, w1)))
    assert 0 < gap <= rho < 1e-12 and res <= res_hi
    Km, E = kernel_enclosure(net, w)
    err = np.vectorize(lambda a, b: float(abs(a - mpmath.mpf(float(b)))))(K, Km)
    assert (err <= E).all() and E.max() < 1e-12


def test_a_midrad_sum_encloses_the_exact_sum():
    rng = np.random.default_rng(3)
    x = MR(rng.standard_normal((5, 7, 300)) * 10.0 ** rng.integers(-8, 8, (5, 7, 300)), np.full((5, 7, 300), 1e-12))
    for axis in (2, (1, 2), None):
        s = x.sum(axis=axis)
        exact = np.vectorize(Fraction, otypes=[object])(x.mid).sum(axis=axis)
        err = np.vectorize(lambda a, b: float(abs(a - Fraction(b))), otypes=[float])(exact, s.mid)
        cells = x.mid.size // max(np.size(s.mid), 1)
        assert (err + cells * 1e-12 <= s.rad).all()
    assert (x.swapaxes(0, 2).mid == np.swapaxes(x.mid, 0, 2)).all()


@pytest.fixture(scope="module")
def graph_run():
    problem = bias_skip(16, 0.05)
    ev = plproof.certify_run(problem, checkpoint_every=5)
    return problem, ev


def test_a_graph_run_certifies_past_step_zero_and_its_certificate_verifies(graph_run, tmp_path):
    problem, ev = graph_run
    assert ev.certified and ev.hints["T"] > 5 and ev.hints["bounds"] == "graph", ev.reason
    path = write_certificate(run_certificate(ev, problem), tmp_path / "run.json")
    result = verify(path)
    assert result.valid and result.level == "verified", result.reason


def test_exact_gd_stays_in_the_tube_and_gd_after_t_in_the_terminal_ball(graph_run):
    """The claim against GD itself: GD at DIGITS digits from w0 is within e_t of every checkpoint w~_t, and float GD
    continued from w~_T stays in B(w~_T, R_T) with L(w_t) <= rate^(t - T) rho_bar^2 / 2 (plus float64's floor)."""
    problem, ev = graph_run
    net, y, eta, h = problem.model, problem.y, ev.hints["step"], ev.hints
    radii = dict(zip(h["checkpoint_steps"], h["radii"]))
    w, gaps = problem.w0.astype(object), []
    for t in range(h["T"] + 1):
        if t in radii:
            wf = h["checkpoints"][h["checkpoint_steps"].index(t)]
            gaps.append(float(mpmath.sqrt(sum((a - mpmath.mpf(float(b))) ** 2 for a, b in zip(w, wf)))))
            assert gaps[-1] <= radii[t], (t, gaps[-1], radii[t])
        w = _exact_step(net, w, y, eta)[0]
    assert gaps[0] == 0 and max(gaps) > 0  # the float run did move off exact GD, within the tube
    w_T = h["checkpoints"][-1]
    q = ev.quantities
    rate, L_T = q["rate"].hi, q["rho_bar"].hi ** 2 / 2
    w = w_T.copy()
    for t in range(400):
        r = net.F(w) - y
        assert np.linalg.norm(w - w_T) <= h["R_T"]
        assert 0.5 * float(r @ r) <= rate ** t * L_T * (1 + 1e-9) + 1e-28, t
        w = w - eta * net.vjp(w, r)
    assert 0.5 * float(r @ r) < 1e-20  # GD reached a global minimiser


def _graph(activation: str) -> Network:
    g = LayerGraph(2)
    g.dense(g.activation(g.dense(g.input, 4), activation), 1)
    return Network(unit_inputs(3, 2, seed=1), g)


@pytest.mark.parametrize("activation,why", [("relu", "not C\\^2"), ("gelu", "no graph bounds in the independent verifier")])
def test_graphs_the_verifier_cannot_recheck_are_refused_by_name(activation, why):
    problem = plproof.Problem(_graph(activation), uniform_targets(3, 0.01, 1))
    with pytest.raises(NotCertifiable, match=f"node 2.*{why}"):
        plproof.certify_run(problem)
    with pytest.raises(NotCertifiable, match="SGD runs on models whose F and DF it evaluates on a batch"):
        plproof.certify_run(plproof.Problem(_graph("tanh"), uniform_targets(3, 0.01, 1)), method="sgd", batch_size=1)


@pytest.mark.slow
def test_the_torch_example_certifies_by_the_run_route_from_the_cli(tmp_path, capsys):
    """plproof check examples/torch_bias_skip.py:run_problem --route run (the data's own targets, where the ball
    theorem fails at w0), and its certificate verifies."""
    pytest.importorskip("torch")
    from pathlib import Path

    from plproof.cli.main import main

    example = Path(__file__).parent.parent / "examples" / "torch_bias_skip.py"
    out = tmp_path / "run.json"
    assert main(["check", f"{example}:run_problem", "--route", "run", "--out", str(out), "-q"]) == 0
    result = verify(out)
    assert result.valid, result.reason


def test_a_run_certificate_at_step_zero_of_a_large_net_verifies(tmp_path):
    """At T = 0 the one checkpoint (1 x m) has w0's content: both arrays share one data file (named by content)
    and each decodes in its own shape."""
    problem = bias_skip(512, 0.001)  # 3077 parameters: arrays go to data files
    ev = plproof.certify_run(problem)
    assert ev.certified and ev.hints["T"] == 0, ev.reason
    path = write_certificate(run_certificate(ev, problem), tmp_path / "run.json")
    assert len(list((tmp_path / "data").glob("*.npy"))) == 1
    result = verify(path)
    assert result.valid, result.reason
