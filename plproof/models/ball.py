"""Bounds over a ball B(w0, R): the one ball-bounds protocol and the adapters' bounds (docs/rigor.md §2.5).

:class:`BallBounds` is what ``Model.ball_bounds(w0)`` returns for every model: an immutable object centred
at w0 bounding, for every radius R, the Jacobian change, the Hessians and the curvature over B(w0, R)
(docs/theory.md §4.1). A family declares its bound sets in ``Model.ball_bound_sets``; the built-in
families' formulas are in plproof/theory/ball.py (docs/theory.md §7, §8, §11, §13), the adapters' in
:class:`HessianGridBounds` here: from per-output Hessian bounds eps_i >= sup_B ||H_{F_i}(w)||_2 at a rigor
level, ``verified`` (interval arithmetic over a box containing the ball) or ``sampled`` (the largest value
seen at random points of the ball: an estimate, not a bound; docs/theory.md §10).

A single radius has its own record, :class:`BoundsAtRadius` (epsilon and L_F >= sup_B ||DF(w)||_2 on
B(w0, R)), from a model's ``bounds_at`` through :func:`ball_bounds`.
"""

from __future__ import annotations

import abc
import importlib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Self

import numpy as np

from plproof.errors import InvalidInput, NotCertifiable
from plproof.models.base import Model, bound_sets
from plproof.numeric.floatbounds import sqrt_up, sumsq_upper
from plproof.numeric.rigor import Enclosure, RigorLevel, weakest

#: what a sampled estimate rests on, stated in every sampled enclosure
SAMPLED_NOTE = "largest value at {k} random points of B(w0, R): an estimate of the supremum, not a bound"


@dataclass(frozen=True, eq=False)
class BallBounds(abc.ABC):
    """Upper bounds over B(w0, R) valid for every R >= 0, centred at ``w0``, at ``rigor`` (docs/rigor.md §2.5).

    In a scalar namespace S (plproof.numeric.scalars: FLOATS to search, INTERVALS to prove):
    ``epsilon(S, R)`` >= max_k sup_B ||Hess f_k||_2, ``delta(S, R)`` >= sup_B ||DF(w) - DF(w0)||_2 and
    ``curvature(S, R, rho)`` >= sup {||sum_k r_k Hess f_k(w)||_2 : w in B, ||r|| <= rho}, positively
    homogeneous in rho. From them (T2, docs/theory.md §4.1): mu(R) = (sqrt(lambda0) - delta)_+^2,
    L_F(R) = ||DF(w0)|| + delta, beta = L_F^2 + curvature. Immutable: :meth:`recentred` gives the bounds
    at another centre as a new object. Subclasses are frozen dataclasses; a lazily filled cache of
    values at radii (a function of the fields) is the only thing that changes after construction.
    """

    model: Model
    w0: np.ndarray

    name: ClassVar[str] = "ball bounds"
    #: the explicit id of this bound set in certificates (plproof.verify.families re-derives it by this id)
    bound_set: ClassVar[str] = ""
    reference: ClassVar[str] = ""

    @classmethod
    def at(cls, model: Model, w0: Any) -> Self:
        """The bounds of this set for ``model`` centred at ``w0``."""
        return cls._build(model, centre_point(model, w0))

    @classmethod
    def _build(cls, model: Model, w0: np.ndarray) -> Self:
        """Construct from the checked centre; sets with constants at w0 override this to compute them."""
        return cls(model, w0)

    def recentred(self, w: Any) -> Self:
        """A new object of the same bound set centred at ``w`` (this one unchanged), e.g. at a GD iterate
        (docs/theory.md §12.1 (ii))."""
        return self.at(self.model, w)

    @property
    def n(self) -> int:
        """n, the number of outputs."""
        return self.model.n_outputs

    @property
    def rigor(self) -> RigorLevel:
        """The level at which every bound here holds."""
        return RigorLevel.VERIFIED

    @abc.abstractmethod
    def epsilon(self, S: Any, R: Any) -> Any:
        """max_k sup_{B(w0,R)} ||Hess_w f(x_k; w)||_2."""

    def delta(self, S: Any, R: Any) -> Any:
        """sup_B ||DF(w) - DF(w0)||_2 <= ||.||_F <= sqrt(n) epsilon R (docs/theory.md §4.1)."""
        return S.sqrt(S.of(self.n)) * self.epsilon(S, R) * R

    def curvature(self, S: Any, R: Any, rho: Any) -> Any:
        """||sum_k r_k H_k|| <= ||r||_1 epsilon <= sqrt(n) rho epsilon (docs/theory.md §4.1)."""
        return S.sqrt(S.of(self.n)) * rho * self.epsilon(S, R)

    def hints(self) -> dict:
        """The constants the bounds use, for the certificate (a verifier recomputes them)."""
        return {"bounds": self.bound_set, "reference": self.reference}


def centre_point(model: Model, w0: Any) -> np.ndarray:
    """``w0`` as a read-only float64 copy of length m (the centre a :class:`BallBounds` keeps), or an InvalidInput."""
    w = np.array(check_ball(model, w0, 0.0, allow_zero=True)[0], dtype=np.float64)
    w.flags.writeable = False
    return w


def bound_set_class(spec: str) -> type[BallBounds]:
    """The :class:`BallBounds` subclass named by ``"module:Class"`` (an entry of ``Model.ball_bound_sets``)."""
    module, _, name = spec.partition(":")
    cls = getattr(importlib.import_module(module), name, None)
    if not (isinstance(cls, type) and issubclass(cls, BallBounds)):
        raise InvalidInput(f"ball_bound_sets entry {spec!r} does not name a BallBounds class ('module:Class')")
    return cls


@dataclass(frozen=True)
class BoundsAtRadius:
    """On B(w0, radius): epsilon >= max_i sup ||H_{F_i}||_2 (per_output: each sup) and jacobian_norm >= sup ||DF||_2."""

    radius: float
    epsilon: Enclosure
    jacobian_norm: Enclosure
    method: str
    per_output: tuple[float, ...] = ()

    @property
    def rigor(self) -> RigorLevel:
        """The weaker of the two bounds' levels."""
        return weakest((self.epsilon.rigor, self.jacobian_norm.rigor))


def check_ball(model: Model, w0: Any, R: Any, allow_zero: bool = False) -> tuple[np.ndarray, float]:
    """(w0 as float64 of length m, R as a finite float > 0 (or >= 0)), or an InvalidInput."""
    w = np.asarray(w0, dtype=np.float64)
    if w.shape != (model.n_params,) or not np.isfinite(w).all():
        raise InvalidInput(f"w0 must be {model.n_params} finite numbers (one per parameter), got shape {w.shape}")
    try:
        radius = float(R)
    except (TypeError, ValueError):
        raise InvalidInput(f"the radius must be a number > 0, got {R!r}") from None
    if not (math.isfinite(radius) and (radius > 0 or allow_zero and radius == 0)):
        raise InvalidInput(f"the radius must be a finite number > 0, got {R!r}")
    return w, radius


def _require_smooth(model: Model) -> None:
    if not model.is_smooth:
        raise NotCertifiable(f"{type(model).__name__} is not smooth (C^2): no Hessian bound over the ball exists "
                             "(docs/theory.md §9); use smooth activations")


def ball_bounds(model: Model, w0: Any, R: float, **options: Any) -> BoundsAtRadius | None:
    """The model's own bounds over B(w0, R) (its ``bounds_at``), or None when it offers none.

    Built-in families bound every radius at once instead (``Model.ball_bounds``). A non-smooth model: NotCertifiable.
    """
    method = getattr(model, "bounds_at", None)
    if method is None:
        return None
    _require_smooth(model)
    w, radius = check_ball(model, w0, R)
    return method(w, radius, **options)


def norm2_up(v: np.ndarray) -> float:
    """An upper bound on the Euclidean norm of a float vector (inf if it holds inf)."""
    v = np.asarray(v, dtype=float)
    return sqrt_up(sumsq_upper(v)) if np.isfinite(v).all() else math.inf


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


def sampled_hessian_norms(model: Model, w0: np.ndarray, R: float, *, samples: int = 4, seed: int = 0) -> np.ndarray:
    """Per output i, the largest ||H_{F_i}|| seen at w0 and ``samples - 1`` seeded points of B(w0, R) (``sampled``)."""
    if samples < 1:
        raise InvalidInput(f"samples must be >= 1, got {samples}")
    rng = np.random.default_rng(seed + 1)
    points = ball_points(w0, R, samples, seed) if R > 0 else [w0]
    return np.max([hessian_norms_at(model, w, rng) for w in points], axis=0)


def sampled_ball_bounds(model: Model, w0: np.ndarray, R: float, *, samples: int = 8, seed: int = 0) -> BoundsAtRadius:
    """``sampled`` estimates of eps_i and L_F on B(w0, R): maxima over seeded points of the ball (docs/theory.md §10)."""
    eps = sampled_hessian_norms(model, w0, R, samples=samples, seed=seed)
    lip = max(float(np.linalg.norm(model.jacobian(w), 2)) for w in ball_points(w0, R, samples, seed))
    note = (SAMPLED_NOTE.format(k=samples),)
    top = float(eps.max())
    return BoundsAtRadius(R, Enclosure(top, top, RigorLevel.SAMPLED, note), Enclosure(lip, lip, RigorLevel.SAMPLED, note),
                      "sampled", tuple(float(e) for e in eps))


@dataclass(frozen=True, eq=False)
class HessianGridBounds(BallBounds):
    """The adapters' bounds over B(w0, R), from the model's per-output Hessian bounds (docs/theory.md §4.1).

    delta(R) = R ||eps(R)||_2 >= sup_B ||DF(w) - DF(w0)||_2 (row-wise mean value theorem) and
    curvature(R, rho) = rho ||eps(R)||_2 >= sup ||sum_i r_i H_{F_i}|| for ||r|| <= rho (Cauchy-Schwarz).
    eps(R) is the model's ``hessian_bounds_at(w0, r_k)`` on a lazy grid of radii r_k, used for every R <= r_k
    (a smaller ball has a smaller sup), at the model's ``ball_rigor``. Below the grid the first value serves;
    above ``cap`` the bound is +inf, where delta(R) >= R ||(||H_i(w0)||)_i|| >= 2 sqrt(lambda0 estimate) >
    sqrt(lambda0), so mu = 0 there whatever the bound (docs/theory.md §4.1 sharper form).
    """

    cap: float
    radii: tuple[float, ...]
    _values: dict[int, tuple[float, float]] = field(default_factory=dict, init=False, repr=False)

    reference = "docs/theory.md §4.1"
    decades = 3

    @classmethod
    def _build(cls, model: Model, w0: np.ndarray) -> Self:
        return cls(model, w0, *cls._grid(model, w0))

    @classmethod
    def _grid(cls, model: Model, w0: np.ndarray) -> tuple[float, tuple[float, ...]]:
        """(cap, the grid radii): ``radii_per_decade`` per decade over ``decades`` decades below cap, where the
        float estimates lambda = lambda_min(K(w0)) and h0 = ||(||Hess F_i(w0)||)_i|| give mu(R) > 0 at most up to
        about cap = 2 sqrt(lambda) / h0; where lambda <= 0 or h0 = 0 the estimate says nothing and cap is
        1e4 max(1, ||w0||) (the radii are only where the bounds are evaluated; any grid is sound)."""
        lam = float(np.linalg.eigvalsh(model.kernel(w0))[0])
        h0 = float(np.linalg.norm(hessian_norms_at(model, w0, np.random.default_rng(0))))
        cap = 2 * math.sqrt(lam) / h0 if lam > 0 and h0 > 0 else 1e4 * max(1.0, float(np.linalg.norm(w0)))
        per_decade: int = model.radii_per_decade  # type: ignore[attr-defined]
        k = cls.decades * per_decade
        return cap, tuple(cap * 10.0 ** ((j - k) / per_decade) for j in range(k)) + (cap,)

    @property
    def rigor(self) -> RigorLevel:
        return self.model.ball_rigor  # type: ignore[attr-defined]

    @property
    def bound_set(self) -> str:  # type: ignore[override]
        return "generic-hessian" if self.rigor is RigorLevel.VERIFIED else "sampled"

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.model.family} adapter, per-output Hessian bounds ({self.rigor.label}), docs/theory.md §4.1"

    def _at(self, r: float) -> tuple[float, float]:
        """(max_i eps_i, ||eps||_2) upper bounds valid on B(w0, r)."""
        if not r <= self.cap:
            return math.inf, math.inf
        k = next(j for j, rk in enumerate(self.radii) if rk >= r)
        if k not in self._values:
            self._values[k] = self.bounds_at_radius(self.radii[k])
        return self._values[k]

    def bounds_at_radius(self, radius: float) -> tuple[float, float]:
        """(max_i eps_i, ||eps||_2) on B(w0, radius) from the model's per-output bounds eps_i."""
        eps = np.asarray(self.model.hessian_bounds_at(self.w0, radius), dtype=float)  # type: ignore[attr-defined]
        return float(eps.max()), norm2_up(eps)

    def epsilon(self, S: Any, R: Any) -> Any:
        """max_i sup_{B(w0,R)} ||H_{F_i}||_2."""
        return S.of(self._at(S.hi(R))[0])

    def delta(self, S: Any, R: Any) -> Any:
        """sup_B ||DF(w) - DF(w0)||_2 <= R ||eps||_2."""
        norm = self._at(S.hi(R))[1]
        return S.of(math.inf) if norm == math.inf else R * S.of(norm)

    def curvature(self, S: Any, R: Any, rho: Any) -> Any:
        """sup ||sum_i r_i H_{F_i}||_2 over B and ||r|| <= rho: <= rho ||eps||_2."""
        norm = self._at(S.hi(R))[1]
        return S.of(math.inf) if norm == math.inf else rho * S.of(norm)

    def hints(self) -> dict:
        done = sorted(self._values)
        return {**super().hints(), "radius_cap": self.cap, "radii_evaluated": [self.radii[k] for k in done],
                "epsilon_at_radii": [self._values[k][0] for k in done]}


class AdapterBall:
    """Mixin declaring the adapters' bounds over a ball: :class:`HessianGridBounds` at the model's ``ball_rigor``."""

    ball_bound_sets = bound_sets("plproof.models.ball:HessianGridBounds")
    #: grid radii per decade of R at which the model's Hessian bounds are evaluated
    radii_per_decade = 4


class SampledBall(AdapterBall):
    """Mixin for models whose ball bounds can only be estimated (callables, torch modules): ``sampled``."""

    ball_rigor = RigorLevel.SAMPLED
    radii_per_decade = 2

    def hessian_bounds_at(self, w0: np.ndarray, R: float) -> np.ndarray:
        """``sampled`` per-output estimates of sup_{B(w0,R)} ||H_{F_i}||_2 (not bounds)."""
        return sampled_hessian_norms(self, w0, R)  # type: ignore[arg-type]

    def bounds_at(self, w0: np.ndarray, R: float, *, samples: int = 8, seed: int = 0) -> BoundsAtRadius:
        """``sampled`` estimates of epsilon and L_F on B(w0, R) (docs/theory.md §10): no proof is possible here."""
        return sampled_ball_bounds(self, w0, R, samples=samples, seed=seed)  # type: ignore[arg-type]

    def sampled_hessian_bound(self, w0: Any, R: float, samples: int = 8, seed: int = 0) -> float:
        """``sampled`` estimate of sup_{B(w0,R)} max_i ||H_{F_i}||_2 from Hessian-vector products (not a bound)."""
        w, radius = check_ball(self, w0, R)  # type: ignore[arg-type]
        return float(sampled_hessian_norms(self, w, radius, samples=samples, seed=seed).max())
