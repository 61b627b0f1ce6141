"""Error bounds of the two-layer float recipe: the defect rho_t and the contraction l_t (docs/theory.md §12.2-§12.3).

rho_t >= ||G(w~_t) - w~_{t+1}|| by a componentwise gamma_k analysis of :func:`gd_step`'s operations
(docs/rigor.md §5.2); l_t >= sup ||I - eta Hess L|| over the tube B(w~_t, e_t) by Lemma B per neuron
with tube corrections (docs/rigor.md §5.4); the kernel at an iterate with an entrywise error bound (§5.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plproof.numeric import floatbounds as fb
from plproof.numeric.verified import BLAS_MODEL
from plproof.routes.trajectory import fused
from plproof.routes.trajectory.recipe import COVER, TINY, U, U1, Buffers, Net
from plproof.verify.eigen import _gamma, extremes

#: u A^2 + U1 D <= U1 (A^2 + D) <= 1.001 U1: the roundings of D = 1 - A*A, plus TINY
D_ROUND = 1.001 * U1 + TINY
IEEE = "IEEE 754 binary64 arithmetic, round to nearest (docs/rigor.md §0)"
ASSUMPTIONS = (IEEE, BLAS_MODEL)


@dataclass
class Stage:
    """Error bounds of a block of k steps (leading axis: the step), docs/rigor.md §5.2."""

    Er: np.ndarray    # >= |r~ - r(w~)|
    Qn: np.ndarray    # ||Q~_i||, Q~ row i = computed X^T (r o tanh'(z_i))
    EQn: np.ndarray   # >= ||Q~_i - exact row i||
    w_max: np.ndarray  # max_i ||w~_i||
    rho: np.ndarray   # >= ||G(w~_t) - w~_{t+1}||
    step: np.ndarray  # >= ||w~_{t+1} - w~_t||
    g: np.ndarray     # computed tanh''(z) r_k v_i, -2 A D r_k v_i (the contraction's curvature, §5.4)


def _norms(x: np.ndarray) -> np.ndarray:
    """Euclidean norms over every axis but the first."""
    flat = x.reshape(x.shape[0], -1)
    return np.sqrt(np.einsum("ij,ij->i", flat, flat))


def _matvec(M: np.ndarray, x: np.ndarray) -> np.ndarray:
    """M[t] @ x[t] for each step t (batched BLAS)."""
    return np.matmul(M, x[:, :, None])[:, :, 0]


def _row_norms(W: np.ndarray) -> np.ndarray:
    """||w_i|| of each neuron row of W[t] (float; the covers of the bounds that use it include its rounding)."""
    return np.sqrt(np.einsum("tij,tij->ti", W, W))


def entrywise(net: "Net", buf: Buffers, j0: int, j1: int) -> None:
    """The componentwise bounds of steps j0..j1-1 of the block into ``buf``: Er >= |r~ - r(w~)|, Eq >= |q~ - q|,
    EQ (d x m per step) >= |Q~ - Q|^T, and the curvature products g (docs/rigor.md §5.2), by the numba kernel
    where ``buf.kernels`` has it (:func:`.fused.kernels`), else by numpy: the same formulas, sums of non-negative
    terms in another order (docs/rigor.md §5.8); ``buf.chunk`` steps per pass. With A the table's tanh,
    EA = gamma_d ||x_k|| ||w_i|| + ea0 is rank one plus a constant:
    p = A v; r = p s - y: Er = s (gamma_m |A||v| + EA |v|) + 4 u' s |p| + u' |r| + TINY,
        sum_i EA_ki |v_i| = gxn_k (||w|| . |v|) + ea0 sum |v| (SE);
    q = A^T r: Eq = |A|^T (gamma |r| + Er) + EA^T (|r| + Er), EA^T ce = ||w_i|| (gxn . ce) + ea0 sum ce;
    P = D o r, Q = P^T X: EQ^T = |X|^T M, M = D ((gamma_n + u') |r| + Er) + ED (|r| + Er) + TINY;
    g = ((A D) (-2)) r_k v_i; EA, ED: :func:`activation_errors`."""
    for a in range(j0, j1, buf.chunk):
        _pass(net, buf, a, min(j1, a + buf.chunk))


def _pass(net: "Net", buf: Buffers, j0: int, j1: int) -> None:
    """:func:`entrywise` of at most ``buf.chunk`` steps."""
    W, v, r, k = buf.W[j0:j1], buf.v[j0:j1], buf.r[j0:j1], j1 - j0
    wn, av = _row_norms(W), np.abs(v)
    SE = net.gxn * np.einsum("ti,ti->t", wn, av)[:, None] + net.ea0 * av.sum(axis=1)[:, None]
    Er, Eq, M = buf.Er[j0:j1], buf.Eq[j0:j1], buf.M[:k]
    kern = buf.kernels  # chosen with the buffers, as gd_step's
    if kern is None:
        _entrywise(net, buf, j0, j1, wn, av, SE)
    else:
        consts = np.array([net.s_up, net.gmn, net.c4s, net.gn + U1, D_ROUND, net.ea0])
        kern.defect(buf.A[j0:j1], buf.D[j0:j1], buf.p[j0:j1], r, v, av, wn, net.gxn, SE, consts, buf.g[j0:j1], Er,
                    Eq, M)
    ce = np.abs(r) + Er
    Eq += wn * (ce @ net.gxn)[:, None] + net.ea0 * ce.sum(axis=1)[:, None]
    np.matmul(net.absX.T, M, out=buf.EQ[j0:j1])


def _entrywise(net: "Net", buf: Buffers, j0: int, j1: int, wn: np.ndarray, av: np.ndarray, SE: np.ndarray) -> None:
    """:func:`_pass`'s (step, data, neuron) part by numpy (the kernel ``defect`` in numba): Er, |A|^T cq into
    Eq, M into ``buf.M`` and g (scratch: EA, ED, aA)."""
    k = j1 - j0
    A, D, M, EA, ED, aA = buf.A[j0:j1], buf.D[j0:j1], buf.M[:k], buf.EA[:k], buf.ED[:k], buf.aA[:k]
    r, v = buf.r[j0:j1], buf.v[j0:j1]
    ar = np.abs(r)
    _activation(net, A, wn, EA, ED, aA)
    Er = buf.Er[j0:j1]
    Er[:] = net.s_up * (net.gmn * _matvec(aA, av) + SE) + net.c4s * np.abs(buf.p[j0:j1]) + U1 * ar + TINY
    cq, cm, ce = net.gmn * ar + Er, (net.gn + U1) * ar + Er, ar + Er
    buf.Eq[j0:j1] = _matvec(aA.transpose(0, 2, 1), cq)
    np.multiply(D, cm[:, :, None], out=M)
    np.multiply(ED, ce[:, :, None], out=EA)
    M += EA
    M += TINY
    g = np.multiply(A, D, out=buf.g[j0:j1])  # (-2 (A D) r) v, in place
    g *= -2.0
    g *= r[:, :, None]
    g *= v[:, None, :]


def _activation(net: "Net", A: np.ndarray, wn: np.ndarray, EA: np.ndarray, ED: np.ndarray, aA: np.ndarray) -> None:
    """EA, ED, aA = |A| (arrays (..., n, m), written in place) of A = the table's tanh of Z~ = fl(X W^T), ||w_i|| =
    wn: Z: gamma_d |X||W|^T <= gamma_d ||x_k|| ||w_i||; A: Lipschitz 1 plus |A - tanh Z~| <= E_max (§11.7), so
    EA = gamma_d ||x_k|| ||w_i|| + ea0 (where Z~ is not finite, W~ is not (EA nan or inf) or Z overflowed and
    EA > 2 >= |A - tanh Z|, docs/rigor.md §5.2); D = 1 - A*A: ED = (2|A| + EA) EA + D_ROUND."""
    np.abs(A, out=aA)
    np.multiply(net.gxn[:, None], wn[..., None, :], out=EA)
    EA += net.ea0
    np.multiply(aA, 2, out=ED)
    ED += EA
    ED *= EA
    ED += D_ROUND


def activation_errors(net: "Net", buf: Buffers, j: int) -> tuple[np.ndarray, np.ndarray]:
    """(EA, ED) of step j of the block: EA >= |A~ - tanh(X W~^T)|, ED >= |D~ - tanh'(X W~^T)| (docs/rigor.md §5.2),
    the values :func:`entrywise` uses (:func:`_activation`)."""
    wn = _row_norms(buf.W[j:j + 1])[0]
    EA, ED, aA = np.empty((3,) + buf.A.shape[1:])
    _activation(net, buf.A[j], wn, EA, ED, aA)
    return EA, ED


def defect(net: "Net", buf: Buffers, k: int, eta: float) -> Stage:
    """Forward error bounds of steps 0..k-1 of the block from their componentwise bounds (:func:`entrywise`, done for
    every step): rho_t >= ||G(w~_t) - w~_{t+1}|| (docs/theory.md §12.3, docs/rigor.md §5.2). The Stage's Er and g
    are views of ``buf``, valid until the block's next steps. By the kernel ``step_norms`` where ``buf.kernels`` has
    it (the same formulas, the sums in another order, docs/rigor.md §5.8)."""
    if buf.kernels is not None:
        Qn, EQn, w_max, rho, step = np.empty((k, net.m)), np.empty((k, net.m)), np.empty(k), np.empty(k), np.empty(k)
        consts = np.array([net.s_up, net.c4s, net.s, net.c3s, eta, COVER])
        buf.kernels.step_norms(buf.W[:k + 1], buf.v[:k + 1], buf.q[:k], buf.Q[:k], buf.Eq[:k], buf.EQ[:k], consts, Qn,
                               EQn, w_max, rho, step)
        return Stage(buf.Er[:k], Qn, EQn, w_max, rho, step, buf.g[:k])
    W, v, q, Q = buf.W[:k], buf.v[:k], buf.q[:k], buf.Q[:k]
    W1, v1 = buf.W[1:k + 1], buf.v[1:k + 1]
    Eq, EQ = buf.Eq[:k], buf.EQ[:k]
    av = np.abs(v)
    nEgv = net.s_up * _norms(Eq) + net.c4s * _norms(q) + TINY                              # gv = q s
    Qn2, EQn2 = np.einsum("tij,tij->ti", Q, Q), np.einsum("tji,tji->ti", EQ, EQ)
    ac = net.s * av
    Ec = U1 * ac + net.c3s * av                                                            # c = s v
    # gW = Q o c and the update W - eta gW, normwise per neuron row
    nEW1 = U1 * _norms(W1) + eta * (np.sqrt(np.einsum("ti,ti->t", (Ec + 2.001 * U1 * ac) ** 2, Qn2))
                                    + np.sqrt(np.einsum("ti,ti->t", (ac + Ec) ** 2, EQn2)) + TINY)
    nEv1 = U1 * _norms(v1) + eta * (U1 * net.s * _norms(q) * (1 + 2 * U1) + nEgv)
    rho = np.sqrt(nEW1 * nEW1 + nEv1 * nEv1) * COVER
    step = np.sqrt(_norms(W1 - W) ** 2 + _norms(v1 - v) ** 2) * (1 + 4 * U1) * COVER
    return Stage(buf.Er[:k], np.sqrt(Qn2), np.sqrt(EQn2) + TINY, _row_norms(W).max(axis=1), rho, step, buf.g[:k])


@dataclass(frozen=True)
class TubeConstants:
    """Data constants of the sharp l_t of a two-layer net, rounded up (docs/rigor.md §5.4, §10): ||x_k||,
    ||x_k||^2, ||x_k||^3, sum_k ||x_k||^2, ||X||_2, the activation's S1-S3, s >= m^{-1/2}, the data X and
    Gabs >= |X X^T| entrywise (the Gram bound of §10)."""

    xn: np.ndarray
    xn2: np.ndarray
    xn3: np.ndarray
    sum_xn2: float
    X_norm: float
    S1: float
    S2: float
    S3: float
    s_up: float
    X: np.ndarray
    Gabs: np.ndarray
    XL: np.ndarray    # row k: the lower triangle of fl(x_k x_k^T), packed by rows (Curvature.grams' P~)
    #: the last block's Perron vectors u and their products Gabs u, by key (not constants)
    perron: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def of(cls, X: np.ndarray, X_norm: float, S1: float, S2: float, S3: float, s_up: float) -> "TubeConstants":
        """The constants of data X: |fl(X X^T) - X X^T| <= gamma_d |X||X|^T (docs/rigor.md §0)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        xn2 = np.array([fb.sumsq_upper(row) for row in X])
        xn = np.array([fb.sqrt_up(v) for v in xn2])
        aX = np.abs(X)
        Gabs = (np.abs(X @ X.T) + fb.gamma(X.shape[1]) * (aX @ aX.T)) * COVER + TINY
        XX = (X[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1)
        XL = np.ascontiguousarray(XX[:, _packed(X.shape[1])])
        return cls(xn, xn2, xn2 * xn * COVER, fb.sum_up(xn2), X_norm, S1, S2, S3, s_up, X, Gabs, XL)


@dataclass
class Curvature:
    """What the sharp l_t of steps 0..k-1 needs (leading axis: the step; k data, i neurons), docs/rigor.md §5.4.

    g[t, k, i] = fl(v_i r~_k s~2_ki), s~2 the computed sigma''(z_ki) at w~_t; ar = |r~|, Er >= |r~ - r(w~_t)|;
    av = |v|; F >= |s~2 - sigma''(z(w~_t))| (evaluation error of sigma'', broadcast against g);
    qn[t, i] >= ||X^T (r o sigma'_i)|| at w~_t (None: train='hidden', no v block); qr >= ||(|r~| + Er) o xn||;
    ``moves_v``: v is trained, so |dv_i| <= e on the tube (train='both').

    A mini-batch step (SGD, docs/theory.md §12.6) has the Hessian J^T C J + sum_k c_k r_k Hess f_k, C = diag(c),
    c_k the multiplicity of k in the batch: r above is then a = c o r (a~, its error bound Er), ``weight[t, k]``
    = c_k and ``cmax[t]`` = max_k c_k; None for full-batch GD (c = 1).
    """

    g: np.ndarray
    ar: np.ndarray
    Er: np.ndarray
    av: np.ndarray
    F: np.ndarray
    qn: np.ndarray | None
    qr: np.ndarray
    moves_v: bool
    weight: np.ndarray | None = None
    cmax: np.ndarray | None = None
    _eigen: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _grams: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _moved: np.ndarray | None = field(default=None, repr=False)
    perron: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def ratio(self, key: str, cc: np.ndarray, c: TubeConstants) -> np.ndarray:
        """:func:`perron_ratio` of cc at the block's first step (one power step from the last block's u and Gabs u,
        kept in ``c.perron``), computed at the first call for ``key`` (the first e the driver tries) and kept."""
        if key not in self.perron:
            if self.weight is None:
                self.perron[key], c.perron[key] = perron_ratio(cc[0], c.Gabs, c.perron.get(key))
            else:  # each step's batch weights other rows: one Perron vector per step
                self.perron[key] = perron_ratio(cc, c.Gabs, None)[0]
        return self.perron[key]

    @property
    def stride(self) -> int:
        """Steps per eigen-bound anchor t_a: EIG_STRIDE, 1 for mini-batches (g_t and g_(t_a) weight other rows)."""
        return EIG_STRIDE if self.weight is None else 1

    def extremes(self, c: TubeConstants, want: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lo, hi, known) per anchor step t_a (every ``stride``-th step) and neuron: :func:`block_extremes` of g_(t_a)
        where known, 0 elsewhere (below both: lo, hi >= 0); first computed for the pairs in ``want`` (t_a // stride,
        i) not yet known. lambda_min(P(g_t)) >= lambda_min(P(g_(t_a))) - lambda_max(X^T diag(moved) X), moved >=
        |g_t - g_(t_a)| (:meth:`moved`, docs/rigor.md §10). Kept: the driver tries several e per block."""
        if self._eigen is None:
            shape = (-(-self.g.shape[0] // self.stride), self.g.shape[2])
            self._eigen = (np.zeros(shape), np.zeros(shape), np.zeros(shape, dtype=bool))
        lo, hi, known = self._eigen
        if want is not None:
            ta, i = np.nonzero(want & ~known)
            if ta.size:
                Pl, err = self.grams(c, np.unique(ta))
                lo[ta, i], hi[ta, i] = block_extremes(Pl[ta, i], err[ta, i], c)
                known[ta, i] = True
        return self._eigen

    def grams(self, c: TubeConstants, anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(P~, err) per anchor and neuron, filled for ``anchors``: P~_i = sum_k g_ki fl(x_k x_k^T) at the anchor step
        (lower triangle packed as c.XL; n + 2 roundings per term) by one product per anchor, so the same floats
        whichever neurons are wanted; ||P - P~||_F <= err = gamma_(n+2) sum_k |g_ki| ||x_k||^2 COVER (not finite
        where g is not)."""
        if self._grams is None:
            A, m = self._eigen[0].shape
            self._grams = (np.empty((A, m, c.XL.shape[1])), np.empty((A, m)), np.zeros(A, dtype=bool))
        Pl, err, done = self._grams
        for a in anchors[~done[anchors]]:
            g = self.g[a * self.stride]
            np.matmul(g.T, c.XL, out=Pl[a])
            err[a] = fb.gamma(c.X.shape[0] + 2) * (c.xn2 @ np.abs(g)) * COVER
            done[a] = True
        return Pl, err

    def moved(self) -> np.ndarray:
        """(1 + U1) |g_t - g_(t_a)| entrywise (the rounding of the difference; inf where not finite), computed once."""
        if self._moved is None:
            stride, moved = self.stride, np.empty_like(self.g)
            with np.errstate(invalid="ignore"):
                for t in range(0, self.g.shape[0], stride):  # |g_t - g_(t_a)| group by group, no gathered copy
                    np.subtract(self.g[t:t + stride], self.g[t], out=moved[t:t + stride])
                np.abs(moved, out=moved)
                moved *= 1 + U1
                if not moved.max() < np.inf:  # nan or inf somewhere
                    moved[~np.isfinite(moved)] = np.inf
            self._moved = moved
        return self._moved


def tanh_curvature(net: "Net", buf: Buffers, st: Stage, k: int) -> Curvature:
    """The tanh recipe's :class:`Curvature`: tanh'' = -2 tanh tanh' from its A, D (the stage's g); the evaluation
    error of tanh'' is S3 E_Z + 64u (docs/rigor.md §5.4)."""
    r, v = buf.r[:k], buf.v[:k]
    ar = np.abs(r)
    ez = net.gd * net.x_max * st.w_max * COVER + 2 * TINY
    F = (net.S3 * ez + 64 * U)[:, None, None]
    return Curvature(st.g[:k], ar, st.Er, np.abs(v), F, st.Qn + st.EQn, _norms((ar + st.Er) * net.xn), True)


#: the eigen-bounds of the d x d blocks P_i are computed at every EIG_STRIDE-th step and used for the steps
#: between (the change of g enters the Gram bound): a quarter of the cost for about 10% more log-amplification
#: than every step (measured on case C, docs/rigor.md §10 item 4; 8 would save another 10% of certify_run for
#: 6-18% more log-amplification, which can cost a width where float64 is at its limit)
EIG_STRIDE = 4
#: rounds of :func:`_peaks` that compute the eigen-bounds of the largest open entry per step only
LARGEST_ROUNDS = 2
#: power-iteration steps towards the Perron vector of diag(c) |G| (any positive vector gives a valid bound)
PERRON_STEPS = 6
#: floor of the normalised Perron vector: u_k >= 2^-40 keeps every ratio finite (docs/rigor.md §10)
FLOOR = 2.0**-40


def perron_ratio(c: np.ndarray, Gabs: np.ndarray,
                 last: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """((Gabs u)_k / u_k, (u, Gabs u)) for u > 0 near the Perron vector of diag(c_i) Gabs (per neuron i; axis -2:
    data k), for :func:`gram_bound`: PERRON_STEPS power steps from c, or one from a previous block's u given with
    its product Gabs u (the Perron vector is scale-free and moves slowly along a run). Any u > 0 is valid; a
    near-Perron u is sharp."""
    steps, u, Gu = (PERRON_STEPS, c, Gabs @ c) if last is None else (1, *last)
    for _ in range(steps):
        u = c * Gu
        top = u.max(axis=-2, keepdims=True)
        u = u / np.where(top > 0, top, 1.0) + FLOOR
        Gu = Gabs @ u
    return Gu / u, (u, Gu)


def gram_bound(c: np.ndarray, ratio: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """>= lambda_max(X^T diag(c_i) X) for c >= 0 (axis -2: data k, axis -1: neuron i), all neurons at once:
    lambda_max(X^T D X) = lambda_max(D^1/2 G D^1/2) <= rho(D Gabs) <= max_k c_k (Gabs u)_k / u_k for any u > 0
    (Collatz-Wielandt, docs/rigor.md §10); ``ratio`` = (Gabs u)/u from :func:`perron_ratio`, for any nearby c.
    Evaluated as max_k c_k (ratio_k COVER + TINY): one pass over c into ``out`` (c's shape; may be c itself)."""
    scaled = np.multiply(c, ratio * COVER + TINY, out=out)
    return np.max(scaled, axis=-2) + TINY


def block_extremes(Pl: np.ndarray, err: np.ndarray, c: TubeConstants) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) with lo >= -lambda_min(P), hi >= lambda_max(P) for every P within Frobenius distance err of the
    P~ packed in the rows of Pl (:meth:`Curvature.grams`): :func:`~plproof.verify.eigen.extremes` (float Cholesky at
    shifts from eigvalsh, docs/rigor.md §10), or its numba version (docs/rigor.md §5.8). Not finite: +inf."""
    d = c.X.shape[1]
    kern = fused.kernels()
    if kern is None:
        return extremes(Pl[:, _unpacked(d)], err)
    lo, hi = packed_extremes(kern, Pl[None], err[None], d)
    return lo[0], hi[0]


def packed_extremes(kern: Any, Pl: np.ndarray, err: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~plproof.verify.eigen.extremes` of the d x d matrices whose lower triangles are packed in Pl (..., d (d +
    1) / 2) by the kernel ``eigen_bounds`` (docs/rigor.md §5.8), and by numpy where its factorisation fails."""
    lo, hi = np.empty(err.shape), np.empty(err.shape)
    kern.eigen_bounds(Pl, err, d, _gamma(d + 1), lo, hi)
    failed = np.isnan(lo)
    if failed.any():
        lo[failed], hi[failed] = extremes(Pl[failed][..., _unpacked(d)], err[failed])
    return lo, hi


def _packed(d: int) -> np.ndarray:
    """Flat indices a d + b of the lower triangle (b <= a) of a d x d matrix, by rows."""
    a, b = np.tril_indices(d)
    return a * d + b


def _unpacked(d: int) -> np.ndarray:
    """(d, d) positions in the packed lower triangle of :func:`_packed`: entry (a, b) at a (a + 1) / 2 + b, b <= a,
    mirrored."""
    a, b = np.maximum.outer(np.arange(d), np.arange(d)), np.minimum.outer(np.arange(d), np.arange(d))
    return a * (a + 1) // 2 + b


def _delta(g: np.ndarray, av: np.ndarray, ar: np.ndarray, a: np.ndarray, b: np.ndarray,
           F: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(delta, scratch): delta = |v_i| a_k + b_k + 4 U1 |g_ki| (+ |v_i||r~_k| F_ki where F varies over i) >=
    |g_ki(w) - g_ki| on the tube (:func:`contraction`), and a scratch array of g's shape."""
    delta, work = np.empty_like(g), np.empty_like(g)
    np.multiply(av[:, None, :], a[:, :, None], out=delta)
    delta += b[:, :, None]
    np.abs(g, out=work)
    work *= 4 * U1
    delta += work
    if F is not None:
        np.multiply(av[:, None, :], ar[:, :, None], out=work)
        work *= F
        delta += work
    return delta, work


def _blocks(cv: Curvature, c: TubeConstants, a: np.ndarray, b: np.ndarray, F: np.ndarray | None,
            eig: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(N, P, D) per step and neuron by numpy: N, P the least of the trace and Gram bounds of :func:`contraction` on
    c- = g_- + delta and c+ = g_+ + delta, D the Gram bound of cD = (delta + moved)(1 + U1) that the eigen-bounds
    add (``eig``; else None) (docs/rigor.md §5.4, §10)."""
    g = cv.g
    delta, cc = _delta(g, cv.av, cv.ar, a, b, F)
    np.negative(g, out=cc)
    np.maximum(cc, 0.0, out=cc)
    cc += delta
    trace, ratio = c.xn2 @ cc, cv.ratio("N", cc, c)
    N = np.minimum(trace, gram_bound(cc, ratio, cc))
    np.maximum(g, 0.0, out=cc)
    cc += delta
    trace, ratio = c.xn2 @ cc, cv.ratio("P", cc, c)
    P = np.minimum(trace, gram_bound(cc, ratio, cc))
    if not eig:
        return N, P, None
    delta += cv.moved()
    delta *= 1 + U1  # cD = (delta + moved)(1 + U1): the rounding of the sum
    return N, P, gram_bound(delta, cv.ratio("D", delta, c), cc)


def _blocks_fused(kern: Any, cv: Curvature, c: TubeConstants, a: np.ndarray, b: np.ndarray,
                  eig: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """:func:`_blocks` for full-batch steps by the kernel ``tube_bounds`` (one pass over g; the sums and maxima over
    k in another order, docs/rigor.md §5.8). The Perron ratios at the block's first e come from step 0's c-, c+
    and cD by numpy, as in :func:`_blocks` (moved = 0 at step 0, inf where g is not finite)."""
    g = cv.g
    keys = "NPD" if eig else "NP"
    if any(key not in cv.perron for key in keys):
        delta = _delta(g[:1], cv.av[:1], cv.ar[:1], a[:1], b[:1], None)[0]
        cv.ratio("N", np.maximum(-g[:1], 0.0) + delta, c)
        cv.ratio("P", np.maximum(g[:1], 0.0) + delta, c)
        if eig:
            with np.errstate(invalid="ignore"):
                moved = np.where(np.isfinite(g[:1]), 0.0, np.inf)
            cv.ratio("D", (delta + moved) * (1 + U1), c)
    r = [cv.perron[key] * COVER + TINY for key in keys]  # gram_bound's factors
    N, P = np.empty((g.shape[0], g.shape[2])), np.empty((g.shape[0], g.shape[2]))
    D = np.empty_like(N) if eig else None
    empty = np.empty((0, 0))
    kern.tube_bounds(g, cv.av, np.ascontiguousarray(a), np.ascontiguousarray(b), c.xn2, r[0], r[1],
                     r[2] if eig else empty, cv.stride, N, P, empty if D is None else D)
    return N, P, D


def contraction(cv: Curvature, c: TubeConstants, eta: float, e: np.ndarray, LF: np.ndarray,
                LB: np.ndarray | None = None, eigen: bool = True) -> np.ndarray:
    """l_t >= sup ||I - eta Hess L|| over B(w~_t, e_t) for the steps of ``cv``, given sup ||DF|| <= LF_t there:
    Lemma B per neuron, one-sided both ways, with tube corrections (docs/theory.md §12.2, docs/rigor.md §5.4, §10).
    On the tube g_ki(w) = g_ki +- Delta_ki, so -lambda_min(P_i(w)) <= N_i, the least of the trace bound
    sum_k ||x_k||^2 c_ki, the Gram bound of c_i (c = g_- + Delta) and, for d < n, -lambda_min(P~_i) + the Gram
    bound of Delta_i; lambda_max(P_i(w)) <= P_i likewise with g_+. Train 'hidden': blocks s P_i (q = 0).
    A mini-batch (``cv.weight``, docs/theory.md §12.6) with sup ||DF_B|| <= LB_t on the tube: |a_k(w) - a~_k| <=
    Er_k + c_k LF e, ||a(w) - a(w~)|| = ||C (F(w) - F(w~))|| <= sqrt(cmax) LB e, lambda_max(J^T C J) <= LB^2.
    ``eigen``: False leaves the eigen-bounds out (the coarse l_t of docs/rigor.md §10 item 6: larger, as valid,
    cheaper)."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowing bound is +inf: the run stops
        return _contraction(cv, c, eta, e, LF, LB, eigen and c.X.shape[1] < c.X.shape[0])


def _contraction(cv: Curvature, c: TubeConstants, eta: float, e: np.ndarray, LF: np.ndarray,
                 LB: np.ndarray | None, eig: bool) -> np.ndarray:
    g, ar = cv.g, cv.ar
    et = e[:, None]
    ev = et if cv.moves_v else 0.0
    if LB is None:  # full batch: ||DF|| <= LF moves r and bounds J^T J
        LB, LQ = LF, LF
    else:
        LQ = np.sqrt(cv.cmax) * LB * COVER
    move = (LF * e)[:, None] if cv.weight is None else (LF * e)[:, None] * cv.weight
    rk = cv.Er + move  # |r_k(w) - r~_k| <= Er_k + LF e (times c_k for a mini-batch)
    # |g_ki(w) - g_ki| <= S2 (ev (|r~_k| + rk) + |v_i| rk) + |v_i||r~_k| (S3 ||x_k|| e + F) + 4 U1 |g_ki|, evaluated
    # as |v_i| a_k + b_k + 4 U1 |g_ki| (+ |v_i||r~_k| F_ki where F varies over i): the same non-negative terms
    a = c.S2 * rk + ar * (c.S3 * c.xn * et)
    F = np.broadcast_to(cv.F, g.shape) if cv.F.shape[-1] != 1 else None
    if F is None:
        a = a + ar * np.broadcast_to(cv.F[..., 0], a.shape)
    b = c.S2 * ev * (ar + rk)
    kern = fused.kernels()
    if kern is None or F is not None or cv.weight is not None:
        N, P, D = _blocks(cv, c, a, b, F, eig)
    else:
        N, P, D = _blocks_fused(kern, cv, c, a, b, eig)
    if cv.qn is None:
        q2 = 0.0
    else:  # ||q_i(w) - q_i(w~)|| <= ||X|| e (S1 LQ + S2 ||(|r| + Er) o xn||), LQ e >= ||r(w) - r(w~)||
        qn = cv.qn + (c.X_norm * e * (c.S1 * LQ + c.S2 * cv.qr))[:, None]
        q2 = 4 * qn * qn
    top_N, top_P = (_lemma_b(N, q2), _lemma_b(P, q2)) if D is None else _peaks(cv, c, N, P, D, q2)
    sigma = 0.5 * c.s_up * top_N
    h = 0.5 * c.s_up * top_P
    ell = np.maximum(1.0 + eta * sigma * COVER, eta * (LB * LB + h) * COVER - 1.0)
    return np.nextafter(ell, np.inf)


def _lemma_b(N: np.ndarray, q2: np.ndarray | float, axis: int | None = 1) -> np.ndarray:
    """max_i f(N_ti, q2_ti) over neurons (``axis`` None: f entrywise), f(x, q2) = x + sqrt(x^2 + q2): Lemma B's
    2 sigma / s of one block (docs/rigor.md §10). f is non-decreasing in x >= 0, in floats too (each operation is)."""
    f = N + np.sqrt(N * N + q2)
    return f if axis is None else np.max(f, axis=axis)


def _peaks(cv: Curvature, c: TubeConstants, N: np.ndarray, P: np.ndarray, D: np.ndarray,
           q2: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_lemma_b` of min(N, lo + D) and min(P, hi + D) (lo, hi the eigen-bounds at t's anchor, Curvature.extremes)
    with the eigen-bounds computed only where they can change the maximum (docs/rigor.md §10 item 5): the floats of
    computing them all. With lo = hi = 0 where not yet computed (lo, hi >= 0, so lo + D >= D), each entry is at most
    its value, so the row maximum M_t is at most the maximum m_t; an entry not computed with f(N_ti) <= M_t is at most
    f(N_ti) <= m_t, so where no such entry has f(N_ti) > M_t (nor f(P_ti) > M'_t), M_t = m_t exactly (a maximum is
    one of its floats; a nan entry makes both nan, whatever lo). Rounds: first per step the largest open f(N), f(P),
    then all open entries (those whose f can pass the maximum found)."""
    anchor = np.arange(N.shape[0]) // cv.stride
    fN, fP = _lemma_b(N, q2, None), _lemma_b(P, q2, None)
    rounds = 0
    while True:
        lo, hi, known = cv.extremes(c)
        top_N = _lemma_b(np.minimum(N, lo[anchor] + D), q2)
        top_P = _lemma_b(np.minimum(P, hi[anchor] + D), q2)
        shut = known[anchor]
        open_N = ~shut & (N > D) & (fN > top_N[:, None])  # N <= D: min(N, lo + D) = N for every lo >= 0
        open_P = ~shut & (P > D) & (fP > top_P[:, None])
        if not (open_N.any() or open_P.any()):
            return top_N, top_P
        want = (_largest(fN, open_N) | _largest(fP, open_P)) if rounds < LARGEST_ROUNDS else (open_N | open_P)
        cv.extremes(c, np.logical_or.reduceat(want, np.arange(0, N.shape[0], cv.stride), axis=0))
        rounds += 1


def _largest(f: np.ndarray, open_: np.ndarray) -> np.ndarray:
    """The largest f of ``open_`` in each row that has one."""
    pick = np.zeros_like(open_)
    rows = np.nonzero(open_.any(axis=1))[0]
    pick[rows, np.argmax(np.where(open_[rows], f[rows], -np.inf), axis=1)] = True
    return pick
