"""The Model protocol: F: R^m -> R^n on fixed inputs, with a closed-form Jacobian.

docs/theory.md §0: F(w) in R^n, DF(w) in R^{n x m}, tangent kernel K = DF DF^T.
Subclasses implement ``_F`` and ``_jacobian`` once, generically in an array namespace
(plproof.numeric.arith); the public methods choose the namespace and set its precision.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from plproof.errors import InvalidInput
from plproof.numeric import arith as _arith
from plproof.numeric.arith import Arith


def check_finite_matrix(X: Any, name: str = "X") -> np.ndarray:
    """``X`` as a finite 2-D float64 array, or an InvalidInput saying what is wrong."""
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a numeric array, got {type(X).__name__}") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise InvalidInput(f"{name} must be a non-empty 2-D array (n points x d features), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise InvalidInput(f"{name} has NaN or Inf (first at row {bad[0]}, column {bad[1]}): clean or drop those rows")
    return arr


def check_positive_int(value: Any, name: str) -> int:
    """``value`` as an int >= 1, or an InvalidInput."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidInput(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


class Model(abc.ABC):
    """A smooth (or honestly non-smooth) map from m parameters to n outputs."""

    #: family name used in certificates and reports
    family: str = "model"

    @property
    @abc.abstractmethod
    def n_outputs(self) -> int:
        """n, the number of equations (data points)."""

    @property
    @abc.abstractmethod
    def n_params(self) -> int:
        """m, the number of trained parameters."""

    @property
    def is_smooth(self) -> bool:
        """True when F is C^2 with bounded second derivatives, so ball bounds can be proved."""
        return True

    @abc.abstractmethod
    def _F(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        """F(w) in namespace ``ar`` (w already converted)."""

    @abc.abstractmethod
    def _jacobian(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        """DF(w), n x m, in namespace ``ar``."""

    def _kernel(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        J = self._jacobian(w, ar)
        return J @ J.T

    def _vjp(self, w: np.ndarray, r: np.ndarray, ar: Arith) -> np.ndarray:
        return self._jacobian(w, ar).T @ r

    def default_w0(self) -> np.ndarray:
        """The family's initial parameters (its seeded initialisation; zeros if it has none)."""
        return np.zeros(self.n_params)

    def describe(self) -> dict:
        """Family, exact class and parameters, enough to rebuild the model (for certificates).

        The class is recorded so that a verifier rebuilds exactly this class: a user subclass that
        changes F inherits no closed form of its family.
        """
        cls = type(self)
        return {"family": self.family, "class": f"{cls.__module__}.{cls.__qualname__}",
                "n_outputs": self.n_outputs, "n_params": self.n_params}

    # public methods: one namespace chosen here, the maths in the subclass
    def _prepare(self, w: Any, arith: Arith | None) -> tuple[np.ndarray, Arith]:
        ar = arith or _arith.current()
        raw = w if isinstance(w, np.ndarray) else np.asarray(w)
        if raw.dtype.kind in "fc" and not np.isfinite(raw).all():
            raise InvalidInput("w has NaN or Inf entries: start from finite parameters")
        if raw.shape != (self.n_params,):
            raise InvalidInput(f"w must have length {self.n_params} (the number of parameters), got shape {raw.shape}")
        return ar.asarray(raw), ar

    def F(self, w: Any, arith: Arith | None = None) -> np.ndarray:
        """F(w) in R^n (docs/theory.md §0)."""
        w_arr, ar = self._prepare(w, arith)
        with ar.active():
            return self._F(w_arr, ar)

    def jacobian(self, w: Any, arith: Arith | None = None) -> np.ndarray:
        """DF(w) in R^{n x m} (docs/theory.md §0), closed form."""
        w_arr, ar = self._prepare(w, arith)
        with ar.active():
            return self._jacobian(w_arr, ar)

    def kernel(self, w: Any, arith: Arith | None = None) -> np.ndarray:
        """Tangent kernel K(w) = DF DF^T in R^{n x n} (docs/theory.md §0)."""
        w_arr, ar = self._prepare(w, arith)
        with ar.active():
            return self._kernel(w_arr, ar)

    def vjp(self, w: Any, r: Any, arith: Arith | None = None) -> np.ndarray:
        """DF(w)^T r, the gradient of the square loss when r = F(w) - y (docs/theory.md §0)."""
        w_arr, ar = self._prepare(w, arith)
        r_arr = ar.asarray(r)
        if r_arr.shape != (self.n_outputs,):
            raise InvalidInput(f"r must have length {self.n_outputs}, got shape {r_arr.shape}")
        with ar.active():
            return self._vjp(w_arr, r_arr, ar)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n_outputs}, m={self.n_params})"

