"""``python -m benchmarks``: every benchmark in one run, the machine described, every ratio printed.

Sections: lower bounds on lambda_min(K) (benchmarks/lambda_min.py), the two-layer tangent kernel against torch.func
(benchmarks/kernel_torch.py) and the one-step GD rate under PL (benchmarks/pep_rates.py), in this process; then the
rows of issue 18's table, each in a fresh subprocess whose peak resident memory (VmHWM) is printed
beside its time: the verified ball check against float estimates (benchmarks/check.py), the verified centre of a
depth-2 MLP against a numpy float kernel (benchmarks/check_mlp.py), the confirming GD run
against the rest of the check (benchmarks/confirm.py), GD at 30 digits against float64 (benchmarks/gd_hp.py), the
run certificate against a numpy loop (benchmarks/run_certificate.py), the largest verified check
(benchmarks/largest.py) and the kernel against jitted JAX (benchmarks/kernel.py). A peer that is not installed is
named with the command that installs it; a section that fails prints its error and the run goes on.

``--quick``: issue 18's rows only, without the largest check (about a minute). ``--skip-largest``: everything but
the largest check (n = 1000, width 1e5: about a minute and 4 GB). Subprocesses get OPENBLAS_NUM_THREADS=1 unless it
is set.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from typing import Callable

import numpy as np

from benchmarks.peers import version


def machine() -> str:
    """Cores, CPU, memory, current load, Python, numpy with its BLAS, and the peers' versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cfg = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    blas = f"{cfg.get('name', 'BLAS')} {cfg.get('version', '')}".strip()
    peers = ", ".join(f"{name} {version(dist)}" for name, dist in (
        ("mpmath", "mpmath"), ("python-flint", "python-flint"), ("torch", "torch"), ("jax", "jax"),
        ("PEPit", "pepit"), ("cvxpy", "cvxpy"), ("plproof", "plproof")))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, load average {load}, Python "
            f"{platform.python_version()}, numpy {np.__version__} with {blas}; {peers}; OPENBLAS_NUM_THREADS="
            f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")


def _peer_sections() -> list[tuple[str, Callable[[], object]]]:
    from benchmarks import kernel_torch, lambda_min, pep_rates

    return [("lower bound on lambda_min(K), wide J (plproof verified vs numpy)", lambda_min.wide_kernel),
            ("lower bound on lambda_min(K): plproof vs numpy, mpmath, python-flint, interval Cholesky",
             lambda_min.eigen_part),
            ("two-layer kernel: plproof vs torch.func", kernel_torch.main),
            ("one-step GD rate under PL: plproof (ADZ) vs PEPit", pep_rates.main)]


#: issue 18's table: (row, its goal, module whose main() prints it, what main()'s "ratio" measures)
ISSUE_18 = [
    ("verified ball check vs the same pipeline on float estimates", "<= 3x", "check", "verified / float"),
    ("verified MLP centre (depth 2) vs a numpy float kernel", "<= 3x", "check_mlp", "verified / float"),
    ("confirming GD run vs the rest of the check", "<= 1x, or budgeted", "confirm", "run / rest"),
    ("high-precision GD at 30 digits vs float64 GD", "<= 250x", "gd_hp", "30 digits / float64"),
    ("run certificate vs a plain numpy GD loop", "<= 3x", "run_certificate", "certify_run / numpy"),
    ("largest verified check in 60 s and 8 GB", "n=1000, width 1e5", "largest", ""),
    ("kernel formation vs jitted JAX, same formula", "match (<= 1x)", "kernel", "plproof / JAX"),
]


def run_row(module: str) -> tuple[dict, float, float, int]:
    """``benchmarks.<module>.main()`` in a fresh Python, its output echoed: (what main returned, wall seconds,
    peak resident memory in MB of the subprocess, or of its own subprocess where main reports a larger "rss_mb",
    exit code)."""
    code = (f"import json\nfrom benchmarks import {module}\nfrom benchmarks.memory import peak_mb\n"
            f"out = {module}.main()\nout = out if isinstance(out, dict) else {{}}\n"
            f"print('RESULT ' + json.dumps({{**out, 'peak_mb': max(peak_mb(), out.get('rss_mb', 0))}}, default=float))")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    result: dict = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
        else:
            print(f"  {line}", end="", flush=True)
    code = proc.wait()
    return result, time.perf_counter() - start, result.get("peak_mb", float("nan")), code


def _measured(module: str, what: str, res: dict) -> str:
    if module == "largest" and res:
        return f"{res['cpu']:.1f} CPU-s, {res['wall']:.1f} s wall, {res['verdict']}"
    if "ratio" not in res:
        return "printed above"
    also = f"; the verifier's re-check on writing {res['verifier']:.3g}x" if "verifier" in res else ""
    return f"{res['ratio']:.3g}x ({what}{also})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="issue 18's rows only, without the largest check")
    parser.add_argument("--skip-largest", action="store_true", help="leave out the n=1000, width 1e5 check")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    failed, summary = [], []
    start = time.perf_counter()
    for title, run in ([] if args.quick else _peer_sections()):
        print(f"\n== {title}")
        t0 = time.perf_counter()
        try:
            run()
        except Exception:  # report and go on: one broken peer must not hide the other figures
            failed.append(title)
            print(f"  FAILED:\n{traceback.format_exc()}")
        print(f"  ({time.perf_counter() - t0:.1f} s)")
    for title, goal, module, what in ISSUE_18:
        if module == "largest" and (args.quick or args.skip_largest):
            summary.append((title, goal, "skipped (--quick / --skip-largest)", "-"))
            continue
        print(f"\n== issue 18: {title} (benchmarks/{module}.py; goal {goal})", flush=True)
        res, wall, peak, code = run_row(module)
        if code:
            failed.append(title)
        print(f"  ({wall:.1f} s, peak memory {peak:.0f} MB{'' if not code else f', FAILED with exit code {code}'})")
        summary.append((title, goal, "FAILED" if code else _measured(module, what, res), f"{peak:.0f} MB"))
    print("\n== issue 18's table (ratios measured in this run)")
    print(f"  {'job':60s} {'goal':20s} {'measured':42s} peak memory")
    for title, goal, measured, peak in summary:
        print(f"  {title:60s} {goal:20s} {measured:42s} {peak}")
    print(f"\nall benchmarks: {time.perf_counter() - start:.0f} s" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
