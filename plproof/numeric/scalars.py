"""Scalar namespaces for the theorem formulas: float (for searching) and intervals (for proving).

The same formula (a radius, a rate, a ball bound) is written once over a namespace ``S`` with
``S.sqrt``, ``S.pos`` (positive part) and ``S.of(x)``; with :data:`INTERVALS` every operation is
rounded outward by mpmath's interval arithmetic (113-bit endpoints), so a result's ``lo``/``hi``
are proven bounds (docs/theory.md §10).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import mpmath

from plproof.numeric.rigor import Enclosure

_IV = mpmath.iv
_PREC = 113


class _workprec:
    """Temporarily set mpmath.iv's precision (its context has no ``workprec``)."""

    def __enter__(self) -> None:
        self.saved = _IV.prec
        _IV.prec = max(_PREC, self.saved)

    def __exit__(self, *exc: object) -> None:
        _IV.prec = self.saved


class FloatScalars:
    """Plain floats: fast, used to search for a radius before it is proved."""

    interval = False

    @staticmethod
    def of(x: Any) -> float:
        if isinstance(x, Enclosure):
            return float(x.mid)
        return float(x)

    @staticmethod
    def between(lo: Any, hi: Any) -> float:
        return (float(lo) + float(hi)) / 2

    @staticmethod
    def sqrt(x: float) -> float:
        return math.sqrt(max(x, 0.0))

    @staticmethod
    def pos(x: float) -> float:
        return max(x, 0.0)

    @staticmethod
    def lo(x: float) -> float:
        return float(x)

    @staticmethod
    def hi(x: float) -> float:
        return float(x)


class IntervalScalars:
    """mpmath intervals with outward rounding; ``lo``/``hi`` convert outward to floats."""

    interval = True

    @staticmethod
    def _exact(v: Any) -> Any:
        if isinstance(v, Fraction):
            return _IV.mpf(v.numerator) / v.denominator
        return _IV.mpf(float(v)) if not isinstance(v, int) else _IV.mpf(v)

    def of(self, x: Any) -> Any:
        """An interval holding x; an Enclosure becomes [lo, hi]."""
        with _workprec():
            if isinstance(x, Enclosure):
                return self.between(x.lo, x.hi)
            return self._exact(x)

    def between(self, lo: Any, hi: Any) -> Any:
        with _workprec():
            a, b = self._exact(lo), self._exact(hi)
            return _IV.mpf([a.a, b.b])

    @staticmethod
    def sqrt(x: Any) -> Any:
        with _workprec():
            return _IV.sqrt(IntervalScalars.pos(x))

    @staticmethod
    def pos(x: Any) -> Any:
        with _workprec():
            if x.a >= 0:
                return x
            if x.b <= 0:
                return _IV.mpf(0)
            return _IV.mpf([0, x.b])

    @staticmethod
    def lo(x: Any) -> float:
        """A float <= every point of the interval."""
        v = float(x.a)
        return v if mpmath.mpf(v) <= x.a else math.nextafter(v, -math.inf)

    @staticmethod
    def hi(x: Any) -> float:
        """A float >= every point of the interval."""
        v = float(x.b)
        return v if mpmath.mpf(v) >= x.b else math.nextafter(v, math.inf)


FLOATS = FloatScalars()
INTERVALS = IntervalScalars()


def enclosure(x: Any, S: Any, rigor: Any, assumptions: tuple[str, ...] = ()) -> Enclosure:
    """The value ``x`` computed in namespace ``S`` as an Enclosure (a point for floats)."""
    if S.interval:
        return Enclosure(S.lo(x), S.hi(x), rigor, assumptions)
    return Enclosure(float(x), float(x), rigor, assumptions)
