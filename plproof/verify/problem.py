"""Derive the evidence of a ``problem`` certificate from its inputs and hints (docs/theory.md §2.5, §4.1, §7, §8, §11).

1. Rebuild the model (plproof.verify.families); m >= n and smoothness are premises decided exactly.
2. Centre: K(w0) enclosed (exact rationals for linear models, interval arithmetic otherwise);
   lambda0 >= s by a positive-definiteness test of K - sI at the hint s, ||DF(w0)|| <= t by one of
   tI... - K, L0 and ||r0|| from the enclosure of F(w0) - y.
3. Ball at the hint R with the hint's bound set: delta, epsilon, kappa (the verifier's own formulas),
   mu = (sqrt(lambda0) - delta)_+^2, L_F = ||DF(w0)|| + delta, beta = L_F^2 + kappa(R, ||r0||).
4. The theorem (§2.5 / T4 of §11.5) in exact rationals: mu > 0, 0 < beta eta < 2, R >= R_fl; the rate
   1 - eta mu (2 - beta eta); LZB's v1, v2 and existence radii for comparison (§2.1-§2.4).
Certificates of the SGD theorem (``sgd-ball/A``, docs/theory.md §3) share steps 1-3; step 4 is plproof.verify.sgd.
The evidence is a function of the inputs and hints alone; the certificate must state exactly it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from plproof.certificate.format import decode_number
from plproof.verify.evidence import Derived
from plproof.verify.exact import Failure, sqrt_hi, sqrt_lo
from plproof.verify.families import rebuild


def hint(hints: dict, name: str) -> Fraction:
    """A finite number the certificate gives as a hint (its use is re-proved)."""
    if name not in hints:
        raise Failure(f"hints.{name} is missing: the verifier needs it as a starting point")
    value = decode_number(hints[name])
    if isinstance(value, float):
        raise Failure(f"hints.{name} must be finite")
    return value


def _exact_rate(d: Derived, proof: dict, mu: Fraction, beta_ball: Fraction, eta: Fraction, level: str,
                checked: list[str]) -> None:
    """The one-step rate of docs/theory.md §6.5: an exact PEP proof for the class (L, m) with L >= beta_ball
    (the Hessian bound on all of B, which holds on every ball with diameter [w_t, w_t+1] inside B(w0, R_fl))
    and m <= mu (PL at the iterates); f* = 0. The proof is re-checked in rationals (plproof.verify.rate)."""
    from plproof.verify.rate import derive_rate

    if not isinstance(proof, dict) or set(proof) != {"L", "mu", "tau", "multipliers", "ldl"}:
        raise Failure("hints.rate_proof holds exactly L, mu, tau, multipliers and ldl")
    L, m = decode_number(proof["L"]), decode_number(proof["mu"])
    if isinstance(L, float) or isinstance(m, float) or not (L >= beta_ball and 0 < m <= mu):
        raise Failure("hints.rate_proof: its class needs L >= beta_ball and 0 < mu_proof <= mu on the ball")
    rate = derive_rate({"inputs": {"class": "pl-cheap", "L": proof["L"], "mu": proof["mu"], "step": str(eta),
                                   "steps": 1},
                        "hints": {k: proof[k] for k in ("tau", "multipliers", "ldl")}}, None, checked)
    d.hi("rate_exact", decode_number(rate["quantities"]["tau"]["hi"]), level)


def at_radius(ball: Any, s: Fraction, J: Fraction, r0: Fraction, L0: Fraction, R: Fraction,
              eta: Fraction) -> tuple[Fraction, Fraction, Fraction, Fraction, Fraction, Fraction, Fraction | None]:
    """The theorem's quantities at radius R (docs/theory.md §11.4 T2/T3, §4.1, §2.5), from lambda0 >= s,
    ||DF(w0)|| <= J, ||r0|| <= r0, L0 and the step: delta, mu = (sqrt(s) - delta)_+^2, L_F = J + delta,
    beta = L_F^2 + kappa(R, r0) (on B and L <= L0), beta_ball = L_F^2 + kappa(R, r0 + L_F R) (on all of B),
    2 - beta eta and R_fl = 2 sqrt(2 L0/mu)/(2 - beta eta) (None where mu = 0 or beta eta >= 2)."""
    delta = ball.delta(R)
    mu = pl_constant(s, delta)
    L_F = J + delta
    beta = L_F * L_F + ball.kappa(R, r0)
    beta_ball = L_F * L_F + ball.kappa(R, r0 + L_F * R)
    c2 = 2 - beta * eta
    R_fl = 2 * sqrt_hi(2 * L0 / mu) / c2 if mu > 0 and c2 > 0 else None
    return delta, mu, L_F, beta, beta_ball, c2, R_fl


@dataclass
class CentreFacts:
    """What a ball theorem's derivation has established at w0 (the premises m >= n, C^2 and lambda0 > 0 held):
    the model, lambda0 >= s, ||DF(w0)|| <= J, ||r0|| <= r_hi and L0 <= L0_hi, at rigor ``level``."""

    d: Derived
    fam: Any
    w0: Any
    K: Any
    s: Fraction
    J: Fraction
    r_hi: Fraction
    L0_hi: Fraction
    level: str

    def ball(self, hints: dict, checked: list[str]) -> tuple[Any, str]:
        """The verifier's bounds over B(w0, R) of the hinted bound set, and the rigor they allow."""
        X_norm = decode_number(hints["X_norm"]) if "X_norm" in hints else None
        ball = self.fam.ball(str(hints.get("bounds", "")), self.w0, X_norm, checked)
        return ball, self.level if ball.constant else ("verified" if self.level == "exact" else self.level)


def derive_centre(cert: dict, base: Path | None, checked: list[str]) -> CentreFacts | dict:
    """Steps 1-2 of every ball theorem: the model rebuilt, m >= n, C^2, the centre and lambda0 > 0; the finished
    evidence (not certifiable, or not certified) where one of them stops the derivation."""
    hints = cert["hints"]
    fam, y, w0 = rebuild(cert["inputs"], base)
    checked.append(f"rebuilt the {fam.spec['family']} model: n = {fam.n}, m = {fam.m}")
    d = Derived()
    d.premise("m >= n", Fraction(fam.m - fam.n), strict=False, ref="docs/theory.md §5")
    d.flag("F is C^2", fam.smooth, ref="docs/theory.md §9")
    if fam.m < fam.n or not fam.smooth:
        if fam.smooth:  # L(w0) still identifies the problem the verdict is about
            _, L0_lo, L0_hi, level = fam.centre(y)
            d.both("L0", L0_lo, L0_hi, level)
        return d.finish("not certifiable", "exact")
    K, L0_lo, L0_hi, level = fam.centre(y)
    s = hint(hints, "lambda0_shift")
    proved = s > 0 and K.lambda_min_above(s)
    if proved:
        d.lo("lambda0", s, level)
        checked.append(f"lambda_min(K(w0)) > {float(s):.10g} (positive-definiteness test, {level})")
    d.premise("lambda0 > 0", s if proved else None, strict=True, ref="docs/theory.md §4.1",
              refuted=not proved and K.lambda_min_below(Fraction(0)))
    d.both("L0", L0_lo, L0_hi, level)
    r_hi = sqrt_hi(2 * L0_hi)
    d.both("residual_norm_w0", sqrt_lo(2 * L0_lo), r_hi, level)
    if not proved:
        return d.finish("not certifiable" if d.premises[-1]["status"] == "failed" else "not certified", level)
    J = hint(hints, "jacobian_norm_w0")
    if not (J > 0 and K.lambda_max_below(J * J)):  # e.g. a float estimate: ||DF||^2 = lambda_max(K) <= tr K
        trace = sum(K.mid[i][i] for i in range(K.n)) + sqrt_hi(Fraction(K.n)) * K.radius
        checked.append(f"||DF(w0)||_2 < {float(J):.10g} not proved; sqrt(tr K(w0)) bounds it instead")
        J = sqrt_hi(max(trace, Fraction(0)))
    d.hi("jacobian_norm_w0", J, level)
    return CentreFacts(d, fam, w0, K, s, J, r_hi, L0_hi, level)


def pl_constant(s: Fraction, delta: Fraction) -> Fraction:
    """mu = (sqrt(lambda0) - delta)_+^2 from lambda0 >= s (docs/theory.md §11.4 T2); s itself where delta = 0."""
    root = sqrt_lo(s) - delta
    return s if delta == 0 else root * root if root > 0 else Fraction(0)


def derive_problem(cert: dict, base: Path | None, checked: list[str]) -> dict:
    """The evidence a ``problem`` certificate must state, re-derived from its inputs and hints."""
    theorem = cert["claim"]["theorem"]
    if theorem.startswith("sgd-ball/"):
        from plproof.verify.sgd import derive_sgd

        return derive_sgd(cert, base, checked)
    if "sgd" in cert["inputs"]:
        raise Failure(f"inputs.sgd: an SGD setting has no place in a {theorem} certificate")
    hints = cert["hints"]
    scale = 2 if theorem.endswith("/B") else 1  # convention B: mu = 2 lambda_min (§1.4)
    facts = derive_centre(cert, base, checked)
    if isinstance(facts, dict):
        return facts
    d, s, J, r_hi, L0_hi = facts.d, facts.s, facts.J, facts.r_hi, facts.L0_hi
    R, eta = hint(hints, "radius"), hint(hints, "step")
    if not (R > 0 and eta > 0):
        raise Failure("hints.radius and hints.step must be positive")
    ball, level = facts.ball(hints, checked)
    delta, mu, L_F, beta, beta_ball, c2, R_fl = at_radius(ball, s, J, r_hi, L0_hi, R, eta)
    eps = ball.epsilon(R)
    d.exact("R", R)
    d.exact("step", eta)
    d.hi("delta", delta, level)
    d.hi("epsilon", eps, level)
    d.lo("mu", mu * scale, level)
    d.hi("L_F", L_F, level)
    d.hi("beta", beta, level)
    d.hi("beta_ball", beta_ball, level)
    d.premise("mu > 0 on the ball", mu, strict=True, ref="docs/theory.md §11.4")
    d.premise("0 < eta beta < 2", c2, strict=True, ref="docs/theory.md §2.5")
    if R_fl is not None:
        d.hi("R_fl", R_fl, level)
        d.premise("R >= R_fl", R - R_fl, strict=False, ref="docs/theory.md §2.5")
        d.hi("rate", 1 - eta * mu * c2, level)
        d.hi("R_v1", 2 * sqrt_hi(2 * beta_ball * L0_hi) / mu, level)
        d.hi("R_v2", 2 * L_F * sqrt_hi(2 * L0_hi) / mu, level)
        d.hi("R_existence", sqrt_hi(2 * L0_hi / mu), level)
        if "rate_proof" in hints:
            _exact_rate(d, hints["rate_proof"], mu, beta_ball, eta, level, checked)
    else:
        d.premise("R >= R_fl", None, strict=False, ref="docs/theory.md §2.5")
    checked.append(f"theorem at R = {float(R):.10g}, eta = {float(eta):.10g} in exact rationals "
                   f"(mu >= {float(mu):.6g}, beta <= {float(beta):.6g})")
    return d.finish("certified" if d.all_held() else "not certified", level)
