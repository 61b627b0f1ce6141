"""What the ball theorem needs at the centre w0, as enclosures at a requested rigor level.

lambda0 <= lambda_min(K(w0)), ||DF(w0)||_2, ||r0|| = ||F(w0) - y||, L0 = ||r0||^2 / 2 and the largest row
norm max_i ||grad f_i(w0)|| = sqrt(max_i K_ii(w0)) (docs/theory.md §3, §4.1, §10). ``verified`` encloses F(w0) and
K(w0) rigorously: exactly for linear models on small data; for two-layer nets and random features with float BLAS
plus proven error bounds around tabulated activation enclosures, summed over blocks of neurons in memory
O(n^2 + nd + md) (docs/rigor.md §3, §3.1, §11); for MLPs of any depth and larger linear models in midpoint-radius
float arrays (docs/rigor.md §3.2); in python-flint balls for the rest (SympyModel). None of the float paths needs
python-flint. A model to which its family's closed forms do not apply (plproof.models.base.closed_form_obstacle)
is differentiated from its own F, which nothing encloses: its centre is a float64 estimate, with the reason
attached (docs/rigor.md §2.4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from plproof.errors import MissingDependency
from plproof.models import MLP, Linear, TwoLayer
from plproof.models.base import closed_form_obstacle, generic_model
from plproof.numeric import floatbounds as fb
from plproof.numeric import midrad_blas as mr
from plproof.numeric.arith import EXACT, FLOAT64, BallArith, have_flint, high_precision
from plproof.numeric.enclosures import PIECEWISE, SPECS, enclose
from plproof.numeric.linalg import eigvalsh_hp
from plproof.numeric.rigor import Enclosure, RigorLevel
from plproof.numeric.verified import EXACT_AUTO_MAX_N, lambda_max_upper, lambda_min_lower
from plproof.problem import Problem, log10_square_norm, require_float_range

#: n * m * d above which a model without a vectorised centre gets float estimates in place of balls
BALL_WORK_LIMIT = 10_000_000
#: largest n * m * d at which a float centre that does not prove lambda_min(K(w0)) > 0 is retried in balls
BALL_RETRY_LIMIT = 200_000
#: largest n for which "auto" computes lambda0 at high precision with mpmath eigsy
HP_EIG_LIMIT = 120
#: bytes of n x b float64 temporaries one block of b neurons may hold in the wide two-layer centre (docs/rigor.md §3.1)
BLOCK_BYTES = 2**28
#: n x b float64 arrays alive at once in a block: Z and its radius, two (mid, rad) enclosures, B, |B|, E_B,
#: |A|, and the temporaries of their formulas (docs/rigor.md §3.1)
BLOCK_ARRAYS = 16


@dataclass
class Centre:
    """Enclosures at w0: lambda0, ||DF(w0)||, ||r0||, L0, max_i ||grad f_i(w0)||, plus how they were obtained."""

    lambda0: Enclosure
    jac_norm: Enclosure
    res_norm: Enclosure
    L0: Enclosure
    method: str
    notes: list[str] = field(default_factory=list)
    hints: dict[str, Any] = field(default_factory=dict)
    row_norm: Enclosure | None = None


def _frob_upper(a: np.ndarray) -> float:
    return fb.sqrt_up(fb.sumsq_upper(a))


def _require_float_range(log10_sq: float, what: str) -> None:
    """The enclosures below bound Frobenius norms and ||r0||^2 in float64: refuse quantities that would overflow."""
    require_float_range(log10_sq, what, "rescale X, y or w0")


def _from_kernel(K: np.ndarray, K_err: float, r: np.ndarray, r_err: float, rigor: RigorLevel,
                 method: str, assumptions: tuple[str, ...] = ()) -> Centre:
    """Verified lambda_min/lambda_max from (K, K_err) and ||r|| from a float residual with error r_err."""
    lam = lambda_min_lower(K, K_err, psd=True, upper=True)
    lmax = lambda_max_upper(K, K_err)
    # ||r_hat|| from a float dot has relative error <= gamma_{n+2}
    r_lo = max(fb.down(float(np.sqrt(r @ r)) * (1 - fb.gamma(r.size + 2)) - r_err), 0.0)
    r_hi = fb.add_up(_frob_upper(r), r_err)
    L0 = Enclosure(fb.down(r_lo * r_lo / 2 * (1 - 4 * fb.U)), fb.up(fb.mul_up(r_hi, r_hi) / 2), rigor)
    assumptions = tuple(dict.fromkeys(assumptions + lam.assumptions + lmax.assumptions))
    jac = Enclosure(fb.down(float(np.sqrt(max(float(lmax.lo), 0.0)))), fb.sqrt_up(max(float(lmax.hi), 0.0)),
                    rigor, assumptions)
    return Centre(Enclosure(lam.lo, lam.hi, rigor, assumptions), jac,
                  Enclosure(r_lo, r_hi, rigor, assumptions), Enclosure(L0.lo, L0.hi, rigor, assumptions),
                  method, hints={"lambda0_shift": float(lam.lo)}, row_norm=_row_norm(K, K_err, rigor, assumptions))


def _row_norm(K: np.ndarray, K_err: float, rigor: RigorLevel, assumptions: tuple[str, ...] = ()) -> Enclosure:
    """max_i ||grad f_i(w0)|| = sqrt(max_i K_ii) from a float K within K_err of the true one in every entry."""
    top = float(np.max(np.diag(K)))
    lo = fb.down(float(np.sqrt(max(fb.down(top - K_err), 0.0))))
    return Enclosure(min(lo, fb.sqrt_up(fb.add_up(top, K_err))), fb.sqrt_up(fb.add_up(top, K_err)), rigor, assumptions)


def _exact_linear(problem: Problem) -> Centre:
    """F = X w on float data is rational: K, r and L0 exactly, lambda0 by rational LDL^T (docs/theory.md §7)."""
    X = EXACT.asarray(problem.model.X)
    K = X @ X.T
    r = X @ EXACT.asarray(problem.w0) - EXACT.asarray(problem.y)
    r2 = Fraction(r @ r)
    if r2:
        _require_float_range(math.log10(r2.numerator) - math.log10(r2.denominator), "the residual F(w0) - y")
    L0 = r2 / 2
    lam = lambda_min_lower(K.tolist(), 0, method="exact")
    lmax = lambda_max_upper(K.tolist(), 0, method="exact")
    exact = RigorLevel.EXACT
    r_hi = fb.sqrt_up(fb.float_up(r2))
    r_lo = fb.down(float(np.sqrt(fb.float_down(r2))))
    jac_hi = fb.sqrt_up(fb.float_up(Fraction(lmax.hi)))
    jac_lo = fb.down(float(np.sqrt(fb.float_down(Fraction(max(lmax.lo, 0))))))
    top = max(K[i, i] for i in range(problem.n))
    row = Enclosure(fb.down(float(np.sqrt(fb.float_down(top)))), fb.sqrt_up(fb.float_up(top)), exact)
    return Centre(Enclosure(lam.lo, lam.hi, lam.rigor), Enclosure(jac_lo, jac_hi, lmax.rigor),
                  Enclosure(r_lo, r_hi, exact), Enclosure(L0, L0, exact), "exact rational",
                  hints={"lambda0_shift": fb.float_down(Fraction(lam.lo))}, row_norm=row)


def _balls(problem: Problem) -> Centre:
    """F(w0) and K(w0) evaluated in arb balls at 128 bits (rigorous, no float assumptions)."""
    ar = BallArith(128)
    model = problem.model
    with ar.active():
        K = model.kernel(problem.w0, ar)
        r = model.F(problem.w0, ar) - ar.asarray(problem.y)
    K_mid, K_rad = ar.mid_rad(K)
    r_mid, r_rad = ar.mid_rad(r)
    _require_float_range(log10_square_norm(np.abs(K_mid) + K_rad), "K(w0) = DF(w0) DF(w0)^T")
    _require_float_range(log10_square_norm(np.abs(r_mid) + r_rad), "the residual F(w0) - y")
    K_sym = np.tril(K_mid) + np.tril(K_mid, -1).T  # symmetric; its distance to K_mid is covered below
    K_err = fb.add_up(_frob_upper(K_rad), _frob_upper(K_sym - K_mid))
    K_mid = K_sym
    return _from_kernel(K_mid, K_err, r_mid, _frob_upper(r_rad), RigorLevel.VERIFIED, "python-flint balls")


def block_size(n: int, m: int, budget: int | None = None) -> int:
    """Neurons per block: BLOCK_ARRAYS n x b float64 arrays within ``budget`` bytes (default BLOCK_BYTES), at least
    1, at most m."""
    budget = BLOCK_BYTES if budget is None else budget
    return int(max(1, min(m, budget // (8 * BLOCK_ARRAYS * max(n, 1)))))


class KernelSums:
    """The sums over neurons in K = s^2 [(X X^T) o (B B^T) + A A^T] and its error bound, added block by block.

    Per block of neurons (columns of A, D, entries of v): B B^T, |B||B|^T, E_B |B|^T and the squared row norms
    of E_B, with B = D o v, E_B = u|B| + D_rad |v| >= |B - B_true| (trained W), and A A^T, |A||A|^T, A_rad |A|^T
    and those of A_rad (trained v). E_B E_B^T <= e e^T with e_i = ||(E_B)_i|| (Cauchy-Schwarz; an O(u^2) term).
    A float sum over m neurons in blocks is a float sum in another order, so gamma_m bounds its rounding as it
    bounds one BLAS product's; memory is O(n^2) for the sums plus the block (docs/rigor.md §3, §3.1).
    """

    def __init__(self, n: int, train: str) -> None:
        self.m = 0
        keys = (("BB", "aBB", "P") if train in ("both", "hidden") else ()) + \
               (("AA", "aAA", "Q") if train in ("both", "output") else ())
        self.sums = {key: np.zeros((n, n)) for key in keys}
        self.rows = {key: np.zeros(n) for key in ("EB", "A_rad")}  # squared row norms

    def _add(self, key: str, left: np.ndarray, right: np.ndarray) -> None:
        self.sums[key] += left @ right.T

    def _outer(self, key: str) -> np.ndarray:
        """e e^T >= E E^T entrywise, e the row norms of E = E_B or A_rad (Cauchy-Schwarz); each of the m squares
        summed loses less than 2^-1022 to underflow, so m 2^-1022 is added before the square root."""
        e = np.sqrt(self.rows[key] + self.m * 2.0**-1022)
        return np.multiply.outer(e, e)

    def add(self, v: np.ndarray, A: np.ndarray, A_rad: np.ndarray, D: np.ndarray | None,
            D_rad: np.ndarray | None) -> None:
        """Add the neurons of one block: A, D (n x b) within A_rad, D_rad of sigma, sigma' entrywise, v (b)."""
        self.m += A.shape[1]
        if "BB" in self.sums:
            B = D * v
            aB = np.abs(B)
            EB = fb.gamma(1) * aB + D_rad * np.abs(v)
            for key, left, right in (("BB", B, B), ("aBB", aB, aB), ("P", EB, aB)):
                self._add(key, left, right)
            self.rows["EB"] += np.einsum("ij,ij->i", EB, EB)
        if "AA" in self.sums:
            aA = np.abs(A)
            for key, left, right in (("AA", A, A), ("aAA", aA, aA), ("Q", A_rad, aA)):
                self._add(key, left, right)
            self.rows["A_rad"] += np.einsum("ij,ij->i", A_rad, A_rad)

    def unscaled(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Ksum, E): K = Ksum / m in float and E >= |Ksum~ - Ksum_true| entrywise, gamma_k |.||.| per BLAS product
        plus the propagated radii (docs/rigor.md §3, §5.3)."""
        S, n = self.sums, X.shape[0]
        u1, gm, gd = fb.gamma(1), fb.gamma(self.m), fb.gamma(X.shape[1])
        Ksum, E = np.zeros((n, n)), np.zeros((n, n))
        if "BB" in S:
            BB = S["BB"]
            # |BB~ - B B^T| <= gamma_m |B||B|^T + E_B (|B| + E_B)^T + |B| E_B^T
            EBB = gm * S["aBB"] + (S["P"] + S["P"].T) + self._outer("EB")
            G = X @ X.T
            EG = gd * (np.abs(X) @ np.abs(X).T)
            _require_float_range(log10_square_norm(BB) + log10_square_norm(G), "K(w) = DF(w) DF(w)^T")
            Ksum = G * BB
            E = u1 * np.abs(Ksum) + EG * np.abs(BB) + (np.abs(G) + EG) * EBB
        if "AA" in S:
            K2 = S["AA"]
            _require_float_range(log10_square_norm(K2), "K(w) = DF(w) DF(w)^T")
            E2 = gm * S["aAA"] + (S["Q"] + S["Q"].T) + self._outer("A_rad")
            E = E + E2 + u1 * np.abs(Ksum + K2) if "BB" in S else E2
            Ksum = Ksum + K2
        return Ksum, E

    def kernel(self, X: np.ndarray) -> tuple[np.ndarray, float]:
        """The symmetric computed K and err >= ||K~ - K||_2 from the sums: :meth:`unscaled`, scaled by s^2 = 1/m,
        then in Frobenius norm (docs/rigor.md §3, §5.3)."""
        Ksum, E = self.unscaled(X)
        u1, s = fb.gamma(1), 1 / np.sqrt(self.m)
        s_up = fb.up(s * (1 + 3 * u1))
        K = Ksum * (s * s)
        # fl(s * s) is within 3u of 1/m relative, the scaling one more rounding: 8 u1 |Ksum| s^2 covers both
        E = u1 * np.abs(K) + np.abs(Ksum) * (8 * u1 * s * s) + s_up * s_up * E
        K_sym = np.tril(K) + np.tril(K, -1).T
        # 1 + 1e-6 covers evaluating the bound formulas in float; n 2^-1000 the underflow of n^2 entries
        return K_sym, fb.add_up(fb.mul_up(_frob_upper(E), 1 + 1e-6), _frob_upper(K_sym - K), X.shape[0] * 2.0**-1000)


def two_layer_kernel(X: np.ndarray, v: np.ndarray, train: str, A: np.ndarray, A_rad: np.ndarray, D: np.ndarray | None,
                     D_rad: np.ndarray | None) -> tuple[np.ndarray, float]:
    """K = s^2 [(X X^T) o (B B^T) + A A^T], B = D o v, s = m^{-1/2}, by BLAS, and err >= ||K~ - K||_2.

    A and D are float arrays (n x m) with |A - sigma(X W^T)| <= A_rad and |D - sigma'(X W^T)| <= D_rad
    entrywise; ``train`` drops the A A^T term ('hidden') or the (X X^T) o (B B^T) term ('output', D unused).
    All m neurons in one block of :class:`KernelSums` (docs/rigor.md §3, §5.3). Returns the symmetric computed K
    and err.
    """
    sums = KernelSums(X.shape[0], train)
    sums.add(v, A, A_rad, D, D_rad)
    return sums.kernel(X)


def _wide_two_layer(problem: Problem, budget: int | None = None) -> Centre:
    """Two-layer K = s^2 [(X X^T) o (B B^T) + A A^T] by BLAS, with proven bounds, over blocks of neurons whose
    temporaries take about ``budget`` bytes (default BLOCK_BYTES; docs/rigor.md §3, §3.1)."""
    model: TwoLayer = problem.model
    X = model.X
    W, v = model.split(np.asarray(problem.w0, dtype=float))
    n, d, m = X.shape[0], X.shape[1], model.width
    order = 0 if model.train == "output" else 1  # D: W trained only
    absX, z_scale = np.abs(X), fb.gamma_ratio(d) * 2
    sums = KernelSums(n, model.train)
    Av, Ar, aAv = np.zeros(n), np.zeros(n), np.zeros(n)
    step = block_size(n, m, budget)
    for lo in range(0, m, step):
        Wb, vb = W[lo:lo + step], v[lo:lo + step]
        Z = X @ Wb.T
        Z_err = z_scale * (absX @ np.abs(Wb).T) + d * fb.ETA
        values = enclose(model.activation.name, Z, Z_err, order)
        del Z, Z_err
        (A, A_rad), (D, D_rad) = values[0], values[1] if order else (None, None)
        avb = np.abs(vb)
        Av += A @ vb
        Ar += A_rad @ avb
        aAv += np.abs(A) @ avb
        sums.add(vb, A, A_rad, D, D_rad)
    s = 1 / np.sqrt(m)
    # F = s A v: propagated ball radii plus rounding gamma_m |A||v| (BLAS, any order of the blocks' sums); factor
    # 2 covers the rounding of these error terms themselves (each has relative error <= gamma_{m+2} << 1).
    F = Av * s
    F_err = 2 * (Ar + fb.gamma(m + 2) * aAv) * s + 4 * fb.U * np.abs(F)
    r = F - problem.y
    _require_float_range(log10_square_norm(np.abs(r) + F_err), "the residual F(w0) - y")
    r_err = fb.add_up(_frob_upper(F_err), fb.mul_up(fb.U, _frob_upper(r)))
    K, err = sums.kernel(X)
    return _from_kernel(K, err, r, r_err, RigorLevel.VERIFIED, "BLAS with proven error bounds, tabulated activations")


def mlp_enclosure(model: MLP, w: np.ndarray) -> tuple[mr.MidRad, mr.MidRad]:
    """(F(w), K(w)) of an MLP (any depth) as midpoint-radius float64 arrays: forward and backward passes by BLAS
    with Cauchy-Schwarz radii (plproof.numeric.midrad_blas), activations by the tables of §11, and
    K = c_{L+1}^2 A_L A_L^T + sum_l c_l^2 (Delta_l Delta_l^T) o (A_{l-1} A_{l-1}^T), Delta_l = df/dz_l; memory
    O(n (d + h_1 + ... + h_L) + n^2) plus the weights, no Jacobian formed (docs/rigor.md §3.2)."""
    mats, v = model.split(np.asarray(w, dtype=float))
    name = model.activation.name
    fan_in = [model.X.shape[1]] + list(model.widths[:-1])
    acts: list[mr.MidRad] = [(model.X, np.zeros_like(model.X))]
    derivs: list[mr.MidRad] = []
    scales = [None] + [mr.scalar_inv_sqrt(h) for h in fan_in[1:]]  # c_1 = 1 exactly
    for l, W in enumerate(mats):
        Z = mr.product(acts[-1], W.T)
        if scales[l] is not None:
            Z = mr.scale(Z, scales[l])
        (A, A_rad), (D, D_rad) = enclose(name, Z[0], Z[1], 1)
        del Z
        acts.append((A, A_rad))
        derivs.append((D, D_rad))
    out = mr.scalar_inv_sqrt(model.widths[-1])
    F = mr.scale(mr.matvec(acts[-1], v), out)
    inv = [mr.scalar_inv(h) for h in [*fan_in, model.widths[-1]]]  # c_l^2
    K = mr.scale(mr.gram(acts[-1]), inv[-1])
    G = mr.scale((np.broadcast_to(v, acts[-1][0].shape), np.zeros(acts[-1][0].shape)), out)  # df/da_L
    for l in range(len(mats) - 1, -1, -1):
        delta = mr.hadamard(G, derivs[l])  # df/dz_{l+1}
        term = mr.hadamard(mr.gram(delta), mr.gram(acts[l]))
        K = mr.add(K, term if l == 0 else mr.scale(term, inv[l]))
        if l:
            G = mr.scale(mr.product(delta, mats[l]), scales[l])  # df/da_l
        del delta, term
    return F, K


def linear_enclosure(X: np.ndarray, w: np.ndarray) -> tuple[mr.MidRad, mr.MidRad]:
    """(X w, X X^T) as midpoint-radius float64 arrays (docs/rigor.md §3.2)."""
    exact = (X, np.zeros_like(X))
    return mr.matvec(exact, np.asarray(w, dtype=float)), mr.gram(exact)


def _network(problem: Problem) -> Centre:
    """Verified centre of an MLP or a linear model from :func:`mlp_enclosure` / :func:`linear_enclosure`."""
    model = problem.model
    if isinstance(model, Linear):
        F, K = linear_enclosure(model.X, problem.w0)
        method = "BLAS midpoint-radius with proven error bounds"
    else:
        F, K = mlp_enclosure(model, problem.w0)
        method = "BLAS midpoint-radius with proven error bounds, tabulated activations"
    r = F[0] - problem.y
    _require_float_range(log10_square_norm(np.abs(r) + F[1]), "the residual F(w0) - y")
    _require_float_range(log10_square_norm(np.abs(K[0]) + K[1]), "K(w0) = DF(w0) DF(w0)^T")
    # r = fl(F - y): one more rounding, u |r|
    r_err = fb.add_up(_frob_upper(F[1]), fb.mul_up(fb.U, _frob_upper(r)))
    mid, rad = K
    K_sym = np.tril(mid) + np.tril(mid, -1).T  # ||K - K_sym||_2 <= ||rad||_F + ||K_sym - mid||_F
    err = fb.add_up(_frob_upper(rad), _frob_upper(K_sym - mid))
    return _from_kernel(K_sym, err, r, r_err, RigorLevel.VERIFIED, method)


def _high_precision(problem: Problem, digits: int) -> Centre:
    """lambda_min and lambda_max of K(w0) at ``digits`` digits (double-double up to 30 digits, mpmath above,
    :func:`~plproof.numeric.arith.high_precision`; the model's fallback where it cannot evaluate there); not
    rigorous."""
    ar = problem.model.arithmetic(high_precision(digits))
    with ar.active():
        K = problem.kernel(problem.w0, ar)
        r = problem.residual(problem.w0, ar)
        evals = eigvalsh_hp(K, digits)
        rr = r @ r
        top = max(K[i, i] for i in range(len(K)))
    hp = RigorLevel.HIGH_PRECISION
    lam = float(evals[0])
    return Centre(Enclosure.point(lam, hp), Enclosure.point(float(np.sqrt(float(evals[-1]))), hp),
                  Enclosure.point(float(np.sqrt(float(rr))), hp), Enclosure.point(float(rr / 2), hp),
                  f"{digits} digits ({ar.name})", hints={"lambda0_shift": lam},
                  row_norm=Enclosure.point(float(np.sqrt(float(top))), hp))


def _sampled(problem: Problem, K: np.ndarray | None = None, method: str = "float64",
             assumptions: tuple[str, ...] = ()) -> Centre:
    """float64 estimates (LAPACK eigvalsh) from K(w0) (default: the model's), level ``sampled``."""
    K = problem.kernel(problem.w0, FLOAT64) if K is None else K
    r = problem.residual(problem.w0, FLOAT64)
    ev = np.linalg.eigvalsh(K)
    rn = float(np.linalg.norm(r))

    def estimate(value: float) -> Enclosure:
        return Enclosure(value, value, RigorLevel.SAMPLED, assumptions)

    return Centre(estimate(float(ev[0])), estimate(float(np.sqrt(max(ev[-1], 0.0)))), estimate(rn),
                  estimate(rn * rn / 2), method, hints={"lambda0_shift": float(ev[0])},
                  row_norm=estimate(float(np.sqrt(max(float(np.max(np.diag(K))), 0.0)))))


def _from_F(problem: Problem, reason: str) -> Centre:
    """K(w0) = DF DF^T with DF differentiated from F (generic_model): float64 estimates, the reason attached."""
    view = generic_model(problem.model)
    K = view.kernel(problem.w0, FLOAT64)
    how = f"DF from F by {view.jacobian_method}"  # type: ignore[attr-defined]
    c = _sampled(problem, K, f"float64, {how}", (f"{how}, as {reason}",))
    c.notes.append(f"{reason}, so {how}, K = DF DF^T and the ball bounds are sampled: the result is sampled at best")
    return c


def work(problem: Problem) -> int:
    """n * m * d-like cost of evaluating the model in balls."""
    d = problem.model.X.shape[1] if hasattr(problem.model, "X") else 1
    return problem.n * problem.m * max(d, 1)


def centre(problem: Problem, rigor: RigorLevel, digits: int = 50) -> Centre:
    """Enclosures at w0 at the requested level, or the strongest available below it (with a note why).

    Where the family's closed forms do not apply to the model (closed_form_obstacle), always the float64
    estimates of K = DF DF^T with DF differentiated from F, whatever the level requested.
    """
    model = problem.model
    reason = closed_form_obstacle(model)
    if reason is not None:
        return _from_F(problem, reason)
    if rigor is RigorLevel.SAMPLED:
        return _sampled(problem)
    if rigor is RigorLevel.HIGH_PRECISION:
        return _high_precision(problem, digits) if problem.n <= HP_EIG_LIMIT else _sampled(problem)
    if isinstance(model, Linear) and problem.n <= EXACT_AUTO_MAX_N and problem.w0.dtype != object:
        return _exact_linear(problem)
    vectorised = _vectorised(problem)
    why = "python-flint is not installed, so K(w0) was not enclosed: pip install 'plproof[flint]'"
    if vectorised is not None:
        try:
            c = vectorised(problem)
        except MissingDependency as exc:
            why = f"no {model.activation.name} enclosure table (docs/rigor.md §11.1), so K(w0) was not enclosed: {exc}"
        else:
            if c.lambda0.lo > 0 or not have_flint() or work(problem) > BALL_RETRY_LIMIT:
                return c
            retry = _balls(problem)  # float radii ~ 1e-12 |K| hide a tiny lambda_min; 128-bit balls may not
            retry.notes.append(f"the float enclosure ({c.method}) did not separate lambda_min(K(w0)) from 0, so "
                               "K(w0) was evaluated in python-flint balls")
            return retry
    if not have_flint():
        c = _high_precision(problem, digits) if problem.n <= HP_EIG_LIMIT else _sampled(problem)
        c.notes.append(why)
        return c
    if work(problem) > BALL_WORK_LIMIT:
        c = _sampled(problem)
        c.notes.append(f"no vectorised enclosure of K(w0) for {type(model).__name__} models, and n*m*d = "
                       f"{work(problem)} is above {BALL_WORK_LIMIT} for a ball evaluation: float64 estimate")
        return c
    return _balls(problem)


def _vectorised(problem: Problem) -> Callable[[Problem], Centre] | None:
    """The midpoint-radius float path for this model, None where there is none (docs/rigor.md §3, §3.2):
    Linear (float w0), TwoLayer and RandomFeatures (any train mode; a piecewise-linear activation only when v alone
    is trained) and MLP with a tabulated activation."""
    model = problem.model
    if problem.w0.dtype == object:
        return None
    if isinstance(model, Linear):
        return _network
    name = getattr(getattr(model, "activation", None), "name", None)
    smooth = name in SPECS
    if isinstance(model, TwoLayer) and (smooth or (name in PIECEWISE and model.train == "output")):
        return _wide_two_layer
    if isinstance(model, MLP) and smooth:
        return _network
    return None
