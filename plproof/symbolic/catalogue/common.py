"""Objects and steps shared by the catalogue: the square-loss setting (docs/theory.md §0) and GD S1-S3 (§2.3)."""

from __future__ import annotations

from plproof.symbolic.lemmas import Induction
from plproof.symbolic.model import SmoothMap, Step, Vector

#: w in R^M, y in R^n, F: R^M -> R^n smooth
SETTING = (Vector("w", "M"), Vector("y", "n"), SmoothMap("F", "w", "M", "n"))
#: L := 1/2 ||F(w) - y||^2, r := F(w) - y, K := DF DF^T
LOSS = Step("L", "def", "(F(w) - y).T*(F(w) - y)/2", "square loss")
RESIDUAL = Step("r", "def", "F(w) - y", "residual")
KERNEL = Step("K", "def", "DF(w)*DF(w).T", "tangent kernel, symmetric PSD")


def linear_rate_steps(beta: str, eta_range: str) -> tuple[Step, ...]:
    """q := sqrt(1 - eta mu), then S1-S3: descent lemma and PL* give L_t <= (1 - eta mu)^t L0."""
    return (
        Step("q", "def", "sqrt(1 - eta*mu)", "contraction factor of sqrt(L)", id="q"),
        Step(f"eta*(1 - {beta}*eta/2)", ">=", "eta/2", f"polynomial fact for {eta_range}", id="S1"),
        Step("Lt1", "<=", f"Lt - eta*(1 - {beta}*eta/2)*G", "descent lemma", id="S2a"),
        Step(None, "<=", "Lt - eta*G/2", "S1 and G >= 0", id="S2b"),
        Step(None, "<=", "Lt - eta*mu*Lt", "PL*: G >= 2 mu Lt", id="S2c"),
        Step(None, "=", "(1 - eta*mu)*Lt", "algebra", id="S2"),
        Step("Lt", "<=", "(1 - eta*mu)**t*L0", "induction on S2", id="S3",
             by=Induction(premise="S2", current="Lt", next="Lt1", initial="L0")),
    )
