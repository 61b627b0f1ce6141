"""A quick, non-certifying look at a problem: lambda_min(K(w0)) at 50 digits, beta estimate, GD run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plproof.numeric.arith import precision
from plproof.numeric.linalg import eigvalsh_hp
from plproof.numeric.rigor import Enclosure, RigorLevel
from plproof.numeric.runners import Trajectory, gradient_descent
from plproof.problem import Problem


@dataclass
class ProblemSummary:
    """lambda0 = lambda_min(K(w0)) and beta_gn = lambda_max(K(w0)) at ``digits`` digits, and a GD run."""

    n: int
    m: int
    lambda0: Enclosure
    beta_estimate: Enclosure
    gd: Trajectory | None
    obstruction: str | None


def summarize(problem: Problem, digits: int = 50, steps: int = 500) -> ProblemSummary:
    """lambda_min and lambda_max of K(w0) at ``digits`` digits, then ``steps`` float64 GD steps with eta = 1/beta.

    beta here is the Gauss-Newton estimate lambda_max(K(w0)) = ||DF(w0)||^2 (docs/theory.md §0), a
    ``high-precision`` point value, not a bound over any ball.
    """
    with precision(digits=digits) as ar:
        evals = eigvalsh_hp(problem.kernel(problem.w0, ar), digits)
    # m < n: rank K <= m < n, so lambda_min(K) = 0 exactly (docs/theory.md §5)
    lam0 = (Enclosure.point(0.0, RigorLevel.EXACT) if problem.underparameterized
            else Enclosure.point(float(evals[0]), RigorLevel.HIGH_PRECISION))
    beta = Enclosure.point(float(evals[-1]), RigorLevel.HIGH_PRECISION)
    run = gradient_descent(problem, 1.0 / beta.hi, steps) if beta.hi > 0 and np.isfinite(beta.hi) else None
    return ProblemSummary(problem.n, problem.m, lam0, beta, run, problem.obstruction())
