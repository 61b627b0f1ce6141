"""Numerics: precision contexts, enclosures, high-precision eigenvalues and the GD/SGD runners."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from plproof import Enclosure, InvalidInput, Linear, Problem, RigorLevel, gradient_descent, precision, sgd
from plproof.numeric import current, eigvalsh_hp, lambda_min_hp, weakest
from plproof.numeric.arith import FLOAT64


def test_precision_context_sets_and_restores():
    assert current() is FLOAT64
    with precision(digits=40) as ar:
        assert current() is ar and mpmath.mp.dps == 40
    assert current() is FLOAT64
    with pytest.raises(InvalidInput):
        with precision():
            pass
    with pytest.raises(InvalidInput, match="digits must be an integer"):
        with precision(digits=2):
            pass


def test_rigor_levels_compose_to_the_weakest():
    assert weakest([RigorLevel.EXACT, RigorLevel.VERIFIED, RigorLevel.SAMPLED]) is RigorLevel.SAMPLED
    assert RigorLevel.parse("high-precision") is RigorLevel.HIGH_PRECISION
    with pytest.raises(InvalidInput, match="unknown rigor level"):
        RigorLevel.parse("proved")


def test_enclosure_rejects_empty_and_nan_and_serialises_exactly():
    with pytest.raises(InvalidInput):
        Enclosure(2.0, 1.0, RigorLevel.VERIFIED)
    with pytest.raises(InvalidInput):
        Enclosure(float("nan"), 1.0, RigorLevel.VERIFIED)
    e = Enclosure(Fraction(1, 3), Fraction(1, 2), RigorLevel.EXACT)
    assert e.to_json() == {"lo": "1/3", "hi": "1/2", "rigor": "exact"}
    assert e.with_rigor("sampled").rigor is RigorLevel.SAMPLED
    assert e.with_rigor("exact").rigor is RigorLevel.EXACT


def test_lambda_min_hp_on_the_exact_example():
    """K = [[6, 1], [1, 3]] has eigenvalues (9 -+ sqrt 13)/2 (docs/theory.md §7)."""
    K = np.array([[6.0, 1.0], [1.0, 3.0]])
    with mpmath.mp.workdps(60):
        lo, hi = eigvalsh_hp(K, 60)
        assert abs(lo - (9 - mpmath.sqrt(13)) / 2) < mpmath.mpf("1e-55")
        assert abs(hi - (9 + mpmath.sqrt(13)) / 2) < mpmath.mpf("1e-55")
    assert lambda_min_hp(K).rigor is RigorLevel.HIGH_PRECISION


def test_gd_trajectory_records_loss_distance_and_lambda_min():
    problem = Problem(Linear(np.array([[1.0, 2, 0, 1], [0, 1, 1, -1]])), [1, 2])
    traj = gradient_descent(problem, 0.1, 30, lambda_min_every=10)
    assert traj.steps == 30 and len(traj.distances) == 31 and len(traj.lambda_mins) == 4
    assert traj.distances[0] == 0.0 and all(np.diff(traj.losses) <= 0)
    assert traj.lambda_mins[0] == pytest.approx((9 - 13**0.5) / 2)


def test_gd_with_too_large_step_diverges_on_a_quadratic():
    """eta > 2/beta: the residual recursion (I - eta K) has a factor > 1 (docs/theory.md §7)."""
    problem = Problem(Linear(np.array([[1.0, 2, 0, 1], [0, 1, 1, -1]])), [1, 2])
    beta = (9 + 13**0.5) / 2
    traj = gradient_descent(problem, 2.2 / beta, 200)
    assert traj.final_loss > 1e3 * traj.losses[0]


def test_sgd_single_index_batches_decrease_loss_on_average():
    problem = Problem(Linear(np.random.default_rng(0).standard_normal((5, 20))), np.ones(5))
    losses = [sgd(problem, 0.02, 300, batch=2, seed=s).final_loss for s in range(5)]
    assert max(losses) < problem.loss() * 1e-2


@pytest.mark.parametrize("step, steps", [(0.0, 3), (-1.0, 3), (float("nan"), 3), (0.1, -1), (0.1, 2.5)])
def test_runner_rejects_bad_arguments(step, steps):
    problem = Problem(Linear(np.eye(2)), [1.0, 1.0])
    with pytest.raises(InvalidInput):
        gradient_descent(problem, step, steps)
