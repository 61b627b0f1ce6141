"""GD under local PL*, version v2: radius 2 L_F sqrt(2 L0)/mu (docs/theory.md §2.2, §2.3 S4a-S6).

Source: LZB v2+/ACHA Theorem 6 as quoted by S2. Symbols: ``Lt``, ``Lt1`` = L(w_t), L(w_{t+1});
``G`` = ||DF^T r_t||^2 = ||grad L(w_t)||^2; ``LF`` = sup_B ||DF||; ``betaF`` the smoothness of F
and ``r0`` = ||F(w0) - y||. The step bound eta <= 1/(LF^2 + betaF r0) and mu <= LF^2
(mu <= lambda_min(K) <= ||DF||^2) are hypotheses; eta mu <= 1 is derived (no mu <= beta needed).
"""

from __future__ import annotations

from plproof.symbolic.catalogue.common import linear_rate_steps
from plproof.symbolic.model import Assumptions, Derivation, Hypothesis, Scalar, Step


def derivation() -> Derivation:
    """The v2 path-length bound sum_t ||w_t+1 - w_t|| <= 2 L_F sqrt(2 L0)/mu."""
    return Derivation(
        title="GD under local PL*, v2 radius 2 L_F sqrt(2 L0)/mu",
        name="gd-v2",
        reference="docs/theory.md §2.2, §2.3",
        assumptions=Assumptions(
            objects=(Scalar("mu", positive=True), Scalar("L0", positive=True), Scalar("LF", positive=True),
                     Scalar("betaF", positive=True), Scalar("r0", positive=True), Scalar("eta", positive=True),
                     Scalar("Lt", nonnegative=True), Scalar("Lt1", nonnegative=True), Scalar("G", nonnegative=True),
                     Scalar("t", nonnegative=True, integer=True)),
            hypotheses=(
                Hypothesis("eta <= 1/(LF**2 + betaF*r0)", "v2 step size"),
                Hypothesis("mu <= LF**2", "mu <= lambda_min(K) <= ||DF||^2 <= L_F^2"),
                Hypothesis("Lt1 <= Lt - eta*(1 - betaL*eta/2)*G",
                           "descent lemma: ||H_L|| <= L_F^2 + beta_F ||r|| <= betaL on the ball (§2.2)"),
                Hypothesis("G >= 2*mu*Lt", "mu-PL* at w_t"),
                Hypothesis("G <= 2*LF**2*Lt", "||DF^T r|| <= L_F ||r||, ||r||^2 = 2 L"),
            )),
        steps=(
            Step("betaL", "def", "LF**2 + betaF*r0", "smoothness of L on the ball"),
            Step("eta", "<=", "1/LF**2", "eta <= 1/betaL <= 1/L_F^2", id="S0a"),
            Step("eta*mu", "<=", "1", "mu <= L_F^2", id="S0"),
            *linear_rate_steps("betaL", "0 < eta <= 1/betaL"),
            Step("eta*sqrt(G)", "<=", "eta*LF*sqrt(2*Lt)", "S4a: ||w_t+1 - w_t|| = eta ||DF^T r_t||", id="S4a"),
            Step(None, "<=", "eta*LF*sqrt(2*L0)*q**t", "S3", id="S4b"),
            Step("Sum(eta*LF*sqrt(2*L0)*q**t, (t, 0, oo))", "=", "eta*LF*sqrt(2*L0)/(1 - q)",
                 "geometric series, 0 <= q < 1", id="S5"),
            Step(None, "=", "LF*sqrt(2*L0)*(1 + q)/mu", "1 - q^2 = eta mu", id="S6a"),
            Step(None, "<=", "2*LF*sqrt(2*L0)/mu", "q <= 1: the v2 radius", id="S6"),
        ),
        claim=Step("Sum(eta*LF*sqrt(2*L0)*q**t, (t, 0, oo))", "<=", "2*LF*sqrt(2*L0)/mu"),
    )
