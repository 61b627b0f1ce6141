"""Proven bounds on binary64 rounding errors, evaluated with upward rounding (docs/rigor.md §0).

Model: IEEE binary64, round to nearest, unit roundoff ``U = 2**-53``, smallest subnormal
``ETA = 2**-1074``; ``fl(x op y) = (x op y)(1 + d) + e`` with ``|d| <= U``, ``|e| <= ETA/2``
(``e = 0`` for + and -). Every bound here is a float proven to be >= the real quantity it bounds.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np

from plproof.errors import InvalidInput

U = 2.0**-53
ETA = 2.0**-1074
_TWO53 = 2**53


def up(x: float) -> float:
    """The next float above ``x``: covers the true value of a round-to-nearest result (docs/rigor.md §0)."""
    return math.nextafter(x, math.inf)


def down(x: float) -> float:
    """The next float below ``x``."""
    return math.nextafter(x, -math.inf)


def float_up(q: Fraction | int) -> float:
    """The smallest float >= the rational ``q`` (exact comparison)."""
    f = float(q)
    return f if Fraction(f) >= q else up(f)


def float_down(q: Fraction | int) -> float:
    """The largest float <= the rational ``q`` (exact comparison)."""
    f = float(q)
    return f if Fraction(f) <= q else down(f)


def _check_k(k: int) -> None:
    if k < 0 or 2 * k >= _TWO53:
        raise InvalidInput(f"gamma_k needs 0 <= k < 2**52, got k={k}")


@lru_cache(maxsize=1024)
def gamma(k: int) -> float:
    """Upper bound on gamma_k = k u / (1 - k u) = k / (2**53 - k) (Higham, ASNA, Lemma 3.1)."""
    _check_k(k)
    return float_up(Fraction(k, _TWO53 - k))


@lru_cache(maxsize=1024)
def gamma_ratio(k: int) -> float:
    """Upper bound on gamma_k / (1 - gamma_k) = k u / (1 - 2 k u) = k / (2**53 - 2k)."""
    _check_k(k)
    return float_up(Fraction(k, _TWO53 - 2 * k))


@lru_cache(maxsize=1024)
def inv_one_minus_gamma(k: int) -> float:
    """Upper bound on 1 / (1 - gamma_k) = (2**53 - k) / (2**53 - 2k)."""
    _check_k(k)
    return float_up(Fraction(_TWO53 - k, _TWO53 - 2 * k))


def add_up(*xs: float) -> float:
    """Upper bound on the exact sum (math.fsum is correctly rounded, then one step up)."""
    return up(math.fsum(xs))


def mul_up(a: float, b: float) -> float:
    """Upper bound on a*b for a, b >= 0."""
    return up(a * b)


def sqrt_up(x: float) -> float:
    """Upper bound on sqrt(x), x >= 0 (sqrt is correctly rounded)."""
    return up(math.sqrt(x))


def sum_up(values: np.ndarray) -> float:
    """Upper bound on the exact sum of a float array (correctly rounded fsum, then one step up)."""
    return up(math.fsum(np.asarray(values, dtype=np.float64).ravel().tolist()))


def sumsq_upper(x: np.ndarray) -> float:
    """Upper bound on sum(x**2) = ||x||_F^2 from one BLAS dot: (s + N eta) / (1 - gamma_N), docs/rigor.md §0."""
    flat = np.ascontiguousarray(x, dtype=np.float64).ravel()
    n = flat.size
    if n == 0:
        return 0.0
    s = float(np.dot(flat, flat))
    if not math.isfinite(s):
        raise InvalidInput("array too large to bound its Frobenius norm in float64: rescale it")
    return mul_up(add_up(s, mul_up(float(n), ETA)), inv_one_minus_gamma(n))


def gram_trace_upper(diag_hat: np.ndarray, m: int) -> float:
    """Upper bound on ||B||_F^2 = tr(B B^T) from the computed diagonal of fl(B B^T): (tr + n m eta)/(1 - gamma_m)."""
    d = np.asarray(diag_hat, dtype=np.float64)
    if m <= 0 or d.size == 0:
        return 0.0
    return mul_up(add_up(sum_up(d), _underflow_nm(d.size, m)), inv_one_minus_gamma(m))


def _underflow_nm(n: int, m: int) -> float:
    return mul_up(up(float(n) * float(m)), ETA)


def gram_error_bound(diag_hat: np.ndarray, m: int) -> float:
    """Bound on ||fl(B B^T) - B B^T||_2 for B with m columns, from the computed diagonal (docs/rigor.md §1.1).

    ``gamma_m ||B||_F^2 + n m eta`` with ``||B||_F^2`` bounded by :func:`gram_trace_upper`.
    """
    d = np.asarray(diag_hat, dtype=np.float64)
    if m <= 0 or d.size == 0:
        return 0.0
    return add_up(mul_up(gamma(m), gram_trace_upper(d, m)), _underflow_nm(d.size, m))
