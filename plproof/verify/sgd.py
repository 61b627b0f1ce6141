"""Derive the evidence of an SGD ball certificate (theorem ``sgd-ball/A``, docs/theory.md §3) in exact rationals.

Steps 1-3 of plproof.verify.problem (the model rebuilt, m >= n, C^2, the centre, lambda0 >= s > 0, the verifier's
own ball bounds at the hint R), then, with the setting ``inputs.sgd`` (batch size s in [1, n], confidence
1 - delta in (0, 1)) and the hint step eta:

* g0 = sqrt(max_i K_ii(w0) + radius) >= max_i ||grad f_i(w0)|| from the enclosure of K(w0);
* g = g0 + min(delta(R), eps(R) R) >= sup_B max_i ||grad f_i||;
* beta = g^2 + (||r0|| + g R) min(eps(R), kappa(R, 1)) >= sup_B ||Hess l_i||, so beta - g^2 >= 0 is the
  self-bounding margin (||grad l_i||^2 = 2 l_i ||grad f_i||^2 <= 2 beta l_i);
* mu = (sqrt(s) - delta(R))_+^2, eta* = mu / (beta (n beta + mu (s - 1))), R_sgd = 2 n sqrt(2 beta L0) / (mu delta);
* premises mu > 0, beta - g^2 >= 0, eta <= eta*, R >= R_sgd; the rate 1 - mu s eta / n; the mean-loss form
  mu / n, s eta (batch-mean gradient) and s eta / 2 (torch.nn.MSELoss).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from plproof.certificate.format import decode_number, encode_number
from plproof.verify.exact import Failure, sqrt_hi
from plproof.verify.problem import derive_centre, hint, pl_constant

REF = "docs/theory.md §3"


def sgd_setting(inputs: dict) -> tuple[int, Fraction]:
    """(s, confidence) from ``inputs.sgd``, each in its range, or a Failure."""
    setting = inputs.get("sgd")
    if not isinstance(setting, dict) or set(setting) != {"batch_size", "confidence"}:
        raise Failure("inputs.sgd must hold exactly batch_size and confidence")
    s, n = setting["batch_size"], inputs["model"].get("n_outputs")
    if isinstance(s, bool) or not isinstance(s, int) or not isinstance(n, int) or not 1 <= s <= n:
        raise Failure(f"inputs.sgd.batch_size must be an integer in [1, n] = [1, {n}], got {s!r}")
    conf = decode_number(setting["confidence"])
    if isinstance(conf, float) or not 0 < conf < 1:
        raise Failure(f"inputs.sgd.confidence must be a number in (0, 1), got {setting['confidence']!r}")
    return s, conf


def derive_sgd(cert: dict, base: Path | None, checked: list[str]) -> dict:
    """The evidence an ``sgd-ball/A`` certificate must state, re-derived from its inputs and hints."""
    s, conf = sgd_setting(cert["inputs"])
    setting = {"batch_size": s, "confidence": encode_number(conf)}  # the claim's words state them exactly
    facts = derive_centre(cert, base, checked)
    if isinstance(facts, dict):
        return {**facts, "setting": setting}
    hints, d, n = cert["hints"], facts.d, facts.fam.n
    R, eta = hint(hints, "radius"), hint(hints, "step")
    if not (R > 0 and eta > 0):
        raise Failure("hints.radius and hints.step must be positive")
    K = facts.K
    top = max(max(K.mid[i][i] for i in range(K.n)) + K.radius, Fraction(0))  # >= max_i ||grad f_i(w0)||^2
    g0 = sqrt_hi(top)
    d.hi("row_norm_w0", g0, facts.level)
    ball, level = facts.ball(hints, checked)
    delta, eps = ball.delta(R), ball.epsilon(R)
    mu = pl_constant(facts.s, delta)
    change = min(delta, eps * R)
    g = g0 + change
    hess = (facts.r_hi + g * R) * min(eps, ball.kappa(R, Fraction(1)))
    beta = (top if change == 0 else g * g) + hess
    d.exact("R", R)
    d.exact("step", eta)
    d.hi("delta", delta, level)
    d.hi("epsilon", eps, level)
    d.lo("mu", mu, level)
    d.hi("grad_bound", g, level)
    d.hi("beta", beta, level)
    d.premise("mu > 0 on the ball", mu, strict=True, ref="docs/theory.md §11.4")
    d.premise("self-bounding on the ball", hess, strict=False, ref=REF)
    if mu > 0:
        eta_star = mu / (beta * (n * beta + mu * (s - 1)))
        R_sgd = 2 * n * sqrt_hi(2 * beta * facts.L0_hi) / (mu * (1 - conf))
        d.lo("eta_star", eta_star, level)
        d.hi("R_sgd", R_sgd, level)
        d.premise("0 < eta <= eta*", eta_star - eta, strict=False, ref=REF)
        d.premise("R >= R_sgd", R - R_sgd, strict=False, ref=REF)
        d.hi("rate", 1 - mu * s * eta / n, level)
        d.lo("mu_mean", mu / n, level)
        d.both("step_mean", s * eta, s * eta, "exact")
        d.both("step_mse", s * eta / 2, s * eta / 2, "exact")
    else:
        d.premise("0 < eta <= eta*", None, strict=False, ref=REF)
        d.premise("R >= R_sgd", None, strict=False, ref=REF)
    checked.append(f"SGD theorem at R = {float(R):.10g}, eta = {float(eta):.10g}, s = {s}, confidence "
                   f"{float(conf):.6g} in exact rationals (mu >= {float(mu):.6g}, beta <= {float(beta):.6g})")
    return {**d.finish("certified" if d.all_held() else "not certified", level), "setting": setting}
