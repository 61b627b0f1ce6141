"""``python -m benchmarks``: every benchmark in one process, the machine described, every ratio printed.

Sections: lower bounds on lambda_min(K) (benchmarks/lambda_min.py), the two-layer tangent kernel
(benchmarks/kernel.py, benchmarks/kernel_torch.py), GD at 30 digits (benchmarks/gd_hp.py), the whole
ball check (benchmarks/check.py) and the one-step GD rate under PL (benchmarks/pep_rates.py). A peer that is not installed is named with the
command that installs it; a section that fails prints its error and the run goes on.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import traceback
from typing import Callable

import numpy as np

from benchmarks import check, gd_hp, kernel, kernel_torch, lambda_min, pep_rates, run_certificate
from benchmarks.peers import version


def machine() -> str:
    """Cores, CPU, current load, Python, numpy with its BLAS, and the peers' versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    cfg = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    blas = f"{cfg.get('name', 'BLAS')} {cfg.get('version', '')}".strip()
    peers = ", ".join(f"{name} {version(dist)}" for name, dist in (
        ("mpmath", "mpmath"), ("python-flint", "python-flint"), ("torch", "torch"), ("PEPit", "pepit"),
        ("cvxpy", "cvxpy"), ("plproof", "plproof")))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cores ({cpu}), load average {load}, Python {platform.python_version()}, "
            f"numpy {np.__version__} with {blas}; {peers}")


SECTIONS: list[tuple[str, Callable[[], object]]] = [
    ("lower bound on lambda_min(K), wide J (plproof verified vs numpy)", lambda_min.wide_kernel),
    ("lower bound on lambda_min(K): plproof vs numpy, mpmath, python-flint, interval Cholesky",
     lambda_min.eigen_part),
    ("two-layer kernel: plproof structured vs J @ J.T", kernel.main),
    ("two-layer kernel: plproof vs torch.func", kernel_torch.main),
    ("high-precision GD: plproof vs a plain mpmath loop", gd_hp.main),
    ("whole ball check: verified vs float estimates", check.main),
    ("one-step GD rate under PL: plproof (ADZ) vs PEPit", pep_rates.main),
    ("run certificate (T6) vs the plain float64 GD run", run_certificate.main),
]


def main() -> int:
    print(f"machine: {machine()}")
    failed = []
    start = time.perf_counter()
    for title, run in SECTIONS:
        print(f"\n== {title}")
        t0 = time.perf_counter()
        try:
            run()
        except Exception:  # report and go on: one broken peer must not hide the other figures
            failed.append(title)
            print(f"  FAILED:\n{traceback.format_exc()}")
        print(f"  ({time.perf_counter() - t0:.1f} s)")
    print(f"\nall benchmarks: {time.perf_counter() - start:.0f} s" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
