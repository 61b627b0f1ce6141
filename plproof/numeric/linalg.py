"""High-precision eigenvalues of symmetric matrices (not rigorous: level ``high-precision``, docs/theory.md §10).

numpy's float eigenpairs refined by Rayleigh quotients and one-sided corrections whose residuals are formed at
high precision (docs/rigor.md §12.7): in double-double up to 30 digits, in python-flint arb matrices (midpoints)
above, mpmath ``eigsy`` where the refinement does not settle (close clusters) or python-flint is missing.
"""

from __future__ import annotations

import contextlib
from typing import Any, Sequence

import mpmath
import numpy as np

from plproof.numeric import ddarray
from plproof.numeric.arith import DD_DIGITS, FlintArith, check_digits, have_flint, mpf_array
from plproof.numeric.rigor import Enclosure, RigorLevel
from plproof.numeric.threads import step_loop

#: refinement rounds before giving up (each roughly doubles the correct digits of the eigenvectors)
ROUNDS = 4


def _mp_matrix(K: Any) -> mpmath.matrix:
    """K (floats, Fractions, mpf or double-double) as an mpmath matrix at the current precision."""
    return mpmath.matrix(mpf_array(K).tolist())


class _DDMatrices:
    """The refinement's high-precision matrix operations on double-double arrays (+ and - are entrywise)."""

    def __init__(self, K: Any) -> None:
        K = ddarray.as_dd(K)
        self.A = (K + K.T) * 0.5

    lift = staticmethod(ddarray.as_dd)
    mm = staticmethod(ddarray.matmul)

    @staticmethod
    def active() -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    @staticmethod
    def rayleigh(X: Any, AX: Any) -> Any:
        """(x_i . A x_i / x_i . x_i)_i."""
        ones = ddarray.DDArray(np.ones(X.shape[0]))
        return ddarray.matmul(ones, X * AX) / ddarray.matmul(ones, X * X)

    @staticmethod
    def scale_cols(X: Any, lam: Any) -> Any:
        return X * lam.reshape(1, -1)

    @staticmethod
    def to_float(X: Any) -> np.ndarray:
        return X.to_float()

    @staticmethod
    def to_mpf(lam: Any) -> list:
        return list(lam.to_mpf())


class _ArbMatrices:
    """The same operations on python-flint ``arb_mat`` (+ and - are entrywise) in the namespace ``ar``, midpoints
    only: products drop their radii."""

    def __init__(self, K: Any, ar: FlintArith) -> None:
        self.ar, self.flint = ar, ar.flint
        with self.active():
            A = self.lift(K)
            self.A = ((A + A.transpose()) * self.flint.arb(0.5)).mid()

    def active(self) -> contextlib.AbstractContextManager:
        return self.ar.active()

    def lift(self, X: Any) -> Any:
        """A float, mpf, Fraction or double-double matrix (or vector, as a column) as an arb_mat, exactly."""
        vals = X if isinstance(X, np.ndarray) and X.dtype.kind == "f" else mpf_array(X)
        balls = self.ar.asarray(vals if vals.ndim == 2 else vals.reshape(-1, 1))
        return self.flint.arb_mat(balls.tolist())

    @staticmethod
    def mm(X: Any, Y: Any) -> Any:
        return (X * Y).mid()

    @staticmethod
    def rayleigh(X: Any, AX: Any) -> list:
        N, G = X.transpose() * AX, X.transpose() * X
        return [(N[i, i] / G[i, i]).mid() for i in range(N.nrows())]

    def scale_cols(self, X: Any, lam: list) -> Any:
        D = self.flint.arb_mat(len(lam), len(lam))
        for i, v in enumerate(lam):
            D[i, i] = v
        return self.mm(X, D)

    @staticmethod
    def to_float(X: Any) -> np.ndarray:
        if isinstance(X, list):
            return np.array([float(v) for v in X])
        return np.array([[float(v) for v in row] for row in X.tolist()])

    def to_mpf(self, lam: list) -> list:
        return list(self.ar.to_mpf(np.array(lam, dtype=object)))


def _refined(ops: Any, idx: Sequence[int], digits: int) -> list | None:
    """Eigenvalues number ``idx`` (ascending order) of ops.A to about 10^-digits ||A||, or None if the refinement
    does not settle within :data:`ROUNDS` (docs/rigor.md §12.7).

    x_i from numpy's eigh; lambda_i = x_i^T A x_i / x_i^T x_i and r_i = A x_i - lambda_i x_i at high precision;
    x_i += sum_j v_j (v_j^T r_i) / (lambda_i - lambda_j) over the float eigenvectors v_j outside x_i's cluster
    (|lambda_j - lambda_i| <= delta). Done when ||r_i||^2 / gap_i (the Rayleigh quotient's error for an
    isolated or exactly multiple eigenvalue) and the residual inside the cluster are below 10^-digits ||A||.
    """
    with ops.active(), step_loop():
        lam_f, V = np.linalg.eigh(ops.to_float(ops.A))
        scale = max(float(np.max(np.abs(lam_f))), np.finfo(float).tiny)
        tol = 10.0**-digits * scale
        X = ops.lift(V[:, np.asarray(idx)])
        for _ in range(ROUNDS):
            AX = ops.mm(ops.A, X)
            lam = ops.rayleigh(X, AX)
            R = ops.to_float(AX - ops.scale_cols(X, lam))
            rnorm = np.sqrt(np.sum(R * R, axis=0))
            delta = 8 * float(np.max(rnorm)) + 64 * np.finfo(float).eps * scale
            D = ops.to_float(lam)[None, :] - lam_f[:, None]  # lambda_i - lambda_j
            cluster = np.abs(D) <= delta
            C = V.T @ R
            gap = np.min(np.where(cluster, np.inf, np.abs(D)), axis=0)
            inside = np.max(np.abs(np.where(cluster, C, 0.0)), axis=0)
            if np.all(rnorm**2 <= tol * gap) and np.all(inside <= tol):
                return ops.to_mpf(lam)
            X = X + ops.lift(V @ np.where(cluster, 0.0, C / np.where(cluster, 1.0, D)))
    return None


def _eigvals(K: Any, digits: int, idx: Sequence[int] | None) -> list:
    """Eigenvalues number ``idx`` (all if None) at ``digits`` digits as mpf, ascending."""
    digits = check_digits(digits)
    which = range(len(K)) if idx is None else idx
    with mpmath.mp.workdps(digits):
        if digits <= DD_DIGITS:
            evals = _refined(_DDMatrices(K), which, digits)
        elif have_flint():
            evals = _refined(_ArbMatrices(K, FlintArith(digits)), which, digits)
        else:
            evals = None
        if evals is None:
            M = _mp_matrix(K)
            M = (M + M.T) / 2
            full = sorted(mpmath.eigsy(M, eigvals_only=True))
            return [full[i] for i in which]
        return [+e for e in evals]


def eigvalsh_hp(K: Any, digits: int = 50) -> list:
    """Eigenvalues of the symmetric matrix K at ``digits`` digits, ascending (docs/rigor.md §12.7)."""
    return _eigvals(K, digits, None)


def lambda_min_hp(K: Any, digits: int = 50) -> Enclosure:
    """lambda_min(K) of a symmetric matrix at ``digits`` digits, as a high-precision point estimate."""
    return Enclosure.point(float(_eigvals(K, digits, [0])[0]), RigorLevel.HIGH_PRECISION)


def lambda_max_hp(K: Any, digits: int = 50) -> Enclosure:
    """lambda_max(K) of a symmetric matrix at ``digits`` digits, as a high-precision point estimate."""
    return Enclosure.point(float(_eigvals(K, digits, [len(K) - 1])[0]), RigorLevel.HIGH_PRECISION)
