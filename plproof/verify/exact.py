"""The verifier's own rigorous arithmetic: rationals, square-root bounds, a positive-definiteness test.

Nothing here comes from plproof's producer layers (DESIGN.md: verify/), so a bug in the producer's
numerics is not repeated here. Every comparison is exact (``Fraction``); square roots are bounded
from both sides on a grid of 2^-PREC; a matrix enclosure is a rational midpoint plus a Frobenius
radius (Weyl: |lambda_i(A) - lambda_i(B)| <= ||A - B||_2 <= ||A - B||_F).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy as np
from gmpy2 import mpz
from mpmath import iv

PREC = 200  # bits of the square-root grid


class Failure(Exception):
    """A claim of the certificate that the verifier could not confirm; the message says which and why."""


class Unverifiable(Exception):
    """A claim this verifier cannot re-check here (missing code, data or a method); never reported as invalid."""


def sqrt_lo(q: Fraction) -> Fraction:
    """A rational <= sqrt(q), within 2^-PREC (exact when q is a square on the grid)."""
    if q < 0:
        raise Failure(f"square root of a negative number {float(q):.6g}")
    return Fraction(math.isqrt(math.floor(q * 4**PREC)), 2**PREC)


def sqrt_hi(q: Fraction) -> Fraction:
    """A rational >= sqrt(q), within 2^-PREC (exact when q is a square on the grid)."""
    if q < 0:
        raise Failure(f"square root of a negative number {float(q):.6g}")
    scaled = math.ceil(q * 4**PREC)
    root = math.isqrt(scaled)
    return Fraction(root + (root * root < scaled), 2**PREC)


#: proved rational upper bounds on sup|s'|, sup|s''|, sup|s'''| of the built-in smooth activations s
#: (docs/rigor.md §1): the verifier's own constants, never read from an Activation object
ACTIVATION_BOUNDS: dict[str, tuple[Fraction, Fraction, Fraction]] = {
    "tanh": (Fraction(1), sqrt_hi(Fraction(16, 27)), Fraction(2)),          # 4/(3 sqrt 3) where tanh z = 1/sqrt 3
    "sigmoid": (Fraction(1, 4), sqrt_hi(Fraction(1, 108)), Fraction(1, 8)),  # 1/(6 sqrt 3); the third peaks at 0
    "softplus": (Fraction(1), Fraction(1, 4), sqrt_hi(Fraction(1, 108))),   # the sigmoid's own constants
    "sin": (Fraction(1), Fraction(1), Fraction(1)),
}

EXACT_N = 100  # up to this size the test is exact (Bareiss); above it, float Cholesky with a proven bound
U = Fraction(1, 2**53)  # unit roundoff of IEEE double


def positive_definite(M: Sequence[Sequence[Fraction]]) -> bool:
    """M > 0 for a symmetric rational M: exact for n <= EXACT_N, else by float Cholesky (see _pd_float)."""
    return _pd_exact(M) if len(M) <= EXACT_N else _pd_float(M)


def pd_rigor(n: int) -> str:
    """The rigor of :func:`positive_definite` at size n (docs/theory.md §10)."""
    return "exact" if n <= EXACT_N else "verified"


def _pd_exact(M: Sequence[Sequence[Fraction]]) -> bool:
    """Every leading principal minor > 0 (Sylvester's criterion), from fraction-free Bareiss elimination
    of the integer matrix lcm(den) * M: its k-th pivot is the k-th leading minor times lcm(den)^k."""
    n = len(M)
    den = math.lcm(*(x.denominator for row in M for x in row))
    A = [[mpz(x.numerator * (den // x.denominator)) for x in row] for row in M]
    prev = mpz(1)
    for k in range(n):
        if A[k][k] <= 0:
            return False
        pivot, row_k = A[k][k], A[k]
        for i in range(k + 1, n):
            aik, row_i = A[i][k], A[i]
            for j in range(k + 1, n):
                row_i[j] = (row_i[j] * pivot - aik * row_k[j]) // prev
        prev = pivot
    return True


def _pd_float(M: Sequence[Sequence[Fraction]]) -> bool:
    """Proves M > 0 by :func:`cholesky_margin` of fl(M), less ||M - fl(M)||_F (exact)."""
    Mf = np.array([[float(x) for x in row] for row in M])
    rounding = sqrt_hi(sum((x - Fraction(Mf[i, j])) ** 2 for i, row in enumerate(M) for j, x in enumerate(row)))
    margin = cholesky_margin(Mf)
    return margin is not None and margin - rounding > 0


def cholesky_margin(Mf: np.ndarray) -> Fraction | None:
    """A lower bound on lambda_min of the float symmetric matrix Mf (its entries exactly), or None.

    Float Cholesky of B = fl(Mf - c I), c = 2 gamma_{n+1} tr|Mf|. Higham (2002) Thm 10.3: if it completes,
    L L^T = B + E with |E| <= gamma_{n+1} |L||L^T|, so lambda_min(B) >= -gamma_{n+1} ||L||_F^2, and
    lambda_min(Mf) >= c - gamma_{n+1} ||L||_F^2 - max|diagonal rounding of B|. ||L||_F^2 is a correctly
    rounded sum (math.fsum) of squares each within u (or underflowing by < 2^-1022), so (1 + 3u) and
    n^2 2^-1022 cover it. Assumes IEEE double, LAPACK's
    dpotrf obeying that bound, no underflow (pivots below 1e-280 are refused).
    """
    n = len(Mf)
    gamma = (n + 1) * U / (1 - (n + 1) * U)
    c = float(2 * gamma * sum(abs(Fraction(Mf[i, i])) for i in range(n)))
    B = Mf - c * np.eye(n)
    try:
        L = np.linalg.cholesky(B)
    except np.linalg.LinAlgError:
        return None
    tiny = np.abs(L[L != 0])
    if not np.isfinite(L).all() or (tiny.size and tiny.min() < 1e-280):
        return None
    L_F2 = Fraction(math.fsum((L * L).ravel().tolist())) * (1 + 3 * U) + n * n * Fraction(2) ** -1022  # underflow
    diag = max(abs(Fraction(Mf[i, i]) - Fraction(c) - Fraction(B[i, i])) for i in range(n))
    return Fraction(c) - gamma * L_F2 - diag


def rayleigh(M: Sequence[Sequence[Fraction]], which: str) -> Fraction:
    """x^T M x / x^T x, exactly, at the float eigenvector x of the smallest (``min``) or largest (``max``)
    eigenvalue: an upper bound on lambda_min(M), or a lower bound on lambda_max(M)."""
    n = len(M)
    _, vecs = np.linalg.eigh(np.array([[float(v) for v in row] for row in M]))
    x = [Fraction(v) for v in vecs[:, 0 if which == "min" else -1]]
    quad = sum(x[i] * sum(M[i][j] * x[j] for j in range(n)) for i in range(n))
    return quad / sum(v * v for v in x)


@dataclass(frozen=True)
class MatrixEnclosure:
    """Every symmetric A with ||A - mid||_F <= radius (radius 0: A = mid exactly)."""

    mid: list[list[Fraction]]
    radius: Fraction

    @property
    def n(self) -> int:
        return len(self.mid)

    def shifted(self, c: Fraction, sign: int = 1) -> list[list[Fraction]]:
        """sign * mid - c I."""
        return [[sign * x - (c if i == j else 0) for j, x in enumerate(row)] for i, row in enumerate(self.mid)]

    def lambda_min_above(self, s: Fraction) -> bool:
        """Proves lambda_min(A) > s for every A in the enclosure: mid - (s + radius) I > 0."""
        return positive_definite(self.shifted(s + self.radius))

    def lambda_min_below(self, s: Fraction) -> bool:
        """Proves lambda_min(A) <= s: exactly for small n (mid - (s - radius) I not > 0), else by a Rayleigh quotient."""
        if self.n <= EXACT_N:
            return not positive_definite(self.shifted(s - self.radius))
        return rayleigh(self.mid, "min") + self.radius <= s

    def lambda_max_below(self, t: Fraction) -> bool:
        """Proves lambda_max(A) < t: (t - radius) I - mid > 0."""
        return positive_definite(self.shifted(-(t - self.radius), -1))

    def lambda_max_above(self, t: Fraction) -> bool:
        """Proves lambda_max(A) >= t: exactly for small n, else by a Rayleigh quotient."""
        if self.n <= EXACT_N:
            return not positive_definite(self.shifted(-(t + self.radius), -1))
        return rayleigh(self.mid, "max") - self.radius >= t


def exact_matrix(A: np.ndarray) -> MatrixEnclosure:
    """An exactly known rational (object) matrix as a radius-0 enclosure."""
    return MatrixEnclosure([[Fraction(x) for x in row] for row in A], Fraction(0))


# ---------------------------------------------------------------- mpmath interval values
def iv_bounds(x: Any) -> tuple[Fraction, Fraction]:
    """The exact rational endpoints of an mpmath interval (or of an exact number)."""
    if isinstance(x, (Fraction, int)):
        return Fraction(x), Fraction(x)
    ends = []
    for sign, man, exp, bc in x._mpi_:
        if man == 0 and bc != 0 or exp in ("inf", "nan") or isinstance(exp, str):
            raise Failure("an interval computation overflowed (infinite endpoint)")
        value = Fraction(int(man)) * (Fraction(2) ** int(exp))
        ends.append(-value if sign else value)
    return ends[0], ends[1]


def _gelu_bounds() -> tuple[Fraction, Fraction, Fraction]:
    """Upper bounds on sup|s'|, sup|s''|, sup|s'''| of GELU s(z) = z Phi(z), in mpmath interval arithmetic.

    s' = Phi + z phi, s'' = phi (2 - z^2), s''' = z phi (z^2 - 4), s'''' = phi (7 z^2 - z^4 - 4). s' moves
    monotonically between its limits 0, 1 and its extremes at z = +-sqrt 2 (s'' = 0), where |s'| <= Phi(sqrt 2) +
    sqrt 2 phi(sqrt 2); s'' has its extremes at 0 and +-2 (s''' = 0): 2 phi(0) and -2 phi(2); s''' (limits 0)
    at z^2 = (7 -+ sqrt 33)/2. Phi(sqrt 2) = (1 + erf 1)/2, erf 1 = 2/sqrt(pi) sum_k (-1)^k / (k! (2k + 1)) below
    its partial sum to k = 12 (alternating, terms decreasing).
    """
    saved, iv.prec = iv.prec, 80
    try:
        phi = lambda z: iv.exp(-z * z / 2) / iv.sqrt(2 * iv.pi)  # noqa: E731
        erf1 = 2 / iv.sqrt(iv.pi) * sum(iv.mpf((-1) ** k) / (math.factorial(k) * (2 * k + 1)) for k in range(13))
        r2 = iv.sqrt(2)
        s1 = (1 + erf1) / 2 + r2 * phi(r2)
        s2 = 2 * phi(iv.mpf(0))
        roots = (iv.sqrt((7 - iv.sqrt(33)) / 2), iv.sqrt((7 + iv.sqrt(33)) / 2))
        s3 = max((abs(z * phi(z) * (z * z - 4)) for z in roots), key=lambda x: x.b)
        return iv_bounds(s1)[1], iv_bounds(s2)[1], iv_bounds(s3)[1]
    finally:
        iv.prec = saved


ACTIVATION_BOUNDS["gelu"] = _gelu_bounds()


def iv_matrix(A: np.ndarray) -> MatrixEnclosure:
    """Midpoint and Frobenius radius of a matrix of mpmath intervals."""
    mids, rad2 = [], Fraction(0)
    for row in A:
        out = []
        for x in row:
            lo, hi = iv_bounds(x)
            out.append((lo + hi) / 2)
            rad2 += ((hi - lo) / 2) ** 2
        mids.append(out)
    return MatrixEnclosure(mids, sqrt_hi(rad2))


def _erf_point(x: Any) -> Any:
    """An interval containing erf(x) for a point interval x, 80 guard bits. |x| <= 6: 2/sqrt(pi) sum_k (-1)^k
    x^(2k+1) / (k! (2k+1)) up to the first term with k > x^2 below 2^-(prec + 8), the tail below that first
    omitted term (alternating, decreasing from k > x^2). |x| > 6: erf = 1 - erfc(|x|), odd in x, with erfc(t) = exp(-t^2)/(t sqrt(pi)) sum_k (-1)^k
    (2k-1)!!/(2t^2)^k to 12 terms, the remainder below the first omitted term in size (its asymptotic series
    brackets erfc for t > 0)."""
    saved, iv.prec = iv.prec, iv.prec + 80
    try:
        t = abs(x)
        if t.b > 6:
            u, term, total = 1 / (2 * t * t), iv.mpf(1), iv.mpf(0)
            for k in range(12):
                total += term
                term = -term * (2 * k + 1) * u
            series = total + iv.mpf([-abs(term).b, abs(term).b])
            value = 1 - iv.exp(-t * t) / (t * iv.sqrt(iv.pi)) * series
            return value if x.a > 0 else -value
        x2, term, total, k = x * x, x, iv.mpf(0), 0
        tiny = iv.mpf(2) ** -(iv.prec + 8)
        while k <= x2.b or abs(term).b > tiny:  # to the first term below 2^-(prec + 8) with k > x^2
            total += term / (2 * k + 1)
            k += 1
            term = -term * x2 / k
        rest = abs(term).b / (2 * k + 1)
        return 2 / iv.sqrt(iv.pi) * (total + iv.mpf([-rest, rest]))
    finally:
        iv.prec = saved


def _iv_erf(v: Any) -> Any:
    """erf over the interval v: erf is increasing, so [lower end at v.a, upper end at v.b]."""
    v = _iv_of(v)
    return iv.mpf([_erf_point(iv.mpf(v.a)).a, _erf_point(iv.mpf(v.b)).b])


class IntervalNamespace:
    """The array namespace models evaluate in (duck-typed like plproof.numeric.arith): mpmath.iv elementwise.

    Only the activations whose formulas are interval-safe in this namespace are accepted by the
    verifier (tanh, sigmoid, sin, softplus, gelu); tanh is 1 - 2/(exp(2z) + 1), each z occurring once; erf by
    :func:`_iv_erf`.
    """

    name = "mpmath.iv"
    exact = False

    def __init__(self, digits: int = 30) -> None:
        self.digits = digits

    def active(self) -> "_Precision":
        return _Precision(self.digits)

    def asarray(self, x: Any) -> np.ndarray:
        arr = np.asarray(x, dtype=object)
        return _to_iv(arr) if arr.ndim else np.asarray(_to_iv(arr), dtype=object)

    def zeros(self, shape: int | tuple[int, ...]) -> np.ndarray:
        return self.asarray(np.zeros(shape))

    def norm(self, x: np.ndarray) -> Any:
        flat = np.asarray(x).ravel()
        return iv.sqrt(flat @ flat)

    def to_float(self, x: Any) -> np.ndarray:
        return np.vectorize(lambda v: float(v.mid), otypes=[float])(x)

    sqrt = staticmethod(np.frompyfunc(iv.sqrt, 1, 1))
    exp = staticmethod(np.frompyfunc(iv.exp, 1, 1))
    log1p = staticmethod(np.frompyfunc(lambda v: iv.log(1 + v), 1, 1))
    sin = staticmethod(np.frompyfunc(iv.sin, 1, 1))
    cos = staticmethod(np.frompyfunc(iv.cos, 1, 1))
    tanh = staticmethod(np.frompyfunc(lambda v: 1 - 2 / (iv.exp(2 * v) + 1), 1, 1))

    erf = staticmethod(np.frompyfunc(lambda v: _iv_erf(v), 1, 1))
    pi = iv.pi


def _iv_of(v: Any) -> Any:
    if isinstance(v, Fraction):
        return iv.mpf(v.numerator) / v.denominator
    return v if isinstance(v, type(iv.mpf(0))) else iv.mpf(float(v) if isinstance(v, np.floating) else v)


_to_iv = np.frompyfunc(_iv_of, 1, 1)


class _Precision:
    """Set mpmath.iv to ``digits`` decimal digits inside a with-block."""

    def __init__(self, digits: int) -> None:
        self.digits, self.saved = digits, None

    def __enter__(self) -> None:
        self.saved = iv.prec
        iv.dps = self.digits

    def __exit__(self, *exc: Any) -> None:
        iv.prec = self.saved
