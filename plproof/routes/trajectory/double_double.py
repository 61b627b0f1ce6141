"""The two-layer double-double recipe of the run route (docs/theory.md §12, docs/rigor.md §9.6-§9.7).

Iterates are exact pairs w~_t = w_h + w_l of floats, stepped by :func:`plproof.verify.dd_step.dd_step`,
whose rho_t is ~1e-30 relative: the shadowing chain e_{t+1} = l_t e_t + rho_t then carries far more
amplification than float64's rho_t ~ 1e-16. The contraction, anchors and terminal ball are those of the
float recipe evaluated at the float point w_h (its stages by :func:`gd_step`, bounded by the float analysis
of docs/rigor.md §5.2-§5.5) on a tube enlarged by delta_t >= ||w_l||: B(w~_t, e) is inside B(w_h, e + delta_t)
(docs/rigor.md §9.7).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from plproof.routes.trajectory import fused
from plproof.routes.trajectory.error_bounds import ASSUMPTIONS
from plproof.routes.trajectory.recipe import BLOCK, COVER, Anchor, Block
from plproof.routes.trajectory.two_layer import TwoLayerFloat
from plproof.verify.dd_step import dd_step

RECIPE_DD = "plproof two-layer tanh GD step dd v3"  # dd_step from the exact pair (hi, lo), docs/rigor.md §9.6;
# v3: the float stages at w_h and the float64 steps after a switch are float recipe v4's (table tanh)
DD_ASSUMPTION = ("BLAS products of integer-valued float64 matrices with partial sums below 2^53 are exact "
                 "(docs/rigor.md §9.5)")


def _up_norm(x: np.ndarray) -> np.ndarray:
    """Upper bounds on the Euclidean norms over every axis but the first (float evaluation covered)."""
    flat = x.reshape(x.shape[0], -1)
    return np.nextafter(np.sqrt(np.einsum("ij,ij->i", flat, flat)) * COVER, np.inf)


class TwoLayerDD(TwoLayerFloat):
    """Double-double GD of a two-layer tanh net (train='both'): rho_t from dd_step, the rest from the float
    recipe's bounds at w_h with tube radii e + ||w_l|| (docs/rigor.md §9.7).

    With ``switch_at`` the run goes on by the float64 recipe from the first block start at or after that step
    (docs/rigor.md §9.8): double-double where the amplification still ahead is large, float64's speed after.
    ``float_from`` is the step where it did (None while in double-double)."""

    name = RECIPE_DD
    precision = "double-double"
    assumptions = ASSUMPTIONS + (DD_ASSUMPTION,)

    def __init__(self, model: Any, y: np.ndarray, w0: np.ndarray, switch_at: int | None = None) -> None:
        super().__init__(model, y, w0)
        net = self.net
        self.hi = np.empty((BLOCK + 1, net.m * net.d + net.m))
        self.lo = np.zeros_like(self.hi)
        self.hi[0] = np.asarray(w0, dtype=np.float64)
        self.rho, self.step = np.empty(BLOCK), np.empty(BLOCK)
        self.delta = np.empty(BLOCK + 1)   # delta[j] >= ||w_l|| of iterate j
        self.ready, self.eta = 0, None     # dd steps from slot 0 already computed (kept across a shortened block)
        self.switch_at, self.float_from, self.t = switch_at, None, 0  # t: the step of slot 0

    def _split(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        md = self.net.m * self.net.d
        return w[:md].reshape(self.net.m, self.net.d), w[md:]

    def run(self, k: int, eta: float) -> Block:
        """Up to k dd steps from slot 0 (reusing those computed before a restart); stops at an overflow. After the
        switch: float64 steps (:meth:`TwoLayerFloat.run`), the first block's ``jump`` >= ||w_l|| dropped there."""
        if self.float_from is not None:
            return super().run(k, eta)
        if self.switch_at is not None and self.t >= self.switch_at:
            return self._switch(k, eta)
        X, y = self.net.X, self.net.y
        if eta != self.eta:
            self.ready, self.eta = 0, eta
        done, finite = min(self.ready, k), True
        fast = fused.kernels("dd_kernels")
        step = dd_step if fast is None else fast.dd_step  # bitwise the same DDStep (docs/rigor.md §9.7)
        for j in range(done, k):
            (Wh, vh), (Wl, vl) = self._split(self.hi[j]), self._split(self.lo[j])
            try:
                st = step(X, y, eta, Wh, Wl, vh, vl)
            except FloatingPointError:
                finite = False
                break
            self.hi[j + 1] = np.concatenate([st.W_hi.ravel(), st.v_hi])
            self.lo[j + 1] = np.concatenate([st.W_lo.ravel(), st.v_lo])
            self.rho[j], self.step[j] = st.rho, st.step
            done = j + 1
        self.ready = done
        self.delta[: done + 1] = _up_norm(self.lo[: done + 1])
        buf = self.buf
        with np.errstate(all="ignore"):  # an overflowing bound is inf or nan: not finite, the run stops
            for j in range(done):  # the float stages at w_h of each iterate (gd_step's next iterate is discarded)
                buf.W[j], buf.v[j] = self._split(self.hi[j])
                self._step(j, eta)
            buf.W[done], buf.v[done] = self._split(self.hi[done])
            block = self._block(done, eta)
        return dataclasses.replace(block, finite=block.finite and finite)

    def _block(self, k: int, eta: float) -> Block:
        block = super()._block(k, eta)
        if self.float_from is not None:
            return block
        return dataclasses.replace(block, rho=self.rho[:k].copy(), step=self.step[:k].copy())

    def _switch(self, k: int, eta: float) -> Block:
        """The first float64 block: slot 0 becomes w_h (the pair's lo part dropped, jump = delta_0 >= ||w_l||)."""
        jump = float(_up_norm(self.lo[:1])[0])
        self.float_from, self.ready = self.t, 0
        self.lo[:] = 0.0
        self.delta[:] = 0.0
        self.buf.W[0], self.buf.v[0] = self._split(self.hi[0])
        return dataclasses.replace(super().run(k, eta), jump=jump)

    def anchor(self, block: Block, j: int) -> Anchor:
        """The float recipe's anchor at w_h; ``data`` = delta_j, its distance bound to w~_j."""
        return dataclasses.replace(super().anchor(block, j), data=float(self.delta[j]))

    def contraction(self, block: Block, k: int, eta: float, e: np.ndarray, LF: np.ndarray,
                    anchor: Anchor) -> np.ndarray:
        """l_j over B(w_h, e_j + delta_j), which contains B(w~_j, e_j); its ||DF|| bound grows by
        kappa_a (delta_a + 2 delta_j): w_h of the anchor and of step j are delta_a, delta_j off the dd path."""
        d = self.delta[:k]
        e2 = np.nextafter((e + d) * COVER, np.inf)
        LF2 = np.nextafter((LF + anchor.kappa * (anchor.data + 2 * d)) * COVER, np.inf)
        return super().contraction(block, k, eta, e2, LF2, anchor)

    def terminal(self, block: Block, j: int, anchor: Anchor, e: float, eta: float) -> tuple[Any, float]:
        """The float recipe's terminal ball centred at w_h with radius e + delta_j >= ||w_T - w_h||."""
        return super().terminal(block, j, anchor, float(np.nextafter((e + self.delta[j]) * COVER, np.inf)), eta)

    def iterate(self, j: int) -> np.ndarray:
        """The exact pair of iterate j as rows (w_h, w_l); after the switch (w~_j, 0)."""
        if self.float_from is not None:
            return np.stack([super().iterate(j), np.zeros(self.hi.shape[1])])
        return np.stack([self.hi[j], self.lo[j]])

    def restart(self, k: int) -> None:
        """Iterate k to slot 0, with the dd steps after it that the block computed."""
        self.t += k
        if self.float_from is not None:
            return super().restart(k)
        n = self.ready - k
        self.hi[: n + 1], self.lo[: n + 1] = self.hi[k: k + n + 1].copy(), self.lo[k: k + n + 1].copy()
        self.rho[:n], self.step[:n] = self.rho[k: k + n].copy(), self.step[k: k + n].copy()
        self.ready = n
        super().restart(k)
