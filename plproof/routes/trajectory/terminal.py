"""The terminal ball of the run route at w~_T (docs/theory.md §12.1 (ii)): T1-T3 centred there, then T4."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from plproof.numeric import floatbounds as fb
from plproof.numeric.rigor import Enclosure, RigorLevel
from plproof.numeric.scalars import FLOATS, INTERVALS
from plproof.numeric.verified import hint_room, lambda_max_upper, lambda_min_lower
from plproof.routes.trajectory.error_bounds import ASSUMPTIONS
from plproof.routes.trajectory.recipe import COVER, Net
from plproof.theory.ball import BallBounds, TwoLayerTightBounds
from plproof.theory.centre import two_layer_kernel


@dataclass
class Terminal:
    """Terminal ball data at w~_T and whether it closes (docs/theory.md §12.1 (ii)) for exact GD from w_T with step
    ``eta`` (the run's step; an SGD run's continuation step, §12.6)."""

    R: float
    e: float
    lam: Enclosure
    jac: Enclosure
    res_hi: float
    state: dict
    closes: bool
    eta: float
    sgd: "Continuation | None" = None


def _terminal_state(S: Any, bb: BallBounds, lam_lo: float, J_hi: float, res_hi: float, e: float,
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


def mu_radius(bb: BallBounds, lam: float) -> float:
    """A float estimate of the largest R with delta(R) < sqrt(lam), where mu_T(R) > 0 (inf when delta = 0)."""
    if not lam > 0:
        return 0.0
    root, k = math.sqrt(lam), float(bb.delta(FLOATS, 1.0))
    if k == 0:
        return math.inf
    # exact when delta is linear in R; halved until delta(R) < sqrt(lam) otherwise (from 1 if delta(1) = inf)
    R = root / k * (1 - 1e-6) if math.isfinite(k) else 1.0
    for _ in range(60):
        if float(bb.delta(FLOATS, R)) < root:
            return R
        R /= 2
    return 0.0


def terminal(bb: BallBounds, res_hi: float, e: float, eta: float, lam: Enclosure, jac: Enclosure) -> Terminal:
    """Search the smallest closing R_T (float), then prove the closing inequalities in intervals.

    ``bb`` are ball bounds centred at w~_T, ``lam`` and ``jac`` enclose lambda_min(K(w~_T)) and ||DF(w~_T)||.
    """
    lam_lo = max(float(lam.lo), 0.0)
    R_max = mu_radius(bb, lam_lo)
    if R_max == math.inf:  # a constant kernel: the ball closes near e + ||r||/(sqrt(lambda) c)
        R_max = 1e3 * (e + res_hi / math.sqrt(lam_lo))

    # margin(R) <= R - e - res_hi / sqrt(lam_lo): sqrt(mu_T) <= sqrt(lam_lo), 0 < c <= 1 and rho_bar >= res_hi
    floor = e + res_hi / math.sqrt(lam_lo) if lam_lo > 0 else math.inf
    found = _smallest(lambda R: float(_terminal_state(FLOATS, bb, lam_lo, jac.hi, res_hi, e, R, eta)["margin"]),
                      R_max, floor)
    R = found if found is not None else (R_max / 2 if R_max > 0 else 1.0)
    state = _terminal_state(INTERVALS, bb, lam_lo, jac.hi, res_hi, e, R, eta)
    closes = found is not None and INTERVALS.lo(state["margin"]) > 0
    return Terminal(float(R), e, lam, jac, res_hi, state, closes, eta)


def _smallest(margin: Callable[[float], float], R_max: float, floor: float = 0.0) -> float | None:
    """A float R in (0, R_max) near the smallest with margin(R) > 0 (8 radii per decade, then bisection), or None.
    ``floor``: margin(R) <= R - floor, so the radii of the grid below floor (1 - 1e-6) are not tried (their margins
    are negative: the same R as trying them)."""
    if not R_max > 0:
        return None
    grid = R_max * np.logspace(-14, 0, 113)[:-1]  # ascending: the first positive margin
    start = int(np.searchsorted(grid, floor * (1 - 1e-6)))
    i = next((i for i in range(start, grid.size) if margin(grid[i]) > 0), None)
    if i is None:
        return None
    lo, hi = (grid[i - 1] if i else 0.0), grid[i]
    for _ in range(24):
        mid = math.sqrt(lo * hi) if lo > 0 else hi / 2
        lo, hi = (lo, mid) if margin(mid) > 0 else (mid, hi)
    return hi * (1 + 1e-3) if margin(hi * (1 + 1e-3)) > 0 else hi


@dataclass
class Continuation:
    """SGD continued from w_T with fresh i.i.d. batches (docs/theory.md §12.6, §3): the ball B(w~_T, R), its
    constants and whether §3's hypotheses are proved there at confidence 1 - delta."""

    R: float
    confidence: float
    state: dict
    holds: bool


def _continuation_state(S: Any, bb: BallBounds, lam_lo: float, J_hi: float, res_hi: float, e: float, R: float,
                        n: int, s: int, delta: float) -> dict:
    """§3's hypotheses from w_T on B(w~_T, R) (docs/theory.md §12.6): mu = mu_T(R); each l_i beta-smooth and
    self-bounding with beta = L_F^2 + curvature(R, ||r~_T|| + L_F R); ||r(w_T)|| <= rho = ||r~_T|| + L_F e; the margin
    R - e - 2 n rho sqrt(beta)/(mu delta) (>= 2 n sqrt(2 beta L(w_T))/(mu delta)); eta* and k = mu s/n: every step
    eta <= eta* has E[L(w_(T+t)) 1{w_T..w_(T+t) in the ball}] <= (1 - k eta)^t L(w_T) (docs/theory.md §3)."""
    Rs, es = S.of(R), S.of(e)
    d = bb.delta(S, Rs)
    mu = S.pos(S.sqrt(S.of(lam_lo)) - d) ** 2
    LF = S.of(J_hi) + d
    beta = LF * LF + bb.curvature(S, Rs, S.of(res_hi) + LF * Rs)
    rho = S.of(res_hi) + LF * es
    ok = S.lo(mu) > 0
    margin = Rs - es - 2 * S.of(n) * rho * S.sqrt(beta) / (mu * S.of(delta)) if ok else S.of(-1.0)
    eta = mu / (beta * (S.of(n) * beta + mu * S.of(s - 1))) if ok else S.of(0.0)
    return {"mu": mu, "beta": beta, "rho": rho, "margin": margin, "eta": eta, "k": mu * S.of(s) / S.of(n)}


def continuation(bb: BallBounds, term: Terminal, n: int, s: int, confidence: float) -> Continuation:
    """The smallest ball B(w~_T, R) where §3 holds from w_T at ``confidence`` = 1 - delta (float search), proved in
    intervals."""
    delta = math.nextafter(1.0 - confidence, 0.0)  # <= 1 - confidence
    lam_lo = max(float(term.lam.lo), 0.0)
    R_max = mu_radius(bb, lam_lo)
    if R_max == math.inf:
        R_max = 1e3 * (term.e + 2 * n * term.res_hi * float(term.jac.hi) / (lam_lo * delta))

    def state(S: Any, R: float) -> dict:
        return _continuation_state(S, bb, lam_lo, float(term.jac.hi), term.res_hi, term.e, R, n, s, delta)

    found = _smallest(lambda R: float(state(FLOATS, R)["margin"]), R_max)
    R = found if found is not None else (R_max / 2 if R_max > 0 else 1.0)
    st = state(INTERVALS, R)
    return Continuation(float(R), confidence, st, found is not None and INTERVALS.lo(st["margin"]) > 0)


def jacobian_norm(K: np.ndarray, err: float, assumptions: tuple[str, ...]) -> Enclosure:
    """||DF(w~)|| = sqrt(lambda_max(K(w~))) enclosed from K~ with ||K~ - K(w~)||_2 <= err. The upper end carries
    room 1e-9 + 8 n (n + 1) u relative: the verifier proves ||DF|| < J by a float Cholesky test of J^2 I - K above
    n = 100, which cannot see gaps below about 4 (n + 1) u tr K (docs/rigor.md §1.2); tighter J's were rejected."""
    n = K.shape[0]
    lmax = lambda_max_upper(K, err, method="float")
    hi = fb.up(max(float(lmax.hi), 0.0) * hint_room(n))
    return Enclosure(fb.down(math.sqrt(max(float(lmax.lo), 0.0))), fb.sqrt_up(hi), RigorLevel.VERIFIED, assumptions)


def _jacobian_upper(net: Net, at: tuple) -> tuple[np.ndarray, float, Enclosure]:
    """K~ = fl(K(w~)), a bound on ||K~ - K(w~)||_2, and ||DF(w~)|| enclosed (:func:`jacobian_norm`)."""
    A, EA, D, ED, v = at
    K, err = two_layer_kernel(net.X, v, "both", A, EA, D, ED)
    return K, err, jacobian_norm(K, err, ASSUMPTIONS)


def _sigma_c(net: Net, v_inf: float) -> float:
    """s ||X|| sig(c), c = S2 ||v||_inf x_max: the T1 drift per unit radius (docs/theory.md §11.3)."""
    c = fb.up(net.S2 * v_inf * net.x_max)
    return fb.up(net.s_up * net.X_norm * (c + math.sqrt(c * c + 4.0)) / 2 * COVER)


def _try_terminal(net: Net, bb: TwoLayerTightBounds, W: np.ndarray, v: np.ndarray, res_hi: float, K: np.ndarray,
                  err: float, jac: Enclosure, E: float, eta: float) -> tuple[Terminal | None, float]:
    """The terminal ball at w~_t = (W, v) with ``bb`` recentred there (None when a float estimate shows it
    cannot close yet) and the largest radius sqrt(lambda)/kappa at which mu_T > 0 (an estimate, to stop
    hopeless runs)."""
    lam_est = float(np.linalg.eigvalsh(K)[0]) - err
    kap = _sigma_c(net, float(np.max(np.abs(v))))
    R_max = math.sqrt(max(lam_est, 0.0)) / kap
    if lam_est <= 0 or res_hi * kap >= 0.5 * lam_est or E >= R_max:
        return None, R_max  # necessary: R > ||r||/sqrt(lambda) + e and delta(R) < sqrt(lambda)
    low = lambda_min_lower(K, err, psd=True)
    lam = Enclosure(low.lo, low.hi, RigorLevel.VERIFIED, ASSUMPTIONS)
    return terminal(bb.recentred(np.concatenate([W.ravel(), v])), res_hi, E, eta, lam, jac), R_max
