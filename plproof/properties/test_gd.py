"""GD on problems where mu and beta are known: the rate and the ball of docs/theory.md §2.1, §2.4-2.5.

Linear least squares (docs/theory.md §7): mu = lambda_min(X X^T) and beta = lambda_max(X X^T) hold
globally, so the theorem's hypotheses hold on every ball and GD can be checked against its conclusions.
GD runs at 50 digits; losses and distances are recorded as floats, hence the relative slack 1e-12.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plproof import gradient_descent
from plproof.numeric.arith import MPArith
from plproof.strategies import linear_problems
from plproof.properties._helpers import DIGITS, MP50, spectrum

STEPS = 25
SLACK = 1e-12


def run(problem, step_factor):
    """GD at 50 digits with the float step eta <= step_factor / beta; returns (traj, mu, beta, eta)."""
    with mpmath.mp.workdps(DIGITS):
        lam = spectrum(problem.kernel(arith=MPArith(DIGITS)))[0]
        mu, beta = lam[0], lam[-1]
        eta = float(step_factor / beta)
        if eta * beta > step_factor:
            eta = float(np.nextafter(eta, 0))
        traj = gradient_descent(problem, eta, STEPS, arith=MPArith(DIGITS))
        return traj, mu, beta, mpmath.mpf(eta)


def radius_fl(loss0, mu, beta, eta):
    """R_fl = 2 sqrt(2 L0 / mu) / (2 - beta eta) (docs/theory.md §2.5)."""
    return 2 * mpmath.sqrt(2 * loss0 / mu) / (2 - beta * eta)


@pytest.mark.plproof(theory="§2.1, §2.5", source="LZB arXiv 2003.00307v1 GD theorem (eta = 1/beta); R_fl of docs/theory.md §2.5",
                     symbols="L(w_t) <= (1 - mu/beta)^t L(w_0), ||w_t - w_0|| <= R_fl = 2 sqrt(2 L0/mu)",
                     rigor="high-precision", precision=MP50)
@given(problem=linear_problems(max_n=5, max_m=10))
def test_gd_with_step_one_over_beta_has_rate_and_stays_in_the_ball(problem, pl_record):
    """GD with eta = 1/beta (rounded down to a float) on a problem that is beta-smooth and mu-PL*:
    L(w_t) <= (1 - mu/beta)^t L(w_0) and ||w_t - w_0|| <= R_fl = 2 sqrt(2 L0 / mu) for t = 0..25
    (up to a relative slack of 1e-12 and 1e-30 L0 for float rounding of the recorded values)."""
    traj, mu, beta, eta = run(problem, 1)
    with mpmath.mp.workdps(DIGITS):
        loss0 = mpmath.mpf(traj.losses[0])
        radius = radius_fl(loss0, mu, beta, eta)
        slack = [((1 - mu / beta) ** t * loss0 * (1 + SLACK) + 1e-30 * loss0 - loss) / loss0
                 for t, loss in enumerate(traj.losses)] if loss0 else [mpmath.mpf(0)]
        margin = min(slack)
        ball = max(traj.distances) / radius if loss0 else 0
    pl_record.margin(margin, example={"problem": problem, "eta": eta, "mu": mu, "beta": beta})
    assert margin >= 0
    assert ball <= 1 + SLACK


@pytest.mark.plproof(theory="§2.4, §2.5", source="docs/theory.md §2.4 (a) and §2.5 (R_fl), derived there",
                     symbols="eta in (1/beta, 2/beta): L_{t+1} <= (1 - eta mu (2 - beta eta)) L_t, "
                             "||w_t - w_0|| <= 2 sqrt(2 L0/mu) / (2 - beta eta)",
                     rigor="high-precision", precision=MP50)
@given(problem=linear_problems(max_n=5, max_m=10), s=st.floats(0.001, 0.999))
def test_gd_with_long_steps_has_rate_eta_mu_two_minus_beta_eta(problem, s, pl_record):
    """GD with eta = (1 + s)/beta, s in (0, 1): every step satisfies L_{t+1} <= (1 - eta mu (2 - beta eta)) L_t
    and every iterate stays in B(w0, R_fl(eta)), R_fl(eta) = 2 sqrt(2 L0/mu) / (2 - beta eta), t = 0..25
    (relative slack 1e-12, absolute 1e-30 L0)."""
    traj, mu, beta, eta = run(problem, 1 + s)
    with mpmath.mp.workdps(DIGITS):
        loss0 = mpmath.mpf(traj.losses[0])
        factor = 1 - eta * mu * (2 - beta * eta)
        margin = min(((factor * prev * (1 + SLACK) + 1e-30 * loss0 - nxt) / loss0
                      for prev, nxt in zip(traj.losses, traj.losses[1:])), default=0) if loss0 else 0
        ball = max(traj.distances) / radius_fl(loss0, mu, beta, eta) if loss0 else 0
    pl_record.margin(margin, example={"problem": problem, "eta": eta, "mu": mu, "beta": beta})
    assert margin >= 0
    assert ball <= 1 + SLACK
