"""Exact numbers for re-checking derivations: Q(sqrt a_1, ..., sqrt a_k), dual numbers, degree bounds, matrices.

A :class:`Quad` is sum_m c_m sqrt(m), c_m rational, m positive integers written over a coprime base (pairwise
coprime, none a square), so distinct m lie in distinct square classes and their roots are linearly independent
over Q (Besicovitch): the value is 0 iff no term is left; its sign comes from bounding each sqrt(m).
A :class:`Dual` carries first derivatives (nested, second ones). A :class:`Deg` runs the same formulas on
degree bounds (docs/rigor.md, "Derivation certificates: the independent re-check").
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from math import gcd, isqrt
from typing import Any

MAX_POWER, MAX_BITS = 256, 1 << 22  # larger exponents, and powers of larger size in bits, are not evaluated


class NotExact(Exception):
    """No exact value here: a root of an irrational, an eigenvalue above 2 x 2, a huge or symbolic exponent."""


class Undefined(Exception):
    """No value: a division by zero or a divergent series."""


class NotReal(Undefined):
    """The square root of a negative number."""


class ShapeMismatch(Exception):
    """Matrices of incompatible shapes, or a matrix where a scalar is needed."""


class Num:
    """Subtraction and division from +, *, negation and ``inverse``; ``_of`` returns None for other types."""

    def __radd__(self, o: Any) -> Any:
        return self + o

    def __rmul__(self, o: Any) -> Any:
        return self * o

    def __sub__(self, o: Any) -> Any:
        return self + -o if self._of(o) is not None else NotImplemented

    def __rsub__(self, o: Any) -> Any:
        return -self + o

    def __truediv__(self, o: Any) -> Any:
        return self * inverse(o) if self._of(o) is not None else NotImplemented

    def __rtruediv__(self, o: Any) -> Any:
        return o * self.inverse()


def _base(ms: Any) -> list[int]:
    """A coprime base of the integers ms by gcd refinement (no factoring), each element then made a non-square."""
    base, todo = [], [m for m in ms if m > 1]
    while todo:
        x = todo.pop()
        i = next((i for i, b in enumerate(base) if gcd(x, b) > 1), None)
        if i is None:
            base.append(x)
        else:
            b = base.pop(i)
            todo += [v for v in (gcd(x, b), b // gcd(x, b), x // gcd(x, b)) if v > 1]
    for i, b in enumerate(base):
        while isqrt(b) ** 2 == b:
            base[i] = b = isqrt(b)
    return base


class Quad(Num):
    """sum of c * sqrt(m) over ``t`` = {m: c}, canonical, never rational (then it is a Fraction)."""

    def __init__(self, t: dict[int, Fraction]) -> None:
        self.t = t

    @staticmethod
    def make(t: dict[int, Fraction]) -> Fraction | Quad:
        base, out = _base(t), {}
        for m, c in t.items():
            key = 1
            for b in base:
                e = 0
                while m % b == 0:
                    m, e = m // b, e + 1
                c, key = c * b ** (e // 2), key * b ** (e % 2)
            out[key] = out.get(key, 0) + c
        out = {k: c for k, c in out.items() if c}
        return Quad(out) if set(out) - {1} else Fraction(out.get(1, 0))

    @staticmethod
    def _of(o: Any) -> dict | None:
        return o.t if isinstance(o, Quad) else {1: Fraction(o)} if isinstance(o, (int, Fraction)) else None

    def __add__(self, o: Any) -> Any:
        if (u := self._of(o)) is None:
            return NotImplemented
        return Quad.make({m: self.t.get(m, 0) + u.get(m, 0) for m in self.t.keys() | u.keys()})

    def __mul__(self, o: Any) -> Any:
        if (u := self._of(o)) is None:
            return NotImplemented
        t: dict[int, Fraction] = {}
        for (m1, c1), (m2, c2) in itertools.product(self.t.items(), u.items()):
            g = gcd(m1, m2)
            t[m1 * m2 // g // g] = t.get(m1 * m2 // g // g, 0) + c1 * c2 * g
        return Quad.make(t)

    def __neg__(self) -> Quad:
        return Quad({m: -c for m, c in self.t.items()})

    def inverse(self) -> Fraction | Quad:
        """1/x = (u - v sqrt b)/(u^2 - b v^2) for x = u + v sqrt b, u and v free of b; recursively."""
        b = _base(self.t)[0]
        u = Quad.make({m: c for m, c in self.t.items() if m % b} or {1: Fraction(0)})
        v = Quad.make({m // b: c for m, c in self.t.items() if m % b == 0})
        return (u - v * sqrt(b)) * inverse(u * u - v * v * b)


def inverse(x: Any) -> Any:
    return x.inverse() if isinstance(x, Num) else Fraction(1) / x


def bounds(x: Fraction | Quad, bits: int) -> tuple[Fraction, Fraction]:
    """Rationals lo <= x <= hi, each sqrt(m) rounded to the grid 2^-bits."""
    lo = hi = Fraction(0)
    for m, c in Quad._of(x).items():
        r = isqrt(m << 2 * bits)
        ends = (c * Fraction(r, 1 << bits), c * Fraction(r + (r * r != m << 2 * bits), 1 << bits))
        lo, hi = lo + min(ends), hi + max(ends)
    return lo, hi


def sign(x: Any) -> int:
    """-1, 0 or 1, exactly: a nonzero Quad is bounded away from 0 on a fine enough grid."""
    if isinstance(x, (int, Fraction)):
        return (x > 0) - (x < 0)
    if not isinstance(x, Quad):
        raise NotExact("the sign of a derivative or of a symbolic value")
    bits = 32
    while (b := bounds(x, bits))[0] <= 0 <= b[1]:
        if (bits := 2 * bits) > MAX_BITS:
            raise NotExact("a sign beyond the working precision")
    return 1 if b[0] > 0 else -1


def sqrt(x: Any) -> Any:
    """The non-negative square root: NotReal below 0, NotExact for the root of an irrational."""
    if isinstance(x, (Dual, Deg)):
        return x.sqrt()
    if isinstance(x, Quad):
        raise NotExact("a nested square root")
    if (x := Fraction(x)) < 0:
        raise NotReal(f"sqrt({x})")
    return Quad.make({x.numerator * x.denominator: Fraction(1, x.denominator)}) if x else x


def power(x: Any, k: Any) -> Any:
    """x**k for an integer or half-integer k (x**(p/2) = sqrt(x)**p), by repeated squaring."""
    if not isinstance(k, (int, Fraction)) or Fraction(k).denominator > 2 or abs(k) > MAX_POWER:
        raise NotExact(f"the power {k}")
    if abs(k) * sum(m.bit_length() + c.numerator.bit_length() + c.denominator.bit_length()
                    for m, c in (Quad._of(x) or {}).items()) > MAX_BITS:
        raise NotExact(f"a power {k} of a number too large")
    if Fraction(k).denominator == 2:
        x, k = sqrt(x), 2 * k
    x, out = inverse(x) if k < 0 else x, Fraction(1)
    for bit in bin(abs(int(k)))[2:]:
        out = out * out * x if bit == "1" else out * out
    return out


class Dual(Num):
    """a + sum_i d_i e_i with e_i e_j = 0: a value and its gradient (components of any kind)."""

    def __init__(self, a: Any, d: list) -> None:
        self.a, self.d = a, d

    def _of(self, o: Any) -> Dual | None:
        return o if isinstance(o, Dual) else Dual(o, [0] * len(self.d)) if isinstance(o, (int, Fraction, Quad, Deg)) \
            else None

    def __add__(self, o: Any) -> Any:
        if (o := self._of(o)) is None:
            return NotImplemented
        return Dual(self.a + o.a, [x + y for x, y in zip(self.d, o.d)])

    def __mul__(self, o: Any) -> Any:
        if (o := self._of(o)) is None:
            return NotImplemented
        return Dual(self.a * o.a, [x * o.a + self.a * y for x, y in zip(self.d, o.d)])

    def __neg__(self) -> Dual:
        return Dual(-self.a, [-x for x in self.d])

    def inverse(self) -> Dual:
        inv = inverse(self.a)
        return Dual(inv, [-x * inv * inv for x in self.d])

    def sqrt(self) -> Dual:
        s = sqrt(self.a)
        return Dual(s, [x / (2 * s) for x in self.d])


_roots = itertools.count()


class Deg(Num):
    """Bounds on a value A/B of the random inputs and of square roots: deg A <= n, deg B <= d, each root of
    weight ceil(deg of its radicand / 2), ``roots`` the roots used. Constants have degree 0."""

    def __init__(self, n: int, d: int = 0, roots: frozenset = frozenset()) -> None:
        self.n, self.d, self.roots = n, d, roots

    @staticmethod
    def _of(o: Any) -> Deg | None:
        return o if isinstance(o, Deg) else Deg(0) if isinstance(o, (int, Fraction, Quad)) else None

    def __add__(self, o: Any) -> Any:
        if (o := self._of(o)) is None:
            return NotImplemented
        return Deg(max(self.n + o.d, o.n + self.d), self.d + o.d, self.roots | o.roots)

    def __mul__(self, o: Any) -> Any:
        if (o := self._of(o)) is None:
            return NotImplemented
        return Deg(self.n + o.n, self.d + o.d, self.roots | o.roots)

    def __neg__(self) -> Deg:
        return self

    def inverse(self) -> Deg:
        return Deg(self.d, self.n, self.roots)

    def sqrt(self) -> Deg:
        """sqrt(A/B) = sqrt(AB)/B: one new root, its radicand of degree n + d."""
        return Deg(-(-(self.n + self.d) // 2), self.d, self.roots | {next(_roots)})

    def bound(self) -> int:
        """A bound on the degree of the norm of A: the product of its conjugates over the 2^r sign choices."""
        return 2 ** len(self.roots) * self.n


class Mat:
    """A matrix of numbers of any kind above; a 1 x 1 matrix combines with a scalar as its entry."""

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
        """Laplace expansion along the first row (no division, so also valid on Deg), up to 6 x 6."""
        n = self.shape[0]
        if self.shape[1] != n:
            raise ShapeMismatch(f"determinant of a {self.shape} matrix")
        if n > 6:
            raise NotExact("a determinant above 6 x 6")
        return self.rows[0][0] if n == 1 else sum(
            (power(-1, j) * self.rows[0][j] * self.minor(0, j).det() for j in range(n)), Fraction(0))

    def minor(self, i: int, j: int) -> Mat:
        return Mat([r[:j] + r[j + 1:] for k, r in enumerate(self.rows) if k != i])

    def inv(self) -> Mat:
        """The adjugate over the determinant."""
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
    """lambda_min (which = -1) or lambda_max (+1) of a symmetric matrix up to 2 x 2, exactly."""
    if a.shape[0] != a.shape[1] or a.shape[0] > 2:
        raise ShapeMismatch(f"eigenvalue of a {a.shape} matrix") if a.shape[0] != a.shape[1] else \
            NotExact("an eigenvalue of a matrix larger than 2 x 2")
    if a.shape[0] == 1:
        return a.rows[0][0]
    (p, q), (r, s) = a.rows
    if not isinstance(q - r, Deg) and sign(q - r):  # (a Deg is symmetric wherever the value is)
        raise Undefined("an eigenvalue of a matrix that is not symmetric")
    return (p + s) / 2 + which * sqrt((p - s) * (p - s) / 4 + q * r)
