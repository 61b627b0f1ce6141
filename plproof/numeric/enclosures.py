"""Vectorised rigorous enclosures of the activations and their first derivatives (docs/rigor.md §11).

``enclose(name, x, rad, order)`` returns, for k = 0..order, float64 arrays (mid_k, rad_k) with
|f^(k)(y) - mid_k| <= rad_k elementwise for every real y with |y - x| <= rad (rad None: y = x), for
f in tanh, sigmoid, softplus, sin, gelu. Nothing rests on libm: per process and activation a table of
Taylor coefficients c_i = f^(i)(g)/i! at the grid points g = j h is computed once in python-flint balls,
with a per-cell bound on truncation (the coefficients' recurrences run on the whole cell, in balls),
coefficient rounding and Horner's rounding (§11.1); at run time t = x - j h is exact, Horner runs on gathered rows in
float64 and the cell's bound is the radius (§11.2). Beyond the table f^(k) is its limit tau_k within 2^-60
(§11.3); sin is reduced mod 2 pi with the reduction error added to the input radius (§11.4). Input radii
enter by the mean value theorem with sup |f^(k+1)| over the ball (§11.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from contextlib import contextmanager
from functools import cache
from typing import Any, Callable, Iterator

import numpy as np
from mpmath import iv

from plproof.errors import InvalidInput, MissingDependency
from plproof.numeric.arith import have_flint, require_flint
from plproof.numeric.floatbounds import U, float_up, gamma

#: |f^(k)(x) - tau_k(x)| <= TAIL beyond the table (docs/rigor.md §11.3)
TAIL = 2.0**-60
#: relative cover of a float sum of fewer than 64 non-negative rounded terms (gamma_64 < 2^-46)
COVER = 1 + 2.0**-40
#: absolute cover of every underflow in a radius formula (fewer than 2^70 subnormal roundings)
TINY = 2.0**-1000
#: derivatives tabulated: sigma, sigma', sigma''
MAX_ORDER = 2
#: elements per pass: the gathered rows of a chunk stay in cache
CHUNK = 16384
#: |x| from which sin's reduction (k < 2^20) is not attempted: the enclosure is [-1, 1]
SIN_REDUCE_MAX = 2.0**22

#: the limits tau_k beyond the table, by kind: (function of x, sup |tau_k|)
_LIMITS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], float]] = {
    "zero": (np.zeros_like, 0.0),
    "sign": (np.sign, 1.0),
    "step": (lambda x: (x > 0).astype(np.float64), 1.0),
    "relu": (lambda x: np.maximum(x, 0.0), math.inf),
}


@dataclass(frozen=True)
class Spec:
    """f tabulated on |x| <= edge with step h and Taylor degree d: ``taylor(g, n)`` gives balls containing
    f^(i)(x)/i!, i < n, for every x in the ball g (docs/rigor.md §11.1); ``limits`` names tau_0..tau_3 beyond
    ``edge`` (docs/rigor.md §11.3), None for the 2 pi periodic sin."""

    taylor: Callable[[Any, int], list[Any]]
    edge: float
    degree: int
    limits: tuple[str, str, str, str] | None
    step: float = 1 / 64


def _square(y: list[Any], i: int) -> Any:
    """(y^2)_i = sum_{a+b=i} y_a y_b, the i-th Taylor coefficient of y^2."""
    return sum((y[a] * y[i - a] for a in range(i + 1)), 0 * y[0])


def _riccati(y0: Any, n: int, linear: int, constant: int) -> list[Any]:
    """Taylor coefficients of y' = constant + linear y - y^2 from y(g) in y0: (i+1) y_{i+1} = [i=0] constant +
    linear y_i - (y^2)_i. tanh: (1, 0); sigmoid: (0, 1). A recurrence on balls keeps a ball g tight, where
    series division does not (docs/rigor.md §11.1)."""
    y = [y0]
    for i in range(n - 1):
        y.append((linear * y[i] - _square(y, i) + (constant if i == 0 else 0)) / (i + 1))
    return y


def _sigmoid_taylor(g: Any, n: int) -> list[Any]:
    return _riccati(((-g).exp() + 1) ** -1, n, 1, 0)


def _softplus_taylor(g: Any, n: int) -> list[Any]:
    """softplus' = sigmoid: c_{i+1} = sigmoid_i/(i+1)."""
    s = _sigmoid_taylor(g, n - 1)
    return [(g.exp() + 1).log()] + [s[i] / (i + 1) for i in range(n - 1)]


def _sin_taylor(g: Any, n: int) -> list[Any]:
    """sin(g + t) = sum sin(g + i pi/2) t^i/i!."""
    s, c = g.sin(), g.cos()
    cycle = (s, c, -s, -c)
    return [cycle[i % 4] / math.factorial(i) for i in range(n)]


def _gelu_taylor(g: Any, n: int) -> list[Any]:
    """gelu = x Phi(x): Phi' = phi, (i+1) phi_{i+1} = -(g phi_i + phi_{i-1}) (as phi' = -x phi),
    f_i = g Phi_i + Phi_{i-1}."""
    flint = require_flint()
    phi = [(-g * g / 2).exp() / (2 * flint.arb.pi()).sqrt()]
    for i in range(n - 2):
        phi.append(-(g * phi[i] + (phi[i - 1] if i else 0)) / (i + 1))
    Phi = [(1 + (g / flint.arb(2).sqrt()).erf()) / 2] + [phi[i] / (i + 1) for i in range(n - 1)]
    return [g * Phi[i] + (Phi[i - 1] if i else 0) for i in range(n)]


#: docs/rigor.md §11.3 proves each edge: every |f^(k) - tau_k| <= 2^-60 (k <= 3) beyond it
SPECS: dict[str, Spec] = {
    "tanh": Spec(lambda g, n: _riccati(g.tanh(), n, 0, 1), 24.0, 7, ("sign", "zero", "zero", "zero")),
    "sigmoid": Spec(_sigmoid_taylor, 48.0, 7, ("step", "zero", "zero", "zero")),
    "softplus": Spec(_softplus_taylor, 48.0, 7, ("relu", "step", "zero", "zero")),
    "sin": Spec(_sin_taylor, 4.0, 7, None),
    "gelu": Spec(_gelu_taylor, 10.0, 7, ("relu", "step", "zero", "zero")),
}


def _falling(n: int, k: int) -> int:
    """n (n-1) ... (n-k+1) = n!/(n-k)!."""
    return math.prod(range(n - k + 1, n + 1))


def _arb_up(x: Any) -> float:
    """The least float >= every point of the python-flint ball x (decided by arb's certain comparison)."""
    flint = require_flint()
    f = float(x.upper())
    while not flint.arb(f) >= x:
        f = math.nextafter(f, math.inf)
    return f


@dataclass(frozen=True)
class _Reduction:
    """2 pi = C1 + C2 + e with |e| <= tau: C1 has 33 significant bits (k C1 exact for |k| < 2^20),
    C2 = fl(2 pi - C1) (docs/rigor.md §11.4)."""

    c1: float
    c2: float
    tau: float
    inv: float  # ~ 1/(2 pi): any float (the integer k it picks is only a choice)

    @classmethod
    def build(cls) -> "_Reduction":
        lo = _two_pi_floor()
        # 2 pi in [lo, lo + 1] 2^-300; C1 = its first 33 bits (2 pi < 2^3: multiples of 2^-30)
        c1 = (lo >> 270) << 270
        c2 = float(math.ldexp(lo - c1, -300))
        # |2 pi - C1 - C2| <= |lo 2^-300 - C1 - C2| + 2^-300, exactly in rationals
        rest = abs(Fraction(lo - c1, 2**300) - Fraction(c2)) + Fraction(1, 2**300)
        return cls(math.ldexp(c1 >> 270, -30), c2, float_up(rest), 1 / (2 * math.pi))


@dataclass(frozen=True)
class Table:
    """f's Taylor table: ``rows`` holds, per cell j = -J..J (column j + J), c_0..c_d, R_0, c_{d+1}, R_1,
    c_{d+2}, R_2 (R_k >= the error of f^(k)'s float Horner value on the cell, docs/rigor.md §11.1), so that
    order o needs the first d + 2 + 2 o rows; ``S[k] >= sup |f^(k)|`` (k = 1..3) over the real line."""

    spec: Spec
    J: int
    rows: np.ndarray
    S: tuple[float, float, float, float]
    reduction: _Reduction | None

    @property
    def d(self) -> int:
        return self.spec.degree

    def coeff_row(self, i: int) -> int:
        """Row of c_i."""
        return i if i <= self.d else self.d + 2 * (i - self.d)

    def rad_row(self, k: int) -> int:
        """Row of R_k."""
        return self.d + 1 + 2 * k

    def evaluate(self, x: np.ndarray, rho: np.ndarray | None, order: int, mid: np.ndarray, rad: np.ndarray) -> None:
        """Write the enclosures of f^(k) over [x - rho, x + rho], k <= order, into mid[k], rad[k] (one chunk)."""
        bad = ~np.isfinite(x)
        any_bad = bool(bad.any())
        if any_bad:
            x = np.where(bad, 0.0, x)
        huge = None
        if self.reduction is not None and bool((np.abs(x) > self.spec.edge).any()):
            x, rho, huge = self._reduce(x, rho)
        h, edge = self.spec.step, self.J * self.spec.step
        xc = np.clip(x, -edge, edge)
        j = np.rint(xc * (1 / h))            # exact scaling by a power of two
        t = xc - j * h                       # exact, |t| <= h/2 (docs/rigor.md §11.2)
        j += self.J
        C = np.take(self.rows[: self.d + 2 + 2 * order], j.astype(np.intp), axis=1)
        tmp = np.empty_like(t)
        for k in range(order + 1):
            acc = mid[k]
            self._coeff(C, k, self.d, acc)
            for i in range(self.d - 1, -1, -1):
                acc *= t
                acc += self._coeff(C, k, i, tmp)
            rad[k] = C[self.rad_row(k)]
        if self.spec.limits is not None:
            tail = x != xc
            if bool(tail.any()):
                xt = x[tail]
                for k in range(order + 1):
                    mid[k][tail] = _LIMITS[self.spec.limits[k]][0](xt)
                    rad[k][tail] = TAIL
        if rho is not None:
            with np.errstate(over="ignore"):  # an infinite radius is a true (if useless) bound
                self._propagate(rho, order, mid, rad)
        if huge is not None:
            mid[:, huge] = 0.0
            rad[:, huge] = 1.0
        if any_bad:
            mid[:, bad] = np.nan
            rad[:, bad] = np.inf

    def _coeff(self, C: np.ndarray, k: int, i: int, out: np.ndarray) -> np.ndarray:
        """out = fl(c_{k+i} (k+i)!/i!): f^(k)'s i-th Taylor coefficient as the float the bound R_k counts."""
        row = C[self.coeff_row(k + i)]
        if k == 0:
            np.copyto(out, row)
        else:
            np.multiply(row, float(_falling(k + i, k)), out=out)
        return out

    def _propagate(self, rho: np.ndarray, order: int, mid: np.ndarray, rad: np.ndarray) -> None:
        """|f^(k)(y) - f^(k)(x)| <= rho sup_ball |f^(k+1)|, sup_ball |f^(k+1)| <= |mid_{k+1}| + rad_{k+1} + S_{k+2} rho
        (k < order, with rad_{k+1} still the point enclosure's) or S_{order+1} (docs/rigor.md §11.2)."""
        for k in range(order):
            lip = np.abs(mid[k + 1]) + rad[k + 1] + self.S[k + 2] * rho
            rad[k] += rho * lip
            rad[k] *= COVER
            rad[k] += TINY
        rad[order] += self.S[order + 1] * rho
        rad[order] *= COVER
        rad[order] += TINY

    def _reduce(self, x: np.ndarray, rho: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x -> r = x - 2 pi k (sin is 2 pi periodic) where |x| > edge, the reduction error added to rho;
        the mask of |x| >= SIN_REDUCE_MAX, left to the caller (docs/rigor.md §11.4)."""
        red = self.reduction
        assert red is not None
        far = np.abs(x) > self.spec.edge
        huge = np.abs(x) >= SIN_REDUCE_MAX
        xs = np.where(huge[far], 0.0, x[far])
        k = np.rint(xs * red.inv)
        p2 = k * red.c2
        r = (xs - k * red.c1) - p2           # k C1 and xs - k C1 exact; two roundings
        err = (U * (np.abs(p2) + np.abs(r)) + np.abs(k) * red.tau) * COVER + TINY
        x = x.copy()
        x[far] = r
        rho = np.zeros_like(x) if rho is None else rho.copy()
        rho[far] += err
        rho[far] *= COVER
        return x, rho, huge


def _two_pi_floor() -> int:
    """floor(2 pi 2^300), proved: by python-flint, else by mpmath.iv at 400 bits (both endpoints' floors agree)."""
    if have_flint():
        flint = require_flint()
        with flint.ctx.workprec(320):
            return int((flint.arb.pi() * 2 * flint.fmpz(2) ** 300).floor().unique_fmpz())
    with _IntervalKit.precision(400):
        lo, hi = (math.floor(q) for q in _iv_ends(iv.pi * 2 * iv.mpf(2) ** 300))
    if lo != hi:  # 2 pi 2^300 is irrational and 400 bits separate it from the integers: never reached
        raise ArithmeticError("floor(2 pi 2^300) was not decided at 400 bits")
    return lo


def _iv_ends(x: Any) -> tuple[Fraction, Fraction]:
    """The exact endpoints of an mpmath interval (infinite ones as +-2^2000, beyond every float)."""
    ends = []
    for sign, man, exp, _ in x._mpi_:
        if isinstance(exp, str) or (man == 0 and exp != 0):
            ends.append(Fraction(-1 if len(ends) == 0 else 1) * 2**2000)
        else:
            ends.append((-1) ** sign * Fraction(int(man)) * Fraction(2) ** int(exp))
    return ends[0], ends[1]


class _Interval:
    """An mpmath.iv interval with the arb methods the Taylor recurrences of SPECS use: the tables' balls where
    python-flint is not installed (docs/rigor.md §11.1). tanh as 1 - 2/(exp(2x) + 1), x once (monotone, tight)."""

    __slots__ = ("x",)

    def __init__(self, x: Any) -> None:
        self.x = x

    @staticmethod
    def _of(y: Any) -> Any:
        return y.x if isinstance(y, _Interval) else y

    def __add__(self, y: Any) -> "_Interval":
        return _Interval(self.x + self._of(y))

    __radd__ = __add__

    def __sub__(self, y: Any) -> "_Interval":
        return _Interval(self.x - self._of(y))

    def __rsub__(self, y: Any) -> "_Interval":
        return _Interval(self._of(y) - self.x)

    def __mul__(self, y: Any) -> "_Interval":
        return _Interval(self.x * self._of(y))

    __rmul__ = __mul__

    def __truediv__(self, y: Any) -> "_Interval":
        return _Interval(self.x / self._of(y))

    def __rtruediv__(self, y: Any) -> "_Interval":
        return _Interval(self._of(y) / self.x)

    def __neg__(self) -> "_Interval":
        return _Interval(-self.x)

    def __pow__(self, k: int) -> "_Interval":
        return _Interval(self.x**k)

    def __abs__(self) -> "_Interval":
        return _Interval(abs(self.x))

    def exp(self) -> "_Interval":
        return _Interval(iv.exp(self.x))

    def log(self) -> "_Interval":
        return _Interval(iv.log(self.x))

    def sin(self) -> "_Interval":
        return _Interval(iv.sin(self.x))

    def cos(self) -> "_Interval":
        return _Interval(iv.cos(self.x))

    def tanh(self) -> "_Interval":
        return _Interval(1 - 2 / (iv.exp(2 * self.x) + 1))


class _IntervalKit:
    """ball(x, r) = [x - r, x + r], up (the least float >= the ball), mid and the working precision, in mpmath.iv."""

    @staticmethod
    def ball(x: float, r: float = 0.0) -> _Interval:
        return _Interval(iv.mpf(x) + iv.mpf([-r, r]))

    @staticmethod
    def up(x: _Interval) -> float:
        return float_up(_iv_ends(x.x)[1])

    @staticmethod
    def mid(x: _Interval) -> float:
        lo, hi = _iv_ends(x.x)
        return float((lo + hi) / 2)

    @staticmethod
    @contextmanager
    def precision(bits: int) -> Iterator[None]:
        saved, iv.prec = iv.prec, bits
        try:
            yield
        finally:
            iv.prec = saved


class _FlintKit:
    """The same four in python-flint arb balls."""

    def __init__(self) -> None:
        self.flint = require_flint()
        self.ball = self.flint.arb
        self.up = _arb_up

    @staticmethod
    def mid(x: Any) -> float:
        return float(x.mid())

    def precision(self, bits: int) -> Any:
        return self.flint.ctx.workprec(bits)


@cache
def table(name: str) -> Table:
    """The Taylor table of activation ``name``, built once per process in python-flint balls, or in mpmath.iv
    intervals where python-flint is not installed (about 20x slower; not gelu, whose erf mpmath.iv lacks)
    (docs/rigor.md §11.1)."""
    if name not in SPECS:
        raise InvalidInput(f"no rigorous enclosure of {name!r}: use one of {', '.join(sorted(SPECS))}")
    if not have_flint() and name == "gelu":
        raise MissingDependency("the gelu table needs python-flint's erf balls: pip install 'plproof[flint]'")
    kit: Any = _FlintKit() if have_flint() else _IntervalKit
    spec = SPECS[name]
    arb = kit.ball
    d, h = spec.degree, spec.step
    J = int(spec.edge / h)
    cells = 2 * J + 1
    chat = np.empty((d + MAX_ORDER + 1, cells))   # float coefficients c^_i
    ceps = np.empty_like(chat)                     # >= |c^_i - c_i|
    rem = np.empty((MAX_ORDER + 1, cells))         # >= sup_cell |c_{k+d+1}|
    sup = np.zeros(4)                              # >= sup_cell |f^(k)| / k!
    with kit.precision(128):
        for col, j in enumerate(range(-J, J + 1)):
            point = spec.taylor(arb(j * h), d + MAX_ORDER + 1)
            cell = spec.taylor(arb(j * h, h / 2), d + MAX_ORDER + 2)
            for i, c in enumerate(point):
                chat[i, col] = kit.mid(c)
                ceps[i, col] = kit.up(abs(arb(chat[i, col]) - c))
            for k in range(MAX_ORDER + 1):
                rem[k, col] = kit.up(abs(cell[k + d + 1]))
            for k in range(1, 4):
                sup[k] = max(sup[k], kit.up(abs(cell[k])))
    half = h / 2
    rows = np.empty((d + 2 + 2 * MAX_ORDER, cells))
    for i in range(d + MAX_ORDER + 1):
        rows[i if i <= d else d + 2 * (i - d)] = chat[i]
    for k in range(MAX_ORDER + 1):
        # R_k = sum_i (gamma_{2i+1} |a^_i| + |a^_i - a_i|) (h/2)^i + remainder, a_i = c_{k+i} (k+i)!/i!,
        # |a^_i - a_i| <= u |a^_i| [k > 0: the product's rounding] + (k+i)!/i! eps_{k+i}
        err = np.zeros(cells)
        for i in range(d + 1):
            P = float(_falling(k + i, k))
            a = np.abs(chat[k + i] * P)
            err += ((gamma(2 * i + 1) + (U if k else 0.0)) * a + P * ceps[k + i]) * half**i
        err += rem[k] * float(_falling(k + d + 1, k)) * half ** (d + 1)
        rows[d + 1 + 2 * k] = err * COVER + TINY
    S = [math.inf] + [float(math.factorial(k)) * sup[k] * COVER for k in range(1, 4)]
    if spec.limits is not None:
        S = [max(S[k], _LIMITS[spec.limits[k]][1] + TAIL) if k else S[k] for k in range(4)]
    reduction = _Reduction.build() if spec.limits is None else None
    return Table(spec, J, rows, tuple(S), reduction)  # type: ignore[arg-type]


#: piecewise-linear activations (Lipschitz 1), value only: |fl(f(x)) - f(x)| <= u |fl(f(x))| (docs/rigor.md §11.5)
PIECEWISE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda x: np.maximum(x, 0.0),
    "leaky_relu": lambda x: np.where(x > 0, x, x / 100),
    "abs": np.abs,
}


def enclose(name: str, x: Any, rad: Any = None, order: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(mid_k, rad_k) for k = 0..order]: |f^(k)(y) - mid_k| <= rad_k for every real y within ``rad`` of ``x``
    (elementwise; ``rad`` None: y = x), f the activation ``name`` (docs/rigor.md §11). Non-finite x gives
    mid NaN and rad inf. Costs a few float passes per element; the first call per activation builds its table.
    relu, leaky_relu and abs have no derivative to enclose: order 0 only."""
    if not isinstance(order, (int, np.integer)) or not 0 <= order <= MAX_ORDER:
        raise InvalidInput(f"order must be 0, 1 or 2 (sigma, sigma', sigma''), got {order!r}")
    x = np.asarray(x, dtype=np.float64)
    rho = None
    if rad is not None:
        rho = np.ascontiguousarray(np.broadcast_to(np.asarray(rad, dtype=np.float64), x.shape))
        if not (rho >= 0).all():
            raise InvalidInput("input radii must be non-negative (and not NaN)")
    if name in PIECEWISE:
        if order:
            raise InvalidInput(f"{name} is not differentiable everywhere: only its value (order 0) is enclosed")
        with np.errstate(invalid="ignore"):
            mid = PIECEWISE[name](x)
            out = (U * np.abs(mid) + (0.0 if rho is None else rho)) * COVER + TINY
        return [(mid, np.where(np.isfinite(mid), out, np.inf))]
    tab = table(name)
    flat = x.ravel()
    if rho is not None:
        rho = rho.ravel()
    mid = np.empty((order + 1, flat.size))
    out = np.empty((order + 1, flat.size))
    for s in range(0, flat.size, CHUNK):
        e = min(s + CHUNK, flat.size)
        tab.evaluate(flat[s:e], None if rho is None else rho[s:e], order, mid[:, s:e], out[:, s:e])
    return [(mid[k].reshape(x.shape), out[k].reshape(x.shape)) for k in range(order + 1)]
