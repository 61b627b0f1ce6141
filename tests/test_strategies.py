"""plproof.strategies: valid problems of the requested kind, eager argument errors, small shrunk examples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis.errors import InvalidArgument

from plproof import InvalidInput, Problem
from plproof.strategies import (
    NONSMOOTH_ACTIVATIONS,
    SMOOTH_ACTIVATIONS,
    InvalidStrategyArgument,
    linear_problems,
    mlp_problems,
    nonsmooth_problems,
    problems,
    random_feature_problems,
    two_layer_problems,
    underparameterized_problems,
)

FIND = settings(database=None, derandomize=True, max_examples=200)


def condition(problem: Problem) -> float:
    lam = np.linalg.eigvalsh(problem.kernel())
    return lam[-1] / lam[0]


@given(linear_problems(min_n=2, max_n=4, min_m=3, max_m=7, max_condition=10.0))
def test_linear_problems_respect_sizes_and_condition_number(problem):
    assert isinstance(problem, Problem) and problem.model.family == "linear"
    assert 2 <= problem.n <= 4 and max(3, problem.n) <= problem.m <= 7
    assert condition(problem) <= 10.0 * (1 + 1e-9)
    assert problem.obstruction() is None


@given(random_feature_problems(max_n=5, max_width=9, activations=["sigmoid", "sin"]))
def test_random_feature_problems_are_overparameterised(problem):
    assert problem.model.family == "random_features" and problem.model.activation.name in ("sigmoid", "sin")
    assert problem.n <= problem.m == problem.model.width <= 9


@given(two_layer_problems(max_n=6, max_width=8, min_dim=3, max_dim=3, train="hidden", init="symmetric"))
def test_two_layer_problems_respect_train_mode_and_symmetric_init(problem):
    model = problem.model
    assert model.train == "hidden" and model.input_dim == 3 and model.width % 2 == 0
    assert problem.m == 3 * model.width >= problem.n
    np.testing.assert_allclose(model.F(problem.w0), 0.0, atol=1e-15)  # symmetric pairs cancel


@given(two_layer_problems(max_n=3, max_width=6, activations="tanh", max_condition=50.0))
def test_two_layer_condition_number_filter(problem):
    assert condition(problem) <= 50.0


@given(mlp_problems(min_depth=2, max_depth=3, max_width=3))
def test_mlp_problems_are_overparameterised(problem):
    assert 2 <= len(problem.model.widths) <= 3 and max(problem.model.widths) <= 3
    assert problem.m >= problem.n


@given(problems())
def test_problems_are_smooth_and_overparameterised(problem):
    assert problem.obstruction() is None
    assert problem.model.family in ("linear", "random_features", "two_layer", "mlp")


@given(underparameterized_problems())
def test_underparameterized_problems_have_fewer_parameters_than_equations(problem):
    assert problem.m < problem.n and problem.underparameterized
    assert "under-parameterised" in problem.obstruction()


@given(nonsmooth_problems())
def test_nonsmooth_problems_are_not_smooth(problem):
    assert problem.model.activation.name in NONSMOOTH_ACTIVATIONS and not problem.model.is_smooth
    assert problem.m >= problem.n


def test_a_fixed_seed_gives_reproducible_arrays():
    a = find(linear_problems(seeds=7, min_n=3), lambda p: p.m >= 5, settings=FIND)
    b = find(linear_problems(seeds=7, min_n=3), lambda p: p.m >= 5, settings=FIND)
    np.testing.assert_array_equal(a.model.X, b.model.X)
    np.testing.assert_array_equal(a.y, b.y)


@pytest.mark.parametrize("make", [
    lambda: linear_problems(min_n=0),
    lambda: linear_problems(min_n=4, max_n=3),
    lambda: linear_problems(max_m=2, min_n=3),
    lambda: linear_problems(max_condition=0.5),
    lambda: linear_problems(max_condition=float("inf")),
    lambda: linear_problems(seeds=-1),
    lambda: linear_problems(y_scale=0),
    lambda: random_feature_problems(activations="relu"),
    lambda: random_feature_problems(activations=[]),
    lambda: random_feature_problems(min_n=20, max_n=30, max_width=4),
    lambda: two_layer_problems(activations="swish"),
    lambda: two_layer_problems(train="all"),
    lambda: two_layer_problems(init="orthogonal"),
    lambda: mlp_problems(min_depth=3, max_depth=2),
    lambda: mlp_problems(min_width=1.5),
    lambda: problems(max_n=True),
    lambda: underparameterized_problems(min_n=1),
    lambda: underparameterized_problems(max_n=2, min_dim=3),
    lambda: nonsmooth_problems(activations="tanh"),
])
def test_invalid_arguments_raise_when_the_strategy_is_created(make):
    with pytest.raises(InvalidStrategyArgument) as info:
        make()
    assert isinstance(info.value, InvalidArgument) and isinstance(info.value, InvalidInput)
    assert str(info.value)


def test_shrinking_gives_the_smallest_readable_linear_problem():
    problem = find(linear_problems(), lambda p: p.n >= 2 and p.m >= 4, settings=FIND)
    assert (problem.n, problem.m) == (2, 4)
    np.testing.assert_array_equal(problem.model.X, np.eye(2, 4))  # unit singular values, no rotation


def test_shrinking_gives_small_networks_with_seed_zero():
    problem = find(two_layer_problems(), lambda p: p.n >= 3, settings=FIND)
    model = problem.model
    assert problem.n == 3 and model.input_dim == 2 and model.width == 1 and model.seed == 0
    assert model.activation.name == SMOOTH_ACTIVATIONS[0] and model.train == "both"
    deep = find(problems(), lambda p: p.model.family == "mlp", settings=FIND)
    assert deep.model.widths == [1, 1] and deep.n == 1 and deep.model.X.shape == (1, 2)


def test_shrinking_an_underparameterised_problem():
    problem = find(underparameterized_problems(), lambda p: p.model.family != "linear", settings=FIND)
    assert problem.model.width == 1 and problem.n == problem.m + 1
