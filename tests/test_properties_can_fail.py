"""The negative properties of properties/ can fail: inverted, their assertions are falsified by Hypothesis,
and their predicates are false on the positive side (docs/theory.md §1.5, §5, §7, §9)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from plproof.strategies import linear_problems, nonsmooth_problems, problems, underparameterized_problems
from plproof.properties._helpers import diverges, kernel_is_singular, top_component
from plproof.properties.test_conventions import FINDER, violates

QUICK = settings(max_examples=20, database=None, derandomize=True, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])
#: for the inverted properties: the first counterexample is enough, no shrinking
FIRST = settings(QUICK, phases=[Phase.explicit, Phase.generate])


def test_inverted_underparameterised_property_is_falsified():
    @FIRST
    @given(underparameterized_problems())
    def inverted(problem):
        assert not kernel_is_singular(problem)

    with pytest.raises(AssertionError):
        inverted()


@QUICK
@given(linear_problems(max_condition=1e4))
def test_kernel_singularity_predicate_is_false_for_overparameterised_problems(problem):
    assert not kernel_is_singular(problem)


def test_inverted_divergence_property_is_falsified():
    @FIRST
    @given(linear_problems(), st.floats(0.05, 1))
    def inverted(problem, s):
        beta, _ = top_component(problem)
        assert not diverges(problem, (2 + s) / beta)

    with pytest.raises(AssertionError):
        inverted()


@QUICK
@given(linear_problems(), st.floats(0.01, 0.99))
def test_gd_with_step_below_two_over_beta_does_not_diverge(problem, frac):
    beta, _ = top_component(problem)
    assert not diverges(problem, 2 * frac / beta)


def test_inverted_nonsmooth_refusal_is_falsified():
    @FIRST
    @given(nonsmooth_problems())
    def inverted(problem):
        assert problem.obstruction() is None

    with pytest.raises(AssertionError):
        inverted()


@QUICK
@given(problems())
def test_smooth_overparameterised_problems_are_not_refused(problem):
    assert problem.obstruction() is None


def test_no_counterexample_to_convention_a_with_mu_lambda_min():
    """The convention-B property is not vacuous: with mu = lambda_min (convention A) Hypothesis finds nothing."""
    with pytest.raises(NoSuchExample):
        find(problems(), lambda p: violates(p, 1), settings=settings(FINDER, max_examples=100))


def test_any_mu_above_lambda_min_is_caught():
    """A perturbed constant mu = (1 + 1e-6) lambda_min is already violated (n = 1: K = lambda_min exactly)."""
    assert find(problems(), lambda p: violates(p, 1 + 1e-6), settings=FINDER).n >= 1
