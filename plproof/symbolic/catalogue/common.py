"""Steps shared by the GD derivations (docs/theory.md §2.3, S1-S3)."""

from __future__ import annotations

from plproof.symbolic.lemmas import Induction
from plproof.symbolic.model import Step


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
