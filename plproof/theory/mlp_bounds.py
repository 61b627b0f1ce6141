"""Rigorous bounds over a ball B(w0, R) for the deep MLP: per-output Hessian, Jacobian change and norm.

f(x) = c_{L+1} v^T a_L, a_l = sigma(z_l), z_l = c_l W_l a_{l-1}, c_1 = 1, c_l = h_{l-1}^{-1/2}
(plproof/models/mlp.py). The lemma chain M1-M9 is derived in docs/rigor.md §2.3; for L = 1 it gives at most the
per-neuron two-layer bound of docs/theory.md §8 (epsilon) and T1 of §11.3 (nu); it plugs into docs/theory.md
§4.1 and §4.4.

Two steps, so that a radius search re-uses the expensive part:

* :func:`mlp_centre` evaluates the network at w0 in python-flint balls (rigorous) and returns the
  R-independent upper bounds: ||x_k||, ||a_l(w0; x_k)||, ||A_l(w0)||_2, ||W_l^0||_2 and its column norms, ||v0||,
  the backward vectors' norms ||g_l(w0; x_k)||_inf, ||g_l||_2, ||delta_l||_2, the front of (|g_li|, |sigma''(z_li)|)
  and ||DF(w0)||_2.
* :func:`mlp_ball_bounds` runs the scalar recursion of M1-M6 in arb balls for a given R, and the joint
  data recursion M9 for nu >= sup_B ||D^2 F||, the norm of the bilinear map (u, v) -> (u^T Hess f_k v)_k,
  which bounds both delta <= R nu and the curvature kappa(R, rho) <= rho nu.

Every returned float is >= the real quantity it bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from plproof.errors import InvalidInput, NotCertifiable
from plproof.models.base import closed_form_obstacle
from plproof.models.mlp import MLP
from plproof.numeric import floatbounds as fb
from plproof.numeric.arith import BallArith
from plproof.numeric.rigor import RigorLevel
from plproof.numeric.verified import BLAS_MODEL, lambda_max_upper, spectral_norm_upper

#: bits of the arb balls used at the centre and in the scalar recursion
PREC = 128
#: right Riemann sum of the Jacobian-change integral (M9)
STEPS = 4


@dataclass(frozen=True)
class MLPCentre:
    """R-independent upper bounds at w0 (docs/rigor.md §2.3 M0); per-input lists are indexed [k][l-1], l = 1..L;
    colmax[l-1] >= max_j ||W_l^0 e_j||; front[k][l-1]: the pairs (|g_li(w0)|, |sigma''(z_li(w0))|) (upper ends)
    that no other pair dominates in both (M3); act_norm[l] >= ||A_l(w0)||_2 (rows a_l(w0; x_k), l = 0..L, A_0 = X)."""

    x_norm: tuple[float, ...]
    a_two: tuple[tuple[float, ...], ...]
    g_inf: tuple[tuple[float, ...], ...]
    g_two: tuple[tuple[float, ...], ...]
    d_two: tuple[tuple[float, ...], ...]
    omega: tuple[float, ...]
    colmax: tuple[float, ...]
    front: tuple[tuple[tuple[tuple[float, float], ...], ...], ...]
    act_norm: tuple[float, ...]
    v_inf: float
    v_two: float
    jacobian_norm: float
    assumptions: tuple[str, ...]


@dataclass(frozen=True)
class MLPBallBounds:
    """Upper bounds over B(w0, R): epsilon >= sup_B max_k ||Hess f(x_k)||_2 (docs/theory.md §4.1),
    nu >= sup_B sup_{|u|=|u'|=1} ||(u^T Hess f_k u')_k||_2 (M9, so kappa(R, rho) <= rho nu),
    delta >= sup_B ||DF(w) - DF(w0)||_2 (<= R nu), jacobian_norm >= sup_B ||DF(w)||_2 (L_F)."""

    radius: float
    epsilon: float
    epsilon_per_input: tuple[float, ...]
    nu: float
    delta: float
    jacobian_norm: float
    jacobian_norm_w0: float
    rigor: RigorLevel
    assumptions: tuple[str, ...]


def arb_hi(x: Any) -> float:
    """The smallest-or-next float >= every point of the arb ball ``x`` (exact comparison of two points);
    inf for a ball with an infinite or NaN end (it bounds nothing finite)."""
    if not x.is_finite():
        return math.inf
    u = x.upper()
    f = float(u)
    return f if type(u)(f) >= u else fb.up(f)


def _check(model: Any, w0: Any) -> np.ndarray:
    if not isinstance(model, MLP):
        raise InvalidInput(f"mlp bounds need an MLP model, got {type(model).__name__}: use the family's own bounds")
    reason = closed_form_obstacle(model)
    if reason is not None:
        raise NotCertifiable(f"{reason}: the MLP ball bounds do not hold for this model")
    act = model.activation
    if not act.smooth or act.S1 is None or act.S2 is None:
        raise NotCertifiable(f"activation {act.name!r} is not C^2 with bounded sigma'': use tanh, sigmoid, "
                             "softplus, sin or gelu")
    w = np.asarray(w0, dtype=np.float64)
    if w.shape != (model.n_params,) or not np.isfinite(w).all():
        raise InvalidInput(f"w0 must be a finite vector of length {model.n_params}, got shape {w.shape}")
    return w


def mlp_centre(model: MLP, w0: Any) -> MLPCentre:
    """Rigorous R-independent quantities at w0 from a forward/backward pass in arb balls (docs/rigor.md §2.3 M0)."""
    w = _check(model, w0)
    mats0, v0 = model.split(w)
    ar = BallArith(PREC)
    with ar.active():
        wb = ar.asarray(w)
        acts, derivs, scales, v, out = model._forward(wb, ar, 1)
        mats, _ = model.split(wb)
        L = len(mats)
        # backward vectors g_l = df/da_l and delta_l = df/dz_l = g_l o sigma'(z_l), rows = inputs
        G = [None] * L
        Dl = [None] * L
        G[L - 1] = np.tile(v * out, (model.n_outputs, 1))
        for l in range(L - 1, -1, -1):
            Dl[l] = G[l] * derivs[l]
            if l:
                G[l - 1] = (Dl[l] * scales[l]) @ mats[l]
        # K(w0) = c_{L+1}^2 A_L A_L^T + sum_l c_l^2 (Delta_l Delta_l^T) o (A_{l-1} A_{l-1}^T)
        K = (acts[L] @ acts[L].T) * (out * out)
        for l in range(L):
            K = K + ((Dl[l] @ Dl[l].T) * (acts[l] @ acts[l].T)) * (scales[l] * scales[l])

        def sup_abs(row: np.ndarray) -> float:
            return max(arb_hi(abs(x)) for x in row)

        def two(row: np.ndarray) -> float:
            # sqrt of the upper end: a ball of row @ row that straddles 0 (a zero row) has no real sqrt
            return fb.sqrt_up(arb_hi(row @ row))

        x_norm = tuple(two(row) for row in acts[0])
        a_two = tuple(tuple(two(acts[l][k]) for l in range(1, L + 1)) for k in range(model.n_outputs))
        g_inf = tuple(tuple(sup_abs(G[l][k]) for l in range(L)) for k in range(model.n_outputs))
        g_two = tuple(tuple(two(G[l][k]) for l in range(L)) for k in range(model.n_outputs))
        d_two = tuple(tuple(two(Dl[l][k]) for l in range(L)) for k in range(model.n_outputs))
        v_inf = sup_abs(ar.asarray(v0))
        v_two = two(ar.asarray(v0))
        grams = [acts[l] @ acts[l].T for l in range(L + 1)]
        curv = [model.activation.derivatives((acts[l] @ mats[l].T) * scales[l], ar, 2)[2] for l in range(L)]
        front = tuple(tuple(pareto_front([arb_hi(abs(x)) for x in G[l][k]], [arb_hi(abs(x)) for x in curv[l][k]])
                            for l in range(L)) for k in range(model.n_outputs))
    lmax = [_lambda_max_ball(ar, M) for M in [K] + grams]
    omega = tuple(spectral_norm_upper(W) for W in mats0)
    colmax = tuple(max(fb.sqrt_up(fb.sumsq_upper(col)) for col in W.T) for W in mats0)
    assumptions = tuple(dict.fromkeys((BLAS_MODEL,) + tuple(a for e in lmax for a in e.assumptions)))
    roots = [fb.sqrt_up(max(float(e.hi), 0.0)) for e in lmax]
    return MLPCentre(x_norm, a_two, g_inf, g_two, d_two, omega, colmax, front, tuple(roots[1:]), v_inf, v_two,
                     roots[0], assumptions)


def pareto_front(a: list[float], b: list[float]) -> tuple[tuple[float, float], ...]:
    """The pairs (a_i, b_i) that no other pair dominates in both coordinates: max_i phi(a_i, b_i) for phi
    nondecreasing in both is attained on them (docs/rigor.md §2.3 M3)."""
    out: list[tuple[float, float]] = []
    for ai, bi in sorted(zip(a, b), reverse=True):
        if not out or bi > out[-1][1]:
            out.append((ai, bi))
    return tuple(out)


def _lambda_max_ball(ar: BallArith, K: np.ndarray) -> Any:
    """Enclosure of lambda_max of the symmetric matrix in the arb-ball matrix K: midpoint (symmetrised) and
    Frobenius error to `lambda_max_upper` (docs/rigor.md §1.4)."""
    K_mid, K_rad = ar.mid_rad(K)
    K_sym = np.tril(K_mid) + np.tril(K_mid, -1).T
    asym = np.abs(K_sym - K_mid) * (1 + 2.0**-51)  # covers the rounding of the float subtraction
    K_err = fb.add_up(fb.sqrt_up(fb.sumsq_upper(K_rad)), fb.sqrt_up(fb.sumsq_upper(asym)))
    return lambda_max_upper(K_sym, K_err)


def rho_upper(flint: Any, M: list[list[Any]]) -> float:
    """Float upper bound on lambda_max((M + M^T)/2) for entrywise nonnegative M (Collatz-Wielandt, docs/rigor.md
    §2.3 M6).

    lambda_max(Q) <= rho(Q) <= max_i (Q y)_i / y_i for any y > 0; y is the float Perron vector of Q / max(Q)
    (scaled so that no entry overflows), floored at 1e-9, or all ones where eigh fails. inf where an entry
    of M is infinite or NaN (the radius then simply does not close).
    """
    k = len(M)
    Q = [[(M[i][j] + M[j][i]) / 2 for j in range(k)] for i in range(k)]
    top = max(arb_hi(x) for row in Q for x in row)
    if not math.isfinite(top):
        return math.inf
    y = np.ones(k)
    if top > 0:
        try:
            y = np.abs(np.linalg.eigh(np.array([[float(x.mid()) / top for x in row] for row in Q]))[1][:, -1])
        except np.linalg.LinAlgError:
            pass  # y = 1 is as valid as any other y > 0
    y = np.maximum(y, 1e-9)
    return max(arb_hi(sum((Q[i][j] * float(y[j]) for j in range(k)), flint.arb(0)) / float(y[i])) for i in range(k))


def _activation_constants(model: MLP, ar: BallArith) -> tuple[Any, Any, Any, Any, bool]:
    """(S1, S2, S3 or None where not known, |sigma(0)|, |sigma| <= 1)."""
    act = model.activation
    sigma0 = abs(act.derivatives(ar.asarray(np.zeros(1)), ar, 0)[0][0])
    S3 = None if act.S3 is None else ar.flint.arb(act.S3)
    return ar.flint.arb(act.S1), ar.flint.arb(act.S2), S3, sigma0, act.bounded_by_one


def mlp_ball_bounds(model: MLP, w0: Any, R: float, centre: MLPCentre | None = None) -> MLPBallBounds:
    """epsilon, nu, delta and L_F over B(w0, R) by the recursions of docs/rigor.md §2.3 (docs/theory.md §4.1, §8)."""
    R = float(R)
    if not math.isfinite(R) or R < 0:
        raise InvalidInput(f"the radius R must be a finite number >= 0, got {R!r}")
    c0 = centre if centre is not None else mlp_centre(model, w0)
    ar = BallArith(PREC)
    flint = ar.flint
    L = len(model.widths)
    with ar.active():
        S1, S2, S3, sigma0, bounded = _activation_constants(model, ar)
        h = [model.X.shape[1]] + list(model.widths)
        c = [flint.arb(1)] + [1 / flint.arb(h[l]).sqrt() for l in range(1, L + 1)]  # c[l-1] = c_l, c[L] = c_{L+1}

        def at(r: Any) -> tuple[list[_Input], float]:
            """Per-input results and nu(r) = min(lambda_max(N), ||eps||_2) (M9; M7) on B(w0, r)."""
            Om = [flint.arb(o) + r for o in c0.omega]
            per = [_one_input(flint, L, h, c, Om, r, S1, S2, S3, sigma0, bounded, flint.arb(xk), c0, k)
                   for k, xk in enumerate(c0.x_norm)]
            frob = arb_hi(sum((flint.arb(e.epsilon) ** 2 for e in per), flint.arb(0)).sqrt())
            return per, min(_nu(flint, L, c, Om, r, S1, c0.act_norm, per), frob)

        Rb = flint.arb(R)
        per, nu = at(Rb)
        # M9: ||DF(w) - DF(w0)|| <= R int_0^1 nu(sR) ds <= (R / STEPS) sum_j nu(jR / STEPS), nu nondecreasing
        nus = [at(Rb * j / STEPS)[1] for j in range(1, STEPS)] + [nu]
        delta_hi = arb_hi(Rb * sum((flint.arb(x) for x in nus), flint.arb(0)) / STEPS)
        eps = [e.epsilon for e in per]
        direct = sum((e.jacobian * e.jacobian for e in per), flint.arb(0)).sqrt()
        jac_norm = min(arb_hi(direct), arb_hi(flint.arb(c0.jacobian_norm) + flint.arb(delta_hi)))
    return MLPBallBounds(R, max(eps), tuple(eps), nu, delta_hi, jac_norm, c0.jacobian_norm,
                         RigorLevel.VERIFIED, c0.assumptions)


@dataclass(frozen=True)
class _Input:
    """Per-input results of M2-M6 on the ball (coefficient vectors of t, arb): epsilon_k, J_k, alpha_l
    (>= ||a_l||, l = 0..L), gp_l = G_inf_l S2 p_l and D_l (>= ||delta_l||), l = 1..L at index l - 1."""

    epsilon: float
    jacobian: Any
    alpha: list[Any]
    gp: list[list[Any]]
    D: list[Any]


def _nu(flint: Any, L: int, c: list[Any], Om: list[Any], R: Any, S1: Any, act_norm: tuple[float, ...],
         per: list[_Input]) -> float:
    """M9 (docs/rigor.md §2.3): lambda_max(N) >= sup_B ||D^2 F(w)|| with the data recursion
    P_l = c_l (A_{l-1} e_l + Omega_l S1 P_{l-1}) >= ||dZ_l||_F / t, A_l = min(||A_l(w0)||_2 + R S1 ||P_l||,
    sqrt(sum_k alpha_lk^2)) and N = sym(2 c_{L+1} e_v (S1 P_L)^T + sum_l gp_l P_l^T + sum_{l>=2} 2 c_l D_l e_l
    (S1 P_{l-1})^T), gp_l = Gamma_l p_l and D_l maxima over the inputs."""
    zero, n_t = flint.arb(0), L + 1
    N = [[zero] * n_t for _ in range(n_t)]

    def add(x: list[Any], y: list[Any], scale: Any) -> None:
        for i in range(n_t):
            for j in range(n_t):
                N[i][j] += scale * x[i] * y[j]

    def top(values: Any) -> Any:
        return max(x.upper() for x in values)

    A, q = flint.arb(act_norm[0]), [zero] * n_t
    for l in range(1, L + 1):
        P = [c[l - 1] * (Om[l - 1] * qi + (A if i == l - 1 else zero)) for i, qi in enumerate(q)]
        add([top(e.gp[l - 1][i] for e in per) for i in range(n_t)], P, flint.arb(1))
        if l > 1:
            add([top(e.D[l - 1] for e in per) if i == l - 1 else zero for i in range(n_t)], q, 2 * c[l - 1])
        q = [S1 * x for x in P]
        frob = sum((e.alpha[l] ** 2 for e in per), zero).sqrt()
        A = min((flint.arb(act_norm[l]) + R * sum((x * x for x in q), zero).sqrt()).upper(), frob.upper())
    add([c[L] if i == L else zero for i in range(n_t)], q, flint.arb(2))
    return rho_upper(flint, N)


def _one_input(flint: Any, L: int, h: list[int], c: list[Any], Om: list[Any], R: Any, S1: Any, S2: Any, S3: Any,
               sigma0: Any, bounded: bool, x_norm: Any, c0: MLPCentre, k: int) -> _Input:
    """Input k: M2 forward, M3-M4 backward, M5 Jacobian J_k, M6 Hessian epsilon_k (docs/rigor.md §2.3)."""
    zero = flint.arb(0)
    n_t = L + 1  # direction weights t = (t_1, ..., t_L, t_v), index L is t_v

    def unit(i: int, scale: Any) -> list[Any]:
        return [scale if j == i else zero for j in range(n_t)]

    def axpy(a: Any, x: list[Any], y: list[Any]) -> list[Any]:
        return [a * xi + yi for xi, yi in zip(x, y)]

    def norm(x: list[Any]) -> Any:
        return sum((xi * xi for xi in x), zero).sqrt()

    # M2 forward: alpha_l >= ||a_l||, p_l . t >= ||dz_l||, q_l . t >= ||da_l||
    alpha, p, q = [x_norm], [None], [[zero] * n_t]
    for l in range(1, L + 1):
        p.append([c[l - 1] * e for e in axpy(Om[l - 1], q[l - 1], unit(l - 1, alpha[l - 1]))])
        q.append([S1 * e for e in p[l]])
        bounds = [flint.arb(h[l]).sqrt() * sigma0 + S1 * c[l - 1] * Om[l - 1] * alpha[l - 1],
                  flint.arb(c0.a_two[k][l - 1]) + R * norm(q[l])] + ([flint.arb(h[l]).sqrt()] if bounded else [])
        alpha.append(min(b.upper() for b in bounds))
    # M3: Gam_l >= ||g_l o sigma''(z_l)||_inf, G2_l >= ||g_l||_2, D2_l >= ||delta_l||_2 on B; r_l . t >= ||dg_l||
    Gam, D2 = [zero] * (L + 1), [zero] * (L + 1)
    r, chain = unit(L, c[L]), None  # chain: bounds on ||g_l||_2, ||g_l||_inf from g_l = c_{l+1} W_{l+1}^T delta_{l+1}
    for l in range(L, 0, -1):
        Rr = R * norm(r)
        G2 = flint.arb(c0.g_two[k][l - 1]) + Rr
        G_inf = flint.arb(c0.g_inf[k][l - 1]) + Rr
        if chain is not None:
            G2, G_inf = min(G2.upper(), chain[0].upper()), min(G_inf.upper(), chain[1].upper())
        G_inf = min(G_inf.upper(), G2.upper())
        Rp = None if S3 is None else S3 * R * norm(p[l])
        front = max((min((flint.arb(a) + Rr).upper(), G_inf)
                     * (S2 if Rp is None else min(S2, (flint.arb(b) + Rp).upper())) for a, b in c0.front[k][l - 1]),
                    key=lambda x: x.upper())
        Gam[l] = min((S2 * G_inf).upper(), front.upper())
        s = axpy(Gam[l], p[l], [S1 * e for e in r])
        D2[l] = min((S1 * G2).upper(), (flint.arb(c0.d_two[k][l - 1]) + R * norm(s)).upper())
        if l > 1:
            r = [c[l - 1] * e for e in axpy(Om[l - 1], s, unit(l - 1, D2[l]))]
            chain = (c[l - 1] * Om[l - 1] * D2[l], c[l - 1] * (flint.arb(c0.colmax[l - 1]) + R) * D2[l])
    # M5 Jacobian: |df| <= sum_l c_l D2_l alpha_{l-1} t_l + c_{L+1} alpha_L t_v
    J = norm([c[l - 1] * D2[l] * alpha[l - 1] for l in range(1, L + 1)] + [c[L] * alpha[L]])
    # M6 Hessian: |d^2 f| <= t^T M t with M >= 0
    M = [[zero] * n_t for _ in range(n_t)]
    for j in range(n_t):
        M[L][j] += 2 * c[L] * q[L][j]
    for l in range(1, L + 1):
        for i in range(n_t):
            for j in range(n_t):
                M[i][j] += Gam[l] * p[l][i] * p[l][j]
        if l > 1:
            for j in range(n_t):
                M[l - 1][j] += 2 * c[l - 1] * D2[l] * q[l - 1][j]
    gp = [[Gam[l] * x for x in p[l]] for l in range(1, L + 1)]
    return _Input(rho_upper(flint, M), J, alpha, gp, D2[1:])
