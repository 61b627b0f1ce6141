"""The whole ball check of a two-layer tanh net (n = 100, d = 128, width 10,000): verified vs float estimates.

Run: ``python -m benchmarks.check``. Goal (issue 3): verified under 30 s on 2 cores and within 3x of the
same pipeline with float estimates (rigor ``sampled``), confirming GD run included in both.
"""

from __future__ import annotations

from benchmarks.timing import best_of
from plproof import Problem, TwoLayer, check
from plproof.data import uniform_targets, unit_inputs


def main(n: int = 100, d: int = 128, width: int = 10_000) -> None:
    problem = Problem(TwoLayer(unit_inputs(n, d, 0), width, "tanh", seed=0, init="symmetric"),
                      uniform_targets(n, 0.01, 0))
    times = {level: best_of(lambda level=level: check(problem, level), repeat=2) for level in ("sampled", "verified")}
    ev = check(problem, "verified")
    print(f"ball check, two-layer tanh, n={n}, d={d}, width={width} (m={problem.m}): {ev.verdict.value}")
    print(f"  float estimates (sampled)   {times['sampled']:7.2f} s   (1.00x)")
    print(f"  verified                    {times['verified']:7.2f} s   ({times['verified'] / times['sampled']:.2f}x)")


if __name__ == "__main__":
    main()
