"""The verifier's own layer-graph bounds (docs/rigor.md §2.7): K(w0) and L0 at the centre, epsilon, delta, kappa on B.

The graph is rebuilt from its JSON description (plproof.models.graph: the formulas of F, DF, K and the reverse
pass, evaluated here in mpmath.iv); every bound over the ball is this module's own, read off the node
descriptions: the per-input recursion G1-G4 (forward norms and direction coefficients, adjoint norms, the
Hessian matrix M) in rationals rounded up to the 2^-PREC grid, then G5. All quantities are >= 0 and all
formulas monotone, so rounding up keeps upper bounds. Covered: Input, Dense, Conv, AvgPool, Activate (tanh,
sigmoid, softplus, sin), Scale, Add, Reshape, Concat; any other node is refused by name. A window's overlap nu
(G6, G7) is counted here from the node's kernel, stride and padding. A run certificate's step is re-run on the
rebuilt graph (``net``) in midpoint-radius arithmetic (plproof.verify.trajectory, docs/rigor.md §10, layer graphs).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from mpmath import iv

from plproof.verify.exact import ACTIVATION_BOUNDS, Failure, IntervalNamespace, iv_matrix, sqrt_hi, sqrt_lo
from plproof.verify.mlp import (BOUNDED, DIGITS, SIGMA, STEPS, IntervalCentre, _abs_hi, _front, _lambda_max_upper,
                                _midrad, _norm, _row_norms, _sigma, _spectral_upper, _up)

#: the node kinds whose bounds this module proves (docs/rigor.md §2.7)
COVERED = ("Input", "Dense", "Conv", "AvgPool", "Activate", "Scale", "Add", "Reshape", "Concat")
AFFINE = ("Dense", "Conv")

Vec = list[Fraction]


class GraphFamily(IntervalCentre):
    """A layer-graph network rebuilt from certificate data, bounded over the ball in the verifier's arithmetic."""

    name = "graph"

    constant = False  # F is not linear in w

    def __init__(self, spec: dict, X: np.ndarray, w0: np.ndarray) -> None:
        from plproof.models.graph import LayerGraph, Network

        self.nodes = [{"op": "Input", "inputs": []}] + list(spec["graph"]["nodes"])
        for k, node in enumerate(self.nodes):
            if node["op"] not in COVERED:
                raise Failure(f"graph node {k} ({node['op']}) has no bound over the ball in this verifier "
                              f"(covered: {', '.join(COVERED)})")
            if node["op"] == "Activate" and node["activation"] not in SIGMA:
                raise Failure(f"graph node {k}: activation {node['activation']!r} is not re-checked by the verifier "
                              f"(supported: {', '.join(SIGMA)})")
        self.net = Network(X, LayerGraph.from_description(spec["graph"]), w0)
        graph, w0 = self.net.graph, self.net.default_w0()
        self.n, self.m = self.net.n_outputs, self.net.n_params
        self.slot = {j: i for i, j in enumerate(graph.trainable)}
        tensors, start = [], 0
        for p in graph.params:  # every parameter tensor in its own shape
            value = p.fixed if p.fixed is not None else w0[start:start + p.size]
            start += 0 if p.fixed is not None else p.size
            tensors.append(np.asarray(value, dtype=np.float64).reshape(p.shape))
        self.c = {v: self._scale(node, graph.nodes[v].op) for v, node in enumerate(self.nodes)
                  if node["op"] in AFFINE + ("Scale",)}
        self.nu = {v: _overlap(graph.nodes[node["inputs"][0]].shape[1:], node) if node["op"] in ("Conv", "AvgPool")
                   else 1 for v, node in enumerate(self.nodes) if node["op"] in AFFINE + ("AvgPool",)}
        weights = {node["weight"] for node in self.nodes if node["op"] in AFFINE}
        self.spectral = {j: _spectral_upper(tensors[j].reshape(tensors[j].shape[0], -1)) for j in weights}
        self.colmax = {j: max(_row_norms(_midrad(np.swapaxes(tensors[j], 0, 1).reshape(tensors[j].shape[1], -1))))
                       for j in weights}  # the largest input-channel slice W[:, c', ...] (a dense weight's column)
        self.norm = [_row_norms(_midrad(t.reshape(1, -1)))[0] for t in tensors]
        self.data = {v: [_spectral_upper(_unfold(self.net.X[k], graph.nodes[self.nodes[v]["inputs"][0]].shape,
                                                 self.nodes[v])) for k in range(self.n)]
                     for v in range(len(self.nodes)) if self._reads_data(v)}  # ||U(x_k)||_2 (G6, C2)
        self.ns = IntervalNamespace(DIGITS)
        with self.ns.active():  # values and adjoints g_v = df/dy_v at w0 in intervals, one row per input
            values, _, cot = self.net.cotangents(self.ns.asarray(w0), self.ns.asarray(np.ones((self.n, 1))), self.ns)
            self.K = iv_matrix(self.net.kernel(w0, self.ns))
            self.F = values[-1][:, 0]
            absu = np.frompyfunc(_abs_hi, 1, 1)
            cot = [self.ns.zeros((self.n, 1)) if c is None else c for c in cot]
            self.a2 = [_row_norms(_midrad(y)) for y in values]  # [v][k]
            self.g2 = [_row_norms(_midrad(g)) for g in cot]
            gabs = [absu(g) for g in cot]
            self.ginf = [list(np.max(g, axis=1)) for g in gabs]
            self.front, self.sigma0 = {}, {}
            for v, node in enumerate(self.nodes):
                if node["op"] == "Activate":
                    curv = absu(np.frompyfunc(lambda z, a=node["activation"]: _sigma(a, z)[2], 1, 1)(
                        values[node["inputs"][0]]))
                    self.front[v] = [_front(list(gabs[v][k]), list(curv[k])) for k in range(self.n)]
                    self.sigma0[v] = _abs_hi(_sigma(node["activation"], iv.mpf(0))[0])
        self._eps: dict[Fraction, list[Fraction]] = {}

    def epsilon(self, R: Fraction) -> Fraction:
        """>= max_k sup_{B(w0,R)} ||Hess f(x_k)||_2 (G4)."""
        return max(self._at(R))

    def delta(self, R: Fraction) -> Fraction:
        """>= sup_B ||DF(w) - DF(w0)||_2: row k <= R int_0^1 eps_k(sR) ds, a right Riemann sum of STEPS terms (G5)."""
        R = Fraction(R)
        steps = [self._at(R * j / STEPS) for j in range(1, STEPS + 1)]
        return _up(R * _norm([sum(col) / STEPS for col in zip(*steps)]))

    def kappa(self, R: Fraction, rho: Fraction) -> Fraction:
        """>= sup ||sum_k r_k Hess f(x_k)|| over B and ||r|| <= rho: <= rho ||eps||_2 (G5)."""
        return _up(Fraction(rho) * _norm(self._at(R)))

    def _at(self, R: Fraction) -> list[Fraction]:
        R = Fraction(R)
        if R < 0:
            raise Failure(f"graph: the radius must be >= 0, got {float(R):.6g}")
        if R not in self._eps:
            self._eps[R] = [self._hessian(k, R) for k in range(self.n)]
        return self._eps[R]

    # ------------------------------------------------------------ one input: G1-G4
    def _e(self, j: int | None, x: Fraction) -> Vec:
        """x e_j for a trainable tensor j, else 0."""
        i = self.slot.get(j) if j is not None else None
        return [x if s == i else Fraction(0) for s in range(len(self.slot))]

    @staticmethod
    def _scale(node: dict, op: Any) -> Fraction:
        """>= the node's scaling: fan_in^{-1/2} (NTK affine), 1 (standard affine), |a| or 1/|a| (Scale)."""
        if node["op"] == "Scale":
            a = abs(Fraction(node["factor"]))
            return 1 / a if node["divide"] else a
        return Fraction(1) if node["parametrisation"] == "standard" else _up(1 / sqrt_lo(Fraction(op.fan_in)))

    def _reads_data(self, v: int) -> bool:
        """An affine node whose input is the input node itself, through reshapes only (U(x_k) fixed on the ball)."""
        if self.nodes[v]["op"] not in AFFINE:
            return False
        x = self.nodes[v]["inputs"][0]
        while self.nodes[x]["op"] == "Reshape":
            x = self.nodes[x]["inputs"][0]
        return x == 0

    def _pool(self, v: int) -> tuple[Fraction, Fraction]:
        """(>= ||S||_2, ||S^T||_inf) / |window| for pooling node v: sqrt(nu |window|) and nu by Schur's test (G7)."""
        window = int(np.prod(self.nodes[v]["kernel"]))
        return sqrt_hi(Fraction(self.nu[v], window)), Fraction(self.nu[v], window)

    def _hessian(self, k: int, R: Fraction) -> Fraction:
        """eps_k >= sup_B ||Hess f(x_k)||: forward alpha_v, p_v (G1-G2), adjoint G2_v, Ginf_v, r_v (G3), M (G4)."""
        T, zero = len(self.slot), [Fraction(0)] * len(self.slot)
        moved = lambda j: R if j in self.slot else 0  # noqa: E731  (a fixed tensor does not move)
        alpha, p = [], []
        for v, node in enumerate(self.nodes):
            ins, kind = node["inputs"], node["op"]
            if kind == "Input":
                alpha.append(self.a2[0][k])
                p.append(zero)
                continue
            if kind in AFFINE:  # y = c W U(x) + b 1^T, ||U(x)|| <= sqrt(nu) ||x||, ||b 1^T|| = sqrt(P) ||b|| (G6)
                c, x, W, b = _up(self.c[v] * sqrt_hi(Fraction(self.nu[v]))), ins[0], node["weight"], node["bias"]
                positions = int(np.prod(self.net.graph.nodes[v].shape[1:]))  # P (1 for a dense layer)
                Om, root = self.spectral[W] + moved(W), sqrt_hi(Fraction(positions))
                lead = min(c * alpha[x], self.c[v] * self.data[v][k]) if v in self.data else c * alpha[x]
                pv = [_up(c * Om * a + e + f) for a, e, f in zip(p[x], self._e(W, lead), self._e(b, root))]
                first = c * Om * alpha[x] + (0 if b is None else root * (self.norm[b] + moved(b)))
            elif kind == "Activate":
                S1 = ACTIVATION_BOUNDS[node["activation"]][0]
                root = sqrt_hi(Fraction(int(np.prod(self.net.graph.nodes[v].shape))))
                pv = [_up(S1 * a) for a in p[ins[0]]]
                first = min([root * self.sigma0[v] + S1 * alpha[ins[0]]] + [root] * (node["activation"] in BOUNDED))
            else:  # Scale: |a| times; AvgPool: sqrt(nu / |window|) times (G7); Add, Reshape: sums; Concat: root
                c = self.c[v] if kind == "Scale" else self._pool(v)[0] if kind == "AvgPool" else 1
                pv = [_up(c * sum(p[i][s] for i in ins)) for s in range(T)]
                first = sqrt_hi(sum(alpha[i] ** 2 for i in ins)) if kind == "Concat" else c * sum(alpha[i] for i in ins)
            alpha.append(_up(min(first, self.a2[v][k] + R * _norm(pv))))
            p.append(pv)
        last = len(self.nodes) - 1
        G2, Gi, r = [Fraction(0)] * last + [Fraction(1)], [Fraction(0)] * last + [Fraction(1)], [zero] * (last + 1)
        M = [[Fraction(0)] * T for _ in range(T)]
        for v in range(last, 0, -1):
            node, ins, kind = self.nodes[v], self.nodes[v]["inputs"], self.nodes[v]["op"]
            if v < last:
                G2[v] = _up(min(G2[v], self.g2[v][k] + R * _norm(r[v])))
                Gi[v] = _up(min(Gi[v], self.ginf[v][k] + R * _norm(r[v]), G2[v]))
            if kind in AFFINE:  # g_x = c U^T W^T G, g_x' = c U^T (U_W^T G + W^T G'), f'' += 2 c <G, U_W U(x')>
                c, x, W = _up(self.c[v] * sqrt_hi(Fraction(self.nu[v]))), ins[0], node["weight"]
                Om, col = self.spectral[W] + moved(W), self.colmax[W] + moved(W)
                u = self._e(W, 2 * c * G2[v])
                M = [[M[i][j] + u[i] * p[x][j] for j in range(T)] for i in range(T)]
                parts = [(c * Om * G2[v], self.c[v] * col * G2[v],  # |(g_x)_i| <= c ||W[:, c', :]|| ||G|| (G6)
                          [c * (Om * a + e) for a, e in zip(r[v], self._e(W, G2[v]))])]
            elif kind == "Activate":  # g_x = sigma'(x) o g_y, f'' += (g_y o sigma''(x))^T (x' o x')
                x = ins[0]
                S1, S2, S3 = ACTIVATION_BOUNDS[node["activation"]]
                Rr, Rp = R * _norm(r[v]), S3 * R * _norm(p[x])
                Gam = _up(min([S2 * Gi[v]] + [max(min(a + Rr, Gi[v]) * min(S2, b + Rp) for a, b in self.front[v][k])]))
                M = [[M[i][j] + Gam * p[x][i] * p[x][j] for j in range(T)] for i in range(T)]
                parts = [(S1 * G2[v], S1 * Gi[v], [S1 * a + Gam * b for a, b in zip(r[v], p[x])])]
            elif kind == "AvgPool":  # g_x = S^T g / |window|: sqrt(nu / |window|) in 2, nu / |window| in inf (G7)
                c, ci = self._pool(v)
                parts = [(c * G2[v], ci * Gi[v], [c * a for a in r[v]])]
            else:  # linear maps of norm <= c: the adjoint (or a sub-vector of it, Concat) times c
                c = self.c[v] if kind == "Scale" else 1
                parts = [(c * G2[v], c * Gi[v], [c * a for a in r[v]])] * len(ins)
            for x, (g2, gi, rx) in zip(ins, parts):
                G2[x], Gi[x], r[x] = _up(G2[x] + g2), _up(Gi[x] + gi), [_up(a + b) for a, b in zip(r[x], rx)]
        return _lambda_max_upper([[_up((M[i][j] + M[j][i]) / 2) for j in range(T)] for i in range(T)])


def _overlap(spatial: tuple[int, ...], node: dict) -> int:
    """nu: the most windows (kernel, stride, padding of the node) that contain one input position, the product over
    the axes of the most windows along each (windows are products of intervals; docs/rigor.md §2.7 G6)."""
    nu = 1
    for size, k, s, pad in zip(spatial, node["kernel"], node["stride"], node["padding"]):
        starts = np.arange((size + 2 * pad - k) // s + 1) * s - pad
        q = np.arange(size)
        nu *= int(((starts[None, :] <= q[:, None]) & (q[:, None] < starts[None, :] + k)).sum(axis=1).max())
    return nu


def _unfold(x: np.ndarray, shape: tuple[int, ...], node: dict) -> np.ndarray:
    """U(x) of an affine node on the data x (flat, per-example ``shape``): the column x for a dense layer; for a
    convolution the windows of the zero-padded x, one column per position (rows and columns in any order: only
    ||U(x)||_2 is read)."""
    if node["op"] == "Dense":
        return x.reshape(-1, 1)
    dims = len(node["kernel"])
    image = np.pad(x.reshape(shape), [(0, 0)] + [(p, p) for p in node["padding"]])
    windows = np.lib.stride_tricks.sliding_window_view(image, tuple(node["kernel"]), axis=tuple(range(1, dims + 1)))
    windows = windows[(slice(None),) + tuple(slice(None, None, s) for s in node["stride"])]
    count = int(np.prod(windows.shape[1:dims + 1]))
    return np.moveaxis(windows.reshape((windows.shape[0], count, -1)), 1, -1).reshape(-1, count)
