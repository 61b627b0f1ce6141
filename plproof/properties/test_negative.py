"""Negative properties: what must never be certified (docs/theory.md §5, §7, §9).

Each asserts a predicate of properties/_helpers.py; tests/test_properties_can_fail.py shows that the
inverted assertions fail and that the predicates are false on the positive side.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from plproof import check
from plproof.evidence import Verdict
from plproof.strategies import linear_problems, nonsmooth_problems, underparameterized_problems
from plproof.properties._helpers import MP50, diverges, gd_losses, kernel_singularity, kernel_is_singular, top_component

DIVERGENCE_STEPS = 500


@pytest.mark.plproof(theory="§5", source="docs/theory.md §5 (rank K = rank DF <= min(m, n)); LZB example (i)",
                     symbols="m < n  =>  lambda_min(K(w0)) = 0", rigor="high-precision", precision=MP50)
@given(problem=underparameterized_problems())
def test_underparameterised_kernel_is_singular(problem, pl_record):
    """If m < n then lambda_min(K(w)) = 0: at 50 digits |lambda_min(K(w0))| <= 1e-40 lambda_max(K(w0)),
    so uniform conditioning, and with it the kernel route to PL*, fails for every under-parameterised problem."""
    pl_record.margin(-abs(kernel_singularity(problem)), example=problem, label="-|lambda_min/lambda_max|")
    assert kernel_is_singular(problem)


@pytest.mark.plproof(theory="§7, §9 pitfall 6", source="docs/theory.md §7 (r_t = (I - eta K)^t r_0, rho < 1 iff eta < 2/beta)",
                     symbols="eta > 2/beta  =>  L(w_t) >= 1/2 c^2 (eta beta - 1)^{2t} -> infinity",
                     rigor="sampled", precision={"arithmetic": "float64"})
@given(problem=linear_problems(), s=st.floats(0.05, 1))
def test_step_above_two_over_beta_diverges_on_a_quadratic(problem, s, pl_record):
    """GD on F(w) = X w with eta = (2 + s)/beta, s in [0.05, 1]: with c the component of r(w0) on the top
    eigenvector of K, L(w_t) >= 1/2 c^2 (eta beta - 1)^{2t} (up to 1e-9 relative) with eta beta - 1 > 1,
    and the loss exceeds 10^6 L(w0) within 500 steps (whenever c^2 >= 1e-12 L(w0), i.e. almost surely)."""
    beta, c2 = top_component(problem)
    loss0 = problem.loss()
    assume(c2 >= 1e-12 * loss0)
    eta = (2 + s) / beta
    losses = gd_losses(problem, eta, DIVERGENCE_STEPS, 1e6 * loss0)
    floor = [c2 / 2 * (eta * beta - 1) ** (2 * t) for t in range(len(losses))]
    pl_record.margin(min((loss - f * (1 - 1e-9)) / loss for loss, f in zip(losses, floor) if loss),
                     example={"problem": problem, "eta": eta}, steer=False)
    assert all(loss >= f * (1 - 1e-9) for loss, f in zip(losses, floor))
    assert diverges(problem, eta, DIVERGENCE_STEPS)


@pytest.mark.plproof(theory="§9 pitfall 10", source="docs/theory.md §9 pitfall 10 (ReLU, leaky ReLU, abs)",
                     symbols="sigma not C^2 (hidden layer trained)  =>  not certifiable", rigor="exact",
                     precision={"arithmetic": "none"})
@given(problem=nonsmooth_problems())
def test_nonsmooth_activations_are_refused(problem):
    """A network whose trained hidden layer uses ReLU, leaky ReLU or abs has a Jacobian that is not
    Lipschitz, so the Hessian bounds of docs/theory.md §4.1 do not apply: the problem reports an
    obstruction naming non-smoothness, and nothing may certify it."""
    reason = problem.obstruction()
    assert reason is not None and "non-smooth" in reason
    evidence = check(problem, "sampled", confirm=False)
    assert evidence.verdict is Verdict.NOT_CERTIFIABLE and "non-smooth" in evidence.reason
