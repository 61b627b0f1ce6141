"""The smallest width at which a two-layer net is certified, beside the width at which GD converges.

"Wide networks satisfy PL*" (docs/theory.md §4.2) made concrete for one data set: doubling, then
bisection over widths; where nothing certifies up to the limit, an extrapolation (an estimate,
labelled as one) from how the bounds scale with width (docs/theory.md §8: s = m^{-1/2},
||v0||_inf ~ sqrt(2 ln 2m)).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from plproof.certificate.format import jsonable
from plproof.routes.ball import check, search_radius
from plproof.errors import InvalidInput, NotCertifiable
from plproof.evidence import Evidence
from plproof.models import TwoLayer
from plproof.models.base import check_finite_matrix, check_positive_int
from plproof.numeric.arith import FLOAT64
from plproof.problem import Problem
from plproof.routes.trajectory import certify_run, default_sgd_step, default_step
from plproof.routes.trajectory.sampler import Sampler
from plproof.theory.centre import centre
from plproof.numeric.rigor import RigorLevel, Summary, html_table


#: default step budget of both the run route and the empirical GD check (a width at which GD from width 2
#: needs 223,341 steps is a measured case: 2e5 would decide it wrongly)
STEPS = 400_000
#: GD counts as stalled when, at its rate over the last half of its steps, it would need more than this
#: many times its whole budget to reach the target (and the loss fell by less than 2x over that half)
STALL_FACTOR = 100


@dataclass(frozen=True)
class EmpiricalRun:
    """What a float64 run did at one width (an observation, docs/theory.md §2, §3): GD with eta =
    1/lambda_max(K(w0)), or (``method`` ``sgd``) a seeded SGD run at the run route's default SGD step.

    ``stop`` is ``converged`` (L <= target at step ``steps``), ``budget`` (``budget`` steps done, still
    decreasing), ``stalled`` (early stop: see :data:`STALL_FACTOR`) or ``diverged`` (non-finite loss).
    """

    stop: str
    steps: int
    loss: float
    target: float
    budget: int
    method: str = "gd"

    @property
    def converged(self) -> bool:
        return self.stop == "converged"

    def describe(self) -> str:
        """One phrase: what the run did, for notes."""
        name = self.method.upper()
        if self.stop == "converged":
            return f"{name} reached {self.target:.0e} at step {self.steps}"
        if self.stop == "budget":
            return (f"{name} had not reached {self.target:.0e} after {self.steps} steps (loss {self.loss:.2g}, "
                    "still decreasing): raise gd_steps")
        if self.stop == "stalled":
            return (f"{name} stalled at loss {self.loss:.2g} after {self.steps} steps (at its rate over the last "
                    f"{self.steps // 2} steps it would need over {STALL_FACTOR}x the budget of {self.budget})")
        return f"{name} diverged at step {self.steps}"


@dataclass
class WidthResult:
    """Smallest certified width per route (ball, run) or None, the empirical width, and their ratios.

    ``method`` is ``gd`` or ``sgd`` (then ``sgd`` holds batch_size, sampler, sampler_seed, confidence: the
    setting every route and the empirical run used). ``budget_limited`` maps a width to why a step budget, not
    the mathematics, stopped it there (the run route's ``max_steps`` or the empirical run's ``gd_steps``);
    ``empirical_runs`` holds what the float64 run did at each width checked.
    """

    certified_width: int | None
    empirical_width: int | None
    max_width: int
    evidence: Evidence | None
    extrapolated_width: float | None = None
    tried: dict[int, bool] = field(default_factory=dict)
    run_width: int | None = None
    run_evidence: Evidence | None = None
    notes: list[str] = field(default_factory=list)
    routes: tuple[str, ...] = ()
    budget_limited: dict[int, str] = field(default_factory=dict)
    empirical_runs: dict[int, EmpiricalRun] = field(default_factory=dict)
    skipped: list[int] = field(default_factory=list)
    gd_steps: int | None = None
    run_steps: int | None = None
    method: str = "gd"
    sgd: dict = field(default_factory=dict)

    @property
    def conservativeness(self) -> float | None:
        """ball-route width / empirical width: how conservative the theorem's route is."""
        return self.ball_ratio

    @property
    def ball_ratio(self) -> float | None:
        """ball-route certified width / empirical width."""
        return _ratio(self.certified_width, self.empirical_width)

    @property
    def run_ratio(self) -> float | None:
        """run-route certified width / empirical width."""
        return _ratio(self.run_width, self.empirical_width)

    def _ran(self, route: str) -> bool:
        if self.routes:
            return route in self.routes
        ball = bool(self.tried) or self.certified_width is not None  # built by hand: infer from what is set
        return ball if route == "ball" else self.run_width is not None or not ball

    def _rows(self) -> list[tuple[str, str]]:
        def width(w: int | None, how: str) -> str:
            return f"{w} ({how})" if w is not None else f"none up to {self.max_width}"

        name = self.method.upper()
        rows = []
        if self.sgd:
            rows.append(("SGD setting", ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.sgd.items()
                                                   if v is not None)))
        if self._ran("ball"):
            rigor = self.evidence.rigor.label if self.evidence is not None else ""
            rows.append(("certified width, ball route", width(self.certified_width, rigor)))
        if self._ran("run"):
            rows.append(("certified width, run route", width(self.run_width, "verified")))
        if self.extrapolated_width is not None:
            rows.append(("extrapolated width", f"{self.extrapolated_width:.4g} (an estimate, not a certificate)"))
        rows.append((f"{name} converges from width", width(self.empirical_width, "observed")))
        if self.budget_limited:
            rows.append(("budget-limited widths", ", ".join(
                f"{w} ({', '.join('run route' if m.startswith('run route') else name for m in msg.split('; '))})"
                for w, msg in sorted(self.budget_limited.items()))))
        if self.ball_ratio is not None:
            rows.append((f"ball / {name}", f"{self.ball_ratio:.3g}"))
        if self.run_ratio is not None:
            rows.append((f"run / {name}", f"{self.run_ratio:.3g}"))
        return rows

    def summary(self) -> Summary:
        """The smallest certified width per route, the empirical width and their ratios, one per line."""
        rows = self._rows()
        pad = max(len(k) for k, _ in rows)
        return Summary("\n".join(f"{k:<{pad}}  {v}" for k, v in rows))

    def __repr__(self) -> str:
        return f"<WidthResult {'; '.join(f'{k} {v}' for k, v in self._rows())}>"

    def _repr_html_(self) -> str:
        return html_table("WidthResult", self._rows())

    def to_json(self) -> dict:
        return {"certified_width": self.certified_width, "run_certified_width": self.run_width,
                "empirical_width": self.empirical_width, "run_ratio": self.run_ratio,
                "max_width": self.max_width, "extrapolated_width": self.extrapolated_width,
                "extrapolation_is_estimate": True, "ratio": self.conservativeness,
                "tried": {str(k): v for k, v in sorted(self.tried.items())}, "notes": self.notes,
                "ball_width": self.certified_width, "run_width": self.run_width,
                f"{self.method}_width": self.empirical_width,
                "ball_ratio": self.ball_ratio, "routes": list(self.routes), "gd_steps": self.gd_steps,
                "method": self.method, "sgd": jsonable(self.sgd),
                "run_steps": self.run_steps, "skipped_underparameterised": list(self.skipped),
                "budget_limited": {str(k): v for k, v in sorted(self.budget_limited.items())},
                "empirical_runs": jsonable({str(k): dataclasses.asdict(v)
                                            for k, v in sorted(self.empirical_runs.items())})}


def _ratio(width: int | None, gd_width: int | None) -> float | None:
    return width / gd_width if width and gd_width else None


def _widths(max_width: int, symmetric: bool) -> list[int]:
    start = 2 if symmetric else 1
    return [w for w in (start * 2**k for k in range(64)) if w <= max_width]


def _step(problem: Problem, eta: float, sampler: Sampler | None = None) -> Callable[[], float]:
    """One float64 GD step (or, with ``sampler``, one SGD step on the sum loss over the sampler's next batch,
    an index drawn twice counting twice) as a closure: returns L at the current iterate, then moves it.

    A plain numpy loop for TwoLayer (train='both'); other models through their F and vjp."""
    model = problem.model
    y = np.asarray(problem.y, dtype=np.float64)
    w = np.array(problem.w0, dtype=np.float64)
    batches = sampler.stream() if sampler is not None else None

    def weighted(r: np.ndarray) -> np.ndarray:
        """The residual the step's gradient uses: r, or r times each index's count in the batch."""
        return r if batches is None else r * np.bincount(next(batches), minlength=len(r))

    if not (isinstance(model, TwoLayer) and model.train == "both"):
        def generic() -> float:
            r = model.F(w, FLOAT64) - y
            w[:] -= eta * model.vjp(w, weighted(r), FLOAT64)
            return float(r @ r) / 2
        return generic
    W, v = model.split(w)  # views into w
    X, act, s = model.X, model.activation, 1 / math.sqrt(model.width)

    def two_layer() -> float:
        A, D = act.derivatives(X @ W.T, FLOAT64, 1)
        r = s * (A @ v) - y
        g = weighted(r)
        gW = ((D * g[:, None]).T @ X) * (s * v)[:, None]
        gv = s * (A.T @ g)
        W[:] -= eta * gW
        v[:] -= eta * gv
        return float(r @ r) / 2
    return two_layer


def empirical_run(problem: Problem, target: float = 1e-20, max_steps: int = STEPS, chunk: int = 1000,
                  sampler: Sampler | None = None) -> EmpiricalRun:
    """Float64 GD with eta = 1/lambda_max(K(w0)) until L <= target, divergence, a stall or ``max_steps``; with
    ``sampler``, the seeded SGD run it specifies (batches of its size, docs/theory.md §12.6) at the run route's
    default SGD step eta = 1/(s max_i K_ii(w0)) (:func:`~plproof.routes.trajectory.default_sgd_step`).

    An observation, not a certificate. Every ``chunk`` steps from max_steps/4 on, and at the end, the run counts
    as stalled if the loss fell by less than 2x over the last half of the steps and, at that rate, reaching
    ``target`` would take more than :data:`STALL_FACTOR` times ``max_steps`` steps."""
    max_steps = check_positive_int(max_steps, "gd_steps")
    if not (isinstance(target, (int, float)) and 0 < target < math.inf):
        raise InvalidInput(f"the target loss must be a positive finite number, got {target!r}")
    eta = (default_step(problem) if sampler is None else default_sgd_step(problem, sampler.batch_size))
    step = _step(problem, eta, sampler)
    method = "gd" if sampler is None else "sgd"
    marks = [math.inf] * (max_steps // chunk + 1)  # marks[k]: L at step k * chunk

    def stalled(t: int) -> bool:
        """The loss fell by less than 2x since step ~t/2 and, at that rate, would need over
        STALL_FACTOR * max_steps steps to reach the target."""
        k = t // 2 // chunk
        before, span = marks[k], t - k * chunk
        if loss <= before / 2:
            return False
        rate = math.log(before / loss) / span if loss < before else 0.0
        return rate <= 0 or math.log(loss / target) / rate > STALL_FACTOR * max_steps

    def stop(how: str, t: int) -> EmpiricalRun:
        return EmpiricalRun(how, t, loss, target, max_steps, method)

    loss = math.inf
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(max_steps):
            if t % chunk == 0 and t >= max(max_steps // 4, 4 * chunk) and stalled(t):
                return stop("stalled", t)
            loss = step()
            if t % chunk == 0:
                marks[t // chunk] = loss
            if loss <= target:
                return stop("converged", t)
            if not math.isfinite(loss):
                return stop("diverged", t)
    return stop("stalled" if stalled(max_steps) else "budget", max_steps)


def _smallest(widths: list[int], certifies: Callable[[int], bool], step: int, floor: int) -> int | None:
    """Doubling, then bisection below the first certified power of 2 (assumes rough monotonicity),
    never below ``floor`` (the smallest width with as many parameters as data points)."""
    first = next((w for w in widths if certifies(w)), None)
    if first is None:
        return None
    lo, hi = max(first // 2, floor - step), first
    while hi - lo > step:
        mid = (lo + hi) // 2
        mid -= mid % step
        if mid <= lo:
            break
        lo, hi = (lo, mid) if certifies(mid) else (mid, hi)
    return hi


#: the run route's steps, as fractions of eta = 1/lambda_max(K(w0)), tried in float64 in this order before
#: double-double at the default step: a smaller step can avoid the edge-of-stability phase whose error
#: amplification (prod l_t, docs/theory.md §12.5) stops the default step (case C seed 1: width 8 certifies at eta/2)
STEP_FRACTIONS = (1, 0.5, 0.25)


def _run_route(problem: Problem, run_steps: int, rigor: str,
               sampler: Sampler | None = None) -> tuple[Evidence, float]:
    """certify_run at the steps STEP_FRACTIONS x the default in float64, then at the default in double-double
    where that recipe exists (GD on two-layer tanh), until one certifies: (its evidence, the fraction of the
    default step it used). With ``sampler``, the seeded SGD run it specifies, from the default SGD step."""
    if sampler is None:
        eta, sgd = default_step(problem), {}
    else:
        eta = default_sgd_step(problem, sampler.batch_size)
        sgd = {"method": "sgd", "batch_size": sampler.batch_size, "seed": sampler.seed, "sampler": sampler.algorithm}
    runs = []
    for fraction in STEP_FRACTIONS:
        runs.append(certify_run(problem, step=eta * fraction, max_steps=run_steps, rigor=rigor, precision="float64",
                                **sgd))
        if runs[-1].certified or runs[-1].hints["stop"] != "amplification":
            return runs[-1], fraction
    try:  # the float64 run at eta is runs[0]: not repeated (precision 'auto' would)
        return certify_run(problem, step=eta, max_steps=run_steps, rigor=rigor, precision="double-double",
                           **sgd), 1.0
    except NotCertifiable:  # double-double is implemented for GD on two-layer tanh with train='both' only
        return runs[0], 1.0


def _sgd_setting(method: str, n: int, route: str, batch_size: Any, sampler: str, sampler_seed: Any,
                 confidence: Any) -> dict:
    """The SGD setting of a width search ({} for GD), or an InvalidInput that names the argument to change."""
    if method not in ("gd", "sgd"):
        raise InvalidInput(f"unknown method {method!r}: use 'gd' (full-batch gradient descent) or 'sgd'")
    if method == "gd":
        given = [k for k, v, default in (("batch_size", batch_size, None), ("sampler", sampler, "iid"),
                                         ("sampler_seed", sampler_seed, 0), ("confidence", confidence, None))
                 if v != default]
        if given:
            raise InvalidInput(f"{', '.join(given)} apply to method='sgd' only")
        return {}
    if batch_size is None:
        raise InvalidInput(f"method='sgd' needs batch_size, the mini-batch size: an integer in [1, n] = [1, {n}]")
    Sampler(sampler, sampler_seed, batch_size, n)  # names a bad algorithm, seed or size
    if route != "run" and confidence is None:
        raise InvalidInput("method='sgd' with the ball route needs confidence = 1 - delta, the probability of its "
                           "claim (a number in (0, 1)), or route='run' (a seeded run needs none)")
    return {"batch_size": int(batch_size), "sampler": sampler, "sampler_seed": int(sampler_seed),
            "confidence": confidence}


def min_certified_width(X: Any, y: Any, family: str = "two_layer", activation: str = "tanh", seed: int = 0,
                        init: str = "standard", *, max_width: int = 2**14, rigor: str = "verified",
                        bounds: str = "tight", route: str = "ball", empirical: bool = True,
                        gd_target: float = 1e-20, gd_steps: int = STEPS, run_steps: int = STEPS,
                        method: str = "gd", batch_size: int | None = None, sampler: str = "iid",
                        sampler_seed: int = 0, confidence: float | None = None) -> WidthResult:
    """Smallest width (doubling then bisection) whose two-layer net certifies, by route ``ball``
    (docs/theory.md §2.5, §11), ``run`` (the trajectory certificate, §12, with ``run_steps`` steps) or
    ``both``; and, if ``empirical``, the smallest power-of-2 width at which the float64 run reaches
    ``gd_target`` within ``gd_steps`` steps (:func:`empirical_run`).

    ``method="sgd"``: the same for SGD with mini-batches of ``batch_size``. The ball route checks §3's theorem
    (i.i.d. batches, holding with probability >= ``confidence``); the run route certifies the seeded run whose
    batches ``sampler`` ("iid" or "epochs") draws from ``sampler_seed`` (§12.6), at the default SGD step
    1/(s max_i K_ii(w0)); the empirical check runs that same seeded SGD run in float64.

    The ball search uses float estimates (rigor ``sampled``) to be fast; the answer is then re-checked at
    ``rigor``, moving up to the next tried width if the rigorous check does not close. Widths with fewer
    parameters than data points are skipped (lambda_min(K) = 0 there, docs/theory.md §5) and named once in
    the notes. Where a step budget, not the mathematics, stopped a width, ``budget_limited`` says so.
    """
    if family != "two_layer":
        raise InvalidInput(f"min_certified_width supports family='two_layer', got {family!r}")
    if route not in ("ball", "run", "both"):
        raise InvalidInput(f"route must be 'ball', 'run' or 'both', got {route!r}")
    X = check_finite_matrix(X, "X")
    max_width = check_positive_int(max_width, "max_width")
    gd_steps, run_steps = check_positive_int(gd_steps, "gd_steps"), check_positive_int(run_steps, "run_steps")
    n, d = X.shape
    sgd = _sgd_setting(method, n, route, batch_size, sampler, sampler_seed, confidence)
    symmetric = init == "symmetric"
    step = 2 if symmetric else 1
    floor = -(-n // (d + 1))  # m (d + 1) >= n parameters (train='both')
    floor += floor % step

    def problem(width: int) -> Problem:
        return Problem(TwoLayer(X, width, activation, seed, init=init), y)

    def batches() -> Sampler | None:
        """A fresh sampler of the SGD setting (None for GD)."""
        return Sampler(sgd["sampler"], sgd["sampler_seed"], sgd["batch_size"], n) if sgd else None

    ball_sgd = ({"method": "sgd", "batch_size": sgd["batch_size"], "confidence": sgd["confidence"]} if sgd
                else {})
    routes = ("ball", "run") if route == "both" else (route,)
    tried: dict[int, bool] = {}
    result = WidthResult(None, None, max_width, None, tried=tried, routes=routes, gd_steps=gd_steps,
                         run_steps=run_steps if "run" in routes else None, method=method, sgd=sgd)
    every = _widths(max_width, symmetric)
    widths = [w for w in every if w >= floor]
    result.skipped = [w for w in every if w < floor]
    if result.skipped:
        many = len(result.skipped) > 1
        result.notes.append(f"skipped width{'s' if many else ''} {', '.join(map(str, result.skipped))}: "
                            f"fewer parameters than the {n} data points (m < n, lambda_min(K) = 0)")
    if not widths:
        result.notes.insert(0, f"every width up to {max_width} has fewer parameters than the {n} data points: "
                            "raise max_width")
        return result

    def limited(width: int, message: str) -> None:
        old = result.budget_limited.get(width)
        result.budget_limited[width] = f"{old}; {message}" if old else message
        result.notes.append(f"width {width}: {message}")

    def ball_sampled(width: int) -> bool:
        tried[width] = check(problem(width), "sampled", bounds=bounds, confirm=False, **ball_sgd).certified
        return tried[width]

    if "ball" in routes:
        found = _smallest(widths, ball_sampled, step, floor)
        if found is not None:
            for w in sorted(v for v in {found, *widths} if found <= v <= max_width):
                ev = check(problem(w), rigor, bounds=bounds, **ball_sgd)
                if ev.certified:
                    result.certified_width, result.evidence = w, ev
                    break
            result.notes.append("first-certified widths need not be monotone in width at small widths "
                                "(lambda0 fluctuates): bisection reports one certified width below the first "
                                "power of 2")
        elif sgd:
            result.notes.append(f"no width up to {max_width} certifies by the SGD ball route (docs/theory.md §3)")
        else:
            result.extrapolated_width = extrapolate_width(problem(widths[-1]), bounds)
            result.notes.append(f"no width up to {max_width} certifies by the ball route; the extrapolated "
                                "width is an estimate, not a certificate")
    if "run" in routes:
        runs: dict[int, Evidence] = {}
        default = "1/(s max_i K_ii(w0))" if sgd else "1/lambda_max(K(w0))"

        def run_certifies(width: int) -> bool:
            ev, fraction = _run_route(problem(width), run_steps, rigor, batches())
            runs[width] = ev
            if ev.hints["stop"] == "max_steps":
                limited(width, f"run route: the terminal ball had not closed after {run_steps} steps: "
                               "raise run_steps")
            if ev.certified and fraction != 1:
                result.notes.append(f"width {width}: the run route certified {method.upper()} with step "
                                    f"{ev.hints['step']:.4g} = {fraction} x {default}; at that default step the "
                                    "error amplification outgrew every terminal ball")
            return ev.certified

        result.run_width = _smallest(widths, run_certifies, step, floor)
        result.run_evidence = runs.get(result.run_width) if result.run_width else None
    if empirical:
        for w in widths:
            result.empirical_runs[w] = run = empirical_run(problem(w), gd_target, gd_steps, sampler=batches())
            if run.stop == "budget":
                limited(w, run.describe())
            elif run.stop in ("stalled", "diverged"):
                result.notes.append(f"width {w}: {run.describe()}")
            if run.converged:
                result.empirical_width = w
                break
    return result


def extrapolate_width(problem: Problem, bounds: str = "tight", limit_log2: int = 400) -> float | None:
    """Width at which the ball route would close if lambda0, ||DF(w0)||, ||r0|| stayed at their values here
    and only s = m^{-1/2} and ||v0||_inf ~ sqrt(2 ln 2m) moved: the two-layer bounds' own extrapolation
    (``extrapolated_to_width``, an estimate, docs/theory.md §8) at m = 2^k."""
    model: TwoLayer = problem.model
    c = centre(problem, RigorLevel.SAMPLED)
    bb = model.ball_bounds(problem.w0, bounds)
    for k in range(int(math.log2(model.width)) + 1, limit_log2):
        m = 2.0**k
        if search_radius(c, bb.extrapolated_to_width(m), None)[0] is not None:  # type: ignore[attr-defined]
            return m
    return None
