"""Blocks of neurons in the wide two-layer centre (docs/rigor.md §3.1) and the fused float64 GD step.

The kernel sums and their error bounds accumulated block by block agree with one block of all neurons and
enclose the kernel of the exact model; verdicts do not depend on the block size; the fused step and the
runner that uses it give the loss and gradient of F and vjp.
"""

from __future__ import annotations

import numpy as np
import pytest

from plproof import Problem, TwoLayer
from plproof.data import uniform_targets, unit_inputs
from plproof.models.activations import ACTIVATIONS
from plproof.numeric.arith import FLOAT64, MPArith
from plproof.numeric.runners import gradient_descent, sgd
from plproof.routes.ball import check, confirm_budget
from plproof.theory import centre as centre_mod
from plproof.numeric import floatbounds as fb
from plproof.theory.centre import KernelSums, block_size, two_layer_kernel


def random_features(n: int, m: int, seed: int) -> tuple[np.ndarray, ...]:
    """X (n x 3), v, and float A, D with small radii, as the centre passes them."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    A, D = np.tanh(rng.standard_normal((n, m))), rng.uniform(0, 1, (n, m))
    return X, rng.standard_normal(m), A, np.full((n, m), 1e-15), D, np.full((n, m), 2e-15)


@pytest.mark.parametrize("train", ["both", "hidden", "output"])
@pytest.mark.parametrize("step", [1, 5, 23])
def test_blocked_kernel_agrees_with_one_block(train, step):
    """m = 23 neurons in blocks of 1, 5 (the last block short) and 23: K within rounding of one block's, err equal
    to 1e-9 relative, and the two enclosures of the same true kernel overlap."""
    X, v, A, A_rad, D, D_rad = random_features(6, 23, 1)
    K1, err1 = two_layer_kernel(X, v, train, A, A_rad, D, D_rad)
    sums = KernelSums(6, train)
    for lo in range(0, 23, step):
        sl = slice(lo, lo + step)
        sums.add(v[sl], A[:, sl], A_rad[:, sl], D[:, sl] if train != "output" else None,
                 D_rad[:, sl] if train != "output" else None)
    K, err = sums.kernel(X)
    assert sums.m == 23 and np.array_equal(K, K.T)
    assert np.linalg.norm(K - K1, 2) <= err + err1
    assert err == pytest.approx(err1, rel=1e-9)
    if step == 23:
        assert np.array_equal(K, K1) and err == err1


@pytest.mark.parametrize("step", [1, 4])
def test_blocked_kernel_encloses_the_exact_kernel_of_its_inputs(step):
    """With zero radii A and D are exact: ||K_hat - K||_2 <= err for K summed in rationals (40 digits)."""
    X, v, A, _, D, _ = random_features(4, 9, 2)
    sums = KernelSums(4, "both")
    for lo in range(0, 9, step):
        sl = slice(lo, lo + step)
        zero = np.zeros_like(A[:, sl])
        sums.add(v[sl], A[:, sl], zero, D[:, sl], zero)
    K, err = sums.kernel(X)
    ar = MPArith(40)
    with ar.active():
        Xm, vm, Am, Dm = (ar.asarray(a) for a in (X, v, A, D))
        Bm = Dm * vm
        K_true = ((Xm @ Xm.T) * (Bm @ Bm.T) + Am @ Am.T) / 9
        dK = np.array(K - K_true, dtype=float)
    assert 0 < np.linalg.norm(dK, 2) <= err


def test_block_size_edges():
    assert block_size(10, 7, budget=1) == 1  # at least one neuron
    assert block_size(10, 7, budget=2**40) == 7  # at most m
    assert block_size(100, 10**6, budget=100 * 128 * 37) == 37  # BLOCK_ARRAYS float64 n x b arrays


@pytest.mark.parametrize("train", ["both", "output"])
@pytest.mark.parametrize("neurons", [1, 7])
def test_wide_centre_does_not_depend_on_the_block_size(train, neurons):
    """Blocks of 1 and of 7 neurons (1000 not divisible by 7) against one block: the same enclosures to rounding."""
    problem = Problem(TwoLayer(unit_inputs(20, 10, 0), 1000, "tanh", seed=0, init="symmetric", train=train),
                      uniform_targets(20, 0.003, 0))
    whole = centre_mod._wide_two_layer(problem, budget=2**40)
    part = centre_mod._wide_two_layer(problem, budget=neurons * 8 * centre_mod.BLOCK_ARRAYS * 20)
    for key in ("lambda0", "jac_norm", "res_norm", "L0"):
        a, b = getattr(whole, key), getattr(part, key)
        assert max(a.lo, b.lo) <= min(a.hi, b.hi)  # both enclose the same number
        assert float(b.lo) == pytest.approx(float(a.lo), rel=1e-9, abs=1e-300)
        assert float(b.hi) == pytest.approx(float(a.hi), rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("scale", [0.003, 0.3])
def test_verdict_does_not_depend_on_the_block_size(monkeypatch, scale):
    """check at n m d > BALL_WORK_LIMIT (the wide path): one neuron per block gives the default's verdict."""
    problem = Problem(TwoLayer(unit_inputs(20, 10, 1), 1000, "tanh", seed=1, init="symmetric"),
                      uniform_targets(20, scale, 1))
    default = check(problem, confirm=False)
    assert default.hints["centre_method"].startswith("BLAS")
    monkeypatch.setattr(centre_mod, "BLOCK_BYTES", 1)
    blocked = check(problem, confirm=False)
    assert blocked.verdict is default.verdict
    assert blocked.quantities["lambda0"].lo == pytest.approx(default.quantities["lambda0"].lo, rel=1e-9)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "sin"])
@pytest.mark.parametrize("train", ["both", "hidden", "output"])
@pytest.mark.parametrize("block_bytes", [1, 3 * 64 * 5, 2**21])
def test_fused_step_is_F_and_vjp(activation, train, block_bytes):
    """residual_and_vjp(w, y) = (F(w) - y, DF(w)^T (F(w) - y)) in blocks of 1, 3 (of 8) and all neurons."""
    model = TwoLayer(unit_inputs(5, 3, 4), 8, activation, seed=4, train=train)
    y = uniform_targets(5, 0.5, 4)
    w = model.default_w0() + 0.1
    r, g = model.residual_and_vjp(w, y, block_bytes=block_bytes)
    r_ref = model.F(w, FLOAT64) - y
    np.testing.assert_allclose(r, r_ref, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(g, model.vjp(w, r_ref, FLOAT64), rtol=1e-12, atol=1e-15)
    counts = np.array([0.0, 2.0, 1.0, 0.0, 3.0])  # an SGD batch's repeat counts
    for keep_bytes in (2**30, 0):  # the activations kept for the gradient, or formed again per block
        r, g = model.residual_and_vjp(w, y, counts, block_bytes=block_bytes, keep_bytes=keep_bytes)
        np.testing.assert_allclose(r, r_ref, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(g, model.vjp(w, r_ref * counts, FLOAT64), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_slope_is_the_first_two_derivatives(name):
    """The shortcut for (sigma, sigma') gives the same floats as the full formulas (docs/theory.md §8)."""
    act = ACTIVATIONS[name]
    z = np.linspace(-30, 30, 2001)
    full = act._derivs(z, FLOAT64)
    for order in (0, 1):
        got = act.derivatives(z, FLOAT64, order)
        assert len(got) == order + 1 and all(np.array_equal(a, b) for a, b in zip(got, full))
    assert len(act.derivatives(z, FLOAT64, 2)) == 3


def test_float_runner_takes_the_fused_step_and_matches_F_and_vjp():
    """gradient_descent in float64 on a TwoLayer: the loop of F and vjp, to rounding."""
    problem = Problem(TwoLayer(unit_inputs(6, 4, 5), 30, "tanh", seed=5), uniform_targets(6, 0.5, 5))
    traj = gradient_descent(problem, 0.5, 25)
    model, w, losses = problem.model, problem.w0.copy(), []
    for t in range(26):
        r = model.F(w, FLOAT64) - problem.y
        losses.append(float(r @ r / 2))
        if t < 25:
            w = w - 0.5 * model.vjp(w, r, FLOAT64)
    np.testing.assert_allclose(traj.losses, losses, rtol=1e-10)
    np.testing.assert_allclose(traj.w_final, w, rtol=1e-10, atol=1e-14)
    assert losses[-1] < losses[0]


def test_sgd_runner_takes_the_fused_step_with_the_same_batches():
    """sgd in float64 on a TwoLayer: the loop of F and vjp on the same seeded batches, to rounding."""
    problem = Problem(TwoLayer(unit_inputs(6, 4, 5), 30, "tanh", seed=5), uniform_targets(6, 0.5, 5))
    traj = sgd(problem, 0.5, 40, batch=2, seed=3)
    model, w, losses, rng = problem.model, problem.w0.copy(), [], np.random.default_rng(3)
    for t in range(41):
        r = model.F(w, FLOAT64) - problem.y
        losses.append(float(r @ r / 2))
        if t < 40:
            counts = np.bincount(rng.integers(0, 6, size=2), minlength=6).astype(float)
            w = w - 0.5 * model.vjp(w, r * counts, FLOAT64)
    np.testing.assert_allclose(traj.losses, losses, rtol=1e-10)
    np.testing.assert_allclose(traj.w_final, w, rtol=1e-10, atol=1e-14)
    assert losses[-1] < losses[0]


def test_confirm_budget_bounds():
    small = Problem(TwoLayer(unit_inputs(5, 3, 0), 8, "tanh"), np.zeros(5))
    wide = Problem(TwoLayer(unit_inputs(50, 10, 0), 10_000, "tanh"), np.zeros(50))
    assert confirm_budget(small) == 500 and confirm_budget(wide) == 14 and confirm_budget(wide, 16) == 10


def unblocked_error(X: np.ndarray, v: np.ndarray, A: np.ndarray, A_rad: np.ndarray, D: np.ndarray,
                    D_rad: np.ndarray) -> np.ndarray:
    """The entrywise error sum of the former unblocked code (train both), before the final scaling: the reference."""
    u1, gm, gd = (fb.gamma(k) for k in (1, A.shape[1], X.shape[1]))
    B = D * v
    aB, aA = np.abs(B), np.abs(A)
    EB = u1 * aB + D_rad * np.abs(v)
    BB, G = B @ B.T, X @ X.T
    EBB = gm * (aB @ aB.T) + EB @ (aB + EB).T + aB @ EB.T
    EG = gd * (np.abs(X) @ np.abs(X).T)
    E2 = gm * (aA @ aA.T) + A_rad @ (aA + A_rad).T + aA @ A_rad.T
    Ksum = G * BB
    return u1 * np.abs(Ksum) + EG * np.abs(BB) + (np.abs(G) + EG) * EBB + E2 + u1 * np.abs(Ksum + A @ A.T)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_error_bound_contains_the_unblocked_one(seed):
    """Blocks of 4 and the former single-block formulas: K equal to rounding, and the blocked error sum at least the
    former one entrywise (E_B E_B^T <= e e^T) and within 1e-6 of it."""
    X, v, A, A_rad, D, D_rad = random_features(6, 23, seed)
    sums = KernelSums(6, "both")
    for lo in range(0, 23, 4):
        sl = slice(lo, lo + 4)
        sums.add(v[sl], A[:, sl], A_rad[:, sl], D[:, sl], D_rad[:, sl])
    Ksum, E = sums.unscaled(X)
    E_ref = unblocked_error(X, v, A, A_rad, D, D_rad)
    assert np.all(E >= E_ref * (1 - 1e-12)) and np.allclose(E, E_ref, rtol=1e-6, atol=0)
    np.testing.assert_allclose(Ksum, (X @ X.T) * ((D * v) @ (D * v).T) + A @ A.T, rtol=1e-13, atol=1e-16)
