"""A user-written property in the plproof style, over a user-defined model.

Run it (and get a certificate for it) with::

    pytest examples/my_property.py --plproof-certificates certificates/mine

The ``plproof`` marker names the docs/theory.md section and the statement in symbols; the docstring
is the claim; ``pl_record.margin`` keeps the smallest margin (and steers Hypothesis towards it).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plproof import Model, Problem, precision
from plproof.data import uniform_targets, unit_inputs
from plproof.numeric.arith import Arith
from plproof.numeric.linalg import eigvalsh_hp


class CubicFeatures(Model):
    """f(x; w) = x^T w + (x^T w)^3 / 3: a smooth model defined through the public Model protocol."""

    family = "cubic_features"

    def __init__(self, X: np.ndarray) -> None:
        self.X = np.asarray(X, dtype=float)

    @property
    def n_outputs(self) -> int:
        return self.X.shape[0]

    @property
    def n_params(self) -> int:
        return self.X.shape[1]

    def _F(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        z = ar.asarray(self.X) @ w
        return z + z * z * z / 3

    def _jacobian(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        X = ar.asarray(self.X)
        z = X @ w
        return (1 + z * z)[:, None] * X


@pytest.mark.plproof(theory="§1.3", symbols="1/2 ||grad L(w)||^2 >= lambda_min(K(w)) L(w)", rigor="high-precision",
                     precision={"arithmetic": "mpmath", "digits": 30}, source="my notes, section 2")
@given(n=st.integers(1, 4), extra=st.integers(0, 4), seed=st.integers(0, 10**6), scale=st.floats(0, 1))
def test_cubic_features_satisfy_pl_star_where_uniformly_conditioned(n, extra, seed, scale, pl_record):
    """For the cubic-features model on unit inputs and any w, 1/2 ||grad L(w)||^2 >= lambda_min(K(w)) L(w)
    at 30 digits (uniform conditioning => PL*, docs/theory.md §1.3)."""
    problem = Problem(CubicFeatures(unit_inputs(n, n + extra, seed)), uniform_targets(n, 1.0, seed))
    w = scale * np.random.default_rng(seed).standard_normal(problem.m)
    with precision(digits=30) as ar:
        g = problem.gradient(w, ar)
        loss = problem.loss(w, ar)
        lam = eigvalsh_hp(problem.kernel(w, ar), digits=30)
        margin = ((g @ g) / 2 - lam[0] * loss) / (lam[-1] * loss)
    pl_record.margin(margin, example={"problem": problem, "w": w})
    assert margin >= -1e-25
