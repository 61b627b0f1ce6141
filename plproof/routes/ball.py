"""check(problem): is mu-PL* proved on a ball B(w0, R), and does GD from w0 provably converge?

The pipeline of docs/theory.md §2.5 and §4.1 with the bounds of §8/§11: enclose lambda0 and
||DF(w0)|| at w0, bound the Jacobian change and curvature over B(w0, R), search R for
R >= R_fl(R), prove the closing inequalities in interval arithmetic, then confirm with a GD run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from plproof.errors import InvalidInput, NotCertifiable, SoundnessViolation
from plproof.evidence import Evidence, Hypothesis, Status, Verdict
from plproof.models.ball import BallBounds
from plproof.numeric.arith import high_precision
from plproof.numeric.rigor import Enclosure, RigorLevel, weakest
from plproof.numeric.runners import Trajectory, gradient_descent
from plproof.numeric.scalars import FLOATS, INTERVALS, enclosure
from plproof.problem import Problem
from plproof.theory import gd
from plproof.theory.centre import Centre, centre

CLAIM = ("L(w) = 1/2 ||F(w) - y||^2 is mu-PL* on B(w0, R); a solution of F(w) = y lies in the ball, and GD "
         "with step eta from w0 stays in it with L(w_t) <= (1 - eta mu (2 - beta eta))^t L(w0)")
CLAIM_SYMBOLS = ("forall w in B(w0,R): 1/2 ||grad L(w)||^2 >= mu L(w);  R >= 2 sqrt(2 L0/mu)/(2 - beta eta)"
                 "  =>  exists w* in B(w0,R): F(w*) = y;  L_t <= (1 - eta mu (2 - beta eta))^t L0")
REFERENCES = ["docs/theory.md §2.5", "docs/theory.md §4.1", "docs/theory.md §11.5"]
#: work budget of the float64 confirming run, in multiply-adds of n x m products: about the rest of a wide check's
#: cost (benchmarks/README.md, "Confirming GD run")
CONFIRM_BUDGET = 8 * 10**7
#: fewest and most float64 steps of a confirming run
CONFIRM_STEPS = (10, 500)
#: radii searched, log-spaced (20 per decade)
R_GRID = np.logspace(-10, 4, 281)


@dataclass
class BallState:
    """Every quantity of the theorem at one radius, in one scalar namespace."""

    R: Any
    delta: Any
    mu: Any
    L_F: Any
    beta: Any
    beta_ball: Any
    epsilon: Any
    eta: Any
    R_fl: Any

    @property
    def needed(self) -> Any:
        """The radius the theorem needs at this R (R_fl)."""
        return self.R_fl

    def closes(self, S: Any) -> bool:
        """mu > 0, 0 < beta eta < 2 and R >= R_fl, each proved in S (strict where needed)."""
        return (S.lo(self.mu) > 0 and S.hi(self.beta * self.eta) < 2 and S.lo(self.R - self.R_fl) >= 0)


#: ``at(S, R)``: the state of a ball theorem at radius R in the scalar namespace S, with ``needed`` and ``closes(S)``
StateAt = Callable[[Any, float], Any]


def _state(S: Any, c: Centre, bb: BallBounds, R: float, step: float | None) -> BallState:
    """The theorem's quantities at radius R (docs/theory.md §11.4 T2/T3, §4.1, §2.5)."""
    Rs = S.of(R)
    delta = bb.delta(S, Rs)
    mu = S.pos(S.sqrt(S.of(c.lambda0.lo)) - delta) ** 2
    L_F = S.of(c.jac_norm.hi) + delta
    r0 = S.of(c.res_norm.hi)
    beta = L_F * L_F + bb.curvature(S, Rs, r0)  # on B ∩ {L <= L0}, where ||r|| <= ||r0|| (§11.4 T3)
    beta_ball = L_F * L_F + bb.curvature(S, Rs, r0 + L_F * Rs)  # on all of B (§4.1)
    eta = S.of(step) if step is not None else S.of(_step_below(1 / S.hi(beta)) if S.hi(beta) > 0 else 1.0)
    L0 = S.of(c.L0.hi)
    R_fl = gd.radius_fl(S, L0, mu, beta, eta) if S.lo(mu) > 0 and S.hi(beta * eta) < 2 else S.of(math.inf)
    return BallState(Rs, delta, mu, L_F, beta, beta_ball, bb.epsilon(S, Rs), eta, R_fl)


def _step_below(x: float) -> float:
    """A float a little below x, so that eta beta <= 1 survives rounding."""
    return math.nextafter(x * (1 - 1e-12), 0.0)


def search_radius(c: Centre, bb: BallBounds, step: float | None) -> tuple[float | None, tuple[float, float] | None]:
    """Smallest R at which the GD theorem closes (float search, then bisection) and the closing range on the grid."""
    return find_radius(lambda S, R: _state(S, c, bb, R, step))


def find_radius(at: StateAt, grid: np.ndarray = R_GRID) -> tuple[float | None, tuple[float, float] | None]:
    """Smallest closing R of the theorem ``at`` (float search on ``grid``, then bisection) and the closing range."""
    closing = [R for R in grid if at(FLOATS, R).closes(FLOATS)]
    if not closing:
        return None, None
    first = closing[0]
    lo = grid[max(0, int(np.searchsorted(grid, first)) - 1)]
    hi = first
    if lo < hi:
        for _ in range(40):
            mid = math.sqrt(lo * hi)
            if at(FLOATS, mid).closes(FLOATS):
                hi = mid
            else:
                lo = mid
    return hi, (first, closing[-1])


def prove_radius(at: StateAt, R: float) -> tuple[Any, float]:
    """Interval evaluation just above the smallest closing R (a margin an independent re-check keeps)."""
    roomy = R * (1 + 1e-3)
    if at(FLOATS, roomy).closes(FLOATS):
        R = roomy
    state = at(INTERVALS, R)
    for _ in range(8):
        if state.closes(INTERVALS):
            break
        R = R * (1 + 1e-6) if R > 0 else 1e-12
        state = at(INTERVALS, R)
    return state, R


def _hyp(name: str, statement: str, margin: Any, rigor: RigorLevel, ref: str, strict: bool = False,
         detail: str = "") -> Hypothesis:
    return Hypothesis.from_margin(name, statement, enclosure(margin, INTERVALS, rigor), ref, strict=strict,
                                 detail=detail)


def _evidence(problem: Problem, verdict: Verdict, reason: str, **kw: Any) -> Evidence:
    return Evidence(CLAIM, CLAIM_SYMBOLS, "ball", verdict, reason, problem.describe(),
                    references=list(REFERENCES), **kw)


@dataclass
class Centred:
    """What every ball route needs before a radius: the centre, the ball bounds and the premises at w0."""

    c: Centre
    bb: BallBounds
    structural: list[Hypothesis]
    lam_hyp: Hypothesis
    base: dict[str, Enclosure]

    @property
    def rigor(self) -> RigorLevel:
        """The weakest level of the centre's enclosures and the ball bounds."""
        c = self.c
        return weakest([c.lambda0.rigor, c.jac_norm.rigor, c.res_norm.rigor, c.L0.rigor, self.bb.rigor])

    @property
    def assumptions(self) -> tuple[str, ...]:
        c = self.c
        return tuple(dict.fromkeys(c.lambda0.assumptions + c.jac_norm.assumptions + c.L0.assumptions))


def centred(problem: Problem, level: RigorLevel, bounds: str, digits: int,
            evidence: Callable[..., Evidence]) -> Centred | Evidence:
    """The centre at ``level``, the ball bounds and the premises m >= n, F in C^2, lambda0 > 0 (docs/theory.md §4.1,
    §5, §9); where one of them stops the route, its Evidence instead, built by ``evidence(verdict, reason, **kw)``."""
    obstruction = problem.obstruction()
    structural = [Hypothesis("m >= n", "number of parameters >= number of equations",
                             Status.HELD if not problem.underparameterized else Status.FAILED,
                             Enclosure.point(problem.m - problem.n, RigorLevel.EXACT), reference="docs/theory.md §5"),
                  Hypothesis("F is C^2", "the model has bounded second derivatives",
                             Status.HELD if problem.model.is_smooth else Status.FAILED,
                             reference="docs/theory.md §9")]
    if obstruction:
        return evidence(Verdict.NOT_CERTIFIABLE, obstruction, hypotheses=structural)
    model_cap = getattr(problem.model, "ball_rigor", level)  # adapters bound the ball only by sampling
    notes = []
    if model_cap < level:
        why = getattr(problem.model, "ball_obstacle", None)
        notes.append(f"this model's ball bounds are {model_cap.label} at best{f' ({why})' if why else ''}, so the "
                     f"centre is evaluated at that level too")
        level = model_cap
    c = centre(problem, level, digits)
    c.notes[:0] = notes
    try:
        bb = problem.model.ball_bounds(problem.w0, bounds)
    except NotCertifiable as exc:
        return evidence(Verdict.NOT_CERTIFIABLE, str(exc), hypotheses=structural)
    base = {"lambda0": c.lambda0, "jacobian_norm_w0": c.jac_norm, "residual_norm_w0": c.res_norm, "L0": c.L0}
    lam_hyp = Hypothesis("lambda0 > 0", "lambda_min(K(w0)) > 0", Status.HELD if c.lambda0.lo > 0 else
                         (Status.FAILED if c.lambda0.hi <= 0 else Status.UNKNOWN), c.lambda0,
                         reference="docs/theory.md §4.1")
    if lam_hyp.status is not Status.HELD:
        singular = c.lambda0.hi <= 1e-12 * max(c.jac_norm.hi ** 2, 1e-300)
        why = ("lambda_min(K(w0)) = 0 (numerically): K(w0) is singular, e.g. duplicate inputs"
               if singular else f"lambda_min(K(w0)) could not be proved positive (enclosure {c.lambda0}); next: "
                                "inputs further apart or a wider model make K(w0) better conditioned")
        return evidence(Verdict.NOT_CERTIFIABLE if singular else Verdict.NOT_CERTIFIED, why,
                        hypotheses=structural + [lam_hyp], quantities=base)
    return Centred(c, bb, structural, lam_hyp, base)


def settle_radius(at: StateAt, radius: float | None,
                  grid: np.ndarray = R_GRID) -> tuple[Any, float, tuple[float, float] | None]:
    """(the state in intervals, its radius, the closing range on the grid): at ``radius`` if given, else just
    above the smallest closing R, else at the closest miss."""
    if radius is not None:
        return at(INTERVALS, radius), radius, None
    R_found, R_range = find_radius(at, grid)
    if R_found is None:
        R_try = best_failing_radius(at, grid)
        return at(INTERVALS, R_try), R_try, None
    state, R_cert = prove_radius(at, R_found)
    return state, R_cert, R_range


def parse_inputs(rigor: "str | RigorLevel", step: float | None, radius: float | None) -> RigorLevel:
    """The level to aim for (exact: verified, exact where the family allows), after checking step and radius."""
    level = RigorLevel.parse(rigor)
    if step is not None and not (isinstance(step, (int, float)) and math.isfinite(step) and step > 0):
        raise InvalidInput(f"the step size must be a positive finite number, got {step!r}")
    if radius is not None and not (isinstance(radius, (int, float)) and math.isfinite(radius) and radius > 0):
        raise InvalidInput(f"the radius must be a positive finite number, got {radius!r}")
    return RigorLevel.VERIFIED if level is RigorLevel.EXACT else level


def check(problem: Problem, rigor: "str | RigorLevel" = "verified", step: float | None = None,
          radius: float | None = None, *, bounds: str = "tight", confirm: bool = True,
          confirm_steps: int | None = None, digits: int = 50, method: str = "gd", batch_size: int | None = None,
          confidence: float | None = None) -> Evidence:
    """Check the GD theorem of docs/theory.md §2.5 on a ball around w0 and return the Evidence.

    ``rigor``: ``verified`` (enclosures), ``high-precision`` (mpmath estimates at ``digits``) or
    ``sampled`` (float64 estimates); the evidence states the level actually reached. ``step``:
    the GD step (default 1/beta on the ball); ``radius``: check this R instead of searching.
    ``method="sgd"`` checks the SGD theorem of docs/theory.md §3 instead, for mini-batches of ``batch_size``
    indices drawn i.i.d. uniformly, holding with probability >= ``confidence`` (plproof.routes.sgd_ball).
    """
    if method == "sgd":
        from plproof.routes.sgd_ball import check_sgd

        return check_sgd(problem, rigor, step, radius, batch_size=batch_size, confidence=confidence, bounds=bounds,
                         digits=digits, confirm=confirm, confirm_steps=confirm_steps)
    if method != "gd":
        raise InvalidInput(f"unknown method {method!r}: use 'gd' (full-batch gradient descent) or 'sgd'")
    if batch_size is not None or confidence is not None:
        raise InvalidInput("batch_size and confidence apply to method='sgd' only")
    level = parse_inputs(rigor, step, radius)
    pre = centred(problem, level, bounds, digits, lambda *a, **kw: _evidence(problem, *a, **kw))
    if isinstance(pre, Evidence):
        return pre
    c, bb, structural, lam_hyp, base = pre.c, pre.bb, pre.structural, pre.lam_hyp, pre.base
    state, R_cert, R_range = settle_radius(lambda S, R: _state(S, c, bb, R, step), radius)
    rig, assumptions = pre.rigor, pre.assumptions
    q = {**base}
    for key, val in (("R", state.R), ("step", state.eta), ("R_fl", state.R_fl)):
        q[key] = enclosure(val, INTERVALS, rig, assumptions)
    # the constants enclose the true inf/sup over the ball: proved bound on one side, the value at w0
    # (or the trivial bound) on the other
    linear = INTERVALS.hi(state.epsilon) == 0
    sides = {"mu": (INTERVALS.lo(state.mu), c.lambda0.hi),
             "L_F": (c.jac_norm.lo, INTERVALS.hi(state.L_F)),
             "beta": (c.jac_norm.lo ** 2 * (1 - 1e-15) if linear else 0.0, INTERVALS.hi(state.beta)),
             "beta_ball": (c.jac_norm.lo ** 2 * (1 - 1e-15) if linear else 0.0, INTERVALS.hi(state.beta_ball)),
             "epsilon": (0.0, INTERVALS.hi(state.epsilon)), "delta": (0.0, INTERVALS.hi(state.delta))}
    for key, (lo, hi) in sides.items():
        q[key] = Enclosure(min(lo, hi), hi, rig, assumptions)
    finite = q["R_fl"].hi < math.inf
    if finite:
        q["rate"] = enclosure(gd.rate(state.eta, state.mu, state.beta), INTERVALS, rig, assumptions)
        L0 = INTERVALS.of(c.L0.hi)
        q["R_v1"] = enclosure(gd.radius_v1(INTERVALS, L0, state.mu, state.beta_ball), INTERVALS, rig, assumptions)
        q["R_v2"] = enclosure(gd.radius_v2(INTERVALS, L0, state.mu, state.L_F), INTERVALS, rig, assumptions)
        q["R_existence"] = enclosure(gd.radius_existence(INTERVALS, L0, state.mu), INTERVALS, rig, assumptions)
    hyps = structural + [
        lam_hyp,
        _hyp("mu > 0 on the ball", "mu = (sqrt(lambda0) - delta(R))_+^2 > 0", state.mu, rig,
             "docs/theory.md §11.4", strict=True),
        _hyp("0 < eta beta < 2", "the step is below 2/beta", 2 - state.beta * state.eta, rig,
             "docs/theory.md §2.5", strict=True),
        _hyp("R >= R_fl", "R >= 2 sqrt(2 L0/mu) / (2 - beta eta)", state.R - state.R_fl if finite
             else INTERVALS.of(-1.0), rig, "docs/theory.md §2.5"),
    ]
    paper = _paper_hypotheses(q, state, rig) if finite else []
    certified = all(h.status is Status.HELD for h in hyps)
    hints = {"radius": float(R_cert), "step": float(INTERVALS.hi(state.eta)) if step is None else float(step),
             "centre_method": c.method, **c.hints, **bb.hints()}
    if R_range:
        hints["closing_radii_grid"] = [float(R_range[0]), float(R_range[1])]
    if certified:
        reason = (f"mu-PL* {reached(rig)} on B(w0, R) with R = {q['R'].hi:.6g} >= R_fl = {q['R_fl'].hi:.6g} "
                  f"(margin {q['R'].lo - q['R_fl'].hi:.3g}), mu >= {q['mu'].lo:.6g}, rigor {rig.label}")
        ev = _evidence(problem, Verdict.CERTIFIED, reason, quantities=q, hypotheses=hyps + paper,
                       conclusions=[f"a solution w* with F(w*) = y lies in B(w0, {q['R'].hi:.6g})",
                                    f"GD with step eta = {hints['step']:.6g} stays in the ball and "
                                    f"L(w_t) <= {q['rate'].hi:.9g}^t L(w0)"], hints=hints, notes=list(c.notes))
        if confirm:
            ev.trajectory = confirm_run(problem, hints["step"], q["rate"].hi, q["R"].hi, confirm_steps)
            ev.notes.append(f"confirming GD run: {ev.trajectory.steps} steps in {ev.trajectory.arithmetic}, "
                            f"final loss {ev.trajectory.final_loss:.3e}")
        return ev
    failed, reason = first_failure(hyps, q["R"].hi, radius)
    reason += f"; next: {next_step(problem, failed.name, step, radius, q)}"
    return _evidence(problem, Verdict.NOT_CERTIFIED, reason, quantities=q, hypotheses=hyps + paper,
                     hints=hints, notes=list(c.notes))


def first_failure(hyps: list[Hypothesis], R: float, radius: float | None) -> tuple[Hypothesis, str]:
    """The first premise not held, and the reason it gives at radius R (searched, or ``radius`` as given)."""
    failed = next(h for h in hyps if h.status is not Status.HELD)
    margin = f" (margin {failed.margin.hi:.3g})" if failed.margin else ""
    return failed, (f"{failed.name} failed{margin} at the best radius tried, R = {R:.4g}"
                    if radius is None else f"{failed.name} failed{margin} at R = {radius:.4g}")


def reached(level: RigorLevel) -> str:
    """What a verdict at ``level`` establishes: proved (verified, exact) or only estimated (docs/theory.md §10)."""
    if level >= RigorLevel.VERIFIED:
        return "proved"
    return "holds on samples (not proved)" if level is RigorLevel.SAMPLED else \
        "holds in high-precision estimates (not proved)"


def next_step(problem: Problem, failed: str, step: float | None, radius: float | None, q: dict) -> str:
    """The next thing to try after the hypothesis ``failed`` stopped the ball route."""
    if failed == "0 < eta beta < 2" and step is not None:
        return f"a smaller step (--step below 2/beta = {2 / q['beta'].hi:.3g}), or drop --step for 1/beta"
    if radius is not None:
        return "drop --radius to search the radii from 1e-10 to 1e4"
    tries = ["a wider model (more parameters per equation)",
             "smaller targets or F(w0) = y nearly (a smaller L(w0), e.g. init='symmetric' where F(w0) = 0)"]
    from plproof.routes.trajectory.certify import run_obstacle  # (the run route's modules load on this path only)

    if run_obstacle(problem) is None:
        tries.append("the run route (--route run, certify_run), which certifies the GD run itself, often at far "
                     "smaller widths")
    return "; or ".join(tries)


def best_failing_radius(at: StateAt, grid: np.ndarray = R_GRID) -> float:
    """Where no R closes: the grid radius with the largest R - (radius needed), the closest miss, for the report."""
    def gap(R: float) -> float:
        needed = at(FLOATS, R).needed
        return R - needed if math.isfinite(needed) else -math.inf
    best = max(grid, key=gap)
    return float(best) if gap(best) > -math.inf else float(grid[0])


def _paper_hypotheses(q: dict, state: BallState, rig: RigorLevel) -> list[Hypothesis]:
    """LZB's v1 and v2 radii, reported beside R_fl for fidelity to the paper (docs/theory.md §2.1-§2.3)."""
    return [
        _hyp("paper v1: R >= R_v1", "R >= 2 sqrt(2 beta L0)/mu with eta = 1/beta (LZB v1)",
             state.R - INTERVALS.between(q["R_v1"].lo, q["R_v1"].hi), rig, "docs/theory.md §2.1",
             detail="informational: not needed by the R_fl route"),
        _hyp("paper v1: mu <= beta", "mu <= beta (explicit hypothesis of v1, docs/theory.md §2.3 S2)",
             state.beta_ball - state.mu, rig, "docs/theory.md §2.3", detail="informational"),
        _hyp("paper v2: R >= R_v2", "R >= 2 L_F sqrt(2 L0)/mu (LZB v2)",
             state.R - INTERVALS.between(q["R_v2"].lo, q["R_v2"].hi), rig, "docs/theory.md §2.2",
             detail="informational: not needed by the R_fl route"),
    ]


def confirm_budget(problem: Problem, runs: int = 1) -> int:
    """Float64 steps per run for ``runs`` confirming runs: CONFIRM_STEPS (10 to 500), within about CONFIRM_BUDGET
    multiply-adds of n x m (Jacobian-sized) products in all."""
    fewest, most = CONFIRM_STEPS
    return int(min(most, max(fewest, CONFIRM_BUDGET // max(problem.n * problem.m * runs, 1))))


def confirm_run(problem: Problem, step: float, rate: float, R: float, steps: int | None = None) -> Trajectory:
    """Run GD from w0 and check L_t <= rate^t L0 and ||w_t - w0|| <= R; a violation is a soundness bug.

    Small problems run at 30 digits (200 steps), larger ones in float64 (``steps``, default
    :func:`confirm_budget`'s 10 to 500, about the cost of the rest of the check);
    values below the arithmetic's noise floor are not compared.
    """
    small = problem.n * problem.m <= 4000
    float_steps = confirm_budget(problem)
    n_steps = steps if steps is not None else (200 if small else float_steps)
    try:
        traj = gradient_descent(problem, step, n_steps, arith=high_precision(30) if small else None)
    except (InvalidInput, NotCertifiable):  # a model that evaluates in float64 only (callable, torch)
        small = False
        traj = gradient_descent(problem, step, steps if steps is not None else float_steps)
    L0 = traj.losses[0]
    unit = 1e-28 if small else 2.0**-52
    scale = max(1.0, float(np.max(np.abs(problem.y))), math.sqrt(2 * L0))
    floor = problem.n * (1e3 * unit * scale) ** 2
    for t, (loss, dist) in enumerate(zip(traj.losses, traj.distances)):
        bound = L0 * rate**t
        if loss > bound * (1 + 64 * (t + 1) * unit) + floor:  # rounding drifts at most linearly in t
            raise SoundnessViolation(f"GD violated the certified rate at step {t}: L_t = {loss:.6e} > {bound:.6e}")
        if dist > R * (1 + 1e3 * unit) + 1e3 * unit:
            raise SoundnessViolation(f"GD left the certified ball at step {t}: ||w_t - w0|| = {dist:.6e} > R = {R:.6e}")
    return traj
