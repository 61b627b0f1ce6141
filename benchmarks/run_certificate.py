"""Cost of the run certificate (docs/theory.md §12) against a plain numpy GD loop, and the widths it reaches.

Run: ``python -m benchmarks.run_certificate [--cases N] [--before PATH]`` (cost ratios, measured in this run; with
``--before`` an older checkout's producer and verifier interleaved with this one's) and
``python -m benchmarks.run_certificate widths`` (issue 4's reference case: the smallest width at which
GD reaches loss 1e-20, at which the run route certifies, and at which the ball route certifies).

Per case, measured in one process, interleaved, best of ``repeat`` (CPU seconds of this process):

* numpy loop: :func:`numpy_gd`, the float64 GD loop a user would write, for the certified T steps;
* certify_run: the producer (the float run, every rho_t and l_t, anchors, terminal attempts, evidence);
* certificate: :func:`~plproof.certificate.build.run_certificate` given that evidence, i.e. the independent
  verifier's re-run of all T steps with its own bounds, and the terminal ball in exact rationals.
"""

from __future__ import annotations

import importlib
import sys
import time
from types import ModuleType
from typing import Callable

import numpy as np

import plproof
from plproof import Problem, min_certified_width
from plproof.data import unit_inputs, uniform_targets


def numpy_gd(problem: Problem, eta: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` float64 GD steps on L = ||s A v - y||^2/2, A = tanh(X W^T), as a user writes them."""
    model = problem.model
    m, d = model.width, model.X.shape[1]
    return numpy_loop(model.X, problem.y, problem.w0[: m * d].reshape(m, d), problem.w0[m * d:], eta, steps)


def numpy_loop(X: np.ndarray, y: np.ndarray, W: np.ndarray, v: np.ndarray, eta: float,
               steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The loop of :func:`numpy_gd` on arrays (copies of W, v are updated)."""
    W, v, s = W.copy(), v.copy(), 1.0 / np.sqrt(W.shape[0])
    for _ in range(steps):
        A = np.tanh(X @ W.T)
        r = s * (A @ v) - y
        gv = s * (A.T @ r)
        gW = s * ((1 - A * A) * r[:, None] * v).T @ X
        W -= eta * gW
        v -= eta * gv
    return W, v


def _net(n: int, d: int, m: int, scale: float, seed: int, init: str, pkg: ModuleType = plproof) -> Problem:
    return pkg.Problem(pkg.TwoLayer(unit_inputs(n, d, seed), m, "tanh", seed, init=init),
                       uniform_targets(n, scale, seed))


#: (name, arguments of _net): unit inputs, uniform targets, two-layer tanh nets
CASES: tuple[tuple[str, tuple], ...] = (
    ("n=20 d=64 m=4 (issue 4, seed 2026)", (20, 64, 4, 0.1, 2026, "symmetric")),
    ("n=20 d=5 m=128 (+-0.5, seed 2026)", (20, 5, 128, 0.5, 2026, "standard")),
    ("n=100 d=10 m=1024 (+-0.1, seed 2026)", (100, 10, 1024, 0.1, 2026, "symmetric")),
    ("n=200 d=10 m=1024 (+-0.1, seed 2026)", (200, 10, 1024, 0.1, 2026, "symmetric")),
    ("C: n=20 d=5 m=64 (+-0.5, seed 2)", (20, 5, 64, 0.5, 2, "standard")),
)


def _cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def cost(repeat: int = 3, cases: tuple[tuple[str, tuple], ...] = CASES, before: str | None = None) -> dict:
    """numpy loop, certify_run and the certificate's verifier pass for the certified T, interleaved, best of
    ``repeat`` each (more where the numpy loop takes under 0.1 s: up to 20, about 0.3 s of numpy loops), with the
    ratios to the numpy loop. With ``before`` (a checkout of an older plproof, e.g.
    ``git archive <commit> plproof | tar -x -C /path``) its certify_run and verifier are timed in the same process
    too, interleaved, each on its own certificate (ratios to the numpy loop of this tree's T). Returns the largest
    ratios of this tree: {"ratio": certify_run (the producer, issue 15's cost), "verifier": the re-check on writing,
    "total": both}."""
    from benchmarks.double_double import Tree  # (double_double imports this module)

    trees = {"": Tree(None), **({" (before)": Tree(before)} if before else {})}
    worst = {"ratio": 0.0, "verifier": 0.0, "total": 0.0}
    print("case                                    T   verdict    numpy (s)  certify_run (s)  ratio  "
          "certificate (s)  ratio")
    for name, args in cases:
        problems = {k: t.call(lambda t=t: _net(*args, pkg=t.pkg)) for k, t in trees.items()}
        evs = {k: t.call(lambda t=t, k=k: t.pkg.certify_run(problems[k])) for k, t in trees.items()}
        T, eta = evs[""].hints["T"], evs[""].hints["step"]
        plain, prod, cert = np.inf, dict.fromkeys(trees, np.inf), dict.fromkeys(trees, np.inf)
        once = _cpu(lambda: numpy_gd(problems[""], eta, T))  # small cases: more repetitions, against timer noise
        for _ in range(max(repeat, min(20, int(0.3 / max(once, 1e-9))))):
            plain = min(plain, _cpu(lambda: numpy_gd(problems[""], eta, T)))
            for k, t in trees.items():
                build = t.call(lambda: importlib.import_module("plproof.certificate.build"))
                prod[k] = min(prod[k], _cpu(lambda: t.call(lambda: t.pkg.certify_run(problems[k]))))
                cert[k] = min(cert[k], _cpu(lambda: t.call(lambda: build.run_certificate(evs[k], problems[k]))))
        for k in trees:
            print(f"{name + k:38s} {evs[k].hints['T']:5d}  {evs[k].verdict.value:9s}  {plain:9.3f}  {prod[k]:15.3f}  "
                  f"{prod[k] / plain:5.1f}x  {cert[k]:15.3f}  {cert[k] / plain:5.1f}x", flush=True)
        for key, value in (("ratio", prod[""]), ("verifier", cert[""]), ("total", prod[""] + cert[""])):
            worst[key] = max(worst[key], value / plain)
    return worst


def widths(seeds: tuple[int, ...] = (2026, 1, 2, 3), max_log2: int = 12) -> None:
    """Smallest width at which GD reaches 1e-20, the run route certifies, and the ball route certifies."""
    print("seed  GD->1e-20  run route  ball route (T1-T4)")
    for seed in seeds:
        r = min_certified_width(unit_inputs(20, 64, seed), uniform_targets(20, 0.1, seed), seed=seed,
                                init="symmetric", max_width=2**max_log2, route="both")
        print(f"{seed:4d}  {r.empirical_width!s:>9}  {r.run_width!s:>9}  {r.certified_width!s:>10}")


def main() -> dict:
    """The cost ratios of the first two cases (``repeat=1``: short cases still repeat, see :func:`cost`; the full table:
    ``cost()``)."""
    return cost(repeat=1, cases=CASES[:2])


if __name__ == "__main__":
    if sys.argv[1:] == ["widths"]:
        widths()
    else:  # [--before PATH] [--cases N]: the first N cases (default all)
        argv = sys.argv[1:]
        count = int(argv[argv.index("--cases") + 1]) if "--cases" in argv else len(CASES)
        cost(cases=CASES[:count], before=argv[argv.index("--before") + 1] if "--before" in argv else None)
