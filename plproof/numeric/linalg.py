"""High-precision linear algebra (not rigorous: level ``high-precision``, docs/theory.md §10)."""

from __future__ import annotations

from typing import Any

import mpmath

from plproof.numeric.arith import mpf_array
from plproof.numeric.rigor import Enclosure, RigorLevel


def _mp_matrix(K: Any) -> mpmath.matrix:
    """K (floats, Fractions or mpf) as an mpmath matrix at the current precision (exact conversion)."""
    return mpmath.matrix(mpf_array(K).tolist())


def eigvalsh_hp(K: Any, digits: int = 50) -> list:
    """Eigenvalues of the symmetric matrix K at ``digits`` digits (mpmath ``eigsy``), ascending."""
    with mpmath.mp.workdps(digits):
        M = _mp_matrix(K)
        M = (M + M.T) / 2
        evals = mpmath.eigsy(M, eigvals_only=True)
        return sorted(evals[i] for i in range(M.rows))


def lambda_min_hp(K: Any, digits: int = 50) -> Enclosure:
    """lambda_min(K) of a symmetric matrix at ``digits`` digits, as a high-precision point estimate."""
    value = eigvalsh_hp(K, digits)[0]
    return Enclosure.point(float(value), RigorLevel.HIGH_PRECISION)


def lambda_max_hp(K: Any, digits: int = 50) -> Enclosure:
    """lambda_max(K) of a symmetric matrix at ``digits`` digits, as a high-precision point estimate."""
    value = eigvalsh_hp(K, digits)[-1]
    return Enclosure.point(float(value), RigorLevel.HIGH_PRECISION)
