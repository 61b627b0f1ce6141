"""Catalogue of built-in derivations, one module each (docs/derivations.md).

Each module's docstring cites its section of docs/theory.md. ``builtin_derivations()`` returns
them by name; :mod:`.seed_notes` transcribes the lecture notes (not a built-in: it is meant to
fail).
"""

from __future__ import annotations

from collections.abc import Callable

from plproof.errors import InvalidInput
from plproof.symbolic.catalogue import (
    gd_flow,
    gd_v1,
    gd_v2,
    gradient,
    kernel,
    linear_ls,
    pl_star,
    sgd,
)
from plproof.symbolic.model import Derivation

_BUILDERS: dict[str, Callable[[], Derivation]] = {
    "gradient": gradient.general,
    "gradient-linear": gradient.linear,
    "kernel": kernel.derivation,
    "pl-star": pl_star.convention_a,
    "pl-star-b": pl_star.convention_b,
    "gd-v1": gd_v1.derivation,
    "gd-v2": gd_v2.derivation,
    "gd-rfl": gd_flow.derivation,
    "sgd": sgd.derivation,
    "linear-ls": linear_ls.derivation,
}


def builtin_names() -> list[str]:
    """Names of the built-in derivations, in catalogue order."""
    return list(_BUILDERS)


def builtin_derivations() -> dict[str, Derivation]:
    """Every built-in derivation by name."""
    return {name: build() for name, build in _BUILDERS.items()}


def builtin(name: str) -> Derivation:
    """One built-in derivation by name."""
    if name not in _BUILDERS:
        raise InvalidInput(f"unknown derivation {name!r}: use one of {', '.join(_BUILDERS)} or a FILE.py")
    return _BUILDERS[name]()

