"""Double-double arrays: numpy float64 pairs hi + lo carrying about 32 significant digits (docs/rigor.md §12).

A :class:`DDArray` holds the reals hi + lo (|lo| <= ulp(hi)/2) and supports the numpy operations the models use
(``+ - * / @``, ``abs``, comparisons, indexing, ``reshape``, ``.T``, ``np.concatenate``, ``np.where``), so one
model definition evaluates in it. Level ``high-precision``: the errors below are rounding-error estimates from
[JMP] and measured against mpmath at 40 digits (tests/test_ddarray.py), not proved enclosures; the verifier's
double-double *balls* are plproof/verify/doubledouble.py. u = 2^-53; products need |x| < 2^995 (the split),
full accuracy needs results above 2^-969 (no underflow of the low parts).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Callable, Iterator

import mpmath
import numpy as np

_SPLITTER = 134217729.0  # 2^27 + 1 (Veltkamp)


# ---------------------------------------------------------------- error-free transformations (docs/rigor.md §12.1)
def two_sum(a: Any, b: Any) -> tuple[Any, Any]:
    """Knuth's TwoSum: s = fl(a + b), e with s + e = a + b exactly."""
    s = a + b
    bv = s - a
    return s, (a - (s - bv)) + (b - bv)


def fast_two_sum(a: Any, b: Any) -> tuple[Any, Any]:
    """Dekker's FastTwoSum: s + e = a + b exactly when |a| >= |b| (or a = 0)."""
    s = a + b
    return s, b - (s - a)


def veltkamp(a: Any) -> tuple[Any, Any]:
    """a = ah + al exactly with ah, al of at most 26 bits (unless 2^27 a overflows)."""
    c = _SPLITTER * a
    ah = c - (c - a)
    return ah, a - ah


def two_prod(a: Any, b: Any) -> tuple[Any, Any]:
    """Dekker's TwoProd without FMA: p = fl(a b), e with p + e = a b exactly (no underflow, no overflow)."""
    p = a * b
    ah, al = veltkamp(a)
    bh, bl = veltkamp(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


# ---------------------------------------------------------------- the array type
class DDArray:
    """An array of double-double numbers hi + lo (hi, lo float64 arrays of one shape).

    Binary operations take DDArrays, float arrays, Python numbers, Fractions and mpmath numbers; a float
    operand uses the cheaper double-word-times-float algorithms. Relative errors per operation (u = 2^-53):
    + and - at most 3u^2 [JMP Alg. 6] (2u^2 with a float [JMP Alg. 4]), * at most 7u^2 [JMP Alg. 10], / about
    10u^2 (two Newton corrections), each relative to the exact result of the operation on the stored inputs.
    """

    __slots__ = ("hi", "lo")

    def __init__(self, hi: Any, lo: Any = None) -> None:
        self.hi = np.asarray(hi, dtype=np.float64)
        self.lo = np.zeros_like(self.hi) if lo is None else np.asarray(lo, dtype=np.float64)

    # shape and views
    @property
    def shape(self) -> tuple[int, ...]:
        return self.hi.shape

    @property
    def ndim(self) -> int:
        return self.hi.ndim

    @property
    def size(self) -> int:
        return self.hi.size

    @property
    def T(self) -> "DDArray":
        return DDArray(self.hi.T, self.lo.T)

    def __len__(self) -> int:
        return len(self.hi)

    def __getitem__(self, key: Any) -> "DDArray":
        return DDArray(self.hi[key], self.lo[key])

    def __iter__(self) -> Iterator["DDArray"]:
        return (self[i] for i in range(len(self)))

    def reshape(self, *shape: Any) -> "DDArray":
        return DDArray(self.hi.reshape(*shape), self.lo.reshape(*shape))

    def ravel(self) -> "DDArray":
        return DDArray(self.hi.ravel(), self.lo.ravel())

    # conversions
    def __float__(self) -> float:
        return float(self.hi)

    def __bool__(self) -> bool:
        return bool(self.hi)

    def to_float(self) -> np.ndarray:
        """hi + lo rounded to float64 (= hi for a normalised pair)."""
        return self.hi + self.lo

    def to_mpf(self) -> np.ndarray:
        """An object array of mpmath numbers equal to hi + lo (exact sums, rounded when used)."""
        return _exact_mpf(self.hi, self.lo)

    def __repr__(self) -> str:
        with mpmath.workdps(34):
            body = np.array2string(self.to_mpf(), formatter={"object": lambda v: mpmath.nstr(v, 32)})
        return f"DDArray({body})"

    # arithmetic
    def __neg__(self) -> "DDArray":
        return DDArray(-self.hi, -self.lo)

    def __pos__(self) -> "DDArray":
        return self

    def __abs__(self) -> "DDArray":
        s = np.where(self.hi < 0, -1.0, 1.0)
        return DDArray(self.hi * s, self.lo * s)

    def __add__(self, other: Any) -> "DDArray":
        return add(self, other)

    __radd__ = __add__

    def __sub__(self, other: Any) -> "DDArray":
        return add(self, negative(other))

    def __rsub__(self, other: Any) -> "DDArray":
        return add(-self, other)

    def __mul__(self, other: Any) -> "DDArray":
        return mul(self, other)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> "DDArray":
        return div(self, other)

    def __rtruediv__(self, other: Any) -> "DDArray":
        return div(as_dd(other), self)

    def __pow__(self, k: Any) -> "DDArray":
        """x^k for an integer or half-integer k (a scalar): repeated squaring of x, or of sqrt(x) for a
        half-integer; 1/x^|k| for k < 0."""
        if isinstance(k, DDArray) and k.ndim == 0 and not k.lo:
            k = float(k.hi)
        if isinstance(k, float) and (2 * k).is_integer():
            if not k.is_integer():
                return sqrt(self) ** int(2 * k)
            k = int(k)
        if not isinstance(k, (int, np.integer)):
            return NotImplemented
        out, base, e = DDArray(np.ones_like(self.hi)), self, abs(int(k))
        while e:
            if e & 1:
                out = mul(out, base)
            e >>= 1
            if e:
                base = mul(base, base)
        return div(1.0, out) if k < 0 else out

    def __matmul__(self, other: Any) -> "DDArray":
        return matmul(self, as_dd(other))

    def __rmatmul__(self, other: Any) -> "DDArray":
        return matmul(as_dd(other), self)

    # comparisons: the sign of the double-double difference (hi of a normalised pair carries it)
    def __lt__(self, other: Any) -> np.ndarray:
        return (self - other).hi < 0

    def __le__(self, other: Any) -> np.ndarray:
        return (self - other).hi <= 0

    def __gt__(self, other: Any) -> np.ndarray:
        return (self - other).hi > 0

    def __ge__(self, other: Any) -> np.ndarray:
        return (self - other).hi >= 0

    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return (self - other).hi == 0

    def __ne__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return (self - other).hi != 0

    __hash__ = None  # type: ignore[assignment]

    # numpy interoperation: float64 arrays and numpy scalars on the left defer to DDArray
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        fn = _UFUNCS.get(ufunc)
        if method != "__call__" or kwargs or fn is None:
            return NotImplemented
        return fn(*inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        fn = _FUNCTIONS.get(func)
        return NotImplemented if fn is None else fn(*args, **kwargs)


# ---------------------------------------------------------------- conversion
_mpf_exact_sum = np.frompyfunc(lambda h, l: mpmath.fadd(h, l, exact=True), 2, 1)


def _exact_mpf(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    return np.asarray(_mpf_exact_sum(np.asarray(hi, dtype=object), np.asarray(lo, dtype=object)), dtype=object)


def _pair_of(v: Any) -> tuple[float, float]:
    """(hi, lo): hi = the nearest float to v, lo = the nearest float to v - hi."""
    if isinstance(v, (int, np.integer)):
        v = Fraction(int(v))
    if isinstance(v, Fraction):
        hi = float(v)
        return hi, float(v - Fraction(hi)) if math.isfinite(hi) else 0.0
    if isinstance(v, DDArray):
        return float(v.hi), float(v.lo)
    with mpmath.workprec(max(mpmath.mp.prec, 120)):  # an mpf as it is; other input (str) to >= 120 bits
        m = v if isinstance(v, mpmath.mpf) else mpmath.mpf(v)
    hi = float(m)
    return hi, float(mpmath.fsub(m, hi, exact=True)) if math.isfinite(hi) else 0.0


_pairs = np.frompyfunc(_pair_of, 1, 2)


def as_dd(x: Any) -> DDArray:
    """x as a DDArray: floats and ints exactly, Fractions, mpmath numbers and decimal strings (or arrays of them)
    to the nearest pair."""
    if isinstance(x, DDArray):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind in "OUS":  # numbers as objects, or decimal strings
        hi, lo = _pairs(arr.astype(object))
        return DDArray(np.asarray(hi, dtype=np.float64), np.asarray(lo, dtype=np.float64))
    if arr.dtype.kind in "iu" and np.any(np.abs(arr) > 2**53):
        return as_dd(arr.astype(object))
    return DDArray(arr)


def _operand(x: Any) -> "DDArray | np.ndarray":
    """A DDArray, or a float64 array when x is (exactly) a float: the cheaper algorithms take it."""
    if isinstance(x, (float, np.floating)):
        return np.float64(x)
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x.astype(np.float64, copy=False)
    d = as_dd(x)
    return d.hi if d.ndim == 0 and d.lo == 0 else d


# ---------------------------------------------------------------- +, *, /, sqrt (docs/rigor.md §12.2)
def _binary(x: Any, y: Any, floats: Callable, with_float: Callable, both: Callable) -> DDArray:
    """Dispatch a commutative operation on the operand kinds: two floats, a DDArray and a float, two DDArrays."""
    x, y = _operand(x), _operand(y)
    if not isinstance(x, DDArray):
        x, y = y, x
    if not isinstance(x, DDArray):
        return DDArray(*floats(x, y))
    return both(x, y) if isinstance(y, DDArray) else with_float(x, y)


def _add_float(x: DDArray, y: np.ndarray) -> DDArray:
    sh, sl = two_sum(x.hi, y)
    return DDArray(*fast_two_sum(sh, x.lo + sl))


def _add_dd(x: DDArray, y: DDArray) -> DDArray:
    sh, sl = two_sum(x.hi, y.hi)
    th, tl = two_sum(x.lo, y.lo)
    vh, vl = fast_two_sum(sh, sl + th)
    return DDArray(*fast_two_sum(vh, tl + vl))


def add(x: Any, y: Any) -> DDArray:
    """x + y [JMP Alg. 6, AccurateDWPlusDW; Alg. 4 when one side is a float]."""
    return _binary(x, y, two_sum, _add_float, _add_dd)


def negative(x: Any) -> Any:
    """-x for any operand kind."""
    return -x if isinstance(x, (DDArray, np.ndarray, float, int, np.number)) else -as_dd(x)


def _mul_float(x: DDArray, y: np.ndarray) -> DDArray:
    ch, cl = two_prod(x.hi, y)
    return DDArray(*fast_two_sum(ch, cl + x.lo * y))


def _mul_dd(x: DDArray, y: DDArray) -> DDArray:
    ch, cl = two_prod(x.hi, y.hi)
    return DDArray(*fast_two_sum(ch, cl + (x.hi * y.lo + x.lo * y.hi)))


def mul(x: Any, y: Any) -> DDArray:
    """x y [JMP Alg. 10, DWTimesDW1; DWTimesFP1 when one side is a float]."""
    return _binary(x, y, two_prod, _mul_float, _mul_dd)


def div(x: Any, y: Any) -> DDArray:
    """x / y: q1 = xh/yh, then two Newton corrections q_k = r_h/y_h of the residual r = x - y (q1 + ...)."""
    x, y = as_dd(x), _operand(y)
    yh = y.hi if isinstance(y, DDArray) else y
    q1 = x.hi / yh
    r = add(x, -mul(y, q1))
    q2 = r.hi / yh
    r = add(r, -mul(y, q2))
    q3 = r.hi / yh
    return add(DDArray(*fast_two_sum(q1, q2)), q3)


def sqrt(x: Any) -> DDArray:
    """sqrt(x) = s + (x - s^2)/(2s) with s = fl(sqrt(xh)) and x - s^2 from TwoProd (one Newton step)."""
    x = as_dd(x)
    s = np.sqrt(x.hi)
    p, e = two_prod(s, s)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(s > 0, (((x.hi - p) - e) + x.lo) / (2 * s), 0.0)
    return DDArray(*fast_two_sum(s, corr))


def ldexp(x: DDArray, k: Any) -> DDArray:
    """x 2^k (exact barring under- and overflow)."""
    return DDArray(np.ldexp(x.hi, k), np.ldexp(x.lo, k))


def where(mask: Any, x: Any, y: Any) -> DDArray:
    """The entries of x where ``mask``, of y elsewhere."""
    x, y = as_dd(x), as_dd(y)
    return DDArray(np.where(mask, x.hi, y.hi), np.where(mask, x.lo, y.lo))


def concatenate(arrays: Any, axis: int = 0) -> DDArray:
    """np.concatenate of DDArrays and float arrays."""
    parts = [as_dd(a) for a in arrays]
    return DDArray(np.concatenate([p.hi for p in parts], axis), np.concatenate([p.lo for p in parts], axis))


def stack(arrays: Any, axis: int = 0) -> DDArray:
    """np.stack of DDArrays and float arrays."""
    parts = [as_dd(a) for a in arrays]
    return DDArray(np.stack([p.hi for p in parts], axis), np.stack([p.lo for p in parts], axis))


def const(value: Any) -> DDArray:
    """A real given as an mpmath number (evaluated at 50 digits by the caller) as a 0-d DDArray."""
    return as_dd(np.asarray(value, dtype=object))


# ---------------------------------------------------------------- matrix products: exact slices (docs/rigor.md §12.3)
def _slicing(k: int) -> tuple[int, int]:
    """(S, beta): S integer slices of beta bits with S k 2^(2 beta) <= 2^53 (every group sum of slice products is
    an exact BLAS result) and S beta >= 108 + log2 k (the dropped groups are below 2^-106)."""
    lg = math.log2(max(k, 1))
    for S in range(4, 12):
        beta = (53 - math.ceil(lg + math.log2(S))) // 2
        if S * beta >= 108 + lg:
            return S, beta
    raise ValueError(f"double-double matmul: inner dimension {k} too large")


def _slices(x: DDArray, axis: int, S: int, beta: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Exponents E (max over ``axis`` of |x| < 2^E) and integer-valued float slices N_0..N_(S-1) with
    x = 2^(E - beta) sum_s N_s 2^(-s beta) + (a remainder below 2^(E - S beta))."""
    amax = np.max(np.abs(x.hi), axis=axis, keepdims=True)
    E = np.frexp(amax)[1]
    a, al = np.ldexp(x.hi, beta - E), np.ldexp(x.lo, beta - E)
    out = []
    for s in range(S):
        N = np.rint(a)
        out.append(N)
        if s + 1 < S:
            a, al = two_sum(a - N, al)
            a, al = a * 2.0**beta, al * 2.0**beta
    return E, out


def matmul(x: DDArray, y: DDArray) -> DDArray:
    """x @ y for 1-D and 2-D operands (Ozaki's scheme [O], docs/rigor.md §12.3): rows of x and columns of y are
    cut into S integer slices; each group G_g = sum_(s+t=g) N_s M_t is one exact BLAS product, and the groups
    g < S are summed in double-double, smallest first, then scaled back by the row and column exponents. Error
    about 2^-106 k max_l |x_il| max_l |y_lj| for inner dimension k."""
    if x.ndim > 2 or y.ndim > 2 or x.ndim == 0 or y.ndim == 0:
        raise ValueError("double-double matmul takes 1-D and 2-D operands")
    a = x if x.ndim == 2 else x.reshape(1, -1)
    b = y if y.ndim == 2 else y.reshape(-1, 1)
    k = a.shape[1]
    if b.shape[0] != k:
        raise ValueError(f"matmul: shapes {x.shape} and {y.shape} do not align")
    S, beta = _slicing(k)
    Ea, A = _slices(a, 1, S, beta)
    Eb, B = _slices(b, 0, S, beta)
    acc = None
    for g in range(S - 1, -1, -1):
        G = np.hstack(A[: g + 1]) @ np.vstack(B[g::-1]) if g else A[0] @ B[0]
        G = np.ldexp(G, -g * beta)
        acc = DDArray(G) if acc is None else add(acc, G)
    out = ldexp(acc, Ea + Eb - 2 * beta)
    if y.ndim == 1:
        out = out.reshape(out.shape[:-1])
    if x.ndim == 1:
        out = out.reshape(out.shape[1:])
    return out


# ---------------------------------------------------------------- constants
def _table(fn: Callable[[Any], Any], points: Any) -> DDArray:
    with mpmath.workdps(50):
        return as_dd(np.array([fn(p) for p in points], dtype=object))


with mpmath.workdps(50):
    PI = const(+mpmath.pi)
    _LN2 = +mpmath.ln2
    _HALF_PI = mpmath.pi / 2
    _INV_FACT = [const(1 / mpmath.factorial(j)) for j in range(7)]
    _INV_FACT_FLOAT = [float(1 / mpmath.factorial(j)) for j in range(14)]

#: exp: x = N ln2/2^P + r, N = 2^P k + j, |j| <= 2^(P-1), |r| <= ln2/2^(P+1); tables of 2^(j/2^P) and 2^(j/2^P) - 1
P = 8
_J = range(-(2 ** (P - 1)), 2 ** (P - 1) + 1)
with mpmath.workdps(50):
    _EXP2 = _table(lambda j: mpmath.mpf(2) ** (mpmath.mpf(j) / 2**P), _J)
    _EXP2M1 = _table(lambda j: mpmath.mpf(2) ** (mpmath.mpf(j) / 2**P) - 1, _J)


def _cody_waite(c: Any, top: int) -> tuple[float, float, float]:
    """c = C1 + C2 + C3 (+ < 2^-160 c) with C1, C2 of 53 - top bits, so N C1 and N C2 are exact for |N| < 2^top."""
    with mpmath.workdps(60):
        e = mpmath.floor(mpmath.log(abs(c), 2))
        parts, rest = [], mpmath.mpf(c)
        for _ in range(2):
            q = mpmath.floor(rest * 2 ** (52 - top - e)) / 2 ** (52 - top - e)
            parts.append(float(q))
            rest, e = rest - q, e - (53 - top)
        return parts[0], parts[1], float(rest)


with mpmath.workdps(50):
    _LN2_C = _cody_waite(_LN2 / 2**P, 20)
_INV_LN2 = float(2**P / _LN2)
_HALF_PI_C = _cody_waite(_HALF_PI, 20)
_REDUCE_MAX = 2.0**19  # |N| < 2^20 keeps N C1, N C2 exact


# ---------------------------------------------------------------- exp, expm1, log1p (docs/rigor.md §12.4)
def _expm1_reduced(x: DDArray) -> tuple[DDArray, np.ndarray, np.ndarray]:
    """(e^r - 1, k, j) for x = (2^P k + j) ln2/2^P + r, x.hi in [-760, 720]."""
    N = np.rint(x.hi * _INV_LN2)
    N = np.where(np.isfinite(N), N, 0.0)
    k = np.rint(N * 2.0**-P)
    j = (N - k * 2**P).astype(np.int64) + 2 ** (P - 1)
    c1, c2, c3 = _LN2_C
    s, e1 = two_sum(x.hi, -N * c1)
    s, e2 = two_sum(s, -N * c2)
    r = DDArray(*fast_two_sum(s, ((e1 + e2) + x.lo) - N * c3))
    # expm1(r) = r (1 + r/2 + ... + r^4/5! + r^5 q(r)), q(r) = sum_{i=6..10} r^(i-6)/i! in float (|r| <= 1.4e-3)
    q = np.full_like(r.hi, _INV_FACT_FLOAT[10])
    for i in range(9, 5, -1):
        q = q * r.hi + _INV_FACT_FLOAT[i]
    p = add(mul(r, q), _INV_FACT[5])
    for i in range(4, 0, -1):
        p = add(mul(p, r), _INV_FACT[i])
    return mul(p, r), k, j


def _clipped(x: DDArray) -> DDArray:
    """x with hi clipped to [-760, 720]: e^x is 0 or overflows beyond (lo dropped there)."""
    c = np.clip(x.hi, -760.0, 720.0)
    return DDArray(c, np.where(c == x.hi, x.lo, 0.0))


def exp(x: Any) -> DDArray:
    """e^x = 2^k T_j (1 + expm1(r)), T_j = 2^(j/2^P) from the table (Tang's reduction [T]); relative error
    about 10u^2 for |x| <= 700."""
    em, k, j = _expm1_reduced(_clipped(as_dd(x)))
    T = DDArray(_EXP2.hi[j], _EXP2.lo[j])
    with np.errstate(over="ignore"):
        return ldexp(add(T, mul(T, em)), k.astype(np.int64))


def expm1(x: Any) -> DDArray:
    """e^x - 1 = 2^k ((T_j - 1) + T_j expm1(r)) + (2^k - 1): relative accuracy also near 0 (no cancellation
    at k = 0, j = 0, where it is expm1(r))."""
    em, k, j = _expm1_reduced(_clipped(as_dd(x)))
    T, TM1 = DDArray(_EXP2.hi[j], _EXP2.lo[j]), DDArray(_EXP2M1.hi[j], _EXP2M1.lo[j])
    ki = k.astype(np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        e = ldexp(add(TM1, mul(T, em)), ki)
        return add(e, DDArray(*two_sum(np.ldexp(1.0, ki), -1.0)))


def log1p(x: Any) -> DDArray:
    """log(1 + x) for x > -1: y0 = float log1p(x_h), then y = y0 + log1p(-t) = y0 - t - t^2/2 - ... with
    t = (expm1(y0) - x)/(1 + expm1(y0)) (|t| <= 1e-13: the t^3 term is below 1e-39)."""
    x = as_dd(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        y0 = np.log1p(x.hi)
    e = expm1(np.where(np.isfinite(y0), y0, 0.0))
    t = div(add(e, -x), add(e, 1.0))
    y = add(add(-t, -0.5 * t.hi * t.hi), y0)
    return where(np.isfinite(y0), y, DDArray(y0))


#: |z| >= 38: 0 < 1 - tanh|z| = 2/(e^(2|z|) + 1) < 2 e^-76 < u^2 / 8
_TANH_SAT = 38.0


def tanh(z: Any) -> DDArray:
    """tanh|z| = -F/(2 + F), F = expm1(-2|z|) in (-1, 0] (no cancellation), sign restored; +-1 for |z| >= 38."""
    z = as_dd(z)
    a = abs(z)
    sat = a.hi >= _TANH_SAT
    F = expm1(DDArray(np.where(sat, 0.0, -2 * a.hi), np.where(sat, 0.0, -2 * a.lo)))
    t = div(-F, add(F, 2.0))
    sign = np.where(z.hi < 0, -1.0, 1.0)
    return DDArray(np.where(sat, 1.0, t.hi) * sign, np.where(sat, 0.0, t.lo) * sign)


# ---------------------------------------------------------------- sin, cos (docs/rigor.md §12.5)
_SC_STEPS = 64  # table of sin, cos at i/64, i = 0..51 (pi/4 < 51/64)
_SIN_T = _table(lambda i: mpmath.sin(mpmath.mpf(i) / _SC_STEPS), range(52))
_COS_T = _table(lambda i: mpmath.cos(mpmath.mpf(i) / _SC_STEPS), range(52))


def _sin_cos_small(t: DDArray) -> tuple[DDArray, DDArray]:
    """(sin t, cos t) for |t| <= 1/128: Taylor in u = t^2, the terms above u^2 (sin) and u^3 (cos) in float."""
    u = mul(t, t)
    f = _INV_FACT_FLOAT
    qs = ((-f[13] * u.hi + f[11]) * u.hi - f[9]) * u.hi + f[7]      # sum_{i>=3} (-u)^(i-3)/(2i+1)!
    qc = ((f[12] * u.hi - f[10]) * u.hi + f[8])                    # sum_{i>=4} (-u)^(i-4)/(2i)!
    s = add(mul(add(mul(u, -qs), _INV_FACT[5]), u), -_INV_FACT[3])  # -1/3! + u/5! - u^2 q_s
    s = add(mul(s, u), 1.0)
    c = add(mul(u, qc), -_INV_FACT[6])
    c = add(mul(add(mul(c, u), _INV_FACT[4]), u), -0.5)
    return mul(s, t), add(mul(c, u), 1.0)


def _sin_cos(x: Any) -> tuple[DDArray, DDArray]:
    """sin x, cos x: x = k pi/2 + r (Cody-Waite, |k| < 2^19), r = i/64 + t, the addition formulas with the table
    sin(i/64), cos(i/64) (i >= 0 by symmetry), then the quadrant k mod 4. Entries with |x| >= 2^19 pi/2 go to
    mpmath at 40 digits."""
    x = as_dd(x)
    far = ~(np.abs(x.hi) < _REDUCE_MAX)
    xs = where(far, 0.0, x)
    k = np.rint(xs.hi / float(_HALF_PI))
    c1, c2, c3 = _HALF_PI_C
    s, e1 = two_sum(xs.hi, -k * c1)
    s, e2 = two_sum(s, -k * c2)
    r = DDArray(*fast_two_sum(s, ((e1 + e2) + xs.lo) - k * c3))
    sgn = np.where(r.hi < 0, -1.0, 1.0)
    ra = DDArray(r.hi * sgn, r.lo * sgn)
    i = np.minimum(np.rint(ra.hi * _SC_STEPS), 51).astype(np.int64)
    st, ct = _sin_cos_small(add(ra, -i / _SC_STEPS))
    Si, Ci = DDArray(_SIN_T.hi[i], _SIN_T.lo[i]), DDArray(_COS_T.hi[i], _COS_T.lo[i])
    sr = add(mul(Si, ct), mul(Ci, st))
    cr = add(mul(Ci, ct), -mul(Si, st))
    sr = DDArray(sr.hi * sgn, sr.lo * sgn)
    q = k.astype(np.int64) % 4
    sin_x = where(q == 0, sr, where(q == 1, cr, where(q == 2, -sr, -cr)))
    cos_x = where(q == 0, cr, where(q == 1, -sr, where(q == 2, -cr, sr)))
    if far.any():
        with mpmath.workdps(40):
            big = DDArray(x.hi[far], x.lo[far]).to_mpf()
            for out, fn in ((sin_x, mpmath.sin), (cos_x, mpmath.cos)):
                v = as_dd(np.array([fn(b) for b in big], dtype=object))
                out.hi[far], out.lo[far] = v.hi, v.lo
    return sin_x, cos_x


def sin(x: Any) -> DDArray:
    """sin x (see :func:`_sin_cos`)."""
    return _sin_cos(x)[0]


def cos(x: Any) -> DDArray:
    """cos x (see :func:`_sin_cos`)."""
    return _sin_cos(x)[1]


# ---------------------------------------------------------------- erf (docs/rigor.md §12.6)
_ERF_SERIES_MAX = 6.0
with mpmath.workdps(50):
    _TWO_OVER_SQRT_PI = const(2 / mpmath.sqrt(mpmath.pi))

try:  # scipy is optional
    from scipy.special import erfc as _float_erfc
except ImportError:  # pragma: no cover - exercised only without scipy
    _float_erfc = np.vectorize(math.erfc, otypes=[float])


def erf(x: Any) -> DDArray:
    """erf x = (2/sqrt pi) e^(-x^2) sum_n (2x^2)^n x / (1 3 ... (2n+1)) (positive terms, no cancellation) for
    |x| <= 6, summed until every term is below u^2/4 of its sum; sign(x)(1 - erfc|x|) beyond, erfc|x| < 2.2e-17
    taken in float (absolute error below 1e-32)."""
    x = as_dd(x)
    near = np.abs(x.hi) <= _ERF_SERIES_MAX
    xs = where(near, x, 0.0)
    x2 = mul(xs, xs)
    two_x2 = DDArray(2 * x2.hi, 2 * x2.lo)
    term, total, n = xs, xs, 0
    while True:
        n += 1
        term = div(mul(term, two_x2), 2.0 * n + 1)
        total = add(total, term)
        if not (np.abs(term.hi) > 2.0**-108 * np.abs(total.hi)).any():
            break
    series = mul(mul(total, exp(-x2)), _TWO_OVER_SQRT_PI)
    sign = np.where(x.hi < 0, -1.0, 1.0)
    with np.errstate(invalid="ignore"):
        tail = DDArray(*two_sum(1.0, -_float_erfc(np.abs(x.hi))))
    return where(near, series, DDArray(tail.hi * sign, tail.lo * sign))


# ---------------------------------------------------------------- numpy dispatch tables
def _compare(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], np.ndarray]:
    return lambda a, b: op(add(a, negative(b)).hi, 0.0)


_UFUNCS: dict[Any, Callable[..., Any]] = {
    np.add: add, np.subtract: lambda a, b: add(a, negative(b)), np.multiply: mul, np.true_divide: div,
    np.negative: lambda a: -as_dd(a), np.positive: as_dd, np.absolute: lambda a: abs(as_dd(a)),
    np.matmul: lambda a, b: matmul(as_dd(a), as_dd(b)), np.sqrt: sqrt, np.tanh: tanh, np.exp: exp,
    np.expm1: expm1, np.log1p: log1p, np.sin: sin, np.cos: cos,
    np.isfinite: lambda a: np.isfinite(as_dd(a).hi) & np.isfinite(as_dd(a).lo),
    np.less: _compare(np.less), np.less_equal: _compare(np.less_equal), np.greater: _compare(np.greater),
    np.greater_equal: _compare(np.greater_equal), np.equal: _compare(np.equal),
    np.not_equal: _compare(np.not_equal),
}
_FUNCTIONS: dict[Any, Callable[..., Any]] = {np.concatenate: concatenate, np.stack: stack, np.where: where}
