"""Cost of the run certificate (docs/theory.md §12) against the plain float64 GD run, and the widths it reaches.

Run: ``python benchmarks/run_certificate.py`` (cost ratio, measured in this run) and
``python benchmarks/run_certificate.py widths`` (issue 4's reference case: the smallest width at which
GD reaches loss 1e-20, at which the run route certifies, and at which the ball route certifies).
"""

from __future__ import annotations

import sys

from benchmarks.timing import best_of
from plproof import Problem, TwoLayer, min_certified_width
from plproof.data import unit_inputs, uniform_targets
from plproof.routes.trajectory import certify_run, plain_run


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


def widths(seeds: tuple[int, ...] = (2026, 1, 2, 3), max_log2: int = 12) -> None:
    """Smallest width at which GD reaches 1e-20, the run route certifies, and the ball route certifies."""
    print("seed  GD->1e-20  run route  ball route (T1-T4)")
    for seed in seeds:
        r = min_certified_width(unit_inputs(20, 64, seed), uniform_targets(20, 0.1, seed), seed=seed,
                                init="symmetric", max_width=2**max_log2, route="both")
        print(f"{seed:4d}  {r.empirical_width!s:>9}  {r.run_width!s:>9}  {r.certified_width!s:>10}")


def main() -> None:
    """The cost ratio on one seed and two widths (the full table: ``cost()``)."""
    cost(seeds=(2026,), widths=(2, 8))


if __name__ == "__main__":
    widths() if sys.argv[1:] == ["widths"] else cost()
