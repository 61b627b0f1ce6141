"""The confirming GD run inside ``check`` against the rest of the check, and its step against a numpy loop.

Run: ``python -m benchmarks.confirm``. Issue 18's case: two-layer tanh, n = 50, d = 10, width 10,000, targets
+-0.003 (certified). Goal: the confirming run costs at most the rest of the check, or is budgeted and said so:
its steps are ``confirm_budget`` (plproof/routes/ball.py: about 8e7 multiply-adds of n x m products, 10 to 500
steps). Also per GD step: plproof's fused float64 step (``TwoLayer.residual_and_vjp``, what the runner takes) and
the former F + vjp (features formed twice) against the numpy loop a user writes (benchmarks/run_certificate.py
``numpy_loop``). CPU seconds, best of interleaved runs; OPENBLAS_NUM_THREADS=1 for the figures of the README.
"""

from __future__ import annotations

import time
from typing import Callable

from benchmarks.run_certificate import numpy_loop
from plproof import Problem, TwoLayer, check
from plproof.data import uniform_targets, unit_inputs
from plproof.numeric.arith import FLOAT64
from plproof.routes.ball import confirm_budget, confirm_run


def _cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main(n: int = 50, d: int = 10, width: int = 10_000, repeat: int = 3, steps: int = 20) -> dict:
    problem = Problem(TwoLayer(unit_inputs(n, d, 0), width, "tanh", seed=0, init="symmetric"),
                      uniform_targets(n, 0.003, 0))
    model, y = problem.model, problem.y
    ev = check(problem, "verified", confirm=False)
    eta, rate, R = ev.hints["step"], ev.quantities["rate"].hi, ev.quantities["R"].hi
    W, v = model.split(problem.w0)

    def unfused() -> None:
        w = problem.w0
        for _ in range(steps):
            w = w - eta * model.vjp(w, model.F(w, FLOAT64) - y, FLOAT64)

    def fused() -> None:
        w = problem.w0
        for _ in range(steps):
            w = w - eta * model.residual_and_vjp(w, y)[1]

    jobs = {"rest": lambda: check(problem, "verified", confirm=False),
            "confirm": lambda: confirm_run(problem, eta, rate, R),
            "numpy": lambda: numpy_loop(model.X, y, W, v, eta, steps), "fused": fused, "unfused": unfused}
    best = {key: float("inf") for key in jobs}
    for _ in range(repeat):
        for key, job in jobs.items():
            best[key] = min(best[key], _cpu(job))
    T = confirm_budget(problem)
    print(f"two-layer tanh, n={n}, d={d}, width={width} (m={problem.m}): {ev.verdict.value}; confirming run "
          f"{T} float64 steps (confirm_budget: about 8e7 multiply-adds of n x m products, 10 to 500 steps)")
    print(f"  rest of the check (confirm=False)   {best['rest']:7.3f} CPU-s   (1.00x)")
    print(f"  confirming run                      {best['confirm']:7.3f} CPU-s   ({best['confirm'] / best['rest']:.2f}x)")
    print(f"  per GD step, {steps} steps: numpy loop {best['numpy'] / steps * 1e3:.2f} ms (1.00x), plproof fused step "
          f"{best['fused'] / steps * 1e3:.2f} ms ({best['fused'] / best['numpy']:.2f}x), F + vjp "
          f"{best['unfused'] / steps * 1e3:.2f} ms ({best['unfused'] / best['numpy']:.2f}x)")
    return {"ratio": best["confirm"] / best["rest"], "step_ratio": best["fused"] / best["numpy"]}


if __name__ == "__main__":
    main()
