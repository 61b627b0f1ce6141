"""One double-double GD step of a two-layer tanh net, train='both', with a proven defect (docs/rigor.md §9.6).

f(x; W, v) = s v^T tanh(W x), s = m^{-1/2}, L = 1/2 ||F(w) - y||^2, G(w) = w - eta grad L(w) with the float
eta and the exact s. The recipe of plproof/run.py's float step, each operation in double-double ball
arithmetic (plproof.verify.doubledouble) at the exact iterate w~_t = (hi + lo):
Z = X W^T, A = tanh Z, p = A v, r = s p - y, D = 1 - A o A, q = A^T r, Q = (D o r)^T X,
W1 = W - Q o (eta s v), v1 = v - eta (s q). The balls of W1, v1 contain G(w~_t); their centres
(hi, lo) are the next iterate w~_{t+1}, so rho_t = ||radii||_2 >= ||G(w~_t) - w~_{t+1}||.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from plproof.verify import doubledouble as dd


@dataclass(frozen=True)
class DDStep:
    """The next iterate w~_{t+1} (exact pairs hi + lo), rho_t, and float64 roundings of the step's stages
    with componentwise bounds against the exact values at w~_t (as plproof/run.py's ``Stage``)."""

    W_hi: np.ndarray
    W_lo: np.ndarray
    v_hi: np.ndarray
    v_lo: np.ndarray
    rho: float        # >= ||G(w~_t) - w~_{t+1}||_2 over all parameters
    step: float       # >= ||w~_{t+1} - w~_t||_2
    A: np.ndarray     # fl(tanh(X W~^T)); EA >= |A - tanh(X W~^T)|
    EA: np.ndarray
    D: np.ndarray     # tanh'(X W~^T) = 1 - tanh^2; ED its bound
    ED: np.ndarray
    r: np.ndarray     # r(w~) = s A v - y; Er its bound
    Er: np.ndarray
    Q: np.ndarray     # row i = X^T (r o tanh'(z_i)); EQ its bound
    EQ: np.ndarray


_inv_sqrt = functools.lru_cache(maxsize=16)(dd.inv_sqrt)


def _one_minus_square(a: dd.DD) -> dd.DD:
    """1 - a^2 (tanh' from the ball of tanh)."""
    return dd.sub(1.0, dd.square(a))


def dd_step(X: np.ndarray, y: np.ndarray, eta: float, W_hi: np.ndarray, W_lo: np.ndarray,
            v_hi: np.ndarray, v_lo: np.ndarray) -> DDStep:
    """One GD step from the exact iterate W = W_hi + W_lo (m x d), v = v_hi + v_lo (m), docs/rigor.md §9.6."""
    m = W_hi.shape[0]
    s = _inv_sqrt(m)
    W, v = dd.DD(W_hi, W_lo, np.zeros_like(W_hi)), dd.DD(v_hi, v_lo, np.zeros_like(v_hi))
    A = dd.tanh(dd.matmul(X, dd.DD(W.hi.T, W.lo.T, W.rad.T)))
    r = dd.sub(dd.mul(dd.matmul(A, v), s), y)
    D = dd.blockwise(_one_minus_square, A)
    q = dd.matmul(dd.DD(A.hi.T, A.lo.T, A.rad.T), r)
    P = dd.blockwise(dd.mul, D, dd.DD(r.hi[:, None], r.lo[:, None], r.rad[:, None]))
    Q = dd.matmul(dd.DD(P.hi.T, P.lo.T, P.rad.T), X)
    c = dd.mul(dd.mul(v, s), eta)
    W1 = dd.sub(W, dd.mul(Q, dd.DD(c.hi[:, None], c.lo[:, None], c.rad[:, None])))
    v1 = dd.sub(v, dd.mul(dd.mul(q, s), eta))
    dW, dv = dd.sub(dd.DD(W1.hi, W1.lo, 0.0), W), dd.sub(dd.DD(v1.hi, v1.lo, 0.0), v)
    (fA, EA), (fD, ED), (fr, Er), (fQ, EQ) = (dd.to_float(b) for b in (A, D, r, Q))
    return DDStep(W1.hi, W1.lo, v1.hi, v1.lo, dd.norm_upper(W1.rad, v1.rad),
                  dd.norm_upper(*(np.abs(b.hi) + np.abs(b.lo) + b.rad for b in (dW, dv))),
                  fA, EA, fD, ED, fr, Er, fQ, EQ)
