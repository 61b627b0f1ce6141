"""Counterexample search: concrete instances (exact rationals, small integers, and for a general
F a concrete polynomial map) at which a step fails while every hypothesis holds.

Every counterexample is re-evaluated from its recorded values in a fresh realisation before it
is reported (docs/derivations.md).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy as sp

from plproof.symbolic.model import (
    Assumptions,
    MatrixVar,
    Scalar,
    SmoothMap,
    Vector,
)
from plproof.symbolic.realise import (
    Realisation,
    Unsupported,
    build,
    is_matrix,
    size_names,
    to_scalar,
)

_POS = [1, 2, Fraction(1, 2), 3, Fraction(1, 3), Fraction(3, 2), 4, Fraction(1, 4), 10, Fraction(1, 10),
        Fraction(5, 2), Fraction(2, 3), 100, Fraction(1, 100)]
_ENTRY = [0, 1, -1, 2, -2, Fraction(1, 2), Fraction(-1, 2), 3, Fraction(-3, 2)]


@dataclass(frozen=True)
class Instance:
    """Sizes, polynomial maps (entries in w1..wM) and exact values of every free symbol."""

    sizes: tuple[tuple[str, int], ...]
    maps: tuple[tuple[str, tuple[str, ...]], ...]
    values: tuple[tuple[str, str], ...]

    def substitution(self, real: Realisation) -> dict[sp.Symbol, sp.Rational]:
        names = dict(self.values)
        out: dict[sp.Symbol, sp.Rational] = {}
        for v in real.ns.values():
            for s in _symbols_of(v):
                if s.name in names:
                    out[s] = sp.Rational(names[s.name])
        return out

    def to_json(self, keep: Callable[[str], bool] | None = None) -> dict[str, Any]:
        """The instance as JSON; ``keep(name)`` filters the values shown."""
        out: dict[str, Any] = {k: v for k, v in self.sizes}
        for name, entries in self.maps:
            out[name] = list(entries)
        out.update({k: v for k, v in self.values if keep is None or keep(k)})
        return out


def _symbols_of(v: Any) -> set[sp.Symbol]:
    if isinstance(v, sp.MatrixBase):
        return set().union(*(x.free_symbols for x in v)) if v else set()
    if isinstance(v, sp.Basic):
        return v.free_symbols
    return set()


def truth(lhs: Any, rel: str, rhs: Any) -> bool | None:
    """Whether a relation between exact values holds; None when a side is undefined."""
    if is_matrix(lhs) or is_matrix(rhs):
        if rel != "=":
            raise sp.ShapeError("inequality between matrices")
        a, b = sp.Matrix(lhs), sp.Matrix(rhs)
        if a.shape != b.shape:
            raise sp.ShapeError(f"shapes {a.shape} and {b.shape} differ")
        vals = [_num_sign(x) for x in (a - b)]
        return None if any(v is None for v in vals) else all(v == 0 for v in vals)
    a, b = to_scalar(lhs), to_scalar(rhs)
    a, b = (x.doit() if isinstance(x, sp.Basic) else x for x in (a, b))
    if rel != "=" and any(_complex(x) for x in (a, b)):
        return False
    s = _num_sign(sp.sympify(a - b))
    if s is None:
        return None
    return {"=": s == 0, "<=": s <= 0, ">=": s >= 0, "<": s < 0, ">": s > 0}[rel]


def _complex(x: sp.Expr) -> bool:
    if not x.is_number or x.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
        return False
    v = sp.N(x, 50)
    return abs(sp.im(v)) > sp.Float("1e-40", 50)


def _num_sign(x: sp.Expr) -> int | None:
    x = sp.sympify(x)
    if x.has(sp.Sum, sp.nan, sp.zoo, sp.Piecewise) or x.free_symbols:
        return None
    if x in (sp.oo, -sp.oo):
        return 1 if x == sp.oo else -1
    if x.is_zero:
        return 0
    v = sp.N(x, 60)
    if not v.is_number or abs(sp.im(v)) > sp.Float("1e-40", 60):
        return None
    v = sp.re(v)
    if abs(v) <= sp.Float("1e-40", 60):
        return 0 if sp.nsimplify(x) == 0 else None
    return 1 if v > 0 else -1


class Sampler:
    """Draws instances for a derivation; ``evaluator(real, text)`` evaluates a statement there."""

    def __init__(self, assumptions: Assumptions, hypotheses: list[tuple[str, str, str]],
                 evaluator: Callable[[Realisation, str], Any], seed_text: str,
                 cache: dict[tuple, Realisation] | None = None) -> None:
        self.a = assumptions
        self.hyps = hypotheses
        self.evaluator = evaluator
        self.rng = random.Random(zlib.crc32(seed_text.encode()))
        self._reals: dict[tuple, Realisation] = {} if cache is None else cache

    def _sizes(self) -> dict[str, int]:
        if self.a.sizes:
            return dict(self.a.sizes)
        names = size_names(self.a)
        return {d: self.rng.choice([1, 1, 2, 2, 2, 3]) for d in names}

    def _poly(self, m: int, r: random.Random) -> str:
        terms = [f"({r.randint(-2, 2)})*w{j + 1}" for j in range(m)]
        if r.random() < 0.6:
            terms.append(f"({r.randint(-2, 2)})*w1**2")
        if r.random() < 0.4:
            terms.append(f"({r.randint(-1, 1)})*w1*w{m}")
        terms.append(str(r.randint(-1, 1)))
        return " + ".join(terms)

    def realisation(self, sizes: dict[str, int], maps: dict[str, tuple[str, ...]]) -> Realisation:
        key = (tuple(sorted(sizes.items())), tuple(sorted(maps.items())))
        if key not in self._reals:
            self._reals[key] = build(self.a, "instance", sizes, maps)
        return self._reals[key]

    def draw(self) -> tuple[Instance, Realisation]:
        sizes = self._sizes()
        maps: dict[str, tuple[str, ...]] = {}
        pick = self.rng.randrange(4)  # one of four polynomial maps per size, so realisations are reused
        for o in self.a.objects:
            if isinstance(o, SmoothMap):
                m = sizes[o.dim_in] if isinstance(o.dim_in, str) else o.dim_in
                k = sizes[o.dim_out] if isinstance(o.dim_out, str) else o.dim_out
                r = random.Random(zlib.crc32(f"{sorted(sizes.items())}{pick}".encode()))
                maps[o.name] = tuple(self._poly(m, r) for _ in range(k))
        real = self.realisation(sizes, maps)
        values: dict[str, Any] = {}
        for o in self.a.objects:
            if isinstance(o, Scalar) and o.name not in sizes:
                values[o.name] = self._scalar(o)
            elif isinstance(o, (Vector, MatrixVar)):
                for s in sorted(_symbols_of(real.ns[o.name]), key=str):
                    values[s.name] = self.rng.choice(_ENTRY)
        inst = Instance(tuple(sorted(sizes.items())), tuple(sorted(maps.items())),
                        tuple((k, str(v)) for k, v in values.items()))
        inst = self._repair(inst, real)
        if self.hyps and self.rng.random() < 0.35:
            inst = self._to_boundary(inst, real)
        return inst, real

    def _repair(self, inst: Instance, real: Realisation) -> Instance:
        """Move a symbol ``x`` into ``x REL expr`` when a hypothesis of that form fails (in order)."""
        names = dict(inst.values)
        for lhs, rel, rhs in self.hyps:
            for var, other, r in ((lhs, rhs, rel), (rhs, lhs, {"<=": ">=", ">=": "<=", "<": ">", ">": "<"}.get(rel))):
                if var not in names or not var.isidentifier() or r not in ("<=", "<", ">=", ">"):
                    continue
                current = Instance(inst.sizes, inst.maps, tuple(names.items()))
                try:
                    val = sp.sympify(to_scalar(self.evaluator(real, other))).subs(current.substitution(real))
                    ok = truth(sp.Rational(names[var]), r, val)
                except Exception:  # noqa: BLE001 - a hypothesis that cannot be evaluated is left alone
                    break
                if ok or not (val.is_Rational and val > 0):
                    break
                factors = [1, sp.Rational(1, 2), sp.Rational(9, 10), sp.Rational(1, 10)] if r in ("<=", "<") \
                    else [1, 2, sp.Rational(11, 10), 10]
                f = self.rng.choice(factors[1:] if r in ("<", ">") else factors)
                names[var] = str(val * f)
                break
        return Instance(inst.sizes, inst.maps, tuple(names.items()))

    def _scalar(self, o: Scalar) -> Any:
        r = self.rng
        if o.integer:
            return r.choice([1, 2, 3, 4] if o.positive else [0, 1, 2, 3])
        if o.positive:
            return r.choice(_POS)
        if o.nonnegative:
            return 0 if r.random() < 0.3 else r.choice(_POS)
        return r.choice(_POS + [0, -1, -2, Fraction(-1, 2), Fraction(-3, 2)])

    def _to_boundary(self, inst: Instance, real: Realisation) -> Instance:
        """Move one symbol onto (or just inside) the boundary of a hypothesis ``x REL expr``."""
        lhs, _, rhs = self.rng.choice(self.hyps)
        names = dict(inst.values)
        for var, other in ((lhs, rhs), (rhs, lhs)):
            if var in names and var.isidentifier():
                try:
                    val = sp.sympify(to_scalar(self.evaluator(real, other))).subs(inst.substitution(real))
                except Exception:  # noqa: BLE001 - a boundary that cannot be evaluated is skipped
                    return inst
                if not (val.is_Rational and val != 0):
                    return inst
                factor = self.rng.choice([1, 1, sp.Rational(9, 10), sp.Rational(11, 10), sp.Rational(99, 100)])
                names[var] = str(val * factor)
                return Instance(inst.sizes, inst.maps, tuple(names.items()))
        return inst

    def satisfies(self, inst: Instance, real: Realisation) -> bool:
        names = dict(inst.values)
        for o in self.a.objects:
            if isinstance(o, Scalar) and o.name in names:
                v = sp.Rational(names[o.name])
                if (o.positive and v <= 0) or (o.nonnegative and v < 0) or (o.integer and not v.is_integer):
                    return False
        sub = inst.substitution(real)
        for lhs, rel, rhs in self.hyps:
            try:
                ok = truth(_at(self.evaluator(real, lhs), sub), rel, _at(self.evaluator(real, rhs), sub))
            except (Unsupported, sp.ShapeError, TypeError, ValueError, ZeroDivisionError):
                return False
            if not ok:
                return False
        return True

    def instances(self, count: int, tries: int | None = None) -> Iterator[tuple[Instance, Realisation]]:
        """Up to ``count`` instances satisfying the hypotheses, from at most ``tries`` draws."""
        limit = count * 6 if tries is None else tries
        tries = 0
        found = 0
        while found < count and tries < limit:
            tries += 1
            inst, real = self.draw()
            if self.satisfies(inst, real):
                found += 1
                yield inst, real


def _at(v: Any, sub: dict) -> Any:
    if isinstance(v, (sp.MatrixBase, sp.Basic)):
        out = v.subs(sub)
        return out.doit() if isinstance(out, sp.Basic) and out.has(sp.Sum) else out
    return v


def at(v: Any, inst: Instance, real: Realisation) -> Any:
    """A value evaluated at an instance's numbers."""
    return _at(v, inst.substitution(real))
