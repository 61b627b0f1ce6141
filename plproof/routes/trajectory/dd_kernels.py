"""The double-double GD step of the run route's producer by numba kernels: :func:`dd_step` gives bitwise the
results of the verifier's :func:`plproof.verify.dd_step.dd_step` (docs/rigor.md §9.6, §9.7).

Producer code, imported only through :func:`plproof.routes.trajectory.fused.kernels` (numba is optional). The
kernels perform the ball arithmetic of :mod:`plproof.verify.doubledouble` entry by entry: every TwoSum, TwoProd,
rounded sum and radius formula is the same binary64 operation on the same operands in the same order
(``fastmath=False``: no reassociation, no FMA contraction). Two kinds of products differ in form only:

* the exact slice products of ``matmul`` (docs/rigor.md §9.5) are summed by loops here, by BLAS there: their
  terms are integers with every partial sum below 2^53, so any order gives the same (exact) level sums;
* the float products of the input radii (``ra @ (|b| + rb) + |a| @ rb``, not exact) are numpy's, between the
  kernels, on operands of the same values, shapes and strides as in ``matmul``, so the same BLAS call. Where
  ``rb`` is 0 (v in A v, X in P^T X) the term ``|a| @ rb`` is an exact zero added to a positive radius: left out.

A check of ``_checked`` (hi + lo + rad not finite), of ``expm1`` or of ``div`` that fails makes a kernel return
its code (1: FloatingPointError, 2: ZeroDivisionError; at once, or after a loop that keeps its checks as flags so
that it vectorises) and :func:`dd_step` raise it: the numpy code raises iff one of its checks fails, and these are
the same checks on the same values (where several fail, the exception numpy's order meets first).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit

from plproof.verify import doubledouble as dd
from plproof.verify.dd_step import DDStep

JIT = {"cache": True, "fastmath": False, "error_model": "numpy", "nogil": True}
# The constants compiled into the kernels, spelled out (numba's cache is keyed on this file's source alone) and
# checked against plproof/verify/doubledouble.py on import; its tables are passed as arguments (:func:`_tables`).
U, TINY, COVER, SPLITTER, DEKKER_MIN = 2.0**-53, 2.0**-1000, 1.0 + 2.0**-30, 134217729.0, 2.0**-900
SAT, SAT_RAD, P, RMAX = 41.0, 2.0**-110, 10, 2.0**-11
_DEFINED = ((U, dd.U), (TINY, dd.TINY), (COVER, dd.COVER), (SPLITTER, dd._SPLITTER), (DEKKER_MIN, dd._DEKKER_MIN),
            (SAT, dd._SAT), (SAT_RAD, dd._SAT_RAD), (P, dd.P), (RMAX, dd.RMAX),
            (4, len(dd._Q_COEF)), (5, dd._Q_FROM - 1))  # expm1's q(r) of degree 3, its series to 1/5!
if any(here != there for here, there in _DEFINED):
    raise RuntimeError("plproof/routes/trajectory/dd_kernels.py: a compiled-in constant differs from its "
                       "definition; update it here (numba's cache is keyed on this file)")
FPE, ZDE = 1, 2  # the codes of FloatingPointError and ZeroDivisionError
_TWO_P, _INV_TWO_P, _MID, _DOWN = 2.0**P, 2.0**-P, 2 ** (P - 1), 1 - 2.0**-52  # evaluated by Python, as there


# ---------------------------------------------------------------- scalar ball arithmetic (doubledouble.py)
@njit(**JIT)
def _two_sum(a: float, b: float) -> tuple[float, float]:
    s = a + b
    bb = s - a
    e = s - bb
    return s, (a - e) + (b - bb)


@njit(**JIT)
def _split(a: float) -> tuple[float, float]:
    c = SPLITTER * a
    ah = c - (c - a)
    return ah, a - ah


@njit(**JIT)
def _two_prod(a: float, b: float) -> tuple[float, float, float]:
    """dd.two_prod: (p, e, t); e = 0, t = u|p| where |p| < 2^-900."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    if abs(p) < DEKKER_MIN:
        return p, 0.0, U * abs(p)
    return p, e, 0.0


@njit(**JIT)
def _cover(r: float) -> float:
    return r * COVER + TINY


@njit(**JIT)
def _bad(h: float, l: float, r: float) -> bool:
    """dd._checked fails."""
    return not math.isfinite(h + l + r)


@njit(**JIT)
def _to_float(h: float, l: float, r: float) -> tuple[float, float]:
    """dd.to_float: f = fl(h + l) and cover(u|f| + r)."""
    f = h + l
    return f, _cover(U * abs(f) + r)


@njit(**JIT)
def _add(xh: float, xl: float, xr: float, yh: float, yl: float, yr: float) -> tuple[float, float, float]:
    """dd._add."""
    sh, sl = _two_sum(xh, yh)
    th, tl = _two_sum(xl, yl)
    c = sl + th
    vh, vl = _two_sum(sh, c)
    w = tl + vl
    zh, zl = _two_sum(vh, w)
    return zh, zl, _cover(xr + yr + U * (abs(c) + abs(w)))


@njit(**JIT)
def _mul(xh: float, xl: float, xr: float, yh: float, yl: float, yr: float) -> tuple[float, float, float]:
    """dd._mul of two balls."""
    ph, pl, t = _two_prod(xh, yh)
    t1, t2, t3 = xh * yl, xl * yh, xl * yl
    s1 = t1 + t2
    s2 = s1 + t3
    c = pl + s2
    zh, zl = _two_sum(ph, c)
    rnd = U * (abs(t1) + abs(t2) + abs(t3) + abs(s1) + abs(s2) + abs(c)) + t
    ax, ay = abs(xh) + abs(xl), abs(yh) + abs(yl)
    return zh, zl, _cover(xr * ay + yr * ax + xr * yr + rnd)


@njit(**JIT)
def _mul_float(xh: float, xl: float, xr: float, y: float) -> tuple[float, float, float]:
    """dd._mul of a ball by a float (its lo and radius the identical zero: the shorter formula)."""
    ph, pl, t = _two_prod(xh, y)
    t2 = xl * y
    c = pl + t2
    zh, zl = _two_sum(ph, c)
    return zh, zl, _cover(xr * abs(y) + (U * (abs(t2) + abs(c)) + t))


@njit(inline="always", **JIT)  # inlined: the loops around it vectorise
def _series_step(ph: float, pl: float, pr: float, rh: float, rl: float, rr: float, fh: float, fl: float,
                 fr: float) -> tuple[float, float, float]:
    """p r + f (expm1's Horner step in balls, f = 1/i!)."""
    ph, pl, pr = _mul(ph, pl, pr, rh, rl, rr)
    return _add(ph, pl, pr, fh, fl, fr)


@njit(inline="always", **JIT)  # inlined: the loops around it vectorise
def _reduce(xh: float, xl: float, cw: tuple, qc: tuple, fc: tuple) -> tuple[float, float, float, float, float,
                                                                            bool]:
    """dd.expm1 of the ball (xh, xl, 0) up to its table: (e = expm1(r) as (h, l, rad), k, j, failed), x = N ln2/2^P
    + r, N = 2^P k + j - 2^(P-1); failed: a check of expm1 fails (then the rest is meaningless, but k, j index
    the tables). ``cw`` = (C1, C2, C3, tau, 2^P/ln 2, Q0, Q1), ``qc`` the degree-3 q(r), ``fc`` the balls of
    1/1!..1/5! (hi, lo, rad each): written out, checked on import."""
    C1, C2, C3, TAU, INV_L, Q0, Q1 = cw
    failed = not abs(xh) <= 700
    N = np.rint((0.0 if failed else xh) * INV_L)  # |N| <= 1010 2^P
    k = np.rint(N * _INV_TWO_P)
    t1, e1 = _two_sum(xh, N * -C1)
    s, e2 = _two_sum(t1, N * -C2)
    g1 = e1 + e2
    g2 = g1 + xl
    h3 = N * C3
    g3 = g2 - h3
    rh, rl = _two_sum(s, g3)
    rr = _cover(0.0 + U * (abs(g1) + abs(g2) + abs(h3) + abs(g3)) + abs(N) * TAU)
    failed = failed or not _cover(abs(rh) + abs(rl) + rr) <= RMAX
    q = ((qc[0] * rh + qc[1]) * rh + qc[2]) * rh + qc[3]
    ph, pl, pr = q, 0.0, _cover(Q0 + (abs(rl) + rr) * Q1)
    ph, pl, pr = _series_step(ph, pl, pr, rh, rl, rr, fc[12], fc[13], fc[14])  # 1/5!
    ph, pl, pr = _series_step(ph, pl, pr, rh, rl, rr, fc[9], fc[10], fc[11])
    ph, pl, pr = _series_step(ph, pl, pr, rh, rl, rr, fc[6], fc[7], fc[8])
    ph, pl, pr = _series_step(ph, pl, pr, rh, rl, rr, fc[3], fc[4], fc[5])
    ph, pl, pr = _series_step(ph, pl, pr, rh, rl, rr, fc[0], fc[1], fc[2])  # 1/1!
    eh, el, er = _mul(ph, pl, pr, rh, rl, rr)
    return eh, el, er, k, N - k * _TWO_P + _MID, failed


@njit(inline="always", **JIT)  # inlined: the loops around it vectorise
def _expand(eh: float, el: float, er: float, T: np.ndarray, t: int) -> tuple[float, float, float, bool]:
    """dd.expm1 from e = expm1(r) and the table entries of column t of T = (T_j, T_j - 1 as (hi, lo, rad), 2^k):
    2^k ((T_j - 1) + T_j e) + (2^k - 1); (h, l, rad, failed). x 2^k (2^k a normal float, |k| <= 1010) is
    ldexp(x, k), both correctly rounded."""
    eh, el, er = _mul(T[0, t], T[1, t], T[2, t], eh, el, er)
    eh, el, er = _add(T[3, t], T[4, t], T[5, t], eh, el, er)
    two_k = T[6, t]
    eh, el, er = eh * two_k, el * two_k, _cover(er * two_k)
    oh, ol = _two_sum(two_k, -1.0)
    zh, zl, zr = _add(eh, el, er, oh, ol, 0.0)
    return zh, zl, zr, _bad(zh, zl, zr)


@njit(inline="always", **JIT)  # inlined: the loops around it vectorise
def _div(xh: float, xl: float, xr: float, yh: float, yl: float, yr: float) -> tuple[float, float, float, bool,
                                                                                     bool]:
    """dd.div: (h, l, rad, zero, failed): zero, the divisor ball may contain 0 (ZeroDivisionError); failed,
    ``_checked`` fails. Branch-free."""
    ylo = (abs(yh) - _cover(abs(yl) + yr)) * _DOWN
    zero = not ylo > 0  # magnitude_lower's max(., 0) is 0 (or NaN) there; else it is ylo
    q0 = xh / yh
    mh, ml, mr = _mul_float(yh, yl, yr, q0)
    rh, rl, rr = _add(xh, xl, xr, -mh, -ml, mr)
    q1 = rh / yh
    mh, ml, mr = _mul_float(yh, yl, yr, q1)
    sh, sl, sr = _add(rh, rl, rr, -mh, -ml, mr)
    qh, ql = _two_sum(q0, q1)
    num = _cover(abs(sh) + abs(sl) + sr)
    zr = _cover(num / ylo)
    return qh, ql, zr, zero, _bad(qh, ql, zr)


@njit(**JIT)
def _tanh(z: np.ndarray, a: np.ndarray, tables: tuple) -> int:
    """dd._tanh of the balls z = (hi, lo, rad) (3 x N) into a, as numpy: a saturated entry's expm1 and div at 0,
    their results replaced by (1, 0, 2^-110). The code of the first check numpy would fail: expm1's (all
    entries) before div's divisor test before div's and tanh's ``_checked``. Branch-free loops (they vectorise)
    around the table reads."""
    T, TM1, pow2, fc, qc, cw = tables
    n = z.shape[1]
    e, kj, tab = np.empty((3, n)), np.empty((2, n)), np.empty((7, n))
    sign, sat = np.empty(n), np.empty(n, dtype=np.bool_)
    bad_exp, zero, bad = False, False, False
    for t in range(n):
        ch, cl = _two_sum(z[0, t], z[1, t])
        sign[t] = math.copysign(1.0, ch)
        sat[t] = abs(ch) >= SAT
        ch, cl = (0.0 if sat[t] else ch), (0.0 if sat[t] else cl)
        e[0, t], e[1, t], e[2, t], kj[0, t], kj[1, t], failed = _reduce(-2 * abs(ch), -2 * sign[t] * cl, cw, qc, fc)
        bad_exp |= failed
    for t in range(n):
        j = int(kj[1, t])
        tab[0, t], tab[1, t], tab[2, t], tab[3, t], tab[4, t], tab[5, t] = T[0, j], T[1, j], T[2, j], TM1[0, j], \
            TM1[1, j], TM1[2, j]
        tab[6, t] = pow2[int(kj[0, t]) + 1023]
    for t in range(n):
        fh, fl, fr, failed = _expand(e[0, t], e[1, t], e[2, t], tab, t)
        gh, gl, gr = _add(fh, fl, fr, 2.0, 0.0, 0.0)
        th, tl, tr, small, failed_div = _div(-fh, -fl, fr, gh, gl, gr)
        s = sat[t]
        th, tl, tr = (1.0 if s else th), (0.0 if s else tl), (SAT_RAD if s else tr)
        h, l, r = th * sign[t], tl * sign[t], _cover(tr + z[2, t])
        a[0, t], a[1, t], a[2, t] = h, l, r
        bad_exp |= failed
        zero |= small
        bad |= failed_div | _bad(h, l, r)
    return FPE if bad_exp else ZDE if zero else FPE if bad else 0


# ---------------------------------------------------------------- exact-slice products (dd.matmul)
@njit(**JIT)
def _slices(h: np.ndarray, l: np.ndarray, S: int, beta: int, N: np.ndarray, E: np.ndarray) -> None:
    """dd._slices of the rows of (h, l) (rows x k): E[row], N[s, kk, row] (the row innermost)."""
    rows, k = h.shape
    yh, yl = np.empty((rows, k)), np.empty((rows, k))
    normal = True
    for i in range(rows):
        top = 0.0
        for kk in range(k):
            a, b = _two_sum(h[i, kk], l[i, kk])
            yh[i, kk], yl[i, kk] = a, b
            x = abs(a) + abs(b)
            if x > top or x != x:  # np.max: a NaN stays
                top = x
        E[i] = math.frexp(top)[1]
        normal = normal and E[i] >= -1022
    lo = False
    for i in range(rows):  # 2^-E a float for every row: the product, as numpy (the same value as ldexp)
        sc = math.ldexp(1.0, -E[i])
        for kk in range(k):
            if normal:
                yh[i, kk], yl[i, kk] = yh[i, kk] * sc, yl[i, kk] * sc
            else:
                yh[i, kk], yl[i, kk] = math.ldexp(yh[i, kk], -E[i]), math.ldexp(yl[i, kk], -E[i])
            lo = lo or yl[i, kk] != 0.0
    scale = math.ldexp(1.0, beta)
    for s in range(S):
        for i in range(rows):
            for kk in range(k):
                x = yh[i, kk] * scale
                n = np.rint(x)
                yh[i, kk] = x - n
                if lo:
                    x = yl[i, kk] * scale
                    nl = np.rint(x)
                    yl[i, kk] = x - nl
                    n = n + nl
                N[s, kk, i] = n


@njit(**JIT)
def _product(ah: np.ndarray, al: np.ndarray, bh: np.ndarray, bl: np.ndarray, S: int, beta: int, tail: float,
             out: np.ndarray) -> int:
    """The centre ball of dd.matmul(a, b) before the input radii, from the rows of a (ah, al: n x k) and of b^T
    (bh, bl: m x k), into out[0..2] (n x m): the level sums L_l = sum_{s+t=l} N_s N'_t (l < S, exact in any
    order), the TwoSum cascade, the radius cover(u sum|c| + tail), ldexp by 2^(E_i + F_j); the code of
    ``_checked``."""
    n, k = ah.shape
    m = bh.shape[0]
    Na, E = np.empty((S, k, n)), np.empty(n, dtype=np.int64)
    Nb, F = np.empty((S, k, m)), np.empty(m, dtype=np.int64)
    _slices(ah, al, S, beta, Na, E)
    _slices(bh, bl, S, beta, Nb, F)
    L = np.zeros((S, m, n))
    for s in range(S):
        for t in range(S - s):
            for j in range(m):
                for kk in range(k):
                    b = Nb[t, kk, j]
                    for i in range(n):
                        L[s + t, j, i] += Na[s, kk, i] * b
    weight = np.empty(S)
    for level in range(S):
        weight[level] = math.ldexp(1.0, -(level + 2) * beta)
    for i in range(n):
        for j in range(m):
            s_ = L[S - 1, j, i] * weight[S - 1]
            c, cabs = 0.0, 0.0
            for level in range(S - 2, -1, -1):
                s_, e = _two_sum(s_, L[level, j, i] * weight[level])
                c = c + e
                cabs = cabs + abs(c)
            h, l = _two_sum(s_, c)
            r = _cover(U * cabs + tail)
            ex = E[i] + F[j]
            h, l, r = math.ldexp(h, ex), math.ldexp(l, ex), _cover(math.ldexp(r, ex))
            if _bad(h, l, r):
                return FPE
            out[0, i, j], out[1, i, j], out[2, i, j] = h, l, r
    return 0


# ---------------------------------------------------------------- the step, in three kernels
@njit(**JIT)
def forward(X: np.ndarray, W_hi: np.ndarray, W_lo: np.ndarray, v_hi: np.ndarray, v_lo: np.ndarray,
            plan_d: tuple, plan_m: tuple, tables: tuple, A: np.ndarray, p: np.ndarray, absv: np.ndarray) -> int:
    """A = tanh(X W^T) and the centre ball of p = A v (its radius before the term rad(A) |v|), |v| as a column."""
    n, d = X.shape
    m = W_hi.shape[0]
    Z = np.empty((3, n, m))
    code = _product(X, np.zeros((n, d)), W_hi, W_lo, plan_d[0], plan_d[1], plan_d[2], Z)
    if code:
        return code
    code = _tanh(Z.reshape((3, n * m)), A.reshape((3, n * m)), tables)
    if code:
        return code
    for i in range(m):
        absv[i, 0] = abs(v_hi[i]) + abs(v_lo[i])
    return _product(A[0], A[1], v_hi.reshape((1, m)), v_lo.reshape((1, m)), plan_m[0], plan_m[1], plan_m[2],
                    p.reshape((3, n, 1)))


@njit(**JIT)
def backward(X: np.ndarray, y: np.ndarray, A: np.ndarray, p: np.ndarray, Mp: np.ndarray, s: tuple,
             plan_n: tuple, r: np.ndarray, D: np.ndarray, P: np.ndarray, q: np.ndarray, Q: np.ndarray,
             absr: np.ndarray, absA: np.ndarray, fA: np.ndarray, fD: np.ndarray, fr: np.ndarray) -> int:
    """p's radius cover(rad + Mp); r = s p - y; D = 1 - A o A; P = D o r; the centre balls of q = A^T r and
    Q = P^T X (radii before their input-radius terms); the BLAS operands |r| + rad(r) (a column) and |A|; the
    float roundings (f, err) of A, D, r."""
    n, m = A.shape[1], A.shape[2]
    d = X.shape[1]
    sh, sl, sr = s
    for k in range(n):
        ph, pl, pr = p[0, k], p[1, k], _cover(p[2, k] + Mp[k, 0])
        if _bad(ph, pl, pr):
            return FPE
        ph, pl, pr = _mul(ph, pl, pr, sh, sl, sr)
        if _bad(ph, pl, pr):
            return FPE
        rh, rl, rr = _add(ph, pl, pr, -y[k], -0.0, 0.0)
        if _bad(rh, rl, rr):
            return FPE
        r[0, k], r[1, k], r[2, k] = rh, rl, rr
        absr[k, 0] = abs(rh) + abs(rl) + rr
        fr[0, k], fr[1, k] = _to_float(rh, rl, rr)
    bad = False
    for k in range(n):
        for i in range(m):  # no early exit: the loop vectorises
            ah, al, ar = A[0, k, i], A[1, k, i], A[2, k, i]
            absA[k, i] = abs(ah) + abs(al)
            fA[0, k, i], fA[1, k, i] = _to_float(ah, al, ar)
            gh, gl, gr = _mul(ah, al, ar, ah, al, ar)
            bad |= _bad(gh, gl, gr)
            gh, gl, gr = _add(1.0, 0.0, 0.0, -gh, -gl, gr)
            bad |= _bad(gh, gl, gr)
            D[0, k, i], D[1, k, i], D[2, k, i] = gh, gl, gr
            fD[0, k, i], fD[1, k, i] = _to_float(gh, gl, gr)
            gh, gl, gr = _mul(gh, gl, gr, r[0, k], r[1, k], r[2, k])
            bad |= _bad(gh, gl, gr)
            P[0, k, i], P[1, k, i], P[2, k, i] = gh, gl, gr
    if bad:
        return FPE
    S, beta, tail = plan_n
    code = _product(A[0].T, A[1].T, r[0].reshape((1, n)), r[1].reshape((1, n)), S, beta, tail, q.reshape((3, m, 1)))
    if code:
        return code
    return _product(P[0].T, P[1].T, X.T, np.zeros((d, n)), S, beta, tail, Q)


@njit(**JIT)
def update(W_hi: np.ndarray, W_lo: np.ndarray, v_hi: np.ndarray, v_lo: np.ndarray, eta: float, s: tuple,
           q: np.ndarray, Mq: np.ndarray, Mq2: np.ndarray, Q: np.ndarray, MQ: np.ndarray, W1: np.ndarray,
           v1: np.ndarray, rads: np.ndarray, steps: np.ndarray, fQ: np.ndarray) -> int:
    """q's radius cover(rad + Mq + Mq2), Q's cover(rad + MQ) and its float rounding fQ; c = (v s) eta,
    W1 = W - Q o c, v1 = v - (q s) eta; the radii of W1, v1 (``rads``, flat) and |dW| + |dv| + their radii
    (``steps``, flat), dW = (W1h + W1l) - W."""
    m, d = W_hi.shape
    sh, sl, sr = s
    for i in range(m):
        qh, ql, qr = q[0, i], q[1, i], _cover(q[2, i] + Mq[i, 0] + Mq2[i, 0])
        if _bad(qh, ql, qr):
            return FPE
        q[2, i] = qr
        for j in range(d):
            Q[2, i, j] = _cover(Q[2, i, j] + MQ[i, j])
            if _bad(Q[0, i, j], Q[1, i, j], Q[2, i, j]):
                return FPE
            fQ[0, i, j], fQ[1, i, j] = _to_float(Q[0, i, j], Q[1, i, j], Q[2, i, j])
    c = np.empty((3, m))
    for i in range(m):
        ch, cl, cr = _mul(v_hi[i], v_lo[i], 0.0, sh, sl, sr)
        if _bad(ch, cl, cr):
            return FPE
        ch, cl, cr = _mul_float(ch, cl, cr, eta)
        if _bad(ch, cl, cr):
            return FPE
        c[0, i], c[1, i], c[2, i] = ch, cl, cr
    for i in range(m):
        for j in range(d):
            gh, gl, gr = _mul(Q[0, i, j], Q[1, i, j], Q[2, i, j], c[0, i], c[1, i], c[2, i])
            if _bad(gh, gl, gr):
                return FPE
            wh, wl, wr = _add(W_hi[i, j], W_lo[i, j], 0.0, -gh, -gl, gr)
            if _bad(wh, wl, wr):
                return FPE
            W1[0, i, j], W1[1, i, j], rads[i * d + j] = wh, wl, wr
    for i in range(m):
        gh, gl, gr = _mul(q[0, i], q[1, i], q[2, i], sh, sl, sr)
        if _bad(gh, gl, gr):
            return FPE
        gh, gl, gr = _mul_float(gh, gl, gr, eta)
        if _bad(gh, gl, gr):
            return FPE
        wh, wl, wr = _add(v_hi[i], v_lo[i], 0.0, -gh, -gl, gr)
        if _bad(wh, wl, wr):
            return FPE
        v1[0, i], v1[1, i], rads[m * d + i] = wh, wl, wr
    for i in range(m):
        for j in range(d):
            gh, gl, gr = _add(W1[0, i, j], W1[1, i, j], 0.0, -W_hi[i, j], -W_lo[i, j], 0.0)
            if _bad(gh, gl, gr):
                return FPE
            steps[i * d + j] = abs(gh) + abs(gl) + gr
    for i in range(m):
        gh, gl, gr = _add(v1[0, i], v1[1, i], 0.0, -v_hi[i], -v_lo[i], 0.0)
        if _bad(gh, gl, gr):
            return FPE
        steps[m * d + i] = abs(gh) + abs(gl) + gr
    return 0


# ---------------------------------------------------------------- the step
@functools.cache
def _tables() -> tuple:
    """expm1's tables and constants from doubledouble.py: T_j and T_j - 1 as (hi, lo, rad) rows, 2^k for
    k = -1023..1023, the balls of 1/1!..1/5!, the float coefficients of q(r), (C1, C2, C3, tau, 2^P/ln 2, Q0, Q1)."""
    fact = tuple(float(c) for j in range(1, dd._Q_FROM) for c in dd._INV_FACT[j])
    pow2 = np.array([math.ldexp(1.0, k) for k in range(-1023, 1024)])
    return (np.stack(dd._T), np.stack(dd._TM1), pow2, fact, tuple(dd._Q_COEF),
            (dd._C1, dd._C2, dd._C3, dd._TAU, dd._INV_L, dd._Q0, dd._Q1))


@functools.cache
def _plan(k: int) -> tuple[int, int, float]:
    """matmul's slicing (S, beta) for inner dimension k and its tail k (6 + 2S) 2^(-S beta)."""
    if k > dd.MAX_INNER:
        raise ValueError(f"inner dimension {k} > {dd.MAX_INNER}")
    S, beta = dd._slicing(k)
    return S, beta, k * (6 + 2 * S) * 2.0 ** (-S * beta)


@functools.cache
def _scale(m: int) -> tuple[float, float, float]:
    """The ball of m^(-1/2) (dd.inv_sqrt)."""
    return tuple(float(c) for c in dd.inv_sqrt(m))


def _raise(code: int) -> None:
    if code == FPE:
        raise FloatingPointError("double-double result is not finite (overflow, or an overflowing split)")
    if code == ZDE:
        raise ZeroDivisionError("divisor ball contains 0")


def dd_step(X: np.ndarray, y: np.ndarray, eta: float, W_hi: np.ndarray, W_lo: np.ndarray,
            v_hi: np.ndarray, v_lo: np.ndarray) -> DDStep:
    """:func:`plproof.verify.dd_step.dd_step` by the kernels: bitwise the same DDStep, raising where it raises.
    The radius products between the kernels are matmul's ``ra @ (|b| + rb)`` and ``|a| @ rb`` on arrays of the
    same values and strides (A.rad and P.rad C-ordered, their transposes F-ordered views, columns (k, 1))."""
    X, y, W_hi, W_lo, v_hi, v_lo = (np.ascontiguousarray(a, dtype=np.float64) for a in (X, y, W_hi, W_lo, v_hi, v_lo))
    n, d = X.shape
    m = W_hi.shape[0]
    plan_d, plan_m, plan_n, s = _plan(d), _plan(m), _plan(n), _scale(m)
    A, p, absv = np.empty((3, n, m)), np.empty((3, n)), np.empty((m, 1))
    _raise(forward(X, W_hi, W_lo, v_hi, v_lo, plan_d, plan_m, _tables(), A, p, absv))
    r, D, P, q, Q = np.empty((3, n)), np.empty((3, n, m)), np.empty((3, n, m)), np.empty((3, m)), np.empty((3, m, d))
    absr, absA = np.empty((n, 1)), np.empty((n, m))
    fA, fD, fr, fQ = np.empty((2, n, m)), np.empty((2, n, m)), np.empty((2, n)), np.empty((2, m, d))
    _raise(backward(X, y, A, p, A[2] @ absv, s, plan_n, r, D, P, q, Q, absr, absA, fA, fD, fr))
    Mq, Mq2, MQ = A[2].T @ absr, absA.T @ np.broadcast_to(r[2][:, None], (n, 1)), P[2].T @ np.abs(X)
    W1, v1, rads, steps = np.empty((2, m, d)), np.empty((2, m)), np.empty(m * d + m), np.empty(m * d + m)
    _raise(update(W_hi, W_lo, v_hi, v_lo, float(eta), s, q, Mq, Mq2, Q, MQ, W1, v1, rads, steps, fQ))
    return DDStep(W1[0], W1[1], v1[0], v1[1], dd.norm_upper(rads), dd.norm_upper(steps),
                  fA[0], fA[1], fD[0], fD[1], fr[0], fr[1], fQ[0], fQ[1])
