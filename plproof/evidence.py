"""Evidence: the result of checking a claim about one problem (DESIGN: check -> Evidence -> Certificate).

Every quantity is an :class:`Enclosure`; every hypothesis of the theorem is held, failed or unknown
with the number that decided it; the verdict's rigor is the weakest of the parts it rests on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from plproof.numeric.rigor import Enclosure, RigorLevel, weakest
from plproof.numeric.runners import Trajectory


class Status(str, enum.Enum):
    """State of one hypothesis."""

    HELD = "held"
    FAILED = "failed"
    UNKNOWN = "unknown"


class Verdict(str, enum.Enum):
    """Outcome of a check: exit code 0 for CERTIFIED, 1 otherwise."""

    CERTIFIED = "certified"
    NOT_CERTIFIED = "not certified"
    NOT_CERTIFIABLE = "not certifiable"


@dataclass(frozen=True)
class Hypothesis:
    """One hypothesis of a theorem: ``statement`` with the ``margin`` that decided it (>= 0 means held)."""

    name: str
    statement: str
    status: Status
    margin: Enclosure | None = None
    detail: str = ""
    reference: str = ""

    def to_json(self) -> dict:
        return {"name": self.name, "statement": self.statement, "status": self.status.value,
                "margin": self.margin.to_json() if self.margin else None, "detail": self.detail,
                "reference": self.reference}


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
    hypotheses: list[Hypothesis] = field(default_factory=list)
    conclusions: list[str] = field(default_factory=list)
    trajectory: Trajectory | None = None
    hints: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    convention: str = "A"
    references: list[str] = field(default_factory=list)

    @property
    def certified(self) -> bool:
        return self.verdict is Verdict.CERTIFIED

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

    def failed(self) -> list[Hypothesis]:
        return [h for h in self.hypotheses if h.status is not Status.HELD]

    def to_json(self) -> dict:
        return {
            "claim": self.claim, "claim_symbols": self.claim_symbols, "route": self.route,
            "verdict": self.verdict.value, "reason": self.reason, "rigor": self.rigor.label,
            "assumptions": list(self.assumptions), "convention": self.convention,
            "quantities": {k: v.to_json() for k, v in self.quantities.items()},
            "hypotheses": [h.to_json() for h in self.hypotheses], "conclusions": list(self.conclusions),
            "trajectory": self.trajectory.to_json() if self.trajectory else None,
            "hints": self.hints, "notes": list(self.notes), "references": list(self.references),
        }
