"""Activation functions: sigma, sigma', sigma'', sigma''' and the constants S1, S2, S3.

S_k = sup_z |sigma^(k)(z)| (docs/theory.md §8); each constant is stored as an upper bound, rounded
up, and derived in closed form where the maximiser is known. Non-smooth activations (ReLU, leaky
ReLU, abs) evaluate in float but have ``smooth = False`` so that nothing can certify with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping

import mpmath
import numpy as np

from plproof.errors import InvalidInput
from plproof.numeric.arith import Arith


def _up(value: Any) -> float:
    """A float >= the real ``value`` (computed at 40 digits, then nudged one ulp up)."""
    with mpmath.mp.workdps(40):
        return float(np.nextafter(float(mpmath.mpf(value)), np.inf))


Derivs = Callable[[Any, Arith], tuple[Any, Any, Any, Any]]


@dataclass(frozen=True)
class Activation:
    """sigma with its first three derivatives, evaluated together (they share sub-expressions).

    Only the objects of :data:`ACTIVATIONS` have proved constants S_k = sup_z |sigma^(k)(z)|
    (docs/theory.md §8). A user-built Activation is accepted, but its S1-S3 and the consistency of its
    derivatives are not proved (no interval evaluation covers the whole real line), so a model using it gets
    no closed forms and is checked at rigor ``sampled`` at best (:func:`is_builtin`,
    plproof.models.base.closed_form_obstacle).
    """

    name: str
    smooth: bool
    S1: float | None
    S2: float | None
    S3: float | None
    bounded_by_one: bool
    _derivs: Derivs
    #: (sigma, sigma') alone, where cheaper than all four (the float64 GD step needs no more)
    _slope: Callable[[Any, Arith], tuple[Any, Any]] | None = None

    def derivatives(self, z: Any, ar: Arith, order: int = 2) -> tuple[Any, ...]:
        """(sigma(z), sigma'(z), ..., sigma^(order)(z)) elementwise in namespace ``ar``."""
        if order <= 1 and self._slope is not None:
            return self._slope(z, ar)[: order + 1]
        return self._derivs(z, ar)[: order + 1]

    def __call__(self, z: Any, ar: Arith) -> Any:
        return self._derivs(z, ar)[0]

    def __repr__(self) -> str:
        return f"Activation({self.name!r}, smooth={self.smooth})"


def _tanh_slope(z: Any, ar: Arith) -> tuple[Any, Any]:
    t = ar.tanh(z)
    return t, 1 - t * t


def _tanh(z: Any, ar: Arith) -> tuple[Any, Any, Any, Any]:
    t, d1 = _tanh_slope(z, ar)
    return t, d1, -2 * t * d1, -2 * d1 * (1 - 3 * t * t)


def _sigmoid_parts(z: Any, ar: Arith) -> tuple[Any, Any]:
    s = (1 + ar.tanh(z / 2)) / 2  # stable for large |z| in every arithmetic
    return s, s * (1 - s)


def _sigmoid(z: Any, ar: Arith) -> tuple[Any, Any, Any, Any]:
    s, p = _sigmoid_parts(z, ar)
    return s, p, p * (1 - 2 * s), p * (1 - 6 * p)


def _softplus(z: Any, ar: Arith) -> tuple[Any, Any, Any, Any]:
    s, p = _sigmoid_parts(z, ar)
    absz = abs(z)
    value = (z + absz) / 2 + ar.log1p(ar.exp(-absz))
    return value, s, p, p * (1 - 2 * s)


def _sin(z: Any, ar: Arith) -> tuple[Any, Any, Any, Any]:
    s, c = ar.sin(z), ar.cos(z)
    return s, c, -s, -c


def _gelu(z: Any, ar: Arith) -> tuple[Any, Any, Any, Any]:
    cdf = (1 + ar.erf(z / ar.sqrt(ar.asarray(2.0)))) / 2
    pdf = ar.exp(-z * z / 2) / ar.sqrt(2 * ar.pi)
    z2 = z * z
    return z * cdf, cdf + z * pdf, pdf * (2 - z2), pdf * (z2 * z - 4 * z)


def _relu(z: Any, ar: Arith) -> tuple[Any, Any, Any, Any]:
    pos = z > 0
    zero = z * 0
    return np.where(pos, z, zero), np.where(pos, zero + 1, zero), zero, zero


def _leaky_relu(z: Any, ar: Arith) -> tuple[Any, Any, Any, Any]:
    pos = z > 0
    zero = z * 0
    return np.where(pos, z, z / 100), np.where(pos, zero + 1, zero + 1 / 100), zero, zero


def _abs(z: Any, ar: Arith) -> tuple[Any, Any, Any, Any]:
    zero = z * 0
    return abs(z), np.where(z > 0, zero + 1, zero - 1), zero, zero


def _gelu_constants() -> tuple[float, float, float]:
    """GELU: S1 at z = sqrt 2 (sigma'' = 0), S2 = sqrt(2/pi) at 0, S3 at z^2 = (7 - sqrt 33)/2."""
    with mpmath.mp.workdps(40):
        pdf = lambda x: mpmath.npdf(x)  # noqa: E731
        r2 = mpmath.sqrt(2)
        s1 = mpmath.ncdf(r2) + r2 * pdf(r2)
        s2 = mpmath.sqrt(2 / mpmath.pi)
        candidates = [mpmath.sqrt((7 - mpmath.sqrt(33)) / 2), mpmath.sqrt((7 + mpmath.sqrt(33)) / 2)]
        s3 = max(abs(pdf(x) * (x**3 - 4 * x)) for x in candidates)
        return _up(s1), _up(s2), _up(s3)


_GELU = _gelu_constants()

#: the registry; ``get`` looks names up here
ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        # tanh: S2 = 4/(3 sqrt 3) at tanh = 1/sqrt 3, S3 = 2 at 0
        Activation("tanh", True, 1.0, _up(4 / (3 * mpmath.sqrt(3))), 2.0, True, _tanh, _tanh_slope),
        # sigmoid: S1 = 1/4, S2 = 1/(6 sqrt 3), S3 = 1/8 (docs/theory.md §8)
        Activation("sigmoid", True, 0.25, _up(1 / (6 * mpmath.sqrt(3))), 0.125, True, _sigmoid, _sigmoid_parts),
        Activation("softplus", True, 1.0, 0.25, _up(1 / (6 * mpmath.sqrt(3))), False, _softplus),
        Activation("sin", True, 1.0, 1.0, 1.0, True, _sin),
        Activation("gelu", True, *_GELU, False, _gelu),
        Activation("relu", False, 1.0, None, None, False, _relu),
        Activation("leaky_relu", False, 1.0, None, None, False, _leaky_relu),
        Activation("abs", False, 1.0, None, None, False, _abs),
    )
}


def get(activation: "str | Activation") -> Activation:
    """Look an activation up by name (case-insensitive) or pass an :class:`Activation` through."""
    if isinstance(activation, Activation):
        return activation
    key = str(activation).strip().lower().replace("-", "_")
    if key not in ACTIVATIONS:
        raise InvalidInput(f"unknown activation {activation!r}: use one of {', '.join(sorted(ACTIVATIONS))}")
    return ACTIVATIONS[key]


#: the registry as built above: what :func:`is_builtin` compares with (later edits of ACTIVATIONS do not count)
_PROVED: Mapping[str, Activation] = MappingProxyType(dict(ACTIVATIONS))


def is_builtin(activation: Any) -> bool:
    """True when ``activation`` is a registry object itself (identity, not name): its S1-S3 are proved here."""
    return isinstance(activation, Activation) and _PROVED.get(activation.name) is activation
