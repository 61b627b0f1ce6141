"""Rigor levels and enclosures: every number plproof reports is an :class:`Enclosure`.

See docs/theory.md §10 (rigor levels). A composite claim has the weakest level of its parts.
Also the small display helpers (:class:`Summary`, :func:`html_table`) that the results share in a REPL
or notebook.
"""

from __future__ import annotations

import enum
import html
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


class Summary(str):
    """A multi-line summary that a REPL or notebook shows as text, not as a quoted string."""

    def __repr__(self) -> str:
        return str(self)


def html_table(caption: str, rows: Iterable[tuple[str, str]]) -> str:
    """A two-column HTML table (name, value) with ``caption``, every cell escaped."""
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
                   f"{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table><caption style='text-align:left'>{html.escape(caption)}</caption>{body}</table>"


def _g(x: float | Fraction) -> str:
    return f"{float(x):.10g}"


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

    def __float__(self) -> float:
        """The value when it is one number (lo == hi, rounded to the nearest float); else an error.

        An interval has no single value: read ``.lo`` for a proved lower bound (mu, lambda0: lower
        bounds of an infimum) or ``.hi`` for a proved upper bound (beta, the rate).
        """
        if self.lo != self.hi:
            raise InvalidInput(f"the enclosure [{_g(self.lo)}, {_g(self.hi)}] is an interval, not one number: "
                               "use .lo (proved lower bound, e.g. mu) or .hi (proved upper bound, e.g. beta)")
        return float(self.lo)

    def __str__(self) -> str:
        if self.lo == self.hi:
            return f"{_g(self.lo)} ({self.rigor.label})"
        return f"[{_g(self.lo)}, {_g(self.hi)}] ({self.rigor.label})"

    def __repr__(self) -> str:
        count = len(self.assumptions)
        extra = f", {count} assumption{'s' if count > 1 else ''}" if count else ""
        return f"<Enclosure {self}{extra}>"

    def summary(self) -> Summary:
        """Bounds, width, rigor and the assumptions the bounds rest on, one per line."""
        lines = [f"{_g(self.lo)} <= x <= {_g(self.hi)}  (width {self.width:.3g}, rigor {self.rigor.label})"]
        lines += [f"  assumes: {a}" for a in self.assumptions]
        return Summary("\n".join(lines))

    def _repr_html_(self) -> str:
        rows = [("lo", _g(self.lo)), ("hi", _g(self.hi)), ("rigor", self.rigor.label)]
        rows += [("assumes", a) for a in self.assumptions]
        return html_table("Enclosure", rows)
