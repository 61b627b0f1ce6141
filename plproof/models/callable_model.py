"""A model given as a Python function of w (docs/theory.md §0): F(w) = fn(w).

The Jacobian is the user's, else complex-step differentiation when fn is analytic in complex input
(tested once, against central differences), else central differences. Claims about a whole ball are
at most ``sampled`` (docs/theory.md §10). High precision needs an fn that works on mpmath object
arrays; exact arithmetic needs a rational fn and an exact ``jacobian``.
"""

from __future__ import annotations

import warnings
from fractions import Fraction
from typing import Any, Callable

import mpmath
import numpy as np

from plproof.errors import InvalidInput, NotCertifiable
from plproof.models.ball import SampledBall
from plproof.models.base import Model, check_positive_int
from plproof.numeric.arith import Arith, MPArith

_CS_STEP = 1e-20
_FD_SCALE = np.finfo(float).eps ** (1 / 3)  # central differences: truncation h^2 balances rounding eps/h


class CallableModel(SampledBall, Model):
    """F(w) = fn(w) for a NumPy function fn: R^m -> R^n, with an optional ``jacobian(w) -> (n, m)``; ball bounds sampled."""

    family = "callable"

    def __init__(self, fn: Callable[[np.ndarray], Any], n_params: int, *,
                 jacobian: Callable[[np.ndarray], Any] | None = None, w0: Any = None,
                 n_outputs: int | None = None) -> None:
        if not callable(fn) or (jacobian is not None and not callable(jacobian)):
            raise InvalidInput("fn (and jacobian, if given) must be functions of the parameter vector w")
        self.fn = fn
        self.user_jacobian = jacobian
        self._m = check_positive_int(n_params, "n_params")
        self._w0 = np.zeros(self._m) if w0 is None else np.asarray(w0, dtype=np.float64)
        if self._w0.shape != (self._m,) or not np.isfinite(self._w0).all():
            raise InvalidInput(f"w0 must be {self._m} finite numbers (one per parameter), got shape {self._w0.shape}")
        first = self._call_fn(self._w0)
        shape = np.shape(first)
        if n_outputs is None and (len(shape) != 1 or shape[0] == 0):
            raise InvalidInput(f"fn must return a 1-D array (one value per data point), got shape {shape}")
        self._n = shape[0] if n_outputs is None else check_positive_int(n_outputs, "n_outputs")
        self._check_output(first)
        self._method: str | None = "user" if jacobian is not None else None

    @property
    def n_outputs(self) -> int:
        return self._n

    @property
    def n_params(self) -> int:
        return self._m

    def default_w0(self) -> np.ndarray:
        return self._w0.copy()

    @property
    def jacobian_method(self) -> str:
        """"user", "complex-step" or "central-difference" (decided on the first Jacobian)."""
        if self._method is None:
            self._method = "complex-step" if self._complex_step_works(self._w0) else "central-difference"
        return self._method

    # ------------------------------------------------------------------ float64
    def _call_fn(self, w: np.ndarray) -> Any:
        try:
            return self.fn(w)
        except Exception as exc:  # the user's code: report it as bad input, keep the cause
            raise InvalidInput(f"fn raised {type(exc).__name__}: {exc}".splitlines()[0]) from exc

    def _float_F(self, w: np.ndarray) -> np.ndarray:
        """fn(w) as a finite float64 vector of length n, or an InvalidInput."""
        return self._check_output(self._call_fn(w))

    def _check_output(self, value: Any) -> np.ndarray:
        try:
            out = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidInput("fn must return real numbers (a float array of length n)") from None
        if out.shape != (self._n,):
            raise InvalidInput(f"fn must return an array of shape ({self._n},), one value per data point; got {out.shape}")
        if not np.isfinite(out).all():
            raise InvalidInput(f"fn returned NaN or Inf (first at output {int(np.argmax(~np.isfinite(out)))}): "
                               "fix fn or start from another w0")
        return out

    def _complex_F(self, w: np.ndarray) -> np.ndarray | None:
        """fn at complex w, or None when fn does not keep complex values."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                out = np.asarray(self.fn(w))
        except Exception:  # noqa: BLE001 - any failure means complex step is unavailable
            return None
        return out if out.dtype.kind == "c" and out.shape == (self._n,) and np.isfinite(out).all() else None

    def _complex_step_works(self, w: np.ndarray) -> bool:
        """Complex step agrees with central differences along a fixed random direction (fn analytic there)."""
        u = np.random.default_rng(0).standard_normal(self._m)
        u /= np.linalg.norm(u)
        out = self._complex_F(w + 1j * _CS_STEP * u)
        if out is None:
            return False
        h = 1e-5 * max(1.0, float(np.linalg.norm(w)))
        fd = (self._float_F(w + h * u) - self._float_F(w - h * u)) / (2 * h)
        cs = out.imag / _CS_STEP
        return bool(np.all(np.abs(cs - fd) <= 1e-5 * (1 + np.abs(fd))))

    def _float_jacobian(self, w: np.ndarray) -> np.ndarray:
        method = self.jacobian_method
        if method == "user":
            J = self._check_jacobian(np.asarray(self._call_user_jacobian(w), dtype=np.float64))
        elif method == "complex-step":
            cols = [self._complex_F(w + 1j * _CS_STEP * e) for e in np.eye(self._m)]
            if any(c is None for c in cols):
                raise InvalidInput("fn stopped accepting complex input: pass jacobian= explicitly")
            J = np.stack([c.imag / _CS_STEP for c in cols], axis=1)
        else:
            h = _FD_SCALE * np.maximum(1.0, np.abs(w))
            J = np.stack([(self._float_F(w + hj * e) - self._float_F(w - hj * e)) / (2 * hj)
                          for hj, e in zip(h, np.eye(self._m))], axis=1)
        return self._check_jacobian(J)

    def _call_user_jacobian(self, w: np.ndarray) -> Any:
        try:
            return self.user_jacobian(w)  # type: ignore[misc]
        except Exception as exc:  # the user's code
            raise InvalidInput(f"jacobian raised {type(exc).__name__}: {exc}".splitlines()[0]) from exc

    def _check_jacobian(self, J: np.ndarray) -> np.ndarray:
        if J.shape != (self._n, self._m):
            raise InvalidInput(f"the Jacobian must have shape ({self._n}, {self._m}) (outputs x parameters), got {J.shape}")
        if J.dtype.kind == "f" and not np.isfinite(J).all():
            raise InvalidInput("the Jacobian has NaN or Inf: fix jacobian/fn or start from another w0")
        return J

    # ------------------------------------------------------------------ namespaces
    def _object_call(self, f: Callable[[np.ndarray], Any], w: np.ndarray, ar: Arith, shape: tuple[int, ...],
                     what: str) -> np.ndarray:
        """f on an object array of mpf/Fraction entries; the result must keep that number type."""
        kind = Fraction if ar.exact else mpmath.mpf
        hint = ("exact arithmetic needs a rational fn and jacobian= working on Fraction arrays" if ar.exact else
                "high precision needs an mpmath-capable fn (mpmath functions, e.g. np.frompyfunc(mpmath.tanh, 1, 1))")
        try:
            out = np.asarray(f(w), dtype=object)
        except Exception as exc:  # the user's code
            raise InvalidInput(f"{what} failed on {kind.__name__} input ({type(exc).__name__}): {hint}") from exc
        if out.shape != shape or not all(isinstance(v, (kind, int)) for v in out.ravel()):
            raise InvalidInput(f"{what} did not return {kind.__name__} values of shape {shape}: {hint}")
        return ar.asarray(out)

    @staticmethod
    def _check_namespace(ar: Arith) -> None:
        if not (ar.dtype == np.float64 or ar.exact or isinstance(ar, MPArith)):
            raise NotCertifiable(f"a Python callable cannot be enclosed rigorously ({ar.name}): "
                                 "use rigor high-precision (with an mpmath-capable fn) or sampled")

    def _F(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        self._check_namespace(ar)
        if ar.dtype == np.float64:
            return self._float_F(w)
        return self._object_call(self.fn, w, ar, (self._n,), "fn")

    def _jacobian(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        self._check_namespace(ar)
        if ar.dtype == np.float64:
            return self._float_jacobian(w)
        shape = (self._n, self._m)
        if self.user_jacobian is not None:
            return self._check_jacobian(self._object_call(self.user_jacobian, w, ar, shape, "jacobian"))
        if not isinstance(ar, MPArith):
            raise InvalidInput("exact arithmetic needs an exact Jacobian: pass jacobian= to CallableModel")
        return self._mp_jacobian(w, ar)

    def _mp_jacobian(self, w: np.ndarray, ar: MPArith) -> np.ndarray:
        """Central differences at twice the digits with step 10^-digits: error ~10^-digits relative."""
        inner = MPArith(2 * ar.digits + 10)
        with inner.active():
            h = mpmath.mpf(10) ** (-ar.digits)
            wi = inner.asarray(w)
            cols = []
            for j in range(self._m):
                e = inner.zeros(self._m)
                e[j] = h
                cols.append((self._F(wi + e, inner) - self._F(wi - e, inner)) / (2 * h))
        with ar.active():
            return np.positive(np.stack(cols, axis=1))  # unary + rounds each mpf to the outer precision

    def describe(self) -> dict:
        name = getattr(self.fn, "__qualname__", type(self.fn).__name__)
        return {**super().describe(), "fn": f"{getattr(self.fn, '__module__', '?')}.{name}",
                "jacobian": self.jacobian_method}


