"""certify_run: the a-posteriori trajectory certificate T6 of a concrete GD run (docs/theory.md §12).

GD runs in float64 by a fixed recipe (:mod:`.recipe`). Each step t bounds the float defect
rho_t >= ||G(w~_t) - w~_{t+1}||, G(w) = w - eta grad L(w), and the contraction l_t >= sup ||I - eta Hess L||
over the tube B(w~_t, e_t) (:mod:`.error_bounds`); e_{t+1} = l_t e_t + rho_t bounds ||w_t - w~_t|| for the
exact iterates w_t (§12.1 (i)). When the residual is small, the terminal ball B(w~_T, R_T) is checked
with T1-T3 centred at w~_T and T4 (:mod:`.terminal`, §12.1 (ii)): exact GD then converges to a global
minimiser. The derivation of every constant is in docs/rigor.md §5. Where float64's amplified errors stop
the run, ``precision="auto"`` runs it again in double-double (:mod:`.double_double`, docs/rigor.md §9.7).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plproof.errors import InvalidInput, NotCertifiable
from plproof.evidence import Evidence, Hypothesis, Status, Verdict
from plproof.models import MLP, Linear, Network, TwoLayer
from plproof.models.base import closed_form_obstacle
from plproof.models.sympy_model import SympyModel
from plproof.numeric import floatbounds as fb
from plproof.numeric.rigor import Enclosure, RigorLevel
from plproof.numeric.scalars import INTERVALS
from plproof.problem import Problem
from plproof.routes.trajectory.generic import RECIPE as GENERIC_RECIPE
from plproof.routes.trajectory.generic import MidRadGD
from plproof.routes.trajectory.graph import graph_obstacle
from plproof.routes.trajectory import fused
from plproof.routes.trajectory.double_double import TwoLayerDD
from plproof.routes.trajectory.recipe import BLOCK, COVER, Anchor, Recipe
from plproof.routes.trajectory.sampler import Sampler
from plproof.routes.trajectory.terminal import Terminal
from plproof.routes.trajectory.two_layer import TwoLayerFloat
from plproof.verify.exact import ACTIVATION_BOUNDS
from plproof.verify.window import Window

CLAIM = ("exact GD from w0 with step eta converges to a global minimiser w* (F(w*) = y), within R_T of the "
         "computed iterate w~_T, with L(w_t) <= rate^(t-T) rho_bar^2/2 for every t >= T")
CLAIM_SYMBOLS = ("||w_T - w~_T|| <= e_T;  mu_T-PL* on B(w~_T, R_T);  R_T - e_T > rho_bar/(sqrt(mu_T) c_T)  =>  "
                 "w_t -> w*, F(w*) = y, ||w* - w~_T|| <= R_T, L(w_t) <= (1 - 2 c_T eta mu_T)^(t-T) rho_bar^2/2")
REFERENCES = ["docs/theory.md §12.1", "docs/theory.md §12.2", "docs/theory.md §12.3", "docs/theory.md §11.5"]
CLAIM_SGD = ("the exact SGD iterates w_(t+1) = w_t - eta sum_(i in B_t) grad l_i(w_t) from w0, with the batches B_t of "
             "the seeded sampler, satisfy ||w_T - w~_T|| <= e_T; a global minimiser w* (F(w*) = y) lies within R_T "
             "of the computed iterate w~_T, and exact GD from w_T with step eta_c converges to it, with "
             "L(w_t) <= rate^(t-T) rho_bar^2/2")
CLAIM_SYMBOLS_SGD = ("||w_T - w~_T|| <= e_T (w_t exact SGD with the sampler's B_t);  mu_T-PL* of L on B(w~_T, R_T);  "
                     "R_T - e_T > rho_bar/(sqrt(mu_T) c_T), c_T = 1 - beta_T eta_c/2  =>  exists w*: F(w*) = y, "
                     "||w* - w~_T|| <= R_T; GD from w_T with eta_c -> w*")
#: a terminal ball is tried with TERMINAL_SLACK e_t in place of e_t, so that the re-check, whose own bounds give
#: a slightly different e_T, still closes it (docs/rigor.md §5.5); a power of 2, so the product is exact
TERMINAL_SLACK = 2.0
#: attempts at tube radii e_hat_j >= e_j within a block before giving up
TUBE_TRIES = 12
#: re-anchor the Jacobian bound when the T1 drift exceeds this fraction of ||DF(anchor)||
ANCHOR_DRIFT = 0.05
#: windows of step Jacobians (docs/rigor.md §10, windows) are formed from the block at which the step-by-step
#: log-amplification reaches this: before it they cannot gain much and cost a P x P x P product per step
WINDOWS_AFTER = 1.0
#: after T6 closes at T, an SGD run asked for §3's continuation goes on to at most CONTINUE_FACTOR T (+ a block)
#: for its ball to fit (measured: 5 T on the n = 12 test net at confidence 0.95)
CONTINUE_FACTOR = 10
#: a coarse run (docs/rigor.md §10 item 6) stops for the sharp one where TERMINAL_SLACK e_t reaches COARSE_ROOM of the
#: largest terminal radius: beyond, the eigen-bounds could decide the outcome, and the sharp run starts over from w0
COARSE_ROOM = 1e-3
#: the stop of a coarse run where its l_t could change the outcome
REFINE = "refine"


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
    trace: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    windows_from: int | None = None
    amplified: list[tuple[int, float]] = field(default_factory=list)  # (step, log-amplification up to it)

    def traced(self, points: int = 200) -> dict:
        """For the report, an observation of the producer (not re-checked), at about ``points`` steps before T each:
        the full residual ||r(w~_t)|| (GD: at every step, the recipe's upper bound; SGD: a float64 value at block
        starts) at ``residual_steps``, and the tube radius e_t at steps 0, e_every, 2 e_every, ..."""
        if not self.trace:
            return {"residual_steps": [], "residual": [], "e_every": 1, "e": []}
        steps, res, e = (np.concatenate(parts) for parts in zip(*self.trace))
        keep = steps < self.steps
        steps, res, e = steps[keep], res[keep], e[: self.steps]
        r_every, e_every = max(1, len(res) // points), max(1, len(e) // points)
        return {"residual_steps": steps[::r_every].tolist(), "residual": res[::r_every].tolist(),
                "e_every": e_every, "e": e[::e_every].tolist()}


def _checkpoint(rec: RunRecord, t: int, w: np.ndarray, e: float) -> None:
    rec.checkpoint_steps.append(t)
    rec.checkpoints.append(w)
    rec.radii.append(e)


def _radii(ell: np.ndarray, rho: np.ndarray, e0: float) -> np.ndarray:
    """e_0 = e0, e_{j+1} = up(up(l_j e_j) + rho_j) (docs/theory.md §12.1)."""
    out = np.empty(ell.size + 1)
    out[0] = e = e0
    nxt = math.nextafter
    for j, (lj, rj) in enumerate(zip(ell.tolist(), rho.tolist())):
        e = nxt(nxt(lj * e, math.inf) + rj, math.inf)
        out[j + 1] = e
    return out


def _run(recipe: Recipe, eta: float, max_steps: int, checkpoint_every: int) -> RunRecord:
    """The certified run (docs/theory.md §12.1): e_{t+1} = l_t e_t + rho_t, terminal attempts as r shrinks.

    Steps run in blocks (docs/rigor.md §5.2, §5.4); l_t is evaluated on tube radii e_hat_t >= e_t
    (l is increasing in e), and ||DF|| <= J_a + kappa_a (path length since the anchor w~_a + e_hat_t):
    T1 centred at the anchor, whose ||DF(w~_a)|| is enclosed from the kernel (docs/theory.md §12.2).
    Terminal attempts and anchors are at block starts; a terminal ball is tried with TERMINAL_SLACK e_t.
    An anchor with a finite radius R_a (its bounds hold on B(w~_a, R_a) only) is renewed before
    path + 2 e reaches R_a, blocks end there, and a tube with path + e_hat > R_a stops the run.
    """
    rec = RunRecord()
    fallback: RunRecord | None = None  # a closed T6 whose SGD continuation (docs/theory.md §12.6) did not hold yet
    give_up = 0  # ... and the step after which the run stops trying
    e = path = 0.0
    anchor: Anchor | None = None
    last_attempt = R_max = math.inf
    t, ell_prev = 0, 0.0
    window: Window | None = None  # the open window of step Jacobians (docs/rigor.md §10, windows)
    last_step = 0.0  # the previous block's longest step: predicts where the T1 drift ends this block
    while True:
        k = min(BLOCK, max_steps - t)
        if anchor is not None and k > 1 and last_step > 0:  # run no steps that the drift rule below would discard
            lim = min(ANCHOR_DRIFT * float(anchor.jac.hi) / anchor.kappa if anchor.kappa > 0 else math.inf,
                      anchor.radius - 2 * e)
            start = (0.0 if anchor.kappa * path > ANCHOR_DRIFT * float(anchor.jac.hi) or path + 2 * e >= anchor.radius
                     else path)  # the path after the re-anchor rule below (e enters only through a finite radius)
            fit = max(lim - start, 0.0) / (last_step * COVER)  # inf for a subnormal last step
            if fit < k:  # (a renewed anchor starts at path 0; its drift is taken as the current one's)
                k = max(1, int(fit) + 1)
        block = recipe.run(max(k, 1), eta)
        if block.jump:  # slot 0 moved (a change of arithmetic, docs/rigor.md §9.8): e_t bounds the distance to it
            e = math.nextafter(e + block.jump, math.inf)
        if not block.finite:
            rec.steps, rec.stop = t, "diverged"
            return fallback or rec
        res_hi = float(block.residual[0]) if block.progress is None else block.progress
        attempt = res_hi <= 0.5 * last_attempt or k == 0
        if (attempt or anchor is None or block.jump or anchor.kappa * path > ANCHOR_DRIFT * float(anchor.jac.hi)
                or path + 2 * e >= anchor.radius):
            anchor, path = recipe.anchor(block, 0), 0.0
            rec.anchors += 1
            if attempt:
                last_attempt = res_hi
                term, R_max = _attempt(recipe, block, anchor, TERMINAL_SLACK * e, eta)
                if term is REFINE:  # the sharp run's smaller e_t might close it here
                    rec.steps, rec.stop = t, REFINE
                    return rec
                if term is not None:
                    rec.attempts += 1
                    rec.terminal = term
                    if term.closes:
                        closed = dataclasses.replace(rec, checkpoint_steps=[*rec.checkpoint_steps, t],
                                                     checkpoints=[*rec.checkpoints, recipe.iterate(0)],
                                                     radii=[*rec.radii, e], steps=t, stop="closed",
                                                     trace=[*rec.trace])
                        if term.sgd is None or term.sgd.holds or (fallback is not None and t > give_up):
                            return closed
                        if fallback is None:  # go on while the residual shrinks, so that §3's ball fits
                            give_up = CONTINUE_FACTOR * t + BLOCK
                        fallback = closed
        limit = COARSE_ROOM * R_max if recipe.coarse else R_max  # the largest TERMINAL_SLACK e_t the run goes on with
        if not math.isfinite(e) or TERMINAL_SLACK * e >= limit:
            # R_max = 0: the kernel's float estimate of lambda_min is <= 0, a singular kernel, not amplification
            rec.steps, rec.e_final = t, e
            rec.stop = "singular" if R_max == 0 else REFINE if recipe.coarse else "amplification"
            return fallback or rec
        if k == 0:
            _checkpoint(rec, t, recipe.iterate(0), e)
            rec.steps, rec.stop = t, "max_steps"
            return fallback or rec
        k = block.done
        J_a, kap_a = float(anchor.jac.hi), anchor.kappa
        # distances to the anchor; the block ends where the T1 drift would pass ANCHOR_DRIFT (re-anchor there)
        paths = path + np.concatenate([[0.0], np.cumsum(block.step)[:-1]]) * COVER
        far = np.nonzero((kap_a * paths[1:] > ANCHOR_DRIFT * J_a) | (paths[1:] + 2 * e >= anchor.radius))[0]
        if far.size:
            k = int(far[0]) + 1
            paths, block = paths[:k], recipe.shorten(block, k, eta)
        # tube radii e_hat_j >= e_j (l_j is increasing in e): twice the radii that the previous block's largest l
        # predicts (none: l on the bare iterates), then confirm
        e_hat = 2 * _radii(np.full(k, ell_prev), block.rho[:k], e)[:-1] if ell_prev else np.zeros(k)
        for _ in range(TUBE_TRIES):
            LF = np.nextafter(J_a + kap_a * (paths + e_hat) * COVER, np.inf)
            ell = recipe.contraction(block, k, eta, e_hat, LF, anchor)
            radii = _radii(ell, block.rho[:k], e)
            if (radii[:-1] <= e_hat).all():
                break
            e_hat = np.maximum(e_hat, 2 * radii[:-1])
            if not TERMINAL_SLACK * e_hat.max() < limit:  # the tube outgrows every terminal ball
                break
        else:
            e_hat = np.full(k, math.inf)
        if not (TERMINAL_SLACK * e_hat.max() < limit and (paths + e_hat <= anchor.radius).all()):
            rec.steps, rec.stop, rec.e_final = t, REFINE if recipe.coarse else "amplification", float(e_hat.max())
            return fallback or rec
        amplified = float(np.log(ell).sum())
        if rec.windows_from is None and rec.log_amplification + amplified >= WINDOWS_AFTER:
            rec.windows_from = t  # windows from this block on (the verifier's hint: the same start)
        factors = None if rec.windows_from is None else recipe.step_jacobians(k, eta, e_hat)
        if factors is None:
            window = None
        else:  # a window across blocks: products of step Jacobians in place of products of norms (§10, windows)
            window = window or Window(e)
            window.extend(factors, ell, block.rho[:k])
            if window.closable:
                e_win, c = window.close()
                radii[k] = min(radii[k], e_win)
                if window.full:  # the reported amplification: the window's ||Phi|| where it is below prod l
                    amplified += min(0.0, math.log(max(c, 1e-300)) - window.log_steps)
                    window = None
        for j in range(k):
            if (t + j) % checkpoint_every == 0:
                _checkpoint(rec, t + j, recipe.iterate(j), float(radii[j]))
        rec.log_amplification += amplified
        rec.amplified.append((t + k, rec.log_amplification))
        full = block.progress is None  # GD: the full residual at every step; SGD: at the block start only
        rec.trace.append((np.arange(t, t + k) if full else np.array([t]),
                          np.array(block.residual[:k] if full else [block.progress], dtype=np.float64),
                          radii[:k].copy()))
        ell_prev, last_step = float(ell.max()), float(block.step[:k].max())
        rec.max_rho = max(rec.max_rho, float(block.rho[:k].max()))
        e = float(radii[k])
        path = fb.up(float(paths[-1]) + float(block.step[k - 1]) * COVER)
        t += k
        recipe.restart(k)


def _attempt(recipe: Recipe, block: Any, anchor: Anchor, E: float, eta: float) -> tuple[Any, float]:
    """The terminal attempt at the block's start with shadowing radius E: (ball or None, R_max) from the recipe. A
    coarse recipe tries radius 0 first: a ball that does not close there closes at no radius (its margin
    R - e - rho_bar/(sqrt(mu) c) decreases in e), whatever l_t gave e, so that attempt stands for the one at E and
    gives no ball (a ball at e = 0 would report e_T = 0, which bounds nothing); where it closes but the ball at E
    does not, REFINE (docs/rigor.md §10 item 6)."""
    if not recipe.coarse:
        return recipe.terminal(block, 0, anchor, E, eta)
    term, R_max = recipe.terminal(block, 0, anchor, 0.0, eta)
    if E == 0:
        return term, R_max
    if term is None or not term.closes:
        return None, R_max
    term, R_max = recipe.terminal(block, 0, anchor, E, eta)
    return (term, R_max) if term is not None and term.closes else (REFINE, R_max)


def default_step(problem: Problem) -> float:
    """eta = 1/lambda_max(K(w0)) (float estimate): the step the run route certifies by default."""
    return float(1.0 / np.linalg.eigvalsh(problem.kernel())[-1])


def run_obstacle(problem: Problem) -> str | None:
    """Why the run route cannot take this problem (None: it can): it needs a built-in family's closed forms, or a
    SymPy model's, and verified ball bounds."""
    model = problem.model
    why = None
    if isinstance(model, Network) and model.ball_rigor < RigorLevel.VERIFIED:
        why = (f"a layer graph's bounds over a ball are {model.ball_rigor.label} estimates ({model.ball_obstacle}, "
               "docs/rigor.md §2.7) and T6 needs verified ones: check(problem, rigor='sampled') checks it by sampling")
    elif not (isinstance(model, (Linear, TwoLayer, MLP, Network)) or type(model) is SympyModel):
        why = (f"{type(model).__name__} has no closed forms the midpoint-radius step evaluates "
               "(Linear, TwoLayer, RandomFeatures, MLP, Network and SympyModel have)")
    elif (reason := closed_form_obstacle(model)) is not None:
        why = reason
    elif isinstance(model, Network) and (reason := graph_obstacle(model)) is not None:
        why = reason
    elif type(model) is SympyModel and model.is_smooth and model.interval_obstacle:
        why = f"{model.interval_obstacle}, so its GD step cannot be enclosed (docs/rigor.md §10)"
    elif not model.is_smooth:
        what = "F" if type(model) is SympyModel else f"activation {model.activation.name!r}"
        why = f"{what} is not C^2, so no Hessian bound over a ball exists (docs/theory.md §9)"
    elif isinstance(model, (TwoLayer, MLP)) and model.activation.name not in ACTIVATION_BOUNDS:
        why = (f"activation {model.activation.name!r} has no constants S1-S3 proved in the independent verifier "
               f"(plproof.verify.exact.ACTIVATION_BOUNDS: {', '.join(ACTIVATION_BOUNDS)}), so its run certificate "
               "could not be re-checked")
    if why:
        return f"not certifiable by the run route: {why}"
    if problem.y.dtype != np.float64 or problem.w0.dtype != np.float64:
        return "the run route runs in float64: give y and w0 as float arrays"
    return problem.obstruction()


#: the recipes certify_run can run, by its ``precision`` argument
PRECISIONS = {c.precision: c for c in (TwoLayerFloat, TwoLayerDD)}


def takes_double_double(problem: Problem) -> bool:
    """A two-layer tanh net with train='both': the model whose recipe also runs in double-double (§9.7)."""
    model = problem.model
    return type(model) is TwoLayer and model.activation.name == "tanh" and model.train == "both"


def make_recipe(problem: Problem, precision: str = "float64", sampler: Sampler | None = None,
                confidence: float | None = None, coarse: bool = False) -> Recipe:
    """The two-layer float (or double-double) recipe for two-layer tanh nets with train='both', whose one-sided
    l_t per neuron is sharpest (``coarse``: the float recipe's first pass, docs/rigor.md §10 item 6); the
    midpoint-radius recipe (:class:`~.generic.MidRadGD`, docs/rigor.md §10) for every other model, in float64 only.
    Seeded SGD (``sampler``, docs/theory.md §12.6) runs the midpoint-radius recipe on each step's batch rows, for
    every model with data rows."""
    model = problem.model
    if sampler is not None:
        if precision != "float64":
            raise NotCertifiable(f"precision {precision!r}: SGD runs are certified in float64 only (the "
                                 "midpoint-radius recipe, docs/rigor.md §10): use precision='float64' or 'auto'")
        return MidRadGD(model, problem.y, problem.w0, sampler, confidence)
    if takes_double_double(problem):
        if precision == "float64":
            return TwoLayerFloat(model, problem.y, problem.w0, coarse)
        return PRECISIONS[precision](model, problem.y, problem.w0)
    if precision != "float64":
        raise NotCertifiable(f"precision {precision!r} is implemented for two-layer tanh nets with train='both' only "
                             "(docs/rigor.md §9.7): use precision='float64' or 'auto'")
    return MidRadGD(model, problem.y, problem.w0)


def default_sgd_step(problem: Problem, batch_size: int = 1) -> float:
    """eta = 1/(s max_i ||grad f_i(w0)||^2) = 1/(s max_i K_ii(w0)) (float estimate), the step an SGD run with
    batches of s is certified at by default (docs/theory.md §12.6): s max_i K_ii >= tr K_B(w0) >= lambda_max of
    every batch's kernel, so eta ||DF_B(w0)||^2 <= 1 (for s = 1 the per-example smoothness scale at w0). At
    1/max_i K_ii a batch of s > 1 often has eta lambda_max(K_B) > 2: each step expands some direction, and the
    contraction bound l_t of T6 cannot stay near 1 (docs/theory.md §12.6)."""
    return float(1.0 / (batch_size * np.max(np.diag(problem.kernel()))))


METHODS = ("gd", "sgd")


def _sampler(problem: Problem, method: str, batch_size: Any, seed: Any, sampler: str) -> Sampler | None:
    """The SGD sampler, or None for GD; InvalidInput for SGD arguments given to GD or a missing batch size."""
    if method not in METHODS:
        raise InvalidInput(f"unknown method {method!r}: use 'gd' or 'sgd'")
    if method == "gd":
        given = [name for name, v, default in (("batch_size", batch_size, None), ("seed", seed, None),
                                               ("sampler", sampler, "iid")) if v != default]
        if given:
            raise InvalidInput(f"{', '.join(given)} apply to method='sgd' only")
        return None
    if batch_size is None:
        raise InvalidInput("method='sgd' needs batch_size (an integer in [1, n])")
    if not isinstance(problem.model, (Linear, TwoLayer, MLP)):  # the families whose F, DF come from rows of X
        raise NotCertifiable(f"not certifiable by the run route: SGD runs on models whose F and DF it evaluates on a "
                             f"batch of the rows of X (Linear, TwoLayer, RandomFeatures, MLP), not on a "
                             f"{type(problem.model).__name__}; use method='gd'")
    return Sampler(sampler, 0 if seed is None else seed, batch_size, problem.model.n_outputs)


def certify_run(problem: Problem, step: float | None = None, max_steps: int = 200_000,
                rigor: "str | RigorLevel" = "verified", checkpoint_every: int = 100,
                precision: str = "auto", method: str = "gd", batch_size: int | None = None,
                seed: int | None = None, sampler: str = "iid", confidence: float | None = None) -> Evidence:
    """Certify that exact GD from w0 with step eta converges to a global minimiser (docs/theory.md §12, T6).

    Runs GD by a fixed recipe, bounds ||w_t - w~_t|| <= e_t, and tries the terminal ball whenever the
    residual has halved. A two-layer tanh net's float64 run goes first with l_t without its eigen-bounds, and again
    with them where they could change the outcome (docs/rigor.md §10 item 6: the same verdicts and T).
    ``precision``: "float64" (:func:`gd_step`), "double-double" (:class:`TwoLayerDD`, about 80x a float step,
    docs/rigor.md §9.7), or "auto": float64, and when its error amplification prod l_t outgrows every terminal ball
    (docs/theory.md §12.5), the same run again from w0 in double-double.

    ``method="sgd"`` certifies the seeded mini-batch run w_{t+1} = w_t - eta sum_{i in B_t} grad l_i(w_t) instead
    (docs/theory.md §12.6): batches of ``batch_size`` drawn by ``sampler`` ("iid" or "epochs",
    :mod:`.sampler`) from ``seed`` (default 0); the default step is 1/(s max_i ||grad f_i(w0)||^2)
    (:func:`default_sgd_step`); float64 only. With ``confidence`` = 1 - delta the run goes on after T6 closes until
    §3's theorem from w_T is also proved on a ball around w~_T (SGD continued with fresh i.i.d. batches converges with
    probability >= 1 - delta); where it never fits, the certificate is T6's alone.
    """
    level = RigorLevel.parse(rigor)
    if level > RigorLevel.VERIFIED:  # a lower requested level is met by the verified result
        raise InvalidInput(f"the run route gives rigor verified at most (float bounds with stated assumptions), "
                           f"got {level.label!r}")
    if step is not None and not (isinstance(step, (int, float)) and math.isfinite(step) and step > 0):
        raise InvalidInput(f"the step size must be a positive finite number, got {step!r}")
    for name, val in (("max_steps", max_steps), ("checkpoint_every", checkpoint_every)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
            raise InvalidInput(f"{name} must be a positive integer, got {val!r}")
    if precision not in ("auto", *PRECISIONS):
        raise InvalidInput(f"precision must be 'auto', 'float64' or 'double-double', got {precision!r}")
    batches = _sampler(problem, method, batch_size, seed, sampler)
    if confidence is not None and (batches is None or isinstance(confidence, bool) or not isinstance(
            confidence, (int, float)) or not 0 < confidence < 1):
        raise InvalidInput(f"confidence applies to method='sgd' and must be a number in (0, 1), got {confidence!r}")
    why = run_obstacle(problem)
    if why:
        raise NotCertifiable(why)
    if step is not None:
        eta = float(step)
    else:
        eta = default_step(problem) if batches is None else default_sgd_step(problem, batches.batch_size)
    recipe = make_recipe(problem, "float64" if precision == "auto" else precision, batches,
                         None if confidence is None else float(confidence), coarse=True)
    rec = _run(recipe, eta, int(max_steps), int(checkpoint_every))
    if rec.stop == REFINE:  # the coarse l_t could change the outcome: the sharp run from w0 (docs/rigor.md §10 item 6)
        recipe = make_recipe(problem, "float64")
        rec = _run(recipe, eta, int(max_steps), int(checkpoint_every))
    if precision == "auto" and rec.stop == "amplification" and type(recipe) is TwoLayerFloat:
        # float64 ran out: the same run in double-double where float64 amplified most, then float64 (§9.8) ...
        recipe = TwoLayerDD(problem.model, problem.y, problem.w0, switch_at=switch_step(rec))
        rec = _run(recipe, eta, int(max_steps), int(checkpoint_every))
        if recipe.float_from is not None and rec.stop == "amplification":  # ... or in double-double throughout
            recipe = make_recipe(problem, "double-double")
            rec = _run(recipe, eta, int(max_steps), int(checkpoint_every))
    return _evidence(problem, eta, rec, int(checkpoint_every), recipe, batches)


#: a double-double run goes on in float64 where float64's predicted radius from there is SWITCH_ROOM of the terminal
#: radius that stopped it, over SWITCH_STEPS times the steps it ran (docs/rigor.md §9.8)
SWITCH_ROOM = 1e-2
SWITCH_STEPS = 4


def switch_step(rec: RunRecord) -> int:
    """Where a double-double run can go on in float64, from the float64 run ``rec`` that stopped with amplification
    at step t_f (docs/rigor.md §9.8): float64 defects rho <= max_rho over N = SWITCH_STEPS t_f steps, amplified by
    e^A, stay below SWITCH_ROOM R_max (R_max ~ TERMINAL_SLACK e_f, the terminal radius the run outgrew) when A <=
    A_f = log(SWITCH_ROOM R_max / (max_rho N)). The float64 run's own log-amplification L(t) shows where it
    amplified: the first block end t with L(t_f) - L(t) <= A_f / 2 (the other half for what comes after t_f).
    A heuristic that decides where double-double ends, never whether a bound holds."""
    budget = math.log(max(SWITCH_ROOM * TERMINAL_SLACK * rec.e_final, 1e-300)
                      / max(rec.max_rho * SWITCH_STEPS * rec.steps, 1e-300))
    total = rec.log_amplification
    return next((t for t, L in rec.amplified if total - L <= budget / 2), rec.steps)


# ---------------------------------------------------------------- evidence
def _enc(S_value: Any, assumptions: tuple[str, ...], what: str = "both") -> Enclosure:
    lo, hi = INTERVALS.lo(S_value), INTERVALS.hi(S_value)
    if what == "upper":
        lo = min(0.0, hi)
    return Enclosure(lo, hi, RigorLevel.VERIFIED, assumptions)


def _hyp(name: str, statement: str, margin: Any, ref: str, assumptions: tuple[str, ...]) -> Hypothesis:
    return Hypothesis.from_margin(name, statement, _enc(margin, assumptions), ref, strict=True)


def _continuation(term: Terminal, sampler: Sampler, q: dict, hints: dict, hyps: list, A: tuple[str, ...]) -> str:
    """The conclusion on SGD continued past T (docs/theory.md §12.6): §3 from w_T where its ball was proved (its
    quantities, hint and hypothesis added), else that it is not covered."""
    sgd = term.sgd
    if sgd is None or not sgd.holds:
        why = "" if sgd is None else f" (§3's ball around w~_T did not fit at confidence {sgd.confidence!r})"
        return f"SGD continued past T with fresh batches is not covered by this certificate{why}"
    st = sgd.state
    q.update({"R_S": Enclosure(sgd.R, sgd.R, RigorLevel.EXACT), "mu_S": _enc(st["mu"], A),
              "beta_S": _enc(st["beta"], A, "upper"), "eta_S": _enc(st["eta"], A), "k_S": _enc(st["k"], A)})
    hints.update(R_S=sgd.R, confidence=sgd.confidence)
    hyps.append(_hyp("R_S - e_T >= 2 n rho sqrt(beta_S)/(mu_S delta)",
                     "§3's ball from w_T, radius 2 n sqrt(2 beta_S L(w_T))/(mu_S delta), fits in B(w~_T, R_S)",
                     st["margin"], "docs/theory.md §12.6", A))
    return (f"with probability >= {sgd.confidence!r}, SGD continued from w_T with fresh i.i.d. uniform batches of "
            f"{sampler.batch_size} and any step eta <= {INTERVALS.lo(st['eta']):.6g} converges to a global minimiser "
            f"within {sgd.R:.4g} of w~_T, with E[L(w_(T+t)) 1{{w_T..w_(T+t) in the ball}}] <= (1 - {INTERVALS.lo(st['k']):.6g} eta)^t L(w_T) "
            "(docs/theory.md §3)")


def _evidence(problem: Problem, eta: float, rec: RunRecord, every: int, recipe: Recipe,
              sampler: Sampler | None = None) -> Evidence:
    term = rec.terminal
    V, A, prec = RigorLevel.VERIFIED, tuple(recipe.assumptions), recipe.precision
    x = rec.log_amplification  # the sum of log l_t, covered both ways: windows can make it negative (§10)
    log_amp = (0.0, fb.up(x * COVER)) if x >= 0 else (fb.down(x * COVER), fb.up(x / COVER))
    q: dict[str, Enclosure] = {
        "step": Enclosure(eta, eta, RigorLevel.EXACT),
        "T": Enclosure(rec.steps, rec.steps, RigorLevel.EXACT),
        "log_amplification": Enclosure(*log_amp, V, A),
        "max_rho": Enclosure(0.0, rec.max_rho, V, A),
    }
    generic = recipe.name == GENERIC_RECIPE
    hyps = [Hypothesis(f"float recipe {recipe.name!r}",
                       "the midpoint-radius enclosures of docs/rigor.md §10 apply" if generic else
                       "the float error model of docs/theory.md §12.3 applies (two-layer tanh, train='both')",
                       Status.HELD, reference="docs/rigor.md §10" if generic else "docs/theory.md §12.3")]
    X_norm = getattr(getattr(recipe.bounds, "c", None), "X_norm", None)
    hints: dict[str, Any] = {"recipe": recipe.name, "step": eta, "T": rec.steps, "checkpoint_every": every,
                             **({"X_norm": X_norm} if X_norm is not None else {}), "bounds": recipe.bounds.bound_set,
                             "checkpoint_steps": list(rec.checkpoint_steps), "terminal_slack": TERMINAL_SLACK,
                             "anchors": rec.anchors, "terminal_attempts": rec.attempts, "stop": rec.stop,
                             "checkpoints": np.array(rec.checkpoints), "radii": np.array(rec.radii),
                             "trace": rec.traced(), "windows_from": rec.windows_from,
                             "float_from": getattr(recipe, "float_from", None)}
    if sampler is not None:
        hints.update(method="sgd", sampler=sampler.algorithm, seed=sampler.seed, batch_size=sampler.batch_size)
    if term is not None:
        s = term.state
        q.update({"e_T": Enclosure(0.0, term.e, V, A), "R_T": Enclosure(term.R, term.R, RigorLevel.EXACT),
                  "lambda_T": term.lam, "jacobian_norm_T": term.jac,
                  "residual_norm_T": Enclosure(0.0, term.res_hi, V, A),
                  "mu_T": Enclosure(min(INTERVALS.lo(s["mu"]), float(term.lam.hi)), float(term.lam.hi), V, A),
                  "L_F_T": _enc(s["L_F"], A, "upper"), "beta_T": _enc(s["beta"], A, "upper"),
                  "rho_bar": _enc(s["rho_bar"], A, "upper"), "c_T": _enc(s["c"], A), "rate": _enc(s["rate"], A, "upper")})
        hints.update({"R_T": term.R, "e_T": term.e, "lambda_T_shift": float(term.lam.lo)})
        if sampler is not None:
            q["continuation_step"] = Enclosure(term.eta, term.eta, RigorLevel.EXACT)
            hints["continuation_step"] = term.eta
        hyps += [
            _hyp("mu_T > 0", "mu_T = (sqrt(lambda_min K(w~_T)) - delta_T(R_T))_+^2 > 0", s["mu"], "docs/theory.md §11.4", A),
            _hyp("0 < beta_T eta < 2", f"c_T = 1 - beta_T {'eta' if sampler is None else 'eta_c'}/2 > 0", s["c"],
                 "docs/theory.md §11.5", A),
            _hyp("R_T - e_T > rho_bar/(sqrt(mu_T) c_T)", "the T4 radius from the exact w_T fits in B(w~_T, R_T)",
                 s["margin"], "docs/theory.md §12.1", A),
        ]
    certified = rec.stop == "closed" and all(h.status is Status.HELD for h in hyps)
    amp = f"e^{rec.log_amplification:.1f}"
    if certified:
        switched = getattr(recipe, "float_from", None)
        reason = (f"T6 closed at step T = {rec.steps}: e_T = {term.e:.3g}, R_T = {term.R:.4g}, "
                  f"mu_T >= {q['mu_T'].lo:.4g}, amplification {amp}"
                  + (f" (double-double up to step {switched}, float64 after)" if switched is not None else ""))
        rate = f"L(w_t) <= {q['rate'].hi:.9g}^(t - {rec.steps}) * {q['rho_bar'].hi ** 2 / 2:.3e} for t >= {rec.steps}"
        if sampler is None:
            conclusions = [f"||w_T - w~_T|| <= {term.e:.3g} for the exact GD iterate w_T (T = {rec.steps})",
                           f"exact GD with eta = {eta:.6g} converges to w* with F(w*) = y and ||w* - w~_T|| <= "
                           f"{term.R:.4g}", rate]
        else:
            conclusions = [f"||w_T - w~_T|| <= {term.e:.3g} for the exact SGD iterate w_T with eta = {eta:.6g} and "
                           f"the batches of sampler {sampler.describe()} (T = {rec.steps})",
                           f"a global minimiser w* (F(w*) = y) lies within {term.R:.4g} of w~_T",
                           f"exact GD from w_T with step eta_c = {term.eta:.6g} converges to w*: {rate}",
                           _continuation(term, sampler, q, hints, hyps, A)]
        verdict = Verdict.CERTIFIED
    else:
        conclusions = []
        verdict = Verdict.NOT_CERTIFIED
        if rec.stop == "singular":
            where = "K(w0)" if rec.steps == 0 else f"K(w~_t) at step t = {rec.steps}"
            reason = (f"lambda_min({where}) = 0 within float64 rounding: the kernel is singular (e.g. duplicate "
                      "inputs), so no terminal ball can close (docs/theory.md §12.1)")
        elif rec.stop == "amplification":
            more = ("docs/rigor.md §9.7" if prec != "float64" else
                    "precision='double-double' may close it" if takes_double_double(problem) and sampler is None else
                    "a smaller step (step=eta/2) or a wider model may close it")
            reason = (f"{prec} error amplification {amp} over {rec.steps} steps exceeds what {prec} can certify: "
                      f"e_t = {rec.e_final:.3g} outgrew every terminal ball (mu_T > 0 needs R_T < sqrt(lambda)/kappa; "
                      f"docs/theory.md §12.5; {more})")
        elif rec.stop == "diverged":
            reason = f"the {prec} {'GD' if sampler is None else 'SGD'} run diverged at step {rec.steps} (step {eta:.6g} too large?)"
        else:
            last = f"; last terminal margin {INTERVALS.hi(term.state['margin']):.3g} with e_T = {term.e:.3g}" if term else ""
            reason = f"the terminal ball did not close within max_steps = {rec.steps} (amplification {amp}){last}"
    claim, symbols = (CLAIM, CLAIM_SYMBOLS) if sampler is None else (CLAIM_SGD, CLAIM_SYMBOLS_SGD)
    slow = fused.missing() if isinstance(recipe, TwoLayerFloat) else None  # the recipes with numba kernels
    return Evidence(claim, symbols, "run", verdict, reason, problem.describe(), quantities=q,
                    hypotheses=hyps, conclusions=conclusions, hints=hints, notes=[slow] if slow else [],
                    references=list(REFERENCES))
