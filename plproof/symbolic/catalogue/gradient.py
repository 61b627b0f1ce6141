"""Gradient of the square loss L(w) = ½||F(w) - y||²: ∇L = DF(w)ᵀ(F(w) - y).

docs/theory.md §0 (notation; the seed's row form rᵀDF is the transpose) and §7 (linear case).
Two statements: a general smooth F (matrix chain rule for all n, M, cross-checked with undefined
F_i(w_1..w_M) for n, M <= 3) and the linear F = X w for symbolic sizes (SymPy matrix calculus).
"""

from __future__ import annotations

from plproof.symbolic.catalogue.common import LOSS, SETTING
from plproof.symbolic.model import (
    Assumptions,
    Derivation,
    LinearMap,
    MatrixVar,
    Step,
    Vector,
)


def general() -> Derivation:
    """∇L = DFᵀ(F - y) for an arbitrary smooth F: R^M -> R^n."""
    return Derivation(
        title="Gradient of the square loss, general smooth F",
        name="gradient",
        reference="docs/theory.md §0",
        assumptions=Assumptions(objects=SETTING),
        steps=(
            LOSS,
            Step("grad(L)", "=", "grad((F(w) - y).T*(F(w) - y))/2", "linearity of the gradient"),
            Step(None, "=", "(2*DF(w).T*(F(w) - y))/2", "product and chain rule: grad |u|^2 = 2 Du^T u"),
            Step(None, "=", "DF(w).T*(F(w) - y)", "cancel 2"),
            Step("grad(L).T", "=", "(F(w) - y).T*DF(w)", "the row form of the lecture notes is the transpose"),
        ),
        claim=Step("grad(L)", "=", "DF(w).T*(F(w) - y)"),
    )


def linear() -> Derivation:
    """∇L = Xᵀ(Xw - y) for F = Xw, all sizes n, M (docs/theory.md §7)."""
    return Derivation(
        title="Gradient of the square loss, linear F = X w, symbolic sizes",
        name="gradient-linear",
        reference="docs/theory.md §7",
        assumptions=Assumptions(objects=(MatrixVar("X", "n", "M"), Vector("w", "M"), Vector("y", "n"),
                                         LinearMap("F", "X", "w"))),
        steps=(
            LOSS,
            Step("L", "=", "(w.T*X.T*X*w - 2*y.T*X*w + y.T*y)/2", "expand; yᵀXw is a scalar, equal to its transpose"),
            Step("grad(L)", "=", "X.T*X*w - X.T*y", "matrix calculus"),
            Step(None, "=", "X.T*(X*w - y)", "factor Xᵀ"),
            Step("DF(w)", "=", "X", "the Jacobian of a linear map"),
        ),
        claim=Step("grad(L)", "=", "X.T*(X*w - y)"),
    )
