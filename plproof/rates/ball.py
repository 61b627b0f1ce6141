"""The one-step rate of GD with exact certificates, for use inside GD certificates (docs/theory.md §6.5).

:func:`tighter_rate` (mu, beta, h) returns a rational tau with an exact proof that one GD step with step h
satisfies f(x_1) - f* <= tau (f(x_0) - f*), using only the inequalities listed in :data:`HYPOTHESES`: PL at
x_0 and x_1, the L-smooth interpolation inequality of the pair (x_0, x_1) in both orders, and f* = inf f.
No SDP is solved: the proof has the form of ADZ's (support {pl[0], pl[1], smooth[0,1]} for h beta <= 1,
plus smooth[1,0] up to sqrt(3), {pl[1], smooth[0,1], smooth[1,0]} beyond), the multipliers follow from the
phi-coefficient equations and one or two free parameters, chosen where S is PSD (the vertex of det S,
or S = 0); tau is the ADZ value (docs/theory.md §6.3), rounded up to a rational on the square-root branch.
The proof is re-checked by the verifier's :func:`plproof.verify.rate.derive_rate` before it is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from plproof.rates.rationalise import ExactProof, ldl, solve_affine
from plproof.verify.exact import Failure, sqrt_hi
from plproof.verify.rate import Form, Setting, derive_rate, descent_rate, slack_matrix

#: what the one-step proof needs on the step from x_0 to x_1 = x_0 - h grad f(x_0) (docs/theory.md §6.5)
HYPOTHESES = (
    "PL at x_0 and at x_1: f(x_i) - f* <= ||grad f(x_i)||^2 / (2 mu)",
    "f* = inf f (for the square loss with a zero in the ball: f* = 0)",
    "||grad^2 f|| <= beta on the closed ball with diameter [x_0, x_1], centre (x_0 + x_1)/2, radius h ||grad f(x_0)||/2"
    " (gives the interpolation inequality of the pair (x_0, x_1) in both orders)",
)
SUPPORTS = (("pl[0]", "pl[1]", "smooth[0,1]"), ("pl[0]", "pl[1]", "smooth[0,1]", "smooth[1,0]"),
            ("pl[1]", "smooth[0,1]", "smooth[1,0]"))
#: added to the square-root branch's rational upper bound on ADZ's tau, in turn
MARGINS = (Fraction(1, 10**15), Fraction(1, 10**12), Fraction(1, 10**9))


@dataclass(frozen=True)
class TighterRate:
    """tau with its exact proof, beside the descent-lemma factor; ``rate`` is the smaller of the two."""

    tau: Fraction
    descent: Fraction
    proof: ExactProof
    hypotheses: tuple[str, ...] = HYPOTHESES

    @property
    def rate(self) -> Fraction:
        return min(self.tau, self.descent)


def adz_upper(L: Fraction, mu: Fraction, h: Fraction) -> Fraction:
    """A rational >= ADZ's one-step tau (L-smooth case, docs/theory.md §6.3); exact on branches 2 and 3."""
    Lh = L * h
    if Lh <= 1:
        root = sqrt_hi(4 * L * L - 2 * L * (L + mu) * mu * h * (2 - Lh))
        return ((mu * (1 - Lh) + root) / (2 * L + mu)) ** 2
    if Lh * Lh <= 3:
        return 1 - mu * h * (4 - Lh * Lh) / (2 + mu * h)
    return (Lh - 1) ** 2 / ((Lh - 1) ** 2 + mu * h * (2 - Lh))


def _parts(st: Setting, support: tuple[str, ...]) -> tuple[list[Form], list[list[list[Fraction]]]]:
    scalars = dict(st.scalar_constraints())
    phis, mats = [], []
    for name in support:
        form = scalars[name]
        phis.append({k: v for k, v in form.items() if k[0] == "f"})
        mats.append(slack_matrix(st, {k: v for k, v in form.items() if k[0] == "G"}))
    return phis, mats


def _fit(st: Setting, tau: Fraction, support: tuple[str, ...]) -> ExactProof | None:
    """Multipliers on ``support`` proving ``tau`` (module docstring), or None."""
    phis, mats = _parts(st, support)
    # phi coefficients: sum_k lambda_k a_k(phi_i) = [i == N] - tau [i == 0]
    A = [[p.get(("f", i), Fraction(0)) for p in phis] for i in range(st.n)]
    b = [Fraction(int(i == st.N)) - (tau if i == 0 else 0) for i in range(st.n)]
    solved = solve_affine(A, b)
    if solved is None:
        return None
    x0, basis = solved
    slack = lambda lam: [[sum(l * m[i][j] for l, m in zip(lam, mats)) for j in range(st.n)]  # noqa: E731
                         for i in range(st.n)]
    candidates: list[list[Fraction]] = [] if basis else [[]]
    if len(basis) == 1:  # det S(t) = c2 t^2 + c1 t + c0: its vertex
        S0, S1 = slack(x0), slack(basis[0])
        c2 = S1[0][0] * S1[1][1] - S1[0][1] ** 2
        c1 = S0[0][0] * S1[1][1] + S1[0][0] * S0[1][1] - 2 * S0[0][1] * S1[0][1]
        if c2 < 0:
            candidates.append([-c1 / (2 * c2)])
    if basis:  # S(t) = 0
        E = [[slack(v)[i][j] for v in basis] for i in range(st.n) for j in range(i, st.n)]
        zero = solve_affine(E, [-slack(x0)[i][j] for i in range(st.n) for j in range(i, st.n)])
        if zero is not None:
            candidates.append(zero[0])
    for t in candidates:
        lam = [x + sum(tk * v[k] for tk, v in zip(t, basis)) for k, x in enumerate(x0)]
        if any(v <= 0 for v in lam):
            continue
        factor = ldl(slack(lam))
        if factor is not None:
            Lm, D = factor
            return ExactProof(tau, dict(zip(support, lam)), {"L": [row[:i] for i, row in enumerate(Lm)], "D": D})
    return None


def _exact(x: Any, name: str) -> Fraction:
    """The exact value of a bound: a float is taken at its binary value (a rounded bound stays a bound)."""
    try:
        return Fraction(x)
    except (TypeError, ValueError, OverflowError):
        from plproof.errors import InvalidInput

        raise InvalidInput(f"{name} must be a finite number, got {x!r}") from None


def tighter_rate(mu: Any, beta: Any, h: Any) -> TighterRate | None:
    """The certified one-step factor for PL constant ``mu`` (convention A), curvature bound ``beta`` and step
    ``h``, valid wherever :data:`HYPOTHESES` hold; None if no proof is found (use the descent lemma then).

    ``mu`` must be a lower bound and ``beta`` an upper bound (floats are taken at their exact binary value).
    """
    mu, beta, h = _exact(mu, "mu"), _exact(beta, "beta"), _exact(h, "h")
    if not (0 < mu <= beta and 0 < h * beta < 2):
        return None
    st = Setting("pl-cheap", beta, mu, h, 1)
    for margin in MARGINS if beta * h <= 1 else (Fraction(0),):
        tau = adz_upper(beta, mu, h) + margin
        for support in SUPPORTS:
            proof = _fit(st, tau, support)
            if proof is None:
                continue
            draft = {"inputs": {"class": st.cls, "L": str(beta), "mu": str(mu), "step": str(h), "steps": 1},
                     "hints": {"tau": str(tau), "multipliers": {k: str(v) for k, v in proof.multipliers.items()},
                               "ldl": {"L": [[str(v) for v in row] for row in proof.ldl["L"]],
                                       "D": [str(v) for v in proof.ldl["D"]]}}}
            try:
                derive_rate(draft, None, [])
            except Failure:  # pragma: no cover - the proof was built to pass this check
                continue
            return TighterRate(tau, descent_rate(st), proof)
    return None
