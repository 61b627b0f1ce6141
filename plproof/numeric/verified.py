"""Verified bounds on the extreme eigenvalues of kernels K = J J^T (docs/rigor.md §1).

Three paths, all returning :class:`~plproof.numeric.rigor.Enclosure`:

* ``float``: an a-priori bound on fl(J J^T), then a floating Cholesky of K - tau I with Rump's
  backward-error allowance (docs/rigor.md §1.2); the cost of one ``eigvalsh`` plus one Cholesky.
* ``exact``: rational LDL^T of K - sI and bisection on s (small n).
* ``arb``: a block Schur-complement positive-definiteness test in python-flint balls (any n up to a
  few hundred), tight where the float bound loses its ~2 n^2 u cond relative accuracy.

An enclosure of lambda_min(K_true) is ``verified`` relative to the inputs: ``K_err`` must bound
||K - K_true||_2 (it is 0 when ``K`` itself is the matrix of interest).
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np

from plproof.errors import InvalidInput, MissingDependency, SoundnessViolation
from plproof.numeric.floatbounds import (
    ETA,
    U,
    add_up,
    down,
    float_down,
    float_up,
    gamma,
    gamma_ratio,
    gram_error_bound,
    gram_trace_upper,
    inv_one_minus_gamma,
    mul_up,
    sqrt_up,
    sum_up,
    sumsq_upper,
    up,
)
from plproof.numeric.rigor import Enclosure, RigorLevel

BLAS_MODEL = (
    "BLAS/LAPACK (numpy) evaluate dot products and Cholesky recurrences in IEEE binary64 round-to-nearest, "
    "any summation order, FMA allowed, no Strassen-type products (docs/rigor.md §0)"
)
METHODS = ("auto", "float", "exact", "arb")
EXACT_AUTO_MAX_N = 12  # "auto" uses rational arithmetic for exact input up to this size
_MAX_DIAG = 2.0**900  # keeps the Cholesky recurrences far from overflow (docs/rigor.md §1.2)


class KernelEnclosure(NamedTuple):
    """``K`` = fl(J J^T) made exactly symmetric, ``err`` >= ||K - J_true J_true^T||_2, and what it rests on."""

    K: np.ndarray
    err: float
    assumptions: tuple[str, ...]


# ----------------------------------------------------------------------------- input checks


def _float_matrix(a: Any, name: str, check_finite: bool = True) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a real matrix of numbers") from None
    if arr.ndim != 2 or arr.size == 0:
        raise InvalidInput(f"{name} must be a non-empty 2-D array, got shape {arr.shape}")
    if check_finite and not np.all(np.isfinite(arr)):
        raise InvalidInput(f"{name} has NaN or infinite entries: remove them")
    return arr


def _symmetric_float(K: Any) -> np.ndarray:
    arr = _float_matrix(K, "K")
    if arr.shape[0] != arr.shape[1]:
        raise InvalidInput(f"K must be square, got shape {arr.shape}")
    if not np.array_equal(arr, arr.T):
        raise InvalidInput("K must be exactly symmetric: use np.tril(K) + np.tril(K, -1).T and bound that matrix's error")
    return arr


def _norm2_bound(err: Any, shape: tuple[int, ...], name: str) -> float:
    """A scalar is taken as a bound on a 2-norm; an array of entrywise bounds gives its Frobenius norm."""
    if np.ndim(err) == 0:
        e = float(err)
        if not (math.isfinite(e) and e >= 0):
            raise InvalidInput(f"{name} must be a finite non-negative bound, got {err!r}")
        return e
    arr = np.asarray(err, dtype=np.float64)
    if arr.shape != shape:
        raise InvalidInput(f"{name} must be a scalar or have shape {shape}, got {arr.shape}")
    if not (np.all(np.isfinite(arr)) and np.all(arr >= 0)):
        raise InvalidInput(f"{name} entries must be finite and non-negative")
    return sqrt_up(sumsq_upper(arr))


def _is_exact_entry(x: Any) -> bool:
    return isinstance(x, (numbers.Rational, Fraction)) or (
        hasattr(x, "numerator") and hasattr(x, "denominator") and not isinstance(x, float)
    )


def _exact_rows(K: Any) -> list[list[Fraction]]:
    """The matrix as exact rationals (floats convert exactly); it must be square and exactly symmetric."""
    rows = K.tolist() if isinstance(K, np.ndarray) else [list(r) for r in K]
    n = len(rows)
    if n == 0 or any(len(r) != n for r in rows):
        raise InvalidInput("K must be a non-empty square matrix")
    out: list[list[Fraction]] = []
    for r in rows:
        row = []
        for x in r:
            if isinstance(x, (float, np.floating)):
                if not math.isfinite(x):
                    raise InvalidInput("K has NaN or infinite entries: remove them")
                row.append(Fraction(float(x)))
            elif _is_exact_entry(x):
                row.append(Fraction(int(x.numerator), int(x.denominator)))
            else:
                raise InvalidInput(f"K entry {x!r} is not a rational or float number")
        out.append(row)
    if any(out[i][j] != out[j][i] for i in range(n) for j in range(i)):
        raise InvalidInput("K must be exactly symmetric")
    return out


def _is_exact_input(K: Any) -> bool:
    if isinstance(K, np.ndarray):
        return K.dtype == object and all(_is_exact_entry(x) for x in K.ravel())
    try:
        return all(_is_exact_entry(x) for r in K for x in r)
    except TypeError:
        return False


def _rounded_float(rows: list[list[Fraction]]) -> tuple[np.ndarray, float]:
    """fl(K) and a bound on ||fl(K) - K||_2 <= ||u |fl(K)| + eta/2||_F."""
    K = np.array([[float(x) for x in r] for r in rows])
    if not np.all(np.isfinite(K)):
        raise InvalidInput("K has entries too large for float64: rescale it")
    n = K.shape[0]
    exact = all(Fraction(float(x)) == x for r in rows for x in r)
    if exact:
        return K, 0.0
    return K, add_up(mul_up(U, sqrt_up(sumsq_upper(K))), mul_up(float(n), ETA))


def _enclosure(lo: float, hi: float, rigor: RigorLevel, assumptions: tuple[str, ...]) -> Enclosure:
    """Both ends are proven bounds of the same number: lo > hi can only be a bug, reported loudly."""
    if lo > hi:
        raise SoundnessViolation(f"verified eigenvalue bounds cross: lo={lo!r} > hi={hi!r}")
    return Enclosure(lo, hi, rigor, assumptions)


# ----------------------------------------------------------------------------- kernels


def kernel_enclosure(J: Any, J_err: Any = None) -> KernelEnclosure:
    """K = fl(J J^T) with err >= ||K - J_true J_true^T||_2 (docs/rigor.md §1.1).

    ``err = gamma_m ||J||_F^2`` (+ underflow) for the product, plus ``2 ||J||_2 dJ + dJ^2`` when
    ``J_err`` bounds J_true - J: a scalar bound on its 2-norm or an array of entrywise bounds.
    """
    J = _float_matrix(J, "J", check_finite=False)  # a NaN/inf in row i makes K_ii = sum_k J_ik^2 NaN/inf
    n, m = J.shape
    K = J @ J.T
    K = np.tril(K) + np.tril(K, -1).T
    if not np.all(np.isfinite(K)):
        raise InvalidInput("J has NaN/infinite entries or J J^T overflows float64: clean or rescale J")
    err = gram_error_bound(np.diag(K), m)
    if J_err is not None:
        dJ = _norm2_bound(J_err, J.shape, "J_err")
        # ||J||_2^2 = lambda_max(J J^T) <= min(||K||_inf + err, ||J||_F^2)   (docs/rigor.md §1.1)
        row_sum = mul_up(float(np.abs(K).sum(axis=1).max()), inv_one_minus_gamma(n))
        norm_j = sqrt_up(min(add_up(row_sum, err), gram_trace_upper(np.diag(K), m)))
        err = add_up(err, mul_up(2.0 * norm_j, dJ), mul_up(dJ, dJ))
    return KernelEnclosure(K, err, (BLAS_MODEL,))


# ----------------------------------------------------------------------------- float path


def cholesky_lower_bound(M: np.ndarray, tau: float) -> float | None:
    """If fl-Cholesky of fl(M - tau I) completes, a proven lower bound on lambda_min(M), else None.

    lambda_min(M) >= tau - c(A) - u max|A_ii| with A = fl(M - tau I) and
    c(A) = gamma_{N+2}/(1-gamma_{N+2}) tr(A) + 8N(2N+2+max A_ii) eta (Rump 2006 Thm 2.3; docs/rigor.md §1.2).
    """
    N = M.shape[0]
    A = np.array(M, dtype=np.float64, copy=True)
    diag = np.diag(M) - tau
    A[np.diag_indices(N)] = diag
    if not np.all(diag > 0):  # the factorisation cannot complete
        return None
    max_d = float(diag.max())
    if max_d > _MAX_DIAG or N > 2**20:
        return None
    try:
        R = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(R)):
        return None
    under = mul_up(mul_up(8.0 * N, add_up(2.0 * N + 2.0, max_d)), ETA)
    allowance = add_up(mul_up(gamma_ratio(N + 2), sum_up(diag)), under, mul_up(U, max_d))
    return down(tau - allowance)


def _rayleigh_upper(K: np.ndarray, v: np.ndarray) -> float:
    """A proven upper bound on v^T K v / v^T v for the float vector v (docs/rigor.md §1.4)."""
    n = K.shape[0]
    v = np.asarray(v, dtype=np.float64)
    v = v / np.max(np.abs(v))
    v[np.abs(v) < 2.0**-500] = 0.0  # v is any vector: this keeps |v_i| in [2^-500, 1] or 0
    y = K @ v
    q = float(v @ y)
    absv = np.abs(v)
    w = float(absv @ (np.abs(K) @ absv))
    g = gamma(n)
    nn_eta = mul_up(float(n) * float(n), ETA)
    w_true = mul_up(add_up(w, 2.0 * nn_eta), mul_up(inv_one_minus_gamma(n), inv_one_minus_gamma(n)))
    num = add_up(q, mul_up(add_up(2.0 * g, mul_up(g, g)), w_true), 3.0 * nn_eta)
    p = float(v @ v)
    n_eta = mul_up(float(n), ETA)
    if num >= 0:  # divide by a lower bound of v^T v = (p - n eta)/(1 + gamma_n) >= 1
        den = down(down(p - n_eta) / up(1.0 + g))
    else:  # divide by an upper bound of v^T v
        den = up(add_up(p, n_eta) * inv_one_minus_gamma(n))
    return up(num / den)


def _float_lambda_min(K: np.ndarray, K_err: float, upper: bool) -> tuple[Enclosure, float, float]:
    """Float path; returns the enclosure, the float estimate and the Cholesky part of the loss."""
    n = K.shape[0]
    if upper:
        lam, vecs = np.linalg.eigh(K)
    else:
        lam, vecs = np.linalg.eigvalsh(K), None
    est = float(lam[0])
    scale = float(max(abs(lam[0]), abs(lam[-1])))
    diag = np.diag(K)
    c_est = (n + 2) * U * float(np.abs(diag).sum())
    delta = 2.0 * c_est + 4.0 * n * U * scale + 2.0**-1000  # where to try; correctness does not depend on it
    lo = -math.inf
    for _ in range(4):
        bound = cholesky_lower_bound(K, est - delta)
        if bound is not None:
            lo = down(bound - K_err)
            break
        delta *= 32.0
    hi = float(diag.min())
    if vecs is not None:
        hi = min(hi, _rayleigh_upper(K, vecs[:, 0]))
    hi = add_up(hi, K_err)
    chol_loss = est - (lo + K_err) if lo > -math.inf else math.inf
    return _enclosure(lo, hi, RigorLevel.VERIFIED, (BLAS_MODEL,)), est, chol_loss


# ----------------------------------------------------------------------------- exact path


def _pd_exact(rows: list[list[Fraction]], s: Fraction) -> bool:
    """K - sI positive definite, decided by rational Gaussian elimination: all pivots > 0 (Sylvester)."""
    try:
        from flint import fmpq as num

        conv = lambda x: num(x.numerator, x.denominator)  # noqa: E731
    except ImportError:
        conv = Fraction
    n = len(rows)
    a = [[conv(rows[i][j] - (s if i == j else 0)) for j in range(i + 1)] for i in range(n)]  # lower triangle
    for k in range(n):
        p = a[k][k]
        if not p > 0:
            return False
        for i in range(k + 1, n):
            f = a[i][k] / p
            if f != 0:
                row = a[i]
                for j in range(k + 1, i + 1):
                    row[j] -= f * a[j][k]
    return True


def lambda_min_lower_exact(K: Any, s: Fraction | int | float) -> Enclosure:
    """Exact test at one shift: ``[s, inf)`` if K - sI is positive definite, else ``(-inf, s]`` (docs/rigor.md §1.3)."""
    rows = _exact_rows(K)
    s = Fraction(s)
    if _pd_exact(rows, s):
        return Enclosure(s, math.inf, RigorLevel.EXACT)
    return Enclosure(-math.inf, s, RigorLevel.EXACT)


def lambda_min_enclosure_exact(K: Any, rtol: float = 1e-12, atol: float | None = None) -> Enclosure:
    """Rational enclosure [lo, hi] of lambda_min(K) with hi - lo <= max(rtol |lambda|, atol) (docs/rigor.md §1.3).

    Bisection on s with the exact test of :func:`lambda_min_lower_exact`; ``atol`` defaults to
    ``1e-6 rtol max|K_ij|`` (it only matters when lambda_min is 0 or tiny).
    """
    if not (0 < rtol < 1):
        raise InvalidInput(f"rtol must be in (0, 1), got {rtol}")
    rows = _exact_rows(K)
    Kf = np.array([[float(x) for x in r] for r in rows])
    scale = float(np.max(np.abs(Kf))) or 1.0
    atol_q = Fraction(atol if atol is not None else 1e-6 * rtol * scale)
    est = Fraction(float(np.linalg.eigvalsh(Kf)[0]))
    w = max(Fraction(rtol) * abs(est) / 4, atol_q / 2)
    lo = est - w
    while not _pd_exact(rows, lo):
        w *= 16
        lo = est - w
    w = max(Fraction(rtol) * abs(est) / 4, atol_q / 2)
    hi = est + w
    while _pd_exact(rows, hi):
        w *= 16
        hi = est + w
    while hi - lo > max(Fraction(rtol) * max(abs(lo), abs(hi)), atol_q):
        mid = (lo + hi) / 2
        if _pd_exact(rows, mid):
            lo = mid
        else:
            hi = mid
    return Enclosure(lo, hi, RigorLevel.EXACT)


# ----------------------------------------------------------------------------- arb path


def _flint() -> Any:
    try:
        import flint
    except ImportError:
        raise MissingDependency(
            "the ball-arithmetic path needs python-flint: pip install 'plproof[flint]', or use method='float'"
        ) from None
    return flint


def _arb_upper(x: Any) -> Fraction:
    """Exact rational upper end of an arb ball."""
    m, r = x.mid().man_exp(), x.rad().man_exp()
    return Fraction(int(m[0])) * Fraction(2) ** int(m[1]) + Fraction(int(r[0])) * Fraction(2) ** int(r[1])


def _arb_block(flint: Any, ent: list, n: int, r0: int, r1: int, c0: int, c1: int) -> Any:
    return flint.arb_mat(r1 - r0, c1 - c0, [ent[i * n + j] for i in range(r0, r1) for j in range(c0, c1)])


def _arb_pd(flint: Any, M: Any) -> bool:
    """Every symmetric matrix in the ball matrix M is PD: leading block PD and Schur complement PD (docs/rigor.md §1.5)."""
    n = M.nrows()
    if n == 1:
        return bool(M[0, 0] > 0)
    k = n // 2
    ent = M.entries()
    A = _arb_block(flint, ent, n, 0, k, 0, k)
    if not _arb_pd(flint, A):
        return False
    B = _arb_block(flint, ent, n, 0, k, k, n)
    try:
        X = A.solve(B)
    except ZeroDivisionError:
        return False
    return _arb_pd(flint, _arb_block(flint, ent, n, k, n, k, n) - B.transpose() * X)


def _arb_entries(flint: Any, K: np.ndarray | list[list[Fraction]]) -> list:
    if isinstance(K, np.ndarray):
        return [flint.arb(x) for x in K.ravel().tolist()]
    return [flint.arb(flint.fmpq(x.numerator, x.denominator)) for r in K for x in r]


def _arb_shifted(flint: Any, ent: list, n: int, s: float) -> Any:
    shifted = list(ent)
    for i in range(n):
        shifted[i * n + i] = ent[i * n + i] - flint.arb(s)
    return flint.arb_mat(n, n, shifted)


def _arb_lambda_min(K: np.ndarray | list[list[Fraction]], K_err: float, prec: int) -> Enclosure:
    flint = _flint()
    Kf = K if isinstance(K, np.ndarray) else np.array([[float(x) for x in r] for r in K])
    n = Kf.shape[0]
    lam, vecs = np.linalg.eigh(Kf)
    est, scale = float(lam[0]), float(max(abs(lam[0]), abs(lam[-1])))
    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        ent = _arb_entries(flint, K)
        M = flint.arb_mat(n, n, ent)
        v = flint.arb_mat(n, 1, vecs[:, 0].tolist())
        q = (v.transpose() * M * v)[0, 0] / (v.transpose() * v)[0, 0]
        hi = float_up(_arb_upper(q))
        lo = -math.inf
        delta = 4.0 * U * scale + 2.0**-1000
        for _ in range(5):
            s = est - delta
            if _arb_pd(flint, _arb_shifted(flint, ent, n, s)):
                lo = s
                break
            delta *= 64.0
    finally:
        flint.ctx.prec = old
    lo = down(lo - K_err) if lo > -math.inf else lo
    hi = add_up(hi, K_err)
    return _enclosure(lo, hi, RigorLevel.VERIFIED, ())


def lambda_min_enclosure_arb(K: Any, K_err: Any = 0.0, *, prec: int = 128) -> Enclosure:
    """Enclosure of lambda_min(K_true) by a ball-arithmetic PD test of K - sI (python-flint; docs/rigor.md §1.5)."""
    if _is_exact_input(K):
        rows = _exact_rows(K)
        err = _norm2_bound(K_err, (len(rows), len(rows)), "K_err")
        return _arb_lambda_min(rows, err, prec)
    Kf = _symmetric_float(K)
    return _arb_lambda_min(Kf, _norm2_bound(K_err, Kf.shape, "K_err"), prec)


# ----------------------------------------------------------------------------- public dispatch


def _flint_available() -> bool:
    try:
        import flint  # noqa: F401
    except ImportError:
        return False
    return True


def lambda_min_lower(
    K: Any, K_err: Any = 0.0, *, method: str = "auto", psd: bool = False, upper: bool = False
) -> Enclosure:
    """Enclosure [lo, hi] of lambda_min(K_true) for ||K - K_true||_2 <= K_err (docs/rigor.md §1).

    ``K_err``: scalar bound on the 2-norm or array of entrywise bounds. ``psd=True`` states K_true is
    a Gram matrix (lo >= 0). ``upper=True`` tightens hi with a Rayleigh quotient (float path, costs an
    ``eigh``). ``method``: ``auto`` (exact for small rational input, else float, then arb where the
    float Cholesky loses more than 1e-8 relative and python-flint is installed), ``float``, ``exact``, ``arb``.
    """
    if method not in METHODS:
        raise InvalidInput(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    rows = _exact_rows(K) if method == "exact" or _is_exact_input(K) else None
    if rows is not None:
        n = len(rows)
        err = _norm2_bound(K_err, (n, n), "K_err")
        if method == "exact" or (method == "auto" and n <= EXACT_AUTO_MAX_N):
            enc = lambda_min_enclosure_exact(rows)
            if err:
                lo, hi = float_down(enc.lo - Fraction(err)), float_up(enc.hi + Fraction(err))
                enc = Enclosure(lo, hi, RigorLevel.VERIFIED)
            return _clip_psd(enc, psd)
        if method == "arb":
            return _clip_psd(_arb_lambda_min(rows, err, 128), psd)
        Kf, round_err = _rounded_float(rows)
        err = add_up(err, round_err)
    else:
        Kf = _symmetric_float(K)
        err = _norm2_bound(K_err, Kf.shape, "K_err")
        if method == "arb":
            return _clip_psd(_arb_lambda_min(Kf, err, 128), psd)
    enc, est, chol_loss = _float_lambda_min(Kf, err, upper)
    weak = chol_loss > max(err, 1e-8 * abs(est)) and est > 2.0 * err
    if method == "auto" and weak and _flint_available():
        arb = _arb_lambda_min(Kf, err, 128)
        enc = _enclosure(max(enc.lo, arb.lo), min(enc.hi, arb.hi), RigorLevel.VERIFIED, enc.assumptions)
    return _clip_psd(enc, psd)


def _clip_psd(enc: Enclosure, psd: bool) -> Enclosure:
    if not psd or enc.lo >= 0:
        return enc
    return Enclosure(0.0, max(enc.hi, 0.0), enc.rigor, enc.assumptions)


def lambda_max_upper(K: Any, K_err: Any = 0.0, *, method: str = "auto") -> Enclosure:
    """Enclosure of lambda_max(K_true) = -lambda_min(-K_true); its ``hi`` is the proven upper bound."""
    if _is_exact_input(K):
        neg: Any = [[-x for x in r] for r in _exact_rows(K)]
    else:
        neg = -_symmetric_float(K)
    enc = lambda_min_lower(neg, K_err, method=method)
    return Enclosure(-enc.hi, -enc.lo, enc.rigor, enc.assumptions)


def hint_room(n: int) -> float:
    """1 + 1e-9 + 8 n (n + 1) u: the relative room a lambda_max bound of an n x n Gram matrix leaves where it becomes a
    certificate's hint, which the verifier proves by a float Cholesky test of t I - G (blind to gaps below about
    4 (n + 1) u tr G, docs/rigor.md §1.2); tighter hints fall back to its exact test, or are rejected."""
    return 1 + 1e-9 + 8 * n * (n + 1) * U


def spectral_norm_upper(A: Any, room: bool = False) -> float:
    """A proven upper bound on ||A||_2 = sqrt(lambda_max(G)), G the smaller Gram matrix (docs/rigor.md §1.4).
    ``room``: :func:`hint_room` (N the larger side) in lambda_max, for a bound that becomes a certificate's hint: the
    verifier proves an ||X|| hint t by a float Cholesky test of t^2 I - X X^T (without the room it fell back to its
    exact test, 1.7 s of a 12 s re-check at n = 100)."""
    A = _float_matrix(np.atleast_2d(np.asarray(A, dtype=np.float64)), "A")
    if not np.any(A):
        return 0.0
    B = A if A.shape[0] <= A.shape[1] else A.T
    fro = sqrt_up(sumsq_upper(B))
    if not 2.0**-400 < fro < 2.0**400:  # keep the Gram matrix clear of under/overflow; ||A||_2 <= ||A||_F
        return fro
    ker = kernel_enclosure(B)
    hi = max(float(lambda_max_upper(ker.K, ker.err, method="float").hi), 0.0)
    return min(fro, sqrt_up(up(hi * hint_room(max(A.shape))) if room else hi))
