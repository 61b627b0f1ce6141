"""The contraction of a window of steps as one product (docs/rigor.md §10, windows): ||M_(t+k-1) ... M_t|| instead of
prod_j ||M_j||, for two-layer nets (train 'both' or 'hidden').

The shadowing error of a run, delta_(j+1) = M_j delta_j + d_j with M_j = int_0^1 DG_j(w~_j + tau delta_j) dtau
(G_j the exact step, d_j its float defect, ||delta_j|| <= e_j), gives over a window
delta_(t+k) = Phi delta_t + sum_j (prod_(i>j) M_i) d_j with Phi = M_(t+k-1) ... M_t, so

    e_(t+k) = c e_t + sum_j (prod_(i>j) l_i) rho_j,    c >= ||Phi||,

the second term being the step-by-step chain started from 0. Each M_j lies entrywise in the enclosure of
DG_j = I - eta Hess L_B over the box |w - w~_j|_inf <= e^_j, which contains B(w~_j, e^_j) and every point the
integral visits; :func:`step_jacobian` encloses it in midpoint-radius arithmetic (:mod:`.midrad`, the batch's
Hessian J_B^T C J_B + sum_k c_k r_k Hess f_k in closed form), the product is enclosed by midpoint-radius matrix
products and c = ||mid||_2 + ||rad||_F with ||mid||_2 bounded through an eigendecomposition of mid^T mid.
Step-by-step norms multiply the worst direction of every step; SGD's steps act on different directions, and
the product of 32 of them can be e^2 smaller than the product of their norms (measured: a two-layer net of
width 8, batch size 1, e^4 over 4000 steps against e^148).

The module is the verifier's trusted code (numpy and the standard library only); the producer runs the same.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from plproof.verify.midrad import COVER, MIDRAD, MR, as_mr, gamma, radius, rows_of

#: steps per sub-window at least (the producer closes one at the first block end after them, the verifier
#: after exactly this many steps), and sub-windows per window
SUB, SUBS = 32, 4
#: the largest parameter count a window is formed for (a step costs a few P x P x P products)
MAX_PARAMS = 512


def applies(model: Any) -> bool:
    """Whether windows are formed for this model: a two-layer net (train 'both' or 'hidden', the closed-form
    Hessian below) with at most MAX_PARAMS parameters. Producer and verifier decide by this one rule."""
    cls = type(model)  # exactly the built-in class: a subclass may change F and inherits no Hessian
    return (cls.__name__ == "TwoLayer" and cls.__module__ == "plproof.models.two_layer"
            and model.train in ("both", "hidden") and model.n_params <= MAX_PARAMS)


def step_jacobian(model: Any, w: np.ndarray, box: float, y: np.ndarray, eta: float,
                  rows: np.ndarray | None = None) -> MR:
    """DG(w') = I - eta Hess L_B(w') enclosed for every w' with |w' - w|_inf <= box (P x P).

    L_B = sum_k c_k 1/2 (f_k - y_k)^2 over the batch (c_k the multiplicity of k; every row once without
    ``rows``). Two-layer f_k = s sum_i v_i sigma(w_i . x_k): J_B rows (s v_i sigma'_ki x_k, s sigma_ki);
    sum_k a_k Hess f_k (a = c o r) has, per neuron i, the W_i W_i block s v_i X^T diag(a o sigma''_i) X and the
    W_i v_i column s X^T (a o sigma'_i); v v is 0."""
    c = None
    if rows is not None:
        distinct, count = np.unique(rows, return_counts=True)
        model, y, c = rows_of(model, distinct), y[distinct], count.astype(np.float64)
    wb = MR(w, np.full(w.shape, box)) if box > 0 else MR(w)
    X, v, s, A, D, D2 = model._features(wb, MIDRAD, 2)
    X = as_mr(X)
    b, d = X.shape
    m = A.shape[1]
    r = (A @ v) * s - as_mr(y)
    a = r if c is None else r * c
    both = model.train == "both"
    JW = ((D * v) * s).reshape(b, m, 1) * X.reshape(b, 1, d)     # (b, m, d): s v_i sigma'_ki x_k
    J = JW.reshape(b, m * d)
    if both:
        J = np.concatenate([J, A * s], axis=1)
    Jc = J if c is None else J * c.reshape(b, 1)
    H = Jc.T @ J                                                   # J_B^T C J_B
    P = m * d + (m if both else 0)
    mid, rad = H.mid.copy(), radius(H).copy()
    G = (a.reshape(b, 1) * D2).T                                  # (m, b): a_k sigma''_ki
    WW = ((X.T.reshape(1, d, b) * G.reshape(m, 1, b)) @ X.reshape(1, b, d)) * (v * s).reshape(m, 1, 1)
    Wm, Wr = WW.mid, radius(WW)
    for i in range(m):
        block = slice(i * d, (i + 1) * d)
        mid[block, block] += Wm[i]
        rad[block, block] += Wr[i]
    if both:
        Wv = (X.T @ (a.reshape(b, 1) * D)) * s                     # (d, m): column i is the W_i v_i block
        Vm, Vr = Wv.mid, radius(Wv)
        for i in range(m):
            col = m * d + i
            mid[i * d:(i + 1) * d, col] += Vm[:, i]
            mid[col, i * d:(i + 1) * d] += Vm[:, i]
            rad[i * d:(i + 1) * d, col] += Vr[:, i]
            rad[col, i * d:(i + 1) * d] += Vr[:, i]
    # the additions above: |fl(x + y) - (x + y)| <= U1 |fl(x + y)|, covered by the U1 term of the subtraction
    # below applied to the sum (each entry gets at most one addition)
    Hs = MR(mid, rad * COVER + 2.0**-52 * np.abs(mid))
    return MR(np.eye(P)) - Hs * eta


class Window:
    """A window of steps being formed, in sub-windows of at least SUB steps (docs/rigor.md §10, windows).

    With Phi_q the product of sub-window q's step Jacobians and D_q its chain from 0 (sum_j prod_(i>j) l_i rho_j
    over its steps), after sub-window q the shadowing error is bounded by

        e_q = ||Phi_q ... Phi_1|| e0 + sum_(q' <= q) ||Phi_q ... Phi_(q'+1)|| D_(q'),

    every defect carried through the products of the sub-windows after its own: kept here are the enclosure of
    the whole product, of each suffix product and the open sub-window's product and chain."""

    def __init__(self, e0: float) -> None:
        self.e0, self.total, self.suffixes = e0, None, []
        self.open, self.chain, self.open_steps, self.log_steps = None, 0.0, 0, 0.0

    def extend(self, factors: list[MR], ell: Any, rho: Any) -> None:
        """Steps with their DG enclosures, contraction bounds l_j and defect bounds rho_j, in order."""
        for A, l, r in zip(factors, ell, rho):
            self.open = A if self.open is None else A @ self.open
            self.chain = _up(_up(float(l) * self.chain) + float(r))
            self.log_steps += math.log(float(l))
            self.open_steps += 1

    @property
    def closable(self) -> bool:
        """The open sub-window has SUB steps or more."""
        return self.open_steps >= SUB

    @property
    def full(self) -> bool:
        """The window has SUBS sub-windows: the caller starts a new one from the radius it gives."""
        return len(self.suffixes) >= SUBS

    def close(self) -> tuple[float, float]:
        """Close the open sub-window: (e, c), e >= the shadowing error after its last step, c >= ||Phi|| of the
        whole window so far."""
        Phi = self.open
        self.suffixes = [(Phi if S is None else Phi @ S, D) for S, D in self.suffixes] + [(None, self.chain)]
        self.total = Phi if self.total is None else Phi @ self.total
        self.open, self.chain, self.open_steps = None, 0.0, 0
        c = norm_upper(self.total)
        e = _up(c * self.e0)
        for S, D in self.suffixes:
            e = _up(e + (D if S is None else _up(norm_upper(S) * D)))
        return e, c


def _up(x: float) -> float:
    return math.nextafter(x, math.inf)


def norm_upper(M: MR) -> float:
    """>= ||M'||_2 for every M' in the enclosure: ||mid||_2 + ||rad||_F, ||mid||_2^2 <= lambda_max(S),
    S = mid^T mid, bounded through float eigenpairs (Lambda, V) of S~ = fl(S): lambda_max(S) <=
    max(lambda_1, 0) ||V||_2^2 + ||S~ - V Lambda V^T||_F + ||S - S~||_F, ||V||_2^2 <= 1 + ||V^T V - I||_F
    (Rayleigh quotients and Weyl's inequality, docs/rigor.md §10, windows); every float evaluation's rounding covered
    by gamma_k terms."""
    mid, rad = M.mid, radius(M)
    P = mid.shape[0]
    am = np.abs(mid)
    S = mid.T @ mid
    S_err = _fro(am.T @ am) * gamma(P) * COVER                     # ||S - S~||_F
    lam, V = np.linalg.eigh(S)
    R = S - (V * lam) @ V.T
    nV2 = float(np.einsum("ij,ij->", V, V))
    VtV = V.T @ V - np.eye(P)
    sV = 1.0 + (_fro(VtV) + gamma(P + 1) * nV2) * COVER
    R_err = gamma(P + 2) * (_fro(S) + float(np.abs(lam).max()) * nV2) * COVER
    top = max(float(lam.max()), 0.0) * sV + (_fro(R) + R_err + S_err) * COVER
    return math.nextafter((math.sqrt(top) * COVER + _fro(rad)) * COVER, math.inf)


def _fro(x: np.ndarray) -> float:
    """>= ||x||_F (relative rounding within COVER)."""
    flat = np.ravel(x)
    return math.nextafter(math.sqrt(float(flat @ flat)) * COVER, math.inf)
