"""Derive the evidence of a ``run`` certificate (docs/theory.md §12, T6) without trusting the producer's numbers.

The certificate stores the float iterates w~_t at checkpoints t_0 = 0 < ... < t_K = T. The verifier
chains e_0 = 0 through every segment (an induction skips no link): from the stored w~_{t_j} it re-runs
the float recipe itself and bounds, by its own componentwise error analysis (docs/rigor.md §5.2-§5.4):

* rho_t >= ||G(u_t) - u_{t+1}|| (at the segment's end u_{t+1} is the stored checkpoint, so the gap
  between its own float iterate and the stored one is added),
* l_t >= sup ||I - eta Hess L|| over B(u_t, e_t) (Lemma B per neuron, tube corrections, a Jacobian
  bound from its own kernel enclosure at an anchor plus T1),

so e_{t+1} = l_t e_t + rho_t and, by induction, ||w_T - w~_T|| <= e_T for the exact GD iterates w_T. The
terminal ball is then derived at w~_T: K(w~_T) and r(w~_T) in midpoint-radius arithmetic
(plproof.verify.midrad, whose tanh is proven by plproof.verify.tanh), T1-T3 (docs/theory.md §11) and the T4
inequality in exact rationals.

The double-double recipe (docs/rigor.md §9.7) stores exact pairs w~ = w_h + w_l; each step is re-run by the
verifier's own :func:`plproof.verify.dd_step.dd_step` (rho_t, the next pair), l_t is the float bound above at
w_h on the tube B(w_h, e + ||w_l||), gaps to stored pairs are dd differences, and the terminal ball is centred
at w_h with radius e_T + ||w_l,T||. The midpoint-radius recipe (docs/rigor.md §10) serves every other model.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from plproof.certificate.format import DataMismatch, DataMissing, decode_array, decode_number
from plproof.errors import InvalidInput
from plproof.verify import doubledouble as dd
from plproof.verify.dd_step import dd_step
from plproof.verify.eigen import extremes
from plproof.verify.evidence import Derived
from plproof.verify.exact import ACTIVATION_BOUNDS, Failure, MatrixEnclosure, Unverifiable, cholesky_margin, sqrt_hi, sqrt_lo
from plproof.verify.families import Family, rebuild
from plproof.verify.midrad import ASSUMPTION as MIDRAD_ASSUMPTION
from plproof.verify.midrad import (MIDRAD, as_mr, batch_jacobian_upper, gd_step, kernel_enclosure, norm_hi, norm_upper,
                                  radius, rows_of)
from plproof.verify.problem import hint
from plproof.verify.sampler import regenerate
from plproof.verify.tanh import max_error, table_tanh
from plproof.verify.window import SUB, SUBS, Window, applies, step_jacobian

RECIPE = "plproof two-layer tanh GD step v4"  # tanh by the table of plproof.verify.tanh
GENERIC = "plproof midpoint-radius GD step v2"  # docs/rigor.md §10
RECIPE_DD = "plproof two-layer tanh GD step dd v3"  # docs/rigor.md §9.7, §9.8
U = 2.0**-53
UP1 = 1.0001 * U       # >= u/(1 - u)
#: largest |A - tanh Z~| for which ell's 64u evaluation error of tanh'' holds (4 * 8u + 6u), docs/rigor.md §5.4:
#: checked against the table's bound max_error() for every run (_Data)
TANH_ERR = 8 * U
TINY = 2.0**-1000       # absolute cover for underflow
FCOVER = 1 + 1e-6       # evaluating the non-negative bound formulas in float
DRIFT = 0.05            # re-anchor when the T1 drift exceeds this fraction of ||DF(anchor)||
ASSUMPTION = ("per-step bounds, and the terminal ball's K and r (midpoint-radius arithmetic, docs/rigor.md §10), "
              "assume IEEE binary64 round-to-nearest and BLAS dot products within gamma_k; the recipe's tanh is the "
              "verifier's table, its error proven (docs/rigor.md §11.7), no libm assumed")


def _up(x: float) -> float:
    return math.nextafter(x, math.inf)


def _down(x: float) -> float:
    return math.nextafter(x, -math.inf)


def _gamma(k: int) -> float:
    return _up(_up(k * U) / (1 - 2 * k * U))


def _norm_up(x: np.ndarray) -> float:
    """An upper bound on ||x||_2 computed in float (sum of squares with relative error < 1e-6 cover)."""
    flat = np.ravel(x)
    return _up(math.sqrt(float(flat @ flat)) * FCOVER)


def _norm_rows(M: np.ndarray) -> np.ndarray:
    """Euclidean norms of the rows of M (float; callers' FCOVER covers their rounding)."""
    return np.sqrt(np.einsum("ij,ij->i", M, M))


def _perron_ratio(c: np.ndarray, Gabs: np.ndarray, u: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """((Gabs u)/u, u) for u > 0 near the Perron vector of diag(c_i) Gabs, per column i: six power steps from c,
    or one from an earlier call's u (only u > 0 matters for validity)."""
    steps, u = (6, c) if u is None or u.shape != c.shape else (1, u)
    for _ in range(steps):
        u = c * (Gabs @ u)
        u = u / np.maximum(u.max(axis=0), 2.0**-1000) + 2.0**-40
    return (Gabs @ u) / u, u


def _gram_hi(c: np.ndarray, covered: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Per column i: >= lambda_max(X^T diag(c_i) X) for c >= 0 (axis -2: data), Gabs >= |X X^T| entrywise
    (docs/rigor.md §10): lambda_max(X^T D X) = lambda_max(D^1/2 X X^T D^1/2) <= rho(D Gabs), and for any
    u > 0 rho(D Gabs) <= max_k c_k (Gabs u)_k / u_k (the inf-norm of diag(u)^-1 D Gabs diag(u)); covered =
    ratio FCOVER + TINY, ratio = (Gabs u)/u from :func:`_perron_ratio` of this or a nearby c. One pass over c
    into ``out`` (may be c itself)."""
    return np.max(np.multiply(c, covered, out=out), axis=-2) + TINY


#: _lemma_b refreshes its Perron vectors and eigen-bounds every REFRESH calls (any u > 0 and any anchor g_a
#: are valid; they are sharp for nearby steps)
REFRESH = 4


def _outer_rows(X: np.ndarray) -> np.ndarray:
    """Row k: fl(x_k x_k^T) flattened, so that X^T diag(g_i) X for all i is one product g^T XX (:func:`_eig_bounds`)."""
    return (X[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1)


def _eig_bounds(X: np.ndarray, XX: np.ndarray, xn2: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per step (leading axes of g) and neuron i: (lo, hi), lo >= -lambda_min(X^T diag(g_i) X), hi >= lambda_max
    (docs/rigor.md §10): M~[i] = sum_k g_ki fl(x_k x_k^T) (``XX`` = :func:`_outer_rows`), n + 2 roundings per term,
    so ||M - M~||_F <= gamma_(n+2) sum_k |g_ki| ||x_k||^2, and :func:`plproof.verify.eigen.extremes`."""
    n, d = X.shape
    ok = np.isfinite(g).all(axis=(-2, -1))  # per step (leading axes): a non-finite g gives inf
    if not ok.all():
        g = np.where(ok[..., None, None], g, 0.0)
    M = (np.swapaxes(g, -1, -2) @ XX).reshape(g.shape[:-2] + (g.shape[-1], d, d))  # X^T diag(g_i) X, one product
    lo, hi = extremes(M, _gamma(n + 2) * (xn2 @ np.abs(g)) * FCOVER)
    return np.where(ok[..., None], lo, np.inf), np.where(ok[..., None], hi, np.inf)


def _matvec(M: np.ndarray, x: np.ndarray) -> np.ndarray:
    """M[t] @ x[t] for each t of the leading axis."""
    return np.matmul(M, x[:, :, None])[:, :, 0]


def _at(b: dict, j: int) -> dict:
    """Step j's stage bounds from those of a batch."""
    return {key: a[j] for key, a in b.items()}


def _lemma_b(c: Any, eta: float, e: float, LF: float, v: np.ndarray, ev: float, r: np.ndarray, Er: np.ndarray,
             s2: np.ndarray, F2: np.ndarray | float, qn: np.ndarray | None,
             batch: tuple[np.ndarray, float, float] | None = None) -> float:
    """:func:`_lemma_b_steps` of one step (its arrays without the step axis)."""
    F2 = np.asarray(F2, dtype=np.float64)
    return float(_lemma_b_steps(c, eta, np.array([e]), np.array([LF]), v[None], np.array([ev]), r[None], Er[None],
                                s2[None], F2[None] if F2.ndim else F2, None if qn is None else qn[None], batch)[0])


def _lemma_b_steps(c: Any, eta: float, e: np.ndarray, LF: np.ndarray, v: np.ndarray, ev: np.ndarray, r: np.ndarray,
                   Er: np.ndarray, s2: np.ndarray, F2: np.ndarray | float, qn: np.ndarray | None,
                   batch: tuple[np.ndarray, float, float] | None = None) -> np.ndarray:
    """sup ||I - eta Hess L|| over B(w_t, e_t) of a two-layer net with sup ||DF|| <= LF_t there, for k steps t (leading
    axis of every array; docs/theory.md §12.2, docs/rigor.md §5.4, §10): Lemma B per neuron, one-sided both ways:
    sigma >= -lambda_min(S), h >= lambda_max(S).

    At w_t: computed r (|r - r(w)| <= Er), s2 ~ sigma''(Z) (|s2 - sigma''(Z)| <= F2), qn >= ||X^T (r o sigma'_i)||
    (None: train='hidden', only the W blocks). On the tube |dv_i| <= ev (e, or 0 when v is fixed),
    |dz_ki| <= ||x_k|| e, ||dr|| <= LF e, so g_ki = v_i r_k sigma''(z_ki) moves by at most dg_ki, and
    -lambda_min(X^T diag(g_i) X) <= N_i: the least of the trace sum_k ||x_k||^2 (g_- + dg)_ki, the Gram bound
    of g_- + dg and (d < n) the eigen-bound at w plus the Gram bound of dg; lambda_max likewise with g_+.
    ``c`` holds X, Gabs >= |X X^T|, xn, xn2, X_norm, S1, S2, S3, s_up and ``anchor`` (a dict for the Perron
    ratios and eigen-bounds of a recent step, refreshed every REFRESH steps: the steps run in groups that share them).

    A mini-batch step (docs/theory.md §12.6, k = 1), ``batch`` = (c, LB, cmax): r is a = c o r (c_k the multiplicity
    of k in the batch, 0 off it), sup ||DF_B|| <= LB on the tube; then |a_k(w) - a_k| <= Er_k + c_k LF e,
    ||a(w) - a|| <= sqrt(cmax) LB e and lambda_max(DF_B^T DF_B) <= LB^2; refreshed at every step.
    """
    k = e.shape[0]
    av, ar = np.abs(v), np.abs(r)
    move = (LF * e)[:, None]
    rk = Er + move if batch is None else Er + batch[0] * move
    if batch is None:
        LB = LQ = LF
    else:
        LB, LQ = np.full(k, batch[1]), np.full(k, _up(math.sqrt(batch[2]) * batch[1] * FCOVER))
    E2 = (c.S3 * c.xn[:, None])[None] * e[:, None, None] + F2
    cap = np.abs(s2)
    cap += E2
    np.minimum(cap, c.S2, out=cap)
    g = s2 * r[:, :, None]
    g *= v[:, None, :]
    # dg = cap ((ev + |v|) rk + ev |r|) + |v||r| E2 + 4 u |g| (non-negative terms, in place)
    dg = rk[:, :, None] * (ev[:, None, None] + av[:, None, :])
    dg += (ev[:, None] * ar)[:, :, None]
    dg *= cap
    E2 = E2 * av[:, None, :]
    E2 *= ar[:, :, None]
    dg += E2
    work = np.abs(g)
    work *= 4 * UP1
    dg += work
    split = c.X.shape[1] < c.X.shape[0]
    a = c.anchor  # Perron ratios and (d < n) the eigen-bounds at an earlier g_a: lambda_min(P(g)) >= ...
    every = REFRESH if batch is None else 1
    if a.get("g") is not None and a["g"].shape != g.shape[1:]:
        a.clear()
    groups, age = [], a.get("age", every)  # (first step, end, refreshed at the first step)
    j = 0
    while j < k:
        fresh = age >= every
        age = 0 if fresh else age
        end = min(k, j + every - age)
        groups.append((j, end, fresh))
        age += end - j
        j = end
    if split:  # the eigen-bounds of every refresh in one batched call
        at = [j for j, _, fresh in groups if fresh]
        if at:
            lo_all, hi_all = _eig_bounds(c.X, c.XX, c.xn2, g[at])
    N, P = np.empty((k, g.shape[2])), np.empty((k, g.shape[2]))
    for i, (j, end, fresh) in enumerate(groups):
        if fresh:
            a["g"] = g[j].copy()
        for key, sign, out in (("N", -1.0, N), ("P", 1.0, P)):  # (sign g)_+ + dg: neg = g_- + dg, pos = g_+ + dg
            cc = np.multiply(g[j:end], sign, out=work[j:end])
            np.maximum(cc, 0.0, out=cc)
            cc += dg[j:end]
            if fresh:
                ratio, a["u" + key] = _perron_ratio(cc[0], c.Gabs, a.get("u" + key))
                a[key] = ratio * FCOVER + TINY
            trace = c.xn2 @ cc
            out[j:end] = np.minimum(trace, _gram_hi(cc, a[key], cc))
        if split:  # ... lambda_min(P(g_a)) - lambda_max(X^T diag(|g - g_a| + dg) X), rounding of both covered by UP1
            if fresh:
                ratio, a["uD"] = _perron_ratio(dg[j], c.Gabs, a.get("uD"))
                a["D"] = ratio * FCOVER + TINY
                r_i = at.index(j)
                a["lo"], a["hi"] = lo_all[r_i], hi_all[r_i]
            with np.errstate(invalid="ignore"):
                far = np.subtract(g[j:end], a["g"], out=work[j:end])
                np.abs(far, out=far)
                far *= 1 + UP1
                far += dg[j:end]
                far *= 1 + UP1
                if not far.max() < np.inf:
                    far[~np.isfinite(far)] = np.inf
            moved = _gram_hi(far, a["D"], far)
            N[j:end], P[j:end] = np.minimum(N[j:end], a["lo"] + moved), np.minimum(P[j:end], a["hi"] + moved)
    a["age"] = age
    if qn is None:
        q2: np.ndarray | float = 0.0
    else:
        rx = (ar + Er) * c.xn
        qr = np.nextafter(np.sqrt(np.einsum("tk,tk->t", rx, rx)) * FCOVER, np.inf)  # _norm_up per step
        qt = qn + (c.X_norm * e * (c.S1 * LQ + c.S2 * qr))[:, None]
        q2 = 4 * qt * qt
    sigma = 0.5 * c.s_up * np.max(N + np.sqrt(N * N + q2), axis=1)
    h = 0.5 * c.s_up * np.max(P + np.sqrt(P * P + q2), axis=1)
    return np.nextafter(np.maximum(1.0 + eta * sigma * FCOVER, eta * (LB * LB + h) * FCOVER - 1.0), np.inf)


def _gram_abs(X: np.ndarray) -> np.ndarray:
    """Gabs >= |X X^T| entrywise: |fl(X X^T) - X X^T| <= gamma_d |X||X|^T (docs/rigor.md §0)."""
    aX = np.abs(X)
    return (np.abs(X @ X.T) + _gamma(X.shape[1]) * (aX @ aX.T)) * FCOVER + TINY


class _Data:
    """Fixed data of the net and the constants of the bounds (the verifier's own evaluation)."""

    def __init__(self, fam: Family, y: np.ndarray, X_norm: Fraction) -> None:
        self.X = np.ascontiguousarray(fam.X, dtype=np.float64)
        self.y = y
        self.n, self.d = self.X.shape
        self.m = int(fam.spec["width"])
        self.s = 1.0 / np.sqrt(float(self.m))
        self.s_true = 1 / math.sqrt(self.m)
        self.s_up = _up(self.s * (1 + 4 * UP1))
        self.aX = np.abs(self.X)
        self.Gabs, self.XX = _gram_abs(self.X), _outer_rows(self.X)
        self.anchor: dict = {}  # _lemma_b's recent Perron ratios and eigen-bounds
        self.xn = np.sqrt(np.einsum("ij,ij->i", self.X, self.X)) * FCOVER
        self.xn2 = self.xn * self.xn * FCOVER
        self.x_max = float(self.xn.max())
        self.X_norm = _up(float(X_norm))
        S1, S2, S3 = ACTIVATION_BOUNDS["tanh"]
        self.S1, self.S2, self.S3 = _up(float(S1)), _up(float(S2)), _up(float(S3))
        self.gd, self.gm, self.gn = _gamma(self.d), _gamma(self.m), _gamma(self.n)
        self.gp = _gamma(self.m * (self.d + 1))
        if not max_error() <= TANH_ERR:  # |A - tanh Z~| <= max_error() at every finite Z~ (docs/rigor.md §11.7)
            raise Failure(f"the tanh table's error bound {max_error() / U:.1f}u exceeds the 8u that the evaluation "
                          "error of tanh'' (64u, docs/rigor.md §5.4) allows")

    def split(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        md = self.m * self.d
        return w[:md].reshape(self.m, self.d), w[md:]

    def step(self, W: np.ndarray, v: np.ndarray, eta: float) -> tuple:
        """The recipe of the certificate: Z = X W^T, A = tanh Z by the table (with ET >= |A - tanh Z|, docs/rigor.md
        §11.7), r = (A v) s - y, D = 1 - A*A, q = A^T r, Q = (D o r)^T X, W1 = W - eta (Q o (s v)),
        v1 = v - eta (q s)."""
        Z = self.X @ W.T
        ET = np.empty(Z.shape)
        A = table_tanh(Z, error=ET)
        p = A @ v
        r = p * self.s - self.y
        D = 1.0 - A * A
        q = A.T @ r
        Q = (D * r[:, None]).T @ self.X
        c = self.s * v
        gW = Q * c[:, None]
        gv = q * self.s
        return W - eta * gW, v - eta * gv, (A, p, r, D, q, Q, c, gW, gv, ET)

    def run(self, W: np.ndarray, v: np.ndarray, eta: float, k: int) -> tuple[np.ndarray, np.ndarray, tuple]:
        """k steps of :meth:`step` from (W, v): the iterates (k + 1 slots) and each step's parts, stacked on a
        leading step axis."""
        Ws, vs, parts = [W], [v], []
        for _ in range(k):
            W, v, part = self.step(W, v, eta)
            Ws.append(W)
            vs.append(v)
            parts.append(part)
        return np.stack(Ws), np.stack(vs), tuple(np.stack(x) for x in zip(*parts))

    def errors(self, W: np.ndarray, v: np.ndarray, eta: float, parts: tuple) -> tuple[np.ndarray, dict]:
        """Componentwise forward errors of the k steps of :meth:`run` (iterates W, v with k + 1 slots), evaluated
        at once: rho[t] >= ||G(w_t) - w_{t+1}|| and the stage bounds (leading axis: the step), docs/rigor.md §5.2."""
        A, p, r, D, q, Q, c, gW, gv, ET = parts
        W, W1, v, v1 = W[:-1], W[1:], v[:-1], v[1:]
        aA, av, ar, s = np.abs(A), np.abs(v), np.abs(r), self.s
        # the (step, data, neuron) arrays in place; sums of non-negative terms regrouped (FCOVER covers the order)
        EZ = np.matmul(self.aX, np.abs(W).transpose(0, 2, 1))
        EZ *= self.gd
        EZ += TINY
        EA = ET  # >= |A - tanh Z~|, proven (docs/rigor.md §11.7); inf where Z~ is not finite
        EA += EZ
        EA += TINY
        # Ep = (gamma_m |A| + EA) |v|; Eq = (gamma_n |A| + EA)^T |r| + (|A| + EA)^T Er
        Ep = self.gm * _matvec(aA, av) + _matvec(EA, av)
        Er = self.s_up * Ep + 4 * UP1 * s * np.abs(p) + UP1 * ar + TINY
        ED = 2 * aA  # EA (2 |A| + EA) + 2.01 u + TINY
        ED += EA
        ED *= EA
        ED += 2.01 * U + TINY
        Eq = _matvec(aA.transpose(0, 2, 1), self.gn * ar + Er) + _matvec(EA.transpose(0, 2, 1), ar + Er)
        Egv = self.s_up * Eq + 4 * UP1 * s * np.abs(q) + TINY
        # P = |fl(D r)|, EP = u P + ED |r| + (|D| + ED) Er + TINY; gamma_n P + EP = (gamma_n + u) P + ED (|r| + Er)
        # + |D| Er + TINY
        M = np.multiply(D, r[:, :, None])
        np.abs(M, out=M)
        M *= self.gn + UP1
        aD = np.abs(D)
        aD *= Er[:, :, None]
        M += aD
        np.multiply(ED, (ar + Er)[:, :, None], out=aD)
        M += aD
        M += TINY
        EQ = np.matmul(M.transpose(0, 2, 1), self.aX) + TINY
        Ec = UP1 * np.abs(c) + 3 * UP1 * s * av
        EgW = UP1 * np.abs(gW) + np.abs(Q) * Ec[:, :, None] + (np.abs(c) + Ec)[:, :, None] * EQ + TINY
        EW = UP1 * np.abs(W1) + eta * (UP1 * np.abs(gW) + EgW)
        Ev = UP1 * np.abs(v1) + eta * (UP1 * np.abs(gv) + Egv)
        rho = np.nextafter(np.sqrt(np.einsum("tij,tij->t", EW, EW) + np.einsum("ti,ti->t", Ev, Ev)) * FCOVER, np.inf)
        return rho, {"A": A, "EA": EA, "EZ": EZ, "D": D, "ED": ED, "r": r, "Er": Er, "Q": Q, "EQ": EQ}

    def ell(self, eta: float, e: float, LF: float, v: np.ndarray, b: dict) -> float:
        """:meth:`ells` of one step (b without the step axis)."""
        return float(self.ells(eta, np.array([e]), np.array([LF]), v[None], {key: x[None] for key, x in b.items()})[0])

    def ells(self, eta: float, e: np.ndarray, LF: np.ndarray, v: np.ndarray, b: dict) -> np.ndarray:
        """sup ||I - eta Hess L|| over B(w_t, e_t) with sup ||DF|| <= LF_t there, for the steps of a batch (leading
        axis; docs/theory.md §12.2): tanh'' = -2 tanh tanh' from the step's A, D, its evaluation error S3 E_Z + 64u
        (docs/rigor.md §5.4)."""
        k = e.shape[0]
        A, D, Q, EQ = (b[key][:k] for key in ("A", "D", "Q", "EQ"))
        qn = np.sqrt(np.einsum("tij,tij->ti", Q, Q)) + np.sqrt(np.einsum("tij,tij->ti", EQ, EQ))
        return _lemma_b_steps(self, eta, e, LF, v, e, b["r"][:k], b["Er"][:k], -2.0 * (A * D),
                              self.S3 * b["EZ"][:k] + 64 * U, qn)

    def jacobian_upper(self, v: np.ndarray, b: dict) -> float:
        """>= ||DF(w)||_2 from the computed Jacobian, its entrywise error and a float Cholesky test of
        t I - fl(J J^T) with Higham's bound (verify.exact.cholesky_margin)."""
        B = b["D"] * v
        JW = (B[:, :, None] * self.X[:, None, :]).reshape(self.n, -1) * self.s
        Jv = b["A"] * self.s
        J = np.concatenate([JW, Jv], axis=1)
        EJW = (self.s_up * (b["ED"] * np.abs(v))[:, :, None] * self.aX[:, None, :]).reshape(self.n, -1) \
            + 8 * UP1 * np.abs(JW)
        EJv = self.s_up * b["EA"] + 5 * UP1 * np.abs(Jv)
        dJ = _up(math.sqrt(_norm_up(EJW) ** 2 + _norm_up(EJv) ** 2) * FCOVER)
        M = J @ J.T
        Ms = np.tril(M) + np.tril(M, -1).T  # |Ms - J J^T| is |M - J J^T| mirrored: twice its Frobenius bound
        radius = 2 * (Fraction(self.gp) * Fraction(_norm_up(J)) ** 2 + Fraction(self.n * self.n) * Fraction(2.0**-1074))
        # 1e-6 relative room: the float test loses about 4 (n + 1) u tr(s I - Ms) (cholesky_margin)
        s = _up(float(np.linalg.eigvalsh(Ms)[-1]) * (1 + 1e-6) + 1e-300)
        B = s * np.eye(self.n) - Ms  # off the diagonal exactly -Ms; the diagonal's rounding is counted below
        diag = max(abs(Fraction(s) - Fraction(Ms[i, i]) - Fraction(B[i, i])) for i in range(self.n))
        margin = cholesky_margin(B)
        if margin is None or not margin - diag > 0:  # lambda_max(Ms) < s, so lambda_max(J J^T) < s + radius
            raise Failure("verifier: could not bound lambda_max(K) at an anchor (float Cholesky test failed)")
        t = _up(s + _up(float(radius) * (1 + 1e-9)))
        return _up(_up(math.sqrt(t) * (1 + 1e-12)) + dJ)

    def kappa(self, v: np.ndarray) -> float:
        """T1 drift per unit radius at a centre with output weights v (docs/theory.md §11.3)."""
        c = _up(self.S2 * float(np.max(np.abs(v))) * self.x_max)
        return _up(self.s_up * self.X_norm * (c + math.sqrt(c * c + 4.0)) / 2 * FCOVER)


#: the verifier re-runs a segment in batches of steps whose error bounds it evaluates at once: up to 32 steps and
#: about 2^16 (data, neuron) entries per batch
BATCH_ENTRIES = 2**16


#: tube radii e_hat_t >= e_t of a batch: TUBE_ROOM times the radii that the previous batch's largest l_t predicts, then
#: confirmed (l_t is increasing in e, so l_t at e_hat_t >= e_t is valid); at most TUBE_TRIES attempts per batch
TUBE_ROOM = 2.0
TUBE_TRIES = 12


@np.errstate(over="ignore", invalid="ignore")  # a diverging float run is caught below as a non-finite rho
def _segment(data: _Data, eta: float, w: np.ndarray, e: float, steps: int, w_end: np.ndarray,
             batch: int | None = None) -> float:
    """The verifier's radius after ``steps`` steps from the stored w with radius e, ending at w_end.

    Steps run in batches of ``batch`` (default by :data:`BATCH_ENTRIES`): rho_t of a batch at once, l_t of a batch
    at once on tube radii e_hat_t (:data:`TUBE_ROOM`), then e_{t+1} = l_t e_t + rho_t step by step, and the batch
    is accepted when e_t <= e_hat_t at every step (else e_hat grows and l_t is evaluated again). Anchors: where the
    T1 drift kappa (path + e_hat) passes DRIFT ||DF(anchor)||."""
    W, v = data.split(w)
    state = (0.0, 0.0, 0.0, False)  # J, kappa, path since the anchor, anchored
    size = batch or max(1, min(32, BATCH_ENTRIES // (data.n * data.m)))
    done, ell_prev = 0, 1.0
    while done < steps:
        k = min(size, steps - done)
        Wb, vb, parts = data.run(W, v, eta, k)
        rho, b = data.errors(Wb, vb, eta, parts)
        done += k
        if done == steps:  # the segment ends at the stored w_end: the gap to the own float iterate is added
            W_e, v_e = data.split(w_end)
            rho[-1] = _up(rho[-1] + _up(math.sqrt(_norm_up(Wb[-1] - W_e) ** 2 + _norm_up(vb[-1] - v_e) ** 2)
                                        * (1 + 4 * UP1)))
            Wb[-1], vb[-1] = W_e, v_e
        if not np.isfinite(rho).all():
            raise Failure("verifier: the float run is not finite along a segment")
        norms = [np.nextafter(np.sqrt(np.einsum("ti,ti->t", x, x)) * FCOVER, np.inf)  # _norm_up per step
                 for x in (np.diff(Wb, axis=0).reshape(k, -1), np.diff(vb, axis=0))]
        lengths = (np.sqrt(norms[0] ** 2 + norms[1] ** 2) * (1 + 4 * UP1)).tolist()
        anchors: dict[int, tuple[float, float]] = {}  # J, kappa at step j of the batch (kept across attempts)
        saved = dict(data.anchor)  # the Perron ratios and eigen-bounds before the batch, restored per attempt
        e_hat = TUBE_ROOM * _radii(np.full(k, ell_prev), rho, e)[:-1]
        for _ in range(TUBE_TRIES):
            LF, end = _drift(data, vb, b, anchors, state, e_hat, lengths)
            data.anchor.clear()
            data.anchor.update(saved)
            ell = data.ells(eta, e_hat, LF, vb[:k], b)
            radii = _radii(ell, rho, e)
            if not np.isfinite(radii).all():
                return math.inf
            if (radii[:-1] <= e_hat).all():
                break
            e_hat = np.maximum(e_hat, TUBE_ROOM * radii[:-1])
        else:
            raise Failure(f"verifier: the tube radii did not settle within {TUBE_TRIES} attempts in a batch")
        e, state, ell_prev = float(radii[-1]), end, float(ell.max())
        W, v = Wb[-1], vb[-1]
    return e


def _radii(ell: np.ndarray, rho: np.ndarray, e: float) -> np.ndarray:
    """e_0 = e, e_{j+1} = up(up(l_j e_j) + rho_j) (docs/theory.md §12.1)."""
    out = [e]
    for lj, rj in zip(ell.tolist(), rho.tolist()):
        out.append(_up(_up(lj * out[-1]) + rj))
    return np.array(out)


def _drift(data: _Data, vb: np.ndarray, b: dict, anchors: dict[int, tuple[float, float]], state: tuple,
           e_hat: np.ndarray, lengths: list[float]) -> tuple[np.ndarray, tuple]:
    """LF_j >= sup ||DF|| over B(w_j, e_hat_j) for the steps of a batch: J_a + kappa_a (path_j + e_hat_j) from the
    last anchor a (T1, docs/theory.md §11.3), a new anchor where that drift passes DRIFT J_a; and the state after."""
    J, kap, path, anchored = state
    LF = np.empty(len(lengths))
    for j, (ej, step) in enumerate(zip(e_hat.tolist(), lengths)):
        if not anchored or kap * (path + ej) > DRIFT * J:
            if j not in anchors:
                anchors[j] = data.jacobian_upper(vb[j], _at(b, j)), data.kappa(vb[j])
            (J, kap), path, anchored = anchors[j], 0.0, True
        LF[j] = _up(J + kap * (path + ej) * FCOVER)
        path = _up(path + step)
    return LF, (J, kap, path, anchored)


@np.errstate(over="ignore", invalid="ignore")
def _segment_dd(data: _Data, eta: float, w: np.ndarray, e: float, steps: int, w_end: np.ndarray) -> float:
    """:func:`_segment` for the dd recipe from the stored pair w = (w_h, w_l) (docs/rigor.md §9.7): rho_t and the
    next pair by dd_step; l_t at w_h on B(w_h, e + delta_t), delta_t >= ||w_l||, with ||DF|| <= J_a + kappa_a
    (delta_a + path + e + 2 delta_t) from the anchor's w_h."""
    (W, v), (Wl, vl) = data.split(w[0]), data.split(w[1])
    J = kap = path = d_a = 0.0
    anchored = False
    for t in range(steps):
        try:
            st = dd_step(data.X, data.y, eta, W, Wl, v, vl)
        except FloatingPointError:
            raise Failure("verifier: the double-double run overflows along a segment") from None
        rho, step, nxt = st.rho, st.step, (st.W_hi, st.v_hi, st.W_lo, st.v_lo)
        if t == steps - 1:
            (W_e, v_e), (Wl_e, vl_e) = data.split(w_end[0]), data.split(w_end[1])
            gaps = [dd.sub(dd.DD(a, b, 0.0), dd.DD(c, f, 0.0))
                    for a, b, c, f in ((st.W_hi, st.W_lo, W_e, Wl_e), (st.v_hi, st.v_lo, v_e, vl_e))]
            gap = dd.norm_upper(*(np.abs(g.hi) + np.abs(g.lo) + g.rad for g in gaps))
            rho, step, nxt = _up(rho + gap), _up(step + gap), (W_e, v_e, Wl_e, vl_e)
        Wb, vb, parts = data.run(W, v, eta, 1)
        b = _at(data.errors(Wb, vb, eta, parts)[1], 0)
        delta = dd.norm_upper(Wl, vl)
        if not anchored or kap * (path + e) > DRIFT * J:
            J, kap, path, d_a, anchored = data.jacobian_upper(v, b), data.kappa(v), 0.0, delta, True
        LF = _up(J + kap * (d_a + path + e + 2 * delta) * FCOVER)
        ell = data.ell(eta, _up((e + delta) * FCOVER), LF, v, b)
        e = _up(_up(ell * e) + rho)
        if not math.isfinite(e):
            raise Failure("verifier: the shadowing radius is not finite along a segment")
        path = _up(path + step)
        W, v, Wl, vl = nxt
    return e


def derive_run(cert: dict, base: Path | None, checked: list[str]) -> dict:
    """The evidence a ``run`` certificate must state, re-derived from its inputs and hints."""
    inputs, hints = cert["inputs"], cert["hints"]
    fam, y, w0 = rebuild(inputs, base)
    run = inputs.get("run")
    recipe = run.get("recipe") if isinstance(run, dict) else None
    if recipe not in (RECIPE, RECIPE_DD, GENERIC):
        raise Failure(f"inputs.run must name a float recipe: {RECIPE!r}, {RECIPE_DD!r} or {GENERIC!r}")
    if recipe != GENERIC and not (fam.spec["family"] == "two_layer" and fam.spec.get("train") == "both"
                                  and fam.activation == "tanh"):
        raise Failure(f"the recipe {recipe!r} is re-checked for two-layer tanh nets with train='both' only")
    pair = recipe == RECIPE_DD
    sgd = run.get("method") == "sgd"
    allowed = RUN_KEYS | (SGD_KEYS if sgd else set())
    if not set(run) <= allowed or (sgd and "sampler" not in run):
        raise Failure(f"inputs.run holds {', '.join(sorted(allowed))}"
                      f"{' (method sgd with its sampler)' if sgd else ''}; got {', '.join(sorted(run))}")
    theorem = cert.get("claim", {}).get("theorem")
    if theorem != ("sgd-run/A" if sgd else "gd-run/A"):
        raise Failure(f"claim.theorem {theorem!r} does not name a {'SGD' if sgd else 'GD'} run")
    if sgd and (recipe != GENERIC or fam.spec["family"] not in ("linear", "two_layer", "random_features", "mlp")):
        raise Failure(f"SGD runs are re-checked with the recipe {GENERIC!r} for models with data rows only")
    try:
        eta_q, T = decode_number(run["step"]), int(run["T"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Failure(f"inputs.run is incomplete or malformed: {exc}") from None
    if isinstance(eta_q, float) or Fraction(float(eta_q)) != eta_q or not eta_q > 0 or T < 0:
        raise Failure("inputs.run.step must be one positive binary64 number and T >= 0")
    eta = float(eta_q)
    d = Derived()
    d.exact("step", eta_q)
    d.exact("T", Fraction(T))
    batches = None
    if sgd:
        batches = regenerate(run["sampler"], fam.n, T)
        spec = run["sampler"]
        d.setting = {"method": "sgd", "sampler": spec["algorithm"], "seed": spec["seed"],
                     "batch_size": spec["batch_size"], "n": fam.n}
        checked.append(f"sampler: {T} batches of {spec['batch_size']} regenerated ({spec['algorithm']}, seed "
                       f"{spec['seed']}, {spec['generator']}), sha256 as stated (docs/theory.md §12.6)")
    if "checkpoints" not in run:
        d.premise("terminal ball closes", None, strict=True, ref="docs/theory.md §12.1")
        return d.finish("not certified", "verified")
    try:
        C = decode_array(run["checkpoints"], base)
        steps = [int(t) for t in run["checkpoint_steps"]]
    except DataMismatch as exc:
        raise Failure(f"inputs.run: {exc}") from None
    except DataMissing as exc:
        raise Unverifiable(str(exc)) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise Failure(f"inputs.run is incomplete or malformed: {exc}") from None
    K = len(steps)
    if (C.shape != ((K, 2, fam.m) if pair else (K, fam.m)) or K < 1 or steps[0] != 0 or steps[-1] != T
            or any(b <= a for a, b in zip(steps, steps[1:]))):
        raise Failure("inputs.run: checkpoints must start at step 0, end at T, increase, and match the parameters")
    if not np.isfinite(C).all():
        raise Failure("inputs.run: checkpoints must be finite")
    if not np.array_equal(C[0], np.stack([w0, np.zeros_like(w0)]) if pair else w0):
        raise Failure("inputs.run: the first checkpoint must be w0 itself")
    X_norm = decode_number(hints["X_norm"]) if "X_norm" in hints else None
    y = np.asarray(y, dtype=np.float64)
    if recipe != GENERIC:
        if hints.get("bounds") != "two-layer-t1-t3":
            raise Failure(f"hints.bounds must be 'two-layer-t1-t3' for the recipe {recipe!r} (its l_t and terminal "
                          "ball use T1-T3)")
        checked.append(f"run: {T} steps of eta = {eta!r}, {K} checkpoints{' (double-double pairs)' if pair else ''}; "
                       f"{ASSUMPTION}")
        probe = fam.ball("two-layer-t1-t3", w0, X_norm, [])
        data = _Data(fam, y, probe.X_norm)
        switch = hints.get("float_from") if pair else None
        if switch is not None and (isinstance(switch, bool) or not isinstance(switch, int) or not 0 <= switch <= T):
            raise Failure(f"hints.float_from must be a step in [0, T = {T}], got {switch!r}")
        if switch is not None:
            if any(C[j][1].any() for j, t in enumerate(steps) if t >= switch):
                raise Failure(f"inputs.run: a checkpoint at or after hints.float_from = {switch} has a non-zero lo "
                              "part, but the run is float64 from there (docs/rigor.md §9.8)")
            checked.append(f"run: segments from step {switch} on re-checked in float64 (docs/rigor.md §9.8)")

        def segment(w: np.ndarray, e: float, t0: int, n: int, w_end: np.ndarray) -> float:
            if not pair:
                return _segment(data, eta, w, e, n, w_end)
            if switch is not None and t0 >= switch:  # both checkpoints are float points (lo = 0, checked above)
                return _segment(data, eta, w[0], e, n, w_end[0])
            return _segment_dd(data, eta, w, e, n, w_end)
    else:
        checked.append(f"run: {T} {'SGD' if sgd else 'GD'} steps of eta = {eta!r}, {K} checkpoints; "
                       f"{MIDRAD_ASSUMPTION}")
        start = hints.get("windows_from")
        if start is not None and (isinstance(start, bool) or not isinstance(start, int) or not 0 <= start <= T):
            raise Failure(f"hints.windows_from must be a step in [0, T = {T}], got {start!r}")
        gen = _Generic(fam, y, hints.get("bounds"), X_norm, checked, start)
        segment = lambda w, e, t0, n, w_end: gen.segment(eta, w, e, n, w_end,  # noqa: E731
                                                         None if batches is None else batches[t0:t0 + n], t0)
    e = 0.0
    for j in range(K - 1):
        e = segment(C[j], e, steps[j], steps[j + 1] - steps[j], C[j + 1])
        if not math.isfinite(e):
            raise Failure(f"segment {steps[j]}..{steps[j + 1]}: the shadowing radius is not finite")
    checked.append(f"shadowing: ||w_T - w~_T|| <= e_T = {e:.6g}, every segment re-run from its checkpoint with the "
                   "verifier's own rho_t and l_t (docs/theory.md §12.1 (i))")
    w_T, e_T = (C[-1][0], Fraction(e) + sqrt_hi(sum((Fraction(x) ** 2 for x in C[-1][1].tolist()), Fraction(0)))) \
        if pair else (C[-1], Fraction(e))  # dd: centred at w_h, the pair's lo part added to the radius
    model = formula_model(fam)
    K_T, res = midrad_kernel(model, w_T), midrad_residual(model, w_T, y)
    ball = fam.ball(hints.get("bounds"), w_T, X_norm, checked)
    checked.append("terminal: K(w~_T) and r(w~_T) in midpoint-radius arithmetic (docs/rigor.md §10)")
    if sgd:  # the terminal ball of the full loss, at the continuation step of exact GD from w_T
        eta_q = decode_number(run.get("continuation_step", "0"))
        if isinstance(eta_q, float) or Fraction(float(eta_q)) != eta_q or not eta_q > 0:
            raise Failure("inputs.run.continuation_step must be one positive binary64 number")
        d.exact("continuation_step", eta_q)
    _terminal(d, ball, K_T, res, e_T, eta_q, hints, checked)
    if sgd and "sgd_continuation" in run:
        _sgd_continuation(d, ball, run["sgd_continuation"], res, e_T, fam.n, run["sampler"]["batch_size"], hints,
                          checked)
    return d.finish("certified" if d.all_held() else "not certified", "verified")


#: what inputs.run may hold: the recipe, the step, T and the checkpoints; an SGD run also its method, its sampler
#: (plproof.verify.sampler) and the continuation step of its terminal ball
RUN_KEYS = {"recipe", "step", "T", "checkpoint_steps", "checkpoints"}
SGD_KEYS = {"method", "sampler", "continuation_step", "sgd_continuation"}


def _sgd_continuation(d: Derived, ball: Any, spec: Any, res: Fraction, e_T: Fraction, n: int, s: int, hints: dict,
                      checked: list[str]) -> None:
    """§3 from the exact w_T on B(w~_T, R_S) (docs/theory.md §12.6), in exact rationals: mu_S = mu_T(R_S), each l_i
    beta_S-smooth and self-bounding with beta_S = L_F^2 + kappa(R_S, ||r~_T|| + L_F R_S), ||r(w_T)|| <= rho =
    ||r~_T|| + L_F e_T, and R_S - e_T >= 2 n rho sqrt(beta_S)/(mu_S delta); then every step eta <= eta* =
    mu_S/(beta_S (n beta_S + mu_S (s - 1))) has E[L(w_(T+t)) 1{in the ball}] <= (1 - k_S eta)^t L(w_T), k_S = mu_S s/n."""
    if not isinstance(spec, dict) or set(spec) != {"confidence"}:
        raise Failure("inputs.run.sgd_continuation holds exactly the confidence 1 - delta")
    conf = decode_number(spec["confidence"])
    if isinstance(conf, float) or not 0 < conf < 1:
        raise Failure("inputs.run.sgd_continuation.confidence must be a number in (0, 1)")
    delta, R = 1 - conf, hint(hints, "R_S")
    lam, J = hint(hints, "lambda_T_shift"), hint(hints, "jacobian_norm_T")  # both proved by _terminal
    dR = ball.delta(R)
    root = sqrt_lo(lam) - dR
    mu = root * root if root > 0 else Fraction(0)
    L_F = J + dR
    beta = L_F * L_F + ball.kappa(R, res + L_F * R)
    rho = res + L_F * e_T
    fits = (R - e_T) ** 2 * mu * mu * delta * delta - 4 * n * n * rho * rho * beta if R > e_T and mu > 0 \
        else Fraction(-1)
    d.hi("R_S", R, "verified")
    d.lo("mu_S", mu, "verified")
    d.hi("beta_S", beta, "verified")
    d.premise("R_S - e_T >= 2 n rho sqrt(beta_S)/(mu_S delta)", fits, strict=True, ref="docs/theory.md §12.6")
    if mu > 0:  # every step eta in (0, eta*] gives E[L(w_(T+t)) 1{in the ball}] <= (1 - k_S eta)^t L(w_T)
        d.lo("eta_S", mu / (beta * (n * beta + mu * (s - 1))), "verified")
        d.lo("k_S", mu * s / n, "verified")
    d.setting["confidence"] = spec["confidence"]
    checked.append(f"SGD continuation: §3 from w_T on B(w~_T, {float(R):.6g}) at confidence {float(conf):.6g}, "
                   "exact rationals (docs/theory.md §12.6)")


class _Generic:
    """The verifier's own re-run of the midpoint-radius recipe (docs/rigor.md §10) and its l_t from the
    family's ball bounds (plproof.verify.families, exact rationals) at anchors of its own choosing."""

    def __init__(self, fam: Family, y: np.ndarray, bound_set: Any, X_norm: Fraction | None,
                 checked: list[str], windows_from: int | None = None) -> None:
        if not isinstance(bound_set, str):
            raise Failure("hints.bounds must name the bound set of the model's ball bounds")
        self.fam, self.y, self.bound_set, self.X_norm = fam, y, bound_set, X_norm
        self.model = formula_model(fam)
        ball = fam.ball(bound_set, fam.w0, X_norm, checked)  # refuses a bound set that is not the family's
        self.tube = (_TwoLayerTube(fam, ball, checked) if bound_set == "two-layer-t1-t3" else
                     _ExprTube(fam, y, checked) if bound_set == "generic-hessian" else None)
        # products of step Jacobians from step windows_from on (the producer's hint; docs/rigor.md §10, windows)
        self.windows_from = windows_from if applies(self.model) else None
        self.window: Window | None = None
        if self.windows_from is not None:
            checked.append(f"contraction: windows of {SUB} x {SUBS} steps from step {windows_from}, products of the "
                           "step Jacobians enclosed in midpoint-radius arithmetic (docs/rigor.md §10, windows)")

    def ball(self, w: np.ndarray, checked: list[str]) -> Any:
        return self.fam.ball(self.bound_set, w, self.X_norm, checked)

    def kernel(self, w: np.ndarray) -> MatrixEnclosure:
        return midrad_kernel(self.model, w)

    def anchor(self, w: np.ndarray) -> tuple[float, float, float, float]:
        """(LF, h1, R_a, delta): ||DF|| <= LF = J + delta(R_a) on B(w, R_a) and ||sum_k r_k Hess f_k|| <= h1 ||r||
        there (curvature is positively homogeneous in rho); R_a where delta(R_a) ~ DRIFT J."""
        J = jacobian_upper(self.kernel(w))
        ball = self.ball(w, [])
        k1 = _bounded_delta(ball, Fraction(1))
        if k1 == 0:
            R, delta = math.inf, Fraction(0)
        else:  # from 1 where delta(1) does not exist (the box leaves F's domain), halved as the producer does
            R = Fraction(1) if k1 is None else Fraction(float(Fraction(DRIFT * J) / k1))
            for _ in range(HALVINGS):
                delta = _bounded_delta(ball, R)
                if delta is not None and delta <= 2 * DRIFT * J:
                    break
                R /= 2
            else:
                raise Failure("verifier: no ball bound around an iterate on any radius down to 2^-200 (docs/theory.md "
                              "§4.1)")
        h1 = ball.kappa(Fraction(1) if R == math.inf else R, Fraction(1))
        return (_up(float(Fraction(J) + delta)), _up(float(h1)), float(R) if R == math.inf else _down(float(R)),
                _up(float(delta)))

    @np.errstate(over="ignore", invalid="ignore")
    def segment(self, eta: float, w: np.ndarray, e: float, steps: int, w_end: np.ndarray,
                batches: list[np.ndarray] | None = None, t0: int = 0) -> float:
        """The verifier's radius after ``steps`` enclosed steps from the stored w with radius e, ending at w_end:
        e' = l e + rho, l = max(1 + eta h, eta (LF^2 + h) - 1), h = h1 (||r(w)|| + LF e) (docs/theory.md §12.2),
        or for two-layer nets l by Lemma B per neuron (:class:`_TwoLayerTube`, docs/rigor.md §10). With
        ``batches`` (SGD, docs/theory.md §12.6) step t runs on the rows B_t; LF^2 becomes LB^2, LB = ||DF_B(w)|| +
        2 sqrt(cmax) delta(R_a), and ||r|| becomes sqrt(cmax) (||r_B(w)|| + LB e) >= ||c o r||."""
        R, path = -math.inf, 0.0  # no anchor yet
        LF = h1 = delta = 0.0
        for t in range(steps):
            rows = None if batches is None else batches[t]
            try:
                w1, rho, res = gd_step(self.model, w, self.y, eta, rows)
                if rows is not None:
                    cmax, JB = float(np.bincount(rows).max()), batch_jacobian_upper(self.model, w, rows)
            except (ArithmeticError, InvalidInput) as exc:
                raise Failure(f"verifier: the enclosed step is not finite along a segment ({exc})") from None
            if t == steps - 1:
                rho, w1 = _up(rho + _up(norm_upper(w1 - w_end) * (1 + 4 * UP1))), w_end
            if not (math.isfinite(rho) and math.isfinite(res) and np.isfinite(w1).all()):
                raise Failure("verifier: the float run is not finite along a segment")
            if not path + e <= R:
                LF, h1, R, delta = self.anchor(w)
                path = 0.0
                if not e <= R:
                    raise Failure("verifier: the shadowing radius exceeds the anchor's ball")
            LB, root = LF, 1.0
            if rows is not None:  # w and the tube both lie in B(w~_a, R_a)
                LB, root = _up((JB + 2 * math.sqrt(cmax) * delta * FCOVER) * FCOVER), _up(math.sqrt(cmax) * FCOVER)
            if self.tube is not None:
                ell = self.tube.ell(self.model, self.y, w, eta, e, LF, rows, LB)
            else:
                h = _up(h1 * _up(root * (res + LB * e) * FCOVER) * FCOVER)
                ell = _up(max(1.0 + eta * h, eta * (LB * LB + h) - 1.0) * FCOVER)
            e = self._windowed(w, e, eta, rows, ell, rho, t0 + t)
            path = _up(path + norm_upper(w1 - w) * (1 + 4 * UP1))
            w = w1
        return e


    def _windowed(self, w: np.ndarray, e: float, eta: float, rows: np.ndarray | None, ell: float,
                  rho: float, t: int) -> float:
        """The radius after step t from w: l e + rho, or from step windows_from on, after every SUB steps, the
        window's bound if smaller (products of step Jacobians enclosed over the box of half-width e around w,
        docs/rigor.md §10, windows)."""
        e1 = _up(_up(ell * e) + rho)
        if self.windows_from is None or t < self.windows_from:
            return e1
        try:
            A = step_jacobian(self.model, w, e, self.y, eta, rows)
        except ArithmeticError:  # no enclosure: the window ends here
            self.window = None
            return e1
        self.window = self.window or Window(e)
        self.window.extend([A], [ell], [rho])
        if self.window.closable:
            e1 = min(e1, self.window.close()[0])
            if self.window.full:
                self.window = None
        return e1


#: halvings of an anchor's radius before the verifier gives up (from at most 1: radii down to 2^-200)
HALVINGS = 200


def _bounded_delta(ball: Any, R: Fraction) -> Fraction | None:
    """delta(R) of the ball bounds, None where they do not exist on B(w, R) (a SymPy model's box leaving F's domain,
    which the producer's bounds take as +inf)."""
    try:
        return ball.delta(R)
    except Failure:
        return None


def midrad_kernel(model: Any, w: np.ndarray) -> MatrixEnclosure:
    """K(w) enclosed: the mirrored midpoint matrix (exact rationals) and the Frobenius norm of the radii."""
    K, E = kernel_enclosure(model, w)
    return MatrixEnclosure([[Fraction(x) for x in row] for row in K], Fraction(norm_upper(E)))


def midrad_residual(model: Any, w: np.ndarray, y: np.ndarray) -> Fraction:
    """>= ||F(w) - y|| in midpoint-radius arithmetic."""
    return Fraction(norm_hi(model.F(w, MIDRAD) - y))


class _TwoLayerTube:
    """The sharp l_t of a two-layer net (train 'both' or 'hidden', any activation with constants in
    ACTIVATION_BOUNDS) from the verifier's own midpoint-radius enclosures of sigma(Z), sigma'(Z), sigma''(Z)
    and r at the iterate, by :func:`_lemma_b` (docs/theory.md §12.2, docs/rigor.md §10)."""

    def __init__(self, fam: Family, ball: Any, checked: list[str]) -> None:
        self.X = X = np.asarray(fam.X, dtype=np.float64)
        self.Gabs, self.XX = _gram_abs(X), _outer_rows(X)
        self.anchor: dict = {}  # _lemma_b's recent Perron ratios and eigen-bounds
        self.xn = np.sqrt(np.einsum("ij,ij->i", X, X)) * FCOVER
        self.xn2 = self.xn * self.xn * FCOVER
        self.X_norm, self.s_up = _up(float(ball.X_norm)), _up(float(ball.s))
        self.S1, self.S2, self.S3 = (_up(float(x)) for x in ACTIVATION_BOUNDS[fam.activation])
        self.moves_v = fam.spec.get("train") == "both"
        checked.append(f"contraction: Lemma B per neuron with the one-sided bound (docs/theory.md §12.2), "
                       f"{fam.activation} constants S1-S3 of plproof.verify.exact, train={fam.spec.get('train')!r}")

    def ell(self, model: Any, y: np.ndarray, w: np.ndarray, eta: float, e: float, LF: float,
            rows: np.ndarray | None = None, LB: float = 0.0) -> float:
        """sup ||I - eta Hess L|| over B(w, e) given sup ||DF|| <= LF there; with a mini-batch ``rows``, of
        I - eta Hess L_B given sup ||DF_B|| <= LB: the distinct rows' a = c o r, every other row 0."""
        distinct = None
        if rows is not None:
            distinct, count = np.unique(rows, return_counts=True)
            model, y = rows_of(model, distinct), y[distinct]
        X, v, scale, A, D, D2 = model._features(w, MIDRAD, 2)
        v = as_mr(v).mid
        r = (A @ v) * scale - as_mr(y)
        if distinct is not None:
            r = r * count.astype(np.float64)
        qn = None
        if self.moves_v:
            Q = (D * r[:, None]).T @ X
            qn = (_norm_rows(Q.mid) + _norm_rows(radius(Q))) * FCOVER
        parts = [r.mid, radius(r), D2.mid, radius(D2)]
        batch = None
        if distinct is not None:  # onto all n rows
            full = [np.zeros((self.X.shape[0],) + p.shape[1:]) for p in parts + [count]]
            for f, p in zip(full, parts + [count.astype(np.float64)]):
                f[distinct] = p
            parts, batch = full[:4], (full[4], LB, float(count.max()))
        return _lemma_b(self, eta, e, LF, v, e if self.moves_v else 0.0, *parts, qn, batch)


class _ExprTube:
    """The sharp l_t of a SymPy model: S = sum_k r_k Hess f_k enclosed over the box of half-width e around the
    iterate by the family's interval jets (plproof.verify.expr.ExprFamily.curvature), -sigma <= S <= h, and
    ||I - eta Hess L|| <= max(1 + eta sigma, eta (LF^2 + h) - 1) (Weyl; docs/rigor.md §10, SymPy models)."""

    def __init__(self, fam: Family, y: np.ndarray, checked: list[str]) -> None:
        self.family, self.y = fam.model, y
        checked.append("contraction: the eigenvalues of sum_k r_k Hess f_k enclosed over the box around each iterate "
                       "by interval jets (docs/rigor.md §10, SymPy models)")

    def ell(self, model: Any, y: np.ndarray, w: np.ndarray, eta: float, e: float, LF: float,
            rows: np.ndarray | None = None, LB: float = 0.0) -> float:
        """sup ||I - eta Hess L|| over B(w, e) given sup ||DF|| <= LF there (full-batch GD only)."""
        if rows is not None:
            raise Failure("inputs.run: SGD runs of SymPy models are not re-checked (the run route certifies SGD of the "
                          "built-in families only)")
        try:
            sigma, h = self.family.curvature(w, e, self.y)
        except ArithmeticError as exc:
            raise Failure(f"verifier: no enclosure of the curvature on a tube ({exc})") from None
        return _up(max(1.0 + eta * sigma * FCOVER, eta * (LF * LF + h) * FCOVER - 1.0))


def formula_model(fam: Family) -> Any:
    """The family's model formulas (plproof.models) to evaluate in midpoint-radius arithmetic."""
    family = fam.spec["family"]
    if family == "linear":
        from plproof.models.linear import Linear

        return Linear(fam.X)
    if family in ("two_layer", "random_features"):
        return fam.model
    if family == "graph":  # rebuilt from its description by plproof.verify.graph (docs/rigor.md §10, layer graphs)
        return fam.model.net
    if family == "mlp":
        from plproof.models.mlp import MLP

        return MLP(fam.X, list(fam.spec["widths"]), fam.activation)
    if family == "sympy":
        from plproof.verify.expr import MidRadFormulas

        return MidRadFormulas(fam.model)
    raise Failure(f"the midpoint-radius recipe is not re-checked for {family} models")


def jacobian_upper(K: MatrixEnclosure) -> float:
    """>= ||DF|| = sqrt(lambda_max(K)) for every K in the enclosure (a PD test at a float estimate, :func:`_pd_float`
    else exact)."""
    mid = np.array([[float(x) for x in row] for row in K.mid])
    est = float(np.linalg.eigvalsh(mid)[-1]) if K.n else 0.0
    t = Fraction(_up(est * (1 + 1e-9) + 1e-300)) + K.radius
    if not (_pd_float(K, K.radius - t, -1) or K.lambda_max_below(t)):
        raise Failure("verifier: could not bound lambda_max(K) at an anchor (exact PD test failed)")
    return _up(math.sqrt(float(t)) * (1 + 1e-12))


def _pd_float(K: MatrixEnclosure, shift: Fraction, sign: int) -> bool:
    """Proves sign K.mid - shift I > 0 by :func:`~plproof.verify.exact.cholesky_margin` of its float rounding B (the
    midpoint's entries are floats, checked exactly; the diagonal's rounding |sign K_ii - shift - B_ii| is subtracted,
    a diagonal perturbation); False where it cannot decide (the caller's exact test decides then). O(n^3) floats in
    place of the O(n^4)-bit Bareiss elimination, about 4 (n + 1) u tr less sharp (docs/rigor.md §10)."""
    Mf = sign * np.array([[float(x) for x in row] for row in K.mid])
    if not (np.array_equal(Mf, Mf.T)
            and all(Fraction(Mf[i, j]) == sign * x for i, row in enumerate(K.mid) for j, x in enumerate(row))):
        return False
    s = float(shift)
    B = Mf - s * np.eye(K.n)  # off the diagonal exactly sign K.mid
    margin = cholesky_margin(B)
    diag = max((abs(Fraction(Mf[i, i]) - shift - Fraction(B[i, i])) for i in range(K.n)), default=Fraction(0))
    return margin is not None and margin - diag > 0


def _terminal(d: Derived, ball: Any, K: MatrixEnclosure, res: Fraction, e_T: Fraction, eta: Fraction,
              hints: dict, checked: list[str]) -> None:
    """T6 (ii) at w~_T from an enclosure of K(w~_T), ||r(w~_T)|| <= res and the family's ball bounds centred at
    w~_T (delta, kappa), T4 in exact rationals."""
    R, lam, J = hint(hints, "R_T"), hint(hints, "lambda_T_shift"), hint(hints, "jacobian_norm_T")
    if not (lam > 0 and (_pd_float(K, lam + K.radius, 1) or K.lambda_min_above(lam))):
        raise Failure(f"terminal ball: lambda_min(K(w~_T)) > {float(lam):.10g} could not be proved")
    if not (_pd_float(K, K.radius - J * J, -1) or K.lambda_max_below(J * J)):
        raise Failure(f"terminal ball: ||DF(w~_T)|| < {float(J):.10g} could not be proved")
    checked.append(f"terminal: lambda_min(K(w~_T)) > {float(lam):.6g}, ||DF(w~_T)|| < {float(J):.6g} "
                   "(PD tests: float Cholesky with Higham's bound, else exact)")
    delta = ball.delta(R)
    root = sqrt_lo(lam) - delta
    mu = root * root if root > 0 else Fraction(0)
    L_F = J + delta
    rho_bar = res + L_F * e_T
    beta = L_F * L_F + ball.kappa(R, rho_bar)
    c = 1 - beta * eta / 2
    for name, value in (("e_T", e_T), ("R_T", R)):
        d.hi(name, value, "verified")
    d.lo("lambda_T", lam, "verified")
    d.hi("jacobian_norm_T", J, "verified")
    d.hi("residual_norm_T", res, "verified")
    d.lo("mu_T", mu, "verified")
    d.hi("L_F_T", L_F, "verified")
    d.hi("rho_bar", rho_bar, "verified")
    d.hi("beta_T", beta, "verified")
    d.lo("c_T", c, "verified")
    d.premise("mu_T > 0", mu, strict=True, ref="docs/theory.md §11.4")
    d.premise("0 < beta_T eta < 2", c, strict=True, ref="docs/theory.md §11.5")
    fits = (R - e_T) ** 2 * mu * c * c - rho_bar * rho_bar if R > e_T and c > 0 else Fraction(-1)
    d.premise("R_T - e_T > rho_bar/(sqrt(mu_T) c_T)", fits, strict=True, ref="docs/theory.md §12.1")
    if c > 0:
        d.hi("rate", 1 - 2 * c * eta * mu, "verified")
    checked.append(f"terminal: mu_T >= {float(mu):.6g}, c_T >= {float(c):.6g} (T1-T3 centred at w~_T, exact rationals)")
