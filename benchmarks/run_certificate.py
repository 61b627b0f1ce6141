"""Cost of the run certificate (docs/theory.md §12) against the plain float64 GD run, and the widths it reaches.

Run: ``python benchmarks/run_certificate.py`` (cost ratio, measured in this run) and
``python benchmarks/run_certificate.py widths`` (issue 4's reference case: the smallest width at which
GD reaches loss 1e-20, at which the run route certifies, and at which the ball route certifies).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from benchmarks.timing import best_of
from plproof import Problem, TwoLayer, check
from plproof.data import unit_inputs, uniform_targets
from plproof.run import certify_run, default_step, plain_run


def reference(width: int, seed: int) -> Problem:
    """n = 20 unit inputs in d = 64, targets uniform in [-0.1, 0.1], symmetric init, tanh (issue 4)."""
    return Problem(TwoLayer(unit_inputs(20, 64, seed), width, "tanh", seed, init="symmetric"),
                   uniform_targets(20, 0.1, seed))


def cost(seeds: tuple[int, ...] = (2026, 1, 2), widths: tuple[int, ...] = (2, 8, 32, 128)) -> None:
    """Time certify_run against plain_run for the same number of steps (the certified T), same process."""
    print("width  seed      T   plain (s)  certified (s)  ratio   verdict")
    for width in widths:
        for seed in seeds:
            problem = reference(width, seed)
            ev = certify_run(problem)
            T, eta = ev.hints["T"], ev.hints["step"]
            t_cert = best_of(lambda: certify_run(problem), repeat=3)
            t_plain = best_of(lambda: plain_run(problem, eta, T), repeat=3)
            print(f"{width:5d}  {seed:4d}  {T:5d}  {t_plain:9.4f}  {t_cert:13.4f}  {t_cert / t_plain:5.2f}x  "
                  f"{ev.verdict.value}")


def gd_reaches(problem: Problem, target: float = 1e-20, max_steps: int = 200_000) -> int | None:
    """Steps float64 GD (eta = 1/lambda_max(K(w0))) needs to reach L <= target, or None (an observation)."""
    eta = default_step(problem)
    w, done, chunk = problem.w0, 0, 2000
    while done < max_steps:
        w = plain_run(Problem(problem.model, problem.y, w), eta, chunk)
        done += chunk
        loss = float(problem.loss(w))
        if loss <= target:
            return done
        if not np.isfinite(loss):
            return None
    return None


def widths(seeds: tuple[int, ...] = (2026, 1, 2, 3), max_log2: int = 12) -> None:
    """First width 2^k at which GD reaches 1e-20, the run route certifies, and the ball route certifies."""
    print("seed  GD->1e-20  run route (T, e_T, time)          ball route (check, T1-T4)")
    for seed in seeds:
        ks = range(1, max_log2 + 1)
        gd = next((2**k for k in ks if gd_reaches(reference(2**k, seed)) is not None), None)
        run_w, info = None, ""
        for k in ks:
            start = time.perf_counter()
            ev = certify_run(reference(2**k, seed))
            if ev.certified:
                run_w = 2**k
                info = (f"T={ev.hints['T']}, e_T={ev.quantities['e_T'].hi:.1e}, "
                        f"{time.perf_counter() - start:.2f}s")
                break
        ball = next((2**k for k in ks if check(reference(2**k, seed), "sampled", confirm=False).certified), None)
        if ball is not None:
            ball = ball if check(reference(ball, seed), confirm=False).certified else f">{ball} (verified failed)"
        print(f"{seed:4d}  {gd!s:>9}  {run_w!s:>5} ({info})  {ball!s:>10}")


if __name__ == "__main__":
    widths() if sys.argv[1:] == ["widths"] else cost()
