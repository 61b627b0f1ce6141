"""Problem = model + targets y + initial point w0 (docs/theory.md §0).

L(w) = 1/2 ||F(w) - y||^2, residual r = F(w) - y, gradient DF^T r, tangent kernel K = DF DF^T.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from plproof.certificate.format import array_sha256
from plproof.errors import InvalidInput
from plproof.models.base import Model
from plproof.numeric import arith as _arith
from plproof.numeric.arith import Arith


#: arrays with at most this many entries are shown in full by ``repr``; larger ones by their fingerprint
REPR_ENTRIES = 16
#: largest squared 2-norm accepted for X, y and w0: the centre and ball bounds sum and multiply such
#: squares (K = X X^T, ||r0||^2, beta) in float64, whose range ends at 1.8e308
SQUARE_LIMIT_LOG10 = 300


class Problem:
    """A square-loss interpolation problem F(w) = y with its starting point w0."""

    def __init__(self, model: Model, y: Any, w0: Any = None) -> None:
        if not isinstance(model, Model):
            raise InvalidInput(f"model must be a plproof Model, got {type(model).__name__}")
        self.model = model
        model_X = getattr(model, "X", None)
        if isinstance(model_X, np.ndarray):
            check_magnitude(model_X, "X", "rescale X (divide it by a constant)")
        y_arr = target_vector(y)
        if y_arr.shape != (model.n_outputs,):
            raise InvalidInput(f"y must have {model.n_outputs} entries (one per data point), got shape {y_arr.shape}")
        if y_arr.dtype.kind == "f" and not np.isfinite(y_arr).all():
            raise InvalidInput(f"y has NaN or Inf at index {int(np.argmax(~np.isfinite(y_arr)))}: clean the targets")
        self.y = y_arr
        w0_arr = model.default_w0() if w0 is None else _numbers(w0, "w0")
        if w0_arr.shape != (model.n_params,):
            raise InvalidInput(f"w0 must have length {model.n_params} (the number of parameters), got shape {w0_arr.shape}")
        if w0_arr.dtype.kind == "f" and not np.isfinite(w0_arr).all():
            raise InvalidInput("w0 has NaN or Inf entries: start from finite parameters")
        check_magnitude(y_arr, "y", "rescale y (and the model's outputs with it)")
        check_magnitude(w0_arr, "w0", "start from a smaller w0")
        self.w0 = w0_arr
        #: (file, name) of the code that defines this problem, if known (the CLI sets it): a certificate of a model
        #: that only its code can rebuild records the file by its sha256 (plproof verify --run-code re-runs it)
        self.source: tuple[Any, str] | None = None

    @property
    def n(self) -> int:
        """Number of equations (data points)."""
        return self.model.n_outputs

    @property
    def m(self) -> int:
        """Number of trained parameters."""
        return self.model.n_params

    @property
    def underparameterized(self) -> bool:
        """m < n: K(w) has rank <= m < n, so lambda_min(K) = 0 everywhere (docs/theory.md §5)."""
        return self.m < self.n

    def obstruction(self) -> str | None:
        """Why the kernel route can never certify this problem, or None (docs/theory.md §5, §9)."""
        if self.underparameterized:
            return (f"under-parameterised: m = {self.m} parameters < n = {self.n} equations, so "
                    "lambda_min(K(w)) = 0 for every w and PL* cannot be certified (docs/theory.md §5)")
        if not self.model.is_smooth:
            return ("non-smooth model: DF is not Lipschitz, so the Hessian bounds of docs/theory.md §4.1 "
                    "do not apply (docs/theory.md §9, pitfall 10)")
        return None

    def _y(self, ar: Arith) -> np.ndarray:
        return ar.asarray(self.y)

    def residual(self, w: Any = None, arith: Arith | None = None) -> np.ndarray:
        """r(w) = F(w) - y (docs/theory.md §0)."""
        ar = arith or _arith.current()
        w = self.w0 if w is None else w
        with ar.active():
            return self.model.F(w, ar) - self._y(ar)

    def loss(self, w: Any = None, arith: Arith | None = None) -> Any:
        """L(w) = 1/2 ||F(w) - y||^2 (docs/theory.md §0)."""
        ar = arith or _arith.current()
        r = self.residual(w, ar)
        with ar.active():
            return (r @ r) / 2

    def gradient(self, w: Any = None, arith: Arith | None = None) -> np.ndarray:
        """grad L(w) = DF(w)^T (F(w) - y) (docs/theory.md §0)."""
        ar = arith or _arith.current()
        w = self.w0 if w is None else w
        r = self.residual(w, ar)
        return self.model.vjp(w, r, ar)

    def kernel(self, w: Any = None, arith: Arith | None = None) -> np.ndarray:
        """K(w) = DF(w) DF(w)^T (docs/theory.md §0)."""
        return self.model.kernel(self.w0 if w is None else w, arith)

    def jacobian(self, w: Any = None, arith: Arith | None = None) -> np.ndarray:
        """DF(w), n x m."""
        return self.model.jacobian(self.w0 if w is None else w, arith)

    def describe(self) -> dict:
        return {"model": self.model.describe(), "y": _listed(self.y), "w0": _listed(self.w0)}

    def __repr__(self) -> str:
        """The model (class and parameters, from ``describe()``), y and w0: small arrays in full, large
        ones by :func:`array_fingerprint`; a w0 equal to the seeded default of the model says so."""
        info = self.model.describe()
        args = [f"{k}={array_repr(self.model.X) if k == 'X' else repr(v)}" for k, v in info.items()
                if k not in ("family", "class", "n_outputs", "n_params")]
        model = f"{info['class'].rsplit('.', 1)[-1]}({', '.join(args)})"
        w0 = array_repr(self.w0)
        if "seed" in info and self.w0.size > REPR_ENTRIES and _equal(self.w0, self.model.default_w0()):
            w0 = repr(f"default of seed {info['seed']}: {array_fingerprint(self.w0)}")
        return f"Problem({model}, y={array_repr(self.y)}, w0={w0})"


def _numbers(x: Any, name: str) -> np.ndarray:
    """``x`` as float64, or as exact entries (object dtype) when it holds Fractions or SymPy numbers."""
    try:
        arr = np.asarray(x, dtype=object) if _is_object(x) else np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.asarray(x, dtype=object)
    if arr.dtype == object:
        bad = [v for v in (arr.ravel() if arr.ndim else [x]) if not _is_number(v)]
        if bad:
            raise InvalidInput(f"{name} must be an array of numbers; {bad[0]!r} is not a number")
    return arr


def _is_number(v: Any) -> bool:
    """float(v) is defined (a float, int, Fraction or SymPy number; it may overflow, as huge rationals do)."""
    try:
        float(v)
    except OverflowError:
        return True
    except (TypeError, ValueError):
        return False
    return True


def target_vector(y: Any, name: str = "y") -> np.ndarray:
    """The targets as a 1-D array: a vector, or an (n, 1) or (1, n) array flattened. Anything else is refused:
    the square loss 1/2 ||F(w) - y||^2 has one output per data point, so y is a single column."""
    y_arr = _numbers(y, name)
    if y_arr.ndim == 2 and 1 in y_arr.shape:
        return y_arr.ravel()
    if y_arr.ndim != 1:
        raise InvalidInput(f"{name} has shape {y_arr.shape}: a single output column is needed (one target "
                           "per data point, shape (n,) or (n, 1)); for several outputs per point, flatten y in the "
                           "order your model lists F")
    return y_arr


def log10_square_norm(a: np.ndarray) -> float:
    """log10 ||a||_2^2 without overflow (-inf for a zero array, inf for a non-finite or unconvertible entry)."""
    try:
        v = np.abs(np.asarray(a, dtype=np.float64)).ravel()
    except OverflowError:  # an exact entry beyond float64
        return math.inf
    top = float(np.max(v, initial=0.0))
    if top == 0 or not math.isfinite(top):
        return -math.inf if top == 0 else math.inf
    return 2 * math.log10(top) + math.log10(float(np.sum((v / top) ** 2)))


def check_magnitude(a: np.ndarray, name: str, fix: str) -> None:
    """Refuse ``a`` with ||a||_2^2 > 10^SQUARE_LIMIT_LOG10: float64 cannot carry the squares the theorem needs."""
    require_float_range(log10_square_norm(a), name, fix + _span_note(a))


def require_float_range(log10_sq: float, what: str, fix: str) -> None:
    """InvalidInput when a sum of squares, given by its log10, exceeds 10^SQUARE_LIMIT_LOG10 (see there)."""
    if log10_sq > SQUARE_LIMIT_LOG10:
        about = f"about 1e{log10_sq:.0f}" if math.isfinite(log10_sq) else "beyond float64 range"
        raise InvalidInput(f"{what} is too large for float64 arithmetic: its sum of squares is {about} "
                           f"(limit 1e{SQUARE_LIMIT_LOG10}); {fix}")


def _span_note(a: np.ndarray) -> str:
    """A warning when the nonzero entries span more decades than float64 holds, so rescaling loses the small ones."""
    try:
        v = np.abs(np.asarray(a, dtype=np.float64)).ravel()
    except OverflowError:
        return ""
    v = v[(v > 0) & np.isfinite(v)]
    decades = math.log10(v.max()) - math.log10(v.min()) if v.size else 0.0
    if decades < 308:
        return ""
    return (f"; its nonzero entries span {decades:.0f} orders of magnitude ({v.min():.1g} to {v.max():.1g}), "
            "more than float64 holds, so the smallest would then underflow to 0")


def _is_object(x: Any) -> bool:
    return isinstance(x, np.ndarray) and x.dtype == object or (
        not isinstance(x, np.ndarray) and np.asarray(x).dtype == object)


def _listed(a: np.ndarray) -> list:
    return [str(v) if a.dtype == object else float(v) for v in a]


def array_fingerprint(a: np.ndarray) -> str:
    """``"float64[20, 64] sha256:1a2b3c4d5e6f"``: dtype, shape and a sha256 prefix of the entries (the
    little-endian float64 bytes, or the entries' strings for exact arrays)."""
    a = np.asarray(a)
    if a.dtype == object:
        digest = hashlib.sha256("\n".join(map(str, a.ravel())).encode()).hexdigest()
    else:
        digest = array_sha256(a)
    kind = "exact" if a.dtype == object else "float64"
    return f"{kind}[{', '.join(map(str, a.shape))}] sha256:{digest[:12]}"


def array_repr(a: np.ndarray) -> str:
    """Nested lists of exact entries (float reprs round-trip) when at most REPR_ENTRIES, else the
    quoted :func:`array_fingerprint`."""
    a = np.asarray(a)
    if a.size > REPR_ENTRIES:
        return repr(array_fingerprint(a))
    if a.dtype == object:
        return repr(np.vectorize(str, otypes=[object])(a).tolist())
    return repr(np.asarray(a, dtype=np.float64).tolist())


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.all(a == b))
