"""certify_run: the a-posteriori trajectory certificate T6 of a concrete GD run (docs/theory.md §12).

GD runs in float64 by a fixed recipe (:mod:`.recipe`). Each step t bounds the float defect
rho_t >= ||G(w~_t) - w~_{t+1}||, G(w) = w - eta grad L(w), and the contraction l_t >= sup ||I - eta Hess L||
over the tube B(w~_t, e_t) (:mod:`.error_bounds`); e_{t+1} = l_t e_t + rho_t bounds ||w_t - w~_t|| for the
exact iterates w_t (§12.1 (i)). When the residual is small, the terminal ball B(w~_T, R_T) is checked
with T1-T3 centred at w~_T and T4 (:mod:`.terminal`, §12.1 (ii)): exact GD then converges to a global
minimiser. The derivation of every constant is in docs/rigor.md §5.
"""

from __future__ import annotations

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
from plproof.numeric.scalars import INTERVALS
from plproof.problem import Problem
from plproof.routes.trajectory.error_bounds import ASSUMPTIONS, Stage, contraction, defect
from plproof.routes.trajectory.recipe import BLOCK, COVER, RECIPE, Buffers, Net, gd_step, make_net
from plproof.routes.trajectory.terminal import Terminal, _jacobian_upper, _sigma_c, _try_terminal
from plproof.theory.ball import TwoLayerTightBounds

CLAIM = ("exact GD from w0 with step eta converges to a global minimiser w* (F(w*) = y), within R_T of the "
         "computed iterate w~_T, with L(w_t) <= rate^(t-T) rho_bar^2/2 for every t >= T")
CLAIM_SYMBOLS = ("||w_T - w~_T|| <= e_T;  mu_T-PL* on B(w~_T, R_T);  R_T - e_T > rho_bar/(sqrt(mu_T) c_T)  =>  "
                 "w_t -> w*, F(w*) = y, ||w* - w~_T|| <= R_T, L(w_t) <= (1 - 2 c_T eta mu_T)^(t-T) rho_bar^2/2")
REFERENCES = ["docs/theory.md §12.1", "docs/theory.md §12.2", "docs/theory.md §12.3", "docs/theory.md §11.5"]
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
                term, R_max = _try_terminal(net, bb, buf.W[0], buf.v[0], res_hi, K, err, jac, E, eta)
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
    bb = model.ball_bounds(problem.w0, "tight")  # TwoLayerTightBounds: _refuse admits closed-form TwoLayer only
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
    return Hypothesis.from_margin(name, statement, _enc(margin), ref, strict=True)


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
