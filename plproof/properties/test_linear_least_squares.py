"""Linear least squares F(w) = X w in exact rational arithmetic (docs/theory.md §7).

The float64 entries of X, y, w0 are exact dyadic rationals, so every identity below is checked with
no rounding at all (Fractions; sympy for the solve and the null space).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from plproof.numeric.arith import EXACT
from plproof.numeric.verified import lambda_min_enclosure_exact
from plproof.strategies import linear_problems
from plproof.properties._helpers import column, point_near, spectrum

EXACT_PRECISION = {"arithmetic": "exact rationals"}
SMALL = linear_problems(max_n=4, max_m=6)
STEPS = 4


def dyadic_step(problem):
    """eta = 2^-k <= 1/beta with beta = lambda_max(X X^T): exact, and inside the stable range."""
    beta = float(np.linalg.eigvalsh(problem.kernel())[-1])
    return Fraction(2) ** -math.ceil(math.log2(beta))


def exact_iterates(problem, eta, steps):
    """w_0..w_T of GD with step eta, in Fractions, through the library's exact gradient."""
    w = EXACT.asarray(problem.w0)
    out = [w]
    for _ in range(steps):
        w = w - eta * problem.gradient(w, EXACT)
        out.append(w)
    return out


def rational_matrix(a):
    return sympy.Matrix(np.asarray(a, dtype=object).tolist()).applyfunc(sympy.Rational)


@pytest.mark.plproof(theory="§7", source="docs/theory.md §7 (exact recursion)", rigor="exact", precision=EXACT_PRECISION,
                     symbols="r_t = (I - eta K)^t r_0 and L_t = 1/2 r_0^T (I - eta K)^{2t} r_0, exactly")
@given(problem=SMALL)
def test_gd_follows_the_exact_residual_recursion(problem):
    """For F(w) = X w and a dyadic step eta <= 1/beta, the GD iterates of the library satisfy
    r_t = (I - eta K) r_{t-1} with K = X X^T, hence L_t = 1/2 r_0^T (I - eta K)^{2t} r_0, with equality in
    exact rational arithmetic for t = 1..4."""
    eta = dyadic_step(problem)
    K = problem.kernel(arith=EXACT)
    step = np.identity(problem.n, dtype=object) - eta * K
    iterates = exact_iterates(problem, eta, STEPS)
    r0 = problem.residual(iterates[0], EXACT)
    r = r0
    for w in iterates[1:]:
        r = step @ r
        assert (problem.residual(w, EXACT) == r).all()
    assert problem.loss(iterates[-1], EXACT) == (r0 @ np.linalg.matrix_power(step, 2 * STEPS) @ r0) / 2


@pytest.mark.plproof(theory="§7", source="docs/theory.md §7 (limit point)", rigor="exact", precision=EXACT_PRECISION,
                     symbols="w_inf = w0 + X^T (X X^T)^{-1} (y - X w0): X w_inf = y, w_inf - w0 orthogonal to ker X, "
                             "w_t - w_inf = (I - eta X^T X)^t (w0 - w_inf), rho < 1")
@given(problem=SMALL)
def test_gd_limit_is_the_projection_of_w0_onto_the_solution_set(problem):
    """With w_inf = w0 + X^T (X X^T)^{-1} (y - X w0): X w_inf = y, w_inf - w0 is orthogonal to ker X (so
    w_inf is the solution nearest to w0), and GD with eta = 2^-k <= 1/beta has error
    w_t - w_inf = (I - eta X^T X)^t (w0 - w_inf) exactly, whose factor has spectral radius
    max(|1 - eta mu|, |1 - eta beta|) < 1 because X X^T is non-singular (exact determinant): GD converges to w_inf."""
    X, y, w0 = rational_matrix(problem.model.X), rational_matrix(problem.y), rational_matrix(problem.w0)
    K = X * X.T
    assert K.det() != 0
    w_inf = w0 + X.T * K.LUsolve(y - X * w0)
    assert X * w_inf == y
    for v in X.nullspace():
        assert (v.T * (w_inf - w0))[0] == 0
    eta = dyadic_step(problem)
    contraction = sympy.eye(problem.m) - sympy.Rational(eta.numerator, eta.denominator) * X.T * X
    for t, w in enumerate(exact_iterates(problem, eta, STEPS)):
        assert rational_matrix(w) - w_inf == contraction**t * (w0 - w_inf)


@pytest.mark.plproof(theory="§7", source="docs/theory.md §7 (constants)", rigor="exact", precision=EXACT_PRECISION,
                     symbols="mu = lambda_min(X X^T) is the sharp global PL* constant, beta = lambda_max(X X^T) = "
                             "||X||_2^2 the sharp smoothness constant; rational enclosures of relative width 1e-30")
@given(problem=SMALL, seed=st.integers(0, 2**32 - 1), radius=st.floats(0, 2))
def test_mu_and_beta_are_the_exact_constants(problem, seed, radius, pl_record):
    """With rational enclosures mu in [mu_lo, mu_hi] of lambda_min(X X^T) and beta in [beta_lo, beta_hi] of
    lambda_max (exact bisection, relative width 1e-30): at any rational w, 1/2 ||g||^2 >= mu_lo L(w) and the
    descent identity L(w - g) = L(w) - ||g||^2 + 1/2 g^T X^T X g holds with g^T X^T X g <= beta_hi ||g||^2,
    exactly; and both are sharp: rational approximations v, u of the extreme eigenvectors have Rayleigh
    quotients v^T K v / v^T v <= mu_hi + 1e-25 beta and u^T X^T X u / u^T u >= beta_lo - 1e-25 beta."""
    K = problem.kernel(arith=EXACT)
    mu = lambda_min_enclosure_exact(K, rtol=1e-30)
    neg = lambda_min_enclosure_exact(-K, rtol=1e-30)
    beta_lo, beta_hi = -neg.hi, -neg.lo
    w = EXACT.asarray(point_near(problem, seed, radius))
    g = problem.gradient(w, EXACT)
    loss = problem.loss(w, EXACT)
    assert (g @ g) / 2 >= mu.lo * loss
    X = EXACT.asarray(problem.model.X)
    Hg = X.T @ (X @ g)
    assert problem.loss(w - g, EXACT) == loss - g @ g + (g @ Hg) / 2
    assert g @ Hg <= beta_hi * (g @ g)
    _, vecs = spectrum(K)
    v = np.array([Fraction(str(x)) for x in column(vecs, 0)], dtype=object)
    u = X.T @ np.array([Fraction(str(x)) for x in column(vecs, problem.n - 1)], dtype=object)
    slack = Fraction(1, 10**25) * beta_hi
    rayleigh_v = (v @ K @ v) / (v @ v)
    rayleigh_u = (u @ X.T @ (X @ u)) / (u @ u)
    pl_record.margin(float(((g @ g) / 2 - mu.lo * loss) / (beta_hi * loss)) if loss else 0.0,
                     example={"problem": problem, "w": w, "mu": [mu.lo, mu.hi], "beta": [beta_lo, beta_hi]},
                     label="PL* slack / (beta L)")
    assert rayleigh_v <= mu.hi + slack
    assert rayleigh_u >= beta_lo - slack
