"""Double-double ball arithmetic on numpy float64 arrays (docs/rigor.md §9).

A value ``DD(hi, lo, rad)`` stands for every real in [hi + lo - rad, hi + lo + rad]; hi + lo is an exact
sum of two floats (about 106 bits). Every operation returns a ball containing the exact result of the
operation applied to any points of its argument balls. Centres come from error-free transformations
(TwoSum, Dekker's TwoProd with Veltkamp's split, exact integer slices in BLAS products); each rounding that
is not error-free adds u|result| to the radius, and radii are evaluated in round-to-nearest and then
covered (:func:`cover`, docs/rigor.md §9.1). IEEE binary64 with round to nearest is assumed throughout,
and for :func:`matmul` that BLAS products of integer-valued matrices whose partial sums are integers below
2^53 are exact (any order, FMA allowed; docs/rigor.md §0's BLAS model). A non-finite result raises
``FloatingPointError``.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import NamedTuple, Union

import numpy as np

U = 2.0**-53
#: absolute cover: dominates every underflow term (at most 2^40 of size 2^-1074) of one operation
TINY = 2.0**-1000
#: relative cover: COVER (1 - U)^(2^21 + 2) > 1, for chains of <= 2^21 roundings (docs/rigor.md §9.1)
COVER = 1.0 + 2.0**-30
#: largest inner dimension of matmul (keeps every radius chain below 2^21 roundings)
MAX_INNER = 2**20
_SPLITTER = 134217729.0  # 2^27 + 1 (Veltkamp)
#: below this |fl(a b)| the product is taken as the float product with radius u|p| (docs/rigor.md §9.2)
_DEKKER_MIN = 2.0**-900


_ZERO = np.zeros(())  # lo and radius of a float (broadcast)


class DD(NamedTuple):
    """A double-double ball: the reals in [hi + lo - rad, hi + lo + rad] (arrays broadcast together)."""

    hi: np.ndarray
    lo: np.ndarray
    rad: np.ndarray


Operand = Union[DD, np.ndarray, float]


def cover(r: np.ndarray) -> np.ndarray:
    """fl(fl(r COVER) + TINY): an upper bound on any radius formula of docs/rigor.md §9.1 evaluated as ``r``."""
    return r * COVER + TINY


def as_dd(x: Operand) -> DD:
    """A float (array) as an exact ball; a ball is returned as it is."""
    if isinstance(x, DD):
        return x
    return DD(np.asarray(x, dtype=np.float64), _ZERO, _ZERO)


def _checked(z: DD) -> DD:
    if not np.isfinite(z.hi + z.lo + z.rad).all():
        raise FloatingPointError("double-double result is not finite (overflow, or an overflowing split)")
    return z


def two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knuth's TwoSum: s = fl(a + b) and e with s + e = a + b exactly (barring overflow)."""
    s = a + b
    bb = s - a
    e = s - bb
    if not isinstance(e, np.ndarray):
        return s, (a - e) + (b - bb)
    np.subtract(a, e, out=e)  # in place: fewer temporaries (same operations)
    np.subtract(b, bb, out=bb)
    e += bb
    return s, e


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp's split a = ah + al, ah and al of at most 26 bits; exact unless 2^27 a overflows (then NaN)."""
    c = _SPLITTER * a
    ah = c - (c - a)
    return ah, a - ah


def two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dekker's TwoProd: p = fl(a b), e, and a bound t with |a b - p - e| <= t + 2^-1075.

    Exact (t = 0) where |p| >= 2^-900; elsewhere e = 0 and t = u|p| (docs/rigor.md §9.2).
    """
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    small = np.abs(p) < _DEKKER_MIN
    if not small.any():
        return p, e, np.zeros((), dtype=np.float64)
    return p, np.where(small, 0.0, e), np.where(small, U * np.abs(p), 0.0)


def neg(x: DD) -> DD:
    """-x (exact)."""
    return DD(-x.hi, -x.lo, x.rad)


def add(x: Operand, y: Operand) -> DD:
    """x + y (docs/rigor.md §9.2): two TwoSums, two rounded additions c, w, two TwoSums; radius
    rx + ry + u(|c| + |w|), covered."""
    return _checked(_add(as_dd(x), as_dd(y)))


def _add(x: DD, y: DD) -> DD:
    """:func:`add` without the finiteness check (non-finite values propagate, docs/rigor.md §9.1)."""
    sh, sl = two_sum(x.hi, y.hi)
    th, tl = two_sum(x.lo, y.lo)
    c = sl + th
    vh, vl = two_sum(sh, c)
    w = tl + vl
    zh, zl = two_sum(vh, w)
    return DD(zh, zl, cover(x.rad + y.rad + U * (np.abs(c) + np.abs(w))))


def sub(x: Operand, y: Operand) -> DD:
    """x - y = x + (-y)."""
    return add(x, neg(as_dd(y)))


def mul(x: Operand, y: Operand) -> DD:
    """x y (docs/rigor.md §9.2): TwoProd(xh, yh) plus the rounded cross terms xh yl, xl yh, xl yl;
    radius rx|y| + ry|x| + rx ry + t + u(|each rounded result|), covered. Squares are mul(x, x)."""
    return _checked(_mul(as_dd(x), as_dd(y)))


def _mul(x: DD, y: DD) -> DD:
    """:func:`mul` without the finiteness check (non-finite values propagate, docs/rigor.md §9.1)."""
    if y.lo is _ZERO and y.rad is _ZERO:  # a float y: t1 = t3 = 0, s1 = s2 = t2 (docs/rigor.md §9.2)
        ph, pl, t = two_prod(x.hi, y.hi)
        t2 = x.lo * y.hi
        c = pl + t2
        zh, zl = two_sum(ph, c)
        return DD(zh, zl, cover(x.rad * np.abs(y.hi) + (U * (np.abs(t2) + np.abs(c)) + t)))
    ph, pl, t = two_prod(x.hi, y.hi)
    t1, t2, t3 = x.hi * y.lo, x.lo * y.hi, x.lo * y.lo
    s1 = t1 + t2
    s2 = s1 + t3
    c = pl + s2
    zh, zl = two_sum(ph, c)
    rnd = U * (np.abs(t1) + np.abs(t2) + np.abs(t3) + np.abs(s1) + np.abs(s2) + np.abs(c)) + t
    ax, ay = np.abs(x.hi) + np.abs(x.lo), np.abs(y.hi) + np.abs(y.lo)
    return DD(zh, zl, cover(x.rad * ay + y.rad * ax + x.rad * y.rad + rnd))


def square(x: Operand) -> DD:
    """x^2 as mul(x, x) (the ball bound 2 rx|x| + rx^2 is mul's with y = x)."""
    return mul(x, x)


def ldexp(x: DD, e: np.ndarray | int) -> DD:
    """x 2^e: exact for the centre unless it underflows (then within 2^-1075 per part, in the cover)."""
    return _checked(DD(np.ldexp(x.hi, e), np.ldexp(x.lo, e), cover(np.ldexp(x.rad, e))))


def magnitude_lower(x: DD) -> np.ndarray:
    """A float <= inf |x| over the ball (0 where the ball may contain 0)."""
    d = np.abs(x.hi) - cover(np.abs(x.lo) + x.rad)
    return np.maximum(d * (1 - 2.0**-52), 0.0)  # fl(a - b) >= (a - b)(1 - u) when positive


def div(x: Operand, y: Operand) -> DD:
    """x / y for balls y away from 0 (docs/rigor.md §9.3): q = q0 + q1 by one Newton correction, then the
    residual ball R of x - y q (exact q) gives |x/y - q| <= sup|R| / inf|y|."""
    x, y = as_dd(x), as_dd(y)
    ylo = magnitude_lower(y)
    if not (ylo > 0).all():
        raise ZeroDivisionError("divisor ball contains 0")
    q0 = x.hi / y.hi
    r0 = _add(x, neg(_mul(y, as_dd(q0))))
    q1 = r0.hi / y.hi
    res = _add(r0, neg(_mul(y, as_dd(q1))))
    qh, ql = two_sum(q0, q1)
    num = cover(np.abs(res.hi) + np.abs(res.lo) + res.rad)
    return _checked(DD(qh, ql, cover(num / ylo)))


# ---------------------------------------------------------------- constants from exact rationals
def _float_up(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) >= q else math.nextafter(f, math.inf)


def const(lo: Fraction, hi: Fraction | None = None) -> DD:
    """The ball (as 0-d arrays) of the rational interval [lo, hi] (hi = lo: a rational point)."""
    hi = lo if hi is None else hi
    mid = (lo + hi) / 2
    h = float(mid)
    low = float(mid - Fraction(h))
    err = abs(mid - Fraction(h) - Fraction(low)) + (hi - lo) / 2
    return DD(np.float64(h), np.float64(low), np.float64(_float_up(err)))


def inv_sqrt(m: int, bits: int = 140) -> DD:
    """m^{-1/2} for an integer m >= 1: a = floor(2^bits / sqrt(m)) = isqrt(4^bits // m) gives
    m^{-1/2} in [a, a + 1] 2^-bits."""
    a = math.isqrt(4**bits // m)
    return const(Fraction(a, 2**bits), Fraction(a + 1, 2**bits))


def _ln2_interval() -> tuple[Fraction, Fraction]:
    """ln 2 = sum_{k>=1} 1/(k 2^k); the tail after K terms is <= 1/((K + 1) 2^K)."""
    K = 130
    s = sum(Fraction(1, k * 2**k) for k in range(1, K + 1))
    return s, s + Fraction(1, (K + 1) * 2**K)


def _ln2() -> DD:
    """The ball of ln 2."""
    return const(*_ln2_interval())


LN2 = _ln2()


def _ball_int(lo: int, hi: int, bits: int) -> tuple[float, float, float]:
    """(h, l, rad) of the ball of [lo, hi] 2^-bits (integers lo <= hi), as :func:`const` in integer arithmetic:
    h = fl(mid), l = fl(mid - h) (int / int is correctly rounded), rad >= |mid - h - l| + half-width."""
    num, den = lo + hi, 2 ** (bits + 1)  # mid = num / den
    h = num / den
    hn, hd = h.as_integer_ratio()
    rn, rd = num * hd - hn * den, den * hd  # mid - h
    low = rn / rd
    ln, ld = low.as_integer_ratio()
    en, ed = abs(rn * ld - ln * rd) + (hi - lo) * hd * ld, rd * ld  # |mid - h - l| + (hi - lo)/den
    return h, low, math.nextafter(en / ed, math.inf) if en else 0.0


def _exp2_table(p: int, bits: int = 200) -> tuple[DD, DD]:
    """Balls of T_j = 2^(j/2^p) and T_j - 1 for j = -2^(p-1)..2^(p-1) (docs/rigor.md §9.4): p nested isqrt give
    a = floor(2^(1/2^p) 2^bits) (floor(sqrt(floor(y))) = floor(sqrt(y))), so 2^(1/2^p) in [a, a + 1] 2^-bits;
    integer interval powers (floor of the lower, ceiling of the upper end) and reciprocals enclose T_j."""
    a = 2 ** (1 + 2**p * bits)
    for _ in range(p):
        a = math.isqrt(a)
    one, half = 2**bits, 2 ** (p - 1)
    lo, hi = [one], [one]
    for _ in range(half):
        lo.append(lo[-1] * a >> bits)
        hi.append(-(-hi[-1] * (a + 1) >> bits))
    ends = [(-(-one * one // l), one * one // h)[::-1] for l, h in zip(lo[:0:-1], hi[:0:-1])] + list(zip(lo, hi))
    T = np.array([_ball_int(l, h, bits) for l, h in ends]).T
    TM1 = np.array([_ball_int(l - one, h - one, bits) for l, h in ends]).T
    return DD(*(np.ascontiguousarray(c) for c in T)), DD(*(np.ascontiguousarray(c) for c in TM1))


def _cody_waite(p: int) -> tuple[float, float, float, float]:
    """C1, C2, C3, tau with |ln2 / 2^p - (C1 + C2 + C3)| <= tau: C1, C2 of at most 33 significant bits (so
    N C1, N C2 are exact for |N| < 2^20), C3 = fl(rest); from the rational enclosure of ln 2 (docs/rigor.md §9.4)."""
    lo, hi = _ln2_interval()
    lo, hi = lo / 2**p, hi / 2**p
    e = 32 - math.floor(math.log2(lo))  # lo 2^e in [2^32, 2^33)
    c1 = Fraction(math.floor(lo * 2**e), 2**e)
    c2 = Fraction(math.floor((lo - c1) * 2 ** (e + 33)), 2 ** (e + 33))
    c3 = float(lo - c1 - c2)
    rest = c1 + c2 + Fraction(c3)
    return float(c1), float(c2), c3, _float_up(max(abs(lo - rest), abs(hi - rest)))


#: expm1: x = N ln2/2^P + r, N = 2^P k + j, |j| <= 2^(P-1), |r| <= RMAX; e^x - 1 = 2^k (T_j - 1 + T_j expm1(r)) + 2^k - 1
P = 10
RMAX = 2.0**-11
_T, _TM1 = _exp2_table(P)
_C1, _C2, _C3, _TAU = _cody_waite(P)
_INV_L = 2**P / math.log(2)  # any float: N only has to make r small (checked)
#: expm1(r) = r (1 + r/2 + ... + r^4/4! + r^5 q(r)), q(r) = sum_{j>=6} r^(j-6)/j!: q in float (degree 3), the
#: rest in ball arithmetic (docs/rigor.md §9.4)
TAYLOR_N = 9
_Q_FROM = 6
_INV_FACT = [const(Fraction(1, math.factorial(j))) for j in range(_Q_FROM)]
_Q_COEF = [float(Fraction(1, math.factorial(j))) for j in range(TAYLOR_N, _Q_FROM - 1, -1)]


def _q_radius() -> tuple[float, float]:
    """(Q0, Q1): |fl-Horner q(r_h) - q(r')| <= Q0 + Q1 |r' - r_h| for |r'|, |r_h| <= RMAX (docs/rigor.md §9.4):
    Horner's gamma_6, the rounded coefficients, the tail sum_{j>9} (<= 2 RMAX^4 / 10!) and underflow; Q1 bounds q'."""
    u, R = Fraction(1, 2**53), Fraction(RMAX)
    s = sum(Fraction(1, math.factorial(j)) * R ** (j - _Q_FROM) for j in range(_Q_FROM, TAYLOR_N + 1))
    g6 = 6 * u / (1 - 6 * u)
    tail = 2 * R ** (TAYLOR_N + 1 - _Q_FROM) / math.factorial(TAYLOR_N + 1)
    q0 = (g6 * (1 + u) + u) * s + tail + Fraction(1, 2**1000)
    q1 = sum(Fraction(j - _Q_FROM, math.factorial(j)) * R ** (j - _Q_FROM - 1) for j in range(_Q_FROM + 1, TAYLOR_N + 1))
    return _float_up(q0), _float_up(q1)


_Q0, _Q1 = _q_radius()


# ---------------------------------------------------------------- exp and tanh
def expm1(x: DD) -> DD:
    """e^x - 1 for |x| <= 700 (docs/rigor.md §9.4): N = rint(x 2^P / ln2) = 2^P k + j, r = x - N ln2/2^P by a
    Cody-Waite split (exact products, TwoSums), expm1(r) by Horner (the degree >= 6 part in float with a proven
    bound, the rest in balls), then 2^k ((T_j - 1) + T_j expm1(r)) + (2^k - 1) with the table balls T_j."""
    if not (np.abs(x.hi) <= 700).all():
        raise FloatingPointError("expm1: |x| > 700")
    N = np.rint(x.hi * _INV_L)
    k = np.rint(N * 2.0**-P)
    j = (N - k * 2.0**P).astype(np.int64) + 2 ** (P - 1)
    t1, e1 = two_sum(x.hi, N * -_C1)
    s, e2 = two_sum(t1, N * -_C2)
    g1 = e1 + e2
    g2 = g1 + x.lo
    h3 = N * _C3
    g3 = g2 - h3
    rh, rl = two_sum(s, g3)
    rrad = cover(x.rad + U * (np.abs(g1) + np.abs(g2) + np.abs(h3) + np.abs(g3)) + np.abs(N) * _TAU)
    r = DD(rh, rl, rrad)
    if not (cover(np.abs(rh) + np.abs(rl) + rrad) <= RMAX).all():
        raise FloatingPointError("expm1: argument reduction failed")
    q = np.full_like(rh, _Q_COEF[0])
    for c in _Q_COEF[1:]:
        q = q * rh + c
    p = DD(q, np.zeros_like(q), cover(_Q0 + (np.abs(rl) + rrad) * _Q1))
    for c in _INV_FACT[_Q_FROM - 1:0:-1]:
        p = _add(_mul(p, r), c)
    e = _mul(p, r)
    T, TM1 = DD(*(c[j] for c in _T)), DD(*(c[j] for c in _TM1))
    ki = k.astype(np.int64)
    e = _add(TM1, _mul(T, e))
    e = DD(np.ldexp(e.hi, ki), np.ldexp(e.lo, ki), cover(np.ldexp(e.rad, ki)))
    return _checked(_add(e, DD(*two_sum(np.ldexp(1.0, ki), np.full_like(k, -1.0)), np.zeros(()))))


#: |z| >= 40 gives 0 < 1 - tanh|z| = 2/(e^{2|z|} + 1) < 2 e^-80 < 2^-110
_SAT = 41.0
_SAT_RAD = 2.0**-110


def where(mask: np.ndarray, x: Operand, y: Operand) -> DD:
    """The ball of x where ``mask``, of y elsewhere."""
    x, y = as_dd(x), as_dd(y)
    return DD(*(np.where(mask, a, b) for a, b in zip(x, y)))


#: elementwise functions of large arrays run on blocks of this many entries (cache-sized temporaries)
BLOCK = 4096


def blockwise(f, *xs: Operand) -> DD:
    """f applied to flat blocks of BLOCK entries of the broadcast balls ``xs`` (f elementwise: the same values)."""
    xs = tuple(as_dd(x) for x in xs)
    shape = np.broadcast_shapes(*(np.shape(c) for x in xs for c in x))
    size = math.prod(shape)
    if size <= BLOCK:
        return f(*xs)
    flat = [DD(*(np.broadcast_to(c, shape).reshape(-1) for c in x)) for x in xs]
    out = DD(np.empty(size), np.empty(size), np.empty(size))
    for i in range(0, size, BLOCK):
        z = f(*(DD(x.hi[i:i + BLOCK], x.lo[i:i + BLOCK], x.rad[i:i + BLOCK]) for x in flat))
        for o, c in zip(out, z):
            o[i:i + BLOCK] = c
    return DD(*(o.reshape(shape) for o in out))


def tanh(z: Operand) -> DD:
    """tanh over a ball, on blocks (:func:`blockwise`) of :func:`_tanh`."""
    return blockwise(_tanh, z)


def _tanh(z: DD) -> DD:
    """tanh over a ball (docs/rigor.md §9.4). At the exact centre c, with F = expm1(-2|c|) in (-1, 0]:
    tanh|c| = -F/(2 + F) (no cancellation: |F| is enclosed to relative accuracy, 2 + F in (1, 2]);
    +-1 within 2^-110 for |c| >= 40; sign restored (tanh is odd); plus rad_z (|tanh'| <= 1)."""
    z = as_dd(z)
    ch, cl = two_sum(z.hi, z.lo)
    sign = np.copysign(1.0, ch)
    sat = np.abs(ch) >= _SAT  # then |c| >= 40 since |cl| <= u|ch|
    if sat.any():
        ch, cl = np.where(sat, 0.0, ch), np.where(sat, 0.0, cl)
    f = expm1(DD(-2 * np.abs(ch), -2 * sign * cl, _ZERO))
    t = div(neg(f), _add(f, as_dd(2.0)))
    if sat.any():
        t = where(sat, DD(1.0, 0.0, _SAT_RAD), t)
    return _checked(DD(t.hi * sign, t.lo * sign, cover(t.rad + z.rad)))


# ---------------------------------------------------------------- matrix products
@functools.lru_cache(maxsize=64)
def _slicing(k: int) -> tuple[int, int]:
    """(S, beta): S slices of beta bits with S k 2^(2 beta) <= 2^53 (exact BLAS levels) and
    k (6 + 2S) 2^(-S beta) <= 2^-110 (the neglected tail), docs/rigor.md §9.5."""
    for S in range(3, 12):
        beta = (53 - math.ceil(math.log2(S * k))) // 2
        if S * beta >= 110 + math.log2(k * (6 + 2 * S)):
            return S, beta
    raise ValueError(f"inner dimension {k} too large for exact slicing")


def _slices(h: np.ndarray, l: np.ndarray, S: int, beta: int) -> tuple[np.ndarray, np.ndarray]:
    """Row exponents E (|row i| <= 2^E_i) and integer matrices N_1..N_S (as out[:, s]), |N_s| <= 2^beta, with
    row_i 2^-E_i = sum_s N_s 2^(-s beta) + (remainder of size <= 2^(1 - S beta))."""
    h, l = two_sum(np.ascontiguousarray(h), np.ascontiguousarray(l))  # rows contiguous: fast slices
    _, E = np.frexp(np.max(np.abs(h) + np.abs(l), axis=1))
    if (E >= -1022).all():  # 2^-E is a float: the product is the correctly rounded h 2^-E, as ldexp
        sc = np.ldexp(1.0, -E)[:, None]
        yh, yl = h * sc, l * sc
    else:
        yh, yl = np.ldexp(h, -E[:, None]), np.ldexp(l, -E[:, None])
    out, scale, lo = np.empty((h.shape[0], S, h.shape[1])), 2.0**beta, yl.any()
    for s in range(S):  # the h and l parts sliced on the same grid, each exactly (docs/rigor.md §9.5)
        yh *= scale
        n = np.rint(yh, out=out[:, s])
        yh -= n
        if lo:
            yl *= scale
            nl = np.rint(yl)
            yl -= nl
            n += nl
    return E, out


def matmul(a: Operand, b: Operand) -> DD:
    """a @ b for a of shape (n, k), b of shape (k, m) or (k,) (docs/rigor.md §9.5).

    Rows of a and columns of b are cut into S integer slices of beta bits (scaled by 2^E_i, 2^F_j); the
    level products L_l = sum_{s+t=l} N_s N'_t, l <= S + 1, come from one exact BLAS product (zero slices of a
    skipped) and are summed by a TwoSum cascade, the compensation's roundings in the radius; the neglected
    pairs and remainders add k (6 + 2S) 2^(E_i + F_j - S beta); input radii add r_a(|b| + r_b) + |a| r_b
    (float BLAS on non-negative matrices, covered).
    """
    a, b = as_dd(a), as_dd(b)
    vec = b.hi.ndim == 1
    if vec:
        b = DD(*(np.asarray(c)[:, None] if np.ndim(c) else c for c in b))
    n, k = a.hi.shape
    m = b.hi.shape[1]
    if k > MAX_INNER:
        raise ValueError(f"inner dimension {k} > {MAX_INNER}")
    S, beta = _slicing(k)
    E, Na = _slices(np.broadcast_to(a.hi, (n, k)), np.broadcast_to(a.lo, (n, k)), S, beta)
    F, Nb = _slices(np.broadcast_to(b.hi, (k, m)).T, np.broadcast_to(b.lo, (k, m)).T, S, beta)
    ia = np.flatnonzero(Na.any(axis=(0, 2)))  # zero slices contribute exact zeros
    t = np.arange(S)[None, :] - ia[:, None]  # t = l - s for the kept rows s and levels l = 0..S-1
    R = np.concatenate([np.zeros((m, 1, k)), Nb], axis=1)[:, np.where(t >= 0, t + 1, 0)]  # (s, l): N'_(l-s) or 0
    left = (Na if ia.size == S else Na[:, ia]).reshape(n, -1)
    L = left @ R.transpose(1, 3, 2, 0).reshape(ia.size * k, S * m)
    L = L.reshape(n, S, m)  # L[:, l] = sum_{s+t=l} N_s N'_t: one exact BLAS product for all levels
    s, c, cabs = L[:, S - 1] * 2.0 ** (-(S + 1) * beta), 0.0, 0.0
    for level in range(S - 2, -1, -1):
        s, e = two_sum(s, L[:, level] * 2.0 ** (-(level + 2) * beta))
        c = c + e  # rounding <= u|c|
        cabs = cabs + np.abs(c)
    h, l = two_sum(s, c)
    out = DD(h, l, cover(U * cabs + k * (6 + 2 * S) * 2.0 ** (-S * beta)))
    out = ldexp(out, E[:, None] + F[None, :])
    ra, rb = np.broadcast_to(a.rad, (n, k)), np.broadcast_to(b.rad, (k, m))
    if ra.any() or rb.any():
        absa, absb = np.abs(a.hi) + np.abs(a.lo), np.abs(b.hi) + np.abs(b.lo)
        out = DD(out.hi, out.lo, cover(out.rad + ra @ (absb + rb) + absa @ rb))
    out = _checked(out)
    return DD(out.hi[:, 0], out.lo[:, 0], out.rad[:, 0]) if vec else out


# ---------------------------------------------------------------- out
def to_float(x: DD) -> tuple[np.ndarray, np.ndarray]:
    """(f, err): f = fl(hi + lo) and err >= |x' - f| for every x' in the ball."""
    f = x.hi + x.lo
    return f, cover(U * np.abs(f) + x.rad)


def norm_upper(*rads: np.ndarray) -> float:
    """An upper bound on the 2-norm of all the entries of ``rads`` (non-negative): fsum of the squares."""
    s = math.fsum(np.concatenate([np.zeros(0)] + [np.ravel(r * r) for r in rads]).tolist())
    return float(cover(np.float64(math.sqrt(float(cover(np.float64(s)))))))
