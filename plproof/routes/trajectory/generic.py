"""The generic run recipe: GD of any model with closed forms in midpoint-radius arithmetic (docs/rigor.md §10).

Each step encloses G(w~_t) = w~_t - eta DF(w~_t)^T (F(w~_t) - y) by the model's own formulas evaluated in
:mod:`plproof.verify.midrad`; the next iterate is the enclosure's midpoint and rho_t the norm of its radius.
The contraction l_t comes from the family's ball bounds centred at an anchor w~_a (docs/theory.md §12.2):
on B(w~_a, R_a) ⊇ B(w~_t, e_t), ||DF|| <= J_a + delta_a(R_a) =: LF and ||S|| <= h_t = curvature_a(R_a, rho'_t),
rho'_t = ||r(w~_t)|| + LF e_t, so l_t = max(1 + eta h_t, eta (LF^2 + h_t) - 1). When the ball-bound set has a
sharp hook (:data:`~plproof.routes.trajectory.sharp.SHARP`), l_t comes instead from per-step enclosures: Lemma B
per neuron with the one-sided sigma for two-layer nets, the eigenvalues of S enclosed over the tube's box for
SymPy models (docs/rigor.md §10). The terminal ball uses the same ball
bounds centred at w~_T (:func:`~plproof.routes.trajectory.terminal.terminal`).

With a :class:`~plproof.routes.trajectory.sampler.Sampler` the recipe runs seeded SGD (docs/theory.md §12.6):
step t is the same enclosed step on the rows B_t of its batch, G_t(w) = w - eta DF_B(w)^T (F_B(w) - y_B), and
l_t bounds I - eta Hess L_B, L_B = sum_k c_k l_k (c_k the multiplicity of k in B_t): ||DF_B|| <= LB_t =
||DF_B(w~_t)|| (the batch kernel enclosed) + 2 sqrt(cmax) delta_a(R_a) on the tube, and
||sum_k c_k r_k Hess f_k|| <= h_a(1) ||c o r|| with ||c o r|| <= sqrt(cmax) ||r_B||. The terminal ball is the
full loss's, at a continuation step eta_c = min(eta, 1/||DF(w~_T)||^2) of exact GD from w_T.
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
from plproof.routes.trajectory.recipe import BLOCK, COVER, Anchor, Block
from plproof.routes.trajectory.sharp import SHARP
from plproof.routes.trajectory.sampler import Sampler
from plproof.routes.trajectory.terminal import Terminal, continuation, jacobian_norm, mu_radius, terminal
from plproof.verify.window import applies, step_jacobian
from plproof.verify.midrad import (ASSUMPTION, MIDRAD, U1, batch_jacobian_upper, gd_step, kernel_enclosure, norm_hi,
                                   norm_upper)

RECIPE = "plproof midpoint-radius GD step v2"
#: an anchor's radius R_a is where delta_a(R_a) reaches this fraction of ||DF(w~_a)|| (the driver's ANCHOR_DRIFT)
DRIFT = 0.05


def _hi(x: Any) -> float:
    return INTERVALS.hi(x)


class MidRadGD:
    """Float64 GD of a model with closed forms, each step enclosed in midpoint-radius arithmetic (§10)."""

    name = RECIPE
    precision = "float64"
    assumptions = (ASSUMPTION,)
    coarse = False

    def __init__(self, model: Any, y: np.ndarray, w0: np.ndarray, sampler: Sampler | None = None,
                 confidence: float | None = None) -> None:
        self.model, self.y = model, np.asarray(y, dtype=np.float64)
        self.w = np.empty((BLOCK + 1, model.n_params))
        self.w[0] = w0
        self.bounds = model.ball_bounds(np.asarray(w0, dtype=np.float64), "tight")
        hook = SHARP.get(self.bounds.bound_set)
        self.sharp = hook(model, self.y, self.bounds) if hook is not None else None
        self.sampler, self.t = sampler, 0  # SGD's batches, and the step number of slot 0
        self.confidence = confidence  # SGD: also prove §3 from w_T at this confidence (docs/theory.md §12.6)
        # per slot j: rho, ||w~_{j+1} - w~_j||, ||r(w~_j)|| (SGD: ||r_B||), cmax, ||DF_B(w~_j)|| and the sharp
        # hook's enclosures; slots 0..ready-1 are computed (kept across a shortened block, as their eta)
        self.slots = np.ones((5, BLOCK))
        self.stages: list[Any] = [None] * BLOCK
        self.ready, self.eta = 0, math.nan
        self.windows = applies(model)  # products of step Jacobians over a block (docs/rigor.md §10, windows)

    def run(self, k: int, eta: float) -> Block:
        """Up to k enclosed steps from slot 0 (SGD: on the rows of each step's batch), reusing those computed before
        a restart; stops at the first step that is not finite. ``stage``: the sharp hook's enclosures, each step's
        cmax and (SGD) ||DF_B(w~_j)||."""
        if eta != self.eta:
            self.ready, self.eta = 0, eta
        batches = self.sampler.batches(self.t, k) if self.sampler is not None else [None] * k
        finite = True
        with np.errstate(all="ignore"):
            for j in range(self.ready, k):
                rows, out = batches[j], self.slots[:, j]
                try:
                    w1, out[0], out[2] = gd_step(self.model, self.w[j], self.y, eta, rows)
                    if self.sharp is not None:
                        self.stages[j] = self.sharp.at(self.w[j], rows)
                    if rows is not None:
                        out[3], out[4] = np.bincount(rows).max(), batch_jacobian_upper(self.model, self.w[j], rows)
                except (ArithmeticError, InvalidInput):  # a ball reaching a pole, or a non-finite iterate
                    finite = False
                    break
                self.w[j + 1] = w1
                out[1] = norm_upper(w1 - self.w[j]) * (1 + 4 * U1)
                if not (np.isfinite(w1).all() and np.isfinite(out[:3]).all()):
                    finite = False
                    break
                self.ready = j + 1
            progress = None if self.sampler is None else float(np.linalg.norm(self.model.F(self.w[0]) - self.y))
        done = min(self.ready, k)
        rho, step, res, cmax, jb = self.slots[:, :done].copy()
        stage = (self.stages[:done], cmax, jb if self.sampler is not None else None)
        return Block(done, rho, step, res, finite, stage, progress)

    def shorten(self, block: Block, k: int, eta: float) -> Block:
        stages, cmax, jb = block.stage
        return Block(k, block.rho[:k], block.step[:k], block.residual[:k], block.finite,
                     (stages[:k], cmax[:k], None if jb is None else jb[:k]), block.progress)

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
        stages, cmax, jb = block.stage
        cm = cmax[:k]
        # SGD: ||DF_B|| <= LB = ||DF_B(w~_j)|| + sqrt(cmax) 2 delta_a(R_a) on the tube (w, w~_j both in B(w~_a, R_a))
        LB = np.full(k, L) if jb is None else np.nextafter(
            (jb[:k] + 2 * np.sqrt(cm) * anchor.data["delta"] * COVER) * COVER, np.inf)
        if self.sharp is not None:
            return self.sharp.ell(stages[:k], eta, e, np.full(k, L), None if jb is None else LB)
        rho = np.sqrt(cm) * (block.residual[:k] + LB * e) * COVER  # >= ||c o r(w)||, sqrt(cmax) ||r_B(w)||
        h = anchor.data["h1"] * rho * COVER
        ell = np.maximum(1.0 + eta * h, eta * (LB * LB + h) - 1.0) * COVER
        return np.nextafter(ell, np.inf)

    def terminal(self, block: Block, j: int, anchor: Anchor, e: float, eta: float) -> tuple[Terminal | None, float]:
        """The terminal ball at w~_j (the anchor is there), or None when a float estimate shows it cannot close."""
        bb, E = anchor.data["bb"], anchor.data["E"]
        lam_est = float(np.linalg.eigvalsh(anchor.K)[0]) - anchor.err
        R_max = mu_radius(bb, lam_est)
        if self.sampler is None:
            res_hi = float(block.residual[j])
        else:  # the full loss's residual, and the continuation step of exact GD from w_T
            res_hi = norm_hi(self.model.F(self.w[j], MIDRAD) - self.y)
            eta = continuation_step(eta, float(anchor.jac.hi))
        if lam_est <= 0 or e >= R_max:
            return None, R_max
        reach = e + res_hi / math.sqrt(lam_est)  # necessary: R > e + ||r||/sqrt(lambda) and delta(R) < sqrt(lambda)
        if reach >= R_max or float(bb.delta(FLOATS, reach)) >= math.sqrt(lam_est):
            return None, R_max
        lam = lambda_min_lower(anchor.K, E, psd=True)
        lam_enc = Enclosure(lam.lo, lam.hi, RigorLevel.VERIFIED, self.assumptions)
        term = terminal(bb, res_hi, e, eta, lam_enc, anchor.jac)
        if term.closes and self.confidence is not None and self.sampler is not None:
            term.sgd = continuation(bb, term, self.sampler.n, self.sampler.batch_size, self.confidence)
        return term, R_max

    def step_jacobians(self, k: int, eta: float, e: np.ndarray) -> list | None:
        """DG_j = I - eta Hess L_(B_j) enclosed over the box of half-width e_j around w~_j, for the k steps
        (:func:`plproof.verify.window.step_jacobian`, docs/rigor.md §10, windows); None where the model has no
        closed-form Hessian or an enclosure fails."""
        if not self.windows:
            return None
        rows = self.sampler.batches(self.t, k) if self.sampler is not None else [None] * k
        try:
            return [step_jacobian(self.model, self.w[j], float(e[j]), self.y, eta, rows[j]) for j in range(k)]
        except (ArithmeticError, FloatingPointError):
            return None

    def iterate(self, j: int) -> np.ndarray:
        return self.w[j].copy()

    def restart(self, k: int) -> None:
        """Iterate k to slot 0, with the steps after it that the block computed."""
        n = self.ready - k
        self.w[: n + 1] = self.w[k: k + n + 1].copy()
        self.slots[:, :n] = self.slots[:, k: k + n].copy()
        self.stages[:n] = self.stages[k: k + n]
        self.ready = max(n, 0)
        self.t += k


def continuation_step(eta: float, jac_hi: float) -> float:
    """The step of exact GD from w_T that the terminal ball of an SGD run proves convergent (docs/theory.md
    §12.6): eta itself when eta <= 1/||DF(w~_T)||^2, else that float (beta_T eta_c ~ 1: the ball then closes with
    c_T near 1/2, while a mini-batch step is often above 2/beta of the full loss). Any positive float is sound:
    T4 is proved at the value used."""
    return min(eta, float(1.0 / (jac_hi * jac_hi)))
