"""Problem: loss, residual, gradient and kernel; under-parameterisation; bad input."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from plproof import InvalidInput, Linear, Problem, TwoLayer, gradient_descent, precision
from plproof.numeric.arith import EXACT

X_EXACT = np.array([[1, 2, 0, 1], [0, 1, 1, -1]], dtype=float)


def test_linear_kernel_is_exactly_x_xt_on_integer_data():
    X = np.random.default_rng(0).integers(-9, 10, size=(4, 7)).astype(float)
    problem = Problem(Linear(X), np.arange(4.0))
    K = problem.kernel(arith=EXACT)
    assert K.dtype == object and isinstance(K[0, 0], Fraction)
    assert (K == EXACT.asarray(X) @ EXACT.asarray(X).T).all()
    np.testing.assert_array_equal(problem.kernel(), X @ X.T)  # and float64 is exact on small integers


def test_gradient_is_jacobian_transpose_residual():
    problem = Problem(TwoLayer(np.random.default_rng(1).standard_normal((4, 3)), 5), [0.1, -0.2, 0.3, 0.0])
    w = problem.w0 + 0.1
    np.testing.assert_allclose(problem.gradient(w), problem.jacobian(w).T @ problem.residual(w), rtol=0, atol=1e-15)
    eps = 1e-6
    fd = [(problem.loss(w + eps * e) - problem.loss(w - eps * e)) / (2 * eps) for e in np.eye(problem.m)]
    np.testing.assert_allclose(problem.gradient(w), fd, atol=1e-8)


def test_linear_gd_follows_exact_residual_recursion_to_40_digits():
    """docs/theory.md §7: r_{t+1} = (I - eta K) r_t exactly for F(w) = X w."""
    problem = Problem(Linear(X_EXACT), [1, 2], [1, 0, -1, 2])
    eta, steps = 0.125, 60
    with precision(digits=60) as ar:
        traj = gradient_descent(problem, eta, steps)
        K = problem.kernel()
        r = problem.residual()
        for _ in range(steps):
            r = r - ar.asarray(eta) * (K @ r)
        predicted = (r @ r) / 2
        final = problem.loss(traj.w_final)
        assert abs(final - predicted) <= mpmath.mpf("1e-40") * max(abs(predicted), mpmath.mpf("1e-300"))
        # the limit: w_inf = (6, 10, 15, -9)/17 (docs/theory.md §7)
        long = gradient_descent(problem, 1 / 6.303, 400)
        target = ar.asarray(np.array([6, 10, 15, -9], dtype=float)) / 17
        assert max(abs(a - b) for a, b in zip(long.w_final, target)) < mpmath.mpf("1e-40")


def test_underparameterised_is_reported():
    problem = Problem(TwoLayer(np.random.default_rng(2).standard_normal((10, 3)), 1), np.zeros(10))
    assert problem.underparameterized and problem.m == 4 < problem.n == 10
    assert "under-parameterised" in problem.obstruction()
    assert Problem(TwoLayer(np.eye(3), 4, "relu"), np.zeros(3)).obstruction().startswith("non-smooth")
    assert Problem(TwoLayer(np.eye(3), 4), np.zeros(3)).obstruction() is None


@pytest.mark.parametrize("y, w0, message", [
    ([1.0, np.nan], None, "y has NaN or Inf"),
    ([1.0, np.inf], None, "y has NaN or Inf"),
    ([1.0, 2.0, 3.0], None, "y must have 2 entries"),
    ([1.0, 2.0], [0.0, 1.0], "w0 must have length 4"),
    ([1.0, 2.0], [0.0, np.nan, 0.0, 0.0], "w0 has NaN or Inf"),
])
def test_bad_problem_input(y, w0, message):
    with pytest.raises(InvalidInput, match=message):
        Problem(Linear(X_EXACT), y, w0)


def test_model_must_be_a_model():
    with pytest.raises(InvalidInput, match="must be a plproof Model"):
        Problem(lambda w: w, [1.0])
