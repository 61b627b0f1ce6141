"""The sharp l_t of two-layer nets in the midpoint-radius recipe (docs/theory.md §12.2, docs/rigor.md §10).

For every smooth activation and train mode 'both' or 'hidden', the Hessian part S = sum_k r_k Hess f_k is
block diagonal over neurons (docs/theory.md §11.4); :class:`TwoLayerCurvature` encloses, at each iterate
w~_t, sigma(Z), sigma'(Z), sigma''(Z) (Z = X W^T) and r(w~_t) by the model's own formulas in
:mod:`plproof.verify.midrad`, and :func:`~plproof.routes.trajectory.error_bounds.contraction` (shared with
the tanh recipe) turns them into l_t by Lemma B with the one-sided sigma and tube corrections.
Train 'output' has S = 0: its ball bounds ("constant-kernel") already give l_t = max(1, eta LF^2 - 1).

:data:`SHARP` selects the hook by the model's ball-bound set: the bound set is what names the per-neuron
structure the bound relies on, and the verifier selects its own re-check by the same id (``hints.bounds``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plproof.routes.trajectory.error_bounds import Curvature, TubeConstants
from plproof.routes.trajectory.recipe import COVER
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


def _scatter(values: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """``values`` of rows ``idx`` placed on n rows, zeros elsewhere."""
    out = np.zeros((n,) + values.shape[1:])
    out[idx] = values
    return out


#: ball-bound set -> the hook that gives the sharp l_t for models with those bounds
SHARP = {"two-layer-t1-t3": TwoLayerCurvature}
