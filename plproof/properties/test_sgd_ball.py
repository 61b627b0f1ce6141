"""The certified SGD ball theorem (docs/theory.md §3) on F(w) = X w: its expectation bound exactly, its ball by Markov.

``check(problem, method="sgd")`` certifies a step eta, a rate rho and a radius R_sgd. On a linear model mu and beta
hold on all of R^m, so E[L(w_t)] <= rho^t L(w0) must hold for the SGD iterates themselves, and with i.i.d. uniform
batches E[r_{t+1} r_{t+1}^T] is a linear map of E[r_t r_t^T] (below): the bound is checked exactly, in rationals.
That SGD leaves B(w0, R_sgd) with probability <= delta is checked on 200 seeded runs per example: the count of
runs that leave is below k*, the smallest k with P(Binomial(200, delta) >= k) <= 1e-9, so a false failure has
probability <= 1e-9 per example; the seeds are fixed by the derandomised profile, so the test is deterministic.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plproof import check
from plproof.numeric.arith import EXACT
from plproof.strategies import linear_problems

STEPS = 6
RUNS, RUN_STEPS = 200, 200
ALPHA = Fraction(1, 10**9)
CONFIDENCES = (0.5, 0.9, 0.99)
SMALL = linear_problems(min_n=2, max_n=4, max_m=6)


def certified(problem, batch, confidence):
    """The SGD ball evidence of ``problem`` (which must be certified: mu and beta hold globally for F = X w)."""
    ev = check(problem, method="sgd", batch_size=batch, confidence=confidence)
    assert ev.certified, ev.reason
    return ev


def expected_losses(problem, eta, batch, steps):
    """E[L(w_t)], t = 0..steps, exactly: with C = diag(counts of s i.i.d. uniform indices), r_{t+1} = (I - eta K C)
    r_t, K = X X^T, so M = E[r r^T] maps to M - eta s/n (K M + M K) + eta^2 K E[C M C] K, where
    E[C M C] = s(s-1)/n^2 M + s/n diag(M) (E c_i c_j = s(s-1)/n^2 + [i = j] s/n); E[L] = tr(M)/2."""
    n, s = problem.n, batch
    K = problem.kernel(arith=EXACT)
    r = problem.residual(problem.w0, EXACT)
    M = np.outer(r, r)
    out = [sum(np.diag(M)) / 2]
    for _ in range(steps):
        CMC = Fraction(s * (s - 1), n * n) * M + Fraction(s, n) * np.diag(np.diag(M))
        M = M - eta * Fraction(s, n) * (K @ M + M @ K) + eta * eta * (K @ CMC @ K)
        out.append(sum(np.diag(M)) / 2)
    return out


@pytest.mark.plproof(theory="§3", source="LZB SGD theorem (arXiv 2003.00307; constants re-derived in docs/theory.md §3)",
                     symbols="E[L(w_t)] <= rho^t L(w_0) for the certified eta and rho, E[L_t] exact for F = X w",
                     rigor="exact", precision={"arithmetic": "exact rationals"})
@given(problem=SMALL, data=st.data())
def test_certified_sgd_rate_bounds_the_exact_expected_loss(problem, data, pl_record):
    """For F(w) = X w, batches of s i.i.d. uniform indices and the step eta and rate rho that check(method="sgd")
    certifies, the exact expected loss satisfies E[L(w_t)] <= rho^t L(w_0) for t = 0..6 (rationals, no rounding)."""
    batch = data.draw(st.integers(1, problem.n), label="batch")
    ev = certified(problem, batch, data.draw(st.sampled_from(CONFIDENCES), label="confidence"))
    eta, rho = Fraction(ev.hints["step"]), Fraction(ev.quantities["rate"].hi)
    losses = expected_losses(problem, eta, batch, STEPS)
    L0 = losses[0]
    margin = min((rho**t * L0 - loss) / L0 for t, loss in enumerate(losses) if t) if L0 else Fraction(0)
    pl_record.margin(margin, example={"problem": problem, "batch": batch, "eta": float(eta), "rate": float(rho)})
    assert margin >= 0


def binomial_threshold(runs: int, p: Fraction, alpha: Fraction) -> int:
    """The smallest k with P(Binomial(runs, p) >= k) <= alpha, computed exactly."""
    tail = Fraction(0)
    for k in range(runs, -1, -1):
        tail += comb(runs, k) * p**k * (1 - p) ** (runs - k)
        if tail > alpha:
            return k + 1
    return 0


def farthest(problem, eta, batch, seed):
    """max_t ||w_t - w0|| over RUN_STEPS steps of RUNS independent SGD runs on F = X w (float64, vectorised over
    runs): each step draws ``batch`` indices i.i.d. uniformly per run and moves by -eta sum_{i in B} x_i r_i."""
    rng = np.random.default_rng(seed)
    X, y = problem.model.X, problem.y
    W = np.tile(problem.w0, (RUNS, 1))
    most = np.zeros(RUNS)
    for _ in range(RUN_STEPS):
        idx = rng.integers(0, problem.n, size=(RUNS, batch))
        counts = np.stack([np.bincount(row, minlength=problem.n) for row in idx])
        W = W - eta * (counts * (W @ X.T - y)) @ X
        most = np.maximum(most, np.linalg.norm(W - problem.w0, axis=1))
    return most


@pytest.mark.plproof(theory="§3", source="LZB SGD theorem (arXiv 2003.00307; constants re-derived in docs/theory.md §3)",
                     symbols="P(SGD leaves B(w0, R_sgd)) <= delta; test: #{k : max_t ||w_t^(k) - w0|| > R_sgd} < "
                             "k*(200, delta, 1e-9)",
                     rigor="sampled", precision={"arithmetic": "float64"})
@given(problem=SMALL, data=st.data(), seed=st.integers(0, 2**31))
def test_sgd_leaves_the_certified_ball_with_probability_at_most_delta(problem, data, seed, pl_record):
    """Of 200 seeded SGD runs (200 steps, the certified step, batches of s i.i.d. uniform indices), fewer than k*
    leave B(w0, R_sgd), k* the smallest k with P(Binomial(200, delta) >= k) <= 1e-9, delta = 1 - confidence."""
    batch = data.draw(st.integers(1, problem.n), label="batch")
    confidence = data.draw(st.sampled_from(CONFIDENCES), label="confidence")
    ev = certified(problem, batch, confidence)
    radius = ev.quantities["R_sgd"].hi
    left = int(np.sum(farthest(problem, ev.hints["step"], batch, seed) > radius))
    threshold = binomial_threshold(RUNS, 1 - Fraction(str(confidence)), ALPHA)
    pl_record.margin((threshold - 1 - left) / RUNS, example={"problem": problem, "batch": batch, "R_sgd": radius})
    pl_record.note("false_failure_probability_per_example", "1e-9")
    assert left < threshold
