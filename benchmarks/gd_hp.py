"""High-precision GD and lambda_min (issue 18): plproof at 30 digits against float64, measured in the same run.

Rows, CPU seconds (time.process_time), the two sides run in turn, best of ``repeat``:
- GD at 30 digits: ``gradient_descent`` under ``precision(digits=30)`` (double-double, docs/rigor.md §12) against
  ``gradient_descent`` in float64, two-layer tanh, n = 20, d = 10, width 200 (m = 2200), the same steps; the
  mpmath object-array path it replaced (``arith=MPArith(30)``) is timed on a few steps, per step.
- agreement: the final parameters of a short double-double run against mpmath at 40 digits.
- GD at 50 digits: python-flint arb arrays (``precision(digits=50)`` with python-flint installed, docs/rigor.md
  §12.9) against mpmath object arrays, per step.
- lambda_min at 30 digits: ``lambda_min_hp(K, 30)`` (numpy's eigenpair refined in double-double, docs/rigor.md
  §12.7) against numpy ``eigvalsh`` and mpmath ``eigsy`` at 30 digits, K = J J^T (J n x 2n), n = 20 and 100.

Run: ``OPENBLAS_NUM_THREADS=1 python -m benchmarks.gd_hp`` (plproof's GD loops use one BLAS thread anyway,
plproof/numeric/threads.py).
"""

from __future__ import annotations

import time
from typing import Callable

import mpmath
import numpy as np

from plproof import TwoLayer
from plproof.data import uniform_targets, unit_inputs
from plproof.numeric.arith import MPArith, precision
from plproof.numeric.linalg import lambda_min_hp
from plproof.numeric.runners import gradient_descent
from plproof.problem import Problem


def _clock(fn: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one call."""
    c, w = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c, time.perf_counter() - w


def in_turn(fns: list[Callable[[], object]], repeat: int) -> list[tuple[float, float]]:
    """Per function the least CPU and the least wall seconds over ``repeat`` rounds, each round calling the
    functions in turn (so machine load hits them alike)."""
    rounds = [[_clock(fn) for fn in fns] for _ in range(repeat)]
    return [(min(r[i][0] for r in rounds), min(r[i][1] for r in rounds)) for i in range(len(fns))]


def cpu_best(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """The CPU seconds of :func:`in_turn`."""
    return [cpu for cpu, _ in in_turn(fns, repeat)]


def gd_row(n: int = 20, d: int = 10, width: int = 200, steps: int = 100, mp_steps: int = 2,
           repeat: int = 3) -> dict:
    """GD at 30 digits (double-double) against float64 GD, same problem and steps; the mpmath path per step."""
    problem = Problem(TwoLayer(unit_inputs(n, d, 0), width, "tanh", seed=0), uniform_targets(n, 0.5, 0))

    def dd_run() -> object:
        with precision(digits=30):
            return gradient_descent(problem, 0.5, steps)

    t_float, t_dd = cpu_best([lambda: gradient_descent(problem, 0.5, steps), dd_run], repeat)
    t_mp = cpu_best([lambda: gradient_descent(problem, 0.5, mp_steps, arith=MPArith(30))], 1)[0]
    per = {"float64": t_float / steps, "double-double": t_dd / steps, "mpmath": t_mp / max(mp_steps, 1)}
    print(f"  two-layer tanh, n={n}, d={d}, width={width} (m={problem.m}), {steps} GD steps, CPU seconds:")
    print(f"    float64 gradient_descent            {t_float:8.3f} s  ({1e3 * per['float64']:.3f} ms/step)")
    print(f"    precision(digits=30): double-double  {t_dd:8.3f} s  ({1e3 * per['double-double']:.3f} ms/step)  "
          f"= {t_dd / t_float:.0f}x float64 (goal <= 250x)")
    print(f"    mpmath object arrays (MPArith(30))   {t_mp:8.3f} s for {mp_steps} steps "
          f"({1e3 * per['mpmath']:.1f} ms/step) = {per['mpmath'] / per['float64']:.0f}x float64")
    return {"float64_s": t_float, "dd_s": t_dd, "ratio": t_dd / t_float, "mpmath_per_step_ratio":
            per["mpmath"] / per["float64"]}


def above_30_row(n: int = 20, d: int = 10, width: int = 200, steps: int = 3, digits: int = 50) -> dict:
    """GD above 30 digits: python-flint arb arrays (what ``precision(digits=50)`` runs in when python-flint is
    installed) against mpmath object arrays, per step, as multiples of a float64 step."""
    problem = Problem(TwoLayer(unit_inputs(n, d, 0), width, "tanh", seed=0), uniform_targets(n, 0.5, 0))

    def flint_run() -> object:
        with precision(digits=digits):
            return gradient_descent(problem, 0.5, steps)

    t_float = cpu_best([lambda: gradient_descent(problem, 0.5, 100)], 3)[0] / 100
    t_fl, t_mp = cpu_best([flint_run, lambda: gradient_descent(problem, 0.5, steps, arith=MPArith(digits))], 1)
    print(f"  GD at {digits} digits, same net, {steps} steps: {flint_run().arithmetic} {1e3 * t_fl / steps:.0f} ms/step "
          f"({t_fl / steps / t_float:.0f}x float64), mpmath {1e3 * t_mp / steps:.0f} ms/step "
          f"({t_mp / steps / t_float:.0f}x float64)")
    return {"flint_per_step_ratio": t_fl / steps / t_float, "mpmath_per_step_ratio": t_mp / steps / t_float}


def agreement_row(n: int = 20, d: int = 10, width: int = 200, steps: int = 3) -> float:
    """max |w_dd - w_mp40| / max |w_mp40| after ``steps`` GD steps."""
    problem = Problem(TwoLayer(unit_inputs(n, d, 0), width, "tanh", seed=0), uniform_targets(n, 0.5, 0))
    with precision(digits=30):
        ours = gradient_descent(problem, 0.5, steps).w_final.to_mpf()
    ref = gradient_descent(problem, 0.5, steps, arith=MPArith(40)).w_final
    with mpmath.workdps(40):
        rel = float(max(abs(a - b) for a, b in zip(ours, ref)) / max(abs(b) for b in ref))
    print(f"  agreement after {steps} steps (same problem): max |w_dd - w_mpmath40| / max |w| = {rel:.1e}")
    return rel


def lambda_min_row(sizes: tuple[int, ...] = (20, 100), repeat: int = 3) -> list[dict]:
    """lambda_min at 30 digits: plproof (double-double refinement) vs numpy eigvalsh and mpmath eigsy."""
    rows = []
    for n in sizes:
        J = np.random.default_rng(n).standard_normal((n, 2 * n))
        K = J @ J.T
        with mpmath.workdps(30):
            M = mpmath.matrix(K.tolist())
            t_np, t_dd, t_mp = cpu_best([lambda: np.linalg.eigvalsh(K), lambda: lambda_min_hp(K, 30),
                                         lambda: mpmath.eigsy(M, eigvals_only=True)], 1 if n > 50 else repeat)
            t_np = cpu_best([lambda: np.linalg.eigvalsh(K)], 20)[0]
            ref = min(mpmath.eigsy(M, eigvals_only=True))
        lo = lambda_min_hp(K, 30).lo
        print(f"  lambda_min, n={n}: numpy eigvalsh {1e3 * t_np:.3f} ms, plproof lambda_min_hp(30) "
              f"{1e3 * t_dd:.2f} ms ({t_dd / t_np:.0f}x numpy), mpmath eigsy(30) {1e3 * t_mp:.0f} ms "
              f"({t_mp / t_dd:.0f}x plproof); |plproof - mpmath| / lambda_max = "
              f"{abs(lo - float(ref)) / float(np.linalg.eigvalsh(K)[-1]):.1e}")
        rows.append({"n": n, "numpy_s": t_np, "plproof_s": t_dd, "mpmath_s": t_mp})
    return rows


def main() -> dict:
    gd = gd_row()
    return {"ratio": gd["ratio"], "gd": gd, "agreement": agreement_row(), "above_30": above_30_row(),
            "lambda_min": lambda_min_row()}


if __name__ == "__main__":
    main()
