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
from plproof.verify.midrad import MIDRAD, as_mr, radius


class TwoLayerCurvature:
    """Per-iterate enclosures of a closed-form two-layer net (train 'both' or 'hidden') for the sharp l_t."""

    def __init__(self, model: Any, y: np.ndarray, bounds: Any) -> None:
        self.model, self.y = model, y
        act, c = model.activation, bounds.c
        self.tube = TubeConstants.of(model.X, c.X_norm, act.S1, act.S2, act.S3, c.s)
        self.moves_v = model.train == "both"

    def at(self, w: np.ndarray) -> tuple[np.ndarray, ...]:
        """(g, |r~|, Er, |v|, F, qn, qr) of :class:`Curvature` at w~ (one step), from midpoint-radius enclosures."""
        X, v, scale, A, D, D2 = self.model._features(w, MIDRAD, 2)
        v = as_mr(v).mid
        r = (A @ v) * scale - as_mr(self.y)
        ar, Er = np.abs(r.mid), radius(r)
        g = (D2.mid * r.mid[:, None]) * v
        Q = (D * r[:, None]).T @ X
        qn = (np.sqrt(np.einsum("ij,ij->i", Q.mid, Q.mid)) + np.sqrt((radius(Q) ** 2).sum(axis=1))) * COVER
        qr = np.linalg.norm((ar + Er) * self.tube.xn) * COVER
        return g, ar, Er, np.abs(v), radius(D2), qn, np.float64(qr)

    def curvature(self, stages: list[tuple[np.ndarray, ...]]) -> Curvature:
        """The :class:`Curvature` of a block from its per-step enclosures."""
        g, ar, Er, av, F, qn, qr = (np.stack(parts) for parts in zip(*stages))
        return Curvature(g, ar, Er, av, F, qn if self.moves_v else None, qr, self.moves_v)


#: ball-bound set -> the hook that gives the sharp l_t for models with those bounds
SHARP = {"two-layer-t1-t3": TwoLayerCurvature}
