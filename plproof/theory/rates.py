"""One-step worst-case rates of GD on L-smooth mu-PL functions, in any scalar namespace (docs/theory.md §6).

Pass floats (``plproof.numeric.scalars.FLOATS``) for a value, intervals (``INTERVALS``) for a proved
enclosure. Convention A: f(x) - f* <= ||grad f(x)||^2 / (2 mu).
"""

from __future__ import annotations

import math
from typing import Any

from plproof.errors import InvalidInput
from plproof.numeric.rigor import Enclosure, RigorLevel
from plproof.numeric.scalars import INTERVALS, enclosure


def _check(L: float, mu: float, h: float, m_c: float) -> None:
    for name, v in (("L", L), ("mu", mu), ("h", h), ("m_c", m_c)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InvalidInput(f"{name} must be a finite number, got {v!r}")
    if not 0 < mu <= L:
        raise InvalidInput(f"need 0 < mu <= L (PL and L-smooth imply mu <= L), got mu = {mu!r}, L = {L!r}")
    if not 0 < h < 2 / L:
        raise InvalidInput(f"the step h must lie in (0, 2/L) = (0, {2 / L:.6g}), got {h!r}")
    if not -L <= m_c <= 0:
        raise InvalidInput(f"the curvature lower bound m_c must lie in [-L, 0], got {m_c!r}")


def adz_rate(S: Any, L: Any, mu: Any, h: Any, m_c: Any = None) -> Any:
    """ADZ Theorem 3: f(x - h grad f(x)) - f* <= tau (f(x) - f*), curvature in [m_c, L] (docs/theory.md §6.3).

    Branches at h = 1/L and h = 3/(m_c + L + sqrt(m_c^2 - L m_c + L^2)) (sqrt 3/L when m_c = -L); the
    first branch is the squared ratio. Arguments are values of ``S``; where an interval h straddles a
    breakpoint, the result is the hull of both sides.
    """
    m = -L if m_c is None else m_c
    Lh = L * h
    branches = [
        (S.of(0), 1 / L,
         lambda: ((mu * (1 - Lh) + S.sqrt((L - m) * (m - mu) * (2 - Lh) * mu * h + (L - m) ** 2)) / (L - m + mu)) ** 2),
        (1 / L, 3 / (m + L + S.sqrt(m * m - L * m + L * L)),
         lambda: 1 + (Lh - 2) * (m * h - 2) * mu * h / ((L + m - mu) * h - 2)),
        (3 / (m + L + S.sqrt(m * m - L * m + L * L)), 2 / L,
         lambda: (Lh - 1) ** 2 / ((Lh - 1) ** 2 + mu * h * (2 - Lh))),
    ]
    values = [tau() for lo, hi, tau in branches if S.lo(h) <= S.hi(hi) and S.hi(h) >= S.lo(lo)]
    if not values:
        raise InvalidInput("the step h must lie in (0, 2/L)")
    if len(values) == 1:
        return values[0]
    return S.between(min(S.lo(v) for v in values), max(S.hi(v) for v in values))


def gd_one_step_rate(L: float, mu: float, h: float, m_c: float | None = None) -> Enclosure:
    """Proved enclosure of the ADZ one-step factor tau (docs/theory.md §6.3), in interval arithmetic."""
    _check(L, mu, h, -L if m_c is None else m_c)
    S = INTERVALS
    tau = adz_rate(S, S.of(L), S.of(mu), S.of(h), None if m_c is None else S.of(m_c))
    return enclosure(tau, S, RigorLevel.VERIFIED)
