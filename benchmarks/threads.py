"""BLAS threads on a shared machine: CPU seconds and wall time of the same work at 1 and 2 OpenBLAS threads.

Rows (each side run in turn, best of ``repeat``; the thread count set through threadpoolctl, so no
OPENBLAS_NUM_THREADS is needed or wanted):
- a plain numpy GD loop on a two-layer tanh net (n = 100, d = 10, width 1024): many small BLAS calls, between
  which OpenBLAS's idle worker spins (OPENBLAS_THREAD_TIMEOUT, 2^28 cycles by default);
- plproof ``gradient_descent`` on the same net, with its default (``PLPROOF_BLAS_THREADS`` unset: one BLAS thread
  in the step loop) and with ``PLPROOF_BLAS_THREADS=system`` while the pool has 2 threads;
- one large product J J^T (n = 200, m = 10^5), where a second thread can shorten the wall time.

Run: ``python -m benchmarks.threads``. The load average is printed beside the figures: the spinning costs CPU
when other jobs want the cores.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from benchmarks.gd_hp import in_turn
from plproof import TwoLayer
from plproof.data import uniform_targets, unit_inputs
from plproof.numeric import threads
from plproof.numeric.runners import gradient_descent
from plproof.problem import Problem


def numpy_gd(X: np.ndarray, y: np.ndarray, W: np.ndarray, v: np.ndarray, eta: float, steps: int) -> None:
    """The float64 GD loop a user writes for f(x) = m^{-1/2} v . tanh(W x), square loss."""
    s = 1 / np.sqrt(len(v))
    for _ in range(steps):
        A = np.tanh(X @ W.T)
        r = (A @ v) * s - y
        gW = ((1 - A * A) * r[:, None] * v * s).T @ X
        gv = (A.T @ r) * s
        W, v = W - eta * gW, v - eta * gv


def with_threads(n: int, fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        with threads.blas_threads(n):
            return fn()
    return run


def with_env(value: str | None, fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        saved = os.environ.get(threads.ENV)
        if value is None:
            os.environ.pop(threads.ENV, None)
        else:
            os.environ[threads.ENV] = value
        try:
            return fn()
        finally:
            if saved is None:
                os.environ.pop(threads.ENV, None)
            else:
                os.environ[threads.ENV] = saved
    return run


def main(repeat: int = 2) -> dict:
    X, y = unit_inputs(100, 10, 0), uniform_targets(100, 0.1, 0)
    model = TwoLayer(X, 1024, "tanh", seed=0)
    problem = Problem(model, y)
    J = np.random.default_rng(0).standard_normal((200, 100_000))
    rows = {
        "numpy GD loop, 100 steps": {t: with_threads(t, lambda: numpy_gd(X, y, model.W0, model.v0, 0.5, 100))
                                     for t in (1, 2)},
        "plproof gradient_descent, 30 steps": {
            1: with_env(None, lambda: gradient_descent(problem, 0.5, 30)),
            2: with_threads(2, with_env("system", lambda: gradient_descent(problem, 0.5, 30)))},
        "J @ J.T, n=200, m=1e5": {t: with_threads(t, lambda: J @ J.T) for t in (1, 2)},
    }
    print(f"  load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores; "
          "CPU and wall seconds, best of runs in turn")
    print(f"  {'work':38} {'1 thread cpu/wall':>20} {'2 threads cpu/wall':>20} {'cpu 2/1':>8} {'wall 2/1':>9}")
    out = {}
    for title, fns in rows.items():
        (c1, w1), (c2, w2) = in_turn([fns[1], fns[2]], repeat)
        print(f"  {title:38} {c1:9.3f} /{w1:8.3f} {c2:10.3f} /{w2:8.3f} {c2 / c1:8.2f} {w2 / w1:9.2f}")
        out[title] = {"cpu1": c1, "wall1": w1, "cpu2": c2, "wall2": w2}
    return out


if __name__ == "__main__":
    main()
