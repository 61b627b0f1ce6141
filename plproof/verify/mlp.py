"""The verifier's own MLP bounds (docs/rigor.md §2.3): K(w0) and L0 at the centre, epsilon, delta, kappa on B(w0, R).

f(x) = c_{L+1} v^T a_L, a_l = sigma(z_l), z_l = c_l W_l a_{l-1}, a_0 = x, c_1 = 1, c_l = h_{l-1}^{-1/2};
w = (vec W_1, ..., vec W_L, v), row-major. The centre is a forward/backward pass in mpmath.iv; the ball
bounds run the recursion of docs/rigor.md §2.3 (per input M1-M7, over the data M9) in rationals rounded up
to the 2^-PREC grid: every quantity is >= 0 and every formula monotone, so rounding up keeps upper bounds.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from mpmath import iv

from plproof.verify.exact import (ACTIVATION_BOUNDS, EXACT_N, PREC, Failure, IntervalNamespace,
                                  MatrixEnclosure, iv_bounds, iv_matrix, positive_definite, sqrt_hi, sqrt_lo)

DIGITS = 30  # decimal digits of the interval pass at w0
STEPS = 4    # right Riemann sum of the Jacobian-change integrals (M7, M9)

Vec = list[Fraction]
MidRad = tuple[np.ndarray, np.ndarray, int]  # (M, P, e): entries in [M - P, M + P] / 2^e, M and P integers


def _sigma(name: str, z: Any) -> tuple[Any, Any, Any]:
    """(sigma, sigma', sigma'') at an mpmath interval z; tanh as 1 - 2/(exp(2z) + 1), sigmoid as 1/(1 + exp(-z))."""
    if name == "sin":
        return iv.sin(z), iv.cos(z), -iv.sin(z)
    if name == "tanh":
        t = 1 - 2 / (iv.exp(2 * z) + 1)
        return t, 1 - t**2, -2 * t * (1 - t**2)
    s = 1 / (1 + iv.exp(-z))
    d = s * (1 - s)
    return (s, d, d * (1 - 2 * s)) if name == "sigmoid" else (iv.log(1 + iv.exp(z)), s, d)


SIGMA = ("tanh", "sigmoid", "softplus", "sin")  #: the activations evaluated by _sigma
BOUNDED = ("tanh", "sigmoid", "sin")  #: |sigma| <= 1


def _up(q: Fraction) -> Fraction:
    """The least multiple of 2^-PREC that is >= q."""
    return Fraction(-((-q.numerator << PREC) // q.denominator), 1 << PREC)


def _abs_hi(x: Any) -> Fraction:
    """An upper bound on |x| over the interval x."""
    lo, hi = iv_bounds(x)
    return _up(max(-lo, hi))


def _norm(x: Vec) -> Fraction:
    return sqrt_hi(sum((v * v for v in x), Fraction(0)))


def _ratios(x: Any) -> tuple[int, int, int, int]:
    """(num_lo, den_lo, num_hi, den_hi) of the dyadic endpoints of an mpmath interval or a float."""
    if isinstance(x, iv.mpf):
        lo, hi = iv_bounds(x)
        return lo.numerator, lo.denominator, hi.numerator, hi.denominator
    return float(x).as_integer_ratio() * 2


def _midrad(A: np.ndarray) -> MidRad:
    """(M, P, e): integer arrays with every entry of A (an mpmath interval or a float) in [M - P, M + P] / 2^e."""
    ends = [_ratios(x) for x in A.flat]
    e = max(max(t[1], t[3]) for t in ends).bit_length()  # 2^(e-1) times every endpoint is an integer
    lo, hi = (np.array([t[i] << (e - t[i + 1].bit_length()) for t in ends], dtype=object).reshape(A.shape)
              for i in (0, 2))
    return lo + hi, hi - lo, e


def _T(a: MidRad) -> MidRad:
    return a[0].T, a[1].T, a[2]


def _dot(a: MidRad, b: MidRad) -> np.ndarray:
    """Intervals containing A @ B: exact integer products of the midpoints, radius |M_A| P_B + P_A (|M_B| + P_B)."""
    mid = a[0] @ b[0]
    rad = np.abs(a[0]) @ b[1] + a[1] @ (np.abs(b[0]) + b[1])
    scale = iv.mpf(2) ** (a[2] + b[2])
    return np.frompyfunc(lambda m, r: iv.mpf([m - r, m + r]) / scale, 2, 1)(mid, rad)


def _spectral_upper(W: np.ndarray) -> Fraction:
    """>= ||W||_2: sqrt(t) with t I - W W^T proved > 0 (exact integer Gram, exact.positive_definite), else ||W||_F."""
    A = W if W.shape[0] <= W.shape[1] else W.T
    M, _, e = _midrad(A)
    G = M @ M.T  # = 4^e A A^T exactly
    s2 = Fraction(float(np.linalg.norm(A, 2))) ** 2
    # the float estimate is accurate to ~ n u; above EXACT_N the float Cholesky test needs a margin ~ 2 n^2 u
    for k in (50, 44, 36, 24, 10) if len(G) <= EXACT_N else (36, 24, 10):
        t = s2 * (1 + Fraction(1, 2**k))
        if positive_definite([[(t if i == j else 0) - Fraction(G[i, j], 4**e) for j in range(len(G))]
                              for i in range(len(G))]):
            return sqrt_hi(t)
    return sqrt_hi(Fraction(int(np.trace(G)), 4**e))


def _row_norms(a: MidRad) -> list[Fraction]:
    """Upper bounds on the Euclidean norms of the rows of A: |entry| <= (|M| + P) / 2^e."""
    return [sqrt_hi(Fraction(int(x), 4**a[2])) for x in ((np.abs(a[0]) + a[1]) ** 2).sum(axis=1)]


def _lambda_max_upper(Q: list[Vec]) -> Fraction:
    """lambda_max(Q) <= rho(Q) <= max_i (Q y)_i / y_i for entrywise nonnegative symmetric Q and any y > 0
    (Collatz-Wielandt), y the float Perron vector of Q / max(Q) floored at 1e-9 (all ones if eigh fails)."""
    top, vec = max(max(row) for row in Q), np.ones(len(Q))
    if top > 0:  # scaled so that no entry overflows a float
        try:
            vec = np.abs(np.linalg.eigh(np.array([[float(x / top) for x in row] for row in Q]))[1][:, -1])
        except np.linalg.LinAlgError:
            pass  # y = 1 is as valid as any other y > 0
    y = [Fraction(float(v)) for v in np.maximum(vec, 1e-9)]
    return _up(max(sum((qij * yj for qij, yj in zip(row, y)), Fraction(0)) / yi for row, yi in zip(Q, y)))


def _gram_norm(G: MatrixEnclosure, fallback: Fraction) -> Fraction:
    """>= sqrt(lambda_max(G)) for every G in the enclosure: sqrt(t) with (t - radius) I - mid proved > 0 for
    t = (1 + 2^-k) (s + radius), s the float lambda_max(mid); else ``fallback``."""
    s = Fraction(float(max(np.linalg.eigvalsh(np.array([[float(x) for x in row] for row in G.mid])))))
    for k in (50, 40, 30, 20, 10):
        t = (1 + Fraction(1, 2**k)) * (max(s, Fraction(0)) + G.radius)
        if G.lambda_max_below(t):
            return min(sqrt_hi(t), fallback)
    return fallback


def _front(a: Vec, b: Vec) -> list[tuple[Fraction, Fraction]]:
    """The pairs (a_i, b_i) not dominated in both coordinates: a max over i of a function increasing in
    both is attained on them."""
    out: list[tuple[Fraction, Fraction]] = []
    for ai, bi in sorted(zip(a, b), reverse=True):
        if not out or bi > out[-1][1]:
            out.append((ai, bi))
    return out


class IntervalCentre:
    """The centre of a family evaluated in interval arithmetic at w0: the kernel enclosure ``K``, the outputs ``F``
    in the namespace ``ns``, ``n`` outputs; ``name`` for messages."""

    name: str
    n: int
    ns: Any
    F: Any
    K: MatrixEnclosure

    def centre(self, y: np.ndarray) -> tuple[MatrixEnclosure, Fraction, Fraction, str]:
        """K(w0) enclosure, L0 = 1/2 ||F(w0) - y||^2 in [lo, hi], and the rigor reached."""
        y = np.asarray(y, dtype=float)
        if y.shape != (self.n,) or not np.isfinite(y).all():
            raise Failure(f"{self.name}: y must be a finite vector of length {self.n}")
        with self.ns.active():
            lo, hi = iv_bounds(sum(r**2 for r in self.F - self.ns.asarray(y)) / 2)
        return self.K, max(lo, Fraction(0)), hi, "verified"


class MLPFamily(IntervalCentre):
    """A bias-free MLP rebuilt from certificate data; every bound in the verifier's own arithmetic."""

    name = "mlp"

    constant = False  # F is not linear in w

    def __init__(self, X: np.ndarray, widths: list[int], activation: str, w0: np.ndarray) -> None:
        if activation not in ACTIVATION_BOUNDS or activation not in SIGMA:  # exact.py's proved S1, S2, S3
            raise Failure(f"activation {activation!r} is not re-checked by the verifier "
                          f"(supported: {', '.join(SIGMA)})")
        X, w0 = np.asarray(X, dtype=float), np.asarray(w0, dtype=float).ravel()
        if X.ndim != 2 or not np.isfinite(X).all() or not widths or any(int(k) != k or k < 1 for k in widths):
            raise Failure("mlp: X must be a finite matrix and widths a non-empty list of positive integers")
        h = self.h = [X.shape[1]] + [int(k) for k in widths]
        L = self.L = len(widths)
        self.n, self.m = X.shape[0], sum(a * b for a, b in zip(h[1:], h[:-1])) + h[-1]
        if w0.shape != (self.m,) or not np.isfinite(w0).all():
            raise Failure(f"mlp: w0 must be a finite vector of length {self.m}, got shape {list(w0.shape)}")
        self.S1, self.S2, self.S3 = ACTIVATION_BOUNDS[activation]
        self.bounded = activation in BOUNDED
        ends = np.cumsum([0] + [a * b for a, b in zip(h[1:], h[:-1])])
        W = [None] + [w0[ends[l - 1]:ends[l]].reshape(h[l], h[l - 1]) for l in range(1, L + 1)]  # W[l] = W_l
        v, Wmr = w0[ends[-1]:], [None] + [_midrad(W[l]) for l in range(1, L + 1)]
        # M0: c[l] >= c_l (l = 1..L+1), omega[l] >= ||W_l||_2, colmax[l] >= max_j ||W_l e_j||, xn[k] >= ||x_k||
        self.c = [Fraction(0), Fraction(1)] + [_up(1 / sqrt_lo(Fraction(k))) for k in h[1:]]
        self.omega = [Fraction(0)] + [_spectral_upper(W[l]) for l in range(1, L + 1)]
        self.colmax = [Fraction(0)] + [max(_row_norms(_T(Wmr[l]))) for l in range(1, L + 1)]
        self.sqrt_h, self.xn = [sqrt_hi(Fraction(k)) for k in h], _row_norms(_midrad(X))
        self.ns = IntervalNamespace(DIGITS)
        with self.ns.active():  # forward and backward pass at w0 in intervals, one row per input
            self.sigma0 = _abs_hi(_sigma(activation, iv.mpf(0))[0])
            c = [None, iv.mpf(1)] + [1 / iv.sqrt(iv.mpf(k)) for k in h[1:]]
            act = np.frompyfunc(lambda z: _sigma(activation, z), 1, 3)
            A, Amr, d1, d2 = [X], [_midrad(X)], [None], [None]  # a_l, sigma'(z_l), sigma''(z_l)
            for l in range(1, L + 1):
                for out, value in zip((A, d1, d2), act(_dot(Amr[-1], _T(Wmr[l])) * c[l])):
                    out.append(value)
                Amr.append(_midrad(A[-1]))
            G, D = [None] * (L + 1), [None] * (L + 1)  # g_l = df/da_l, delta_l = g_l o sigma'(z_l) = df/dz_l
            G[L] = np.tile(self.ns.asarray(v) * c[L + 1], (self.n, 1))
            for l in range(L, 0, -1):
                D[l] = G[l] * d1[l]
                if l > 1:
                    G[l - 1] = _dot(_midrad(D[l] * c[l]), Wmr[l])
            # K(w0) = c_{L+1}^2 A_L A_L^T + sum_l c_l^2 (Delta_l Delta_l^T) o (A_{l-1} A_{l-1}^T)
            K = _dot(Amr[L], _T(Amr[L])) * c[L + 1] ** 2
            for l in range(1, L + 1):
                Dmr = _midrad(D[l])
                K = K + _dot(Dmr, _T(Dmr)) * _dot(Amr[l - 1], _T(Amr[l - 1])) * c[l] ** 2
            self.K = iv_matrix(np.triu(K) + np.triu(K, 1).T)
            grams = [iv_matrix(np.triu(G) + np.triu(G, 1).T) for G in (_dot(A, _T(A)) for A in Amr)]
            self.F = _dot(Amr[L], _midrad(v[:, None]))[:, 0] * c[L + 1]
        # per input k, layer l (index l - 1): ||a_l||, ||g_l||, ||delta_l||, ||g_l||_inf, front (|g_li|, |sigma''_li|)
        absu, layers = np.frompyfunc(_abs_hi, 1, 1), range(1, L + 1)
        self.a2, self.g2, self.d2 = (list(zip(*(_row_norms(_midrad(Y[l])) for l in layers))) for Y in (A, G, D))
        Gabs = [None] + [absu(G[l]) for l in layers]
        self.ginf = list(zip(*(np.max(Gabs[l], axis=1) for l in layers)))
        self.front = [[_front(list(Gabs[l][k]), list(absu(d2[l][k]))) for l in layers] for k in range(self.n)]
        # M9: act_norm[l] >= ||A_l(w0)||_2 (A_0 = X), capped by the Frobenius norm
        frob = [sqrt_hi(sum((a * a for a in self.xn), Fraction(0)))] + [
            sqrt_hi(sum((row[l - 1] ** 2 for row in self.a2), Fraction(0))) for l in layers]
        self.act_norm = [_gram_norm(G, f) for G, f in zip(grams, frob)]
        self._ball: dict[Fraction, tuple[list[Fraction], Fraction]] = {}

    def epsilon(self, R: Fraction) -> Fraction:
        """>= max_k sup_{B(w0,R)} ||Hess f(x_k)||_2 (M6)."""
        return max(self._at(R)[0])

    def delta(self, R: Fraction) -> Fraction:
        """>= sup_B ||DF(w) - DF(w0)||_2: ||DF(w) - DF(w0)|| <= R int_0^1 nu(sR) ds (M9), row k <= R int_0^1
        eps_k(sR) ds (M7); both integrands nondecreasing, so right Riemann sums with STEPS terms bound them."""
        R = Fraction(R)
        steps = [self._at(R * j / STEPS) for j in range(1, STEPS + 1)]
        per_input = sqrt_hi(sum((sum(col) / STEPS) ** 2 for col in zip(*(eps for eps, _ in steps))))
        return _up(R * min(per_input, sum(nu for _, nu in steps) / STEPS))

    def kappa(self, R: Fraction, rho: Fraction) -> Fraction:
        """>= sup ||sum_k r_k Hess f(x_k)|| over B and ||r|| <= rho: <= rho nu (M9)."""
        return _up(Fraction(rho) * self._at(R)[1])

    def _at(self, R: Fraction) -> tuple[list[Fraction], Fraction]:
        """(eps_k(R) = lambda_max(Q_k) for every input, nu(R) = min(lambda_max(N), ||eps||_2)), cached by R."""
        R = Fraction(R)
        if R < 0:
            raise Failure(f"mlp: the radius must be >= 0, got {float(R):.6g}")
        if R not in self._ball:
            per = [self._input(k, R) for k in range(self.n)]
            eps = [_lambda_max_upper(Q) for Q, *_ in per]
            self._ball[R] = eps, min(sqrt_hi(sum(e * e for e in eps)), self._nu(R, per))
        return self._ball[R]

    def _nu(self, R: Fraction, per: list[tuple[list[Vec], Vec, list[Vec], Vec]]) -> Fraction:
        """M9: lambda_max(N) >= sup_B ||D^2 F||, N = sym(2 c_{L+1} e_v Q_L^T + sum_l gp_l P_l^T
        + sum_{l>=2} 2 c_l D_l e_l Q_{l-1}^T), with P_l >= ||dZ_l||_F / t over the data (Q_l = S1 P_l) and gp_l, D_l
        the maxima over the inputs of Gamma_l p_l and D_l."""
        L, c, S1 = self.L, self.c, self.S1
        N = [[Fraction(0)] * (L + 1) for _ in range(L + 1)]

        def add(x: Vec, y: Vec, scale: Fraction) -> None:
            for i in range(L + 1):
                for j in range(L + 1):
                    N[i][j] += scale * x[i] * y[j]

        A, q = self.act_norm[0], [Fraction(0)] * (L + 1)
        for l in range(1, L + 1):
            P = [_up(c[l] * ((self.omega[l] + R) * x + (A if i == l - 1 else 0))) for i, x in enumerate(q)]
            add([max(gp[l - 1][i] for _, _, gp, _ in per) for i in range(L + 1)], P, Fraction(1))
            if l > 1:
                add([max(D[l] for *_, D in per) if i == l - 1 else Fraction(0) for i in range(L + 1)], q, 2 * c[l])
            q = [_up(S1 * x) for x in P]
            A = min(self.act_norm[l] + R * _norm(q), sqrt_hi(sum((alpha[l] ** 2 for _, alpha, _, _ in per),
                                                                 Fraction(0))))
        add([c[L + 1] if i == L else Fraction(0) for i in range(L + 1)], q, Fraction(2))
        return _lambda_max_upper([[_up((N[i][j] + N[j][i]) / 2) for j in range(L + 1)] for i in range(L + 1)])

    def _input(self, k: int, R: Fraction) -> tuple[list[Vec], Vec, list[Vec], Vec]:
        """(Q, alpha, gp, D) for input k on B: Q >= 0 with |u^T Hess f(x_k; w) u| <= t^T Q t for every unit
        u = (U_1, ..., U_L, u_v), t = (||U_1||_F, ..., ||U_L||_F, ||u_v||) (M1-M6); alpha[l] >= ||a_l||,
        gp[l - 1] = Gamma_l p_l, D[l] >= ||delta_l||. Vectors are coefficients of t."""
        L, c, S1, S2, S3 = self.L, self.c, self.S1, self.S2, self.S3
        Om = [o + R for o in self.omega]  # M1
        e = lambda i, x: [x if j == i else Fraction(0) for j in range(L + 1)]  # noqa: E731
        add = lambda s, x, y: [_up(s * (a + b)) for a, b in zip(x, y)]  # noqa: E731
        alpha, p, q = [self.xn[k]], [e(0, Fraction(0))], [e(0, Fraction(0))]  # M2: ||a_l||, ||z_l'||, ||a_l'||
        for l in range(1, L + 1):
            p.append(add(c[l], e(l - 1, alpha[-1]), [Om[l] * x for x in q[-1]]))
            q.append([_up(S1 * x) for x in p[-1]])
            bounds = [self.sqrt_h[l] * self.sigma0 + S1 * c[l] * Om[l] * alpha[-1],
                      self.a2[k][l - 1] + R * _norm(q[-1])] + [self.sqrt_h[l]] * self.bounded
            alpha.append(_up(min(bounds)))
        Gam, D = [Fraction(0)] * (L + 1), [Fraction(0)] * (L + 1)
        r, chain = e(L, c[L + 1]), None  # M3: ||g_l'|| <= r . t; chain: M3 bounds on ||g_l||, ||g_l||_inf
        for l in range(L, 0, -1):
            Rr, Rp = R * _norm(r), S3 * R * _norm(p[l])
            g2, ginf = self.g2[k][l - 1] + Rr, self.ginf[k][l - 1] + Rr
            if chain is not None:
                g2, ginf = min(g2, chain[0]), min(ginf, chain[1])
            ginf = min(ginf, g2)
            # M3: Gam_l >= sup_B ||g_l o sigma''(z_l)||_inf, |sigma''(z_i)| <= |sigma''(z_i^0)| + S3 |z_i - z_i^0|
            Gam[l] = _up(min(S2 * ginf, max(min(a + Rr, ginf) * min(S2, b + Rp) for a, b in self.front[k][l - 1])))
            s = add(1, [Gam[l] * x for x in p[l]], [S1 * x for x in r])  # ||delta_l'|| <= s . t
            D[l] = _up(min(S1 * g2, self.d2[k][l - 1] + R * _norm(s)))
            if l > 1:  # g_{l-1} = c_l W_l^T delta_l: ||.|| <= c_l Omega_l D_l, ||.||_inf <= c_l (colmax_l + R) D_l
                r = add(c[l], e(l - 1, D[l]), [Om[l] * x for x in s])
                chain = (_up(c[l] * Om[l] * D[l]), _up(c[l] * (self.colmax[l] + R) * D[l]))
        M = [[sum((Gam[l] * p[l][i] * p[l][j] for l in range(1, L + 1)), Fraction(0)) for j in range(L + 1)]
             for i in range(L + 1)]  # M6
        for j in range(L + 1):
            M[L][j] += 2 * c[L + 1] * q[L][j]
            for l in range(2, L + 1):
                M[l - 1][j] += 2 * c[l] * D[l] * q[l - 1][j]
        Q = [[_up((M[i][j] + M[j][i]) / 2) for j in range(L + 1)] for i in range(L + 1)]
        return Q, alpha, [[_up(Gam[l] * x) for x in p[l]] for l in range(1, L + 1)], D
