"""The two-layer float64 recipe as a :class:`~plproof.routes.trajectory.recipe.Recipe` (docs/theory.md §12.2-§12.3).

Steps by :func:`~plproof.routes.trajectory.recipe.gd_step`; defects and contractions by the componentwise
analysis of :mod:`~plproof.routes.trajectory.error_bounds` (docs/rigor.md §5.2, §5.4); anchors and the
terminal ball by :mod:`~plproof.routes.trajectory.terminal` (§5.3, §5.5).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from plproof.routes.trajectory.error_bounds import (ASSUMPTIONS, Curvature, Stage, TubeConstants, activation_errors,
                                                    contraction, defect, entrywise, tanh_curvature)
from plproof.routes.trajectory.recipe import COVER, RECIPE, Anchor, Block, Buffers, gd_step, make_net
from plproof.routes.trajectory.terminal import _jacobian_upper, _sigma_c, _try_terminal


class TwoLayerFloat:
    """Float64 GD of a two-layer tanh net (train='both') by the fixed recipe, with its proven error bounds.
    ``coarse``: l_t without the eigen-bounds (docs/rigor.md §10 item 6), for the driver's first pass."""

    name = RECIPE
    precision = "float64"
    assumptions = ASSUMPTIONS

    def __init__(self, model: Any, y: np.ndarray, w0: np.ndarray, coarse: bool = False) -> None:
        self.coarse = coarse
        self.bounds = model.ball_bounds(w0, "tight")  # T1-T3: the recipe admits closed-form TwoLayer only
        self.net = make_net(model, y, self.bounds.c.X_norm)
        self.buf = Buffers(self.net, np.asarray(w0, dtype=np.float64))
        self._curvature: tuple[Any, int, Curvature | None] = (None, 0, None)  # (stage, k, its Curvature)
        self.tube = TubeConstants.of(self.net.X, self.net.X_norm, 1.0, self.net.S2, self.net.S3, self.net.s_up)
        self.bounded = 0  # steps of the block whose entrywise bounds are in buf

    def run(self, k: int, eta: float) -> Block:
        """k steps from slot 0, cut after the first step whose residual is not finite (the steps after it run on
        nan and inf and are dropped: one check per block). Quietly: an overflowing step or bound is inf or nan, which
        the block reports as not finite (the run stops, "diverged")."""
        with np.errstate(all="ignore"):
            for j in range(k):
                self._step(j, eta)
            bad = np.nonzero(~np.isfinite(self.buf.r[:k]).all(axis=1))[0]
            return self._block(int(bad[0]) + 1 if bad.size else k, eta)

    def _step(self, j: int, eta: float) -> None:
        """gd_step j, then the entrywise bounds of the steps not yet bounded once they fill a chunk (their A, D are
        still in cache, :class:`~.recipe.Buffers`). A block's steps start at slot 0."""
        self.bounded = 0 if j == 0 else self.bounded
        gd_step(self.net, self.buf, j, eta)
        if j + 1 - self.bounded >= self.buf.chunk:
            entrywise(self.net, self.buf, self.bounded, j + 1)
            self.bounded = j + 1

    def _block(self, k: int, eta: float) -> Block:
        if self.bounded < k:
            entrywise(self.net, self.buf, self.bounded, k)
        self.bounded = 0
        st = defect(self.net, self.buf, k, eta)
        r = self.buf.r[:k]
        finite = bool(np.isfinite(st.rho).all() and np.isfinite(r).all())
        norms = np.sqrt(np.einsum("tk,tk->t", r, r)) + np.sqrt(np.einsum("tk,tk->t", st.Er, st.Er))
        residual = np.nextafter(norms * COVER, np.inf)
        return Block(k, st.rho, st.step, residual, finite, st)

    def shorten(self, block: Block, k: int, eta: float) -> Block:
        """The first k steps: every bound of a step depends on that step's slots only, so the stage is sliced."""
        cut = Stage(*(getattr(block.stage, f.name)[:k] for f in dataclasses.fields(Stage)))
        rho, residual = block.rho[:k], block.residual[:k]  # the block's own rho (a subclass's may not be the stage's)
        return Block(k, rho, block.step[:k], residual, bool(np.isfinite(rho).all() and np.isfinite(residual).all()),
                     cut)

    def anchor(self, block: Block, j: int) -> Anchor:
        buf = self.buf
        EA, ED = activation_errors(self.net, buf, j)
        K, err, jac = _jacobian_upper(self.net, (buf.A[j], EA, buf.D[j], ED, buf.v[j]))
        return Anchor(K, err, jac, _sigma_c(self.net, float(np.max(np.abs(buf.v[j])))))

    def contraction(self, block: Block, k: int, eta: float, e: np.ndarray, LF: np.ndarray,
                    anchor: Anchor) -> np.ndarray:
        if self._curvature[0] is not block.stage or self._curvature[1] != k:  # the driver tries several e per block
            self._curvature = (block.stage, k, tanh_curvature(self.net, self.buf, block.stage, k))
        return contraction(self._curvature[2], self.tube, eta, e, LF, eigen=not self.coarse)

    def terminal(self, block: Block, j: int, anchor: Anchor, e: float, eta: float) -> tuple[Any, float]:
        return _try_terminal(self.net, self.bounds, self.buf.W[j], self.buf.v[j], float(block.residual[j]), anchor.K,
                             anchor.err, anchor.jac, e, eta)

    def step_jacobians(self, k: int, eta: float, e: np.ndarray) -> None:
        """None: this recipe forms no window (docs/rigor.md §10, windows)."""
        return None

    def iterate(self, j: int) -> np.ndarray:
        return np.concatenate([self.buf.W[j].ravel(), self.buf.v[j]])

    def restart(self, k: int) -> None:
        self.buf.restart(k)
