"""Array namespaces: one model definition evaluates in float64, at p digits, or exactly.

A namespace provides ``asarray`` and the elementwise functions the activations need; arithmetic
(``+ * @``) is numpy's, on float64 arrays or on object arrays of ``mpmath.mpf`` / ``Fraction``, or the
double-double arrays of plproof/numeric/ddarray.py. The current namespace is set with :func:`precision`
(docs/theory.md §10: ``high-precision``; which arithmetic serves how many digits: docs/rigor.md §12).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from fractions import Fraction
from typing import Any, Callable, Iterator

import mpmath
import numpy as np

from plproof.errors import InvalidInput
from plproof.numeric import ddarray
from plproof.numeric.ddarray import DDArray

try:  # scipy is optional; erf is only needed by gelu
    from scipy.special import erf as _float_erf
except ImportError:  # pragma: no cover - exercised only without scipy
    _float_erf = np.vectorize(math.erf, otypes=[float])


class Arith:
    """Base of the namespaces; subclasses fill in the elementwise functions."""

    name: str = "abstract"
    dtype: Any = object
    exact: bool = False

    def active(self) -> contextlib.AbstractContextManager:
        """Context inside which this namespace's scalar arithmetic has its precision."""
        return contextlib.nullcontext()

    @property
    def fallback(self) -> "Arith":
        """The namespace for models whose formulas are not written for this one's arrays (itself here; the
        double-double namespace falls back to mpmath at the same digits)."""
        return self

    def asarray(self, x: Any) -> np.ndarray:
        raise NotImplementedError

    def zeros(self, shape: int | tuple[int, ...]) -> np.ndarray:
        return self.asarray(np.zeros(shape))

    def sqrt(self, x: Any) -> Any:
        raise NotImplementedError

    def to_float(self, x: Any) -> np.ndarray:
        """Round to float64 (for display and float comparisons only)."""
        return np.asarray(x, dtype=float) if not isinstance(x, np.ndarray) else x.astype(float)

    def norm(self, x: np.ndarray) -> Any:
        """Euclidean norm of a vector in this arithmetic."""
        flat = np.asarray(x).ravel()
        return self.sqrt(flat @ flat)

    # constants and elementwise functions used by activations
    pi: Any
    tanh: Callable[[Any], Any]
    exp: Callable[[Any], Any]
    log1p: Callable[[Any], Any]
    sin: Callable[[Any], Any]
    cos: Callable[[Any], Any]
    erf: Callable[[Any], Any]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class Float64Arith(Arith):
    """float64 numpy/BLAS: the fast path and the baseline."""

    name = "float64"
    dtype = np.float64
    pi = np.pi

    def asarray(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=np.float64)

    sqrt = staticmethod(np.sqrt)
    tanh = staticmethod(np.tanh)
    exp = staticmethod(np.exp)
    log1p = staticmethod(np.log1p)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    erf = staticmethod(_float_erf)


def _elementwise(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return np.frompyfunc(fn, 1, 1)


class MPArith(Arith):
    """mpmath at ``digits`` decimal digits on object arrays (readable oracle, not rigorous)."""

    def __init__(self, digits: int) -> None:
        self.digits = check_digits(digits)
        self.name = f"mpmath-{self.digits}"

    def active(self) -> contextlib.AbstractContextManager:
        return mpmath.mp.workdps(self.digits)

    @property
    def pi(self) -> Any:
        """pi at the current precision (call inside ``active()``)."""
        return +mpmath.mp.pi

    def asarray(self, x: Any) -> np.ndarray:
        return mpf_array(x)

    def sqrt(self, x: Any) -> Any:
        return _mp_sqrt(x)

    def to_float(self, x: Any) -> np.ndarray:
        return np.asarray(_mp_to_float(np.asarray(x, dtype=object)), dtype=float)

    tanh = staticmethod(_elementwise(mpmath.tanh))
    exp = staticmethod(_elementwise(mpmath.exp))
    log1p = staticmethod(_elementwise(mpmath.log1p))
    sin = staticmethod(_elementwise(mpmath.sin))
    cos = staticmethod(_elementwise(mpmath.cos))
    erf = staticmethod(_elementwise(mpmath.erf))


def check_digits(digits: Any) -> int:
    """``digits`` as an int >= 5, or an InvalidInput."""
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)) or digits < 5:
        raise InvalidInput(f"precision digits must be an integer >= 5, got {digits!r}")
    return int(digits)


#: precision(digits=N) evaluates in double-double for N <= DD_DIGITS (about 32 digits, docs/rigor.md §12)
DD_DIGITS = 30


class DDArith(Arith):
    """Double-double arrays (plproof/numeric/ddarray.py): about 32 significant digits at numpy speed.

    Serves ``precision(digits=N)`` for N <= :data:`DD_DIGITS` (docs/rigor.md §12: errors measured against mpmath
    at 40 digits, not proved). Models whose formulas are not array-generic evaluate in :attr:`fallback`, mpmath
    at the same digits; ``active()`` sets mpmath to those digits for them.
    """

    def __init__(self, digits: int = DD_DIGITS) -> None:
        self.digits = check_digits(digits)
        if self.digits > DD_DIGITS:
            raise InvalidInput(f"double-double carries about 32 digits: ask for at most {DD_DIGITS}, "
                               f"got {self.digits}")
        self.name = "double-double"

    def active(self) -> contextlib.AbstractContextManager:
        return mpmath.mp.workdps(self.digits)

    @property
    def fallback(self) -> Arith:
        return MPArith(self.digits)

    pi = ddarray.PI

    def asarray(self, x: Any) -> DDArray:
        return ddarray.as_dd(x)

    def zeros(self, shape: int | tuple[int, ...]) -> DDArray:
        return DDArray(np.zeros(shape))

    def to_float(self, x: Any) -> np.ndarray:
        return ddarray.as_dd(x).to_float()

    def norm(self, x: Any) -> DDArray:
        flat = ddarray.as_dd(x).ravel()
        return ddarray.sqrt(flat @ flat)


for _name in ("sqrt", "tanh", "exp", "log1p", "sin", "cos", "erf"):  # DDArith's functions: ddarray's of that name
    setattr(DDArith, _name, staticmethod(getattr(ddarray, _name)))


def _mpf_of(v: Any) -> Any:
    if isinstance(v, Fraction):
        return mpmath.mpf(v.numerator) / v.denominator
    return mpmath.mpf(v)


_to_mpf = np.frompyfunc(_mpf_of, 1, 1)


def mpf_array(x: Any) -> np.ndarray:
    """Floats, ints, Fractions or mpf as an object array of mpf (exact, then rounded to the current precision)."""
    if isinstance(x, DDArray):
        return _to_mpf(x.to_mpf())
    arr = np.asarray(x, dtype=object) if not isinstance(x, np.ndarray) else x
    return _to_mpf(arr.astype(object) if arr.dtype != object else arr)
_mp_sqrt = np.frompyfunc(mpmath.sqrt, 1, 1)
_mp_to_float = np.frompyfunc(float, 1, 1)


class ExactArith(Arith):
    """Exact rationals (``Fraction`` object arrays); transcendental functions are refused."""

    name = "exact"
    exact = True

    def asarray(self, x: Any) -> np.ndarray:
        arr = np.asarray(x, dtype=object) if not isinstance(x, np.ndarray) else x.astype(object)
        return _to_fraction(arr)

    def sqrt(self, x: Any) -> Any:
        raise InvalidInput("a square root is not rational in general: use a float or mpmath precision")

    def norm(self, x: np.ndarray) -> Any:
        raise InvalidInput("norms are not rational in general: compare squared norms in exact arithmetic")

    @property
    def pi(self) -> Any:
        return self._refuse()

    @staticmethod
    def _refuse(*_: Any) -> Any:
        raise InvalidInput("this activation cannot be evaluated in exact rational arithmetic; "
                           "use precision(digits=...) instead")

    tanh = exp = log1p = sin = cos = erf = _refuse


def _fraction_of(v: Any) -> Fraction:
    if isinstance(v, (float, np.floating)) and not math.isfinite(float(v)):
        raise InvalidInput("NaN or Inf cannot be converted to an exact rational")
    return Fraction(v) if not isinstance(v, (float, np.floating)) else Fraction(float(v))


_to_fraction = np.frompyfunc(_fraction_of, 1, 1)

class BallArith(Arith):
    """python-flint ``arb`` balls at ``prec`` bits: rigorous enclosures (docs/theory.md §10, ``verified``).

    ``asarray`` turns floats into exact balls; :meth:`ball` builds balls from midpoints and radii.
    Transcendental functions are flint's, whose enclosures are proven.
    """

    def __init__(self, prec: int = 128) -> None:
        self.flint = require_flint()
        self.prec = int(prec)
        self.name = f"arb-{self.prec}"
        f = self.flint
        self.tanh = np.frompyfunc(lambda x: f.arb(x).tanh(), 1, 1)
        self.exp = np.frompyfunc(lambda x: f.arb(x).exp(), 1, 1)
        self.log1p = np.frompyfunc(lambda x: f.arb(x).log1p(), 1, 1)
        self.sin = np.frompyfunc(lambda x: f.arb(x).sin(), 1, 1)
        self.cos = np.frompyfunc(lambda x: f.arb(x).cos(), 1, 1)
        self.erf = np.frompyfunc(lambda x: f.arb(x).erf(), 1, 1)
        self._sqrt = np.frompyfunc(lambda x: f.arb(x).sqrt(), 1, 1)
        self._of = np.frompyfunc(self._arb_of, 1, 1)
        self._ball = np.frompyfunc(lambda m, r: f.arb(float(m), float(r)), 2, 1)
        self._mid_rad = np.frompyfunc(_float_mid_rad, 1, 2)

    def _arb_of(self, v: Any) -> Any:
        if type(v) is float:
            return self.flint.arb(v)
        if isinstance(v, self.flint.arb):
            return v
        if isinstance(v, Fraction):
            return self.flint.arb(v.numerator) / v.denominator
        if isinstance(v, mpmath.mpf):
            raise InvalidInput("an mpmath number has no radius: build balls from floats, Fractions or flint")
        return self.flint.arb(float(v)) if isinstance(v, np.floating) else self.flint.arb(v)

    def active(self) -> contextlib.AbstractContextManager:
        return self.flint.ctx.workprec(self.prec)

    @property
    def pi(self) -> Any:
        """A ball containing pi."""
        return self.flint.arb.pi()

    def asarray(self, x: Any) -> np.ndarray:
        arr = x if isinstance(x, np.ndarray) else np.asarray(x, dtype=object)
        with self.active():
            return self._of(arr.astype(object) if arr.dtype != object else arr)

    def ball(self, mid: np.ndarray, rad: np.ndarray) -> np.ndarray:
        """Balls with float midpoints ``mid`` and radii ``rad`` (exact: both are binary64 numbers)."""
        with self.active():
            return self._ball(np.asarray(mid, dtype=float), np.asarray(rad, dtype=float))

    def sqrt(self, x: Any) -> Any:
        return self._sqrt(x)

    def mid_rad(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """Float midpoints and float radii r with |x - mid| <= r for every point of each ball."""
        mid, rad = self._mid_rad(np.asarray(x, dtype=object))
        return np.asarray(mid, dtype=float), np.asarray(rad, dtype=float)

    def to_float(self, x: Any) -> np.ndarray:
        return self.mid_rad(x)[0]


def bits_for(digits: int) -> int:
    """Binary precision for ``digits`` significant decimal digits, with 16 guard bits."""
    return math.ceil(3.33 * digits) + 16


class FlintArith(BallArith):
    """python-flint ``arb`` arrays read by their midpoints: the high-precision namespace of GD/SGD runs above 30
    digits when python-flint is installed (docs/rigor.md §12.9), about 10x faster than mpmath object arrays.

    Level ``high-precision``: the balls' radii are carried but not reported. mpmath numbers convert exactly;
    :meth:`to_mpf` gives the midpoints back as mpmath numbers. Models whose formulas are not array-generic
    evaluate in :attr:`fallback`, mpmath at the same digits.
    """

    def __init__(self, digits: int) -> None:
        self.digits = check_digits(digits)
        super().__init__(bits_for(self.digits))
        self.name = f"python-flint-{self.digits}"

    @property
    def fallback(self) -> Arith:
        return MPArith(self.digits)

    def _arb_of(self, v: Any) -> Any:
        if isinstance(v, mpmath.mpf):
            man, exp = v.man_exp  # |v| = man 2^exp
            a = self.flint.arb(int(man)) * self.flint.arb(2) ** int(exp)
            return -a if v < 0 else a
        return super()._arb_of(v)

    def to_mpf(self, x: Any) -> np.ndarray:
        """The midpoints of the balls ``x`` as an object array of mpmath numbers (exact)."""
        return _arb_to_mpf(np.asarray(x, dtype=object))


def _arb_mid_mpf(x: Any) -> Any:
    man, exp = x.mid().man_exp()
    return mpmath.mpf((int(man), int(exp)))


_arb_to_mpf = np.frompyfunc(_arb_mid_mpf, 1, 1)


def _float_mid_rad(x: Any) -> tuple[float, float]:
    """(m, r): m = float(mid) is within ulp(m)/2 of the midpoint, so r = rad + ulp(m), rounded up, covers."""
    m = float(x.mid())
    return m, math.nextafter(math.nextafter(float(x.rad()), math.inf) + math.ulp(m), math.inf)


def require_flint() -> Any:
    """The python-flint module, or a MissingDependency that says how to install it."""
    try:
        import flint
    except ImportError:
        from plproof.errors import MissingDependency

        raise MissingDependency("ball arithmetic needs python-flint: pip install 'plproof[flint]'") from None
    return flint


def have_flint() -> bool:
    """True when python-flint is importable."""
    try:
        import flint  # noqa: F401
    except ImportError:
        return False
    return True


FLOAT64 = Float64Arith()
EXACT = ExactArith()

_current: contextvars.ContextVar[Arith] = contextvars.ContextVar("plproof_arith", default=FLOAT64)


def current() -> Arith:
    """The namespace in force: float64 unless inside :func:`precision`."""
    return _current.get()


def high_precision(digits: int) -> Arith:
    """The namespace for ``digits`` significant digits: double-double up to :data:`DD_DIGITS`, mpmath above
    (docs/rigor.md §12)."""
    return DDArith(digits) if check_digits(digits) <= DD_DIGITS else MPArith(digits)


@contextlib.contextmanager
def precision(digits: int | None = None, *, exact: bool = False) -> Iterator[Arith]:
    """``with precision(digits=50):`` evaluate models at 50 digits (:func:`high_precision` chooses the
    arithmetic: double-double up to 30 digits); ``exact=True`` for rationals."""
    if exact == (digits is not None):
        raise InvalidInput("give either digits=N or exact=True to precision()")
    arith = EXACT if exact else high_precision(digits)  # type: ignore[arg-type]
    token = _current.set(arith)
    try:
        with arith.active():
            yield arith
    finally:
        _current.reset(token)
