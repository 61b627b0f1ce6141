"""Mixing conventions: convention B's mu = 2 lambda_min violates the convention-A PL* inequality (docs/theory.md §1.4-1.5)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, find, settings

from plproof import precision
from plproof.strategies import problems
from plproof.properties._helpers import DIGITS, MP50, TOL50, pl_terms

FINDER = settings(max_examples=200, derandomize=True, database=None, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])


def convention_a_slack(problem, mu_factor):
    """(1/2 ||grad L(w0)||^2 - mu_factor lambda_min(K(w0)) L(w0)) / (lambda_max L(w0)) at 50 digits."""
    with precision(digits=DIGITS) as ar:
        half_g2, loss, lam = pl_terms(problem, problem.w0, ar)
        return (half_g2 - mu_factor * lam[0] * loss) / (lam[-1] * loss)


def violates(problem, mu_factor):
    """The convention-A inequality with mu = mu_factor lambda_min fails at w0 by more than 1e-40."""
    return convention_a_slack(problem, mu_factor) < -TOL50


@pytest.mark.plproof(theory="§1.5 E1", source="seed-notes erratum E1; docs/theory.md §1.4 convention table",
                     symbols="exists problem, w: 1/2 ||grad L(w)||^2 < 2 lambda_min(K(w)) L(w)",
                     rigor="high-precision", precision=MP50)
def test_hypothesis_finds_that_convention_b_mu_violates_convention_a(pl_record):
    """Hypothesis finds a problem where mu = 2 lambda_min(K) (convention B's constant) breaks
    1/2 ||grad L||^2 >= mu L (convention A) at w0 by more than 1e-40 lambda_max L: mixing the rows of
    the convention table is unsound. The shrunk counterexample is recorded (erratum E1: n = 1)."""
    counterexample = find(problems(), lambda p: violates(p, 2), settings=FINDER)
    slack = convention_a_slack(counterexample, 2)
    pl_record.margin(-slack, example=counterexample, label="violation", steer=False)
    pl_record.note("counterexample_n", counterexample.n)
    assert slack < -TOL50
