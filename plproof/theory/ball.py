"""The built-in families' bounds over the ball B(w0, R) (docs/theory.md §4.1, §7, §8, §11, §13).

Each class implements the ball-bounds protocol :class:`plproof.models.ball.BallBounds` (docs/rigor.md §2.5)
and is named, as "plproof.theory.ball:Class", in its family's ``Model.ball_bound_sets``:
``delta`` >= sup_B ||DF(w) - DF(w0)||_2, ``epsilon`` >= max_k sup_B ||Hess f_k|| and ``curvature(rho)`` >=
sup ||sum_k r_k Hess f_k|| over B and ||r|| <= rho, for R in a scalar namespace S (floats to search,
intervals to prove). From them (T2, §4.1): mu(R) = (sqrt(lambda0) - delta)_+^2, L_F(R) = ||DF(w0)|| + delta,
beta = L_F^2 + curvature.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np

from plproof.errors import NotCertifiable
from plproof.models import Model, TwoLayer
from plproof.models.ball import BallBounds, centre_point
from plproof.models.base import closed_form_obstacle
from plproof.numeric import floatbounds as fb
from plproof.numeric.rigor import RigorLevel
from plproof.numeric.verified import spectral_norm_upper
from plproof.theory.mlp_bounds import MLPBallBounds, MLPCentre, mlp_ball_bounds, mlp_centre


@dataclass(frozen=True, eq=False)
class ConstantKernelBounds(BallBounds):
    """F linear in the trained parameters (Linear, RandomFeatures): DF constant, every Hessian 0 (docs/theory.md §7)."""

    name = "linear (exact: epsilon = 0)"
    bound_set = "constant-kernel"
    reference = "docs/theory.md §7"

    def epsilon(self, S: Any, R: Any) -> Any:
        return S.of(0)


@dataclass(frozen=True)
class TwoLayerConstants:
    """Rigorous constants of a two-layer net at w0 (upper bounds, floats; docs/rigor.md §2.2)."""

    s: float          # 1/sqrt(width), rounded up
    S1: float
    S2: float
    v_inf: float      # ||v0||_inf (exact)
    x_max: float      # max_k ||x_k|| (rounded up)
    X_norm: float     # ||X||_2 (rounded up)
    train: str


def two_layer_constants(model: TwoLayer, w0: np.ndarray) -> TwoLayerConstants:
    """The constants of docs/theory.md §8 and §11, each rounded up."""
    require_closed_forms(model)
    act = model.activation
    if not act.smooth and model.train != "output":
        raise NotCertifiable(f"activation {act.name!r} is not C^2: no Hessian bound exists (docs/theory.md §9)")
    _, v = model.split(np.asarray(w0, dtype=float))
    x_max = max(fb.sqrt_up(fb.sumsq_upper(row)) for row in model.X)
    return TwoLayerConstants(
        s=fb.up(1 / fb.down(float(np.sqrt(model.width)))), S1=act.S1 or 0.0, S2=act.S2 or 0.0,
        v_inf=float(np.max(np.abs(v))), x_max=x_max, X_norm=spectral_norm_upper(model.X, room=True), train=model.train)


@dataclass(frozen=True, eq=False)
class TwoLayerTheoryBounds(BallBounds):
    """Per-neuron Hessian formula of docs/theory.md §8 with V = ||v0||_inf + R, then §4.1.

    ``extrapolated_width``: set only by :meth:`extrapolated_to_width` (an estimate, rigor ``sampled``).
    """

    c: TwoLayerConstants
    extrapolated_width: float | None = None

    name = "two-layer, docs/theory.md §8 + §4.1"
    bound_set = "two-layer-s8"
    reference = "docs/theory.md §8, §4.1"

    @classmethod
    def _build(cls, model: Model, w0: np.ndarray) -> Self:
        return cls(model, w0, two_layer_constants(model, w0))  # type: ignore[arg-type]

    def recentred(self, w: Any) -> Self:
        """These bounds centred at ``w`` (a new object): of the constants only ||v||_inf depends on the centre."""
        point = centre_point(self.model, w)
        _, v = self.model.split(point)  # type: ignore[attr-defined]
        return dataclasses.replace(self, w0=point, c=dataclasses.replace(self.c, v_inf=float(np.max(np.abs(v)))))

    @property
    def rigor(self) -> RigorLevel:
        return RigorLevel.VERIFIED if self.extrapolated_width is None else RigorLevel.SAMPLED

    def extrapolated_to_width(self, width: float) -> Self:
        """An estimate: these bounds for the same data at width m = ``width``, with s = m^{-1/2} and ||v0||_inf
        scaled like sqrt(2 ln 2m), the growth of the max of 2m standard normals, from its value here
        (docs/theory.md §8); lambda0, ||DF(w0)|| and ||r0|| are not part of the bounds. Rigor ``sampled``."""
        here = self.extrapolated_width or self.model.width  # type: ignore[attr-defined]
        v_inf = self.c.v_inf * math.sqrt(math.log(2 * width) / math.log(2 * here))
        return dataclasses.replace(self, c=dataclasses.replace(self.c, s=1 / math.sqrt(width), v_inf=v_inf),
                                   extrapolated_width=float(width))

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
        extra = {} if self.extrapolated_width is None else {"extrapolated_width": self.extrapolated_width}
        return {**super().hints(), **_constants_json(self.c), **extra}


@dataclass(frozen=True, eq=False)
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


@dataclass(frozen=True, eq=False)
class MLPBounds(BallBounds):
    """Layer-by-layer Hessian and Jacobian-change bounds of docs/rigor.md §2.3 (docs/theory.md §13).

    The R-independent part (M0, ``centre``) is computed once; the recursion M1-M7 per radius, cached.
    """

    centre: MLPCentre
    _cache: dict[float, MLPBallBounds] = field(default_factory=dict, init=False, repr=False)

    name = "mlp, docs/rigor.md §2"
    bound_set = "mlp"
    reference = "docs/theory.md §13"

    @classmethod
    def _build(cls, model: Model, w0: np.ndarray) -> Self:
        return cls(model, w0, mlp_centre(model, w0))  # type: ignore[arg-type]

    def _at(self, S: Any, R: Any) -> MLPBallBounds:
        r = S.hi(R)
        if r not in self._cache:
            self._cache[r] = mlp_ball_bounds(self.model, self.w0, r, self.centre)  # type: ignore[arg-type]
        return self._cache[r]

    def epsilon(self, S: Any, R: Any) -> Any:
        return S.of(self._at(S, R).epsilon)

    def delta(self, S: Any, R: Any) -> Any:
        return S.of(self._at(S, R).delta)

    def curvature(self, S: Any, R: Any, rho: Any) -> Any:
        """||sum_k r_k H_k|| <= ||r|| nu (docs/rigor.md §2.3 M9; nu <= ||eps||_2 <= sqrt(n) epsilon)."""
        return rho * S.of(self._at(S, R).nu)

    def hints(self) -> dict:
        return {**super().hints(), "widths": list(self.model.widths)}  # type: ignore[attr-defined]


def _constants_json(c: TwoLayerConstants) -> dict:
    return {"s": c.s, "S1": c.S1, "S2": c.S2, "v_inf": c.v_inf, "x_max": c.x_max, "X_norm": c.X_norm,
            "train": c.train}


def require_closed_forms(model: Model) -> None:
    """NotCertifiable unless the closed forms of ``model``'s family apply to it (closed_form_obstacle)."""
    reason = closed_form_obstacle(model)
    if reason is not None:
        raise NotCertifiable(f"{reason}: the family's ball bounds do not hold for this model")
