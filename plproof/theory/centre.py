"""What the ball theorem needs at the centre w0, as enclosures at a requested rigor level.

lambda0 <= lambda_min(K(w0)), ||DF(w0)||_2, ||r0|| = ||F(w0) - y|| and L0 = ||r0||^2 / 2
(docs/theory.md §4.1, §10). ``verified`` encloses F(w0) and K(w0) rigorously: exactly for linear
models on small data, in python-flint balls for small models, and for wide two-layer nets with
float BLAS plus proven error bounds around ball-enclosed activations (docs/rigor.md §3). A model to which
its family's closed forms do not apply (plproof.models.base.closed_form_obstacle) is differentiated from its
own F, which nothing encloses: its centre is a float64 estimate, with the reason attached (docs/rigor.md §2.4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from plproof.models import Linear, TwoLayer
from plproof.models.base import closed_form_obstacle, generic_model
from plproof.numeric import floatbounds as fb
from plproof.numeric.arith import EXACT, FLOAT64, BallArith, MPArith, have_flint
from plproof.numeric.linalg import eigvalsh_hp
from plproof.numeric.rigor import Enclosure, RigorLevel
from plproof.numeric.verified import EXACT_AUTO_MAX_N, lambda_max_upper, lambda_min_lower
from plproof.problem import Problem, log10_square_norm, require_float_range

#: largest n * m * d for which a verified centre is evaluated entirely in balls
BALL_WORK_LIMIT = 2_000_000
#: largest n for which "auto" computes lambda0 at high precision with mpmath eigsy
HP_EIG_LIMIT = 120


@dataclass
class Centre:
    """Enclosures at w0: lambda0, ||DF(w0)||, ||r0||, L0, plus how they were obtained."""

    lambda0: Enclosure
    jac_norm: Enclosure
    res_norm: Enclosure
    L0: Enclosure
    method: str
    notes: list[str] = field(default_factory=list)
    hints: dict[str, Any] = field(default_factory=dict)


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
                  method, hints={"lambda0_shift": float(lam.lo)})


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
    return Centre(Enclosure(lam.lo, lam.hi, lam.rigor), Enclosure(jac_lo, jac_hi, lmax.rigor),
                  Enclosure(r_lo, r_hi, exact), Enclosure(L0, L0, exact), "exact rational",
                  hints={"lambda0_shift": fb.float_down(Fraction(lam.lo))})


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


def _wide_two_layer(problem: Problem) -> Centre:
    """Two-layer K = s^2 [(X X^T) o (B B^T) + A A^T] by BLAS, with proven bounds (docs/rigor.md §3)."""
    model: TwoLayer = problem.model
    X = model.X
    W, v = model.split(np.asarray(problem.w0, dtype=float))
    n, d = X.shape
    m = model.width
    Z = X @ W.T
    Z_err = fb.gamma_ratio(d) * (np.abs(X) @ np.abs(W).T) * 2 + d * fb.ETA
    ar = BallArith(64)
    with ar.active():
        values = model.activation.derivatives(ar.ball(Z, Z_err), ar, 1)
    (A, A_rad), (D, D_rad) = (ar.mid_rad(values[0]), ar.mid_rad(values[1]))
    s = 1 / np.sqrt(m)
    av = np.abs(v)
    # F = s A v: propagated ball radii plus BLAS rounding gamma_m |A||v|; factor 2 covers the
    # rounding of these error terms themselves (each has relative error <= gamma_{m+2} << 1).
    F = (A @ v) * s
    F_err = 2 * ((A_rad @ av) + fb.gamma(m + 2) * (np.abs(A) @ av)) * s + 4 * fb.U * np.abs(F)
    r = F - problem.y
    _require_float_range(log10_square_norm(np.abs(r) + F_err), "the residual F(w0) - y")
    r_err = fb.add_up(_frob_upper(F_err), fb.mul_up(fb.U, _frob_upper(r)))
    terms = []
    if model.train in ("both", "output"):
        terms.append((A, A_rad, None))
    if model.train in ("both", "hidden"):
        B = D * v
        terms.append((B, D_rad * av + fb.U * np.abs(B), X))
    K = np.zeros((n, n))
    err = 0.0
    x2max = max(fb.sumsq_upper(row) for row in X)
    for M, M_rad, inputs in terms:
        P = M @ M.T
        hadamard = 2 * math.log10(max(x2max, 1.0)) if inputs is not None else 0.0  # ||G o P|| <= max G_ii ||P||
        _require_float_range(log10_square_norm(P) + hadamard, "K(w0) = DF(w0) DF(w0)^T")
        fro_m, fro_rad = _frob_upper(M), _frob_upper(M_rad)
        # ||M M^T - M_true M_true^T|| <= 2||M|| dM + dM^2 + gamma_m ||M||_F^2
        e = 2 * fro_m * fro_rad + fro_rad**2 + fb.gamma(m) * fro_m**2
        if inputs is not None:
            G = inputs @ inputs.T
            # Schur: ||G o E|| <= max_i G_ii ||E|| (G PSD); |fl(G) - G| <= gamma_d x_max^2 entrywise
            e = x2max * (1 + fb.gamma(d)) * e + fb.gamma(d) * x2max * _frob_upper(P)
            P = G * P
            e += fb.U * _frob_upper(P)
        K = K + P
        err += 2 * e
    K = K * (s * s)
    # the propagated bounds scale with s^2; the sums of terms and the scaling by fl(s)^2 (s itself two
    # roundings off) add at most 8u |K| entrywise, relative to the computed K
    err = 2 * (err * s * s + 8 * fb.U * _frob_upper(K))
    K = np.tril(K) + np.tril(K, -1).T
    return _from_kernel(K, float(err), r, r_err, RigorLevel.VERIFIED, "BLAS with proven error bounds, arb activations")


def _high_precision(problem: Problem, digits: int) -> Centre:
    """lambda_min and lambda_max of K(w0) at ``digits`` digits (mpmath eigsy); not rigorous."""
    ar = MPArith(digits)
    with ar.active():
        K = problem.kernel(problem.w0, ar)
        r = problem.residual(problem.w0, ar)
        evals = eigvalsh_hp(K, digits)
        rr = r @ r
    hp = RigorLevel.HIGH_PRECISION
    lam = float(evals[0])
    return Centre(Enclosure.point(lam, hp), Enclosure.point(float(np.sqrt(float(evals[-1]))), hp),
                  Enclosure.point(float(np.sqrt(float(rr))), hp), Enclosure.point(float(rr / 2), hp),
                  f"mpmath at {digits} digits", hints={"lambda0_shift": lam})


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
                  estimate(rn * rn / 2), method, hints={"lambda0_shift": float(ev[0])})


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
    if not have_flint():
        note = "python-flint is not installed, so K(w0) was not enclosed: pip install 'plproof[flint]'"
        c = _high_precision(problem, digits) if problem.n <= HP_EIG_LIMIT else _sampled(problem)
        c.notes.append(note)
        return c
    if isinstance(model, TwoLayer) and work(problem) > BALL_WORK_LIMIT:
        return _wide_two_layer(problem)
    if work(problem) > BALL_WORK_LIMIT * 5:
        c = _sampled(problem)
        c.notes.append(f"model too large for a ball evaluation of K(w0) (n*m*d = {work(problem)}): float64 estimate")
        return c
    return _balls(problem)
