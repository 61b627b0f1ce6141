"""GD under local PL*: the radii, the rate and the step condition, in any scalar namespace.

Pass floats (``plproof.numeric.scalars.FLOATS``) to search, intervals (``INTERVALS``) to prove.
"""

from __future__ import annotations

from typing import Any


def radius_fl(S: Any, L0: Any, mu: Any, beta: Any, eta: Any) -> Any:
    """R_fl = 2 sqrt(2 L0 / mu) / (2 - beta eta), for 0 < eta < 2/beta (docs/theory.md §2.5, §11.5)."""
    return 2 * S.sqrt(2 * L0 / mu) / (2 - beta * eta)


def radius_v1(S: Any, L0: Any, mu: Any, beta: Any) -> Any:
    """LZB v1 radius 2 sqrt(2 beta L0) / mu, for eta = 1/beta and mu <= beta (docs/theory.md §2.1, §2.3)."""
    return 2 * S.sqrt(2 * beta * L0) / mu


def radius_v2(S: Any, L0: Any, mu: Any, L_F: Any) -> Any:
    """LZB v2 radius 2 L_F sqrt(2 L0) / mu (docs/theory.md §2.2)."""
    return 2 * L_F * S.sqrt(2 * L0) / mu


def radius_existence(S: Any, L0: Any, mu: Any) -> Any:
    """sqrt(2 L0 / mu): a solution lies within this distance if PL* holds on the ball (docs/theory.md §2.4)."""
    return S.sqrt(2 * L0 / mu)


def rate(eta: Any, mu: Any, beta: Any) -> Any:
    """Per-step loss factor 1 - eta mu (2 - beta eta) (docs/theory.md §2.4, §2.5)."""
    return 1 - eta * mu * (2 - beta * eta)
