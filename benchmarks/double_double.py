"""Cost of double-double (docs/rigor.md §9): one dd GD step (the verifier's numpy dd_step, and the producer's numba
kernels of it when numba is installed, §9.7) against one float64 step, the whole dd run route, and certify_run's
default (float64, then double-double only where float64 amplified, §9.8) where float64 cannot certify, against a
plain numpy float64 GD loop of the same number of steps.

Run: ``OPENBLAS_NUM_THREADS=1 python -m benchmarks.double_double [--before PATH]``. Every ratio is timed in one
process, its sides interleaved, best of several runs. With ``--before PATH`` (a checkout of an older plproof,
e.g. ``git worktree add /tmp/before 5fe4355``) the older dd code is timed in the same process too, interleaved
with the current one, and each row shows both.
"""

from __future__ import annotations

import importlib
import sys
import time
from types import ModuleType
from typing import Callable

import numpy as np

import plproof
from plproof.data import unit_inputs, uniform_targets
from plproof.routes.trajectory import fused
from plproof.routes.trajectory.recipe import Buffers, gd_step, make_net
from plproof.verify.dd_step import dd_step

from benchmarks.run_certificate import numpy_loop


class Tree:
    """The plproof package of a checkout, imported beside the current one; :meth:`call` runs a function with that
    checkout's modules in ``sys.modules`` (so lazy imports inside it resolve there too)."""

    def __init__(self, root: str | None) -> None:
        if root is None:
            self.pkg, self.modules, self.dd_step = plproof, None, dd_step
            return
        saved = _pop_plproof()
        sys.path.insert(0, root)
        try:
            self.pkg = importlib.import_module("plproof")
            self.dd_step = importlib.import_module("plproof.verify.dd_step").dd_step
            importlib.import_module("plproof.routes.trajectory")
        finally:
            sys.path.remove(root)
            self.modules = _pop_plproof()
            sys.modules.update(saved)

    def call(self, fn: Callable[[], object]) -> object:
        if self.modules is None:
            return fn()
        saved = _pop_plproof()
        sys.modules.update(self.modules)
        try:
            return fn()
        finally:
            _pop_plproof()
            sys.modules.update(saved)


def _pop_plproof() -> dict[str, ModuleType]:
    return {k: sys.modules.pop(k) for k in list(sys.modules) if k == "plproof" or k.startswith("plproof.")}


def interleaved(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """Best-of-``repeat`` wall clock of each function, the functions run in turn (same machine load)."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def step_costs(trees: dict[str, Tree], shapes: tuple[tuple[int, int, int], ...] = ((20, 5, 512), (100, 10, 1024),
                                                                                      (20, 5, 16), (12, 4, 4))) -> None:
    """One dd_step of each tree, and the producer's numba dd step ("kernels", when numba is installed), against one
    float64 gd_step (the run route's recipe), same random data."""
    fast = fused.kernels("dd_kernels")
    steppers = {k: t.dd_step for k, t in trees.items()} | ({"kernels": fast.dd_step} if fast else {})
    print("   n   d      m   float64 step  " + "  ".join(f"dd step {k:>7} (ratio)" for k in steppers))
    for n, d, m in shapes:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n, d)) / np.sqrt(d)
        y = rng.uniform(-0.5, 0.5, n)
        model = plproof.TwoLayer(X, m, "tanh", 0, init="standard")
        net = make_net(model, y, 1.0)
        buf = Buffers(net, plproof.Problem(model, y).w0)
        W, v = buf.W[0].copy(), buf.v[0].copy()
        Wl, vl = np.zeros_like(W), np.zeros_like(v)
        steps = [lambda f=f: f(X, y, 0.1, W, Wl, v, vl) for f in steppers.values()]
        t_f, *t_d = interleaved([lambda: gd_step(net, buf, 0, 0.1)] + steps,
                                repeat=30 if m < 100 else 9 if m < 1000 else 6)
        print(f"{n:4d} {d:3d} {m:6d}   {1e3 * t_f:9.3f} ms  "
              + "  ".join(f"{1e3 * t:11.3f} ms ({t / t_f:4.1f}x)" for t in t_d))


def run_cost(trees: dict[str, Tree], width: int = 16, repeat: int = 3) -> None:
    """certify_run(precision='double-double') of each tree on case C seed 2 against a numpy loop (benchmarks.run_certificate.numpy_loop) for its T steps."""
    X, y = unit_inputs(20, 5, 2), uniform_targets(20, 0.5, 2)
    runs = []
    for name, t in trees.items():
        problem = t.call(lambda: t.pkg.Problem(t.pkg.TwoLayer(X, width, "tanh", 2, init="standard"), y))
        run = (lambda t=t, problem=problem: t.call(lambda: t.pkg.certify_run(problem, max_steps=400_000,
                                                                             precision="double-double")))
        ev = run()
        print(f"case C seed 2, width {width} ({name}): {ev.verdict.value}, T = {ev.hints['T']}")
        runs.append(run)
    T, eta = ev.hints["T"], ev.hints["step"]
    W, v = problem.w0[: width * X.shape[1]].reshape(width, X.shape[1]), problem.w0[width * X.shape[1]:]
    t_np, *t_run = interleaved([lambda: numpy_loop(X, y, W, v, eta, T)] + runs, repeat=repeat)
    print(f"numpy GD loop, {T} steps: {t_np:.3f} s; "
          + "; ".join(f"dd run route ({k}) {t:.2f} s = {t / t_np:.0f}x" for k, t in zip(trees, t_run)))


def auto_cost(trees: dict[str, Tree], repeat: int = 2) -> None:
    """Where float64 cannot certify (n = 12, d = 4, seed 5, width 4, targets +-0.5; float64 stops with e^24):
    certify_run's default precision="auto" (the float64 attempt, then double-double up to the switch step and float64
    after, docs/rigor.md §9.8) and precision="double-double" (throughout) of each tree, against a numpy loop of the
    same T."""
    X, y = unit_inputs(12, 4, 5), uniform_targets(12, 0.5, 5)
    runs, evs = {}, {}
    for name, t in trees.items():
        problem = t.call(lambda: t.pkg.Problem(t.pkg.TwoLayer(X, 4, "tanh", 5, init="standard"), y))
        for p in ("auto", "double-double"):
            runs[p, name] = lambda t=t, p=p, problem=problem: t.call(lambda: t.pkg.certify_run(problem, precision=p))
            ev = evs[p, name] = runs[p, name]()
            print(f"n=12 d=4 seed 5 width 4, precision={p} ({name}): {ev.verdict.value}, T = {ev.hints['T']}, "
                  f"double-double up to step {ev.hints['float_from'] or ev.hints['T']}")
    T, eta = evs["auto", "now"].hints["T"], evs["auto", "now"].hints["step"]
    W, v = problem.w0[: 4 * 4].reshape(4, 4), problem.w0[4 * 4:]
    t_np, *t_run = interleaved([lambda: numpy_loop(X, y, W, v, eta, T)] + list(runs.values()), repeat=repeat)
    print(f"numpy GD loop, {T} steps: {t_np:.3f} s; "
          + "; ".join(f"certify_run({p}, {k}) {t:.2f} s = {t / t_np:.0f}x" for (p, k), t in zip(runs, t_run)))


def main(argv: list[str]) -> None:
    trees = {"before": Tree(argv[argv.index("--before") + 1])} if "--before" in argv else {}
    trees["now"] = Tree(None)
    step_costs(trees)
    run_cost(trees)
    auto_cost(trees)


if __name__ == "__main__":
    main(sys.argv[1:])
