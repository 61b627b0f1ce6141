"""The sharp l_t of the midpoint-radius recipe: two-layer nets and SymPy models (docs/theory.md §12.2, docs/rigor.md
§10).

For every smooth activation and train mode 'both' or 'hidden', the Hessian part S = sum_k r_k Hess f_k is
block diagonal over neurons (docs/theory.md §11.4); :class:`TwoLayerCurvature` encloses, at each iterate
w~_t, sigma(Z), sigma'(Z), sigma''(Z) (Z = X W^T) and r(w~_t) by the model's own formulas in
:mod:`plproof.verify.midrad`, and :func:`~plproof.routes.trajectory.error_bounds.contraction` (shared with
the tanh recipe) turns them into l_t by Lemma B with the one-sided sigma and tube corrections.
Train 'output' has S = 0: its ball bounds ("constant-kernel") already give l_t = max(1, eta LF^2 - 1).
A SymPy model (:class:`ExprCurvature`) has no such structure: S itself is enclosed over the box around each iterate.

:data:`SHARP` selects the hook by the model's ball-bound set: the bound set is what names the per-neuron
structure the bound relies on, and the verifier selects its own re-check by the same id (``hints.bounds``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plproof.errors import NotCertifiable
from plproof.routes.trajectory.error_bounds import Curvature, TubeConstants, contraction
from plproof.routes.trajectory.recipe import COVER
from plproof.verify.exact import Failure
from plproof.verify.midrad import MIDRAD, as_mr, radius, rows_of


class TwoLayerCurvature:
    """Per-iterate enclosures of a closed-form two-layer net (train 'both' or 'hidden') for the sharp l_t."""

    def __init__(self, model: Any, y: np.ndarray, bounds: Any) -> None:
        self.model, self.y = model, y
        act, c = model.activation, bounds.c
        self.tube = TubeConstants.of(model.X, c.X_norm, act.S1, act.S2, act.S3, c.s)
        self.moves_v = model.train == "both"

    def at(self, w: np.ndarray, rows: np.ndarray | None = None) -> tuple[Any, ...]:
        """(g, |r~|, Er, |v|, F, qn, qr, weight) of :class:`Curvature` at w~ (one step), from midpoint-radius
        enclosures. With a mini-batch ``rows`` (docs/theory.md §12.6) r is a = c o r on the distinct rows of the
        batch (c their multiplicities, ``weight``), every other row's entries 0: S = sum_k c_k r_k Hess f_k."""
        model, y, idx = self.model, self.y, None
        if rows is not None:
            idx, count = np.unique(rows, return_counts=True)
            model, y = rows_of(model, idx), y[idx]
        X, v, scale, A, D, D2 = model._features(w, MIDRAD, 2)
        v = as_mr(v).mid
        r = (A @ v) * scale - as_mr(y)
        if idx is not None:
            r = r * count.astype(np.float64)  # exact integers; the product's rounding is in the radius
        ar, Er, F = np.abs(r.mid), radius(r), radius(D2)
        g = (D2.mid * r.mid[:, None]) * v
        Q = (D * r[:, None]).T @ X
        qn = (np.sqrt(np.einsum("ij,ij->i", Q.mid, Q.mid)) + np.sqrt((radius(Q) ** 2).sum(axis=1))) * COVER
        qr = np.linalg.norm((ar + Er) * self.tube.xn[idx if idx is not None else slice(None)]) * COVER
        weight = None
        if idx is not None:  # scattered onto all n rows
            n = self.y.shape[0]
            g, F = _scatter(g, idx, n), _scatter(F, idx, n)
            ar, Er, weight = _scatter(ar, idx, n), _scatter(Er, idx, n), _scatter(count.astype(np.float64), idx, n)
        return g, ar, Er, np.abs(v), F, qn, np.float64(qr), weight

    def curvature(self, stages: list[tuple[Any, ...]]) -> Curvature:
        """The :class:`Curvature` of a block from its per-step enclosures."""
        g, ar, Er, av, F, qn, qr = (np.stack(parts) for parts in zip(*(st[:7] for st in stages)))
        weight = None if stages[0][7] is None else np.stack([st[7] for st in stages])
        cmax = None if weight is None else weight.max(axis=1)
        return Curvature(g, ar, Er, av, F, qn if self.moves_v else None, qr, self.moves_v, weight, cmax)

    def ell(self, stages: list[tuple[Any, ...]], eta: float, e: np.ndarray, LF: np.ndarray,
            LB: np.ndarray | None) -> np.ndarray:
        """l_j of the block's steps: :func:`contraction` of their :class:`Curvature` (tube radii e, sup ||DF|| <= LF,
        a mini-batch's sup ||DF_B|| <= LB)."""
        return contraction(self.curvature(stages), self.tube, eta, e, LF, LB)


class ExprCurvature:
    """The sharp l_t of a SymPy model through the verifier's own interval jets (plproof.verify.expr.ExprFamily):
    on the tube, Hess L = J^T J + S with 0 <= J^T J <= LF^2 and -sigma <= S <= h, so by Weyl
    ||I - eta Hess L|| <= max(1 + eta sigma, eta (LF^2 + h) - 1), (sigma, h) from
    :meth:`~plproof.verify.expr.ExprFamily.curvature` over the box of half-width e_j around w~_j (which contains the
    ball; docs/rigor.md §10, SymPy models). The verifier evaluates the same function at its own radii. Full-batch
    GD only (the run route certifies SGD of the built-in families only)."""

    def __init__(self, family: Any, y: np.ndarray) -> None:
        self.family, self.y = family, y

    @classmethod
    def of(cls, model: Any, y: np.ndarray, bounds: Any) -> "ExprCurvature | None":
        """The hook of a model whose ball bounds carry the verifier's model of F (None where it has none)."""
        family = getattr(bounds, "verifier_family", None)
        return None if family is None else cls(family, y)

    def at(self, w: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """The iterate w~ (its l_t depends on the tube radius, known later). A mini-batch ``rows`` is refused: this
        l_t bounds I - eta Hess L of the full loss, not of a batch's."""
        if rows is not None:
            raise NotCertifiable("not certifiable by the run route: the sharp l_t of a SymPy model is the full "
                                 "batch's; use method='gd'")
        return w.copy()

    def ell(self, stages: list[np.ndarray], eta: float, e: np.ndarray, LF: np.ndarray, LB: None) -> np.ndarray:
        """l_j of the block's steps (inf where an enclosure is unbounded: the run stops)."""
        out = np.empty(len(stages))
        for j, w in enumerate(stages):
            try:
                sigma, h = self.family.curvature(w, float(e[j]), self.y)
            except (Failure, ArithmeticError):
                sigma = h = np.inf
            out[j] = max(1.0 + eta * sigma * COVER, eta * (LF[j] * LF[j] + h) * COVER - 1.0)
        return np.nextafter(out, np.inf)


def _scatter(values: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """``values`` of rows ``idx`` placed on n rows, zeros elsewhere."""
    out = np.zeros((n,) + values.shape[1:])
    out[idx] = values
    return out


#: ball-bound set -> the hook that gives the sharp l_t for models with those bounds (None: the hook does not apply)
SHARP = {"two-layer-t1-t3": TwoLayerCurvature, "generic-hessian": ExprCurvature.of}
