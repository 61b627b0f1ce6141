"""Uniform conditioning implies PL* (docs/theory.md §1.3), in both conventions of §1.4.

Convention A (LZB, KNS, and the notes' own definition): ½||∇L||² >= μ L with μ = λ_min(K).
Convention B (no ½): ||∇L||² >= μ_B L with μ_B = 2 λ_min(K). The two describe the same mathematics;
mixing them is erratum E1 of the notes (§1.5).
"""

from __future__ import annotations

from plproof.symbolic.catalogue.common import KERNEL, LOSS, RESIDUAL, SETTING
from plproof.symbolic.model import (
    Assumptions,
    Derivation,
    Hypothesis,
    Scalar,
    Step,
)

_OBJECTS = SETTING + (Scalar("mu", positive=True),)
_DEFS = (LOSS, RESIDUAL, KERNEL)
_UNIFORM = Hypothesis("lambda_min(K) >= mu", "F is mu-uniformly conditioned at w (§1.3)")


def convention_a() -> Derivation:
    """λ_min(K) >= μ  ⇒  ½||∇L||² >= μ L (μ-PL*, convention A)."""
    return Derivation(
        title="Uniform conditioning implies PL*, convention A (mu = lambda_min(K))",
        name="pl-star",
        reference="docs/theory.md §1.3, §1.4 row A",
        assumptions=Assumptions(objects=_OBJECTS, hypotheses=(_UNIFORM,), convention="A"),
        steps=_DEFS + (
            Step("norm(grad(L))**2/2", "=", "r.T*K*r/2", "kernel identity"),
            Step(None, ">=", "lambda_min(K)*norm(r)**2/2", "Rayleigh: K symmetric"),
            Step(None, "=", "lambda_min(K)*L", "L = ½|r|²"),
            Step(None, ">=", "mu*L", "uniform conditioning, L >= 0"),
        ),
        claim=Step("norm(grad(L))**2/2", ">=", "mu*L"),
    )


def convention_b() -> Derivation:
    """λ_min(K) >= μ  ⇒  ||∇L||² >= 2μ L (convention B: μ_B = 2λ_min(K), no ½)."""
    return Derivation(
        title="Uniform conditioning implies PL*, convention B (mu_B = 2 lambda_min(K), no 1/2)",
        name="pl-star-b",
        reference="docs/theory.md §1.4 row B",
        assumptions=Assumptions(objects=_OBJECTS, hypotheses=(_UNIFORM,), convention="B"),
        steps=_DEFS + (
            Step("muB", "def", "2*mu", "convention B constant"),
            Step("norm(grad(L))**2", "=", "r.T*K*r", "kernel identity"),
            Step(None, ">=", "lambda_min(K)*norm(r)**2", "Rayleigh: K symmetric"),
            Step(None, "=", "2*lambda_min(K)*L", "|r|² = 2L"),
            Step(None, ">=", "muB*L", "uniform conditioning, L >= 0"),
        ),
        claim=Step("norm(grad(L))**2", ">=", "muB*L"),
    )
