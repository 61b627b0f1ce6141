"""A user derivation for ``plproof derive examples/my_derivation.py`` (see docs/derivations.md).

The file must define ``derivation``: a plproof.symbolic.Derivation (or a function returning one).
This one shows that one gradient step on a linear least-squares loss contracts the residual,
r+ = (I - eta X Xᵀ) r, and that the descent lemma is an equality for quadratics (docs/theory.md §7).
"""

from plproof.symbolic import (
    Assumptions,
    Derivation,
    Hypothesis,
    LinearMap,
    MatrixVar,
    Scalar,
    Step,
    Vector,
)

derivation = Derivation(
    title="One GD step on linear least squares",
    name="my-derivation",
    reference="docs/theory.md §7",
    assumptions=Assumptions(
        objects=(MatrixVar("X", "n", "M"), Vector("w", "M"), Vector("y", "n"), LinearMap("F", "X", "w"),
                 Scalar("eta", positive=True), Scalar("beta", positive=True)),
        hypotheses=(Hypothesis("eta*beta <= 1", "step size at most 1/beta"),),
    ),
    steps=(
        Step("L", "def", "(F(w) - y).T*(F(w) - y)/2", "square loss"),
        Step("g", "def", "grad(L)", "gradient"),
        Step("g", "=", "X.T*(X*w - y)", "matrix calculus"),
        Step("F(w - eta*g) - y", "=", "(eye(n) - eta*X*X.T)*(F(w) - y)", "the residual after one step"),
        Step("eta*(1 - beta*eta/2)", ">=", "eta/2", "0 < eta <= 1/beta"),
    ),
    claim=Step("F(w - eta*g) - y", "=", "(eye(n) - eta*X*X.T)*(F(w) - y)"),
)
