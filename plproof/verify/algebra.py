"""Exact real numbers for re-checking derivations: Q(sqrt a_1, ..., sqrt a_k), dual numbers, degree bounds, matrices.

A :class:`Quad` is sum_m c_m sqrt(m) with rational c_m and positive integers m reduced over a coprime base
(pairwise coprime, none a square), so distinct m lie in distinct square classes and are linearly independent
over Q (Besicovitch): the value is 0 iff no term is left, and its sign is found by bounding each sqrt(m).
:class:`Dual` carries first derivatives (forward mode, components of any kind, so nesting gives Hessians).
:class:`Deg` evaluates the same formulas on degree bounds: a value A/B with deg A <= n, deg B <= d, in the
random inputs and the square roots ``roots`` (docs/rigor.md, derivation certificates).
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from math import gcd, isqrt
from typing import Any


class NotExact(Exception):
    """A value outside the field: a root of an irrational number, an eigenvalue of a matrix above 2 x 2."""


class Undefined(Exception):
    """No value: a division by zero or a divergent series."""


class NotReal(Undefined):
    """The square root of a negative number."""


class ShapeMismatch(Exception):
    """Matrices of incompatible shapes, or a matrix where a scalar is needed."""


def _base(ms: Any) -> list[int]:
    """A coprime base of the integers ms (gcd refinement, no factoring), each element made a non-square."""
    base, todo = [], [m for m in ms if m > 1]
    while todo:
        x = todo.pop()
        for i, b in enumerate(base):
            if (g := gcd(x, b)) > 1:
                del base[i]
                todo += [v for v in (g, b // g, x // g) if v > 1]
                break
        else:
            base.append(x)
    for i, b in enumerate(base):
        while isqrt(b) ** 2 == b:
            b = isqrt(b)
        base[i] = b
    return base


class Quad:
    """sum of c * sqrt(m) over ``terms`` {m: c}, canonical (see the module docstring), never rational."""

    def __init__(self, terms: dict[int, Fraction]) -> None:
        self.t = terms

    @staticmethod
    def make(terms: dict[int, Fraction]) -> Fraction | Quad:
        base, out = _base(terms), {}
        for m, c in terms.items():
            key = 1
            for b in base:
                e = 0
                while m % b == 0:
                    m, e = m // b, e + 1
                c, key = c * b ** (e // 2), key * b ** (e % 2)
            out[key] = out.get(key, 0) + c
        out = {k: c for k, c in out.items() if c}
        return Quad(out) if set(out) - {1} else Fraction(out.get(1, 0))

    def __add__(self, o: Any) -> Any:
        if not isinstance(o, (int, Fraction, Quad)):
            return NotImplemented
        t = dict(self.t)
        for m, c in _terms(o).items():
            t[m] = t.get(m, 0) + c
        return Quad.make(t)

    def __mul__(self, o: Any) -> Any:
        if not isinstance(o, (int, Fraction, Quad)):
            return NotImplemented
        t: dict[int, Fraction] = {}
        for (m1, c1), (m2, c2) in itertools.product(self.t.items(), _terms(o).items()):
            g = gcd(m1, m2)
            t[m1 // g * (m2 // g)] = t.get(m1 // g * (m2 // g), 0) + c1 * c2 * g
        return Quad.make(t)

    __radd__, __rmul__ = __add__, __mul__

    def __neg__(self) -> Quad:
        return Quad({m: -c for m, c in self.t.items()})

    def __sub__(self, o: Any) -> Any:
        return self + -o if isinstance(o, (int, Fraction, Quad)) else NotImplemented

    def __rsub__(self, o: Any) -> Any:
        return -self + o

    def inverse(self) -> Fraction | Quad:
        """1/x = (u - v sqrt b)/(u^2 - b v^2) with x = u + v sqrt b, u and v free of b; recursively."""
        b = _base(self.t)[0]
        u = Quad.make({m: c for m, c in self.t.items() if m % b} or {1: Fraction(0)})
        v = Quad.make({m // b: c for m, c in self.t.items() if m % b == 0})
        return (u - v * sqrt(b)) * inverse(u * u - v * v * b)

    def __truediv__(self, o: Any) -> Any:
        return self * inverse(o) if isinstance(o, (int, Fraction, Quad)) else NotImplemented

    def __rtruediv__(self, o: Any) -> Any:
        return o * self.inverse()

    def __repr__(self) -> str:
        return " + ".join(f"{c}*sqrt({m})" if m > 1 else str(c) for m, c in sorted(self.t.items()))


def _terms(x: int | Fraction | Quad) -> dict[int, Fraction]:
    return x.t if isinstance(x, Quad) else {1: Fraction(x)}


def inverse(x: Any) -> Any:
    if isinstance(x, Quad):
        return x.inverse()
    return 1 / x if isinstance(x, (Dual, Deg)) else Fraction(1) / x


def bounds(x: Fraction | Quad, bits: int) -> tuple[Fraction, Fraction]:
    """Rationals lo <= x <= hi, each sqrt(m) rounded to 2^-bits."""
    lo = hi = Fraction(0)
    for m, c in _terms(x).items():
        r = isqrt(m << 2 * bits)
        a, b = Fraction(r, 1 << bits), Fraction(r + (r * r != m << 2 * bits), 1 << bits)
        lo, hi = lo + min(c * a, c * b), hi + max(c * a, c * b)
    return lo, hi


def sign(x: Any) -> int:
    """-1, 0 or 1, exactly (a nonzero Quad is bounded away from 0 at a fine enough grid)."""
    if isinstance(x, (int, Fraction)):
        return (x > 0) - (x < 0)
    if not isinstance(x, Quad):
        raise NotExact("the sign of a symbolic value")
    bits = 32
    while True:
        lo, hi = bounds(x, bits)
        if lo > 0 or hi < 0:
            return 1 if lo > 0 else -1
        bits *= 2


def sqrt(x: Any) -> Any:
    """The non-negative square root; NotReal below 0, NotExact for a root of an irrational."""
    if isinstance(x, (Dual, Deg)):
        return x.sqrt()
    if isinstance(x, Quad):
        raise NotExact("a nested square root")
    x = Fraction(x)
    if x < 0:
        raise NotReal(f"sqrt({x})")
    return Quad.make({x.numerator * x.denominator: Fraction(1, x.denominator)}) if x else x


def power(x: Any, k: Any) -> Any:
    """x**k for an integer or half-integer k (x**(p/2) = sqrt(x)**p), by repeated squaring."""
    if not isinstance(k, (int, Fraction)) or Fraction(k).denominator not in (1, 2):
        raise NotExact("a power with an exponent that is not an integer or a half-integer")
    k = Fraction(k)
    if k.denominator == 2:
        x, k = sqrt(x), 2 * k
    if k < 0:
        x, k = inverse(x), -k
    out: Any = Fraction(1)
    for bit in bin(int(k))[2:]:
        out = out * out * x if bit == "1" else out * out
    return out


class Dual:
    """a + sum_i d_i e_i with e_i e_j = 0: the value and its gradient in the seeded direction(s)."""

    def __init__(self, a: Any, d: list) -> None:
        self.a, self.d = a, d

    def _lift(self, o: Any) -> Dual | None:
        if isinstance(o, Dual):
            return o
        return Dual(o, [0] * len(self.d)) if isinstance(o, (int, Fraction, Quad, Deg)) else None

    def __add__(self, o: Any) -> Any:
        if (o := self._lift(o)) is None:
            return NotImplemented
        return Dual(self.a + o.a, [x + y for x, y in zip(self.d, o.d)])

    def __mul__(self, o: Any) -> Any:
        if (o := self._lift(o)) is None:
            return NotImplemented
        return Dual(self.a * o.a, [x * o.a + self.a * y for x, y in zip(self.d, o.d)])

    __radd__, __rmul__ = __add__, __mul__

    def __neg__(self) -> Dual:
        return Dual(-self.a, [-x for x in self.d])

    def __sub__(self, o: Any) -> Any:
        return self + -o if self._lift(o) is not None else NotImplemented

    def __rsub__(self, o: Any) -> Any:
        return -self + o

    def __truediv__(self, o: Any) -> Any:
        if (o := self._lift(o)) is None:
            return NotImplemented
        inv = inverse(o.a)
        return self * Dual(inv, [-y * inv * inv for y in o.d])

    def __rtruediv__(self, o: Any) -> Any:
        return self._lift(o) / self

    def sqrt(self) -> Dual:
        s = sqrt(self.a)
        return Dual(s, [x / (2 * s) for x in self.d])


_ids = itertools.count()


class Deg:
    """A value A/B of the random inputs and the square roots ``roots``: deg A <= n, deg B <= d, a root of
    weight ceil(deg of its radicand / 2). Constants have degree 0; comparisons are never made on a Deg."""

    def __init__(self, n: int, d: int = 0, roots: frozenset = frozenset()) -> None:
        self.n, self.d, self.roots = n, d, roots

    @staticmethod
    def of(o: Any) -> Deg | None:
        return o if isinstance(o, Deg) else Deg(0) if isinstance(o, (int, Fraction, Quad)) else None

    def __add__(self, o: Any) -> Any:
        if (o := Deg.of(o)) is None:
            return NotImplemented
        return Deg(max(self.n + o.d, o.n + self.d), self.d + o.d, self.roots | o.roots)

    def __mul__(self, o: Any) -> Any:
        if (o := Deg.of(o)) is None:
            return NotImplemented
        return Deg(self.n + o.n, self.d + o.d, self.roots | o.roots)

    def __truediv__(self, o: Any) -> Any:
        if (o := Deg.of(o)) is None:
            return NotImplemented
        return Deg(self.n + o.d, self.d + o.n, self.roots | o.roots)

    __radd__, __sub__, __rsub__, __rmul__ = __add__, __add__, __add__, __mul__

    def __rtruediv__(self, o: Any) -> Any:
        return Deg.of(o) / self

    def __neg__(self) -> Deg:
        return self

    def sqrt(self) -> Deg:
        """sqrt(A/B) = sqrt(AB)/B: one new root of radicand degree n + d."""
        return Deg(-(-(self.n + self.d) // 2), self.d, self.roots | {next(_ids)})

    def bound(self) -> int:
        """A bound on the degree of the norm of A (the product of its conjugates over the roots)."""
        return 2 ** len(self.roots) * self.n


class Mat:
    """A matrix of numbers (any of the kinds above); a 1 x 1 matrix combines with scalars as its entry."""

    def __init__(self, rows: list[list]) -> None:
        self.rows, self.shape = rows, (len(rows), len(rows[0]))

    def entries(self) -> list:
        return [x for row in self.rows for x in row]

    @property
    def T(self) -> Mat:
        return Mat([list(col) for col in zip(*self.rows)])

    def _zip(self, o: Any, f: Any) -> Any:
        if not isinstance(o, Mat):
            return f(scalar(self), o)
        if o.shape != self.shape:
            raise ShapeMismatch(f"shapes {self.shape} and {o.shape}")
        return Mat([[f(a, b) for a, b in zip(r, s)] for r, s in zip(self.rows, o.rows)])

    def __add__(self, o: Any) -> Any:
        return self._zip(o, lambda a, b: a + b)

    def __sub__(self, o: Any) -> Any:
        return self._zip(o, lambda a, b: a - b)

    def __radd__(self, o: Any) -> Any:
        return o + scalar(self)

    def __rsub__(self, o: Any) -> Any:
        return o - scalar(self)

    def __neg__(self) -> Mat:
        return Mat([[-x for x in r] for r in self.rows])

    def __mul__(self, o: Any) -> Mat:
        if not isinstance(o, Mat):
            return Mat([[x * o for x in r] for r in self.rows])
        if self.shape[1] != o.shape[0]:
            raise ShapeMismatch(f"product of shapes {self.shape} and {o.shape}")
        return Mat([[sum((a * b for a, b in zip(r, c)), Fraction(0)) for c in zip(*o.rows)] for r in self.rows])

    def __rmul__(self, o: Any) -> Mat:
        return self * o

    def __truediv__(self, o: Any) -> Mat:
        return self * inverse(scalar(o))

    def __rtruediv__(self, o: Any) -> Any:
        return o / scalar(self)

    def det(self) -> Any:
        """Laplace expansion (no division, so also valid on Deg); up to 6 x 6."""
        n = self.shape[0]
        if self.shape[1] != n or n > 6:
            raise ShapeMismatch(f"determinant of shape {self.shape}") if self.shape[1] != n else NotExact("det above 6x6")
        if n == 1:
            return self.rows[0][0]
        return sum((power(-1, j) * self.rows[0][j] * self.minor(0, j).det() for j in range(n)), Fraction(0))

    def minor(self, i: int, j: int) -> Mat:
        return Mat([r[:j] + r[j + 1:] for k, r in enumerate(self.rows) if k != i])

    def inv(self) -> Mat:
        n, det = self.shape[0], self.det()
        if n == 1:
            return Mat([[inverse(det)]])
        return Mat([[power(-1, i + j) * self.minor(j, i).det() / det for j in range(n)] for i in range(n)])


def scalar(x: Any) -> Any:
    """A 1 x 1 matrix as its entry; a larger matrix is not a scalar."""
    if isinstance(x, Mat):
        if x.shape != (1, 1):
            raise ShapeMismatch(f"a {x.shape[0]} x {x.shape[1]} matrix used as a scalar")
        return x.rows[0][0]
    return x


def eigen(a: Mat, which: int) -> Any:
    """lambda_min (which=-1) or lambda_max (+1) of a symmetric matrix up to 2 x 2, exactly."""
    if a.shape[0] != a.shape[1]:
        raise ShapeMismatch(f"eigenvalue of a {a.shape} matrix")
    if a.shape[0] > 2:
        raise NotExact("an eigenvalue of a matrix larger than 2 x 2")
    if a.shape[0] == 1:
        return a.rows[0][0]
    (p, q), (r, s) = a.rows
    if not isinstance(q - r, Deg) and (isinstance(q - r, Dual) or sign(q - r)):
        raise Undefined("an eigenvalue of a matrix that is not symmetric")
    return (p + s) / 2 + which * sqrt((p - s) * (p - s) / 4 + q * r)
