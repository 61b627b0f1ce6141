"""The tangent kernel K = DF DF^T: symmetric, positive semi-definite, rank <= min(m, n) (docs/theory.md §0, §5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plproof import precision
from plproof.strategies import problems, underparameterized_problems
from plproof.properties._helpers import DIGITS, MP50, TOL50, point_near, spectrum


@pytest.mark.plproof(theory="§0, §5", source="docs/theory.md §0 (K = DF DF^T is PSD), §5 (rank K = rank DF)",
                     symbols="K = K^T, K = DF DF^T, lambda_min(K) >= 0, #{lambda > 1e-30 lambda_max} <= min(m, n)",
                     rigor="high-precision", precision=MP50)
@given(problem=st.one_of(problems(), underparameterized_problems()), seed=st.integers(0, 2**32 - 1),
       radius=st.floats(0, 2))
def test_kernel_is_symmetric_psd_with_rank_at_most_min_m_n(problem, seed, radius, pl_record):
    """At 50 digits and any point w: the model's kernel K(w) is exactly symmetric, equals DF(w) DF(w)^T
    to 1e-40 relative, has lambda_min(K) >= -1e-40 lambda_max(K), and at most min(m, n) of its
    eigenvalues exceed 1e-30 lambda_max(K); so for m < n at least n - m eigenvalues vanish."""
    w = point_near(problem, seed, radius)
    with precision(digits=DIGITS) as ar:
        K = problem.kernel(w, ar)
        J = problem.jacobian(w, ar)
        scale = max(abs(v) for v in K.ravel())
        gram_error = max(abs(v) for v in (K - J @ J.T).ravel())
        lam = spectrum(K)[0]
    assert (K == K.T).all()
    assert gram_error <= TOL50 * scale
    assert lam[0] >= -TOL50 * lam[-1]
    rank = sum(1 for v in lam if v > 1e-30 * lam[-1])
    pl_record.margin(lam[0] / lam[-1] + TOL50, example={"problem": problem, "w": w}, label="lambda_min/lambda_max")
    assert rank <= min(problem.m, problem.n)
