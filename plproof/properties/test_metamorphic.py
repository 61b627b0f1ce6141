"""Metamorphic twins: transformations that must leave lambda_min(K(w0)) and kappa = lambda_max/lambda_min fixed
(or scale them exactly), docs/theory.md §0, §9 pitfall 2."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plproof import MLP, Linear, Problem, RandomFeatures, TwoLayer, precision
from plproof.strategies import linear_problems, mlp_problems, problems, two_layer_problems
from plproof.properties._helpers import DIGITS, MP50, TOL50, Scaled, spectrum

SEEDS = st.integers(0, 2**32 - 1)


def with_inputs(model, X):
    """The same model (same family, activation, seed, so the same initial weights) on inputs X."""
    if isinstance(model, Linear):
        return Linear(X)
    if isinstance(model, RandomFeatures):
        return RandomFeatures(X, model.width, model.activation, seed=model.seed, init=model.init)
    if isinstance(model, TwoLayer):
        return TwoLayer(X, model.width, model.activation, seed=model.seed, train=model.train, init=model.init)
    return MLP(X, model.widths, model.activation, seed=model.seed, init=model.init)


def extremes(problem, w0=None):
    """(lambda_min, lambda_max) of K(w0) at 50 digits."""
    with precision(digits=DIGITS) as ar:
        lam = spectrum(problem.kernel(problem.w0 if w0 is None else w0, ar))[0]
        return lam[0], lam[-1]


@pytest.mark.plproof(theory="§0", source="K_{pi(i) pi(j)} = K_ij for permuted data (docs/theory.md §0)",
                     symbols="lambda_min(P K P^T) = lambda_min(K), kappa(P K P^T) = kappa(K)",
                     rigor="high-precision", precision=MP50)
@given(problem=problems(), seed=SEEDS)
def test_permuting_data_points_keeps_lambda_min_and_kappa(problem, seed, pl_record):
    """Permuting the data points (rows of X together with y) permutes K(w0) symmetrically, so lambda_min
    and lambda_max, hence kappa, are unchanged: equal to 1e-40 lambda_max at 50 digits."""
    perm = np.random.default_rng(seed).permutation(problem.n)
    twin = Problem(with_inputs(problem.model, problem.model.X[perm]), problem.y[perm], problem.w0)
    (lo, hi), (lo2, hi2) = extremes(problem), extremes(twin)
    with mpmath.mp.workdps(DIGITS):
        gap = max(abs(lo - lo2), abs(hi - hi2)) / hi
    pl_record.margin(TOL50 - gap, example={"problem": problem, "permutation": perm}, steer=False)
    assert gap <= TOL50


@pytest.mark.plproof(theory="§0, §9 pitfall 2", source="K(cF) = c^2 K(F) (docs/theory.md §0; scaling, §9 pitfall 2)",
                     symbols="lambda_min(K_{cF}) = c^2 lambda_min(K_F), kappa unchanged", rigor="high-precision",
                     precision=MP50)
@given(problem=problems(), c=st.floats(0.01, 100))
def test_scaling_y_and_f_together_scales_the_kernel_and_keeps_kappa(problem, c, pl_record):
    """Replacing F by c F and y by c y multiplies K by c^2: lambda_min scales by exactly c^2 and kappa and
    the verdict lambda_min > 0 are unchanged (50 digits, 1e-40 relative)."""
    twin = Problem(Scaled(problem.model, c), c * problem.y, problem.w0)
    (lo, hi), (lo2, hi2) = extremes(problem), extremes(twin)
    with mpmath.mp.workdps(DIGITS):
        c2 = mpmath.mpf(c) ** 2
        gap = max(abs(lo2 - c2 * lo), abs(hi2 - c2 * hi)) / (c2 * hi)
    pl_record.margin(TOL50 - gap, example={"problem": problem, "c": c}, steer=False)
    assert gap <= TOL50


def rotated(problem, Q):
    """The twin on inputs Q x_i, with every first-layer weight row rotated the same way (w_i -> Q w_i)."""
    model, X = problem.model, problem.model.X @ Q.T
    twin = with_inputs(model, X)
    if isinstance(model, Linear):
        return Problem(twin, problem.y, Q @ problem.w0)
    if isinstance(model, TwoLayer):
        W, v = model.split(problem.w0)
        return Problem(twin, problem.y, twin.join(W @ Q.T, v))
    mats, v = model.split(problem.w0)
    return Problem(twin, problem.y, np.concatenate([(mats[0] @ Q.T).ravel()] + [M.ravel() for M in mats[1:]] + [v]))


@pytest.mark.plproof(theory="§0, §8", source="K depends on inputs through inner products w_i^T x (docs/theory.md §8)",
                     symbols="x -> Q x, w_i -> Q w_i: ||K' - K||_F <= 1e-12 ||K||_F, |lambda_min' - lambda_min| <= ||K' - K||_F",
                     rigor="high-precision", precision=MP50)
@given(problem=st.one_of(linear_problems(), two_layer_problems(train=("both", "hidden")), mlp_problems()),
       seed=SEEDS)
def test_orthogonal_change_of_input_coordinates_keeps_the_kernel(problem, seed, pl_record):
    """An orthogonal Q (float64, from the QR of a Gaussian) applied to every input and to every first-layer
    weight row leaves K(w0) unchanged up to the float64 rounding of the rotated data: ||K' - K||_F <=
    1e-12 ||K||_F, and by Weyl's inequality lambda_min, lambda_max move by at most ||K' - K||_F, so kappa
    changes by at most the matching relative amount (all at 50 digits)."""
    d = problem.model.X.shape[1]
    Q = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))[0]
    twin = rotated(problem, Q)
    (lo, hi), (lo2, hi2) = extremes(problem), extremes(twin)
    with precision(digits=DIGITS) as ar:
        K, K2 = problem.kernel(arith=ar), twin.kernel(arith=ar)
        size = mpmath.sqrt(sum(v * v for v in K.ravel()))
        delta = mpmath.sqrt(sum(v * v for v in (K2 - K).ravel()))
        weyl = delta + TOL50 * hi
        pl_record.margin(1 - delta / (1e-12 * size), example={"problem": problem, "Q": Q})
        assert delta <= 1e-12 * size
        assert abs(lo2 - lo) <= weyl and abs(hi2 - hi) <= weyl
        if lo > 2 * weyl:
            assert abs(hi2 / lo2 - hi / lo) <= (hi / lo) * weyl * (1 / hi + 1 / lo) / (1 - weyl / lo)
