"""Reproducible synthetic data sets: unit-norm Gaussian inputs and uniform targets."""

from __future__ import annotations

import numpy as np

from plproof.models.base import check_positive_int


def unit_inputs(n: int, d: int, seed: int = 0) -> np.ndarray:
    """n points drawn uniformly on the unit sphere of R^d (normalised standard Gaussians)."""
    n, d = check_positive_int(n, "n"), check_positive_int(d, "d")
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def uniform_targets(n: int, scale: float, seed: int = 0) -> np.ndarray:
    """n targets uniform in [-scale, scale]."""
    return np.random.default_rng([seed, 1]).uniform(-scale, scale, check_positive_int(n, "n"))
