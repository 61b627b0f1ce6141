"""SymPy-checked derivations: each step valid, invalid (with a counterexample) or unverified.

See docs/derivations.md. Build a :class:`Derivation` from :class:`Step` s under
:class:`Assumptions`, run :func:`check`, and render the :class:`CheckResult`.
"""

from __future__ import annotations

from plproof.symbolic.catalogue import builtin, builtin_derivations, builtin_names
from plproof.symbolic.catalogue import seed_notes as _seed_notes
from plproof.symbolic.checker import (
    INVALID,
    UNVERIFIED,
    VALID,
    CheckResult,
    StepResult,
    check,
)
from plproof.symbolic.lemmas import Induction
from plproof.symbolic.model import (
    Assumptions,
    Derivation,
    Hypothesis,
    LinearMap,
    MatrixVar,
    Scalar,
    SmoothMap,
    Step,
    Vector,
)
from plproof.symbolic.render import (
    derivation_to_json,
    derivation_to_latex,
    derivation_to_text,
)

#: the name the certification pipeline uses for :func:`check`
check_derivation = check


def seed_notes() -> Derivation:
    """The lecture notes transcribed as a derivation, line by line (docs/theory.md §1.5)."""
    return _seed_notes.derivation()


__all__ = [
    "INVALID",
    "UNVERIFIED",
    "VALID",
    "Assumptions",
    "CheckResult",
    "Derivation",
    "Hypothesis",
    "Induction",
    "LinearMap",
    "MatrixVar",
    "Scalar",
    "SmoothMap",
    "Step",
    "StepResult",
    "Vector",
    "builtin",
    "builtin_derivations",
    "builtin_names",
    "check",
    "check_derivation",
    "derivation_to_json",
    "derivation_to_latex",
    "derivation_to_text",
    "seed_notes",
]
