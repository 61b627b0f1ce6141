"""Bounds over the ball B(w0, R) for each model family (docs/theory.md §4.1, §8, §11).

A :class:`BallBounds` gives, for a radius R in a scalar namespace S (floats to search, intervals
to prove): ``delta`` >= sup_B ||DF(w) - DF(w0)||_2, ``epsilon`` >= max_k sup_B ||Hess f_k|| and
``curvature(rho)`` >= sup ||sum_k r_k Hess f_k|| over B and ||r|| <= rho. From them (T2, §4.1):
mu(R) = (sqrt(lambda0) - delta)_+^2, L_F(R) = ||DF(w0)|| + delta, beta = L_F^2 + curvature.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

import numpy as np

from plproof.errors import InvalidInput, NotCertifiable
from plproof.models import MLP, Linear, Model, TwoLayer
from plproof.models.base import closed_form_obstacle, generic_model
from plproof.numeric import floatbounds as fb
from plproof.numeric.rigor import RigorLevel
from plproof.numeric.verified import spectral_norm_upper
from plproof.theory.mlp_bounds import mlp_ball_bounds, mlp_centre

BOUND_SETS = ("tight", "theory")


class BallBounds(abc.ABC):
    """Upper bounds over B(w0, R) that hold for every R >= 0, at ``rigor``."""

    name: str = "ball bounds"
    #: the explicit id of this bound set in certificates (plproof.verify.families re-derives it by this id)
    bound_set: str = ""
    reference: str = ""
    rigor: RigorLevel = RigorLevel.VERIFIED

    def __init__(self, n: int) -> None:
        self.n = n

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


class LinearBounds(BallBounds):
    """F linear in w: DF constant, every Hessian 0 (docs/theory.md §7)."""

    name = "linear (exact: epsilon = 0)"
    bound_set = "constant-kernel"
    reference = "docs/theory.md §7"

    def epsilon(self, S: Any, R: Any) -> Any:
        return S.of(0)


@dataclass(frozen=True)
class _TwoLayerConstants:
    """Rigorous constants of a two-layer net at w0 (upper bounds, floats)."""

    s: float          # 1/sqrt(width), rounded up
    S1: float
    S2: float
    v_inf: float      # ||v0||_inf (exact)
    x_max: float      # max_k ||x_k|| (rounded up)
    x_norms: np.ndarray  # ||x_k|| (rounded up)
    X_norm: float     # ||X||_2 (rounded up)
    train: str


def two_layer_constants(model: TwoLayer, w0: np.ndarray) -> _TwoLayerConstants:
    """The constants of docs/theory.md §8 and §11, each rounded up."""
    require_closed_forms(model)
    act = model.activation
    if not act.smooth and model.train != "output":
        raise NotCertifiable(f"activation {act.name!r} is not C^2: no Hessian bound exists (docs/theory.md §9)")
    _, v = model.split(np.asarray(w0, dtype=float))
    x_norms = np.array([fb.sqrt_up(fb.sumsq_upper(row)) for row in model.X])
    return _TwoLayerConstants(
        s=fb.up(1 / fb.down(float(np.sqrt(model.width)))), S1=act.S1 or 0.0, S2=act.S2 or 0.0,
        v_inf=float(np.max(np.abs(v))), x_max=float(x_norms.max()), x_norms=x_norms,
        X_norm=spectral_norm_upper(model.X), train=model.train)


class TwoLayerTheoryBounds(BallBounds):
    """Per-neuron Hessian formula of docs/theory.md §8 with V = ||v0||_inf + R, then §4.1."""

    name = "two-layer, docs/theory.md §8 + §4.1"
    bound_set = "two-layer-s8"
    reference = "docs/theory.md §8, §4.1"

    def __init__(self, model: TwoLayer, w0: np.ndarray) -> None:
        super().__init__(model.n_outputs)
        self.c = two_layer_constants(model, w0)

    def _V(self, S: Any, R: Any) -> Any:
        return S.of(self.c.v_inf) + (R if self.c.train == "both" else 0)

    def epsilon(self, S: Any, R: Any) -> Any:
        c = self.c
        if c.train == "output":
            return S.of(0)
        V, x, S1, S2 = self._V(S, R), S.of(c.x_max), S.of(c.S1), S.of(c.S2)
        if c.train == "hidden":  # ||H|| = s max_i |v_i sigma''| ||x||^2 exactly (docs/theory.md §8)
            return S.of(c.s) * V * S2 * x * x
        a = V * S2 * x * x
        return S.of(c.s) * (a + S.sqrt(a * a + 4 * S1 * S1 * x * x)) / 2

    def hints(self) -> dict:
        return {**super().hints(), **_constants_json(self.c)}


class TwoLayerTightBounds(TwoLayerTheoryBounds):
    """Structure-aware T1 (Jacobian change) and T3 (curvature) of docs/theory.md §11.3-§11.4."""

    name = "two-layer, docs/theory.md §11 (T1-T3)"
    bound_set = "two-layer-t1-t3"
    reference = "docs/theory.md §11.3, §11.4"

    def delta(self, S: Any, R: Any) -> Any:
        """T1: s ||X|| sig(c) R with c = S2 ||v0||_inf x_max, sig(c) = (c + sqrt(c^2 + 4 S1^2))/2."""
        k = self.c
        if k.train == "output":
            return S.of(0)
        c = S.of(k.S2) * S.of(k.v_inf) * S.of(k.x_max)
        S1 = S.of(k.S1)
        sig = c if k.train == "hidden" else (c + S.sqrt(c * c + 4 * S1 * S1)) / 2
        return S.of(k.s) * S.of(k.X_norm) * sig * R

    def curvature(self, S: Any, R: Any, rho: Any) -> Any:
        """T3: (s/2)(alpha + sqrt(alpha^2 + 4 gamma^2)), alpha = V S2 rho min(||X||^2, sqrt(n) x_max^2)."""
        k = self.c
        if k.train == "output":
            return S.of(0)
        X2 = S.of(min(fb.mul_up(k.X_norm, k.X_norm), fb.mul_up(fb.sqrt_up(self.n), fb.mul_up(k.x_max, k.x_max))))
        alpha = self._V(S, R) * S.of(k.S2) * rho * X2
        if k.train == "hidden":
            return S.of(k.s) * alpha
        gamma = S.of(k.S1) * S.of(k.X_norm) * rho
        return S.of(k.s) * (alpha + S.sqrt(alpha * alpha + 4 * gamma * gamma)) / 2


class MLPBounds(BallBounds):
    """Layer-by-layer Hessian and Jacobian-change bounds of docs/rigor.md §2 (docs/theory.md §13)."""

    name = "mlp, docs/rigor.md §2"
    bound_set = "mlp"
    reference = "docs/theory.md §13"

    def __init__(self, model: MLP, w0: np.ndarray) -> None:
        super().__init__(model.n_outputs)
        self.model, self.w0 = model, w0
        self.centre = mlp_centre(model, w0)
        self._cache: dict[float, Any] = {}

    def _at(self, S: Any, R: Any) -> Any:
        r = S.hi(R)
        if r not in self._cache:
            self._cache[r] = mlp_ball_bounds(self.model, self.w0, r, self.centre)
        return self._cache[r]

    def epsilon(self, S: Any, R: Any) -> Any:
        return S.of(self._at(S, R).epsilon)

    def delta(self, S: Any, R: Any) -> Any:
        return S.of(self._at(S, R).delta)

    def curvature(self, S: Any, R: Any, rho: Any) -> Any:
        """||sum_k r_k H_k|| <= ||r|| nu (docs/rigor.md §2.3 M9; nu <= ||eps||_2 <= sqrt(n) epsilon)."""
        return rho * S.of(self._at(S, R).nu)

    def hints(self) -> dict:
        return {**super().hints(), "widths": list(self.model.widths)}


def _constants_json(c: _TwoLayerConstants) -> dict:
    return {"s": c.s, "S1": c.S1, "S2": c.S2, "v_inf": c.v_inf, "x_max": c.x_max, "X_norm": c.X_norm,
            "train": c.train}


def require_closed_forms(model: Model) -> None:
    """NotCertifiable unless the closed forms of ``model``'s family apply to it (closed_form_obstacle)."""
    reason = closed_form_obstacle(model)
    if reason is not None:
        raise NotCertifiable(f"{reason}: the family's ball bounds do not hold for this model")


def bounds_for(model: Model, w0: np.ndarray, bounds: str = "tight") -> BallBounds:
    """The ball bounds of a model's family (``tight``: §11 where proved, else ``theory``: §4.1/§8).

    A model whose family closed forms do not apply (closed_form_obstacle) gets the ``sampled`` bounds of
    its F (plproof.models.base.generic_model), as a Python callable does; an adapter its own.
    """
    if bounds not in BOUND_SETS:
        raise InvalidInput(f"unknown bound set {bounds!r}: use one of {', '.join(BOUND_SETS)}")
    if closed_form_obstacle(model) is not None:
        if not model.is_smooth:
            raise NotCertifiable(f"{type(model).__name__} is not smooth (C^2): no Hessian bound over a ball "
                                 "exists (docs/theory.md §9)")
        return generic_model(model).ball_bounds(w0)  # type: ignore[attr-defined]
    if isinstance(model, Linear) or (isinstance(model, TwoLayer) and model.train == "output"):
        return LinearBounds(model.n_outputs)
    if isinstance(model, TwoLayer):
        return (TwoLayerTightBounds if bounds == "tight" else TwoLayerTheoryBounds)(model, w0)
    if isinstance(model, MLP):
        return MLPBounds(model, w0)
    own = getattr(model, "ball_bounds", None)
    if own is None:
        raise NotCertifiable(f"no Hessian bound over a ball is known for {type(model).__name__} models")
    return own(w0)
