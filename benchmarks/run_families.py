"""The run route's width against GD's for every smooth model kind (issue "every smooth model": within 4x of GD).

Run: ``python -m benchmarks.run_families [--rows REGEX] [--max-log2 K]``. For each model kind, over widths 2^k
(from the first with at least as many parameters as data points): the smallest width at which float64 GD with
eta = 1/lambda_max(K(w0)) reaches loss 1e-20 within 4e5 steps (:func:`~plproof.routes.width.empirical_run`), and
the smallest at which :func:`~plproof.certify_run` certifies (precision "auto"; at the default step, else at 1/2 and
1/4 of it, as the width search does) up to LIMIT = 4 times GD's width ("-": none there), whether that certificate
verifies, and the ratio run/GD.

Data: two-layer nets and random features on n = 6 unit inputs in R^3 with standard normal targets (the data of
tests/test_run_generic.py); MLPs on n = 3 unit inputs in R^3 with targets in +-0.001, symmetric init (tests/
test_run_models.py); the SymPy model is the two-layer tanh net on the two-layer data, written in SymPy.
"""

from __future__ import annotations

import argparse
import re
import time
from typing import Callable, Iterator

import numpy as np
import sympy as sp

from plproof.certificate.build import run_certificate
from plproof.certificate.format import seal
from plproof.data import uniform_targets, unit_inputs
from plproof.evidence import Verdict
from plproof.models import MLP, TwoLayer
from plproof.models.sympy_model import SympyModel
from plproof.models.two_layer import RandomFeatures
from plproof.problem import Problem
from plproof.routes.trajectory.certify import certify_run, default_step
from plproof.routes.width import STEPS, empirical_run
from plproof.verify import check

SMOOTH = ("tanh", "sigmoid", "softplus", "sin", "gelu")
#: the run route is tried up to LIMIT times GD's width (the issue asks for within 4x)
LIMIT = 4
FRACTIONS = (1.0, 0.5, 0.25)


def _data(n: int = 6, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1)[:, None], rng.standard_normal(n)


def _sympy_net(width: int) -> Problem:
    """The two-layer tanh net of the rows above written as a SympyModel, on the same data from the same w0:
    F_k = m^{-1/2} sum_j v_j tanh(w_j . x_k), m = width, parameters w_1..w_m (rows), then v (4 * width)."""
    X, y = _data()
    d = X.shape[1]
    W, v, x = sp.symbols(f"w1:{width * d + 1}"), sp.symbols(f"v1:{width + 1}"), sp.symbols(f"x1:{d + 1}")
    F = sum(v[j] * sp.tanh(sum(W[j * d + c] * x[c] for c in range(d))) for j in range(width)) / sp.sqrt(width)
    model = SympyModel([F], [*W, *v], inputs=list(x), data=X.tolist(), w0=Problem(TwoLayer(X, width, "tanh"), y).w0.tolist())
    return Problem(model, y)


def kinds() -> Iterator[tuple[str, Callable[[int], Problem], int]]:
    """(label, width -> problem, parameters per unit of width) of every row."""
    X, y = _data()
    for act in SMOOTH:
        for train, per in (("both", 4), ("hidden", 3), ("output", 1)):
            yield (f"two-layer {act} {train}",
                   lambda m, act=act, train=train: Problem(TwoLayer(X, m, act, train=train), y), per)
    for act in ("tanh", "sin"):
        yield f"random features {act}", lambda m, act=act: Problem(RandomFeatures(X, m, act), y), 1
    Xm, ym = unit_inputs(3, 3, seed=5), uniform_targets(3, 0.001, seed=5)
    for depth in (2, 3):
        yield (f"MLP depth {depth} tanh",
               lambda m, depth=depth: Problem(MLP(Xm, [m] * depth, "tanh", seed=5, init="symmetric"), ym), 1)
    yield "SymPy two-layer tanh", _sympy_net, 4


def gd_width(make: Callable[[int], Problem], widths: list[int]) -> int | None:
    """The first width at which float64 GD reaches 1e-20 within STEPS steps."""
    return next((m for m in widths if empirical_run(make(m), 1e-20, STEPS).converged), None)


def run_width(make: Callable[[int], Problem], widths: list[int]) -> tuple[int | None, float, bool]:
    """(first width the run route certifies, the step fraction it took, whether its certificate verifies)."""
    for m in widths:
        problem = make(m)
        for f in FRACTIONS:
            ev = certify_run(problem, step=default_step(problem) * f)
            if ev.verdict is Verdict.CERTIFIED:
                return m, f, check(seal(run_certificate(ev, problem)), None).valid
    return None, 0.0, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="", help="only the rows whose label matches this regular expression")
    parser.add_argument("--max-log2", type=int, default=10, help="largest width 2^k tried")
    args = parser.parse_args()
    print("| model | n | GD (1e-20, 4e5 steps) | run route | step | verifies | run/GD | time (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for label, make, per in kinds():
        if not re.search(args.rows, label):
            continue
        t0 = time.perf_counter()
        n = make(8).y.shape[0]
        widths = [2**k for k in range(args.max_log2 + 1) if 2**k * per >= n]
        gd = gd_width(make, widths)
        run, frac, ok = run_width(make, [m for m in widths if gd is None or m <= LIMIT * gd])
        ratio = f"{run / gd:.3g}" if run and gd else "-"
        print(f"| {label} | {n} | {gd or '-'} | {run or '-'} | {('eta' if frac == 1 else f'eta/{round(1 / frac)}') if run else '-'} | "
              f"{'yes' if ok else ('no' if run else '-')} | {ratio} | {time.perf_counter() - t0:.0f} |", flush=True)


if __name__ == "__main__":
    main()
