"""Gradient-descent and SGD runners in any arithmetic, returning the trajectory (docs/theory.md §2, §3).

GD: w_{t+1} = w_t - eta DF(w_t)^T (F(w_t) - y). SGD (sum loss, docs/theory.md §3):
w_{t+1} = w_t - eta sum_{i in B_t} grad l_i(w_t), batch indices drawn i.i.d. uniformly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from plproof.certificate.format import jsonable
from plproof.errors import InvalidInput
from plproof.numeric import arith as _arith
from plproof.numeric.arith import Arith, FlintArith, MPArith
from plproof.numeric.threads import step_loop

if TYPE_CHECKING:  # pragma: no cover
    from plproof.problem import Problem


@dataclass
class Trajectory:
    """Loss L(w_t), distance ||w_t - w0|| and optionally lambda_min(K(w_t)), for t = 0..steps."""

    arithmetic: str
    step: float
    losses: list[float] = field(default_factory=list)
    distances: list[float] = field(default_factory=list)
    lambda_mins: list[float] = field(default_factory=list)
    lambda_min_every: int = 0
    w_final: np.ndarray | None = None
    diverged: bool = False

    @property
    def steps(self) -> int:
        return len(self.losses) - 1

    @property
    def final_loss(self) -> float:
        return self.losses[-1]

    def describe(self) -> str:
        """One line: steps, arithmetic, loss from first to last, the farthest distance from w0."""
        return (f"GD run: {self.steps} steps in {self.arithmetic}, loss {self.losses[0]:.3e} -> {self.final_loss:.3e}, "
                f"max ||w_t - w0|| = {max(self.distances):.3e}")

    def to_json(self) -> dict:
        """Plain JSON data (``json.dumps`` ready): a diverged run's non-finite losses become ``"inf"``/``"nan"``;
        ``w_final`` is left out."""
        return jsonable({"arithmetic": self.arithmetic, "step": self.step, "steps": self.steps,
                         "losses": self.losses, "distances": self.distances, "lambda_mins": self.lambda_mins,
                         "lambda_min_every": self.lambda_min_every, "diverged": self.diverged})


def _check_run(step: float, steps: int) -> None:
    if not (isinstance(step, (int, float)) and np.isfinite(step) and step > 0):
        raise InvalidInput(f"the step size must be a positive finite number, got {step!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise InvalidInput(f"the number of steps must be a non-negative integer, got {steps!r}")


def _record(traj: Trajectory, problem: "Problem", w: np.ndarray, r: np.ndarray, ar: Arith, t: int,
            record_every: int) -> None:
    traj.losses.append(float((r @ r) / 2))
    traj.distances.append(float(ar.norm(w - ar.asarray(problem.w0))))
    if record_every and t % record_every == 0:
        K = ar.to_float(problem.model.kernel(w, ar))
        traj.lambda_mins.append(float(np.linalg.eigvalsh(K)[0]))


def run_namespace(problem: "Problem", arith: Arith | None) -> Arith:
    """The namespace of a GD/SGD run: ``arith`` or, if None, the one in force, as the model takes it
    (:meth:`plproof.models.base.Model.arithmetic`); where ``precision(digits=N)`` chose mpmath (N > 30) and
    python-flint is installed, python-flint arb arrays at N digits (docs/rigor.md §12.9; models that are not
    array-generic stay in mpmath)."""
    ar = arith or _arith.current()
    if arith is None and isinstance(ar, MPArith) and _arith.have_flint():
        ar = FlintArith(ar.digits)
    return problem.model.arithmetic(ar)


def _final(ar: Arith, w: Any) -> Any:
    """The final iterate for the caller: python-flint balls as mpmath numbers (their midpoints)."""
    return ar.to_mpf(w) if isinstance(ar, FlintArith) else w


def _fused_step(model: Any, ar: Arith) -> Callable[..., tuple[np.ndarray, np.ndarray]] | None:
    """The model's one-pass (residual, gradient) in float64 where the family's closed forms apply, else None."""
    if ar.name != "float64" or not model.closed_forms_apply:
        return None
    return getattr(model, "residual_and_vjp", None)


def gradient_descent(problem: "Problem", step: float, steps: int, *, arith: Arith | None = None,
                     lambda_min_every: int = 0, w0: Any = None) -> Trajectory:
    """Run ``steps`` GD steps of size ``step`` from w0; record loss, distance, optional lambda_min(K).

    In ``arith`` (default: the namespace in force), or its fallback for a model that cannot evaluate in it
    (:func:`run_namespace`): up to 30 digits double-double, above python-flint (or mpmath). BLAS runs
    with :func:`plproof.numeric.threads.step_loop`'s threads (default 1: no spinning workers between steps)."""
    _check_run(step, steps)
    model = problem.model
    ar = run_namespace(problem, arith)
    traj = Trajectory(ar.name, float(step), lambda_min_every=lambda_min_every)
    with ar.active(), step_loop():
        w = ar.asarray(problem.w0 if w0 is None else w0)
        y = ar.asarray(problem.y)
        eta = ar.asarray(step)
        fused = _fused_step(model, ar)
        for t in range(steps + 1):
            r, g = fused(w, y) if fused else (model.F(w, ar) - y, None)
            _record(traj, problem, w, r, ar, t, lambda_min_every)
            if not np.isfinite(traj.losses[-1]):
                traj.diverged = True
                break
            if t < steps:
                w = w - eta * (model.vjp(w, r, ar) if g is None else g)
        traj.w_final = _final(ar, w)
    return traj


def sgd(problem: "Problem", step: float, steps: int, batch: int = 1, seed: int = 0, *,
        arith: Arith | None = None) -> Trajectory:
    """SGD on the sum loss with ``batch`` indices drawn i.i.d. uniformly per step (docs/theory.md §3)."""
    _check_run(step, steps)
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise InvalidInput(f"batch must be an integer >= 1, got {batch!r}")
    model = problem.model
    ar = run_namespace(problem, arith)
    rng = np.random.default_rng(seed)
    traj = Trajectory(ar.name, float(step))
    with ar.active(), step_loop():
        w = ar.asarray(problem.w0)
        y = ar.asarray(problem.y)
        eta = ar.asarray(step)
        fused = _fused_step(model, ar)
        for t in range(steps + 1):
            # the batch is drawn before the step's residual so the fused step takes it; the stream is unchanged
            counts = np.bincount(rng.integers(0, problem.n, size=batch), minlength=problem.n) if t < steps else None
            if fused and counts is not None:
                r, g = fused(w, y, counts.astype(float))
            else:
                r, g = model.F(w, ar) - y, None
            _record(traj, problem, w, r, ar, t, 0)
            if not np.isfinite(traj.losses[-1]):
                traj.diverged = True
                break
            if t < steps:
                w = w - eta * (model.vjp(w, r * ar.asarray(counts.astype(float)), ar) if g is None else g)
        traj.w_final = _final(ar, w)
    return traj


@dataclass
class Ensemble:
    """Seeded SGD runs from w0 with one step and batch size, one run per seed (docs/theory.md §3): their mean loss
    estimates E[L(w_t)], their distances ||w_t - w0|| show how far runs go. An observation, not a proof."""

    batch: int
    seeds: list[int]
    runs: list[Trajectory]

    @property
    def steps(self) -> int:
        return min(r.steps for r in self.runs)

    def mean_losses(self) -> list[float]:
        """(1/K) sum_k L(w_t^(k)) for t = 0..steps over the K runs."""
        return np.mean([r.losses[: self.steps + 1] for r in self.runs], axis=0).tolist()

    def describe(self) -> str:
        """One line: how many runs, their steps, the mean loss from first to last, the farthest distance."""
        mean, far = self.mean_losses(), max(max(r.distances) for r in self.runs)
        return (f"SGD runs: {len(self.runs)} seeds, batch size {self.batch}, {self.steps} steps in "
                f"{self.runs[0].arithmetic}, mean loss {mean[0]:.3e} -> {mean[-1]:.3e}, max ||w_t - w0|| = {far:.3e}")

    def to_json(self, points: int = 100) -> dict:
        """Plain JSON data: the setting and each run's losses and distances at steps 0, every, 2 every, ... (about
        ``points`` of them; seed k's run is ``runs[k]``), and the mean loss at every step."""
        first, every = self.runs[0], max(1, self.steps // points)
        return jsonable({"method": "sgd", "arithmetic": first.arithmetic, "step": first.step, "steps": self.steps,
                         "batch_size": self.batch, "seeds": self.seeds, "sampler": "iid", "every": every,
                         "mean_losses": self.mean_losses(),
                         "runs": [{"losses": r.losses[::every], "distances": r.distances[::every],
                                   "max_distance": max(r.distances), "diverged": r.diverged} for r in self.runs]})


def sgd_ensemble(problem: "Problem", step: float, steps: int, batch: int, seeds: "list[int] | range", *,
                 arith: Arith | None = None) -> Ensemble:
    """:func:`sgd` from w0 once per seed (batches i.i.d. uniform, as the SGD theorem of docs/theory.md §3 draws)."""
    return Ensemble(int(batch), [int(k) for k in seeds],
                    [sgd(problem, step, steps, batch, int(k), arith=arith) for k in seeds])
