"""The sharpest radius R_fl = 2 sqrt(2 L0/mu)/(2 - beta eta) and the step-size extension.

docs/theory.md §2.5 (R_fl, for every eta in (0, 2/beta), no hypothesis mu <= beta) and §2.4(a)
(rate 1 - eta mu (2 - beta eta), step length, radius R(eta), R(1/beta) = v1 radius).
Symbols: ``La``, ``Lb`` = L(w_t), L(w_{t+1}); ``G`` = ||grad L(w_t)||^2 > 0 (before convergence).
"""

from __future__ import annotations

from plproof.symbolic.model import Assumptions, Derivation, Hypothesis, Scalar, Step


def derivation() -> Derivation:
    """One GD step of size eta in (0, 2/beta): rate, step length and the telescoping bound of R_fl."""
    return Derivation(
        title="Sharpest radius R_fl and step sizes eta in (0, 2/beta)",
        name="gd-rfl",
        reference="docs/theory.md §2.4(a), §2.5",
        assumptions=Assumptions(
            objects=(Scalar("beta", positive=True), Scalar("mu", positive=True), Scalar("eta", positive=True),
                     Scalar("L0", positive=True), Scalar("La", positive=True), Scalar("Lb", nonnegative=True),
                     Scalar("G", positive=True)),
            hypotheses=(
                Hypothesis("eta < 2/beta", "step size range"),
                Hypothesis("Lb <= La - eta*(1 - beta*eta/2)*G", "descent lemma (beta-smooth on the segment)"),
                Hypothesis("G >= 2*mu*La", "mu-PL* at w_t"),
            )),
        steps=(
            Step("c", "def", "1 - beta*eta/2", "descent coefficient", id="c"),
            Step("c", ">", "0", "eta < 2/beta", id="c>0"),
            Step("Lb", "<=", "La - eta*c*G", "descent lemma", id="A1"),
            Step(None, "<=", "La - eta*c*2*mu*La", "PL*, eta c > 0", id="A2"),
            Step(None, "=", "(1 - eta*mu*(2 - beta*eta))*La", "§2.4(a) rate", id="A3"),
            Step("La - Lb", ">=", "eta*c*G", "descent lemma", id="D1"),
            Step(None, ">=", "0", "eta c G >= 0", id="D2"),
            Step("eta**2*G", "<=", "eta*(La - Lb)/c", "D1", id="L1"),
            Step(None, "<=", "2*eta*La/(2 - beta*eta)", "Lb >= 0: §2.4(a) step length", id="L2"),
            Step("sqrt(G)", ">=", "sqrt(2*mu*La)", "PL*", id="P1"),
            Step("(La - Lb)/sqrt(La)", "<=", "2*(sqrt(La) - sqrt(Lb))", "telescoping inequality", id="T"),
            Step("eta*sqrt(G)", "=", "eta*G/sqrt(G)", "G > 0", id="F1"),
            Step(None, "<=", "(La - Lb)/(c*sqrt(G))", "descent lemma", id="F2"),
            Step(None, "<=", "(La - Lb)/(c*sqrt(2*mu*La))", "P1", id="F3"),
            Step(None, "<=", "2*(sqrt(La) - sqrt(Lb))/(c*sqrt(2*mu))", "(a - b)/sqrt(a) <= 2(sqrt(a) - sqrt(b))", id="F4"),
            Step("2*sqrt(L0)/(c*sqrt(2*mu))", "=", "2*sqrt(2*L0/mu)/(2 - beta*eta)",
                 "telescoped sum of F4 from L0: R_fl", id="Rfl"),
            Step("2*sqrt(2*L0)/(mu*sqrt(eta)*(2 - beta*eta)**(3/2))", "=",
                 "(2*sqrt(2*L0/mu)/(2 - beta*eta))/sqrt(eta*mu*(2 - beta*eta))", "R(eta) = R_fl/sqrt(eta mu (2 - beta eta))",
                 id="Reta"),
            Step("2*sqrt(2*L0)/(mu*sqrt(1/beta)*(2 - beta*(1/beta))**(3/2))", "=", "2*sqrt(2*beta*L0)/mu",
                 "R(1/beta) is the v1 radius", id="Rv1"),
        ),
        claim=Step("eta*sqrt(G)", "<=", "2*(sqrt(La) - sqrt(Lb))/(c*sqrt(2*mu))"),
    )
