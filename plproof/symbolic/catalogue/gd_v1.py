"""GD under local PL*, version v1: radius 2 sqrt(2 beta L0)/mu at eta = 1/beta.

docs/theory.md §2.1 and the proof skeleton S1-S9 of §2.3 (source: LZB arXiv 2003.00307v1, as
quoted by S1/S3). Symbols: ``Lt``, ``Lt1`` = L(w_t), L(w_{t+1}); ``G`` = ||grad L(w_t)||^2.
The descent lemma (smoothness on the segment, kept inside the ball by S7) and PL* at w_t are
hypotheses; the hypothesis ``mu <= beta`` is the audited correction of S2: without it
q = sqrt(1 - eta mu) is not real and the induction S3 has a negative factor.
S7/S8 (continuity, Cauchy sequence) are topological; their quantitative content is S6 and S9.
"""

from __future__ import annotations

from plproof.symbolic.catalogue.common import linear_rate_steps
from plproof.symbolic.model import Assumptions, Derivation, Hypothesis, Scalar, Step

_BASE_HYPOTHESES = (
    Hypothesis("Lt1 <= Lt - eta*(1 - beta*eta/2)*G", "descent lemma: L beta-smooth on [w_t, w_t+1] (S1, S7)"),
    Hypothesis("G >= 2*mu*Lt", "mu-PL* at w_t in the ball"),
)


def derivation(with_mu_le_beta: bool = True) -> Derivation:
    """The v1 proof; ``with_mu_le_beta=False`` drops the hypothesis mu <= beta (then not valid)."""
    hyps = _BASE_HYPOTHESES + ((Hypothesis("mu <= beta", "v1 hypothesis (docs/theory.md §2.3 S2 correction)"),)
                               if with_mu_le_beta else ())
    return Derivation(
        title="GD under local PL*, v1 radius 2 sqrt(2 beta L0)/mu" + ("" if with_mu_le_beta else " (without mu <= beta)"),
        name="gd-v1" if with_mu_le_beta else "gd-v1-without-mu-le-beta",
        reference="docs/theory.md §2.1, §2.3 S1-S9",
        assumptions=Assumptions(
            objects=(Scalar("beta", positive=True), Scalar("mu", positive=True), Scalar("L0", positive=True),
                     Scalar("Lt", nonnegative=True), Scalar("Lt1", nonnegative=True), Scalar("G", nonnegative=True),
                     Scalar("t", nonnegative=True, integer=True),
                     Scalar("k", nonnegative=True, integer=True)),
            hypotheses=hyps),
        steps=(
            Step("eta", "def", "1/beta", "GD step size of v1", id="eta"),
            *linear_rate_steps("beta", "0 < eta <= 1/beta"),
            Step("sqrt(Lt)", "<=", "q**t*sqrt(L0)", "square root of S3", id="S3b"),
            Step("eta**2*G", "<=", "2*eta*(Lt - Lt1)", "descent lemma at eta = 1/beta", id="S4b"),
            Step(None, "<=", "2*eta*Lt", "L >= 0", id="S4b'"),
            Step("eta*sqrt(G)", "<=", "sqrt(2*eta*Lt)", "step length ||w_t+1 - w_t|| = eta ||g_t||", id="S4c"),
            Step(None, "<=", "sqrt(2*eta*L0)*q**t", "S3", id="S4d"),
            Step("Sum(q**t, (t, 0, oo))", "=", "1/(1 - q)", "geometric series, 0 <= q < 1", id="S5a"),
            Step(None, "=", "(1 + q)/(1 - q**2)", "algebra", id="S5b"),
            Step(None, "=", "(1 + q)/(eta*mu)", "1 - q^2 = eta mu", id="S5c"),
            Step(None, "<=", "2/(eta*mu)", "q <= 1", id="S5"),
            Step("Sum(sqrt(2*eta*L0)*q**t, (t, 0, oo))", "=", "sqrt(2*eta*L0)*(1 + q)/(eta*mu)",
                 "sum of the step-length bounds S4d, by S5", id="S6a"),
            Step(None, "<=", "2*sqrt(2*L0)/(mu*sqrt(eta))", "q <= 1", id="S6b"),
            Step(None, "=", "2*sqrt(2*beta*L0)/mu", "eta = 1/beta: the v1 radius R", id="S6"),
            Step("Sum(sqrt(2*eta*L0)*q**k, (k, t, oo))", "=", "sqrt(2*eta*L0)*q**t/(1 - q)",
                 "tail of the path: ||w_t - w_inf|| <= R' q^t", id="S9a"),
            Step(None, "=", "sqrt(2*eta*L0)*q**t*(1 + q)/(eta*mu)", "S5c", id="S9b"),
            Step(None, "<=", "2*sqrt(2*beta*L0)/mu*q**t", "q <= 1, eta = 1/beta", id="S9"),
        ),
        claim=Step("Sum(sqrt(2*eta*L0)*q**t, (t, 0, oo))", "<=", "2*sqrt(2*beta*L0)/mu"),
    )
