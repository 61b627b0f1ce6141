"""The ball check of a two-layer tanh net (n = 100, d = 10, width 10,000): verified vs float estimates.

Run: ``python -m benchmarks.check``. Goal (issue 18): the verified check within 3x of the same pipeline on
float estimates (rigor ``sampled``). Both sides run ``check(problem, level, confirm=False)``: the centre
(K(w0), lambda_min, ||DF(w0)||, r0: enclosed, or float estimates), the ball bounds, the radius search and
the interval proof of the closing inequalities; not the confirming GD run, which is the same float run on
both sides (its own row of issue 18). Targets +-0.003, so that the case certifies. CPU seconds, best of
interleaved runs; set OPENBLAS_NUM_THREADS=1 for the figures of benchmarks/README.md.
"""

from __future__ import annotations

import time

from plproof import Problem, TwoLayer, check
from plproof.data import uniform_targets, unit_inputs


def main(n: int = 100, d: int = 10, width: int = 10_000, repeat: int = 5) -> dict:
    problem = Problem(TwoLayer(unit_inputs(n, d, 0), width, "tanh", seed=0, init="symmetric"),
                      uniform_targets(n, 0.003, 0))
    ev = check(problem, "verified", confirm=False)  # builds the tanh table once (about 0.2 s per process)
    best = {"sampled": float("inf"), "verified": float("inf")}
    for _ in range(repeat):
        for level in best:
            start = time.process_time()
            check(problem, level, confirm=False)
            best[level] = min(best[level], time.process_time() - start)
    print(f"ball check without the confirming run, two-layer tanh, n={n}, d={d}, width={width} (m={problem.m}): "
          f"{ev.verdict.value}")
    print(f"  float estimates (sampled)   {best['sampled']:7.3f} CPU-s   (1.00x)")
    print(f"  verified                    {best['verified']:7.3f} CPU-s   ({best['verified'] / best['sampled']:.2f}x)")
    return {"ratio": best["verified"] / best["sampled"]}


if __name__ == "__main__":
    main()
