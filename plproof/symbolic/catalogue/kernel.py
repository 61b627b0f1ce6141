"""Tangent kernel identity ||∇L||² = rᵀ K r with K = DF DFᵀ, symmetric and PSD (docs/theory.md §0)."""

from __future__ import annotations

from plproof.symbolic.catalogue.common import KERNEL, LOSS, RESIDUAL, SETTING
from plproof.symbolic.model import Assumptions, Derivation, Step


def derivation() -> Derivation:
    """||∇L(w)||² = r(w)ᵀ K(w) r(w) for an arbitrary smooth F."""
    return Derivation(
        title="Kernel identity ||grad L||^2 = r^T K r",
        name="kernel",
        reference="docs/theory.md §0 (tangent kernel)",
        assumptions=Assumptions(objects=SETTING),
        steps=(
            LOSS,
            RESIDUAL,
            KERNEL,
            Step("norm(grad(L))**2", "=", "norm(DF(w).T*r)**2", "∇L = DFᵀr (derivation 'gradient')"),
            Step(None, "=", "r.T*DF(w)*DF(w).T*r", "|v|² = vᵀv"),
            Step(None, "=", "r.T*K*r", "definition of K"),
            Step("K.T", "=", "K", "K is symmetric"),
            Step("r.T*K*r", ">=", "0", "K = DF DFᵀ is PSD: rᵀKr = |DFᵀr|²"),
        ),
        claim=Step("norm(grad(L))**2", "=", "r.T*K*r"),
    )
