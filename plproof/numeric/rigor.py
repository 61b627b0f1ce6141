"""Rigor levels and enclosures: every number plproof reports is an :class:`Enclosure`.

See docs/theory.md §10 (rigor levels). A composite claim has the weakest level of its parts.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable

from plproof.errors import InvalidInput


class RigorLevel(enum.IntEnum):
    """How a number was obtained; larger is stronger. ``min`` of levels is the composite level."""

    SAMPLED = 0
    HIGH_PRECISION = 1
    VERIFIED = 2
    EXACT = 3

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")

    @classmethod
    def parse(cls, value: "str | RigorLevel") -> "RigorLevel":
        """``"high-precision"`` or ``RigorLevel.HIGH_PRECISION`` -> the level."""
        if isinstance(value, RigorLevel):
            return value
        key = str(value).strip().lower().replace("-", "_")
        try:
            return cls[key.upper()]
        except KeyError:
            names = ", ".join(level.label for level in cls)
            raise InvalidInput(f"unknown rigor level {value!r}: use one of {names}") from None

    def __str__(self) -> str:
        return self.label


def weakest(levels: Iterable[RigorLevel]) -> RigorLevel:
    """The level of a composite claim: the weakest of its parts."""
    return min(levels, default=RigorLevel.EXACT)


Real = "float | int | Fraction"


@dataclass(frozen=True)
class Enclosure:
    """A real number x known to satisfy ``lo <= x <= hi`` at rigor level ``rigor``.

    ``lo``/``hi`` are floats (or exact Fractions); -inf/+inf mean "no bound on that side".
    ``assumptions`` lists what the bound rests on beyond IEEE arithmetic (e.g. a libm error bound).
    """

    lo: float | Fraction
    hi: float | Fraction
    rigor: RigorLevel
    assumptions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if isinstance(self.lo, float) and math.isnan(self.lo) or isinstance(self.hi, float) and math.isnan(self.hi):
            raise InvalidInput("an enclosure cannot have NaN bounds")
        if self.lo > self.hi:
            raise InvalidInput(f"empty enclosure: lo={self.lo!r} > hi={self.hi!r}")
        object.__setattr__(self, "rigor", RigorLevel.parse(self.rigor))

    @classmethod
    def point(cls, value: float | Fraction, rigor: RigorLevel | str) -> "Enclosure":
        """An estimate (``sampled``/``high-precision``) or an exact value, as a degenerate enclosure."""
        return cls(value, value, RigorLevel.parse(rigor))

    @property
    def mid(self) -> float:
        if math.isinf(float(self.lo)) or math.isinf(float(self.hi)):
            return float(self.lo) if math.isinf(float(self.hi)) else float(self.hi)
        return (float(self.lo) + float(self.hi)) / 2

    @property
    def width(self) -> float:
        return float(self.hi) - float(self.lo)

    def contains(self, x: float | Fraction) -> bool:
        return self.lo <= x <= self.hi

    def with_rigor(self, rigor: RigorLevel | str) -> "Enclosure":
        """The same bounds at a level no stronger than both the old and the given one."""
        return Enclosure(self.lo, self.hi, min(self.rigor, RigorLevel.parse(rigor)), self.assumptions)

    def to_json(self) -> dict:
        """JSON form; Fractions become exact strings, floats keep their shortest repr (exact binary)."""

        def enc(x: float | Fraction) -> str | float:
            if isinstance(x, Fraction):
                return f"{x.numerator}/{x.denominator}" if x.denominator != 1 else str(x.numerator)
            x = float(x)
            return repr(x) if math.isinf(x) else x

        out = {"lo": enc(self.lo), "hi": enc(self.hi), "rigor": self.rigor.label}
        if self.assumptions:
            out["assumptions"] = list(self.assumptions)
        return out

    def __str__(self) -> str:
        if self.lo == self.hi:
            return f"{float(self.lo):.10g} ({self.rigor.label})"
        return f"[{float(self.lo):.10g}, {float(self.hi):.10g}] ({self.rigor.label})"
