"""Linear model F(w) = X w (docs/theory.md §7): constant Jacobian X and kernel X X^T."""

from __future__ import annotations

from typing import Any

import numpy as np

from plproof.models.base import Model, bound_sets, check_finite_matrix, closed_form_family
from plproof.numeric.arith import Arith

#: F linear in the trained parameters: DF constant, every Hessian 0 (docs/theory.md §7, docs/rigor.md §2.1)
CONSTANT_KERNEL_BOUNDS = bound_sets("plproof.theory.ball:ConstantKernelBounds")


@closed_form_family
class Linear(Model):
    """The linear model F(w) = X w, w in R^m, X in R^{n x m} (docs/theory.md §7).

    DF = X and K = X X^T are constant and every Hessian is 0, so the ball certificate has epsilon = 0 and
    mu = lambda_min(X X^T) on every ball; F, DF and K are exact in rational arithmetic on float data.
    These closed forms hold for Linear and for subclasses that change none of its formulas
    (plproof.models.base.closed_form_obstacle); a subclass that does is differentiated from its own F.

    Parameters
    ----------
    X : array_like, shape (n, m)
        The data matrix, one row per equation F_k(w) = x_k^T w; a 1-D array is one column. Finite
        numbers only. Rank n (so m >= n) is needed for lambda_min(K) > 0.
    """

    family = "linear"
    ball_bound_sets = CONSTANT_KERNEL_BOUNDS
    array_generic = True

    def __init__(self, X: Any) -> None:
        """Build F(w) = X w; see the class docstring for the parameter."""
        self.X = check_finite_matrix(X, "X")

    @property
    def n_outputs(self) -> int:
        return self.X.shape[0]

    @property
    def n_params(self) -> int:
        return self.X.shape[1]

    def _F(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        return ar.asarray(self.X) @ w

    def _jacobian(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        return ar.asarray(self.X)

    def describe(self) -> dict:
        return {**super().describe(), "X": self.X.tolist()}
