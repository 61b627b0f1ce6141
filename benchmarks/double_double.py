"""Cost of double-double (docs/rigor.md §9): one dd GD step against one float64 step, and the whole dd run
route against a plain numpy float64 GD loop of the same number of steps.

Run: ``OPENBLAS_NUM_THREADS=1 python -m benchmarks.double_double``. Both sides of each ratio are timed in the
same process, interleaved, best of several runs.
"""

from __future__ import annotations

import time

import numpy as np

from plproof import Problem, TwoLayer, certify_run
from plproof.data import unit_inputs, uniform_targets
from plproof.routes.trajectory.recipe import Buffers, gd_step, make_net
from plproof.verify.dd_step import dd_step


def interleaved(fns: list, repeat: int) -> list[float]:
    """Best-of-``repeat`` wall clock of each function, the functions run in turn (same machine load)."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def step_costs(shapes: tuple[tuple[int, int, int], ...] = ((20, 5, 512), (100, 10, 1024))) -> None:
    """One dd_step against one float64 gd_step (the run route's recipe) at random data."""
    print("   n   d      m   float64 step   dd step    ratio")
    for n, d, m in shapes:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n, d)) / np.sqrt(d)
        y = rng.uniform(-0.5, 0.5, n)
        model = TwoLayer(X, m, "tanh", 0, init="standard")
        net = make_net(model, y, 1.0)
        w0 = Problem(model, y).w0
        buf = Buffers(net, w0)
        W, v = buf.W[0].copy(), buf.v[0].copy()
        Wl, vl = np.zeros_like(W), np.zeros_like(v)
        t_f, t_d = interleaved([lambda: gd_step(net, buf, 0, 0.1), lambda: dd_step(X, y, 0.1, W, Wl, v, vl)],
                               repeat=7 if m < 1000 else 4)
        print(f"{n:4d} {d:3d} {m:6d}   {1e3 * t_f:9.3f} ms  {1e3 * t_d:7.1f} ms  {t_d / t_f:6.0f}x")


def numpy_gd(X: np.ndarray, y: np.ndarray, W: np.ndarray, v: np.ndarray, eta: float, T: int) -> None:
    """T plain float64 GD steps (the baseline of the issue)."""
    s = 1 / np.sqrt(W.shape[0])
    W, v = W.copy(), v.copy()
    for _ in range(T):
        A = np.tanh(X @ W.T)
        r = s * (A @ v) - y
        gv = s * (A.T @ r)
        gW = s * ((1 - A * A) * r[:, None] * v).T @ X
        W -= eta * gW
        v -= eta * gv


def run_cost(width: int = 16, repeat: int = 2) -> None:
    """certify_run(precision='double-double') on case C seed 2 against numpy_gd for its T steps."""
    X, y = unit_inputs(20, 5, 2), uniform_targets(20, 0.5, 2)
    problem = Problem(TwoLayer(X, width, "tanh", 2, init="standard"), y)
    ev = certify_run(problem, max_steps=400_000, precision="double-double")
    T, eta = ev.hints["T"], ev.hints["step"]
    m, d = width, X.shape[1]
    W, v = problem.w0[: m * d].reshape(m, d), problem.w0[m * d:]
    t_run, t_np = interleaved([lambda: certify_run(problem, max_steps=400_000, precision="double-double"),
                               lambda: numpy_gd(X, y, W, v, eta, T)], repeat=repeat)
    print(f"case C seed 2, width {width}: {ev.verdict.value}, T = {T}; dd run route {t_run:.2f} s, "
          f"numpy GD loop {t_np:.3f} s, ratio {t_run / t_np:.1f}x")


def main() -> None:
    step_costs()
    run_cost()


if __name__ == "__main__":
    main()
