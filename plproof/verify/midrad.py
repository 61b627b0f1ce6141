"""Vectorised midpoint-radius arithmetic in float64 (docs/rigor.md §10): the generic run recipe's step.

A :class:`MR` is a float64 array of midpoints with a non-negative float64 array of radii (``None``: the
midpoints are exact). Every operation returns midpoints computed by the plain float operation and radii
that cover, elementwise, the distance from the midpoint to every exact result over the input balls,
under the floating-point model of docs/rigor.md §0 (IEEE binary64, round to nearest, u = 2^-53):

* ``a +- b``: |mid| U1 + rad_a + rad_b, with U1 >= u/(1 - u), so |fl(x) - x| <= U1 |fl(x)|;
* ``a * b``: |a| rad_b + rad_a |b| + rad_a rad_b + U1 |mid|;
* ``a / b`` (|b| > rad_b): (rad_a + |a/b| rad_b)/(|b| - rad_b) + U1 |mid|;
* ``A @ B`` (inner dimension k): |A| (rad_B + gamma_k |B|) + rad_A (|B| + rad_B), whatever the BLAS
  summation order (the gamma_k bound of docs/rigor.md §0);
* ``sqrt``: correctly rounded, Lipschitz 1/(sqrt(a - rad) + sqrt(a)) on the ball;
* ``tanh``: np.tanh(mid) +- (its proven distance to tanh(mid), plproof/verify/tanh.py, + rad) (no assumption);
* ``exp, log1p, sin, cos, erf``: f(mid) +- (LIBM |f(mid)| + Lip_f(ball) rad), LIBM = 4 ulp
  (the stated libm assumption, :data:`ASSUMPTION`; tests measure it against mpmath).

Radii are evaluated in float from non-negative terms and multiplied by :data:`COVER` (their relative
rounding error is below gamma_{k+8} <= 2^-21 for k < 2^30), and :data:`TINY` is added for underflow.
The module is the verifier's trusted code (numpy, the standard library and plproof/verify/tanh.py); the producer
runs the same.
"""

from __future__ import annotations

import contextlib
import copy
import math
from fractions import Fraction
from typing import Any

import numpy as np

from plproof.verify.tanh import tanh_error

U = 2.0**-53
U1 = 1.0001 * U          # >= u/(1 - u)
LIBM = 8.0001 * U        # 4 ulp of f(x) <= 8 u |f(x)|: the stated libm assumption
COVER = 1 + 2.0**-20     # rounding of the radius formulas (non-negative terms, < 2^30 per entry)
TINY = 2.0**-1000        # underflow: every subnormal rounding error, with room
K_MAX = 2**30            # the largest inner dimension COVER is valid for
ERF_LIP = 1.1283791671   # >= 2/sqrt(pi), the Lipschitz constant of erf
ASSUMPTION = ("midpoint-radius float64 (docs/rigor.md §10): IEEE binary64 round-to-nearest, BLAS dot products "
              "within gamma_k in any order, np.exp/log1p/sin/cos and scipy's erf within 4 ulp (np.tanh is bounded by "
              "a proven table, docs/rigor.md §11.7)")

try:  # scipy's erf (cephes); a math.erf loop otherwise
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - exercised only without scipy
    _erf = np.vectorize(math.erf, otypes=[float])


def gamma(k: int) -> float:
    """>= gamma_k = k u/(1 - k u) (docs/rigor.md §0)."""
    return math.nextafter(math.nextafter(k * U, math.inf) / (1 - 2 * k * U), math.inf)


def _cover(rad: np.ndarray) -> np.ndarray:
    return rad * COVER + TINY


class MR:
    """A float64 midpoint array with a radius array (None: exact), and its arithmetic (docs/rigor.md §10)."""

    __array_ufunc__ = None  # ndarray op MR defers to MR's reflected operators
    __slots__ = ("mid", "rad")

    def __init__(self, mid: Any, rad: np.ndarray | None = None) -> None:
        self.mid = np.asarray(mid, dtype=np.float64)
        self.rad = rad

    # ------------------------------------------------------------ shape
    shape = property(lambda self: self.mid.shape)
    ndim = property(lambda self: self.mid.ndim)
    size = property(lambda self: self.mid.size)

    def __len__(self) -> int:
        return len(self.mid)

    def _map(self, f: Any) -> "MR":
        return MR(f(self.mid), None if self.rad is None else f(self.rad))

    def __getitem__(self, key: Any) -> "MR":
        return self._map(lambda a: a[key])

    def reshape(self, *shape: Any) -> "MR":
        return self._map(lambda a: a.reshape(*shape))

    def ravel(self) -> "MR":
        return self._map(np.ravel)

    @property
    def T(self) -> "MR":
        return self._map(lambda a: a.T)

    def swapaxes(self, a: int, b: int) -> "MR":
        return self._map(lambda x: x.swapaxes(a, b))

    def sum(self, axis: Any = None) -> "MR":
        """The sum of the k entries along ``axis``: |fl(sum) - sum| <= gamma_k sum |x_i| in any order (§0)."""
        mid = self.mid.sum(axis=axis)
        k = self.mid.size // max(np.size(mid), 1)
        if k >= K_MAX:
            raise ArithmeticError(f"midrad: a sum of {k} >= 2^30 terms is outside the rounding cover")
        rad = gamma(k) * np.abs(self.mid).sum(axis=axis)
        return MR(mid, _cover(rad if self.rad is None else rad + radius(self).sum(axis=axis)))

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func is not np.concatenate:
            return NotImplemented
        parts = [as_mr(p) for p in args[0]]
        rads = None if all(p.rad is None for p in parts) else [radius(p) for p in parts]
        return MR(np.concatenate([p.mid for p in parts], *args[1:], **kwargs),
                  None if rads is None else np.concatenate(rads, *args[1:], **kwargs))

    # ------------------------------------------------------------ arithmetic
    def __neg__(self) -> "MR":
        return MR(-self.mid, self.rad)

    def __pos__(self) -> "MR":
        return self

    def __abs__(self) -> "MR":
        return MR(np.abs(self.mid), self.rad)

    def __add__(self, other: Any) -> "MR":
        return _add(self, as_mr(other), 1)

    def __radd__(self, other: Any) -> "MR":
        return _add(as_mr(other), self, 1)

    def __sub__(self, other: Any) -> "MR":
        return _add(self, as_mr(other), -1)

    def __rsub__(self, other: Any) -> "MR":
        return _add(as_mr(other), self, -1)

    def __mul__(self, other: Any) -> "MR":
        return _mul(self, as_mr(other))

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> "MR":
        return _div(self, as_mr(other))

    def __rtruediv__(self, other: Any) -> "MR":
        return _div(as_mr(other), self)

    def __matmul__(self, other: Any) -> "MR":
        return _matmul(self, as_mr(other))

    def __rmatmul__(self, other: Any) -> "MR":
        return _matmul(as_mr(other), self)

    def __repr__(self) -> str:
        return f"MR(mid={self.mid!r}, rad={self.rad!r})"


def as_mr(x: Any) -> MR:
    """x itself if it is an MR, else the exact value of a float array or number."""
    return x if isinstance(x, MR) else MR(x)


def radius(x: MR) -> np.ndarray:
    """The radii of x (zeros for an exact x), broadcast to its shape."""
    return np.zeros(x.mid.shape) if x.rad is None else np.broadcast_to(x.rad, x.mid.shape)


def _add(a: MR, b: MR, sign: int) -> MR:
    mid = a.mid + b.mid if sign > 0 else a.mid - b.mid
    rad = U1 * np.abs(mid)
    for x in (a, b):
        if x.rad is not None:
            rad = rad + x.rad
    return MR(mid, _cover(rad))


def _mul(a: MR, b: MR) -> MR:
    mid = a.mid * b.mid
    rad = U1 * np.abs(mid)
    if b.rad is not None:
        rad = rad + np.abs(a.mid) * b.rad
    if a.rad is not None:
        rad = rad + a.rad * (np.abs(b.mid) if b.rad is None else np.abs(b.mid) + b.rad)
    return MR(mid, _cover(rad))


def _div(a: MR, b: MR) -> MR:
    den = np.abs(b.mid) - (0.0 if b.rad is None else b.rad)
    if not (den > 0).all():
        raise ArithmeticError("midrad: a divisor's ball contains 0")
    mid = a.mid / b.mid
    amid = np.abs(mid)
    num = (0.0 if a.rad is None else a.rad) + (0.0 if b.rad is None else amid * (1 + 2 * U1) * b.rad)
    return MR(mid, _cover(num / (den * (1 - 4 * U)) + U1 * amid))


def _matmul(a: MR, b: MR) -> MR:
    k = a.mid.shape[-1]
    if k >= K_MAX:
        raise ArithmeticError(f"midrad: inner dimension {k} >= 2^30 is outside the rounding cover")
    mid = a.mid @ b.mid
    aA, aB, g = np.abs(a.mid), np.abs(b.mid), gamma(k)
    rad = aA @ (g * aB if b.rad is None else b.rad + g * aB)
    if a.rad is not None:
        rad = rad + a.rad @ (aB if b.rad is None else aB + b.rad)
    return MR(mid, _cover(rad))


# ---------------------------------------------------------------- elementwise functions
def _libm(mid: np.ndarray, lip_rad: np.ndarray | float) -> np.ndarray:
    """LIBM |f(mid)| + Lip * rad, covered."""
    return _cover(LIBM * np.abs(mid) + lip_rad)


def _rad0(x: MR) -> np.ndarray | float:
    return 0.0 if x.rad is None else x.rad


def mr_tanh(x: MR) -> MR:
    """tanh: Lipschitz 1; |np.tanh(m) - tanh(m)| bounded by the proven table (docs/rigor.md §11.7), not assumed."""
    mid = np.tanh(x.mid)
    return MR(mid, _cover(tanh_error(x.mid, mid) + _rad0(x)))


def mr_sin(x: MR) -> MR:
    """sin: Lipschitz 1."""
    mid = np.sin(x.mid)
    return MR(mid, _libm(mid, _rad0(x)))


def mr_cos(x: MR) -> MR:
    """cos: Lipschitz 1."""
    mid = np.cos(x.mid)
    return MR(mid, _libm(mid, _rad0(x)))


def mr_erf(x: MR) -> MR:
    """erf: Lipschitz 2/sqrt(pi)."""
    mid = _erf(x.mid)
    return MR(mid, _libm(mid, ERF_LIP * _rad0(x)))


def mr_exp(x: MR) -> MR:
    """exp: |exp(a) - exp(m)| <= exp(m) (e^r - 1) <= exp(m) r e^r on |a - m| <= r."""
    mid = np.exp(x.mid)
    r = _rad0(x)
    return MR(mid, _libm(mid, np.abs(mid) * (1 + 2 * LIBM) * r * np.exp(r)))


def mr_log1p(x: MR) -> MR:
    """log1p on x > -1: Lipschitz 1/(1 + m - r) on the ball."""
    r = _rad0(x)
    den = (1 + x.mid - r) * (1 - 4 * U)
    if not (den > 0).all():
        raise ArithmeticError("midrad: log1p of a ball reaching -1")
    mid = np.log1p(x.mid)
    return MR(mid, _libm(mid, r / den))


def mr_sqrt(x: MR) -> MR:
    """sqrt (correctly rounded): |sqrt(a) - sqrt(m)| <= r/(sqrt(m) + sqrt(m - r)), or sqrt(m + r) when m <= r."""
    r = _rad0(x)
    if not (x.mid >= 0).all():
        raise ArithmeticError("midrad: sqrt of a negative midpoint")
    mid = np.sqrt(x.mid)
    low = x.mid - r
    safe = np.sqrt(np.maximum(low, 0.0)) * (1 - 4 * U) + mid * (1 - 4 * U)
    with np.errstate(divide="ignore", invalid="ignore"):
        lip = np.where(low > 0, r / np.where(low > 0, safe, 1.0), np.sqrt(x.mid + r) * (1 + 4 * U))
    return MR(mid, _cover(U1 * mid + lip))


# ---------------------------------------------------------------- norms and the namespace
def from_bounds(ends: Any, shape: tuple[int, ...]) -> MR:
    """The MR enclosing exact rational intervals [lo, hi] (an iterable of pairs, row-major ``shape``):
    mid = fl((lo + hi)/2), rad = the least double >= max(hi - mid, mid - lo), both exact in rationals."""
    mids, rads = [], []
    for lo, hi in ends:
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ArithmeticError("midrad: an interval enclosure is unbounded")
        m = float((Fraction(lo) + Fraction(hi)) / 2)
        gap = max(Fraction(hi) - Fraction(m), Fraction(m) - Fraction(lo))
        r = float(gap)
        mids.append(m)
        rads.append(r if Fraction(r) >= gap else math.nextafter(r, math.inf))
    return MR(np.array(mids).reshape(shape), np.array(rads).reshape(shape))


def norm_upper(x: np.ndarray) -> float:
    """>= ||x||_2 of a float array (relative rounding of the sum of squares within COVER)."""
    flat = np.ravel(x)
    return math.nextafter(math.sqrt(float(flat @ flat)) * COVER, math.inf)


def norm_hi(x: MR) -> float:
    """>= sup ||v||_2 over the ball: ||mid|| + ||rad||."""
    rad = 0.0 if x.rad is None else norm_upper(radius(x))
    return math.nextafter((norm_upper(x.mid) + rad) * COVER, math.inf)


class MidRadNamespace:
    """The array namespace (duck-typed like plproof.numeric.arith.Arith) the model formulas evaluate in."""

    name = "midrad-float64"
    dtype = object
    exact = False
    pi = MR(np.pi, np.array(2.0**-51))  # |pi - fl(pi)| < 1.3e-16 < 2^-51
    tanh = staticmethod(mr_tanh)
    exp = staticmethod(mr_exp)
    log1p = staticmethod(mr_log1p)
    sin = staticmethod(mr_sin)
    cos = staticmethod(mr_cos)
    erf = staticmethod(mr_erf)
    sqrt = staticmethod(mr_sqrt)

    def active(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def asarray(self, x: Any) -> MR:
        return as_mr(x)

    def zeros(self, shape: int | tuple[int, ...]) -> MR:
        return MR(np.zeros(shape))

    def to_float(self, x: Any) -> np.ndarray:
        return as_mr(x).mid

    def norm(self, x: MR) -> float:
        return norm_hi(x)


MIDRAD = MidRadNamespace()


def rows_of(model: Any, rows: np.ndarray) -> Any:
    """The model on the data rows ``rows`` (in order, a repeated index repeated): F_B(w) = (f(x_k; w))_{k in rows}.

    A shallow copy with X[rows]: the families with data rows (Linear, TwoLayer, RandomFeatures, MLP) compute F,
    DF, K and DF^T r from X alone. A model without them has no mini-batch step: ArithmeticError."""
    X = getattr(model, "X", None)
    if not (isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[0] == model.n_outputs):
        raise ArithmeticError(f"midrad: a {type(model).__name__} has no data rows to take a mini-batch of")
    out = copy.copy(model)
    out.X = X[np.asarray(rows, dtype=np.int64)]
    return out


def gd_step(model: Any, w: np.ndarray, y: np.ndarray, eta: float,
            rows: np.ndarray | None = None) -> tuple[np.ndarray, float, float]:
    """One GD step enclosed (docs/rigor.md §10): G(w) = w - eta DF(w)^T (F(w) - y) in [mid +- rad]; with ``rows``
    the mini-batch step G_B(w) = w - eta DF_B(w)^T (F_B(w) - y_B) of the data rows B = rows (:func:`rows_of`).

    Returns the next iterate w~' = mid (a float vector), rho >= ||G(w) - w~'|| and an upper bound on ||r(w)||
    (on ||r_B(w)|| with rows).
    """
    if rows is not None:
        model, y = rows_of(model, rows), np.asarray(y)[rows]
    r = model.F(w, MIDRAD) - as_mr(y)
    step = as_mr(w) - model.vjp(w, r, MIDRAD) * eta
    return step.mid, norm_upper(radius(step)), norm_hi(r)


def batch_jacobian_upper(model: Any, w: np.ndarray, rows: np.ndarray) -> float:
    """>= ||DF_B(w)||_2 of the data rows B = ``rows`` (docs/rigor.md §10): K_B = DF_B DF_B^T enclosed entrywise as
    K~ +- E, and lambda_max(K_B) <= rho(|K_B|) <= rho(|K~| + E) <= max_i ((|K~| + E) u)_i / u_i for any u > 0
    (symmetric K_B; Perron-Frobenius monotonicity; Collatz-Wielandt), u from four power steps; the float
    evaluation of the nonnegative sums covered by COVER."""
    K, E = kernel_enclosure(rows_of(model, rows), w)
    M = np.abs(K) + E
    u = np.ones(M.shape[0])
    for _ in range(4):
        u = M @ u
        u = u / max(float(u.max()), 2.0**-1000) + 2.0**-40
    lam = float(np.max((M @ u) / u)) * COVER * COVER
    return math.nextafter(math.sqrt(lam) * COVER, math.inf)


def kernel_enclosure(model: Any, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An exactly symmetric float K~ and entrywise bounds E with |K~ - K(w)| <= E (the lower triangle mirrored)."""
    K = model.kernel(w, MIDRAD)
    mid, rad = K.mid, radius(K)
    return np.tril(mid) + np.tril(mid, -1).T, np.maximum(np.tril(rad), np.tril(rad, -1).T)
