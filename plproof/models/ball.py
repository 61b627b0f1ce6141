"""Bounds over a ball B(w0, R) that a model can offer to the ball certificate (docs/theory.md §4.1).

epsilon >= sup_B max_i ||H_{F_i}(w)||_2 and L_F >= sup_B ||DF(w)||_2, each an :class:`Enclosure` whose
rigor says how it was obtained: ``verified`` (interval arithmetic over a box containing the ball) or
``sampled`` (the largest value seen at random points of the ball: an estimate, not a bound; §10).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from plproof.errors import InvalidInput, NotCertifiable
from plproof.models.base import Model
from plproof.numeric.rigor import Enclosure, RigorLevel, weakest

#: what a sampled estimate rests on, stated in every sampled enclosure
SAMPLED_NOTE = "largest value at {k} random points of B(w0, R): an estimate of the supremum, not a bound"


@dataclass(frozen=True)
class BallBounds:
    """epsilon >= sup_B max_i ||H_{F_i}||_2 and jacobian_norm >= sup_B ||DF||_2 on B(w0, radius) (docs/theory.md §4.1)."""

    radius: float
    epsilon: Enclosure
    jacobian_norm: Enclosure
    method: str

    @property
    def rigor(self) -> RigorLevel:
        """The weaker of the two bounds' levels."""
        return weakest((self.epsilon.rigor, self.jacobian_norm.rigor))


def check_ball(model: Model, w0: Any, R: Any) -> tuple[np.ndarray, float]:
    """(w0 as float64 of length m, R as a finite float > 0), or an InvalidInput."""
    w = np.asarray(w0, dtype=np.float64)
    if w.shape != (model.n_params,) or not np.isfinite(w).all():
        raise InvalidInput(f"w0 must be {model.n_params} finite numbers (one per parameter), got shape {w.shape}")
    try:
        radius = float(R)
    except (TypeError, ValueError):
        raise InvalidInput(f"the radius must be a number > 0, got {R!r}") from None
    if not (math.isfinite(radius) and radius > 0):
        raise InvalidInput(f"the radius must be a finite number > 0, got {R!r}")
    return w, radius


def ball_bounds(model: Model, w0: Any, R: float, **options: Any) -> BallBounds | None:
    """The model's own bounds over B(w0, R), or None when it offers none (built-in families use §11 instead).

    A non-smooth model has no Hessian bound: NotCertifiable (docs/theory.md §9).
    """
    method = getattr(model, "ball_bounds", None)
    if method is None:
        return None
    if not model.is_smooth:
        raise NotCertifiable(f"{type(model).__name__} is not smooth (C^2): no Hessian bound over the ball exists "
                             "(docs/theory.md §9); use smooth activations")
    w, radius = check_ball(model, w0, R)
    return method(w, radius, **options)


def ball_points(w0: np.ndarray, R: float, samples: int, seed: int) -> list[np.ndarray]:
    """w0, then points alternately on the sphere |w - w0| = R and uniform in the ball (seeded)."""
    rng = np.random.default_rng(seed)
    points = [w0.copy()]
    for k in range(1, samples):
        u = rng.standard_normal(w0.size)
        u /= np.linalg.norm(u)
        scale = R if k % 2 else R * rng.random() ** (1.0 / w0.size)
        points.append(w0 + scale * u)
    return points


def fd_hvp(jacobian: Callable[[np.ndarray], np.ndarray], w: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Row i: H_{F_i}(w) V_i, by central differences of the Jacobian along V_i (V rows of unit norm; equal rows share)."""
    h = 1e-4 * max(1.0, float(np.linalg.norm(w)))
    along: dict[bytes, np.ndarray] = {}
    for v in V:
        if v.tobytes() not in along:
            along[v.tobytes()] = (jacobian(w + h * v) - jacobian(w - h * v)) / (2 * h)
    return np.stack([along[v.tobytes()][i] for i, v in enumerate(V)])


def hessian_norms_at(model: Model, w: np.ndarray, rng: np.random.Generator, iters: int = 30, rtol: float = 1e-6,
                     full_max: int = 64) -> np.ndarray:
    """Estimates of ||H_{F_i}(w)||_2 for every output i from Hessian-vector products.

    Up to ``full_max`` parameters, the products along the m basis vectors give every H_i at once (then exact
    norms); beyond, power iteration per output (each ||H v|| with |v| = 1 is <= the norm). Uses the model's
    ``hessian_vector_products(w, V)`` when it has one, else central differences of its Jacobian.
    """
    hvp = getattr(model, "hessian_vector_products", None) or (lambda x, V: fd_hvp(model.jacobian, x, V))
    n, m = model.n_outputs, w.size
    if m <= full_max:
        H = np.stack([hvp(w, np.tile(e, (n, 1))) for e in np.eye(m)], axis=2)  # H[i, :, j] = H_i e_j
        return np.array([np.linalg.norm((Hi + Hi.T) / 2, 2) for Hi in H])
    V = rng.standard_normal((n, m))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    best = np.zeros(n)
    for _ in range(iters):
        HV = hvp(w, V)
        norms = np.linalg.norm(HV, axis=1)
        done = np.all(np.abs(norms - best) <= rtol * np.maximum(norms, 1e-300))
        best = np.maximum(best, norms)
        if done or not np.any(norms):
            break
        V = np.where(norms[:, None] > 0, HV / np.where(norms > 0, norms, 1.0)[:, None], V)
    return best


def sampled_ball_bounds(model: Model, w0: np.ndarray, R: float, *, samples: int = 8, seed: int = 0,
                        iters: int = 30) -> BallBounds:
    """``sampled`` estimates of epsilon and L_F on B(w0, R): maxima over seeded points of the ball (docs/theory.md §10)."""
    if samples < 1:
        raise InvalidInput(f"samples must be >= 1, got {samples}")
    rng = np.random.default_rng(seed + 1)
    eps, lip = 0.0, 0.0
    for w in ball_points(w0, R, samples, seed):
        eps = max(eps, float(hessian_norms_at(model, w, rng, iters).max()))
        lip = max(lip, float(np.linalg.norm(model.jacobian(w), 2)))
    note = (SAMPLED_NOTE.format(k=samples),)
    return BallBounds(R, Enclosure(eps, eps, RigorLevel.SAMPLED, note),
                      Enclosure(lip, lip, RigorLevel.SAMPLED, note), "sampled")


class SampledBall:
    """Mixin for models whose ball bounds can only be estimated (callables, torch modules): ``sampled``."""

    def ball_bounds(self, w0: np.ndarray, R: float, *, samples: int = 8, seed: int = 0) -> BallBounds:
        """``sampled`` estimates of epsilon and L_F on B(w0, R) (docs/theory.md §10): no proof is possible here."""
        return sampled_ball_bounds(self, w0, R, samples=samples, seed=seed)  # type: ignore[arg-type]

    def sampled_hessian_bound(self, w0: Any, R: float, samples: int = 8, seed: int = 0) -> float:
        """``sampled`` estimate of sup_{B(w0,R)} max_i ||H_{F_i}||_2 by power iteration at seeded points (not a bound)."""
        w, radius = check_ball(self, w0, R)  # type: ignore[arg-type]
        return float(self.ball_bounds(w, radius, samples=samples, seed=seed).epsilon.hi)
