"""SGD under local PL*: one-step bound, optimal step and radius (docs/theory.md §3).

Source: LZB Theorem 7 [mem], constants re-derived in §3. L = sum_i l_i (a sum, not a mean),
mini-batches of s indices drawn i.i.d. uniformly from n. Symbols: ``EL1`` = E[L(w_t+1) | w_t],
``Lt`` = L(w_t), ``G`` = ||grad L(w_t)||^2, ``S`` = sum_i ||grad l_i(w_t)||^2. The expectation
identities (E g = (s/n) grad L, E||g||^2 = (s/n) S + s(s-1)/n^2 G) enter through the smoothness
hypothesis; the self-bounding inequality S <= 2 beta L and PL* are hypotheses.
"""

from __future__ import annotations

from plproof.symbolic.model import Assumptions, Derivation, Hypothesis, Scalar, Step


def derivation() -> Derivation:
    """E[L_t+1] <= rho(eta) L_t, eta* minimises rho, and the expected path length 2n sqrt(2 beta L0)/mu."""
    return Derivation(
        title="SGD one-step bound, optimal step eta* and radius",
        name="sgd",
        reference="docs/theory.md §3",
        assumptions=Assumptions(
            objects=(Scalar("n", positive=True, integer=True), Scalar("s", positive=True, integer=True),
                     Scalar("mu", positive=True), Scalar("beta", positive=True), Scalar("eta", positive=True),
                     Scalar("L0", positive=True), Scalar("delta", positive=True), Scalar("Lt", positive=True),
                     Scalar("G", nonnegative=True), Scalar("S", nonnegative=True), Scalar("EL1", nonnegative=True)),
            hypotheses=(
                Hypothesis("EL1 <= Lt - eta*(s/n)*G + (n*beta/2)*eta**2*((s/n)*S + s*(s - 1)/n**2*G)",
                           "L is n beta-smooth; E g = (s/n) grad L; E|g|^2 = (s/n) S + s(s-1)/n^2 G"),
                Hypothesis("S <= 2*beta*Lt", "self-bounding: |grad l_i|^2 <= 2 beta l_i"),
                Hypothesis("G >= 2*mu*Lt", "mu-PL*"),
                Hypothesis("G <= n*S", "Cauchy-Schwarz: |sum_i v_i|^2 <= n sum_i |v_i|^2"),
                Hypothesis("eta <= eta_star", "step size at most eta*"),
            )),
        steps=(
            Step("eta_star", "def", "mu/(beta*(n*beta + mu*(s - 1)))", "optimal step", id="eta*"),
            Step("rho", "def", "1 - 2*mu*eta*s/n + mu*beta*eta**2*s*(s - 1)/n + s*beta**2*eta**2", "one-step factor"),
            Step("rho_star", "def", "1 - mu*s*eta_star/n", "factor at eta*"),
            Step("2*mu*Lt", "<=", "G", "PL*", id="C1"),
            Step(None, "<=", "n*S", "Cauchy-Schwarz", id="C2"),
            Step(None, "<=", "2*n*beta*Lt", "self-bounding", id="C3"),
            Step("mu", "<=", "n*beta", "C1-C3 with L_t > 0", id="C4"),
            Step("beta*eta*(s - 1)", "<=", "1", "eta <= eta*", id="E0"),
            Step("EL1", "<=", "Lt - eta*(s/n)*G + (n*beta/2)*eta**2*((s/n)*S + s*(s - 1)/n**2*G)",
                 "descent lemma in expectation", id="E1"),
            Step(None, "<=", "Lt - eta*(s/n)*G + beta**2*eta**2*s*Lt + beta*eta**2*s*(s - 1)/(2*n)*G",
                 "self-bounding", id="E2"),
            Step(None, "=", "Lt + beta**2*eta**2*s*Lt - (eta*s/n)*(1 - beta*eta*(s - 1)/2)*G", "collect G", id="E3"),
            Step(None, "<=", "Lt + beta**2*eta**2*s*Lt - (eta*s/n)*(1 - beta*eta*(s - 1)/2)*2*mu*Lt",
                 "PL*, the coefficient of G is <= 0 by E0", id="E4"),
            Step(None, "=", "rho*Lt", "§3 one-step bound", id="E5"),
            Step("rho.subs(eta, eta_star)", "=", "rho_star", "the factor at eta*", id="O1"),
            Step("rho - rho.subs(eta, eta_star)", "=", "s*beta*(n*beta + mu*(s - 1))/n*(eta - eta_star)**2",
                 "rho is a quadratic in eta with vertex eta*", id="O2"),
            Step(None, ">=", "0", "so eta* minimises the bound", id="O3"),
            Step("rho_star", ">=", "0", "mu <= n beta", id="O4"),
            Step("rho_star", "<", "1", "mu, s, eta* > 0", id="O5"),
            Step("sqrt(rho_star)", "<=", "1", "O4, O5", id="O6"),
            Step("eta_star*s*sqrt(2*beta*L0)/(1 - sqrt(rho_star))", "=",
                 "eta_star*s*sqrt(2*beta*L0)*(1 + sqrt(rho_star))/(1 - rho_star)",
                 "sum of E|step_t| <= eta* s sqrt(2 beta L0) rho*^(t/2)", id="P1"),
            Step(None, "<=", "2*eta_star*s*sqrt(2*beta*L0)/(1 - rho_star)", "rho* <= 1", id="P2"),
            Step(None, "=", "2*n*sqrt(2*beta*L0)/mu", "1 - rho* = mu s eta*/n", id="P3"),
            Step("2*n*sqrt(2*beta*L0)/mu/delta", "=", "2*n*sqrt(2*beta*L0)/(mu*delta)",
                 "Markov: the ball radius for probability 1 - delta", id="R"),
            Step("mubar", "def", "mu/n", "mean-loss PL constant"),
            Step("s*mubar/(beta*(beta + mubar*(s - 1)))", "=", "s*eta_star", "mean-loss averaged step", id="M1"),
            Step("1 - mubar*s*eta_star", "=", "rho_star", "mean-loss rate", id="M2"),
        ),
        claim=Step("eta_star*s*sqrt(2*beta*L0)/(1 - sqrt(rho_star))", "<=", "2*n*sqrt(2*beta*L0)/mu"),
    )
