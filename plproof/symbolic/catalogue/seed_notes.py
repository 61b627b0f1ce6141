"""The lecture notes "Role of Overparameterization" (docs/theory.md §1.5), transcribed step by step.

Each step states a line as the notes write it, with the line of the notes it comes from; the
checker decides each one by itself (nothing here says which lines are wrong). Conventions are the
notes' own: the gradient is a row vector (∇L = (F - y)ᵀDF), PL* is ½||∇L||² >= μL (line 39), and
the notes set μ := 2 λ_min(K) (line 83). The learning rate, which the notes call μ (line 93), is
``eta`` here, and ``L0`` = L(w0). Where a line claims that a radius or a step size is enough, the
step compares it with what the corresponding theorem needs (derivations gd-v1, gd-rfl and sgd).
"""

from __future__ import annotations

from plproof.symbolic.model import (
    Assumptions,
    Derivation,
    Hypothesis,
    Scalar,
    SmoothMap,
    Step,
    Vector,
)

SOURCE = "seed-notes.md"


def _line(n: int) -> str:
    return f"{SOURCE}:{n}"


def derivation() -> Derivation:
    """The notes as one derivation; its claim is the μ-PL* statement of line 83."""
    return Derivation(
        title="Lecture notes: role of over-parameterisation (as received)",
        name="seed-notes",
        reference="docs/theory.md §1.5",
        assumptions=Assumptions(
            objects=(Vector("w", "M"), Vector("y", "n"), SmoothMap("F", "w", "M", "n"),
                     Scalar("n", positive=True, integer=True), Scalar("s", positive=True, integer=True),
                     Scalar("muPL", positive=True), Scalar("Lstar", nonnegative=True),
                     Scalar("beta", positive=True), Scalar("L0", positive=True), Scalar("eta", positive=True),
                     Scalar("delta", positive=True)),
            hypotheses=(
                Hypothesis("lambda_min(K) > 0", "PL* on the ball from the kernel (line 81)", _line(81)),
                Hypothesis("eta < 2/beta", "the learning-rate range of line 93", _line(93)),
                Hypothesis("delta < 1", "SGD holds with probability 1 - delta", _line(93)),
            ),
            gradient="row", convention="A"),
        steps=(
            Step("L", "def", "norm(F(w) - y)**2/2", "square loss", _line(45)),
            Step("muPL*(L - Lstar)", ">=", "muPL*L", "PL* from PL 'because L(w*) ≈ 0'", _line(39), id="L39"),
            Step("grad(L)", "=", "(F(w) - y).T*DF(w)", "gradient (row form)", _line(49), id="L49"),
            Step("L", "=", "(F(w) - y).T*(F(w) - y)/2", "|v|^2 = vᵀv", _line(51), id="L51"),
            Step("L", "=", "(F(w).T - y.T)*(F(w) - y)/2", "", _line(57), id="L57a"),
            Step(None, "=", "(F(w).T*F(w) - F(w).T*y - y.T*F(w) + y.T*y)/2", "", _line(57), id="L57b"),
            Step(None, "=", "(F(w).T*F(w) - 2*F(w).T*y + y.T*y)/2", "", _line(57), id="L57c"),
            Step("grad(L)", "=", "D(F(w).T*F(w)) - D(F(w).T*y)", "", _line(59), id="L59a"),
            Step(None, "=", "D(F(w).T*F(w)) - D(F(w).T*y)", "", _line(59), id="L59b"),
            Step(None, "=", "D(F(w).T*(F(w) - y))", "", _line(59), id="L59c"),
            Step(None, "=", "(F(w) - y).T*DF(w)", "", _line(59), id="L59d"),
            Step("norm(grad(L))**2", "=", "norm((F(w) - y).T*DF(w))**2", "", _line(73), id="L73a"),
            Step(None, "=", "(F(w) - y).T*DF(w)*DF(w).T*(F(w) - y)", "", _line(73), id="L73b"),
            Step("K", "def", "DF(w)*DF(w).T", "tangent kernel", _line(75)),
            Step("norm(grad(L))**2", ">=", "lambda_min(K)*norm(F(w) - y)**2", "", _line(81), id="L81a"),
            Step(None, "=", "lambda_min(K)*(2*L)", "", _line(81), id="L81b"),
            Step(None, "=", "2*lambda_min(K)*L", "", _line(81), id="L81c"),
            Step("mu", "def", "2*lambda_min(K)", "'2 lambda_min = mu'", _line(83)),
            Step("norm(grad(L))**2/2", ">=", "mu*L", "'and mu-PL* condition satisfied' (PL* as in line 39)",
                 _line(83), id="L83"),
            Step("R", "def", "2*sqrt(2*beta*L0)/mu", "the radius of the theorem", _line(91)),
            Step("R", ">=", "2*sqrt(2*beta*L0)/lambda_min(K)",
                 "R is the radius GD needs at eta = 1/beta with PL* constant lambda_min(K) (derivation gd-v1)",
                 _line(91), id="L91"),
            Step("R", ">=", "2*sqrt(2*L0/lambda_min(K))/(2 - beta*eta)",
                 "R suffices for every learning rate below 2/beta (GD needs R_fl, derivation gd-rfl)",
                 _line(93), id="L93a"),
            Step("R", ">=", "2*n*sqrt(2*beta*L0)/(lambda_min(K)*delta)",
                 "R suffices for SGD (derivation sgd: 2n sqrt(2 beta L0)/(mu delta))", _line(93), id="L93b"),
            Step("eta", "<=", "lambda_min(K)/(beta*(n*beta + lambda_min(K)*(s - 1)))",
                 "a learning rate below 2/beta is one SGD's theorem covers (eta <= eta*, derivation sgd)",
                 _line(93), id="L93c"),
        ),
        claim=Step("norm(grad(L))**2/2", ">=", "mu*L"),
        notes=(
            ("Not transcribed (no relation to check): line 25 (the interpolation system, written with rows i "
             "and n+1), line 65-69 (definitions of gradient and Jacobian), line 87 (wording of beta-smooth)."),
        ),
    )
