"""certify_run: the a-posteriori trajectory certificate T6 of a concrete GD run (docs/theory.md §12).

GD runs in float64 by a fixed recipe (:func:`gd_step`). Each step t bounds the float defect
rho_t >= ||G(w~_t) - w~_{t+1}||, G(w) = w - eta grad L(w) (componentwise gamma_k analysis,
docs/theory.md §12.3), and the contraction l_t >= sup ||I - eta Hess L|| over the tube B(w~_t, e_t)
(Lemma B per neuron plus tube corrections, §12.2); e_{t+1} = l_t e_t + rho_t bounds ||w_t - w~_t||
for the exact iterates w_t (§12.1 (i)). When the residual is small, the terminal ball B(w~_T, R_T)
is checked with T1-T3 centred at w~_T and T4 (§12.1 (ii)): exact GD then converges to a global
minimiser. The derivation of every constant is in docs/rigor.md §5.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plproof.errors import InvalidInput, NotCertifiable
from plproof.evidence import Evidence, Hypothesis, Status, Verdict
from plproof.models import TwoLayer
from plproof.models.base import closed_form_obstacle
from plproof.numeric import floatbounds as fb
from plproof.numeric.rigor import Enclosure, RigorLevel
from plproof.numeric.scalars import FLOATS, INTERVALS
from plproof.numeric.verified import BLAS_MODEL, lambda_max_upper, lambda_min_lower
from plproof.problem import Problem
from plproof.theory.ball import TwoLayerTightBounds

CLAIM = ("exact GD from w0 with step eta converges to a global minimiser w* (F(w*) = y), within R_T of the "
         "computed iterate w~_T, with L(w_t) <= rate^(t-T) rho_bar^2/2 for every t >= T")
CLAIM_SYMBOLS = ("||w_T - w~_T|| <= e_T;  mu_T-PL* on B(w~_T, R_T);  R_T - e_T > rho_bar/(sqrt(mu_T) c_T)  =>  "
                 "w_t -> w*, F(w*) = y, ||w* - w~_T|| <= R_T, L(w_t) <= (1 - 2 c_T eta mu_T)^(t-T) rho_bar^2/2")
REFERENCES = ["docs/theory.md §12.1", "docs/theory.md §12.2", "docs/theory.md §12.3", "docs/theory.md §11.5"]
RECIPE = "plproof two-layer tanh GD step v1"  # the float operations of gd_step, in this order

U = fb.U
U1 = fb.gamma(1)  # >= u/(1 - u): |fl(x) - x| <= U1 |fl(x)| for a normal result
#: tanh(z) in [A - TANH_REL |A|, A + TANH_REL |A|] for A = np.tanh(z): 4 ulp <= 8u|tanh z| (assumption)
TANH_REL = 8 * U * (1 + 1e-10)
#: absolute term added at every stage: covers every underflow term k*eta (k < 2^70) of data and bounds
TINY = 2.0**-1000
#: u A^2 + U1 D <= U1 (A^2 + D) <= 1.001 U1: the roundings of D = 1 - A*A, plus TINY
D_ROUND = 1.001 * U1 + TINY
#: relative cover for evaluating the non-negative bound formulas in float (chains of < 1e8 roundings)
COVER = 1 + 1e-6
#: stored radii are HEADROOM times the producer's, so an independent re-check with rounding-level
#: differences in its own bounds still confirms them (docs/rigor.md §5.5)
HEADROOM = 2.0  # a power of 2: HEADROOM * e is exact
#: the stored radii use 1 + ELL_SLACK (l_t - 1) in place of l_t, so a re-check whose l_t is slightly
#: larger (its anchors differ) still confirms them segment by segment (docs/rigor.md §5.5)
ELL_SLACK = 1.05
#: attempts at tube radii e_hat_j >= e_j within a block before giving up
TUBE_TRIES = 12
#: re-anchor the Jacobian bound when the T1 drift exceeds this fraction of ||DF(anchor)||
ANCHOR_DRIFT = 0.05
TANH_ASSUMPTION = ("np.tanh is within 4 ulp of tanh (measured at most ~1.2 ulp against mpmath on >= 1e5 "
                   "points, tests/test_run.py; docs/theory.md §12.4)")
IEEE = "IEEE 754 binary64 arithmetic, round to nearest (docs/rigor.md §0)"
ASSUMPTIONS = (IEEE, BLAS_MODEL, TANH_ASSUMPTION)


@dataclass(frozen=True)
class Net:
    """The fixed data of a two-layer tanh net and the constants of the error bounds (all rounded up)."""

    X: np.ndarray
    y: np.ndarray
    n: int
    m: int
    d: int
    s: float          # fl(1/sqrt(m)), the scaling the float run uses
    s_up: float       # >= m^{-1/2}
    absX: np.ndarray
    xn: np.ndarray    # ||x_k|| (upper)
    xn2: np.ndarray   # ||x_k||^2 (upper)
    x_max: float
    X_norm: float     # ||X||_2 (upper)
    S2: float
    S3: float
    gd: float
    gm: float
    gn: float
    G: np.ndarray     # fl(X X^T)
    EG: np.ndarray    # >= |fl(X X^T) - X X^T|
    gxn: np.ndarray   # gamma_d ||x_k|| (cover included)
    gmn: float        # max(gamma_m, gamma_n)
    c4s: float        # 4 U1 fl(s): rounding of the scaling by fl(s) ~ m^{-1/2}
    c3s: float        # 3 U1 fl(s) >= |fl(s) - m^{-1/2}|
    xn3: np.ndarray   # ||x_k||^3 (upper)
    sum_xn2: float


def make_net(model: TwoLayer, y: np.ndarray, X_norm: float) -> Net:
    """Constants of docs/theory.md §12.3 for ``model`` (train='both', tanh)."""
    X = np.ascontiguousarray(model.X, dtype=np.float64)
    n, d = X.shape
    m = model.width
    if max(n, m, d) > 10**7:
        raise NotCertifiable("the run route's float-evaluation cover assumes n, m, d <= 1e7")
    absX = np.abs(X)
    xn2 = np.array([fb.sumsq_upper(row) for row in X])
    s = 1.0 / np.sqrt(float(m))
    G = X @ X.T
    xn = np.array([fb.sqrt_up(v) for v in xn2])
    gd = fb.gamma(d)
    return Net(X, np.asarray(y, dtype=np.float64), n, m, d, float(s), fb.up(s * (1 + 3 * U1)), absX,
               xn, xn2, fb.sqrt_up(float(xn2.max())), X_norm, model.activation.S2, model.activation.S3,
               gd, fb.gamma(m), fb.gamma(n), G, gd * (absX @ absX.T) * COVER + TINY,
               gd * xn * COVER, max(fb.gamma(m), fb.gamma(n)), 4 * U1 * float(s), 3 * U1 * float(s),
               xn2 * xn * COVER, fb.sum_up(xn2))


# ---------------------------------------------------------------- the float steps and their defects
#: steps per block: the float steps run one by one, their error bounds are evaluated per block
BLOCK = 32


class Buffers:
    """Iterates W, v (BLOCK + 1 slots) and each step's computed A, D, p, r, q, Q (BLOCK slots)."""

    def __init__(self, net: "Net", w0: np.ndarray, size: int = BLOCK) -> None:
        n, m, d = net.n, net.m, net.d
        self.W, self.v = np.empty((size + 1, m, d)), np.empty((size + 1, m))
        self.A, self.D = np.empty((size, n, m)), np.empty((size, n, m))
        self.p, self.r, self.q, self.Q = np.empty((size, n)), np.empty((size, n)), np.empty((size, m)), np.empty((size, m, d))
        self.W[0], self.v[0] = w0[: m * d].reshape(m, d), w0[m * d:]

    def restart(self, j: int) -> None:
        """Move iterate j to slot 0 (the next block starts there)."""
        self.W[0], self.v[0] = self.W[j], self.v[j]


def gd_step(net: "Net", buf: Buffers, j: int, eta: float) -> None:
    """One float64 GD step by the fixed recipe (docs/theory.md §12.3), from slot j into slot j + 1.

    Z = X W^T; A = tanh Z; p = A v; r = p s - y; D = 1 - A*A; q = A^T r; Q = (D o r)^T X;
    W1 = W - eta (Q o (s v)); v1 = v - eta (q s), with s = fl(1/sqrt(m)).
    """
    W, v, A, D, p, r, q, Q = buf.W[j], buf.v[j], buf.A[j], buf.D[j], buf.p[j], buf.r[j], buf.q[j], buf.Q[j]
    np.matmul(net.X, W.T, out=A)
    np.tanh(A, out=A)
    np.matmul(A, v, out=p)
    np.multiply(p, net.s, out=r)
    r -= net.y
    np.multiply(A, A, out=D)
    np.subtract(1.0, D, out=D)
    np.matmul(A.T, r, out=q)
    np.matmul((D * r[:, None]).T, net.X, out=Q)
    np.subtract(W, eta * (Q * (net.s * v)[:, None]), out=buf.W[j + 1])
    np.subtract(v, eta * (q * net.s), out=buf.v[j + 1])


def plain_run(problem: Problem, step: float, steps: int) -> np.ndarray:
    """``steps`` float64 GD steps by :func:`gd_step` and nothing else (the baseline); returns w~_steps."""
    net = make_net(problem.model, problem.y, 1.0)
    buf = Buffers(net, np.asarray(problem.w0, dtype=np.float64))
    done = 0
    while done < steps:
        k = min(BLOCK, steps - done)
        for j in range(k):
            gd_step(net, buf, j, step)
        buf.restart(k)
        done += k
    return np.concatenate([buf.W[0].ravel(), buf.v[0]])


@dataclass
class Stage:
    """Error bounds of a block of k steps (leading axis: the step), docs/rigor.md §5.2."""

    EA: np.ndarray    # >= |A~ - tanh(X W~^T)|
    ED: np.ndarray    # >= |D~ - tanh'(X W~^T)|
    Er: np.ndarray    # >= |r~ - r(w~)|
    Qn: np.ndarray    # ||Q~_i||, Q~ row i = computed X^T (r o tanh'(z_i))
    EQn: np.ndarray   # >= ||Q~_i - exact row i||
    w_max: np.ndarray  # max_i ||w~_i||
    rho: np.ndarray   # >= ||G(w~_t) - w~_{t+1}||
    step: np.ndarray  # >= ||w~_{t+1} - w~_t||


def _norms(x: np.ndarray) -> np.ndarray:
    """Euclidean norms over every axis but the first."""
    flat = x.reshape(x.shape[0], -1)
    return np.sqrt(np.einsum("ij,ij->i", flat, flat))


def defect(net: "Net", buf: Buffers, k: int, eta: float) -> Stage:
    """Forward error bounds of steps 0..k-1 of the block: rho_t >= ||G(w~_t) - w~_{t+1}|| (docs/theory.md §12.3)."""
    W, v, A, D, p, r, q, Q = buf.W[:k], buf.v[:k], buf.A[:k], buf.D[:k], buf.p[:k], buf.r[:k], buf.q[:k], buf.Q[:k]
    W1, v1 = buf.W[1:k + 1], buf.v[1:k + 1]
    wn = np.sqrt(np.einsum("tij,tij->ti", W, W))
    aA, av, ar = np.abs(A), np.abs(v), np.abs(r)
    EA = net.gxn[None, :, None] * wn[:, None, :]     # Z = X W^T: gamma_d |X||W|^T <= gamma_d ||x_k|| ||w_i||
    EA += TANH_REL * aA + 2 * TINY                   # A = tanh Z: Lipschitz 1, plus 4 ulp (assumption)
    M1 = net.gmn * aA + EA
    Er = (net.s_up * np.einsum("tki,ti->tk", M1, av) + net.c4s * np.abs(p) + U1 * ar + TINY)  # p = A v; r = p s - y
    ED = (2 * aA + EA) * EA + D_ROUND                                                      # D = 1 - A*A
    Eq = np.einsum("tki,tk->ti", M1, ar) + np.einsum("tki,tk->ti", aA + EA, Er)           # q = A^T r
    nEgv = net.s_up * _norms(Eq) + net.c4s * _norms(q) + TINY                              # gv = q s
    M = ((net.gn + U1) * D + ED) * ar[:, :, None] + (D + ED) * Er[:, :, None] + TINY       # P = D o r; gamma_n |P|
    EQ = (M.transpose(0, 2, 1).reshape(-1, net.n) @ net.absX).reshape(k, net.m, net.d)    # Q = P^T X
    Qn2, EQn2 = np.einsum("tij,tij->ti", Q, Q), np.einsum("tij,tij->ti", EQ, EQ)
    ac = net.s * av
    Ec = U1 * ac + net.c3s * av                                                            # c = s v
    # gW = Q o c and the update W - eta gW, normwise per neuron row
    nEW1 = U1 * _norms(W1) + eta * (np.sqrt(np.einsum("ti,ti->t", (Ec + 2.001 * U1 * ac) ** 2, Qn2))
                                    + np.sqrt(np.einsum("ti,ti->t", (ac + Ec) ** 2, EQn2)) + TINY)
    nEv1 = U1 * _norms(v1) + eta * (U1 * net.s * _norms(q) * (1 + 2 * U1) + nEgv)
    rho = np.sqrt(nEW1 * nEW1 + nEv1 * nEv1) * COVER
    step = np.sqrt(_norms(W1 - W) ** 2 + _norms(v1 - v) ** 2) * (1 + 4 * U1) * COVER
    return Stage(EA, ED, Er, np.sqrt(Qn2), np.sqrt(EQn2) + TINY, wn.max(axis=1), rho, step)


def contraction(net: "Net", buf: Buffers, st: Stage, k: int, eta: float, e: np.ndarray, LF: np.ndarray) -> np.ndarray:
    """l_t >= sup ||I - eta Hess L|| over B(w~_t, e_t) for steps 0..k-1, given sup ||DF|| <= LF_t there
    (Lemma B per neuron with tube corrections, docs/theory.md §12.2, docs/rigor.md §5.4)."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowing bound is +inf: the run stops
        return _contraction(net, buf, st, k, eta, e, LF)


def _contraction(net: "Net", buf: Buffers, st: Stage, k: int, eta: float, e: np.ndarray, LF: np.ndarray) -> np.ndarray:
    A, D, r, v = buf.A[:k], buf.D[:k], buf.r[:k], buf.v[:k]
    av, ar = np.abs(v), np.abs(r)
    g = (-2.0 * (A * D) * r[:, :, None]) * v[:, None, :]   # g_ki = v_i r_k tanh''(z_ki), tanh'' = -2 tanh tanh'
    N0 = net.xn2 @ np.maximum(-g, 0.0)
    P0 = net.xn2 @ np.abs(g)
    a1 = st.Er @ net.xn2 + LF * e * net.sum_xn2         # sum_k ||x_k||^2 |r_k(w) - r~_k| on the tube
    a2 = ar @ net.xn2
    a3 = ar @ net.xn3
    ez = net.gd * net.x_max * st.w_max * COVER + 2 * TINY
    corr = ((net.S2 * a1 + net.S3 * (e * a3 + ez * a2) + 64 * U * a2)[:, None] * av
            + (net.S2 * e * (a1 + a2))[:, None] + 4 * U1 * P0)
    N, P = N0 + corr, P0 + corr
    drift = e * (LF + net.S2 * _norms((ar + st.Er) * net.xn))
    qn = st.Qn + st.EQn + (net.X_norm * drift)[:, None]
    q2 = 4 * qn * qn
    sigma = 0.5 * net.s_up * np.max(N + np.sqrt(N * N + q2), axis=1)
    h = 0.5 * net.s_up * np.max(P + np.sqrt(P * P + q2), axis=1)
    ell = np.maximum(1.0 + eta * sigma * COVER, eta * (LF * LF + h) * COVER - 1.0)
    return np.nextafter(ell, np.inf)


# ---------------------------------------------------------------- kernel at an iterate
def kernel_bounds(net: Net, A: np.ndarray, EA: np.ndarray, D: np.ndarray, ED: np.ndarray,
                  v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """fl(K(w~)) made symmetric and an entrywise bound on its distance to K(w~) (docs/rigor.md §5.3).

    K = s^2 [(X X^T) o (B B^T) + A A^T], B = D o v, from the step's A~, D~ and their bounds.
    """
    av, aA = np.abs(v), np.abs(A)
    B = D * v
    EB = U1 * np.abs(B) + ED * av
    aB = np.abs(B)
    BB = B @ B.T
    EBB = net.gm * (aB @ aB.T) + EB @ (aB + EB).T + aB @ EB.T
    K1 = net.G * BB
    EK1 = U1 * np.abs(K1) + net.EG * np.abs(BB) + (np.abs(net.G) + net.EG) * EBB
    K2 = A @ A.T
    EK2 = net.gm * (aA @ aA.T) + EA @ (aA + EA).T + aA @ EA.T
    Ksum = K1 + K2
    s2 = net.s * net.s
    K = Ksum * s2
    s2_up = net.s_up * net.s_up
    E = U1 * np.abs(K) + np.abs(Ksum) * (8 * U1 * s2) + s2_up * (U1 * np.abs(Ksum) + EK1 + EK2)
    Ks = np.tril(K) + np.tril(K, -1).T
    return Ks, (E + np.abs(Ks - K)) * COVER + TINY


# ---------------------------------------------------------------- the terminal ball (T6 (ii))
@dataclass
class Terminal:
    """Terminal ball data at w~_T and whether it closes (docs/theory.md §12.1 (ii))."""

    R: float
    e: float
    lam: Enclosure
    jac: Enclosure
    res_hi: float
    v_inf: float
    state: dict
    closes: bool


def _terminal_state(S: Any, bb: TwoLayerTightBounds, lam_lo: float, J_hi: float, res_hi: float, e: float,
                    R: float, eta: float) -> dict:
    """T2/T3 centred at w~_T on B(w~_T, R) and the T4 margin R - e - rho_bar/(sqrt(mu) c) (§12.1 (ii))."""
    Rs, es = S.of(R), S.of(e)
    delta = bb.delta(S, Rs)
    mu = S.pos(S.sqrt(S.of(lam_lo)) - delta) ** 2
    LF = S.of(J_hi) + delta
    rho_bar = S.of(res_hi) + LF * es
    beta = LF * LF + bb.curvature(S, Rs, rho_bar)
    c = 1 - beta * S.of(eta) / 2
    ok = S.lo(mu) > 0 and S.lo(c) > 0
    margin = Rs - es - rho_bar / (S.sqrt(mu) * c) if ok else S.of(-1.0)
    return {"R": Rs, "delta": delta, "mu": mu, "L_F": LF, "rho_bar": rho_bar, "beta": beta, "c": c,
            "margin": margin, "rate": 1 - 2 * c * S.of(eta) * mu if ok else S.of(1.0)}


def terminal(bb: TwoLayerTightBounds, v: np.ndarray, res_hi: float, e: float, eta: float,
             lam: Enclosure, jac: Enclosure) -> Terminal:
    """Search the smallest closing R_T (float), then prove the closing inequalities in intervals."""
    v_inf = float(np.max(np.abs(v)))
    bb.c = dataclasses.replace(bb.c, v_inf=v_inf)
    lam_lo = max(float(lam.lo), 0.0)
    sig_R = bb.delta(FLOATS, 1.0)
    R_max = math.sqrt(lam_lo) / sig_R if sig_R > 0 and lam_lo > 0 else 0.0

    def margin(R: float) -> float:
        st_ = _terminal_state(FLOATS, bb, lam_lo, jac.hi, res_hi, e, R, eta)
        return float(st_["margin"])

    found = None
    if R_max > 0:
        grid = R_max * np.logspace(-14, 0, 113)[:-1]  # 8 per decade, ascending: the first closing R
        i = next((i for i, R in enumerate(grid) if margin(R) > 0), None)
        if i is not None:
            lo, hi = (grid[i - 1] if i else 0.0), grid[i]
            for _ in range(24):
                mid = math.sqrt(lo * hi) if lo > 0 else hi / 2
                lo, hi = (lo, mid) if margin(mid) > 0 else (mid, hi)
            found = hi * (1 + 1e-3) if margin(hi * (1 + 1e-3)) > 0 else hi
    R = found if found is not None else (R_max / 2 if R_max > 0 else 1.0)
    state = _terminal_state(INTERVALS, bb, lam_lo, jac.hi, res_hi, e, R, eta)
    closes = found is not None and INTERVALS.lo(state["margin"]) > 0
    return Terminal(float(R), e, lam, jac, res_hi, v_inf, state, closes)


# ---------------------------------------------------------------- the run
@dataclass
class RunRecord:
    """What the certified run produced: checkpoints, radii and the bookkeeping for the report."""

    steps: int = 0
    checkpoint_steps: list[int] = field(default_factory=list)
    checkpoints: list[np.ndarray] = field(default_factory=list)
    radii: list[float] = field(default_factory=list)
    log_amplification: float = 0.0
    anchors: int = 0
    attempts: int = 0
    max_rho: float = 0.0
    terminal: Terminal | None = None
    stop: str = ""
    e_final: float = 0.0


def _at(buf: Buffers, st: Stage, j: int) -> tuple:
    """(A, EA, D, ED, v) of step j of the block."""
    return buf.A[j], st.EA[j], buf.D[j], st.ED[j], buf.v[j]


def _jacobian_upper(net: Net, at: tuple) -> tuple[np.ndarray, float, Enclosure]:
    """K~ = fl(K(w~)), a bound on ||K~ - K(w~)||_2, and ||DF(w~)|| = sqrt(lambda_max(K(w~))) enclosed."""
    K, E = kernel_bounds(net, *at)
    err = fb.sqrt_up(fb.sumsq_upper(E))
    lmax = lambda_max_upper(K, err, method="float")
    jac = Enclosure(fb.down(math.sqrt(max(float(lmax.lo), 0.0))), fb.sqrt_up(max(float(lmax.hi), 0.0)),
                    RigorLevel.VERIFIED, ASSUMPTIONS)
    return K, err, jac


def _sigma_c(net: Net, v_inf: float) -> float:
    """s ||X|| sig(c), c = S2 ||v||_inf x_max: the T1 drift per unit radius (docs/theory.md §11.3)."""
    c = fb.up(net.S2 * v_inf * net.x_max)
    return fb.up(net.s_up * net.X_norm * (c + math.sqrt(c * c + 4.0)) / 2 * COVER)


def _try_terminal(net: Net, bb: TwoLayerTightBounds, v: np.ndarray, res_hi: float, K: np.ndarray, err: float,
                  jac: Enclosure, E: float, eta: float) -> tuple[Terminal | None, float]:
    """The terminal ball at w~_t (None when a float estimate shows it cannot close yet) and the
    largest radius sqrt(lambda)/kappa at which mu_T > 0 (an estimate, to stop hopeless runs)."""
    lam_est = float(np.linalg.eigvalsh(K)[0]) - err
    kap = _sigma_c(net, float(np.max(np.abs(v))))
    R_max = math.sqrt(max(lam_est, 0.0)) / kap
    if lam_est <= 0 or res_hi * kap >= 0.5 * lam_est or E >= R_max:
        return None, R_max  # necessary: R > ||r||/sqrt(lambda) + e and delta(R) < sqrt(lambda)
    lam = lambda_min_lower(K, err, psd=True)
    return terminal(bb, v, res_hi, E, eta, Enclosure(lam.lo, lam.hi, RigorLevel.VERIFIED, ASSUMPTIONS), jac), R_max


def _checkpoint(rec: RunRecord, t: int, buf: Buffers, j: int, E: float) -> None:
    rec.checkpoint_steps.append(t)
    rec.checkpoints.append(np.concatenate([buf.W[j].ravel(), buf.v[j]]))
    rec.radii.append(E)


def _radii(ell: np.ndarray, rho: np.ndarray, e0: float) -> np.ndarray:
    """e_0 = e0, e_{j+1} = up(up(l_j e_j) + rho_j) (docs/theory.md §12.1)."""
    out = np.empty(ell.size + 1)
    out[0] = e = e0
    nxt = math.nextafter
    for j, (lj, rj) in enumerate(zip(ell.tolist(), rho.tolist())):
        e = nxt(nxt(lj * e, math.inf) + rj, math.inf)
        out[j + 1] = e
    return out


def _run(net: Net, bb: TwoLayerTightBounds, w0: np.ndarray, eta: float, max_steps: int,
         checkpoint_every: int) -> RunRecord:
    """The certified run (docs/theory.md §12.1): e_{t+1} = l_t e_t + rho_t, terminal attempts as r shrinks.

    Steps run in blocks (docs/rigor.md §5.2, §5.4); l_t is evaluated on tube radii e_hat_t >= e_t
    (l is increasing in e), and ||DF|| <= J_a + kappa_a (path length since the anchor w~_a + e_hat_t):
    T1 centred at the anchor, whose ||DF(w~_a)|| is enclosed from the kernel (docs/theory.md §12.2).
    Terminal attempts and anchors are at block starts.
    """
    buf = Buffers(net, w0)
    rec = RunRecord()
    e = path = J_a = kap_a = 0.0
    last_attempt = R_max = math.inf
    t = 0
    while True:
        k = min(BLOCK, max_steps - t)
        done = 0
        for j in range(max(k, 1)):
            gd_step(net, buf, j, eta)
            done = j + 1
            if not np.isfinite(buf.r[j]).all():
                break
        st = defect(net, buf, done, eta)
        if not (np.isfinite(st.rho).all() and np.isfinite(buf.r[:done]).all()):
            rec.steps, rec.stop = t, "diverged"
            return rec
        res_hi = fb.up(fb.sqrt_up(fb.sumsq_upper(buf.r[0])) + fb.sqrt_up(fb.sumsq_upper(st.Er[0])))
        attempt = res_hi <= 0.5 * last_attempt or k == 0
        if attempt or t == 0 or kap_a * path > ANCHOR_DRIFT * J_a:
            K, err, jac = _jacobian_upper(net, _at(buf, st, 0))
            J_a, kap_a, path = float(jac.hi), _sigma_c(net, float(np.max(np.abs(buf.v[0])))), 0.0
            rec.anchors += 1
            if attempt:
                last_attempt = res_hi
                E = HEADROOM * e
                term, R_max = _try_terminal(net, bb, buf.v[0], res_hi, K, err, jac, E, eta)
                if term is not None:
                    rec.attempts += 1
                    rec.terminal = term
                    if term.closes:
                        _checkpoint(rec, t, buf, 0, E)
                        rec.steps, rec.stop = t, "closed"
                        return rec
        if not math.isfinite(e) or HEADROOM * e >= R_max:
            # R_max = 0: the kernel's float estimate of lambda_min is <= 0, a singular kernel, not amplification
            rec.steps, rec.stop, rec.e_final = t, "singular" if R_max == 0 else "amplification", HEADROOM * e
            return rec
        if k == 0:
            _checkpoint(rec, t, buf, 0, HEADROOM * e)
            rec.steps, rec.stop = t, "max_steps"
            return rec
        # distances to the anchor; the block ends where the T1 drift would pass ANCHOR_DRIFT (re-anchor there)
        paths = path + np.concatenate([[0.0], np.cumsum(st.step)[:-1]]) * COVER
        far = np.nonzero(kap_a * paths[1:] > ANCHOR_DRIFT * J_a)[0]
        if far.size:
            k = int(far[0]) + 1
            paths, st = paths[:k], defect(net, buf, k, eta)
        # tube radii e_hat_j >= e_j (l_j is increasing in e): from l on the bare iterates, then confirm
        e_hat = np.zeros(k)
        for _ in range(TUBE_TRIES):
            LF = np.nextafter(J_a + kap_a * (paths + e_hat) * COVER, np.inf)
            ell = np.nextafter(1.0 + (contraction(net, buf, st, k, eta, e_hat, LF) - 1.0) * ELL_SLACK, np.inf)
            radii = _radii(ell, st.rho, e)
            if (radii[:-1] <= e_hat).all():
                break
            e_hat = np.maximum(e_hat, 2 * radii[:-1])
            if not HEADROOM * e_hat.max() < R_max:  # the tube outgrows every terminal ball
                break
        else:
            e_hat = np.full(k, math.inf)
        if not HEADROOM * e_hat.max() < R_max:
            rec.steps, rec.stop, rec.e_final = t, "amplification", HEADROOM * float(e_hat.max())
            return rec
        for j in range(k):
            if (t + j) % checkpoint_every == 0:
                _checkpoint(rec, t + j, buf, j, HEADROOM * float(radii[j]))
        rec.log_amplification += float(np.log(ell).sum())
        rec.max_rho = max(rec.max_rho, float(st.rho.max()))
        e = float(radii[k])
        path = fb.up(float(paths[-1]) + float(st.step[-1]) * COVER)
        t += k
        buf.restart(k)


def default_step(problem: Problem) -> float:
    """eta = 1/lambda_max(K(w0)) (float estimate): the step the run route certifies by default."""
    return float(1.0 / np.linalg.eigvalsh(problem.kernel())[-1])


def _refuse(problem: Problem) -> str | None:
    """Why the run route cannot take this problem: it needs the closed forms of TwoLayer (tanh, both layers)."""
    model = problem.model
    if not isinstance(model, TwoLayer):
        return f"the run route supports two-layer nets (TwoLayer), got {type(model).__name__}"
    reason = closed_form_obstacle(model)
    if reason is not None:
        return f"the run route needs the closed forms of TwoLayer (docs/theory.md §12.3), but {reason}"
    if model.train != "both":
        return f"the run route needs train='both' (its float model is that recipe), got train={model.train!r}"
    if model.activation.name != "tanh":
        return (f"the run route has a float error model only for tanh (docs/theory.md §12.3), "
                f"got {model.activation.name!r}")
    if problem.y.dtype != np.float64 or problem.w0.dtype != np.float64:
        return "the run route runs in float64: give y and w0 as float arrays"
    return problem.obstruction()


def certify_run(problem: Problem, step: float | None = None, max_steps: int = 200_000,
                rigor: "str | RigorLevel" = "verified", checkpoint_every: int = 100) -> Evidence:
    """Certify that exact GD from w0 with step eta converges to a global minimiser (docs/theory.md §12, T6).

    Runs float64 GD by :func:`gd_step`, bounds ||w_t - w~_t|| <= e_t, and tries the terminal ball
    whenever the residual has halved. The verdict says where float64 cannot carry the error
    amplification prod l_t (docs/theory.md §12.5).
    """
    level = RigorLevel.parse(rigor)
    if level is not RigorLevel.VERIFIED:
        raise InvalidInput(f"the run route is verified only (float bounds with stated assumptions), got {level.label!r}")
    if step is not None and not (isinstance(step, (int, float)) and math.isfinite(step) and step > 0):
        raise InvalidInput(f"the step size must be a positive finite number, got {step!r}")
    for name, val in (("max_steps", max_steps), ("checkpoint_every", checkpoint_every)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
            raise InvalidInput(f"{name} must be a positive integer, got {val!r}")
    why = _refuse(problem)
    if why:
        raise NotCertifiable(why)
    model: TwoLayer = problem.model
    eta = float(step) if step is not None else default_step(problem)
    bb = TwoLayerTightBounds(model, problem.w0)
    net = make_net(model, problem.y, bb.c.X_norm)
    rec = _run(net, bb, np.asarray(problem.w0, dtype=np.float64), eta, int(max_steps), int(checkpoint_every))
    return _evidence(problem, eta, rec, int(checkpoint_every), bb.c.X_norm)


# ---------------------------------------------------------------- evidence
def _enc(S_value: Any, what: str = "both") -> Enclosure:
    lo, hi = INTERVALS.lo(S_value), INTERVALS.hi(S_value)
    if what == "upper":
        lo = min(0.0, hi)
    return Enclosure(lo, hi, RigorLevel.VERIFIED, ASSUMPTIONS)


def _hyp(name: str, statement: str, margin: Any, ref: str) -> Hypothesis:
    enc = _enc(margin)
    status = Status.HELD if enc.lo > 0 else (Status.FAILED if enc.hi <= 0 else Status.UNKNOWN)
    return Hypothesis(name, statement, status, enc, reference=ref)


def _evidence(problem: Problem, eta: float, rec: RunRecord, every: int, X_norm: float) -> Evidence:
    term = rec.terminal
    V = RigorLevel.VERIFIED
    q: dict[str, Enclosure] = {
        "step": Enclosure(eta, eta, RigorLevel.EXACT),
        "T": Enclosure(rec.steps, rec.steps, RigorLevel.EXACT),
        "log_amplification": Enclosure(0.0, fb.up(rec.log_amplification * COVER), V, ASSUMPTIONS),
        "max_rho": Enclosure(0.0, rec.max_rho, V, ASSUMPTIONS),
    }
    hyps = [Hypothesis("two-layer tanh, train='both'", "the float error model of docs/theory.md §12.3 applies",
                       Status.HELD, reference="docs/theory.md §12.3")]
    hints: dict[str, Any] = {"recipe": RECIPE, "step": eta, "T": rec.steps, "checkpoint_every": every,
                             "X_norm": X_norm, "bounds": TwoLayerTightBounds.bound_set,
                             "checkpoint_steps": list(rec.checkpoint_steps), "headroom": HEADROOM,
                             "anchors": rec.anchors, "terminal_attempts": rec.attempts, "stop": rec.stop,
                             "checkpoints": np.array(rec.checkpoints), "radii": np.array(rec.radii)}
    if term is not None:
        s = term.state
        q.update({"e_T": Enclosure(0.0, term.e, V, ASSUMPTIONS), "R_T": Enclosure(term.R, term.R, RigorLevel.EXACT),
                  "lambda_T": term.lam, "jacobian_norm_T": term.jac,
                  "residual_norm_T": Enclosure(0.0, term.res_hi, V, ASSUMPTIONS),
                  "mu_T": Enclosure(min(INTERVALS.lo(s["mu"]), float(term.lam.hi)), float(term.lam.hi), V, ASSUMPTIONS),
                  "L_F_T": _enc(s["L_F"], "upper"), "beta_T": _enc(s["beta"], "upper"),
                  "rho_bar": _enc(s["rho_bar"], "upper"), "c_T": _enc(s["c"]), "rate": _enc(s["rate"], "upper")})
        hints.update({"R_T": term.R, "e_T": term.e, "v_inf_T": term.v_inf, "lambda_T_shift": float(term.lam.lo)})
        hyps += [
            _hyp("mu_T > 0", "mu_T = (sqrt(lambda_min K(w~_T)) - delta_T(R_T))_+^2 > 0", s["mu"], "docs/theory.md §11.4"),
            _hyp("0 < beta_T eta < 2", "c_T = 1 - beta_T eta/2 > 0", s["c"], "docs/theory.md §11.5"),
            _hyp("R_T - e_T > rho_bar/(sqrt(mu_T) c_T)", "the T4 radius from the exact w_T fits in B(w~_T, R_T)",
                 s["margin"], "docs/theory.md §12.1"),
        ]
    certified = rec.stop == "closed" and all(h.status is Status.HELD for h in hyps)
    amp = f"e^{rec.log_amplification:.1f}"
    if certified:
        reason = (f"T6 closed at step T = {rec.steps}: e_T = {term.e:.3g}, R_T = {term.R:.4g}, "
                  f"mu_T >= {q['mu_T'].lo:.4g}, amplification {amp}")
        conclusions = [f"||w_T - w~_T|| <= {term.e:.3g} for the exact GD iterate w_T (T = {rec.steps})",
                       f"exact GD with eta = {eta:.6g} converges to w* with F(w*) = y and ||w* - w~_T|| <= {term.R:.4g}",
                       f"L(w_t) <= {q['rate'].hi:.9g}^(t - {rec.steps}) * {q['rho_bar'].hi ** 2 / 2:.3e} for t >= {rec.steps}"]
        verdict = Verdict.CERTIFIED
    else:
        conclusions = []
        verdict = Verdict.NOT_CERTIFIED
        if rec.stop == "singular":
            where = "K(w0)" if rec.steps == 0 else f"K(w~_t) at step t = {rec.steps}"
            reason = (f"lambda_min({where}) = 0 within float64 rounding: the kernel is singular (e.g. duplicate "
                      "inputs), so no terminal ball can close (docs/theory.md §12.1)")
        elif rec.stop == "amplification":
            reason = (f"float64 error amplification {amp} over {rec.steps} steps exceeds what float64 can certify: "
                      f"e_t = {rec.e_final:.3g} outgrew every terminal ball (mu_T > 0 needs R_T < sqrt(lambda)/kappa; "
                      "docs/theory.md §12.5; double-double arithmetic would be needed)")
        elif rec.stop == "diverged":
            reason = f"the float64 GD run diverged at step {rec.steps} (step {eta:.6g} too large?)"
        else:
            last = f"; last terminal margin {INTERVALS.hi(term.state['margin']):.3g} with e_T = {term.e:.3g}" if term else ""
            reason = f"the terminal ball did not close within max_steps = {rec.steps} (amplification {amp}){last}"
    return Evidence(CLAIM, CLAIM_SYMBOLS, "run", verdict, reason, problem.describe(), quantities=q,
                    hypotheses=hyps, conclusions=conclusions, hints=hints, references=list(REFERENCES))


# ---------------------------------------------------------------- certificate
def run_certificate(evidence: Evidence, problem: Problem) -> dict:
    """A ``run`` certificate: model, y, w0 and the run (step, T, checkpoints), the radii and terminal ball as
    hints, and the evidence the verifier re-derives from them (plproof.verify.trajectory); large arrays go
    to .npy files on writing."""
    from plproof.certificate.build import evidence_json, model_inputs, sealed
    from plproof.certificate.format import encode_array
    from plproof.verify.trajectory import derive_run

    if evidence.route != "run":
        raise InvalidInput(f"run_certificate needs evidence of the run route, got route {evidence.route!r}")
    h = evidence.hints
    inputs = model_inputs(problem)
    inputs["run"] = run = {"recipe": RECIPE, "step": h["step"], "T": h["T"]}
    hints: dict[str, Any] = {"X_norm": h["X_norm"]}
    if evidence.certified:
        run.update(checkpoint_steps=list(h["checkpoint_steps"]),
                   checkpoints=encode_array(np.asarray(h["checkpoints"], dtype=np.float64)))
        hints.update(radii=encode_array(np.asarray(h["radii"], dtype=np.float64)), R_T=h["R_T"],
                     lambda_T_shift=h["lambda_T_shift"], jacobian_norm_T=evidence.quantities["jacobian_norm_T"].hi)
    record = {"producer": {"verdict": evidence.verdict.value, "reason": evidence.reason,
                           "evidence": evidence_json(evidence),
                           "run": {k: v for k, v in h.items() if k not in ("checkpoints", "radii")}},
              "amplification": {"log": evidence.quantities["log_amplification"].hi,
                                "max_rho": evidence.quantities["max_rho"].hi}}
    return sealed("run", "gd-run/A", inputs, hints, record, derive_run)
