"""The gradient identity grad L = DF^T (F - y) against finite differences at 50 digits (docs/theory.md §0)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plproof import precision
from plproof.strategies import problems
from plproof.properties._helpers import DIGITS, MP50, point_near


@pytest.mark.plproof(theory="§0", source="docs/theory.md §0 (gradient as a column; seed erratum E4, §1.5)",
                     symbols="|(L(w+hu) - L(w-hu))/(2h) - (DF(w)^T r(w)) . u| <= 1e-24 (1 + ||g|| ||u||), h = 1e-15",
                     rigor="high-precision", precision=MP50)
@given(problem=problems(), seed=st.integers(0, 2**32 - 1), radius=st.floats(0, 2))
def test_gradient_matches_central_differences(problem, seed, radius, pl_record):
    """For every problem and point w, the directional derivative of L(w) = 1/2 ||F(w) - y||^2 along a
    unit vector u equals <DF(w)^T (F(w) - y), u>: the central difference with h = 1e-15 at 50 digits
    (truncation O(h^2) = 1e-30, rounding 1e-35) agrees to 1e-24 (1 + ||grad L|| ||u||)."""
    w = point_near(problem, seed, radius)
    u = np.random.default_rng([seed, 1]).standard_normal(problem.m)
    u /= np.linalg.norm(u)
    with precision(digits=DIGITS) as ar:
        h = mpmath.mpf("1e-15")
        wm, um = ar.asarray(w), ar.asarray(u)
        g = problem.gradient(wm, ar)
        directional = g @ um
        central = (problem.loss(wm + h * um, ar) - problem.loss(wm - h * um, ar)) / (2 * h)
        tol = mpmath.mpf("1e-24") * (1 + ar.norm(g))
        error = abs(central - directional)
    pl_record.margin(1 - error / tol, example={"problem": problem, "w": w, "u": u, "error": error})
    assert error <= tol
