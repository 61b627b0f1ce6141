"""Cost of a verified lambda_min lower bound against float64 peers, measured in one run (not a timed test).

Run: ``python benchmarks/lambda_min.py``. Prints best-of-k wall times and ratios (docs/rigor.md §1).
"""

from __future__ import annotations

import time
from typing import Callable

import mpmath
import numpy as np

from plproof.numeric.verified import kernel_enclosure, lambda_min_lower


def best_times(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best-of-``repeat`` wall times, the candidates interleaved so machine load hits them alike."""
    best = {name: float("inf") for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def wide_kernel(n: int = 200, m: int = 100_000, repeat: int = 5) -> None:
    J = np.random.default_rng(0).standard_normal((n, m))

    def float_peer() -> None:
        np.linalg.eigvalsh(J @ J.T)

    def verified() -> None:
        ker = kernel_enclosure(J)
        lambda_min_lower(ker.K, ker.err, method="float", psd=True)

    t = best_times({"float": float_peer, "verified": verified}, repeat)
    t_float, t_ver = t["float"], t["verified"]
    ker = kernel_enclosure(J)
    enc = lambda_min_lower(ker.K, ker.err, method="float", psd=True)
    est = float(np.linalg.eigvalsh(ker.K)[0])
    print(f"n={n}, m={m}: float J@J.T + eigvalsh {t_float * 1e3:.1f} ms, verified bound {t_ver * 1e3:.1f} ms, "
          f"ratio {t_ver / t_float:.3f} (goal <= 1.3); lo={float(enc.lo):.12g}, rel. gap to estimate "
          f"{(est - float(enc.lo)) / est:.1e}")


def eigen_part(sizes: tuple[int, ...] = (20, 50, 100, 200), mp_max: int = 50) -> None:
    print(f"\n{'n':>4} {'eigvalsh ms':>12} {'verified/eig':>13} {'arb/eig':>9} {'mpmath30/eig':>13} "
          f"{'float rel gap':>14} {'arb rel gap':>12}")
    for n in sizes:
        J = np.random.default_rng(n).standard_normal((n, 2 * n))
        K = kernel_enclosure(J).K
        t = best_times({"eig": lambda: np.linalg.eigvalsh(K), "ver": lambda: lambda_min_lower(K, method="float")}, 50)
        t_eig, t_ver = t["eig"], t["ver"]
        t_arb = best_times({"arb": lambda: lambda_min_lower(K, method="arb")}, 2)["arb"]
        est = float(np.linalg.eigvalsh(K)[0])
        gap_f = (est - float(lambda_min_lower(K, method="float").lo)) / est
        gap_a = (est - float(lambda_min_lower(K, method="arb").lo)) / est
        if n <= mp_max:
            with mpmath.workdps(30):
                M = mpmath.matrix(K.tolist())
                t_mp = best_times({"mp": lambda: mpmath.eigsy(M, eigvals_only=True)}, 1)["mp"]
            mp_col = f"{t_mp / t_eig:13.0f}"
        else:
            mp_col = f"{'skipped':>13}"
        print(f"{n:4d} {t_eig * 1e3:12.3f} {t_ver / t_eig:13.2f} {t_arb / t_eig:9.0f} {mp_col} {gap_f:14.1e} {gap_a:12.1e}")
    print(f"(mpmath eigsy at 30 digits skipped above n={mp_max}: it takes minutes there; "
          "rel gap = (float estimate - lower bound) / estimate; goal for verified/eig at n=200: ~1.2)")


if __name__ == "__main__":
    wide_kernel()
    eigen_part()
