"""Cost of a verified lambda_min lower bound against its peers, measured in one run (not a timed test).

Peers: numpy eigvalsh (float64, unverified), mpmath eigsy at 30 digits (unverified), python-flint
acb_mat.eig (verified balls), an mpmath interval Cholesky of K - sI (verified). Run:
``python benchmarks/lambda_min.py``. Prints best-of-k wall times and ratios (docs/rigor.md §1).
"""

from __future__ import annotations

import time
from typing import Callable

import mpmath
import numpy as np

from benchmarks.peers import peer
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


def flint_eig_lower(K: np.ndarray, flint: object) -> float:
    """python-flint: rigorous balls for all eigenvalues of K (acb_mat.eig), lambda_min >= min of their lower ends."""
    eigs = flint.acb_mat(flint.arb_mat(K.tolist())).eig(multiple=True)
    return min(float(e.real.lower()) for e in eigs)


def mpmath_interval_cholesky_lower(K: np.ndarray, estimate: float, prec: int = 113) -> float | None:
    """mpmath.iv: the largest shift s in estimate * (1 - 1e-6, 1 - 1e-3, 1 - 1e-1) with K - s I passing an
    interval Cholesky (every pivot proved positive), so lambda_min(K) >= s; None if none passes."""
    iv = mpmath.iv
    saved, iv.prec = iv.prec, prec
    try:
        for rel in (1e-6, 1e-3, 1e-1):
            s = estimate * (1 - rel)
            if _interval_cholesky_ok(K, s, iv):
                return s
        return None
    finally:
        iv.prec = saved


def _interval_cholesky_ok(K: np.ndarray, s: float, iv: object) -> bool:
    n = K.shape[0]
    L = [[iv.mpf(float(K[i, j])) for j in range(i + 1)] for i in range(n)]
    shift = iv.mpf(s)
    for j in range(n):
        d = L[j][j] - shift - iv.fsum(L[j][k] ** 2 for k in range(j))
        if not d.a > 0:
            return False
        L[j][j] = iv.sqrt(d)
        for i in range(j + 1, n):
            L[i][j] = (L[i][j] - iv.fsum(L[i][k] * L[j][k] for k in range(j))) / L[j][j]
    return True


def eigen_part(sizes: tuple[int, ...] = (20, 50, 100, 200), mp_max: int = 200) -> list[dict]:
    """Per n: time and lower bound of each method on K = J J^T (J n x 2n), ratios to numpy and to plproof."""
    flint = peer("flint")
    rows = []
    for n in sizes:
        J = np.random.default_rng(n).standard_normal((n, 2 * n))
        K = kernel_enclosure(J).K
        t = best_times({"eig": lambda: np.linalg.eigvalsh(K), "ver": lambda: lambda_min_lower(K, method="float")}, 50)
        est = float(np.linalg.eigvalsh(K)[0])
        methods = {"numpy eigvalsh (unverified)": (t["eig"], est),
                   "plproof verified (float Cholesky)": (t["ver"], float(lambda_min_lower(K, method="float").lo))}
        if flint is not None:
            t_arb = best_times({"arb": lambda: lambda_min_lower(K, method="arb")}, 2)["arb"]
            methods["plproof verified (arb)"] = (t_arb, float(lambda_min_lower(K, method="arb").lo))
        if n <= mp_max:
            with mpmath.workdps(30):
                M = mpmath.matrix(K.tolist())
                t0 = time.perf_counter()
                mp_min = min(mpmath.eigsy(M, eigvals_only=True))
                methods["mpmath eigsy 30 digits (unverified)"] = (time.perf_counter() - t0, float(mp_min))
        if flint is not None:
            t0 = time.perf_counter()
            lo = flint_eig_lower(K, flint)
            methods["python-flint acb_mat.eig (verified)"] = (time.perf_counter() - t0, lo)
        t0 = time.perf_counter()
        lo_iv = mpmath_interval_cholesky_lower(K, est)
        methods["mpmath interval Cholesky (verified)"] = (time.perf_counter() - t0, lo_iv)
        base, ours = t["eig"], t["ver"]
        print(f"\n  n = {n} (K = J J^T, J {n} x {2 * n}); rel gap = (eigvalsh estimate - bound) / estimate")
        print(f"  {'method':38} {'time ms':>10} {'/eigvalsh':>10} {'/plproof':>10} {'rel gap':>9}")
        for name, (sec, lo) in methods.items():
            gap = f"{(est - lo) / est:9.1e}" if lo is not None else f"{'failed':>9}"
            print(f"  {name:38} {sec * 1e3:10.3f} {sec / base:10.3g} {sec / ours:10.3g} {gap}")
            rows.append({"n": n, "method": name, "seconds": sec, "lower": lo, "estimate": est})
        if n > mp_max:
            print(f"  (mpmath eigsy at 30 digits skipped above n = {mp_max})")
    return rows


if __name__ == "__main__":
    wide_kernel()
    eigen_part()
