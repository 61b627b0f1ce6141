"""Windows of the run route (docs/rigor.md §10, windows): the step Jacobian's enclosure over a box holds the exact
Jacobian at every point of it, the spectral-norm bound is above the norm and close to it, the window's radius
dominates the exact propagated error, and a seeded SGD run closes with windows where the step-by-step chain alone
stops."""

from __future__ import annotations

import importlib

import mpmath
import numpy as np
import pytest

from plproof import Problem, TwoLayer
from plproof.data import uniform_targets, unit_inputs
from plproof.numeric.arith import MPArith
from plproof.verify.midrad import MR, radius, rows_of
from plproof.verify.window import SUB, Window, applies, norm_upper, step_jacobian


def _exact_step_jacobian(model, w: np.ndarray, y: np.ndarray, eta: float, rows) -> np.ndarray:
    """DG(w) = I - eta Hess L_B(w) by central differences of the gradient at 50 digits (error ~1e-40)."""
    distinct, count = np.unique(rows, return_counts=True)
    sub, yb = rows_of(model, distinct), y[distinct]
    ar = MPArith(50)
    h = mpmath.mpf("1e-20")

    def grad(wm):
        r = (sub.F(wm, ar) - ar.asarray(yb)) * ar.asarray(count.astype(float))
        return sub.vjp(wm, r, ar)

    P = len(w)
    out = np.empty((P, P))
    with ar.active():
        base = ar.asarray(w)
        for i in range(P):
            e = np.zeros(P, dtype=object)
            e[i] = h
            col = (grad(base + e) - grad(base - e)) / (2 * h)
            out[:, i] = [float(mpmath.mpf(int(i == j)) - eta * col[j]) for j in range(P)]
    return out


@pytest.mark.parametrize("activation, train", [("tanh", "both"), ("softplus", "hidden"), ("gelu", "both")])
def test_the_enclosure_holds_the_step_jacobian_on_the_whole_box(activation, train):
    X, y = unit_inputs(5, 3, 1), uniform_targets(5, 0.3, 1)
    model = TwoLayer(X, 3, activation, 1, train=train)
    w0 = np.asarray(model.default_w0(), dtype=np.float64)
    rows, eta, box = np.array([4, 1, 4]), 0.4, 1e-3
    assert applies(model)
    M = step_jacobian(model, w0, box, y, eta, rows)
    rng = np.random.default_rng(0)
    for point in [w0] + [w0 + rng.uniform(-box, box, w0.shape) for _ in range(3)] + [w0 + box * np.sign(
            rng.standard_normal(w0.shape))]:
        DG = _exact_step_jacobian(model, point, y, eta, rows)
        assert (np.abs(DG - M.mid) <= radius(M)).all()
    # at a point (box 0) the radius is rounding only
    at = step_jacobian(model, w0, 0.0, y, eta, rows)
    assert radius(at).max() < 1e-12 and np.abs(_exact_step_jacobian(model, w0, y, eta, rows) - at.mid).max() < 1e-13


def test_windows_are_for_two_layer_nets_with_a_closed_form_hessian():
    X = unit_inputs(5, 3, 1)
    assert not applies(TwoLayer(X, 3, "tanh", 1, train="output"))  # no curvature in w: nothing to gain
    assert not applies(TwoLayer(X, 200, "tanh", 1))  # 800 parameters: above MAX_PARAMS

    class Scaled(TwoLayer):  # a subclass that may change F inherits no closed-form Hessian
        pass
    assert not applies(Scaled(X, 3, "tanh", 1))


def test_the_norm_bound_is_above_the_norm_and_close_to_it():
    rng = np.random.default_rng(3)
    for P in (1, 7, 40):
        A = rng.standard_normal((P, P))
        exact = np.linalg.norm(A, 2)
        assert exact <= norm_upper(MR(A)) <= exact * (1 + 1e-5)  # COVER = 1 + 2^-20, twice
        rad = np.full((P, P), 1e-6)
        assert norm_upper(MR(A, rad)) >= np.linalg.norm(A + rad * np.sign(rng.standard_normal((P, P))), 2)


def test_the_window_radius_dominates_the_propagated_error():
    """delta_(j+1) = A_j delta_j + d_j with ||d_j|| = rho_j, exact A_j of norm l_j: after every sub-window the
    window's radius is at least ||delta||, and well below prod l_j e0 when the A_j rotate."""
    rng = np.random.default_rng(1)
    P = 6
    e0 = 1e-3
    delta = rng.standard_normal(P)
    delta *= e0 / np.linalg.norm(delta)
    win, prod_l = Window(e0), e0
    for t in range(3 * SUB):
        Q = np.linalg.qr(rng.standard_normal((P, P)))[0]
        A = Q @ np.diag(np.r_[1.05, np.full(P - 1, 0.9)]) @ Q.T  # stretches a different direction each step
        d = rng.standard_normal(P)
        d *= 1e-9 / np.linalg.norm(d)
        delta = A @ delta + d
        l = np.linalg.norm(A, 2) * (1 + 1e-12)
        prod_l *= l
        win.extend([MR(A)], [l], [1e-9])
        if win.closable:
            e, c = win.close()
            assert np.linalg.norm(delta) <= e
    assert e < prod_l / 5


@pytest.mark.slow
def test_a_seeded_sgd_run_closes_with_windows_where_the_chain_stops(monkeypatch):
    """Case C, width 16, batch size 1: the step-by-step chain stops at amplification e^25 after ~500 steps; with
    windows the terminal ball closes (docs/rigor.md §10, windows)."""
    from plproof.routes.trajectory import certify_run

    problem = Problem(TwoLayer(unit_inputs(20, 5, 2026), 16, "tanh", 2026, init="standard"),
                      uniform_targets(20, 0.5, 2026))
    assert certify_run(problem, method="sgd", batch_size=1, max_steps=20_000).certified
    generic = importlib.import_module("plproof.routes.trajectory.generic")
    monkeypatch.setattr(generic, "applies", lambda model: False)
    ev = certify_run(problem, method="sgd", batch_size=1, max_steps=20_000)
    assert not ev.certified and ev.hints["stop"] == "amplification"
    assert "smaller step" in ev.reason and "double-double" not in ev.reason  # SGD runs are float64 only


def _windowed_run(problem, after: float | None, monkeypatch, **kwargs):
    """certify_run with windows from the step where the amplification reaches e^after (the default if None)."""
    from plproof.routes.trajectory import certify_run

    if after is not None:
        monkeypatch.setattr(importlib.import_module("plproof.routes.trajectory.certify"), "WINDOWS_AFTER", after)
    return certify_run(problem, **kwargs)


@pytest.mark.slow
def test_windows_start_where_the_amplification_reaches_e(monkeypatch):
    """n = 12, width 8, batch size 1: the step-by-step amplification passes e^1 early and windows start there."""
    problem = Problem(TwoLayer(unit_inputs(12, 8, seed=1), 8, "tanh", seed=1, init="symmetric"),
                      uniform_targets(12, 0.1, seed=1))
    ev = _windowed_run(problem, None, monkeypatch, method="sgd", batch_size=1, seed=7, max_steps=20_000)
    assert ev.certified and 0 < ev.hints["windows_from"] < ev.hints["T"]


def test_a_run_with_windows_writes_where_they_start_and_verifies(monkeypatch):
    """Windows from step 0 (a full sub-window of 32 steps closes before T = 40): the certificate names the start
    (hints.windows_from), the verifier forms its own windows from that step and the certificate verifies; a start
    outside [0, T] is refused."""
    import copy

    from plproof.certificate.build import run_certificate
    from plproof.certificate.format import seal
    from plproof.verify import verify_json

    problem = Problem(TwoLayer(unit_inputs(5, 8, seed=3), 8, "tanh", seed=3, init="symmetric"),
                      uniform_targets(5, 0.05, seed=3))
    ev = _windowed_run(problem, 0.0, monkeypatch, method="sgd", batch_size=2, seed=7, max_steps=20_000)
    assert ev.certified and ev.hints["windows_from"] == 0 and ev.hints["T"] > 32
    cert = run_certificate(ev, problem)
    assert cert["hints"]["windows_from"] == ev.hints["windows_from"]
    result = verify_json(cert)
    assert result.valid and any("windows of 32 x 4 steps" in c for c in result.checked)
    for bad in (-1, ev.hints["T"] + 1, "120", True):
        edited = copy.deepcopy(cert)
        edited["hints"]["windows_from"] = bad
        assert not verify_json(seal(edited)).valid
