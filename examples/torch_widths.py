"""Widths of the torch examples (needs torch): for each module, the ball route's verdict at rigor ``verified`` and
its time at widths 1, 2, 4, ... (channels for the CNN), beside the smallest such width at which float64 GD
(eta = 1/lambda_max(K(w0))) reaches L <= 1e-20 (plproof.routes.width.empirical_run: an observation, not a
certificate). With ``run``, the run route's verdict (T6 of that GD run, docs/rigor.md §10, layer graphs) for the
two dense modules at the data's own targets (100 times the examples', where the ball route fails at every width
tried). Run from the repository root:

    python examples/torch_widths.py [max_width] [run]
"""

import importlib.util
import sys
import time
from pathlib import Path
from typing import Callable

from plproof import Problem, RigorLevel, certify_run, check
from plproof.routes.width import empirical_run


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"plproof_example_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(label: str, problem_at: Callable[[int], Problem], widths: list[int], route: str = "ball") -> None:
    """One line per width: parameters, verdict, seconds; then the first width certified at verified and the first
    GD width."""
    certified = gd = None
    for w in widths:
        problem = problem_at(w)
        start = time.perf_counter()
        ev = check(problem, confirm=False) if route == "ball" else certify_run(problem)
        seconds = time.perf_counter() - start
        run = empirical_run(problem) if gd is None else None
        if run is not None and run.converged:
            gd = w
        if ev.certified and ev.rigor is RigorLevel.VERIFIED and certified is None:
            certified = w
        print(f"{label:>12} width {w:>5} ({problem.model.n_params:>7} parameters): {ev.verdict.value} at "
              f"{ev.rigor.label} in {seconds:.1f} s" + (f"; {run.describe()}" if run else ""))
        if route == "run":
            print(f"{'':>12} {ev.reason}")
    print(f"{label:>12}: first width certified at verified ({route} route) {certified}, first width where GD reaches "
          f"1e-20: {gd}\n")


if __name__ == "__main__":
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    widths = [2**k for k in range(top.bit_length()) if 2**k <= top]
    skip, cnn = _load("torch_bias_skip"), _load("torch_cnn")
    if "run" in sys.argv[2:]:
        for label, module in (("bias + skip", skip.BiasSkip), ("residual MLP", skip.ResidualMLP)):
            report(label, lambda w, m=module: Problem(skip.problem_at(w, m).model, skip.Y), widths, "run")
        sys.exit(0)
    report("bias + skip", skip.problem_at, widths)
    report("residual MLP", lambda w: skip.problem_at(w, skip.ResidualMLP), widths)
    report("CNN", cnn.problem_at, [w for w in widths if w <= 32])  # from 64 channels K(w0) is a float estimate
