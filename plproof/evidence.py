"""Evidence: the result of checking a claim about one problem (DESIGN: check -> Evidence -> Certificate).

Every quantity is an :class:`Enclosure`; every premise of the theorem is held, failed or unknown
with the number that decided it; the verdict's rigor is the weakest of the parts it rests on.
In a REPL or notebook: ``bool(evidence)`` is the verdict (True exactly when CERTIFIED), ``repr`` is one
line, :meth:`Evidence.summary` a few, and :meth:`Evidence.to_json` plain JSON data.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from plproof.certificate.format import jsonable
from plproof.numeric.rigor import Enclosure, RigorLevel, Summary, html_table, weakest
from plproof.numeric.runners import Ensemble, Trajectory


class Status(str, enum.Enum):
    """State of one premise."""

    HELD = "held"
    FAILED = "failed"
    UNKNOWN = "unknown"


class Verdict(str, enum.Enum):
    """Outcome of a check: exit code 0 for CERTIFIED, 1 otherwise."""

    CERTIFIED = "certified"
    NOT_CERTIFIED = "not certified"
    NOT_CERTIFIABLE = "not certifiable"


@dataclass(frozen=True)
class Premise:
    """One premise (hypothesis) of a theorem: ``statement`` with the ``margin`` that decided it (>= 0 means held).

    Named ``Premise`` so as not to clash with the Hypothesis property-testing library; ``Hypothesis``
    is its deprecated alias.
    """

    name: str
    statement: str
    status: Status
    margin: Enclosure | None = None
    detail: str = ""
    reference: str = ""

    @classmethod
    def from_margin(cls, name: str, statement: str, margin: Enclosure, reference: str, *, strict: bool,
                    detail: str = "") -> "Premise":
        """The premise ``margin > 0`` (``strict``) or ``margin >= 0``: held when the enclosure proves it,
        failed when it proves the opposite, unknown when the enclosure straddles the boundary."""
        held = margin.lo > 0 if strict else margin.lo >= 0
        failed = margin.hi <= 0 if strict else margin.hi < 0
        status = Status.HELD if held else (Status.FAILED if failed else Status.UNKNOWN)
        return cls(name, statement, status, margin, detail, reference)

    def to_json(self) -> dict:
        return {"name": self.name, "statement": self.statement, "status": self.status.value,
                "margin": self.margin.to_json() if self.margin else None, "detail": self.detail,
                "reference": self.reference}


#: deprecated alias of :class:`Premise` (``plproof.Hypothesis`` warns; use ``plproof.Premise``)
Hypothesis = Premise

#: (quantity keys tried in order, the proved side shown: "lo", "hi" or None for the value)
_HEADLINE = ((("mu", "mu_T"), "lo"), (("beta", "beta_T"), "hi"), (("R", "R_T"), None), (("step",), None),
             (("rate",), "hi"), (("T",), None))
#: what a CERTIFIED verdict below rigor verified means
_NOT_PROVED = {RigorLevel.SAMPLED: " (holds on samples, not proved)",
               RigorLevel.HIGH_PRECISION: " (high-precision estimates, not proved)"}


def _bound(e: Enclosure, side: str | None, digits: int) -> str:
    """``>= lo``, ``<= hi``, ``= x`` (a point) or ``in [lo, hi]``."""
    if side == "lo" or side == "hi":
        return f"{'>=' if side == 'lo' else '<='} {float(getattr(e, side)):.{digits}g}"
    if e.lo == e.hi:
        return f"= {float(e.lo):.{digits}g}"
    return f"in [{float(e.lo):.{digits}g}, {float(e.hi):.{digits}g}]"


@dataclass
class Evidence:
    """What a check established about one problem, and how surely."""

    claim: str
    claim_symbols: str
    route: str
    verdict: Verdict
    reason: str
    problem: dict
    quantities: dict[str, Enclosure] = field(default_factory=dict)
    hypotheses: list[Premise] = field(default_factory=list)
    conclusions: list[str] = field(default_factory=list)
    trajectory: Trajectory | Ensemble | None = None
    hints: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    convention: str = "A"
    references: list[str] = field(default_factory=list)

    @property
    def certified(self) -> bool:
        return self.verdict is Verdict.CERTIFIED

    def __bool__(self) -> bool:
        """True exactly when the verdict is CERTIFIED (``assert plproof.check(p)``); the level reached
        is :attr:`rigor`: ``assert ev and ev.rigor >= RigorLevel.VERIFIED`` asks for a proof."""
        return self.certified

    @property
    def rigor(self) -> RigorLevel:
        """The weakest level among the quantities the verdict rests on."""
        return weakest(q.rigor for q in self.quantities.values())

    @property
    def assumptions(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for q in self.quantities.values():
            seen.update(dict.fromkeys(q.assumptions))
        return tuple(seen)

    def failed(self) -> list[Premise]:
        return [h for h in self.hypotheses if h.status is not Status.HELD]

    def headline(self, digits: int = 6) -> list[tuple[str, str]]:
        """(name, proved bound) for mu, beta, R, step, rate (and T on the run route) where present:
        mu is shown by its lower bound, beta and the rate by their upper bounds."""
        out = []
        for keys, side in _HEADLINE:
            key = next((k for k in keys if k in self.quantities), None)
            if key is not None:
                out.append((key, _bound(self.quantities[key], side, digits)))
        return out

    def _verdict_line(self) -> str:
        caveat = _NOT_PROVED.get(self.rigor, "") if self.certified else ""
        model = self.problem.get("model", {})
        shape = f", n = {model['n_outputs']}, m = {model['n_params']}" if "n_outputs" in model else ""
        return f"{self.verdict.value.upper()}{caveat}, rigor {self.rigor.label} (route {self.route}{shape})"

    def summary(self) -> Summary:
        """The verdict, its rigor, mu, beta, R, step and rate, the reason, and (when not certified) the
        premises that failed or stayed unknown."""
        rows = self.headline()
        width = max((len(k) for k, _ in rows), default=0)
        lines = [self._verdict_line(), *(f"  {k:<{width}} {v}" for k, v in rows), f"  {self.reason}"]
        if not self.certified:
            lines += [f"  {h.status.value}: {h.name}"
                      + (f", margin {_bound(h.margin, 'hi' if h.status is Status.FAILED else None, 4)}"
                         if h.margin else "")
                      + (f" ({h.detail})" if h.detail else "") for h in self.failed()]
        return Summary("\n".join(lines))

    def __repr__(self) -> str:
        body = ", ".join(f"{k} {v}" for k, v in self.headline(4))
        return f"<Evidence {self.route}: {self.verdict.value}, {self.rigor.label}{'; ' + body if body else ''}>"

    def _repr_html_(self) -> str:
        rows = [("verdict", self.verdict.value), ("rigor", self.rigor.label), *self.headline(),
                ("reason", self.reason)]
        if not self.certified:
            rows += [(h.status.value, h.name) for h in self.failed()]
        return html_table(f"Evidence (route {self.route})", rows)

    def to_json(self) -> dict:
        """Plain JSON data (``json.dumps`` ready): arrays become lists, infinities ``"inf"``/``"-inf"``."""
        return jsonable({
            "claim": self.claim, "claim_symbols": self.claim_symbols, "route": self.route,
            "verdict": self.verdict.value, "reason": self.reason, "rigor": self.rigor.label,
            "assumptions": list(self.assumptions), "convention": self.convention,
            "quantities": {k: v.to_json() for k, v in self.quantities.items()},
            "hypotheses": [h.to_json() for h in self.hypotheses], "conclusions": list(self.conclusions),
            "trajectory": self.trajectory.to_json() if self.trajectory else None,
            "hints": self.hints, "notes": list(self.notes), "references": list(self.references),
        })
