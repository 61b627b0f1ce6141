"""The generic run recipe: GD of any model with closed forms in midpoint-radius arithmetic (docs/rigor.md §10).

Each step encloses G(w~_t) = w~_t - eta DF(w~_t)^T (F(w~_t) - y) by the model's own formulas evaluated in
:mod:`plproof.verify.midrad`; the next iterate is the enclosure's midpoint and rho_t the norm of its radius.
The contraction l_t comes from the family's ball bounds centred at an anchor w~_a (docs/theory.md §12.2):
on B(w~_a, R_a) ⊇ B(w~_t, e_t), ||DF|| <= J_a + delta_a(R_a) =: LF and ||S|| <= h_t = curvature_a(R_a, rho'_t),
rho'_t = ||r(w~_t)|| + LF e_t, so l_t = max(1 + eta h_t, eta (LF^2 + h_t) - 1). When the ball-bound set has a
sharp hook (:data:`~plproof.routes.trajectory.sharp.SHARP`: two-layer nets), l_t is instead Lemma B per neuron
with the one-sided sigma from per-step enclosures (docs/rigor.md §10). The terminal ball uses the same ball
bounds centred at w~_T (:func:`~plproof.routes.trajectory.terminal.terminal`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from plproof.errors import InvalidInput
from plproof.numeric import floatbounds as fb
from plproof.numeric.rigor import Enclosure, RigorLevel
from plproof.numeric.scalars import FLOATS, INTERVALS
from plproof.numeric.verified import lambda_min_lower
from plproof.routes.trajectory.error_bounds import contraction
from plproof.routes.trajectory.recipe import BLOCK, COVER, Anchor, Block
from plproof.routes.trajectory.sharp import SHARP
from plproof.routes.trajectory.terminal import Terminal, jacobian_norm, mu_radius, terminal
from plproof.verify.midrad import ASSUMPTION, U1, gd_step, kernel_enclosure, norm_upper

RECIPE = "plproof midpoint-radius GD step v1"
#: an anchor's radius R_a is where delta_a(R_a) reaches this fraction of ||DF(w~_a)|| (the driver's ANCHOR_DRIFT)
DRIFT = 0.05


def _hi(x: Any) -> float:
    return INTERVALS.hi(x)


class MidRadGD:
    """Float64 GD of a model with closed forms, each step enclosed in midpoint-radius arithmetic (§10)."""

    name = RECIPE
    precision = "float64"
    assumptions = (ASSUMPTION,)

    def __init__(self, model: Any, y: np.ndarray, w0: np.ndarray) -> None:
        self.model, self.y = model, np.asarray(y, dtype=np.float64)
        self.w = np.empty((BLOCK + 1, model.n_params))
        self.w[0] = w0
        self.bounds = model.ball_bounds(np.asarray(w0, dtype=np.float64), "tight")
        hook = SHARP.get(self.bounds.bound_set)
        self.sharp = hook(model, self.y, self.bounds) if hook is not None else None

    def run(self, k: int, eta: float) -> Block:
        """Up to k enclosed steps from slot 0; stops at the first step that is not finite."""
        rho, step, res = np.empty(k), np.empty(k), np.empty(k)
        stages: list[tuple[np.ndarray, ...]] = []
        done, finite = 0, True
        with np.errstate(all="ignore"):
            for j in range(k):
                try:
                    w1, rho[j], res[j] = gd_step(self.model, self.w[j], self.y, eta)
                    if self.sharp is not None:
                        stages.append(self.sharp.at(self.w[j]))
                except (ArithmeticError, InvalidInput):  # a ball reaching a pole, or a non-finite iterate
                    finite = False
                    break
                done = j + 1
                self.w[j + 1] = w1
                step[j] = norm_upper(w1 - self.w[j]) * (1 + 4 * U1)
                if not (np.isfinite(w1).all() and math.isfinite(rho[j]) and math.isfinite(res[j])):
                    finite = False
                    break
        return Block(done, rho[:done], step[:done], res[:done], finite, stages[:done])

    def shorten(self, block: Block, k: int, eta: float) -> Block:
        return Block(k, block.rho[:k], block.step[:k], block.residual[:k], block.finite, block.stage[:k])

    def anchor(self, block: Block, j: int) -> Anchor:
        """K(w~_j) enclosed, ||DF(w~_j)|| <= J_a, the ball bounds centred at w~_j and the radius R_a where
        delta_a(R_a) ~ DRIFT J_a; kappa = delta_a(R_a)/R_a drives the driver's re-anchoring."""
        w = self.iterate(j)
        K, E = kernel_enclosure(self.model, w)
        jac = jacobian_norm(K, E, self.assumptions)
        bb = self.bounds.recentred(w)
        J = float(jac.hi)
        k1 = float(bb.delta(FLOATS, 1.0))
        if k1 == 0:
            R, delta = math.inf, 0.0
        else:
            R = DRIFT * J / k1 if math.isfinite(k1) else 1.0  # bounds known on small balls only: halve from 1
            while float(bb.delta(FLOATS, R)) > 2 * DRIFT * J:
                R /= 2
            delta = _hi(bb.delta(INTERVALS, INTERVALS.of(R)))
        h1 = _hi(bb.curvature(INTERVALS, INTERVALS.of(R if R < math.inf else 1.0), INTERVALS.of(1.0)))
        kappa = fb.up(delta / R) if R < math.inf else 0.0
        return Anchor(K, norm_upper(E), jac, kappa, {"bb": bb, "E": E, "delta": delta, "h1": h1}, radius=R)

    def contraction(self, block: Block, k: int, eta: float, e: np.ndarray, LF: np.ndarray,
                    anchor: Anchor) -> np.ndarray:
        """l_j from the anchor's ball (the driver keeps ||w~_j - w~_a|| + e_j <= R_a): LF = J_a + delta_a(R_a)
        bounds ||DF|| on B(w~_a, R_a); with a sharp hook Lemma B per neuron (docs/rigor.md §10), else
        curvature is positively homogeneous in rho, so h_j = rho'_j h_a(1)."""
        L = fb.up(float(anchor.jac.hi) + anchor.data["delta"])
        if self.sharp is not None:
            return contraction(self.sharp.curvature(block.stage[:k]), self.sharp.tube, eta, e, np.full(k, L))
        rho = (block.residual[:k] + L * e) * COVER
        h = anchor.data["h1"] * rho * COVER
        ell = np.maximum(1.0 + eta * h, eta * (L * L + h) - 1.0) * COVER
        return np.nextafter(ell, np.inf)

    def terminal(self, block: Block, j: int, anchor: Anchor, e: float, eta: float) -> tuple[Terminal | None, float]:
        """The terminal ball at w~_j (the anchor is there), or None when a float estimate shows it cannot close."""
        bb, E = anchor.data["bb"], anchor.data["E"]
        lam_est = float(np.linalg.eigvalsh(anchor.K)[0]) - anchor.err
        R_max = mu_radius(bb, lam_est)
        res_hi = float(block.residual[j])
        if lam_est <= 0 or e >= R_max:
            return None, R_max
        reach = e + res_hi / math.sqrt(lam_est)  # necessary: R > e + ||r||/sqrt(lambda) and delta(R) < sqrt(lambda)
        if reach >= R_max or float(bb.delta(FLOATS, reach)) >= math.sqrt(lam_est):
            return None, R_max
        lam = lambda_min_lower(anchor.K, E, psd=True)
        lam_enc = Enclosure(lam.lo, lam.hi, RigorLevel.VERIFIED, self.assumptions)
        return terminal(bb, res_hi, e, eta, lam_enc, anchor.jac), R_max

    def iterate(self, j: int) -> np.ndarray:
        return self.w[j].copy()

    def restart(self, k: int) -> None:
        self.w[0] = self.w[k]
