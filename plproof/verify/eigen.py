"""Proven eigenvalue ranges of batches of small symmetric float matrices (docs/rigor.md §10, item 3).

Trusted code of the verifier, shared with the run route's producer like plproof/verify/tanh.py: numpy only. For the
computed M~ (entries exactly its floats) and ||M - M~||_F <= err, :func:`extremes` gives lo >= -lambda_min(M) and
hi >= lambda_max(M) (both >= 0) from two float Cholesky factorisations at shifts from ``eigvalsh`` (untrusted
estimates): if Cholesky of B = fl(M~ - s I) completes, L L^T = B + E with |E| <= gamma_(d+1) |L||L|^T (Higham 2002,
Thm 10.3, any order of the inner products), so lambda_min(B) >= -gamma_(d+1) ||L||_F^2 and lambda_min(M~) >= s -
gamma_(d+1) ||L||_F^2 - u max_j |B_jj| (the diagonal's rounding); lambda_max likewise from fl(s' I - M~). Assumes
IEEE binary64 and LAPACK's dpotrf within that bound (no pivot below 1e-280 is accepted). Where a factorisation does
not complete, the Rayleigh-quotient bound of any float eigenpairs (``eigh``) is used for the whole batch.
"""

from __future__ import annotations

import numpy as np

U = 2.0**-53
COVER = 1 + 1e-6  # relative cover for evaluating the non-negative error terms in float
TINY = 2.0**-1000


def _gamma(k: int) -> float:
    return float(np.nextafter(k * U / (1 - 2 * k * U), np.inf))


def extremes(M: np.ndarray, err: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) per matrix of the batch M (..., d, d): lo >= max(-lambda_min, 0), hi >= max(lambda_max, 0) of every
    symmetric matrix within Frobenius distance ``err`` (...) of M's lower triangle mirrored (what Cholesky and
    ``eigvalsh`` read); inf where M or err is not finite."""
    ok = np.isfinite(M).all(axis=(-2, -1)) & np.isfinite(err)
    if not ok.all():
        lo, hi = extremes(np.where(ok[..., None, None], M, 0.0), np.where(ok, err, 0.0))
        return np.where(ok, lo, np.inf), np.where(ok, hi, np.inf)
    d = M.shape[-1]
    lam = np.linalg.eigvalsh(M)
    diag = np.einsum("...jj->...j", M)
    room = 4 * _gamma(d + 1) * np.abs(diag).sum(axis=-1) * COVER + TINY  # the factorisation's loss, about d u tr|M|
    low = _lower(M, lam[..., 0] - room)
    high = _lower(-M, -(lam[..., -1] + room))
    if low is None or high is None:
        return _rayleigh(M, err)
    lo = np.maximum(np.nextafter(err - low, np.inf), 0.0)  # one rounding of exact floats: one ulp up covers it
    hi = np.maximum(np.nextafter(err - high, np.inf), 0.0)
    return lo, hi


def _lower(M: np.ndarray, s: np.ndarray) -> np.ndarray | None:
    """>= lambda_min(M) per matrix, proved by Cholesky of fl(M - s I) (module doc); None where one does not complete."""
    d = M.shape[-1]
    B = M.copy()
    idx = np.arange(d)
    B[..., idx, idx] -= s[..., None]
    try:
        L = np.linalg.cholesky(B)
    except np.linalg.LinAlgError:
        return None
    pivots = np.einsum("...jj->...j", L)
    if not (np.isfinite(L).all() and (pivots > 1e-280).all()):
        return None
    loss = (_gamma(d + 1) * np.einsum("...ab,...ab->...", L, L) + U * np.abs(np.einsum("...jj->...j", B)).max(axis=-1)
            + TINY)  # TINY: a subnormal diagonal's absolute rounding
    return np.nextafter(s - loss * COVER * COVER, -np.inf)


def _rayleigh(M: np.ndarray, err: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bound of any float eigenpairs (Lambda, V) of M: x^T M x >= min(lambda_1, 0) ||V||_2^2 - ||M - V Lambda V^T||_F
    - err for unit x, ||V||_2^2 <= 1 + ||V^T V - I||_F, the residual's and V^T V's roundings bounded by
    gamma_(d+2) (||M||_F + max|lambda| ||V||_F^2) and gamma_(d+1) ||V||_F^2."""
    d = M.shape[-1]
    M = np.tril(M) + np.swapaxes(np.tril(M, -1), -1, -2)  # the lower triangle mirrored, as in extremes
    lam, V = np.linalg.eigh(M)
    fro = lambda A: np.sqrt(np.einsum("...ab,...ab->...", A, A))  # noqa: E731
    Vt = np.swapaxes(V, -1, -2)
    V2 = fro(V) ** 2
    sV = 1 + (fro(Vt @ V - np.eye(d)) + _gamma(d + 1) * V2) * COVER
    resid = fro(M - (V * lam[..., None, :]) @ Vt)
    bound = (resid + err + _gamma(d + 2) * (fro(M) + np.abs(lam).max(axis=-1) * V2)) * COVER
    return np.maximum(-lam[..., 0], 0.0) * sV + bound, np.maximum(lam[..., -1], 0.0) * sV + bound
