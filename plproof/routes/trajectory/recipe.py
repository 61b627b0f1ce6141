"""The float64 GD recipe of the two-layer run route (docs/theory.md §12.3, docs/rigor.md §5.2).

The run route certifies the iterates of exactly this sequence of float operations (:func:`gd_step`),
named in certificates by :data:`RECIPE`; :class:`Net` holds the data and the rounded-up constants
the error bounds of :mod:`plproof.routes.trajectory.error_bounds` use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from plproof.errors import NotCertifiable
from plproof.models import TwoLayer
from plproof.numeric import floatbounds as fb
from plproof.problem import Problem
from plproof.routes.trajectory import fused
from plproof.verify.tanh import max_error, table_tanh

RECIPE = "plproof two-layer tanh GD step v4"  # the float operations of gd_step, in this order; v4: tanh by the
# verifier's table (plproof.verify.tanh.table_tanh), not np.tanh
U = fb.U
U1 = fb.gamma(1)  # >= u/(1 - u): |fl(x) - x| <= U1 |fl(x)| for a normal result
#: absolute term added at every stage: covers every underflow term k*eta (k < 2^70) of data and bounds
TINY = 2.0**-1000
#: relative cover for evaluating the non-negative bound formulas in float (chains of < 1e8 roundings)
COVER = 1 + 1e-6
#: largest |A - tanh Z~| for which the 64u evaluation error of tanh'' holds (4 * 8u + 6u, docs/rigor.md §5.4)
TANH_ERR = 8 * U


@dataclass(frozen=True)
class Net:
    """The fixed data of a two-layer tanh net and the constants of the error bounds (all rounded up)."""

    X: np.ndarray
    y: np.ndarray
    n: int
    m: int
    d: int
    s: float          # fl(1/sqrt(m)), the scaling the float run uses
    s_up: float       # >= m^{-1/2}
    absX: np.ndarray
    xn: np.ndarray    # ||x_k|| (upper)
    xn2: np.ndarray   # ||x_k||^2 (upper)
    x_max: float
    X_norm: float     # ||X||_2 (upper)
    S2: float
    S3: float
    gd: float
    gm: float
    gn: float
    G: np.ndarray     # fl(X X^T)
    EG: np.ndarray    # >= |fl(X X^T) - X X^T|
    gxn: np.ndarray   # gamma_d ||x_k|| (cover included)
    gmn: float        # max(gamma_m, gamma_n)
    c4s: float        # 4 U1 fl(s): rounding of the scaling by fl(s) ~ m^{-1/2}
    c3s: float        # 3 U1 fl(s) >= |fl(s) - m^{-1/2}|
    xn3: np.ndarray   # ||x_k||^3 (upper)
    sum_xn2: float
    ea0: float        # E_max + 2 TINY >= |A - tanh Z~| (the table's bound, plproof.verify.tanh.max_error)


def make_net(model: TwoLayer, y: np.ndarray, X_norm: float) -> Net:
    """Constants of docs/theory.md §12.3 for ``model`` (train='both', tanh)."""
    X = np.ascontiguousarray(model.X, dtype=np.float64)
    n, d = X.shape
    m = model.width
    if max(n, m, d) > 10**7:
        raise NotCertifiable("the run route's float-evaluation cover assumes n, m, d <= 1e7")
    if not max_error() <= TANH_ERR:
        raise NotCertifiable(f"the tanh table's error bound {max_error() / U:.1f}u exceeds the 8u that the "
                             "recipe's bound on tanh'' allows (docs/rigor.md §5.4)")
    absX = np.abs(X)
    xn2 = np.array([fb.sumsq_upper(row) for row in X])
    s = 1.0 / np.sqrt(float(m))
    G = X @ X.T
    xn = np.array([fb.sqrt_up(v) for v in xn2])
    gd = fb.gamma(d)
    return Net(X, np.asarray(y, dtype=np.float64), n, m, d, float(s), fb.up(s * (1 + 3 * U1)), absX,
               xn, xn2, fb.sqrt_up(float(xn2.max())), X_norm, model.activation.S2, model.activation.S3,
               gd, fb.gamma(m), fb.gamma(n), G, gd * (absX @ absX.T) * COVER + TINY,
               gd * xn * COVER, max(fb.gamma(m), fb.gamma(n)), 4 * U1 * float(s), 3 * U1 * float(s),
               xn2 * xn * COVER, fb.sum_up(xn2), max_error() + 2 * TINY)

# ---------------------------------------------------------------- the float steps and their defects
#: steps per block: the float steps run one by one, their error bounds are evaluated per block
BLOCK = 32
#: (data, neuron) entries per pass of the entrywise error bounds (:func:`~.error_bounds.entrywise`), which runs
#: after every ``Buffers.chunk`` steps while their A, D are still in cache
ENTRIES = 2**16


class Buffers:
    """Iterates W, v (BLOCK + 1 slots), each step's computed A, D, p, r, q, Q (BLOCK slots), the entrywise bounds
    Er, Eq, EQ and curvature products g of :func:`~.error_bounds.entrywise` (BLOCK slots), the scratch Z of a step
    and the (chunk, n, m) scratch M, EA, ED, aA of a pass of entrywise (EA, ED, aA: numpy only), docs/rigor.md §5.8.
    ``kernels``: :func:`.fused.kernels` when the buffers were made (gd_step's A, D are the same either way)."""

    def __init__(self, net: "Net", w0: np.ndarray, size: int = BLOCK) -> None:
        n, m, d = net.n, net.m, net.d
        self.kernels, self.table = fused.kernels(), fused.tanh_table()
        self.chunk = max(1, min(size, ENTRIES // (n * m)))
        self.W, self.v = np.empty((size + 1, m, d)), np.empty((size + 1, m))
        self.Z, self.P = np.empty((n, m)), np.empty((n, m))
        self.A, self.D, self.g = (np.empty((size, n, m)) for _ in range(3))
        self.p, self.r, self.Er = (np.empty((size, n)) for _ in range(3))
        self.q, self.Eq = np.empty((size, m)), np.empty((size, m))
        self.Q, self.EQ = np.empty((size, m, d)), np.empty((size, d, m))
        self.M, self.EA, self.ED, self.aA = (np.empty((self.chunk, n, m)) for _ in range(4))
        self.W[0], self.v[0] = w0[: m * d].reshape(m, d), w0[m * d:]

    def restart(self, j: int) -> None:
        """Move iterate j to slot 0 (the next block starts there)."""
        self.W[0], self.v[0] = self.W[j], self.v[j]


def gd_step(net: "Net", buf: Buffers, j: int, eta: float) -> None:
    """One float64 GD step by the fixed recipe (docs/theory.md §12.3, docs/rigor.md §5.2), from slot j into j + 1.

    Z = X W^T; A = tanh Z by the table (plproof.verify.tanh.table_tanh); p = A v; r = p s - y; D = 1 - A*A;
    q = A^T r; Q = (D o r)^T X; W1 = W - eta (Q o (s v)); v1 = v - eta (q s), with s = fl(1/sqrt(m)). The products
    by BLAS; the entrywise operations by the numba kernels ``activation``, ``residual``, ``update`` where
    :func:`.fused.kernels` has them (the same operations per entry: bitwise the same floats), else by numpy.
    """
    W, v, A, D, p, r, q, Q = buf.W[j], buf.v[j], buf.A[j], buf.D[j], buf.p[j], buf.r[j], buf.q[j], buf.Q[j]
    kern = buf.kernels
    np.matmul(net.X, W.T, out=buf.Z)
    if kern is None:
        table_tanh(buf.Z, out=A)
        np.multiply(A, A, out=D)
        np.subtract(1.0, D, out=D)
    else:
        kern.activation(buf.Z, buf.table, A, D)
    np.matmul(A, v, out=p)
    if kern is None:
        np.multiply(p, net.s, out=r)
        r -= net.y
        np.multiply(D, r[:, None], out=buf.P)
    else:
        kern.residual(p, net.s, net.y, D, r, buf.P)
    np.matmul(A.T, r, out=q)
    np.matmul(buf.P.T, net.X, out=Q)
    if kern is None:
        np.subtract(W, eta * (Q * (net.s * v)[:, None]), out=buf.W[j + 1])
        np.subtract(v, eta * (q * net.s), out=buf.v[j + 1])
    else:
        kern.update(W, Q, v, q, net.s, eta, buf.W[j + 1], buf.v[j + 1])


def plain_run(problem: Problem, step: float, steps: int) -> np.ndarray:
    """``steps`` float64 GD steps by :func:`gd_step` and nothing else (the baseline); returns w~_steps."""
    net = make_net(problem.model, problem.y, 1.0)
    buf = Buffers(net, np.asarray(problem.w0, dtype=np.float64))
    done = 0
    while done < steps:
        k = min(BLOCK, steps - done)
        for j in range(k):
            gd_step(net, buf, j, step)
        buf.restart(k)
        done += k
    return np.concatenate([buf.W[0].ravel(), buf.v[0]])


@dataclass
class Block:
    """Steps 0..done-1 of a block run from the recipe's slot 0, with the bounds the driver needs.

    rho[j] >= ||G(w~_j) - w~_{j+1}|| (the defect), step[j] >= ||w~_{j+1} - w~_j||, residual[j] >= ||r(w~_j)||
    (for a mini-batch step, docs/theory.md §12.6: >= ||r_B(w~_j)|| of its batch B, and ``progress`` is a float
    estimate of the full ||r(w~_0)||, which decides the terminal attempts); ``finite`` is False when a step
    overflowed (the run stops there). ``stage`` is the recipe's own data (componentwise bounds) that its
    contraction and anchor bounds read. ``jump`` >= the distance from the previous block's last iterate to this
    block's slot 0 (0 unless the recipe changed its arithmetic there, docs/rigor.md §9.8): the driver adds it to e.
    """

    done: int
    rho: np.ndarray
    step: np.ndarray
    residual: np.ndarray
    finite: bool
    stage: Any
    progress: float | None = None
    jump: float = 0.0


@dataclass(frozen=True)
class Anchor:
    """Bounds at an anchor iterate w~_a: the computed kernel K~ with ||K~ - K(w~_a)||_2 <= err, an enclosure
    of ||DF(w~_a)||, and kappa with ||DF(w) - DF(w~_a)|| <= kappa ||w - w~_a|| near w~_a (T1, §11.3).

    A finite ``radius`` R_a means the anchor's bounds hold on B(w~_a, R_a) only (kappa = delta_a(R_a)/R_a for a
    delta not linear in R): the driver re-anchors before ||w~_t - w~_a|| + e_t can exceed it.
    """

    K: np.ndarray
    err: float
    jac: Any
    kappa: float
    data: Any = None
    radius: float = math.inf


class Recipe(Protocol):
    """A float GD recipe with proven error bounds: what the trajectory driver runs (docs/theory.md §12).

    A recipe owns its iterates (slots 0..BLOCK of a block); the driver owns the radii e_t, the anchors and the
    terminal attempts. The certificate names the recipe by ``name``; ``precision`` is its arithmetic ("float64"
    or "double-double"); ``assumptions`` are what its bounds rest on; ``bounds`` are the model's ball bounds at
    w0 (the certificate names their ``bound_set``). A ``coarse`` recipe leaves out bounds of l_t that it can add (a
    first pass, docs/rigor.md §10 item 6): the driver stops it ("refine") wherever they could change the outcome.
    """

    name: str
    precision: str
    assumptions: tuple[str, ...]
    bounds: Any
    coarse: bool

    def run(self, k: int, eta: float) -> Block:
        """Up to k steps from slot 0 (fewer when a step is not finite), with their defects."""

    def shorten(self, block: Block, k: int, eta: float) -> Block:
        """The same block cut to its first k steps (bounds recomputed for those steps only)."""

    def anchor(self, block: Block, j: int) -> Anchor:
        """Kernel and Jacobian bounds at iterate j of the block."""

    def contraction(self, block: Block, k: int, eta: float, e: np.ndarray, LF: np.ndarray,
                    anchor: Anchor) -> np.ndarray:
        """l_j >= sup ||I - eta Hess L|| over B(w~_j, e_j), given sup ||DF|| <= LF_j there (§12.2)."""

    def terminal(self, block: Block, j: int, anchor: Anchor, e: float, eta: float) -> tuple[Any, float]:
        """The terminal ball at iterate j with shadowing radius e (None when it cannot close yet: at e >= the radius
        returned, or at no e) and the largest radius at which mu_T > 0 (an estimate, to stop hopeless runs)."""

    def step_jacobians(self, k: int, eta: float, e: np.ndarray) -> list | None:
        """Enclosures of DG_j over the box of half-width e_j around w~_j for steps 0..k-1 of the block (the
        factors of a window, docs/rigor.md §10, windows), or None where the recipe forms no window."""

    def iterate(self, j: int) -> np.ndarray:
        """w~_j of the current block as the certificate stores it: one float64 vector, or rows (hi, lo) of an
        exact double-double pair (docs/rigor.md §9.7)."""

    def restart(self, k: int) -> None:
        """Make iterate k of the block the next block's slot 0."""
