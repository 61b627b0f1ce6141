"""Derivations as data: mathematical objects, steps and assumptions (docs/derivations.md).

A :class:`Derivation` is a titled list of :class:`Step` s under stated :class:`Assumptions`.
Expressions are strings in SymPy syntax, evaluated against the declared objects, so the same
derivation can be realised for symbolic sizes, for concrete sizes with undefined functions, and
at concrete counterexample instances (docs/theory.md §0 for notation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plproof.errors import InvalidInput

#: relations a step may state; ``def`` introduces a name
RELATIONS = ("=", "<=", ">=", "<", ">", "def")

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(f"{what} name {name!r} is not an identifier: use letters, digits and _")
    return name


@dataclass(frozen=True)
class Scalar:
    """A real scalar symbol, optionally positive, nonnegative or integer."""

    name: str
    positive: bool = False
    nonnegative: bool = False
    integer: bool = False

    def __post_init__(self) -> None:
        _check_name(self.name, "scalar")


@dataclass(frozen=True)
class Vector:
    """A column vector with ``dim`` entries (a size name such as ``"n"`` or an int)."""

    name: str
    dim: str | int

    def __post_init__(self) -> None:
        _check_name(self.name, "vector")


@dataclass(frozen=True)
class MatrixVar:
    """A real ``rows x cols`` matrix of free entries (e.g. the data matrix X)."""

    name: str
    rows: str | int
    cols: str | int

    def __post_init__(self) -> None:
        _check_name(self.name, "matrix")


@dataclass(frozen=True)
class SmoothMap:
    """An arbitrary smooth map ``F: R^dim_in -> R^dim_out`` of the parameter vector ``arg``.

    In expressions ``F(v)`` is its value and ``DF(v)`` its Jacobian (``dim_out x dim_in``).
    """

    name: str = "F"
    arg: str = "w"
    dim_in: str | int = "M"
    dim_out: str | int = "n"

    def __post_init__(self) -> None:
        _check_name(self.name, "map")
        _check_name(self.arg, "argument")


@dataclass(frozen=True)
class LinearMap:
    """The linear map ``F(v) = X v`` for a declared :class:`MatrixVar` ``matrix`` (docs/theory.md §7)."""

    name: str = "F"
    matrix: str = "X"
    arg: str = "w"

    def __post_init__(self) -> None:
        _check_name(self.name, "map")
        _check_name(self.matrix, "matrix")


MathObject = Scalar | Vector | MatrixVar | SmoothMap | LinearMap


@dataclass(frozen=True)
class Hypothesis:
    """A stated hypothesis ``lhs REL rhs`` (e.g. ``"mu <= beta"``) with its justification."""

    statement: str
    justification: str = ""
    source: str = ""

    def split(self) -> tuple[str, str, str]:
        """``"a <= b"`` -> ``("a", "<=", "b")``; one relation outside brackets is required."""
        depth, i, text = 0, 0, self.statement
        while i < len(text):
            ch = text[i]
            depth += ch in "([{"
            depth -= ch in ")]}"
            if depth == 0:
                for rel in ("<=", ">=", "==", "<", ">", "="):
                    if text.startswith(rel, i):
                        return text[:i].strip(), "=" if rel == "==" else rel, text[i + len(rel):].strip()
            i += 1
        raise InvalidInput(f"hypothesis {self.statement!r} has no relation: write it as 'lhs <= rhs'")


@dataclass(frozen=True)
class Assumptions:
    """What a derivation may use: objects (symbols, shapes, signs), hypotheses and conventions.

    ``convention`` is the PL* normalisation of docs/theory.md §1.4 ("A": ½‖∇L‖² ≥ μL; "B": no ½);
    ``gradient`` is "column" (∇L = DFᵀr) or "row" (the seed's rᵀDF); ``sizes`` fixes sizes
    (e.g. ``{"n": 2, "M": 3}``) instead of checking every size up to the bound.
    """

    objects: tuple[MathObject, ...] = ()
    hypotheses: tuple[Hypothesis, ...] = ()
    convention: str = "A"
    gradient: str = "column"
    sizes: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "objects", tuple(self.objects))
        hyps = tuple(h if isinstance(h, Hypothesis) else Hypothesis(str(h)) for h in self.hypotheses)
        object.__setattr__(self, "hypotheses", hyps)
        sizes = self.sizes.items() if isinstance(self.sizes, dict) else self.sizes
        object.__setattr__(self, "sizes", tuple((str(k), int(v)) for k, v in sizes))
        if self.convention not in ("A", "B"):
            raise InvalidInput(f"convention {self.convention!r} unknown: use 'A' (with 1/2) or 'B' (without)")
        if self.gradient not in ("column", "row"):
            raise InvalidInput(f"gradient layout {self.gradient!r} unknown: use 'column' or 'row'")
        names = [o.name for o in self.objects]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise InvalidInput(f"objects declared twice: {', '.join(sorted(dup))}")

    @property
    def has_vectors(self) -> bool:
        return any(not isinstance(o, Scalar) for o in self.objects)


@dataclass(frozen=True)
class Step:
    """One line of a derivation: ``lhs relation rhs`` with a justification and a source.

    ``lhs=None`` continues from the previous step's right-hand side (an ``align`` chain).
    ``relation="def"`` introduces the name ``lhs`` for the expression ``rhs``.
    ``by`` names a lemma (see :mod:`plproof.symbolic.lemmas`) the step applies.
    """

    lhs: str | None
    relation: str
    rhs: str
    justification: str = ""
    source: str = ""
    by: object | None = None
    id: str = ""

    def __post_init__(self) -> None:
        if self.relation not in RELATIONS:
            raise InvalidInput(f"relation {self.relation!r} unknown: use one of {', '.join(RELATIONS)}")
        if self.relation == "def":
            if self.lhs is None:
                raise InvalidInput(f"a definition needs a name on the left: {self.rhs!r}")
            _check_name(self.lhs, "defined")
        for side in (self.lhs, self.rhs):
            if side is not None and not isinstance(side, str):
                object.__setattr__(self, "lhs" if side is self.lhs else "rhs", str(side))


@dataclass(frozen=True)
class Derivation:
    """A titled list of steps proving ``claim`` (a relation ``lhs REL rhs``) under ``assumptions``."""

    title: str
    assumptions: Assumptions
    steps: tuple[Step, ...]
    claim: Step | None = None
    name: str = ""
    reference: str = ""
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(self.steps))
        if not self.steps:
            raise InvalidInput(f"derivation {self.title!r} has no steps")
        for i, step in enumerate(self.steps):
            if not isinstance(step, Step):
                raise InvalidInput(f"step {i + 1} of {self.title!r} is a {type(step).__name__}, not a Step")
        if self.steps[0].lhs is None:
            raise InvalidInput(f"the first step of {self.title!r} needs a left-hand side")
        if self.claim is not None and (self.claim.lhs is None or self.claim.relation == "def"):
            raise InvalidInput("the claim must be a relation 'lhs REL rhs', not a definition")

    def step_ids(self) -> list[str]:
        """Each step's id: its own ``id`` or its 1-based position."""
        return [s.id or str(i + 1) for i, s in enumerate(self.steps)]
