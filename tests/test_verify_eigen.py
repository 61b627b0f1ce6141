"""plproof.verify.eigen: proven eigenvalue ranges of batches of small symmetric matrices (docs/rigor.md §10)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from plproof.verify import eigen


def _batch(seed: int) -> np.ndarray:
    """Indefinite, positive definite, singular, scaled and tiny symmetric matrices of size 5."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((6, 5, 5))
    M = A + np.swapaxes(A, -1, -2)
    M[1] = A[1] @ A[1].T                       # positive definite
    M[2] = np.outer(A[2, 0], A[2, 0])           # rank one: lambda_min = 0 (up to rounding)
    M[3] *= 1e8
    M[4] *= 1e-200
    M[5] = -A[5] @ A[5].T                      # negative definite
    return M


def _exact(M: np.ndarray) -> tuple[float, float]:
    """(lambda_min, lambda_max) of the float matrix at 60 digits."""
    with mpmath.workdps(60):
        ev = mpmath.eigsy(mpmath.matrix(M.tolist()), eigvals_only=True)
        return float(min(ev)), float(max(ev))


@pytest.mark.parametrize("fallback", [False, True])
def test_extremes_enclose_the_spectrum(monkeypatch, fallback) -> None:
    """lo >= max(-lambda_min, 0), hi >= max(lambda_max, 0), within 1e-12 ||M|| of them; the Rayleigh path (taken
    where a Cholesky factorisation does not complete) too."""
    if fallback:
        monkeypatch.setattr(eigen, "_lower", lambda M, s: None)
    for seed in range(3):
        M = _batch(seed)
        lo, hi = eigen.extremes(M, np.zeros(len(M)))
        for Mi, l, h in zip(M, lo, hi):
            lmin, lmax = _exact(Mi)
            scale = np.abs(Mi).max() * len(Mi)
            assert max(-lmin, 0.0) <= l <= max(-lmin, 0.0) + 1e-12 * scale
            assert max(lmax, 0.0) <= h <= max(lmax, 0.0) + 1e-12 * scale


def test_extremes_add_the_distance_and_refuse_non_finite() -> None:
    M = _batch(7)
    err = np.full(len(M), 0.5)
    lo0, hi0 = eigen.extremes(M, np.zeros(len(M)))
    lo, hi = eigen.extremes(M, err)
    assert np.all(lo >= lo0 + 0.5 - 1e-9 * np.abs(M).max()) and np.all(hi >= hi0 + 0.5 - 1e-9 * np.abs(M).max())
    M[2, 0, 0] = np.nan
    lo, hi = eigen.extremes(M, err)
    assert lo[2] == hi[2] == np.inf and np.isfinite(lo[[0, 1, 3]]).all()


def test_lower_refuses_a_failed_factorisation() -> None:
    """A shift above lambda_min: Cholesky cannot complete, no bound is claimed."""
    M = _batch(1)[1:2]
    assert eigen._lower(M, np.array([np.linalg.eigvalsh(M)[0, 0] + 1.0])) is None


@pytest.mark.parametrize("shape", [(5, 3), (40, 10), (120, 10), (30, 60)])
def test_float_norm_test_of_X_is_sound_and_sharp(shape):
    """plproof.verify.families' float test of ||X||_2 < t: refused just below the 60-digit norm, proved just above,
    and the family records t only when it is proved (docs/rigor.md §5.6)."""
    from fractions import Fraction

    from plproof.verify.families import _norm_below_float

    rng = np.random.default_rng(shape[0])
    X = rng.standard_normal(shape) / np.sqrt(shape[1])
    with mpmath.workdps(60):  # the smaller Gram matrix has the same largest eigenvalue
        gram = X @ X.T if shape[0] <= shape[1] else X.T @ X
        top = mpmath.sqrt(max(mpmath.eigsy(mpmath.matrix(gram.tolist()), eigvals_only=True)))
    # the float Gram matrix's error is below 1e-12 relative here, so 1e-9 either side decides
    X_F2 = sum(Fraction(v) ** 2 for v in X.ravel())
    assert _norm_below_float(X, Fraction(float(top * (1 + 1e-9))), X_F2)
    assert not _norm_below_float(X, Fraction(float(top * (1 - 1e-9))), X_F2)
    assert not _norm_below_float(X.astype(object), Fraction(float(top * 2)), X_F2)  # floats only


def test_a_negative_X_norm_hint_is_not_taken_for_the_norm():
    """(-t)^2 = t^2 passes the test of t^2 I - X X^T > 0; the family must fall back to ||X||_F, never record -t."""
    from fractions import Fraction

    from plproof.verify.families import Family

    X = np.random.default_rng(0).standard_normal((6, 3))
    fam = Family({"n_outputs": 6, "n_params": 3, "family": "linear"}, X, np.zeros(3))
    t = Fraction(float(np.linalg.norm(X, 2) * 1.01))
    assert fam.data_norms(t)[1] == t
    assert fam.data_norms(-t)[1] > 0 and fam.data_norms(-t)[1] >= Fraction(float(np.linalg.norm(X, 2)))
