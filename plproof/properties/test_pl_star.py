"""The PL* inequality of the kernel route and its sharpness (docs/theory.md §0 Rayleigh identity, §1.3)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plproof import Problem, precision
from plproof.strategies import problems
from plproof.properties._helpers import DIGITS, MP50, TOL50, column, pl_terms, point_near, spectrum

SEEDS = st.integers(0, 2**32 - 1)


@pytest.mark.plproof(theory="§1.3", source="LZB (arXiv 2003.00307), uniform conditioning => PL*; docs/theory.md §1.3",
                     symbols="1/2 ||grad L(w)||^2 >= lambda_min(K(w)) L(w)", rigor="high-precision", precision=MP50)
@given(problem=problems(), seed=SEEDS, radius=st.floats(0, 2))
def test_pl_star_inequality_at_random_points(problem, seed, radius, pl_record):
    """At every point w, 1/2 ||grad L(w)||^2 >= lambda_min(K(w)) L(w) (convention A), checked at 50 digits
    to 1e-40 lambda_max(K(w)) L(w); the margin (lhs - rhs) / (lambda_max L) is recorded and Hypothesis
    is steered towards small margins."""
    w = point_near(problem, seed, radius)
    with precision(digits=DIGITS) as ar:
        half_g2, loss, lam = pl_terms(problem, ar.asarray(w), ar)
        margin = (half_g2 - lam[0] * loss) / (lam[-1] * loss) if loss > 0 else mpmath.mpf(0)
    pl_record.margin(margin, example={"problem": problem, "w": w})
    assert margin >= -TOL50


@pytest.mark.plproof(theory="§0", source="docs/theory.md §0, Rayleigh identity 1/2||grad L||^2 / L = r^T K r / r^T r",
                     symbols="r(w) = c v, K(w) v = lambda_min v  =>  1/2 ||grad L(w)||^2 = lambda_min(K(w)) L(w)",
                     rigor="high-precision", precision=MP50)
@given(problem=problems(), seed=SEEDS, radius=st.floats(0, 2), c=st.floats(0.1, 10))
def test_pl_star_equality_when_residual_is_a_lambda_min_eigenvector(problem, seed, radius, c, pl_record):
    """With targets y' = F(w) - c v, v a unit eigenvector of K(w) for lambda_min, the residual is c v
    and 1/2 ||grad L(w)||^2 = lambda_min(K(w)) L(w) to 1e-40 lambda_max L: lambda_min is the sharp
    PL* constant at w over all targets."""
    w = point_near(problem, seed, radius)
    with precision(digits=DIGITS) as ar:
        wm = ar.asarray(w)
        lam, vecs = spectrum(problem.kernel(wm, ar))
        targets = problem.model.F(wm, ar) - ar.asarray(c) * column(vecs, 0)
        twin = Problem(problem.model, targets, problem.w0)
        half_g2, loss, _ = pl_terms(twin, wm, ar)
        gap = abs(half_g2 - lam[0] * loss) / (lam[-1] * loss)
    pl_record.margin(TOL50 - gap, example={"problem": problem, "w": w, "c": c})
    assert gap <= TOL50
    assert np.isclose(float(loss), c * c / 2, rtol=1e-12)
