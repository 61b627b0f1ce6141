"""check(problem, method="sgd"): with probability >= 1 - delta, does SGD from w0 stay in a ball and converge?

LZB's SGD theorem as re-derived in docs/theory.md §3, on a concrete model: the centre and the ball bounds of the
GD route (plproof.routes.ball, docs/theory.md §4.1, §11), then per-example smoothness beta on B(w0, R), the
self-bounding margin beta - sup ||grad f_i||^2, mu-PL* of the sum, the step eta <= eta* and R >= R_sgd =
2 n sqrt(2 beta L0) / (mu delta), searched over R since mu and beta depend on R.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from plproof.errors import InvalidInput
from plproof.evidence import Evidence, Hypothesis, Status, Verdict
from plproof.models.ball import BallBounds
from plproof.numeric.rigor import Enclosure, RigorLevel
from plproof.numeric.scalars import FLOATS, INTERVALS, enclosure
from plproof.problem import Problem
from plproof.numeric.runners import sgd_ensemble
from plproof.routes.ball import Centred, centred, confirm_budget, first_failure, parse_inputs, reached, settle_radius
from plproof.theory import sgd
from plproof.theory.centre import Centre

CLAIM = ("with probability >= 1 - delta, SGD on L(w) = sum_i 1/2 (f_i(w) - y_i)^2 from w0 with mini-batches of s "
         "indices drawn i.i.d. uniformly and step eta <= eta* stays in B(w0, R) and converges to a global solution, "
         "with E[L(w_t) 1{w_0..w_t in B}] <= (1 - mu s eta/n)^t L(w0)")
CLAIM_SYMBOLS = ("forall w in B(w0,R): 1/2 ||grad L||^2 >= mu L, ||Hess l_i|| <= beta, ||grad f_i||^2 <= beta;  "
                 "eta <= mu/(beta (n beta + mu (s-1))), R >= 2 n sqrt(2 beta L0)/(mu delta)  =>  "
                 "P(w_t in B for all t, w_t -> w*, F(w*) = y) >= 1 - delta;  E[L_t 1{B}] <= (1 - mu s eta/n)^t L0")
REFERENCES = ["docs/theory.md §3", "docs/theory.md §4.1", "docs/theory.md §11.4"]
#: radii searched, log-spaced (20 per decade): R_sgd is n sqrt(beta/mu)/delta times GD's radius
R_GRID = np.logspace(-10, 10, 401)
#: seeded SGD runs a certified check records (an observation for the report, docs/theory.md §3)
CONFIRM_SEEDS = 16
#: the default step is eta* (1 - STEP_ROOM) rounded down, so that eta <= eta* survives an independent re-check
STEP_ROOM = 1e-13


@dataclass
class SGDState:
    """The theorem's quantities at one radius, in one scalar namespace (docs/theory.md §3)."""

    R: Any
    delta: Any
    epsilon: Any
    mu: Any
    grad: Any
    hess: Any
    beta: Any
    eta_star: Any
    eta: Any
    R_sgd: Any

    @property
    def needed(self) -> Any:
        """The radius the theorem needs at this R (R_sgd)."""
        return self.R_sgd

    def closes(self, S: Any) -> bool:
        """mu > 0, beta >= sup ||grad f_i||^2 (beta - g^2 = hess), eta <= eta* and R >= R_sgd, each proved in S."""
        return (S.lo(self.mu) > 0 and S.lo(self.hess) >= 0
                and S.lo(self.eta_star - self.eta) >= 0 and S.lo(self.R - self.R_sgd) >= 0)


def _state(S: Any, c: Centre, bb: BallBounds, R: float, step: float | None, s: int, failure: Any) -> SGDState:
    """The quantities at radius R: mu as for GD (§11.4 T2), the per-example bounds and the radius of §3."""
    Rs, n = S.of(R), bb.n
    delta = bb.delta(S, Rs)
    eps = bb.epsilon(S, Rs)
    mu = S.pos(S.sqrt(S.of(c.lambda0.lo)) - delta) ** 2
    g0 = S.of((c.row_norm or c.jac_norm).hi)
    g = sgd.grad_bound(S, g0, delta, eps, Rs)
    hess = sgd.example_curvature(S, eps, bb.curvature(S, Rs, S.of(1)), S.of(c.res_norm.hi) + g * Rs)
    beta = g * g + hess
    if not (S.lo(mu) > 0 and math.isfinite(S.hi(beta))):
        inf = S.of(math.inf)
        return SGDState(Rs, delta, eps, mu, g, hess, beta, S.of(0), S.of(step or 0), inf)
    eta_star = sgd.step(mu, beta, n, s)
    eta = S.of(step if step is not None else _below(S.lo(eta_star)))
    R_sgd = sgd.radius(S, S.of(c.L0.hi), mu, beta, n, failure)
    return SGDState(Rs, delta, eps, mu, g, hess, beta, eta_star, eta, R_sgd)


def _below(x: float) -> float:
    """A float a little below x > 0 (STEP_ROOM relative), so that eta <= eta* survives an independent re-check."""
    return math.nextafter(x * (1 - STEP_ROOM), 0.0)


def parse_sgd(problem: Problem, batch_size: Any, confidence: Any) -> tuple[int, Fraction]:
    """(s, confidence as an exact rational), or an InvalidInput naming what is wrong."""
    n = problem.n
    if batch_size is None:
        raise InvalidInput(f"method='sgd' needs batch_size, the mini-batch size: an integer in [1, n] = [1, {n}]")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size <= n:
        raise InvalidInput(f"batch_size must be an integer in [1, n] = [1, {n}], got {batch_size!r}")
    if confidence is None:
        raise InvalidInput("method='sgd' needs confidence = 1 - delta, the probability of the claim: a number in (0, 1)")
    ok = isinstance(confidence, (float, int, Fraction, np.floating)) and not isinstance(confidence, bool)
    if not (ok and math.isfinite(confidence) and 0 < confidence < 1):
        shown = str(confidence) if isinstance(confidence, Fraction) else repr(confidence)
        raise InvalidInput(f"confidence must be a number in (0, 1) (the claim holds with this probability), got {shown}")
    # a float is read as the decimal it prints as (0.95 is 19/20), the probability its user means
    return int(batch_size), confidence if isinstance(confidence, Fraction) else Fraction(repr(float(confidence)))


def _evidence(problem: Problem, verdict: Verdict, reason: str, **kw: Any) -> Evidence:
    return Evidence(CLAIM, CLAIM_SYMBOLS, "sgd-ball", verdict, reason, problem.describe(),
                    references=list(REFERENCES), **kw)


def _hyp(name: str, statement: str, margin: Any, rigor: RigorLevel, ref: str, strict: bool = False) -> Hypothesis:
    return Hypothesis.from_margin(name, statement, enclosure(margin, INTERVALS, rigor), ref, strict=strict)


def check_sgd(problem: Problem, rigor: "str | RigorLevel" = "verified", step: float | None = None,
              radius: float | None = None, *, batch_size: int | None, confidence: float | None,
              bounds: str = "tight", digits: int = 50, confirm: bool = True,
              confirm_steps: int | None = None) -> Evidence:
    """Check the SGD theorem of docs/theory.md §3 on a ball around w0 and return the Evidence.

    ``batch_size`` s in [1, n]: indices per step, drawn i.i.d. uniformly; ``confidence`` = 1 - delta in (0, 1);
    ``step``: the SGD step on the sum loss (default eta* on the ball); ``radius``: check this R instead of
    searching. The mean-loss step s eta (and the torch.nn.MSELoss learning rate s eta / 2) is reported beside it.
    ``confirm``: a certified result records CONFIRM_SEEDS seeded float64 SGD runs of ``confirm_steps`` steps
    (default within the confirming budget, :func:`~plproof.routes.ball.confirm_budget`), an observation for the
    report: their mean loss against the expectation bound, their distances against R.
    """
    s, conf = parse_sgd(problem, batch_size, confidence)
    level = parse_inputs(rigor, step, radius)
    ev = centred(problem, level, bounds, digits, lambda *a, **kw: _evidence(problem, *a, **kw))
    setting = {"sgd": {"batch_size": s, "confidence": conf}}
    if isinstance(ev, Evidence):
        ev.hints.update(setting)
        return ev
    pre: Centred = ev
    c, bb, rig = pre.c, pre.bb, pre.rigor
    failure = {True: INTERVALS.of(1 - conf), False: FLOATS.of(1 - conf)}
    state, R_cert, R_range = settle_radius(
        lambda S, R: _state(S, c, bb, R, step, s, failure[S.interval]), radius, R_GRID)
    finite = math.isfinite(INTERVALS.hi(state.R_sgd))
    q = _quantities(pre, state, s, conf, finite)
    hyps = pre.structural + [
        pre.lam_hyp,
        _hyp("mu > 0 on the ball", "mu = (sqrt(lambda0) - delta(R))_+^2 > 0", state.mu, rig, "docs/theory.md §11.4",
             strict=True),
        _hyp("self-bounding on the ball", "||grad l_i||^2 = 2 l_i ||grad f_i||^2 <= 2 beta l_i: beta - sup_B "
             "||grad f_i||^2 >= 0", state.hess, rig, "docs/theory.md §3"),
        _hyp("0 < eta <= eta*", "eta <= eta* = mu / (beta (n beta + mu (s - 1)))",
             state.eta_star - state.eta if finite else INTERVALS.of(-1.0), rig, "docs/theory.md §3"),
        _hyp("R >= R_sgd", "R >= 2 n sqrt(2 beta L0) / (mu delta), delta = 1 - confidence",
             state.R - state.R_sgd if finite else INTERVALS.of(-1.0), rig, "docs/theory.md §3"),
    ]
    step_used = float(INTERVALS.lo(state.eta)) if step is None else float(step)
    hints = {"radius": float(R_cert), "step": step_used, "centre_method": c.method, **c.hints, **bb.hints(),
             **setting}
    if R_range:
        hints["closing_radii_grid"] = [float(R_range[0]), float(R_range[1])]
    if all(h.status is Status.HELD for h in hyps):
        R_sgd, rate = q["R_sgd"].hi, q["rate"].hi
        reason = (f"SGD with batch size {s} stays in B(w0, {R_sgd:.6g}) with probability >= {float(conf):.6g} "
                  f"({reached(rig)}): mu >= {q['mu'].lo:.6g}, beta <= {q['beta'].hi:.6g} on B(w0, R = "
                  f"{q['R'].hi:.6g}), eta = {step_used:.6g}, rigor {rig.label}")
        conclusions = [
            f"with probability >= {float(conf):.6g}, SGD from w0 with {s} indices per step drawn i.i.d. uniformly and "
            f"step eta = {step_used:.6g} on the sum loss stays in B(w0, {R_sgd:.6g}) and converges to a w* in it "
            f"with F(w*) = y",
            f"E[L(w_t) 1{{w_0..w_t in the ball}}] <= {rate:.9g}^t L(w0)",
            f"mean loss (1/n) sum_i l_i: mu_bar >= {q['mu_mean'].lo:.6g}; the same iterates with step "
            f"{q['step_mean'].hi:.6g} on the batch-mean gradient (1/s) sum_(i in B) grad l_i, or learning rate "
            f"{q['step_mse'].hi:.6g} with torch.nn.MSELoss(); the same rate {rate:.9g} per step"]
        ev = _evidence(problem, Verdict.CERTIFIED, reason, quantities=q, hypotheses=hyps, hints=hints,
                       conclusions=conclusions, notes=list(c.notes))
        if confirm:
            ev.trajectory = runs = sgd_ensemble(
                problem, step_used, confirm_steps or confirm_budget(problem, CONFIRM_SEEDS), s, range(CONFIRM_SEEDS))
            left = sum(max(r.distances) > R_sgd for r in runs.runs)
            ev.notes.append(f"{left} of {CONFIRM_SEEDS} seeded SGD runs of {runs.steps} steps left B(w0, R_sgd) (an "
                            f"observation: the claim allows a fraction up to {1 - float(conf):.3g})")
        return ev
    failed, reason = first_failure(hyps, q["R"].hi, radius)
    reason += f"; next: {next_step(problem, failed.name, step, radius, q, s)}"
    return _evidence(problem, Verdict.NOT_CERTIFIED, reason, quantities=q, hypotheses=hyps, hints=hints,
                     notes=list(c.notes))


def _quantities(pre: Centred, state: SGDState, s: int, conf: Fraction, finite: bool) -> dict[str, Enclosure]:
    """The evidence's quantities: the centre's, the setting, the constants on the ball, the theorem's numbers."""
    c, rig, assumptions = pre.c, pre.rigor, pre.assumptions
    n = pre.bb.n
    q = {**pre.base, "row_norm_w0": c.row_norm or c.jac_norm,
         "batch_size": Enclosure.point(s, RigorLevel.EXACT), "confidence": Enclosure(conf, conf, RigorLevel.EXACT)}
    for key, val in (("R", state.R), ("step", state.eta)):
        q[key] = enclosure(val, INTERVALS, rig, assumptions)
    # the constants bound an inf (mu) or a sup (the rest) over the ball: the proved side, and the value at w0 or
    # the trivial bound on the other
    linear = INTERVALS.hi(state.epsilon) == 0
    g0_lo = (c.row_norm or c.jac_norm).lo
    sides = {"mu": (INTERVALS.lo(state.mu), c.lambda0.hi), "grad_bound": (g0_lo, INTERVALS.hi(state.grad)),
             "beta": (g0_lo ** 2 * (1 - 1e-15) if linear else 0.0, INTERVALS.hi(state.beta)),
             "epsilon": (0.0, INTERVALS.hi(state.epsilon)), "delta": (0.0, INTERVALS.hi(state.delta))}
    for key, (lo, hi) in sides.items():
        q[key] = Enclosure(min(lo, hi), hi, rig, assumptions)
    if finite:
        S = INTERVALS
        for key, val in (("eta_star", state.eta_star), ("R_sgd", state.R_sgd),
                         ("rate", sgd.rate(state.mu, state.eta, n, s)), ("mu_mean", sgd.mean_pl(state.mu, n)),
                         ("step_mean", sgd.mean_step(state.eta, s)), ("step_mse", sgd.mse_step(state.eta, s))):
            q[key] = enclosure(val, S, rig, assumptions)
    return q


def next_step(problem: Problem, failed: str, step: float | None, radius: float | None, q: dict, s: int) -> str:
    """The next thing to try after the premise ``failed`` stopped the SGD ball route."""
    if failed == "0 < eta <= eta*" and step is not None:
        bound = f" (eta* >= {q['eta_star'].lo:.3g} here)" if "eta_star" in q else ""
        return (f"a smaller step{bound}, or a smaller batch (eta* grows as s shrinks), or drop the step for eta* "
                "itself")
    if radius is not None:
        return "drop the radius to search the radii from 1e-10 to 1e10"
    tries = ["a wider model (more parameters per equation)",
             "smaller targets or F(w0) = y nearly (a smaller L(w0), e.g. init='symmetric' where F(w0) = 0)"]
    if failed == "R >= R_sgd":
        tries.append("a lower confidence (R_sgd grows like 1/(1 - confidence))")
        tries.append("full-batch GD (method='gd'), whose ball is about n sqrt(beta/mu)/(1 - confidence) times smaller")
    return "; or ".join(tries)
