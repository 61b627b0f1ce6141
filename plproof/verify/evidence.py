"""Evidence as the verifier derives it, and the comparison with what a certificate states.

A quantity is one-sided where it bounds an infimum (``lo``) or a supremum (``hi``), two-sided where it
encloses a value, exact where it is given; each carries the rigor the re-derivation reached. A premise
of a theorem has a status decided by its margin (held if > 0, or >= 0 where not strict). Numbers are
stored as binary64 rounded outward from the exact rationals. A stated number agrees with the derived
one if it is no stronger and within a relative RELATIVE of it (so the same inputs re-derived with
another mpmath release still agree); everything else (strings, statuses, rigor, structure) must be equal.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from plproof.certificate.format import RIGOR_LEVELS, decode_number
from plproof.verify.exact import Failure

RELATIVE = Fraction(1, 2**40)


def down(q: Fraction) -> float:
    """The largest binary64 <= q."""
    f = float(q)
    return math.nextafter(f, -math.inf) if Fraction(f) > q else f


def up(q: Fraction) -> float:
    """The smallest binary64 >= q."""
    f = float(q)
    return math.nextafter(f, math.inf) if Fraction(f) < q else f


class Derived:
    """Quantities and premises in the order the derivation establishes them."""

    def __init__(self) -> None:
        self.quantities: dict[str, dict] = {}
        self.premises: list[dict] = []
        self.setting: dict | None = None  # what the claim is about beyond its numbers (e.g. an SGD run's sampler)

    def lo(self, name: str, x: Fraction, rigor: str) -> None:
        self.quantities[name] = {"lo": down(x), "rigor": rigor}

    def hi(self, name: str, x: Fraction, rigor: str) -> None:
        self.quantities[name] = {"hi": up(x), "rigor": rigor}

    def both(self, name: str, lo: Fraction, hi: Fraction, rigor: str) -> None:
        self.quantities[name] = {"lo": down(lo), "hi": up(hi), "rigor": rigor}

    def exact(self, name: str, x: Fraction) -> None:
        if Fraction(float(x)) != x:
            raise Failure(f"{name} must be a binary64 number")
        self.quantities[name] = {"lo": float(x), "hi": float(x), "rigor": "exact"}

    def premise(self, name: str, margin: Fraction | None, *, strict: bool, ref: str, refuted: bool = False) -> None:
        """A premise decided by ``margin`` (None: not established; ``refuted``: proved false)."""
        if margin is None:
            status = "failed" if refuted else "unknown"
        else:
            status = "held" if (margin > 0 or not strict and margin == 0) else "failed"
        self.premises.append({"name": name, "status": status, "reference": ref,
                              "margin": None if margin is None else {"lo": down(margin), "hi": up(margin)}})

    def flag(self, name: str, holds: bool, ref: str) -> None:
        """A premise decided structurally (no number)."""
        self.premises.append({"name": name, "status": "held" if holds else "failed", "reference": ref, "margin": None})

    def all_held(self) -> bool:
        return all(p["status"] == "held" for p in self.premises)

    def finish(self, verdict: str, rigor: str) -> dict:
        """The evidence dict; its rigor is the weakest of its quantities' (and ``rigor`` when there are none)."""
        levels = [q["rigor"] for q in self.quantities.values() if q["rigor"] != "exact"] + [rigor]
        out = {"verdict": verdict, "rigor": min(levels, key=RIGOR_LEVELS.index),
               "quantities": self.quantities, "premises": self.premises}
        return out if self.setting is None else {**out, "setting": self.setting}


def _side_agrees(stated: Any, derived: float, side: str) -> bool:
    value = decode_number(stated)
    if isinstance(value, float):
        return False
    exact = Fraction(derived)
    slack = abs(exact) * RELATIVE
    if side == "lo":
        return exact - slack <= value <= exact
    return exact <= value <= exact + slack


def compare(stated: Any, derived: Any, where: str) -> None:
    """Raise Failure at the first place where ``stated`` differs from ``derived`` (numbers: see module doc)."""
    if isinstance(derived, dict):
        if not isinstance(stated, dict) or set(stated) != set(derived):
            extra = sorted(set(stated) - set(derived)) if isinstance(stated, dict) else []
            missing = sorted(set(derived) - set(stated)) if isinstance(stated, dict) else []
            raise Failure(f"{where}: the certificate states {', '.join(extra) or 'no'} extra and lacks "
                          f"{', '.join(missing) or 'no'} fields that the re-check derives")
        for key in derived:
            side = key if key in ("lo", "hi") else None
            if side is not None and isinstance(derived[key], float):
                if not _side_agrees(stated[key], derived[key], side):
                    raise Failure(f"{where}.{key}: stated {stated[key]!r}, re-derived "
                                  f"{'lower' if side == 'lo' else 'upper'} bound {derived[key]!r}")
            else:
                compare(stated[key], derived[key], f"{where}.{key}")
    elif isinstance(derived, list):
        if not isinstance(stated, list) or len(stated) != len(derived):
            raise Failure(f"{where}: the certificate lists {len(stated) if isinstance(stated, list) else 'no'} "
                          f"entries, the re-check derives {len(derived)}")
        for i, (a, b) in enumerate(zip(stated, derived)):
            compare(a, b, f"{where}[{i}]")
    elif isinstance(derived, float) and not isinstance(stated, bool) and isinstance(stated, (int, float)):
        if Fraction(stated) != Fraction(derived):
            raise Failure(f"{where}: stated {stated!r}, re-derived {derived!r}")
    elif stated != derived or type(stated) is not type(derived):
        raise Failure(f"{where}: stated {stated!r}, re-derived {derived!r}")
