"""Rigorous per-layer bounds over a ball B(w0, R) for a layer graph (docs/rigor.md §2.7, docs/theory.md §14).

f(x; w) is a :class:`~plproof.models.graph.LayerGraph` (dense and convolution layers with or without bias in
either parametrisation, average pooling, smooth activations, scalings, additions, reshapes, concatenations); w its
trainable tensors. A convolution is the affine layer y = c W U(x) + b 1^T with ||U(x)||_F <= sqrt(nu) ||x|| (G6).
For a unit direction u with block norms t_j = ||U_j|| (one per trainable tensor, ||t|| = 1), every node y_v gets,
over the ball and per input x_k,

* forward: alpha_v >= ||y_v|| and p_v . t >= ||dy_v/ds|| (G1, G2 of §2.7);
* backward, for the adjoint g_v = df/dy_v: G2_v >= ||g_v||_2, Ginf_v >= ||g_v||_inf, r_v . t >= ||dg_v/ds|| (G3);

and the Hessian identity f'' = sum_affine 2 c <G_y, U_W U(x')> + sum_act (g_y o sigma''(x))^T (x' o x') (G4) gives
|u^T Hess f u| <= t^T M t, so eps_k = lambda_max(sym M) (Collatz-Wielandt, as M6 of §2.3). Then (G5)
delta(R) = ||(R int_0^1 eps_k(sR) ds)_k||_2 (right Riemann sum) and kappa(R, rho) = rho ||eps(R)||_2.

The R-independent numbers at w0 (:func:`graph_centre`) come from one forward and reverse pass in python-flint
balls; the recursion runs in arb balls and keeps upper ends, so every returned float is an upper bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np

from plproof.errors import NotCertifiable
from plproof.models.ball import BallBounds
from plproof.models.graph import Network
from plproof.models.graph.ops import Activate, Affine, AvgPool, Concat, Input, Reshape, Scale
from plproof.numeric import floatbounds as fb
from plproof.numeric.arith import FLOAT64, BallArith
from plproof.numeric.verified import spectral_norm_upper
from plproof.theory.mlp_bounds import PREC, STEPS, arb_hi, pareto_front, rho_upper


@dataclass(frozen=True)
class GraphCentre:
    """Upper bounds at w0 (docs/rigor.md §2.7 G0), per input k and node v ([k][v]): ||y_v||, ||g_v||_2,
    ||g_v||_inf and, for activation nodes, the front of (|g_vi|, |sigma''(x_i)|) and |sigma(0)| (sigma0[v]); for
    affine nodes reading the data (:func:`reads_data`), ||U(x_k)||_2 (unfold_two[k][v], G6; 0 elsewhere); per
    parameter tensor j: ||W_j||_2 (weights as O x fan_in), the largest input-channel norm ||W_j[:, c', ...]||_F
    (a column of a dense weight) and ||theta_j||_2."""

    a_norm: tuple[tuple[float, ...], ...]
    g_two: tuple[tuple[float, ...], ...]
    g_inf: tuple[tuple[float, ...], ...]
    unfold_two: tuple[tuple[float, ...], ...]
    front: tuple[tuple[tuple[tuple[float, float], ...], ...], ...]
    sigma0: tuple[float, ...]
    spectral: tuple[float, ...]
    colmax: tuple[float, ...]
    norm: tuple[float, ...]


def require_covered(model: Network) -> None:
    """NotCertifiable naming the first operation §2.7 does not cover, or a model that is not a plain Network."""
    if not isinstance(model, Network):
        raise NotCertifiable(f"graph bounds need a layer-graph Network, got {type(model).__name__}")
    why = model.ball_obstacle or model.smooth_obstacle
    if why:
        raise NotCertifiable(f"{why}: no verified bound over the ball for this graph (docs/rigor.md §2.7)")


def reads_data(model: Network, v: int) -> bool:
    """Whether node v is an affine layer whose input is the data itself (the input node, through reshapes only):
    its U(x_k) is the same exact float matrix everywhere on the ball."""
    nodes = model.graph.nodes
    if not isinstance(nodes[v].op, Affine):
        return False
    x = nodes[v].inputs[0]
    while isinstance(nodes[x].op, Reshape):
        x = nodes[x].inputs[0]
    return x == 0


def graph_centre(model: Network, w0: np.ndarray) -> GraphCentre:
    """G0: the network's forward and reverse pass at w0 in arb balls (128 bits), upper ends kept."""
    require_covered(model)
    graph, n = model.graph, model.n_outputs
    ar = BallArith(PREC)
    with ar.active():
        values, _, cot = model.cotangents(ar.asarray(w0), ar.asarray(np.ones((n, 1))), ar)
        curv = {v: node.op.activation.derivatives(values[node.inputs[0]], ar, 2)[2]
                for v, node in enumerate(graph.nodes) if isinstance(node.op, Activate)}
        sigma0 = tuple(arb_hi(abs(node.op.activation.derivatives(ar.asarray(np.zeros(1)), ar, 0)[0][0]))
                       if v in curv else 0.0 for v, node in enumerate(graph.nodes))
        zero = np.full((n, 1), ar.flint.arb(0), dtype=object)
        cot = [zero if c is None else c for c in cot]
        a_norm = tuple(tuple(fb.sqrt_up(arb_hi(y[k] @ y[k])) for y in values) for k in range(n))
        g_two = tuple(tuple(fb.sqrt_up(arb_hi(g[k] @ g[k])) for g in cot) for k in range(n))
        absg = [[[arb_hi(abs(x)) for x in g[k]] for g in cot] for k in range(n)]
        front = tuple(tuple(pareto_front(absg[k][v], [arb_hi(abs(x)) for x in curv[v][k]]) if v in curv else ()
                            for v in range(len(values))) for k in range(n))
    g_inf = tuple(tuple(max(row) for row in absg[k]) for k in range(n))
    data = [np.asarray(model.X, dtype=np.float64)[k:k + 1] for k in range(n)]
    unfold_two = tuple(tuple(spectral_norm_upper(graph.nodes[v].op.unfold(data[k], FLOAT64)[0])
                             if reads_data(model, v) else 0.0 for v in range(len(graph.nodes))) for k in range(n))
    tensors = [np.asarray(t, dtype=np.float64) for t in model.tensors(np.asarray(w0, dtype=np.float64), FLOAT64)]
    weights = {node.op.weight: node.op for node in graph.nodes if isinstance(node.op, Affine)}
    mats = [t.reshape(weights[j].out_features, -1) if j in weights else t.reshape(1, -1) for j, t in enumerate(tensors)]
    channels = [np.swapaxes(t.reshape(weights[j].weight_shape()[:2] + (-1,)), 0, 1).reshape(
        weights[j].weight_shape()[1], -1) if j in weights else t.reshape(-1, 1) for j, t in enumerate(tensors)]
    return GraphCentre(a_norm, g_two, g_inf, unfold_two, front, sigma0,
                       tuple(spectral_norm_upper(W) if j in weights else 0.0 for j, W in enumerate(mats)),
                       tuple(max(fb.sqrt_up(fb.sumsq_upper(row)) for row in C) for C in channels),
                       tuple(fb.sqrt_up(fb.sumsq_upper(W)) for W in mats))


class _Recursion:
    """G1-G4 of docs/rigor.md §2.7 for one input on B(w0, R), in arb balls; vectors are coefficients of t."""

    def __init__(self, model: Network, centre: GraphCentre, k: int, R: Any) -> None:
        self.flint = BallArith(PREC).flint
        self.graph, self.c0, self.k, self.R = model.graph, centre, k, R
        self.slot = {j: i for i, j in enumerate(model.graph.trainable)}  # parameter tensor -> index in t
        self.zero = self.flint.arb(0)
        self.T = len(self.slot)

    # ---------------------------------------------------------------- vector helpers
    def unit(self, j: int | None, scale: Any) -> list[Any]:
        """scale e_j (j a parameter tensor; the zero vector for a fixed or absent tensor)."""
        i = self.slot.get(j) if j is not None else None
        return [scale if s == i else self.zero for s in range(self.T)]

    def norm(self, x: list[Any]) -> Any:
        return sum((v * v for v in x), self.zero).sqrt()

    def radius(self, j: int | None) -> Any:
        """R for a trainable tensor (its change on the ball), 0 for a fixed one."""
        return self.R if j in self.slot else self.zero

    def segment(self, at_w0: float, x: list[Any]) -> Any:
        """at_w0 + R ||x||: the bound on B of a norm at w0 whose derivative along any unit direction is <= x . t."""
        return self.flint.arb(at_w0) + self.R * self.norm(x)

    @staticmethod
    def least(*bounds: Any) -> Any:
        return min(b.upper() for b in bounds)

    def scale_of(self, op: Affine | Scale | AvgPool) -> Any:
        """c >= an affine layer's scaling (fan_in^{-1/2} NTK, 1 standard) or the operator norm of a fixed linear
        node (|a| or 1/|a| for a Scale, sqrt(nu / |window|) for a pooling, G7)."""
        arb = self.flint.arb
        if isinstance(op, Scale):
            return 1 / abs(arb(op.factor)) if op.divide else abs(arb(op.factor))
        if isinstance(op, AvgPool):
            return (arb(op.overlap) / op.window).sqrt()
        return 1 / arb(op.fan_in).sqrt() if op.parametrisation == "ntk" else arb(1)

    def spread(self, op: Affine) -> Any:
        """c sqrt(nu): the layer's scaling times ||U||_2 (G6)."""
        return self.scale_of(op) * self.flint.arb(op.overlap).sqrt()

    # ---------------------------------------------------------------- G1-G2 forward
    def forward(self) -> tuple[list[Any], list[list[Any]]]:
        """(alpha_v >= sup_B ||y_v||, p_v with ||y_v'|| <= p_v . t) for every node."""
        alpha: list[Any] = []
        p: list[list[Any]] = []
        a0 = self.c0.a_norm[self.k]
        for v, node in enumerate(self.graph.nodes):
            ins = node.inputs
            op = node.op
            if isinstance(op, Input):
                alpha.append(self.flint.arb(a0[0]))
                p.append([self.zero] * self.T)
                continue
            if isinstance(op, Affine):  # y = c W U(x) + b 1^T; ||y'|| <= c sqrt(nu) (Om||x'|| + t_W||x||) + sqrt(P)t_b
                c, (x,) = self.spread(op), ins
                Om = self.flint.arb(self.c0.spectral[op.weight]) + self.radius(op.weight)
                root = self.flint.arb(op.positions).sqrt()
                bias = self.zero if op.bias is None else self.flint.arb(self.c0.norm[op.bias]) + self.radius(op.bias)
                lead = c * alpha[x]  # ||U_W U(x)|| <= t_W sqrt(nu) ||x||, or t_W ||U(x)||_2 on the data (C2)
                data = self.c0.unfold_two[self.k][v]
                lead = self.flint.arb(self.least(lead, self.scale_of(op) * self.flint.arb(data))) if data else lead
                pv = [c * Om * px + ux + ub for px, ux, ub in
                      zip(p[x], self.unit(op.weight, lead), self.unit(op.bias, root))]
                bound = c * Om * alpha[x] + root * bias
            elif isinstance(op, Activate):
                act, (x,) = op.activation, ins
                S1, size = self.flint.arb(act.S1), self.flint.arb(math.prod(node.shape)).sqrt()
                pv = [S1 * e for e in p[x]]
                bound = size * self.flint.arb(self.c0.sigma0[v]) + S1 * alpha[x]
                if act.bounded_by_one:
                    bound = self.flint.arb(self.least(bound, size))
            elif isinstance(op, (Scale, AvgPool)):
                c, (x,) = self.scale_of(op), ins
                pv, bound = [c * e for e in p[x]], c * alpha[x]
            elif isinstance(op, Concat):
                pv = [sum((p[i][s] for i in ins), self.zero) for s in range(self.T)]
                bound = sum((alpha[i] ** 2 for i in ins), self.zero).sqrt()
            else:  # Add and Reshape: sums of the inputs (one input for a reshape)
                pv = [sum((p[i][s] for i in ins), self.zero) for s in range(self.T)]
                bound = sum((alpha[i] for i in ins), self.zero)
            alpha.append(self.flint.arb(self.least(bound, self.segment(a0[v], pv))))
            p.append(pv)
        return alpha, p

    # ---------------------------------------------------------------- G3 backward, G4 Hessian
    def hessian(self) -> float:
        """eps_k >= sup_B ||Hess f(x_k; w)||_2: lambda_max of sym(M) with M from G4."""
        alpha, p = self.forward()
        nodes, arb = self.graph.nodes, self.flint.arb
        count = len(nodes)
        G2 = [self.zero] * count
        Gi = [self.zero] * count
        r = [[self.zero] * self.T for _ in range(count)]
        G2[-1] = Gi[-1] = arb(1)  # g = df/df = 1, constant on the ball
        M = [[self.zero] * self.T for _ in range(self.T)]
        for v in range(count - 1, 0, -1):
            node, op = nodes[v], nodes[v].op
            if v < count - 1:  # G3: the consumers' sums (already in G2, Gi, r), then the segment bounds at w0
                G2[v] = arb(self.least(G2[v], self.segment(self.c0.g_two[self.k][v], r[v])))
                Gi[v] = arb(self.least(Gi[v], self.segment(self.c0.g_inf[self.k][v], r[v]), G2[v]))
            for x, (g2, gi, rx) in zip(node.inputs, self._pullback(v, op, G2[v], Gi[v], r[v], p, M)):
                G2[x], Gi[x] = G2[x] + g2, Gi[x] + gi
                r[x] = [a + b for a, b in zip(r[x], rx)]
        return rho_upper(self.flint, M)

    def _pullback(self, v: int, op: Any, G2: Any, Gi: Any, r: list[Any], p: list[list[Any]],
                  M: list[list[Any]]) -> list[tuple[Any, Any, list[Any]]]:
        """Per input of node v, its contribution (to ||g_x||_2, ||g_x||_inf, r_x) (G3); adds node v's term to M (G4)."""
        inputs = self.graph.nodes[v].inputs
        if isinstance(op, Affine):  # g_x = c U^T W^T G; g_x' = c U^T(U_W^T G + W^T G'); f'' += 2c <G, U_W U(x')>
            c, (x,) = self.spread(op), inputs  # the inf-norm needs no sqrt(nu): channel norms (G6)
            Om = self.flint.arb(self.c0.spectral[op.weight]) + self.radius(op.weight)
            col = self.flint.arb(self.c0.colmax[op.weight]) + self.radius(op.weight)
            self._add(M, self.unit(op.weight, 2 * c * G2), p[x])
            rx = [c * (Om * a + b) for a, b in zip(r, self.unit(op.weight, G2))]
            return [(c * Om * G2, self.scale_of(op) * col * G2, rx)]
        if isinstance(op, Activate):  # g_x = sigma'(x) o g_y; f'' += (g_y o sigma''(x))^T (x' o x')
            act, (x,) = op.activation, inputs
            S1, S2 = self.flint.arb(act.S1), self.flint.arb(act.S2)
            Rr = self.R * self.norm(r)
            Rp = None if act.S3 is None else self.flint.arb(act.S3) * self.R * self.norm(p[x])
            front = max((self.least(self.flint.arb(a) + Rr, Gi) *
                         (S2 if Rp is None else self.least(S2, self.flint.arb(b) + Rp))
                         for a, b in self.c0.front[self.k][v]), default=self.zero)
            Gam = self.flint.arb(self.least(S2 * Gi, front))
            self._add(M, [Gam * e for e in p[x]], p[x])
            return [(S1 * G2, S1 * Gi, [S1 * a + Gam * b for a, b in zip(r, p[x])])]
        if isinstance(op, AvgPool):  # g_x = S^T g_y / |window|: norm <= c in 2, nu / |window| in inf (G7)
            c = self.scale_of(op)
            return [(c * G2, self.flint.arb(op.overlap) / op.window * Gi, [c * a for a in r])]
        c = self.scale_of(op) if isinstance(op, Scale) else self.flint.arb(1)
        return [(c * G2, c * Gi, [c * a for a in r])] * len(inputs)  # linear maps of norm <= c (sub-vectors for Concat)

    def _add(self, M: list[list[Any]], x: list[Any], y: list[Any]) -> None:
        for i in range(self.T):
            for j in range(self.T):
                M[i][j] += x[i] * y[j]


_ARB = BallArith(PREC)


@dataclass(frozen=True, eq=False)
class GraphBounds(BallBounds):
    """Per-layer bounds over B(w0, R) for a layer graph (docs/rigor.md §2.7): epsilon = max_k eps_k(R),
    delta = ||(R/N sum_j eps_k(jR/N))_k||_2, curvature = rho ||eps(R)||_2 (G5). The centre part (G0) is computed
    once; eps(R) per radius, cached."""

    centre: GraphCentre
    _cache: dict[float, tuple[float, ...]] = field(default_factory=dict, init=False, repr=False)

    name = "layer graph, per-layer bounds of docs/rigor.md §2.7"
    bound_set = "graph"
    reference = "docs/rigor.md §2.7"

    @classmethod
    def _build(cls, model: Any, w0: np.ndarray) -> Self:
        return cls(model, w0, graph_centre(model, w0))

    def per_input(self, r: float) -> tuple[float, ...]:
        """(eps_k(r))_k >= (sup_{B(w0, r)} ||Hess f(x_k)||_2)_k (G1-G4)."""
        if r not in self._cache:
            R = _ARB.flint.arb(r)
            self._cache[r] = tuple(_Recursion(self.model, self.centre, k, R).hessian() for k in range(self.n))
        return self._cache[r]

    def epsilon(self, S: Any, R: Any) -> Any:
        return S.of(max(self.per_input(S.hi(R))))

    def delta(self, S: Any, R: Any) -> Any:
        """G5: row k of DF(w) - DF(w0) is <= R int_0^1 eps_k(sR) ds <= (R/N) sum_j eps_k(jR/N) (eps_k nondecreasing)."""
        r = S.hi(R)
        steps = [self.per_input(fb.mul_up(r, j / STEPS)) for j in range(1, STEPS + 1)]
        mean = np.array([fb.sum_up(np.array([s[k] for s in steps])) / STEPS for k in range(self.n)])  # STEPS = 2^2
        return S.of(fb.mul_up(r, fb.sqrt_up(fb.sumsq_upper(mean))))

    def curvature(self, S: Any, R: Any, rho: Any) -> Any:
        """||sum_k r_k H_k|| <= sum_k |r_k| eps_k <= ||r|| ||eps||_2."""
        return rho * S.of(fb.sqrt_up(fb.sumsq_upper(np.array(self.per_input(S.hi(R))))))

    def hints(self) -> dict:
        return {**super().hints(), "covered": "dense, conv, avg-pool, activation, scale, add, reshape, concat"}
