"""The largest verified ball check: two-layer tanh, n = 1000, d = 10, width 1e5 (n * width = 1e8), in one process.

Run: ``python -m benchmarks.largest [n width]``. Goal (issue 18): ``check(problem, "verified")`` (the centre with
its blocked kernel and error bounds, docs/rigor.md §3.1, the ball bounds, the radius search, the interval proof
and, when certified, the confirming float64 GD run) in <= 60 s on a quiet machine and <= 8 GB peak. The check runs
in a fresh subprocess, so that the peak resident memory (VmHWM) is this check's; CPU and wall seconds are the
subprocess's. Targets +-1e-4 (the case certifies, so the confirming run is included), symmetric init (F(w0) = 0).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

#: run in the subprocess: build the problem, check it, print one JSON line
_CHILD = """
import json, sys, time
from benchmarks.memory import peak_mb
from plproof import Problem, TwoLayer, check
from plproof.data import uniform_targets, unit_inputs
n, d, width = map(int, sys.argv[1:4])
problem = Problem(TwoLayer(unit_inputs(n, d, 0), width, "tanh", seed=0, init="symmetric"), uniform_targets(n, float(sys.argv[4]), 0))
rss0 = peak_mb()
cpu, wall = time.process_time(), time.perf_counter()
ev = check(problem, "verified")
steps = ev.trajectory.steps if ev.trajectory is not None else 0
print(json.dumps({"verdict": ev.verdict.value, "cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
                  "rss_mb": peak_mb(), "setup_mb": rss0,
                  "confirm_steps": steps, "lambda0": float(ev.quantities["lambda0"].lo)}))
"""


def run(n: int, d: int, width: int, scale: float) -> dict:
    """``check`` of the case in a fresh Python process: verdict, CPU and wall seconds, peak RSS in MB."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(n), str(d), str(width), repr(scale)],
                         capture_output=True, text=True, env=env)
    if out.returncode:
        raise RuntimeError(f"the check's subprocess failed (exit {out.returncode}): {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(n: int = 1000, width: int = 100_000, d: int = 10, scale: float = 1e-4) -> dict:
    start = time.perf_counter()
    res = run(n, d, width, scale)
    print(f"verified check, two-layer tanh, n={n}, d={d}, width={width}, targets +-{scale:g}: n*width = {n * width:.1e}, "
          f"m = {width * (d + 1):,} parameters")
    print(f"  verdict {res['verdict']}, lambda0 >= {res['lambda0']:.4g}, confirming run {res['confirm_steps']} steps")
    print(f"  {res['cpu']:.1f} CPU-s, {res['wall']:.1f} s wall (goal <= 60 s quiet); peak memory "
          f"{res['rss_mb'] / 1024:.2f} GB (goal <= 8 GB; {res['setup_mb'] / 1024:.2f} GB after building the problem); "
          f"subprocess {time.perf_counter() - start:.0f} s in all")
    return res


if __name__ == "__main__":
    main(*map(int, sys.argv[1:3]))
