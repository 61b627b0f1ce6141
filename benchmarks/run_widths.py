"""Smallest width per route beside the width at which GD converges (issue "width search that is honest about GD").

Run: ``python -m benchmarks.run_widths`` (every row, long) or ``python -m benchmarks.run_widths --quick``
(the A-D rows for seed 2026 and the n = 50 rows); ``--rows REGEX`` keeps the rows whose label matches. Columns: the smallest certified width by the ball route
(docs/theory.md §11, widths up to 2^10) and by the run route (§12, T6, up to ``--max-log2``), the smallest
power-of-2 width at which float64 GD reaches loss 1e-20 within 4e5 steps, and the ratios. A width marked
``*`` was stopped by a step budget somewhere in its search (``WidthResult.budget_limited``, listed below
the table); ``-`` means none up to the limit.

``--sgd`` instead prints, for each row and batch sizes 1, 4 and n/2, the smallest width at which the run route certifies a
seeded SGD run (sampler ``iid``, seed 0, default step 1/(s max_i K_ii(w0)), docs/theory.md §12.6) beside the smallest
power-of-2 width at which that same seeded run reaches loss 1e-20 in float64 within the step budget.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from plproof import min_certified_width
from plproof.data import uniform_targets, unit_inputs
from plproof.routes.width import STEPS, WidthResult

REAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "real"
#: reference cases: (n, d, target scale, init)
REFERENCE = {"A": (20, 64, 0.01, "symmetric"), "B": (20, 64, 0.1, "symmetric"), "C": (20, 5, 0.5, "standard"),
             "D": (16, 48, 0.02, "symmetric")}
BALL_MAX_LOG2 = 10


def real(name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first n rows of tests/data/real/<name>.npz (tests/data/real/README.md)."""
    with np.load(REAL / f"{name}.npz") as f:
        return f["X"][:n], f["y"][:n]


def rows(quick: bool) -> Iterator[tuple[str, np.ndarray, np.ndarray, str, int]]:
    """(label, X, y, init, seed) of every row of the table."""
    for seed in (2026,) if quick else (2026, 1, 2):
        for case, (n, d, scale, init) in REFERENCE.items():
            yield f"{case} seed {seed}", unit_inputs(n, d, seed), uniform_targets(n, scale, seed), init, seed
    for n in (50,) if quick else (50, 100, 200):
        for d in (10, 64):
            yield f"unit +-0.1 n={n} d={d}", unit_inputs(n, d, 2026), uniform_targets(n, 0.1, 2026), "symmetric", 2026
    for n in (50,) if quick else (50, 100):
        for name in ("wine", "diabetes", "breast_cancer"):
            yield (f"{name} n={n}", *real(name, n), "symmetric", 2026)


def measure(X: np.ndarray, y: np.ndarray, init: str, seed: int, max_log2: int,
            steps: int) -> tuple[WidthResult, WidthResult]:
    """The ball route (up to 2^BALL_MAX_LOG2, no GD) and the run route with the GD check (up to 2^max_log2)."""
    ball = min_certified_width(X, y, seed=seed, init=init, max_width=2**min(max_log2, BALL_MAX_LOG2),
                               route="ball", empirical=False)
    run = min_certified_width(X, y, seed=seed, init=init, max_width=2**max_log2, route="run",
                              gd_steps=steps, run_steps=steps)
    return ball, run


def sgd_rows(label: str, X: np.ndarray, y: np.ndarray, init: str, seed: int, max_log2: int, steps: int) -> None:
    """Print the SGD table's lines of one data row: batch sizes 1, 4 and n/2, the run route against the same
    seeded SGD run."""
    for s in sorted({1, min(4, X.shape[0]), X.shape[0] // 2}):
        t0 = time.perf_counter()
        r = min_certified_width(X, y, seed=seed, init=init, max_width=2**max_log2, route="run", method="sgd",
                                batch_size=s, gd_steps=steps, run_steps=steps)
        star = "*" if r.budget_limited else ""
        ratio = f"{r.run_ratio:.3g}" if r.run_ratio else "-"
        print(f"| {label} | {X.shape[0]} | {X.shape[1]} | {s} | {r.run_width or '-'}{star} | "
              f"{r.empirical_width or '-'} | {ratio} | {time.perf_counter() - t0:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="A-D for seed 2026 and the n = 50 rows only")
    parser.add_argument("--max-log2", type=int, default=12, help="largest width 2^k for the run route and GD")
    parser.add_argument("--steps", type=int, default=STEPS, help="step budget of the run route and of GD")
    parser.add_argument("--sgd", action="store_true", help="seeded SGD runs at batch sizes 1, 4, n/2 instead of GD")
    parser.add_argument("--rows", default="", help="only the rows whose label matches this regular expression, e.g. 'seed 2$'")
    args = parser.parse_args()
    if args.sgd:
        print(f"| data | n | d | batch size | run route | SGD (1e-20, {args.steps} steps) | run/SGD | time (s) |")
        print("|---|---|---|---|---|---|---|---|")
        for label, X, y, init, seed in rows(args.quick):
            if re.search(args.rows, label):
                sgd_rows(label, X, y, init, seed, args.max_log2, args.steps)
        return
    print(f"| data | n | d | ball route | run route | GD (1e-20, {args.steps} steps) | run/GD | ball/GD | time (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    limited: list[str] = []
    for label, X, y, init, seed in rows(args.quick):
        if not re.search(args.rows, label):
            continue
        t0 = time.perf_counter()
        ball, run = measure(X, y, init, seed, args.max_log2, args.steps)

        def cell(w: int | None, by_gd: bool) -> str:
            """The width, starred if a budget of that search (run route or GD) stopped some width."""
            hit = any((not part.startswith("run route")) == by_gd for msg in run.budget_limited.values() for part in msg.split("; "))
            return f"{w if w is not None else '-'}{'*' if hit else ''}"

        ratio = lambda w: f"{w / run.empirical_width:.3g}" if w and run.empirical_width else "-"  # noqa: E731
        print(f"| {label} | {X.shape[0]} | {X.shape[1]} | {ball.certified_width or '-'} | "
              f"{cell(run.run_width, False)} | {cell(run.empirical_width, True)} | {ratio(run.run_width)} | "
              f"{ratio(ball.certified_width)} | {time.perf_counter() - t0:.0f} |", flush=True)
        limited += [f"{label}, width {w}: {msg}" for w, msg in sorted(run.budget_limited.items())]
    for line in limited:
        print(f"* {line}")


if __name__ == "__main__":
    main()
