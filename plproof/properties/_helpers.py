"""Shared helpers of the property catalogue: 50-digit spectra, sample points, the ADZ rate, predicates.

Kept out of the test files so that the negative predicates can be reused by the tests that show the
properties can fail (tests/test_properties_can_fail.py).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

from plproof import Problem, precision
from plproof.models.base import Model
from plproof.numeric.arith import Arith

DIGITS = 50
#: the ``precision`` field of the certificates of the 50-digit properties
MP50 = {"arithmetic": "mpmath", "digits": DIGITS}
#: relative tolerance of identities checked at 50 digits (rounding is ~1e-50; eigsy loses a few digits)
TOL50 = mpmath.mpf("1e-40")


def spectrum(K: Any) -> tuple[list, mpmath.matrix]:
    """Eigenvalues (ascending) and eigenvectors (columns, same order) of a symmetric matrix at 50 digits."""
    with mpmath.mp.workdps(DIGITS):
        M = mpmath.matrix([[_mpf(v) for v in row] for row in np.asarray(K, dtype=object)])
        E, Q = mpmath.eigsy((M + M.T) / 2)
        order = sorted(range(M.rows), key=lambda i: E[i])
        vecs = mpmath.matrix(M.rows, M.rows)
        for new, old in enumerate(order):
            for r in range(M.rows):
                vecs[r, new] = Q[r, old]
        return [E[i] for i in order], vecs


def _mpf(v: Any) -> mpmath.mpf:
    return mpmath.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else mpmath.mpf(v)


def column(Q: mpmath.matrix, j: int) -> np.ndarray:
    """Column ``j`` of an mpmath matrix as an object array."""
    return np.array([Q[i, j] for i in range(Q.rows)], dtype=object)


def point_near(problem: Problem, seed: int, radius: float) -> np.ndarray:
    """w0 + radius z / ||z||, z standard normal from ``seed``: a point on the sphere of B(w0, radius)."""
    z = np.random.default_rng(seed).standard_normal(problem.m)
    return problem.w0 + radius * z / np.linalg.norm(z)


def pl_terms(problem: Problem, w: Any, ar: Arith) -> tuple[Any, Any, list]:
    """(1/2 ||grad L(w)||^2, L(w), eigenvalues of K(w)) in arithmetic ``ar``."""
    g = problem.gradient(w, ar)
    with ar.active():
        half_g2 = (g @ g) / 2
    return half_g2, problem.loss(w, ar), spectrum(problem.kernel(w, ar))[0]


def kernel_singularity(problem: Problem) -> Any:
    """lambda_min(K(w0)) / lambda_max(K(w0)) at 50 digits (0 up to rounding when K is singular)."""
    with precision(digits=DIGITS) as ar:
        lam = spectrum(problem.kernel(arith=ar))[0]
        return lam[0] / lam[-1]


def kernel_is_singular(problem: Problem) -> bool:
    """lambda_min(K(w0)) <= 1e-40 lambda_max(K(w0)) at 50 digits (docs/theory.md §5)."""
    return abs(kernel_singularity(problem)) <= TOL50


def adz_tau(L: Any, mu: Any, h: Any) -> Any:
    """ADZ one-step worst-case rate for L-smooth mu-PL functions, step h in (0, 2/L) (docs/theory.md §6.3).

    The squared-ratio form of branch 1 (the PEPit examples drop the square, docs/theory.md §6.3).
    """
    L, mu, h = mpmath.mpf(L), mpmath.mpf(mu), mpmath.mpf(h)
    if not 0 < h < 2 / L:
        raise ValueError(f"the ADZ rate needs 0 < h < 2/L, got h={h}")
    if h <= 1 / L:
        root = mpmath.sqrt(4 * L**2 - 2 * L * (L + mu) * mu * h * (2 - L * h))
        return ((mu * (1 - L * h) + root) / (2 * L + mu)) ** 2
    if h <= mpmath.sqrt(3) / L:
        return 1 - mu * h * (4 - L**2 * h**2) / (2 + mu * h)
    return (L * h - 1) ** 2 / ((L * h - 1) ** 2 + mu * h * (2 - L * h))


def top_component(problem: Problem) -> tuple[float, float]:
    """(beta, c^2): lambda_max(K(w0)) and the squared component of r(w0) on its eigenvector (float64)."""
    lam, vecs = np.linalg.eigh(problem.kernel())
    return float(lam[-1]), float(vecs[:, -1] @ problem.residual()) ** 2


def gd_losses(problem: Problem, eta: float, steps: int, stop_above: float = np.inf) -> list[float]:
    """Float64 GD losses L(w_0), ..., L(w_T), stopping early once a loss exceeds ``stop_above``."""
    w = problem.w0.copy()
    losses: list[float] = []
    for _ in range(steps + 1):
        r = problem.residual(w)
        losses.append(float(r @ r) / 2)
        if losses[-1] > stop_above:
            break
        w = w - eta * (problem.jacobian(w).T @ r)
    return losses


def diverges(problem: Problem, eta: float, steps: int = 500, growth: float = 1e6) -> bool:
    """GD with step eta reaches L(w_t) > growth L(w_0) within ``steps`` steps (float64)."""
    loss0 = problem.loss()
    return gd_losses(problem, eta, steps, growth * loss0)[-1] > growth * loss0


class Scaled(Model):
    """c F(w) for a model F: a user-defined model through the public Model protocol (docs/theory.md §0)."""

    family = "scaled"

    def __init__(self, inner: Model, c: float) -> None:
        self.inner, self.c = inner, c

    @property
    def n_outputs(self) -> int:
        return self.inner.n_outputs

    @property
    def n_params(self) -> int:
        return self.inner.n_params

    def default_w0(self) -> np.ndarray:
        return self.inner.default_w0()

    def _F(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        return self.inner._F(w, ar) * ar.asarray(self.c)

    def _jacobian(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        return self.inner._jacobian(w, ar) * ar.asarray(self.c)

    def describe(self) -> dict:
        return {**super().describe(), "c": self.c, "inner": self.inner.describe()}
