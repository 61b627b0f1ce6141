"""numba kernels of the two-layer float recipe: the entrywise operations of its step (``activation``: bitwise
plproof.verify.tanh.table_tanh; ``residual``, ``update``: bitwise numpy's) and the entrywise passes of its error
bounds (:mod:`~plproof.routes.trajectory.error_bounds`) as loops over (step, data, neuron), docs/rigor.md §5.8.

Producer code, imported only through :func:`plproof.routes.trajectory.fused.kernels` (numba is optional). Each
kernel evaluates the same formulas as the numpy code, operation by operation in the same order, in IEEE binary64
round to nearest (``fastmath=False``: no reassociation, no FMA contraction); only sums (and maxima) of
non-negative terms over one axis run in a different order, which the relative cover COVER = 1 + 1e-6 of the
numpy code covers as well (docs/rigor.md §5.8). NaN propagates as in numpy (np.maximum, np.max keep it).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from plproof.routes.trajectory import recipe
from plproof.verify import eigen, tanh

JIT = {"cache": True, "fastmath": False, "error_model": "numpy", "nogil": True}
# The constants compiled into the kernels, spelled out: numba's cache is keyed on this file's source alone, so a
# constant changed where it is defined must change this file too (checked against the definitions on import).
TINY, U1 = 2.0**-1000, float.fromhex("0x1.0000000000001p-53")      # recipe.py
EIG_U, EIG_COVER, EIG_TINY = 2.0**-53, 1 + 1e-6, 2.0**-1000        # verify/eigen.py
DEGREE, EDGE, STEP, INV_STEP, _J = 5, 24.0, 1 / 256, 256.0, 6144  # verify/tanh.py
ROW = 8                                                            # fused.tanh_table's row length
_DEFINED = ((TINY, recipe.TINY), (U1, recipe.U1), (EIG_U, eigen.U), (EIG_COVER, eigen.COVER), (EIG_TINY, eigen.TINY),
            (DEGREE, tanh.DEGREE), (EDGE, tanh.EDGE), (STEP, tanh.STEP), (INV_STEP, 1 / tanh.STEP), (_J, tanh._J))
if any(here != there for here, there in _DEFINED):
    raise RuntimeError("plproof/routes/trajectory/kernels.py: a compiled-in constant differs from its definition; "
                       "update it here (numba's cache is keyed on this file)")


@njit(**JIT)
def _bigger(x: float, acc: float) -> float:
    """max(acc, x) as np.max accumulates it: a NaN, once met, stays."""
    return x if (x > acc or x != x) else acc


@njit(**JIT)
def _least(x: float, y: float) -> float:
    """np.minimum(x, y): NaN if either is NaN."""
    return x if (x < y or x != x) else y


#: entries of :func:`activation` evaluated at once (one 512-bit vector of float64; the shuffles of
#: :func:`_tanh_lanes` are written for 8)
LANES = 8


@intrinsic
def _tanh_lanes(typingctx, Z, table, A, D, start):  # type: ignore[no-untyped-def]
    """:func:`activation` of the LANES flat entries start.. of the C-contiguous Z into A, D as LLVM vector code: the
    table rows are loaded whole (8 doubles: c^_0..c^_5, R_j, 0) and transposed by shuffles into one vector per
    coefficient, then the same Horner operations per lane (fmul, fadd: IEEE binary64, no contraction) and the same
    selections for |z| > EDGE and nan (their row index taken at z = 0)."""
    if not all(isinstance(a, types.Array) and a.layout == "C" and a.dtype == types.float64
               for a in (Z, table, A, D)):
        return None
    sig = types.void(Z, table, A, D, start)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        f64, i32 = ir.DoubleType(), ir.IntType(32)
        vec, ivec = ir.VectorType(f64, LANES), ir.VectorType(ir.IntType(64), LANES)
        module, vptr = builder.module, ir.PointerType(vec)
        zp, tp, ap, dp = (context.make_array(ty)(context, builder, val).data
                          for ty, val in zip(signature.args[:4], args[:4]))

        def at(p):  # type: ignore[no-untyped-def]
            """The vector at entry ``start`` of a flat array."""
            return builder.bitcast(builder.gep(p, [args[4]]), vptr)

        def splat(c: float) -> ir.Constant:
            return ir.Constant(vec, [c] * LANES)

        def fn(name: str) -> ir.Function:
            """An LLVM vector intrinsic of one argument (declared once per module)."""
            return module.globals.get(name) or ir.Function(module, ir.FunctionType(vec, [vec]), name)

        def sh(a, b, mask: list[int]):  # type: ignore[no-untyped-def]
            return builder.shuffle_vector(a, b, ir.Constant(ir.VectorType(i32, LANES), mask))

        z = builder.load(at(zp), align=8)
        inside = builder.fcmp_ordered("<=", builder.call(fn(f"llvm.fabs.v{LANES}f64"), [z]), splat(EDGE))
        zc = builder.select(inside, z, splat(0.0))
        j = builder.call(fn(f"llvm.rint.v{LANES}f64"), [builder.fmul(zc, splat(INV_STEP))])
        t = builder.fsub(zc, builder.fmul(j, splat(STEP)))
        base = builder.mul(builder.add(builder.fptosi(j, ivec), ir.Constant(ivec, [_J] * LANES)),
                           ir.Constant(ivec, [ROW] * LANES))
        rows = [builder.load(builder.bitcast(builder.gep(tp, [builder.extract_element(base, ir.Constant(i32, lane))]),
                                             vptr), align=8) for lane in range(LANES)]
        even, odd = [0, 8, 2, 10, 4, 12, 6, 14], [1, 9, 3, 11, 5, 13, 7, 15]
        s0, s1 = [0, 1, 8, 9, 4, 5, 12, 13], [2, 3, 10, 11, 6, 7, 14, 15]
        first, second = [0, 1, 2, 3, 8, 9, 10, 11], [4, 5, 6, 7, 12, 13, 14, 15]
        ev = [sh(rows[2 * q], rows[2 * q + 1], even) for q in range(4)]  # c0 c2 c4 c6 of lanes 2q, 2q + 1
        od = [sh(rows[2 * q], rows[2 * q + 1], odd) for q in range(4)]   # c1 c3 c5 c7
        c04, c26 = [sh(ev[0], ev[1], s0), sh(ev[2], ev[3], s0)], [sh(ev[0], ev[1], s1), sh(ev[2], ev[3], s1)]
        c15, c37 = [sh(od[0], od[1], s0), sh(od[2], od[3], s0)], [sh(od[0], od[1], s1), sh(od[2], od[3], s1)]
        c = [sh(*c04, first), sh(*c15, first), sh(*c26, first), sh(*c37, first), sh(*c04, second), sh(*c15, second)]
        a = c[DEGREE]
        for q in range(DEGREE - 1, -1, -1):
            a = builder.fadd(builder.fmul(a, t), c[q])
        sign = builder.select(builder.fcmp_ordered(">", z, splat(0.0)), splat(1.0),
                              builder.select(builder.fcmp_ordered("<", z, splat(0.0)), splat(-1.0), z))
        a = builder.select(inside, a, sign)
        builder.store(a, at(ap), align=8)
        builder.store(builder.fsub(splat(1.0), builder.fmul(a, a)), at(dp), align=8)
        return context.get_dummy_value()
    return sig, codegen


@njit(**JIT)
def activation(Z: np.ndarray, table: np.ndarray, A: np.ndarray, D: np.ndarray) -> None:
    """gd_step's A = plproof.verify.tanh.table_tanh(Z) and D = 1 - A*A (docs/rigor.md §5.2, §11.7), the same
    operations per entry: ``table`` (:func:`.fused.tanh_table`) row j = (c^_0..c^_5, R_j, 0) of grid point j - _J;
    Horner in t = z - j/256 (exact); sign z beyond EDGE (+-1 at +-inf), nan at nan. LANES entries at a time
    (:func:`_tanh_lanes`), the rest one by one. Z, A, D C-contiguous, of one shape."""
    if table.shape[1] != ROW:
        raise ValueError("activation: the table's rows must be fused.tanh_table's (8 doubles)")
    n, m = Z.shape
    top = n * m - n * m % LANES
    for e in range(0, top, LANES):
        _tanh_lanes(Z, table, A, D, e)
    for e in range(top, n * m):
        k, i = e // m, e % m
        z = Z[k, i]
        if abs(z) <= EDGE:
            j = np.rint(z * INV_STEP)
            t = z - j * STEP
            row = table[int(j) + _J]
            a = row[DEGREE]
            for q in range(DEGREE - 1, -1, -1):
                a = a * t
                a = a + row[q]
        else:
            a = 1.0 if z > 0.0 else (-1.0 if z < 0.0 else z)
        A[k, i] = a
        D[k, i] = 1.0 - a * a


@njit(**JIT)
def residual(p: np.ndarray, s: float, y: np.ndarray, D: np.ndarray, r: np.ndarray, P: np.ndarray) -> None:
    """gd_step's r = p s - y and P = D o r (row k of D times r_k), numpy's operations per entry."""
    n, m = D.shape
    for k in range(n):
        rk = p[k] * s
        rk = rk - y[k]
        r[k] = rk
        for i in range(m):
            P[k, i] = D[k, i] * rk


@njit(**JIT)
def update(W: np.ndarray, Q: np.ndarray, v: np.ndarray, q: np.ndarray, s: float, eta: float, W1: np.ndarray,
           v1: np.ndarray) -> None:
    """gd_step's W1 = W - eta (Q o (s v)) (row i of Q times s v_i) and v1 = v - eta (q s), numpy's operations per
    entry."""
    m, d = W.shape
    for i in range(m):
        c = s * v[i]
        for j in range(d):
            W1[i, j] = W[i, j] - eta * (Q[i, j] * c)
        v1[i] = v[i] - eta * (q[i] * s)


@njit(**JIT)
def defect(A: np.ndarray, D: np.ndarray, p: np.ndarray, r: np.ndarray, v: np.ndarray, av: np.ndarray,
           wn: np.ndarray, gxn: np.ndarray, SE: np.ndarray, consts: np.ndarray, g: np.ndarray, Er: np.ndarray,
           Eq: np.ndarray, M: np.ndarray) -> None:
    """error_bounds.entrywise's (step, data, neuron) part, row (t, k) by row (docs/rigor.md §5.2, §5.8): first
    SA = sum_i |A| |v_i| (:func:`_row_sum`), then Er[t, k] = s (gamma SA + SE[t, k]) + c4s |p_k| + U1 |r_k| + TINY
    and cq = gamma |r| + Er, cm = (gamma_n + U1) |r| + Er, ce = |r| + Er; then :func:`_row`: EA = gamma_d ||x_k||
    ||w_i|| + ea0, ED = (2|A| + EA) EA + d_round, M = (D cm + ED ce) + TINY, Eq[t, i] += |A| cq (sum over k) and
    g = ((A D) (-2)) r_k v_i. ``consts`` = (s_up, gamma, c4s, gamma_n + U1, d_round, ea0)."""
    s_up, gam, c4s, gnu, d_round, ea0 = consts[0], consts[1], consts[2], consts[3], consts[4], consts[5]
    T, n, m = A.shape
    for t in range(T):
        Eq[t, :] = 0.0
        for k in range(n):
            rk = r[t, k]
            ar = abs(rk)
            er = s_up * (gam * _row_sum(A[t, k], av[t]) + SE[t, k]) + c4s * abs(p[t, k])
            er = er + U1 * ar
            er = er + TINY
            Er[t, k] = er
            _row(A[t, k], D[t, k], v[t], wn[t], gxn[k], ea0, d_round, gam * ar + er, gnu * ar + er, ar + er, rk,
                 Eq[t], M[t, k], g[t, k])


@njit(**JIT)
def step_norms(W: np.ndarray, v: np.ndarray, q: np.ndarray, Q: np.ndarray, Eq: np.ndarray, EQ: np.ndarray,
               consts: np.ndarray, Qn: np.ndarray, EQn: np.ndarray, w_max: np.ndarray, rho: np.ndarray,
               step: np.ndarray) -> None:
    """error_bounds.defect's normwise bounds of steps t = 0..k-1 (W, v: slots 0..k; docs/rigor.md §5.2, §5.8), its
    formulas per step: nEgv = s_up ||Eq|| + c4s ||q|| + TINY; Qn2_i = ||Q_i||^2, EQn2_i = ||EQ^T_i||^2; ac = s |v|,
    Ec = U1 ac + c3s |v|; nEW1 = U1 ||W1|| + eta (sqrt(sum (Ec + 2.001 U1 ac)^2 Qn2) + sqrt(sum (ac + Ec)^2 EQn2)
    + TINY); nEv1 = U1 ||v1|| + eta (U1 s ||q|| (1 + 2 U1) + nEgv); rho = sqrt(nEW1^2 + nEv1^2) COVER; step =
    sqrt(||W1 - W||^2 + ||v1 - v||^2) (1 + 4 U1) COVER; Qn = sqrt(Qn2), EQn = sqrt(EQn2) + TINY; w_max = max_i ||w_i||.
    ``consts`` = (s_up, c4s, s, c3s, eta, COVER)."""
    s_up, c4s, s, c3s, eta, cover = consts[0], consts[1], consts[2], consts[3], consts[4], consts[5]
    k, m, d = Q.shape
    EQn2 = np.empty(m)
    for t in range(k):
        sEq = sq = sv1 = sdv = sW1 = sdW = s1 = s2 = 0.0
        top = 0.0
        for i in range(m):
            sEq += Eq[t, i] * Eq[t, i]
            sq += q[t, i] * q[t, i]
            EQn2[i] = 0.0
        for j in range(d):
            for i in range(m):
                EQn2[i] += EQ[t, j, i] * EQ[t, j, i]
        for i in range(m):
            qn2 = rn2 = 0.0
            for j in range(d):
                qn2 += Q[t, i, j] * Q[t, i, j]
                rn2 += W[t, i, j] * W[t, i, j]
                sW1 += W[t + 1, i, j] * W[t + 1, i, j]
                dw = W[t + 1, i, j] - W[t, i, j]
                sdW += dw * dw
            av = abs(v[t, i])
            ac = s * av
            ec = U1 * ac + c3s * av
            x = ec + 2.001 * U1 * ac
            y = ac + ec
            s1 += x * x * qn2
            s2 += y * y * EQn2[i]
            Qn[t, i], EQn[t, i] = math.sqrt(qn2), math.sqrt(EQn2[i]) + TINY
            top = _bigger(math.sqrt(rn2), top)
            sv1 += v[t + 1, i] * v[t + 1, i]
            dv = v[t + 1, i] - v[t, i]
            sdv += dv * dv
        nq = math.sqrt(sq)
        nEgv = s_up * math.sqrt(sEq) + c4s * nq + TINY
        nEW1 = U1 * math.sqrt(sW1) + eta * (math.sqrt(s1) + math.sqrt(s2) + TINY)
        nEv1 = U1 * math.sqrt(sv1) + eta * (U1 * s * nq * (1 + 2 * U1) + nEgv)
        rho[t] = math.sqrt(nEW1 * nEW1 + nEv1 * nEv1) * cover
        a, b = math.sqrt(sdW), math.sqrt(sdv)
        step[t] = math.sqrt(a * a + b * b) * (1 + 4 * U1) * cover
        w_max[t] = top


@njit(**JIT)
def _row_sum(a: np.ndarray, b: np.ndarray) -> float:
    """sum_i |a_i| b_i in eight partial sums (a sum of non-negative terms in another order, docs/rigor.md §5.8)."""
    m = a.shape[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    top = m - m % 8
    for i in range(0, top, 8):
        s0 += abs(a[i]) * b[i]
        s1 += abs(a[i + 1]) * b[i + 1]
        s2 += abs(a[i + 2]) * b[i + 2]
        s3 += abs(a[i + 3]) * b[i + 3]
        s4 += abs(a[i + 4]) * b[i + 4]
        s5 += abs(a[i + 5]) * b[i + 5]
        s6 += abs(a[i + 6]) * b[i + 6]
        s7 += abs(a[i + 7]) * b[i + 7]
    s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    for i in range(top, m):
        s += abs(a[i]) * b[i]
    return s


@njit(**JIT)
def _row(a_row: np.ndarray, d_row: np.ndarray, v: np.ndarray, wn: np.ndarray, gk: float, ea0: float, d_round: float,
         cq: float, cm: float, ce: float, rk: float, eq: np.ndarray, m_row: np.ndarray, g_row: np.ndarray) -> None:
    """The entrywise part of :func:`defect` of one row (branch-free: LLVM vectorises it)."""
    for i in range(a_row.shape[0]):
        a, dk = a_row[i], d_row[i]
        aa = abs(a)
        ea = gk * wn[i]
        ea = ea + ea0
        ed = aa * 2
        ed = ed + ea
        ed = ed * ea
        ed = ed + d_round
        eq[i] += aa * cq
        m_row[i] = (dk * cm + ed * ce) + TINY
        g_row[i] = ((a * dk) * -2.0) * rk * v[i]


@njit(**JIT)
def tube_bounds(g: np.ndarray, av: np.ndarray, a: np.ndarray, b: np.ndarray, xn2: np.ndarray, rN: np.ndarray,
                rP: np.ndarray, rD: np.ndarray, stride: int, N: np.ndarray, P: np.ndarray, D: np.ndarray) -> None:
    """error_bounds._blocks for every step t and neuron i (docs/rigor.md §5.4, §10): delta = |v_i| a_k + b_k +
    4 U1 |g|, c- = (-g)_+ + delta, c+ = g_+ + delta; N = min(sum_k ||x_k||^2 c-, max_k c- rN + TINY), P likewise
    with c+, rP; with eigen-bounds (rD not empty: d < n) D = max_k cD rD + TINY, cD = (delta + moved)(1 + U1),
    moved = (1 + U1) |g_t - g_(t_a)| (inf where not finite), t_a = t // stride * stride. r* = ratio COVER + TINY
    (gram_bound)."""
    T, n, m = g.shape
    eig = rD.shape[0] > 0
    trN, grN, trP, grP, grD = np.empty(m), np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    for t in range(T):
        ta = t // stride * stride
        trN[:], grN[:], trP[:], grP[:], grD[:] = 0.0, 0.0, 0.0, 0.0, 0.0
        for k in range(n):
            ak, bk, xk = a[t, k], b[t, k], xn2[k]
            for i in range(m):
                gg = g[t, k, i]
                delta = av[t, i] * ak
                delta = delta + bk
                delta = delta + abs(gg) * (4 * U1)
                neg = -gg
                if neg < 0.0:
                    neg = 0.0
                pos = gg
                if pos < 0.0:
                    pos = 0.0
                cN, cP = neg + delta, pos + delta
                trN[i] += xk * cN
                trP[i] += xk * cP
                grN[i] = _bigger(cN * rN[k, i], grN[i])
                grP[i] = _bigger(cP * rP[k, i], grP[i])
                if eig:
                    moved = abs(gg - g[ta, k, i]) * (1 + U1)
                    if not moved < math.inf:
                        moved = math.inf
                    cD = (delta + moved) * (1 + U1)
                    grD[i] = _bigger(cD * rD[k, i], grD[i])
        for i in range(m):
            N[t, i], P[t, i] = _least(trN[i], grN[i] + TINY), _least(trP[i], grP[i] + TINY)
            if eig:
                D[t, i] = grD[i] + TINY


@njit(**JIT)
def _tridiagonal(A: np.ndarray, v: np.ndarray, p: np.ndarray, dg: np.ndarray, e2: np.ndarray) -> None:
    """Householder reduction of the symmetric A (overwritten) to tridiagonal form: diagonal dg, squared
    off-diagonal e2 (e2[k] couples k and k + 1)."""
    d = A.shape[0]
    for k in range(d - 2):  # H = I - 2 v v^T / (v^T v) zeroes column k below the subdiagonal
        h = 0.0
        for i in range(k + 1, d):
            h += A[i, k] * A[i, k]
        dg[k], e2[k] = A[k, k], h
        if h == 0.0:
            continue
        x0 = A[k + 1, k]
        alpha = -math.sqrt(h) if x0 >= 0.0 else math.sqrt(h)
        for i in range(k + 1, d):
            v[i] = A[i, k]
        v[k + 1] = x0 - alpha
        vv = h - x0 * x0 + v[k + 1] * v[k + 1]
        beta, pv = 2.0 / vv, 0.0
        for i in range(k + 1, d):  # p = 2 A22 v / vv; q = p - (v^T p / vv) v; A22 <- A22 - v q^T - q v^T
            s = 0.0
            for j in range(k + 1, i + 1):  # the lower triangle of A22 is kept
                s += A[i, j] * v[j]
            for j in range(i + 1, d):
                s += A[j, i] * v[j]
            p[i] = beta * s
            pv += v[i] * p[i]
        K = pv / vv
        for i in range(k + 1, d):
            p[i] -= K * v[i]
        for i in range(k + 1, d):
            for j in range(k + 1, i + 1):
                A[i, j] -= v[i] * p[j] + p[i] * v[j]
    if d >= 2:
        dg[d - 2], e2[d - 2] = A[d - 2, d - 2], A[d - 1, d - 2] * A[d - 1, d - 2]
    dg[d - 1] = A[d - 1, d - 1]


@njit(**JIT)
def _ratio(sdk: float, x: float, e2k: float, iq: float, dq: float, ddq: float) -> tuple[float, float, float]:
    """The next ratio of :func:`_extremes`: from iq = 1 / q_(k-1) and the derivatives dq, ddq of q_(k-1), q_k =
    (sdk - x) - e2k / q_(k-1) and its derivatives; returns (1 / q_k, dq_k, ddq_k), q_k = 0 taken as 1e-300."""
    b = e2k * iq
    q, dq, ddq = (sdk - x) - b, -1.0 + b * dq * iq, b * iq * (ddq - 2.0 * dq * dq * iq)
    if q == 0.0:
        q = 1e-300
    return 1.0 / q, dq, ddq


@njit(**JIT)
def _laguerre(x: float, G: float, H: float, d: int) -> float:
    """The next Laguerre iterate from x with sums G = p'/p, H = G^2 - p''/p; nan when converged (no step, or no
    progress in floats)."""
    root = math.sqrt(max((d - 1) * (d * H - G * G), 0.0))
    den = G - root if G < 0.0 else G + root
    if not den != 0.0:
        return math.nan
    step = d / den
    if not (math.isfinite(step) and x - step > x):
        return math.nan
    return x - step


@njit(**JIT)
def _extremes(dg: np.ndarray, e2: np.ndarray) -> tuple[float, float]:
    """Estimates (lambda_min, lambda_max) of T tridiagonal (dg, e2): for sign = 1 and -1 the least eigenvalue of
    sign T by Laguerre's method from the Gershgorin bound below it (monotone for real-rooted polynomials), on the
    ratios q_k = p_k / p_(k-1) of the characteristic polynomial and their derivatives; both ends iterate in one
    loop (independent chains, overlapped by the CPU), each stopping where it converges. Untrusted, like eigvalsh."""
    d = dg.shape[0]
    x, y = math.inf, math.inf  # x: least eigenvalue of T, y: of -T
    for k in range(d):
        r = (math.sqrt(e2[k - 1]) if k > 0 else 0.0) + (math.sqrt(e2[k]) if k < d - 1 else 0.0)
        x, y = min(x, dg[k] - r), min(y, -dg[k] - r)
    run_x, run_y = True, True
    for _ in range(100):
        Gx, Hx, Gy, Hy = 0.0, 0.0, 0.0, 0.0
        ix, dx, ddx, iy, dy, ddy = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
        for k in range(d):
            if k == 0:
                qx, qy = dg[0] - x, -dg[0] - y
                qx, qy = (1e-300 if qx == 0.0 else qx), (1e-300 if qy == 0.0 else qy)
                ix, dx, ddx, iy, dy, ddy = 1.0 / qx, -1.0, 0.0, 1.0 / qy, -1.0, 0.0
            else:  # i* = 1 / q_(k-1)
                ix, dx, ddx = _ratio(dg[k], x, e2[k - 1], ix, dx, ddx)
                iy, dy, ddy = _ratio(-dg[k], y, e2[k - 1], iy, dy, ddy)
            gx, gy = dx * ix, dy * iy
            Gx, Gy = Gx + gx, Gy + gy
            Hx, Hy = Hx + (gx * gx - ddx * ix), Hy + (gy * gy - ddy * iy)
        if run_x:
            nx = _laguerre(x, Gx, Hx, d)
            run_x = nx == nx
            x = nx if run_x else x
        if run_y:
            ny = _laguerre(y, Gy, Hy, d)
            run_y = ny == ny
            y = ny if run_y else y
        if not (run_x or run_y):
            break
    return x, -y


@njit(**JIT)
def _shifted_lower(M: np.ndarray, sign: float, s: float, gam: float, L: np.ndarray) -> float:
    """plproof.verify.eigen._lower of sign M at shift s: float Cholesky of B = fl(sign M - s I) (lower triangle);
    if it completes (pivots > 1e-280), L L^T = B + E, |E| <= gamma_(d+1) |L||L|^T (Higham 2002, Thm 10.3, any
    order), so lambda_min(sign M) >= s - (gamma_(d+1) ||L||_F^2 + u max|B_jj| + TINY) COVER^2, rounded down
    (docs/rigor.md §10 item 3). nan if it does not complete."""
    d = M.shape[0]
    bmax = 0.0
    for j in range(d):
        for i in range(j, d):
            x = sign * M[i, j]
            if i == j:
                x = x - s
                bmax = max(bmax, abs(x))
            for k in range(j):
                x -= L[i, k] * L[j, k]
            if i == j:
                if not x > 0.0:
                    return math.nan
                x = math.sqrt(x)
                if not (x > 1e-280 and x < math.inf):
                    return math.nan
            else:
                x = x / L[j, j]
                if not math.isfinite(x):
                    return math.nan
            L[i, j] = x
    fro = 0.0
    for j in range(d):
        for i in range(j, d):
            fro += L[i, j] * L[i, j]
    loss = gam * fro + EIG_U * bmax + EIG_TINY
    return np.nextafter(s - loss * EIG_COVER * EIG_COVER, -math.inf)


@njit(**JIT)
def eigen_bounds(Pl: np.ndarray, err: np.ndarray, d: int, gam: float, lo: np.ndarray, hi: np.ndarray) -> None:
    """plproof.verify.eigen.extremes per matrix, for P~ given by its packed lower triangle (row a, column b <= a at
    a (a + 1) / 2 + b; (T, m, d (d + 1) / 2)) within Frobenius distance err (T, m): lo >= max(-lambda_min, 0),
    hi >= max(lambda_max, 0) by Cholesky at the shifts lambda^ -+ 4 gamma_(d+1) tr|P~| COVER + TINY from
    :func:`_extremes` (eigvalsh's role; computed on P~ / max|P~_ab|, no underflow or overflow); inf
    where P~ or err is not finite; nan where a factorisation does not complete (the caller takes numpy's extremes,
    with its eigh fallback, for those)."""
    T, m = err.shape
    A, M, L = np.empty((d, d)), np.empty((d, d)), np.empty((d, d))
    v, p, dg, e2 = np.empty(d), np.empty(d), np.empty(d), np.empty(d)
    for t in range(T):
        for i in range(m):
            finite = math.isfinite(err[t, i])
            tr = 0.0
            for a in range(d):
                for b in range(a + 1):
                    x = Pl[t, i, a * (a + 1) // 2 + b]
                    M[a, b], M[b, a], A[a, b], A[b, a] = x, x, x, x
                    finite = finite and math.isfinite(x)
                tr += abs(M[a, a])
            if not finite:
                lo[t, i], hi[t, i] = math.inf, math.inf
                continue
            room = 4 * gam * tr * EIG_COVER + EIG_TINY
            scale = 0.0
            for a in range(d):
                for b in range(d):
                    scale = max(scale, abs(A[a, b]))
            if scale > 0.0:
                for a in range(d):
                    for b in range(d):
                        A[a, b] /= scale
            else:
                scale = 1.0
            _tridiagonal(A, v, p, dg, e2)
            lmin, lmax = _extremes(dg, e2)
            lmin, lmax = lmin * scale, lmax * scale
            low = _shifted_lower(M, 1.0, lmin - room, gam, L)
            high = _shifted_lower(M, -1.0, -(lmax + room), gam, L)
            if low != low or high != high:
                lo[t, i], hi[t, i] = math.nan, math.nan
            else:
                lo[t, i] = max(np.nextafter(err[t, i] - low, math.inf), 0.0)
                hi[t, i] = max(np.nextafter(err[t, i] - high, math.inf), 0.0)
