"""Linear model F(w) = X w (docs/theory.md §7): constant Jacobian X and kernel X X^T."""

from __future__ import annotations

from typing import Any

import numpy as np

from plproof.models.base import Model, check_finite_matrix
from plproof.numeric.arith import Arith


class Linear(Model):
    """F(w) = X w with X in R^{n x m}; exact in rational arithmetic on rational data."""

    family = "linear"

    def __init__(self, X: Any) -> None:
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
