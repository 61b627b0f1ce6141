"""A small, sound sign prover for scalar inequalities under hypotheses (docs/derivations.md).

Goal: ``e >= 0`` (or ``e > 0``) given facts ``f_k >= 0`` (or ``> 0``) and the sign assumptions of
the symbols. Strategies, all exact: structural signs (products, sums and powers of known-sign
terms), facts matched up to a factor of known sign, factorisation, numerator/denominator split,
coefficient-wise signs of a polynomial in known-sign symbols, elimination of a symbol through a
fact linear in it (a fresh slack variable), squaring both sides of a comparison of non-negative
square roots, and a univariate rational function on an interval. Anything else is not proved:
the caller reports ``unverified`` unless a counterexample is found.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.polys.polyerrors import BasePolynomialError

from plproof.symbolic.realise import LambdaMax, LambdaMin, is_gram

_POLY_ERRORS = (BasePolynomialError, NotImplementedError, TypeError)


def scalar_symbols(e: sp.Expr) -> set[sp.Symbol]:
    """The commutative scalar symbols of ``e`` (matrix symbols inside λ_min are not variables)."""
    return {s for s in e.free_symbols if isinstance(s, sp.Symbol) and s.is_commutative}

#: a sign: (direction in {1, 0, -1}, strict). (1, True) > 0, (1, False) >= 0, (0, True) == 0.
Sign = tuple[int, bool]


@dataclass(frozen=True)
class Fact:
    """``expr >= 0`` (``expr > 0`` when strict), with where it came from."""

    expr: sp.Expr
    strict: bool = False
    label: str = ""


def fact_from_relation(lhs: sp.Expr, rel: str, rhs: sp.Expr, label: str = "") -> list[Fact]:
    """``lhs REL rhs`` as facts."""
    if rel in (">=", ">"):
        return [Fact(sp.sympify(lhs - rhs), rel == ">", label)]
    if rel in ("<=", "<"):
        return [Fact(sp.sympify(rhs - lhs), rel == "<", label)]
    if rel == "=":
        return [Fact(sp.sympify(lhs - rhs), False, label), Fact(sp.sympify(rhs - lhs), False, label)]
    return []


def _mul(a: Sign | None, b: Sign | None) -> Sign | None:
    if a is None or b is None:
        return None
    if a == (0, True) or b == (0, True):
        return (0, True)
    return (a[0] * b[0], a[1] and b[1])


def _add(signs: Sequence[Sign | None]) -> Sign | None:
    if any(s is None for s in signs):
        return None
    nz = [s for s in signs if s != (0, True)]
    if not nz:
        return (0, True)
    if all(s[0] == 1 for s in nz):
        return (1, any(s[1] for s in nz))
    if all(s[0] == -1 for s in nz):
        return (-1, any(s[1] for s in nz))
    return None


class Prover:
    """Proves ``e >= 0`` / ``e > 0`` from facts; ``budget`` caps the search."""

    def __init__(self, facts: Iterable[Fact] = (), budget: int = 60) -> None:
        self._frozen: dict[sp.Expr, sp.Symbol] = {}
        self._keys: dict[sp.Expr, tuple[sp.Expr, sp.Expr]] = {}
        self.facts = [Fact(self.freeze(f.expr), f.strict, f.label) for f in facts
                      if f.expr is not None and not f.expr.has(sp.nan, sp.zoo)]
        self.budget = budget
        self.used = False

    def freeze(self, e: sp.Expr) -> sp.Expr:
        """Replace λ_min(A)/λ_max(A) by plain symbols (non-negative when A = B B^T)."""
        e = sp.sympify(e)
        lams = e.atoms(LambdaMin, LambdaMax)
        if not lams:
            return e
        for lam in lams:
            if lam not in self._frozen:
                kw = {"nonnegative": True} if is_gram(lam.args[0]) else {}
                self._frozen[lam] = sp.Symbol(f"{type(lam).__name__}[{lam.args[0]}]", real=True, **kw)
        return e.xreplace(self._frozen)

    # ---- structural signs -------------------------------------------------
    def sign(self, e: sp.Expr, facts: Sequence[Fact] = (), lookup: bool = True) -> Sign | None:
        e = sp.sympify(e)
        if e.is_number:
            return self._number_sign(e)
        if lookup and (e.is_Symbol or e.is_Add and _small(e)):
            s = self._lookup(e, facts)
            if s is not None:
                return s
        if e.is_Symbol:
            if e.is_positive:
                return (1, True)
            if e.is_nonnegative:
                return (1, False)
            if e.is_negative:
                return (-1, True)
            if e.is_nonpositive:
                return (-1, False)
            return None
        if e.is_Mul:
            out: Sign | None = (1, True)
            for a in e.args:
                out = _mul(out, self.sign(a, facts, lookup))
                if out is None:
                    return None
            return out
        if e.is_Add:
            out = _add([self.sign(a, facts, lookup) for a in e.args])
            if out is None and e.is_nonnegative:
                return (1, bool(e.is_positive))
            return out
        if e.is_Pow:
            b, x = e.args
            sb = self.sign(b, facts, lookup)
            if x.is_integer and x.is_even:
                return (1, bool(sb and sb[0] != 0 and sb[1]))
            if x.is_integer and x.is_odd:
                if sb is None or (x.is_negative and not sb[1]):
                    return None
                return sb
            if sb is None or sb[0] < 0 or (x.is_negative and not sb[1]):
                return None
            if sb == (0, True):
                return (0, True) if x.is_positive else None
            return (1, sb[1])
        if isinstance(e, sp.Abs):
            si = self.sign(e.args[0], facts, lookup)
            return (1, bool(si and si[0] != 0 and si[1]))
        if isinstance(e, sp.exp):
            return (1, True)
        if isinstance(e, (LambdaMin, LambdaMax)) and is_gram(e.args[0]):
            return (1, False)
        if isinstance(e, sp.Sum):
            s = self.sign(e.function, facts, lookup)
            return s if s is not None and s[0] >= 0 else None
        if e.is_nonnegative:
            return (1, bool(e.is_positive))
        if e.is_nonpositive:
            return (-1, bool(e.is_negative))
        return None

    def _number_sign(self, e: sp.Expr) -> Sign | None:
        if e.is_zero:
            return (0, True)
        if e.is_positive:
            return (1, True)
        if e.is_negative:
            return (-1, True)
        v = e.evalf(60)
        if v.is_real and abs(v) > sp.Float("1e-40", 60):
            return (1, True) if v > 0 else (-1, True)
        return None

    def _key(self, e: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
        """``e = scale * key`` with ``key`` a primitive polynomial (positive leading coefficient)."""
        if e not in self._keys:
            num, den = sp.fraction(sp.together(e))
            num = sp.expand(num)
            try:
                p = sp.Poly(num)
                monom, p = p.terms_gcd()
                c, prim = p.primitive()
                if prim.LC().is_negative:
                    c, prim = -c, -prim
                mono = sp.Mul(*[g ** k for g, k in zip(prim.gens, monom)])
                key = prim.as_expr()
                lead = key.as_ordered_terms()[0].as_independent(*key.free_symbols)[0] if key.is_Add else 1
                self._keys[e] = (sp.expand(key / lead), c * mono * lead / den)
            except _POLY_ERRORS + (sp.GeneratorsNeeded, ValueError):
                self._keys[e] = (num, 1 / den)
        return self._keys[e]

    def _lookup(self, e: sp.Expr, facts: Sequence[Fact]) -> Sign | None:
        fs = e.free_symbols
        key = None
        for f in facts:
            if not f.expr.free_symbols & fs or not _small(f.expr):
                continue
            key = key or self._key(e)
            fkey = self._key(f.expr)
            if fkey[0] != key[0]:
                continue
            ratio = key[1] / fkey[1]
            rs = self.sign(ratio, (), lookup=False) if ratio.free_symbols else self._number_sign(ratio)
            if rs is not None and rs[0] != 0 and rs[1]:
                self.used = True
                return (rs[0], f.strict)
        return None

    # ---- the search -------------------------------------------------------
    def nonneg(self, e: sp.Expr, strict: bool = False, depth: int = 2) -> bool:
        """True if ``e >= 0`` (``e > 0`` when strict) is proved; ``depth`` bounds eliminations."""
        return self._prove(self.freeze(e), strict, list(self.facts), depth=depth)

    def _ok(self, s: Sign | None, strict: bool) -> bool:
        return s is not None and (s[0] == 1 and (s[1] or not strict) or s == (0, True) and not strict)

    def _prove(self, e: sp.Expr, strict: bool, facts: list[Fact], depth: int) -> bool:
        self.budget -= 1
        if self.budget < 0:
            return False
        e = self._drop_abs(e, facts)
        if self._ok(self.sign(e, facts), strict):
            return True
        num, den = sp.fraction(sp.together(e))
        sd = self.sign(den, facts)
        if sd is None:
            sd = self.sign(sp.factor(den), facts)
        if sd is None or sd[0] == 0 or not sd[1]:
            return False
        if sd[0] < 0:
            num = -num
        if num.is_number:
            return self._ok(self._number_sign(num), strict)
        for form in self._forms(num):
            if self._ok(self.sign(form, facts), strict):
                return True
            if form.is_Mul and depth > 0 and self._ok(self._mul_sign(form, facts, depth), strict):
                return True
        if self._coefficientwise(num, strict, facts):
            return True
        if self._square_split(num, strict, facts, depth):
            return True
        if self._univariate(num, strict, facts):
            return True
        if depth > 0:
            return self._eliminate(num, strict, facts, depth)
        return False

    def _mul_sign(self, form: sp.Expr, facts: list[Fact], depth: int) -> Sign | None:
        """Sign of a product, proving the sign of each stubborn factor by a sub-search."""
        out: Sign | None = (1, True)
        for a in form.args:
            s = self.sign(a, facts)
            if s is None:
                if self._prove(a, True, facts, depth - 1):
                    s = (1, True)
                elif self._prove(a, False, facts, depth - 1):
                    s = (1, False)
                elif self._prove(-a, False, facts, depth - 1):
                    s = (-1, False)
            out = _mul(out, s)
            if out is None:
                return None
        return out

    def _square_split(self, num: sp.Expr, strict: bool, facts: list[Fact], depth: int) -> bool:
        """P - N with P, N >= 0 built from roots: prove P^2 - N^2 >= 0 instead."""
        if not (num.is_Add and _has_root(num)) or depth < 0:
            return False
        pos, neg = [], []
        for term in num.args:
            s = self.sign(term, facts)
            if s is None:
                return False
            (pos if s[0] >= 0 else neg).append(term)
        if not pos or not neg:
            return False
        P, N = sp.Add(*pos), -sp.Add(*neg)
        return self._prove(sp.expand(P ** 2 - N ** 2), strict, facts, depth - 1)

    def _forms(self, num: sp.Expr) -> list[sp.Expr]:
        out = [num]
        try:
            f = sp.factor(num)
            if f != num:
                out.append(f)
        except _POLY_ERRORS:
            pass
        x = sp.expand(num)
        if x != num:
            out.append(x)
        return out

    def _drop_abs(self, e: sp.Expr, facts: Sequence[Fact]) -> sp.Expr:
        if not e.has(sp.Abs):
            return e

        def repl(a: sp.Abs) -> sp.Expr:
            s = self.sign(a.args[0], facts)
            if s is not None and s[0] >= 0:
                return a.args[0]
            if s is not None and s[0] <= 0:
                return -a.args[0]
            return a
        return e.replace(lambda x: isinstance(x, sp.Abs), repl)

    def _coefficientwise(self, num: sp.Expr, strict: bool, facts: Sequence[Fact]) -> bool:
        """A polynomial in known-sign symbols whose coefficients have known signs (trying subsets
        of those symbols as generators, so that a coefficient may itself be a fact)."""
        known = sorted((s for s in scalar_symbols(num) if self.sign(s, (), lookup=False) is not None), key=str)
        if not known:
            return False
        expanded = sp.expand(num)
        subsets = [list(c) for k in range(len(known), 0, -1) for c in itertools.combinations(known, k)][:16]
        for gens in subsets:
            try:
                poly = sp.Poly(expanded, *gens)
            except _POLY_ERRORS:
                continue
            signs: list[Sign | None] = []
            for monom, coeff in poly.terms():
                s = self.sign(coeff, facts)
                if s is None and coeff.is_Add:
                    s = self.sign(sp.factor(coeff), facts)
                for g, k in zip(gens, monom):
                    if k:
                        s = _mul(s, self.sign(g ** k, (), lookup=False))
                signs.append(s)
                if s is None:
                    break
            if self._ok(_add(signs), strict):
                return True
        return False

    def _interval(self, x: sp.Symbol, facts: Sequence[Fact]) -> tuple[sp.Expr, bool, sp.Expr, bool]:
        lo, lo_open, hi, hi_open = -sp.oo, True, sp.oo, True
        if x.is_positive:
            lo, lo_open = sp.Integer(0), True
        elif x.is_nonnegative:
            lo, lo_open = sp.Integer(0), False
        for f in facts:
            if f.expr.free_symbols != {x}:
                continue
            try:
                p = sp.Poly(f.expr, x)
            except _POLY_ERRORS:
                continue
            if p.degree() != 1:
                continue
            a, b = p.all_coeffs()
            bound = -b / a
            if a > 0 and (bound > lo or bound == lo and f.strict):
                lo, lo_open = bound, f.strict
            elif a < 0 and (bound < hi or bound == hi and f.strict):
                hi, hi_open = bound, f.strict
        return lo, lo_open, hi, hi_open

    def _univariate(self, num: sp.Expr, strict: bool, facts: Sequence[Fact]) -> bool:
        syms = num.free_symbols
        if len(syms) != 1 or scalar_symbols(num) != syms:
            return False
        x = next(iter(syms))
        if not num.is_polynomial(x):
            return False
        lo, lo_open, hi, hi_open = self._interval(x, facts)
        dom = sp.Interval(lo, hi, lo_open, hi_open)
        try:
            sol = sp.solve_univariate_inequality(num > 0 if strict else num >= 0, x, relational=False,
                                                 domain=sp.S.Reals)
        except (NotImplementedError, ValueError, TypeError):
            return False
        return bool(dom.is_subset(sol))

    def _eliminate(self, num: sp.Expr, strict: bool, facts: list[Fact], depth: int) -> bool:
        syms = scalar_symbols(num)
        for f in sorted(facts, key=lambda g: len(scalar_symbols(g.expr) - syms)):
            shared = scalar_symbols(f.expr) & syms
            if not shared:
                continue
            fn, fd = sp.fraction(sp.together(f.expr))
            sd = self.sign(fd, ())
            if sd is None or sd[0] == 0 or not sd[1]:
                continue
            fn = fn * sd[0]
            for x in sorted(shared, key=str):
                try:
                    p = sp.Poly(fn, x)
                except _POLY_ERRORS:
                    continue
                if p.degree() != 1:
                    continue
                a, b = p.all_coeffs()
                sa = self.sign(a, facts)
                if sa is None or sa[0] == 0 or not sa[1]:
                    continue
                slack = sp.Dummy("s", positive=True) if f.strict else sp.Dummy("s", nonnegative=True)
                value = (slack - b) / a
                new_facts = [Fact(g.expr.subs(x, value), g.strict, g.label) for g in facts if g is not f]
                sx = self.sign(x, (), lookup=False)
                if sx is not None and sx[0] != 0:
                    new_facts.append(Fact(sx[0] * value, sx[1], f"sign of {x}"))
                if self._prove(num.subs(x, value), strict, new_facts, depth - 1):
                    self.used = True
                    return True
                if self.budget < 0:
                    return False
        return False

    # ---- relations ----------------------------------------------------------
    def relation(self, lhs: sp.Expr, rel: str, rhs: sp.Expr) -> bool:
        """Prove ``lhs REL rhs`` for REL in <=, <, >=, >."""
        lhs, rhs = self.freeze(lhs), self.freeze(rhs)
        if rel in ("<=", "<"):
            lhs, rhs, rel = rhs, lhs, {"<=": ">=", "<": ">"}[rel]
        strict = rel == ">"
        if self.nonneg(lhs - rhs, strict):
            return True
        if (_has_root(lhs) or _has_root(rhs)) and self.nonneg(rhs) and self.nonneg(lhs):
            return self.nonneg(sp.expand(lhs ** 2) - sp.expand(rhs ** 2), strict)
        return False


def _small(e: sp.Expr, limit: int = 60) -> bool:
    """Whether ``e`` has at most ``limit`` nodes (fact matching is skipped for large ones)."""
    for count, _ in enumerate(sp.preorder_traversal(e)):
        if count >= limit:
            return False
    return True


def _has_root(e: sp.Expr) -> bool:
    return any(p.exp.is_Rational and not p.exp.is_integer for p in sp.sympify(e).atoms(sp.Pow))


def domain_obligations(e: sp.Expr) -> list[tuple[sp.Expr, str]]:
    """Conditions for ``e`` to be a real number: ``(expr, kind)`` with kind "nonneg" (a radicand),
    "pos" (a log argument or a radicand under a negative power) or "nonzero" (a denominator)."""
    out: list[tuple[sp.Expr, str]] = []
    for p in sp.sympify(e).atoms(sp.Pow):
        b, x = p.args
        if b.is_number and x.is_number:
            continue
        if x.is_Rational and not x.is_integer:
            out.append((b, "pos" if x.is_negative else "nonneg"))
        elif x.is_negative:
            out.append((b, "nonzero"))
    for g in sp.sympify(e).atoms(sp.log):
        out.append((g.args[0], "pos"))
    return out


def prove_domain(prover: Prover, expr: sp.Expr, kind: str) -> bool:
    """Prove one domain obligation (see :func:`domain_obligations`)."""
    if kind == "nonneg":
        return prover.nonneg(expr)
    if kind == "pos":
        return prover.nonneg(expr, strict=True)
    return prover.relation(expr, ">", sp.Integer(0)) or prover.relation(sp.Integer(0), ">", expr)
