"""SGD's expected-loss bound (docs/theory.md §3), tested statistically and deterministically.

Statistical design (stated in the certificate): for one problem, N = 64 independent SGD runs (seeds
base..base+63) give L_T^(k) >= 0. If the theorem holds, E[L_T] <= B_T, so by Markov each run has
P(L_T > 2 B_T) <= 1/2 and the count of such runs is stochastically below Binomial(N, 1/2). The property
asserts count < k*, the smallest k with P(Binomial(N, 1/2) >= k) <= 1e-9: if the bound is true, a
false failure has probability <= 1e-9 per example (<= 1e-6 for a 1000-example run). The seeds are
fixed by the derandomised profile, so the test is deterministic: never flaky.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plproof import sgd
from plproof.strategies import linear_problems

RUNS, STEPS, MARKOV_FACTOR = 64, 20, 2
ALPHA = Fraction(1, 10**9)


def binomial_threshold(runs, alpha):
    """The smallest k with P(Binomial(runs, 1/2) >= k) <= alpha, computed exactly."""
    tail = Fraction(0)
    for k in range(runs, -1, -1):
        tail += Fraction(comb(runs, k), 2**runs)
        if tail > alpha:
            return k + 1
    return 0


THRESHOLD = binomial_threshold(RUNS, ALPHA)


def sgd_constants(problem, batch):
    """(mu, beta, eta*, rate) of docs/theory.md §3 for F(w) = X w: beta = max_i ||x_i||^2, mu = lambda_min(X X^T)."""
    X = problem.model.X
    n = problem.n
    mu = float(np.linalg.eigvalsh(X @ X.T)[0])
    beta = float(np.max(np.sum(X * X, axis=1)))
    eta = mu / (beta * (n * beta + mu * (batch - 1)))
    return mu, beta, eta, 1 - mu * batch * eta / n


@pytest.mark.plproof(theory="§3", source="LZB SGD theorem (arXiv 2003.00307; constants re-derived in docs/theory.md §3)",
                     symbols="E[L(w_T)] <= (1 - mu s eta*/n)^T L(w_0), eta* = mu / (beta (n beta + mu (s - 1))); "
                             "test: #{k : L_T^(k) > 2 B_T} < k*(64, 1e-9)",
                     rigor="sampled", precision={"arithmetic": "float64"})
@given(problem=linear_problems(min_n=2, max_n=5, max_m=8), data=st.data(), base=st.integers(0, 2**31))
def test_sgd_expected_loss_bound(problem, data, base, pl_record):
    """SGD on the sum loss with batches of s indices drawn i.i.d. uniformly and step eta* satisfies
    E[L(w_T)] <= B_T = (1 - mu s eta*/n)^T L(w_0) (T = 20): fewer than k* of 64 independent runs end above
    2 B_T, k* chosen so that a false failure has probability <= 1e-9 (Markov + exact binomial tail)."""
    batch = data.draw(st.integers(1, problem.n), label="batch")
    mu, beta, eta, rate = sgd_constants(problem, batch)
    bound = rate**STEPS * problem.loss()
    finals = np.array([sgd(problem, eta, STEPS, batch=batch, seed=base + k).final_loss for k in range(RUNS)])
    above = int(np.sum(finals > MARKOV_FACTOR * bound))
    pl_record.margin((THRESHOLD - 1 - above) / RUNS, example={"problem": problem, "batch": batch, "eta": eta,
                                                             "bound": bound, "mean_final": float(finals.mean())})
    pl_record.note("false_failure_probability_per_example", "1e-9")
    pl_record.note("threshold", THRESHOLD)
    assert above < THRESHOLD
