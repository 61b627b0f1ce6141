"""Rate certificates: an exact rational proof of a worst-case GD rate from a PEPit dual (docs/theory.md §6.4).

:func:`prove` solves the performance-estimation SDP (PEPit, optional), then asks
:func:`plproof.rates.rationalise.rationalise` for an exact proof at the smallest rational tau it reaches: first
from the SDP's own dual, then from duals of the problem with f(x_N) - f* + eps sum ||g_i||^2 as objective,
whose slack matrix has room eps for the rounding (the bound grows by about eps sum ||g_i||^2). The
certified tau is at most ``tolerance`` above the SDP value or no certificate is made. :func:`rate_certificate`
seals the proof as a ``rate`` certificate whose evidence is what :func:`plproof.verify.rate.derive_rate`
re-derives (the pattern of :func:`plproof.certificate.build.sealed`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from plproof.errors import InvalidInput, NotCertifiable
from plproof.rates.rationalise import ExactProof, rationalise
from plproof.verify.rate import CLASSES, MAX_STEPS, Setting

THEOREM = "pl-gd-rate/A"
#: objective perturbations tried in turn (0: the SDP's own dual)
PERTURBATIONS = (0.0, 1e-9, 1e-8, 1e-7, 1e-6)
#: added to the perturbed SDP value before rounding tau up to TAU_DIGITS decimals
MARGINS = (1e-10, 1e-9, 1e-8)
#: (decimal digits of the rounding, shift of each pair's first 2x2 dual) tried in turn
ROUNDINGS = ((12, 1e-10), (16, 1e-13), (16, 1e-11))
TAU_DIGITS = 10


def exact(x: Any, name: str) -> Fraction:
    """A parameter as an exact rational: ints, Fractions, ``"p/q"`` or decimal strings; a float means its
    shortest decimal (0.2 -> 1/5), the number a user typed."""
    if isinstance(x, bool):
        raise InvalidInput(f"{name} must be a number, got {x!r}")
    try:
        if isinstance(x, float):
            if not math.isfinite(x):
                raise ValueError
            return Fraction(repr(x))
        return Fraction(x)
    except (TypeError, ValueError, ZeroDivisionError):
        raise InvalidInput(f"{name} must be a finite number (e.g. 0.2 or 1/5), got {x!r}") from None


def setting(cls: str, L: Any, mu: Any, step: Any, steps: int) -> Setting:
    """The checked parameters: a known class, 0 < mu <= L, 0 < step < 2/L, 1 <= steps <= MAX_STEPS."""
    if cls not in CLASSES:
        raise InvalidInput(f"unknown function class {cls!r}: use one of {', '.join(CLASSES)}")
    L, mu, h = exact(L, "L"), exact(mu, "mu"), exact(step, "step")
    if not 0 < mu <= L:
        raise InvalidInput(f"need 0 < mu <= L (PL and L-smooth imply mu <= L), got mu = {mu}, L = {L}")
    if not 0 < h < 2 / L:
        raise InvalidInput(f"the step must lie in (0, 2/L) = (0, {2 / L}), got {h}")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise InvalidInput(f"steps must be an integer from 1 to {MAX_STEPS}, got {steps!r}")
    return Setting(cls, L, mu, h, steps)


@dataclass
class RateProof:
    """An exact proof and the SDP runs behind it (the record of the certificate)."""

    setting: Setting
    proof: ExactProof
    sdp_value: float
    perturbation: float
    runs: list[dict]

    @property
    def tau(self) -> Fraction:
        return self.proof.tau


def prove(st: Setting, *, tolerance: float = 1e-6, solver: str = "CLARABEL") -> RateProof:
    """The smallest tau in the search of the module docstring with an exact proof; NotCertifiable if none is
    within ``tolerance`` of the SDP value."""
    from plproof.rates.pep import solve

    if not 0 < tolerance < 1:
        raise InvalidInput(f"tolerance must lie in (0, 1), got {tolerance!r}")
    runs, base = [], None
    for eps in PERTURBATIONS:
        sol = solve(st.cls, st.L, st.mu, st.h, st.N, perturbation=eps, solver=solver)
        runs.append({"perturbation": eps, "value": sol.value, "seconds": round(sol.seconds, 3), **sol.versions})
        base = sol.value if base is None else base
        for margin in MARGINS:
            tau = Fraction(math.ceil((sol.value + margin) * 10**TAU_DIGITS), 10**TAU_DIGITS)
            if float(tau) - base > tolerance:
                break
            for digits, shift in ROUNDINGS:
                proof = rationalise(st, tau, sol.duals, shift=shift, digits=digits)
                if proof is not None:
                    return RateProof(st, proof, base, eps, runs)
    raise NotCertifiable(f"no exact proof of a rate within {tolerance:g} of the SDP value {base:.10g} was found "
                         f"({st.cls}, L = {st.L}, mu = {st.mu}, step = {st.h}, {st.N} steps): raise the tolerance")


def certificate(rp: RateProof, *, tolerance: float) -> dict:
    """The sealed ``rate`` certificate of a proof: evidence and words re-derived by the verifier."""
    from plproof.certificate.format import envelope, jsonable
    from plproof.errors import CertificateError
    from plproof.verify.claims import render
    from plproof.verify.exact import Failure
    from plproof.verify.rate import derive_rate

    st = rp.setting
    inputs = {"class": st.cls, "L": st.L, "mu": st.mu, "step": st.h, "steps": st.N}
    hints = rp.proof.hints()
    record = {"sdp": {"value": rp.sdp_value, "solver_runs": rp.runs, "perturbation_used": rp.perturbation},
              "tolerance": tolerance, "tau_minus_sdp": float(rp.tau) - rp.sdp_value,
              "references": references(st)}
    draft = {"kind": "rate", "claim": {"theorem": THEOREM}, "inputs": jsonable(inputs), "hints": jsonable(hints)}
    try:
        evidence = derive_rate(draft, None, [])
    except Failure as exc:  # the proof was checked with the same code: this is a bug
        raise CertificateError(f"the independent re-check rejects this rate certificate: {exc}") from None
    words, symbols = render(THEOREM, evidence)
    return envelope("rate", theorem=THEOREM, inputs=inputs, hints=hints, evidence=evidence, record=record,
                    words=words, symbols=symbols)


def references(st: Setting) -> dict:
    """Textbook rates for comparison (floats, not re-checked): the descent lemma and, one step, ADZ."""
    L, mu, h = float(st.L), float(st.mu), float(st.h)
    out = {"descent_lemma": (1 - mu * h * (2 - L * h)) ** st.N}
    if st.N == 1:
        from plproof.theory.rates import gd_one_step_rate

        out["adz"] = gd_one_step_rate(L, mu, h).hi
    return out


def rate_certificate(cls: str = "pl-cheap", *, L: Any = 1, mu: Any = "1/5", step: Any = 1, steps: int = 1,
                     tolerance: float = 1e-6, solver: str = "CLARABEL") -> dict:
    """A ``rate`` certificate: f(x_N) - f* <= tau (f(x_0) - f*) for N GD steps with ``step`` on every function of
    ``cls`` (``pl-cheap``: L-smooth and mu-PL; ``pl-expensive``: RHT 2025's conditions), proved by exact
    rational multipliers; tau is at most ``tolerance`` above the SDP value. Needs PEPit (extra ``pep``);
    write it with :func:`plproof.certificate.format.write_certificate`, check it with ``plproof verify``."""
    st = setting(cls, L, mu, step, steps)
    return certificate(prove(st, tolerance=tolerance, solver=solver), tolerance=tolerance)
