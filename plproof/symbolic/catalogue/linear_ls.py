"""Exact facts of linear least squares F(w) = X w on a symbolic 2 x 3 matrix X (docs/theory.md §7).

Gradient, Hessian and kernel; the descent lemma as an equality; the residual recursion
r_t+1 = (I - eta K) r_t; the limit point w_inf = w0 + Xᵀ(XXᵀ)⁻¹(y - X w0) (a solution, reached
from w0 along range(Xᵀ)) and the one-step error recursion; PL* with mu = lambda_min(XXᵀ) by
Rayleigh; and the exact 2 x 4 example of §7.
"""

from __future__ import annotations

from plproof.symbolic.catalogue.common import LOSS
from plproof.symbolic.model import (
    Assumptions,
    Derivation,
    Hypothesis,
    LinearMap,
    MatrixVar,
    Scalar,
    Step,
    Vector,
)


def derivation() -> Derivation:
    """§7 on X in R^{2x3} with symbolic entries."""
    return Derivation(
        title="Linear least squares on a symbolic 2 x 3 X",
        name="linear-ls",
        reference="docs/theory.md §7",
        assumptions=Assumptions(
            objects=(MatrixVar("X", "n", "M"), Vector("w", "M"), Vector("w0", "M"), Vector("y", "n"),
                     LinearMap("F", "X", "w"), Scalar("eta", positive=True)),
            hypotheses=(Hypothesis("(X*X.T).det() > 0", "X has full row rank n = 2"),),
            sizes={"n": 2, "M": 3}),
        steps=(
            LOSS,
            Step("K", "def", "X*X.T", "tangent kernel, constant"),
            Step("g", "def", "X.T*(X*w - y)", "gradient"),
            Step("grad(L)", "=", "g", "§7 constants", id="G"),
            Step("hessian(L)", "=", "X.T*X", "constant Hessian", id="H"),
            Step("DF(w)*DF(w).T", "=", "K", "kernel", id="K"),
            Step("(F(w - eta*g) - y).T*(F(w - eta*g) - y)/2", "=", "L - eta*g.T*g + eta**2/2*g.T*X.T*X*g",
                 "the descent lemma is an equality", id="D"),
            Step("F(w - eta*g) - y", "=", "(eye(2) - eta*K)*(F(w) - y)", "residual recursion", id="R"),
            Step("winf", "def", "w0 + X.T*inv(K)*(y - X*w0)", "limit point of GD from w0"),
            Step("X*winf", "=", "y", "w_inf solves X w = y", id="W1"),
            Step("winf - w0", "=", "X.T*(inv(K)*(y - X*w0))", "w_inf - w0 lies in range(Xᵀ)", id="W2"),
            Step("(w0 - eta*X.T*(X*w0 - y)) - winf", "=", "(eye(3) - eta*X.T*X)*(w0 - winf)",
                 "error recursion w_t - w_inf = (I - eta XᵀX)^t (w0 - w_inf), one step", id="W3"),
            Step("norm(grad(L))**2/2", ">=", "lambda_min(K)*L", "PL* with mu = lambda_min(XXᵀ), Rayleigh", id="PL"),
            Step("X0", "def", "Matrix([[1, 2, 0, 1], [0, 1, 1, -1]])", "§7 example"),
            Step("X0*X0.T", "=", "Matrix([[6, 1], [1, 3]])", "its kernel", id="E1"),
            Step("lambda_min(X0*X0.T)", "=", "(9 - sqrt(13))/2", "smallest eigenvalue", id="E2"),
            Step("Matrix([1, 0, -1, 2]) + X0.T*inv(X0*X0.T)*(Matrix([1, 2]) - X0*Matrix([1, 0, -1, 2]))", "=",
                 "Matrix([6, 10, 15, -9])/17", "w_inf for y = (1, 2), w0 = (1, 0, -1, 2)", id="E3"),
        ),
        claim=Step("grad(L)", "=", "X.T*(X*w - y)"),
    )
