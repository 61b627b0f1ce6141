"""A model given as SymPy expressions: F, DF and the Hessians derived symbolically (docs/theory.md §0, §4.1).

Either ``outputs`` are expressions in the parameters only, or they are expressions in the parameters and
``inputs`` symbols evaluated at each row of a data matrix (output order: row by row, then expression).
Each part is compiled once per backend: numpy (float64), mpmath (``precision(digits=...)``), exact
Fractions (rational expressions only) and mpmath.iv intervals, which give ``verified`` bounds on the
Hessian and Jacobian norms over a box containing the ball B(w0, R) (docs/theory.md §10).

Parameters and inputs are real: symbols without that assumption are replaced by real ones of the same
name. ``describe()`` stores F as whitelisted JSON expression trees that the independent verifier
(plproof/verify/expr.py) rebuilds without SymPy; ``from_description`` reads them back.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterator, Mapping, Self, Sequence

import mpmath
import numpy as np
import sympy as sp
from mpmath.libmp import finf, fnan, fninf, to_rational
from sympy.core.function import AppliedUndef
from sympy.printing.pycode import MpmathPrinter

from plproof.errors import InvalidInput, NotCertifiable
from plproof.models.ball import (AdapterBall, BoundsAtRadius, HessianGridBounds, check_ball, sampled_ball_bounds,
                                 sampled_hessian_norms)
from plproof.models.base import Model, bound_sets, check_finite_matrix
from plproof.numeric import ddarray
from plproof.numeric.arith import FLOAT64, Arith, BallArith, DDArith, MPArith, require_flint
from plproof.numeric.floatbounds import add_up, float_up, mul_up, sqrt_up
from plproof.numeric.rigor import Enclosure, RigorLevel
from plproof.numeric.scalars import FLOATS

_IV = mpmath.iv
#: the name of plproof.verify.midrad's namespace (the generic run recipe, docs/rigor.md §10)
MIDRAD_NAME = "midrad-float64"
#: interval Hessians of producer and verifier, in the generic form of docs/theory.md §4.1
VERIFIABLE_BOUNDS = bound_sets("plproof.models.sympy_model:VerifiableBall")
_IV_PREC = 64  # bits of mpmath.iv endpoints; floats enter exactly

#: heads that make F fail to be C^2 (docs/theory.md §9)
NON_SMOOTH = (sp.Abs, sp.Max, sp.Min, sp.Heaviside, sp.Piecewise, sp.sign, sp.floor, sp.ceiling, sp.frac,
              sp.DiracDelta, sp.Mod)

IV_ASSUMPTIONS = ("mpmath.iv interval arithmetic rounds every operation and exp/log/sin/cos/tan/sqrt outward",
                  "the box [w0 - R, w0 + R] contains the ball B(w0, R)")


def _exact_const(arg: Any) -> Fraction:
    """``mpf(...)`` in generated code, read as an exact rational (ints and binary mantissa/exponent tuples)."""
    if isinstance(arg, tuple):
        sign, man, exp, _ = arg
        return (-1) ** sign * Fraction(int(man)) * Fraction(2) ** int(exp)
    return Fraction(arg)


def _iv_const(arg: Any) -> Any:
    return _IV.mpf(mpmath.mpf(arg) if isinstance(arg, tuple) else arg)


def _iv_point(x: Any) -> Any:
    return _IV.mpf([x, x])


def _iv_monotone(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """An increasing f on an interval [a, b]: [lower end of f([a, a]), upper end of f([b, b])]."""

    def g(x: Any) -> Any:
        x = _IV.mpf(x)
        return _IV.mpf([f(_iv_point(x.a)).a, f(_iv_point(x.b)).b])

    return g


def _iv_cosh(x: Any) -> Any:
    """cosh over [a, b]: even, increasing on [0, inf), minimum 1 at 0."""
    x = _IV.mpf(x)
    c = lambda t: (_IV.exp(t) + _IV.exp(-t)) / 2  # noqa: E731
    lo = c(_iv_point(x.a)) if x.a >= 0 else c(_iv_point(x.b)) if x.b <= 0 else _IV.mpf(1)
    top = max(abs(x.a), abs(x.b))
    return _IV.mpf([lo.a, c(_iv_point(top)).b])


_IV_NAMESPACE: dict[str, Any] = {
    "mpf": _iv_const, "exp": _IV.exp, "log": _IV.log, "sqrt": _IV.sqrt, "sin": _IV.sin, "cos": _IV.cos,
    "tan": _IV.tan, "pi": _IV.pi, "e": _IV.e,
    "tanh": _iv_monotone(lambda t: 1 - 2 / (_IV.exp(2 * t) + 1)),
    "sinh": _iv_monotone(lambda t: (_IV.exp(t) - _IV.exp(-t)) / 2),
    "cosh": _iv_cosh,
}
_IV_FUNCTIONS = {"exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh"}


_ARB_FUNCTIONS = {"exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan", "erf"}


def _arb_namespace(flint: Any) -> dict[str, Any]:
    """Names of the generated code as python-flint arb functions (proven enclosures)."""
    arb = flint.arb

    def method(name: str) -> Callable[[Any], Any]:
        return lambda x: getattr(arb(x), name)()

    def const(a: Any) -> Any:
        q = _exact_const(a)
        return arb(q.numerator) / q.denominator

    return {**{f: method(f) for f in _ARB_FUNCTIONS | {"sqrt"}}, "mpf": const, "pi": arb.pi(), "e": arb.const_e()}


#: functions with a double-double evaluation (plproof/numeric/ddarray.py); powers: integers and half-integers
_DD_FUNCTIONS = {"exp", "log", "sin", "cos", "tanh", "erf"}


def _dd_namespace() -> dict[str, Any]:
    """Names of the generated code as double-double functions (docs/rigor.md §12; log x = log1p(x - 1))."""
    with mpmath.workdps(50):
        e = ddarray.const(+mpmath.e)
    return {"exp": ddarray.exp, "log": lambda x: ddarray.log1p(x - 1), "sin": ddarray.sin, "cos": ddarray.cos,
            "tanh": ddarray.tanh, "erf": ddarray.erf, "sqrt": ddarray.sqrt, "pi": ddarray.PI, "e": e,
            "mpf": lambda a: ddarray.as_dd(_exact_const(a))}


def _dd_obstacle(funcs: set[str], parts: Sequence[sp.Expr]) -> str | None:
    """Why the expressions have no double-double evaluation (None: they have one)."""
    if funcs - _DD_FUNCTIONS:
        return f"no double-double evaluator for {sorted(funcs - _DD_FUNCTIONS)[0]}"
    powers = {p.exp for e in parts for p in e.atoms(sp.Pow)}
    odd = sorted(str(q) for q in powers if not (2 * q).is_Integer)
    return f"no double-double evaluator for the power {odd[0]}" if odd else None


@contextlib.contextmanager
def _iv_precision() -> Iterator[None]:
    saved = _IV.prec
    _IV.prec = max(_IV_PREC, saved)
    try:
        yield
    finally:
        _IV.prec = saved


def _endpoint(raw: tuple) -> Fraction | float:
    """An interval endpoint as an exact rational; +-inf as floats (NaN, which iv never yields on success, as inf)."""
    if raw in (finf, fnan):
        return math.inf
    return -math.inf if raw == fninf else Fraction(*map(int, to_rational(raw)))


def _ends(v: Any) -> tuple[Fraction | float, Fraction | float]:
    a, b = _IV.mpf(v)._mpi_
    return _endpoint(a), _endpoint(b)


def _magnitude(v: Any) -> Fraction | float:
    """max |x| over the interval ``v`` (exact rational, or inf)."""
    return max(map(abs, _ends(v)))


def _float_up(q: Fraction | float) -> float:
    return math.inf if q == math.inf else float_up(q)


def perron_upper(M: Sequence[Sequence[Fraction | float]]) -> Fraction | float:
    """Upper bound on the spectral radius of a symmetric M >= 0: max_i (M x)_i / x_i for any x > 0 (Collatz-Wielandt).

    With |A| <= M entrywise, ||A||_2 <= rho(M). x is the float Perron vector rounded to a 2^-20 grid (exact).
    """
    if any(v == math.inf for row in M for v in row):
        return math.inf
    Mf = np.array([[float(v) for v in row] for row in M], dtype=float)
    if not Mf.any():
        return Fraction(0)
    vec = np.abs(np.linalg.eigh(Mf)[1][:, -1])
    grid = np.maximum(np.round(vec / vec.max() * 2**20), 1.0)
    x = [Fraction(int(g), 2**20) for g in grid]
    return max(sum((a * b for a, b in zip(row, x)), Fraction(0)) / xi for row, xi in zip(M, x))


_OUTSIDE_DOMAIN = ("F or its derivatives are not finite real numbers here (sqrt or log at or below 0, a non-integer "
                   "power of a negative number, a pole): start w0 inside the domain of F")


def _dd_rows(v: Any, rows: int) -> ddarray.DDArray:
    """A generated value (per row, or one constant for all rows) as a double-double column of ``rows`` entries."""
    d = ddarray.as_dd(v)
    return ddarray.DDArray(np.broadcast_to(d.hi, (rows,)), np.broadcast_to(d.lo, (rows,)))


def _real_and_finite(v: Any) -> bool:
    """A real value of the mpmath, exact, interval or arb backends (an interval may have infinite ends)."""
    if isinstance(v, (mpmath.mpc, _IV.mpc)) or isinstance(v, mpmath.mpf) and not mpmath.isfinite(v):
        return False
    return v.is_finite() if hasattr(v, "is_finite") else True


def _symbols(items: Any, what: str) -> tuple[sp.Symbol, ...]:
    out = tuple(sp.Matrix(items)) if isinstance(items, sp.MatrixBase) else tuple(items)
    bad = [s for s in out if not isinstance(s, sp.Symbol)]
    if bad:
        raise InvalidInput(f"{what} must be SymPy Symbols, got {bad[0]!r}: create them with sympy.symbols(...)")
    if len(set(out)) != len(out):
        raise InvalidInput(f"{what} lists a symbol twice: give each symbol once")
    return out


def _expressions(outputs: Any) -> list[sp.Expr]:
    items = list(outputs) if isinstance(outputs, (list, tuple, sp.MatrixBase)) else [outputs]
    exprs = []
    for e in items:
        try:
            exprs.append(sp.sympify(e, strict=True))
        except sp.SympifyError:
            raise InvalidInput(f"outputs must be SymPy expressions, got {e!r}") from None
    if not exprs:
        raise InvalidInput("outputs is empty: give at least one SymPy expression")
    return exprs


def _is_rational(e: sp.Expr) -> bool:
    """Built from symbols, rational/float constants, +, * and integer powers only (so exact in Fractions)."""
    return all(isinstance(node, (sp.Symbol, sp.Rational, sp.Float, sp.Add, sp.Mul))
               or isinstance(node, sp.Pow) and isinstance(node.exp, sp.Integer)
               for node in sp.preorder_traversal(e))


#: SymPy heads <-> op names of the expression trees (plproof/verify/expr.py re-checks all but atan and erf)
TREE_FUNCTIONS: dict[type, str] = {
    sp.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos", sp.tan: "tan", sp.tanh: "tanh", sp.sinh: "sinh",
    sp.cosh: "cosh", sp.atan: "atan", sp.erf: "erf", sp.Abs: "abs", sp.sign: "sign", sp.Max: "max", sp.Min: "min"}
_TREE_HEADS = {name: head for head, name in TREE_FUNCTIONS.items()}
_TREE_CONSTANTS = {"pi": sp.pi, "e": sp.E}
_RATIONAL_TEXT = re.compile(r"-?[0-9]+(/[0-9]+)?")


def _number_tree(q: sp.Rational) -> dict:
    return {"int": int(q)} if q.q == 1 else {"rational": f"{q.p}/{q.q}"}


def _commutative(op: str, args: list[dict]) -> dict:
    """A sum or product node with its arguments in the order of their JSON text (not SymPy's order)."""
    return {"op": op, "args": sorted(args, key=lambda t: json.dumps(t, sort_keys=True))}


def expression_tree(e: sp.Expr) -> dict:
    """F as a JSON tree of whitelisted nodes (docs/rigor.md, "SymPy models in the verifier").

    Floats become the exact rationals of their binary values; b**e with a non-numeric exponent becomes
    exp(e log b); a head outside :data:`TREE_FUNCTIONS` becomes ``{"unsupported": name}``. Sums and products
    list their arguments in a canonical order, so that reading a tree back and describing it again gives it.
    """
    if isinstance(e, sp.Symbol):
        return {"sym": e.name}
    if isinstance(e, (sp.Rational, sp.Float)):
        return _number_tree(sp.Rational(e))
    if e in (sp.pi, sp.E):
        return {"const": "pi" if e is sp.pi else "e"}
    if isinstance(e, (sp.Add, sp.Mul)):
        return _commutative("add" if isinstance(e, sp.Add) else "mul", [expression_tree(a) for a in e.args])
    if isinstance(e, sp.Pow):
        base, ex = e.args
        if isinstance(ex, (sp.Rational, sp.Float)):
            return {"op": "pow", "args": [expression_tree(base), _number_tree(sp.Rational(ex))]}
        log = {"op": "log", "args": [expression_tree(base)]}
        return {"op": "exp", "args": [_commutative("mul", [expression_tree(ex), log])]}
    if e.func in TREE_FUNCTIONS:
        return {"op": TREE_FUNCTIONS[e.func], "args": [expression_tree(a) for a in e.args]}
    return {"unsupported": type(e).__name__}


def tree_expression(tree: Any, symbols: dict[str, sp.Symbol]) -> sp.Expr:
    """The inverse of :func:`expression_tree` over ``symbols`` (name -> Symbol); InvalidInput on anything else."""
    if not isinstance(tree, dict):
        raise InvalidInput(f"an expression tree node must be an object, got {tree!r:.60}")
    keys = set(tree)
    if keys == {"sym"} and tree["sym"] in symbols:
        return symbols[tree["sym"]]
    if keys == {"int"} and isinstance(tree["int"], int) and not isinstance(tree["int"], bool):
        return sp.Integer(tree["int"])
    if keys == {"rational"} and isinstance(tree["rational"], str) and _RATIONAL_TEXT.fullmatch(tree["rational"]):
        return sp.Rational(tree["rational"])
    if keys == {"const"} and tree["const"] in _TREE_CONSTANTS:
        return _TREE_CONSTANTS[tree["const"]]
    if keys == {"op", "args"} and isinstance(tree["args"], list):
        args = [tree_expression(a, symbols) for a in tree["args"]]
        op = tree["op"]
        if op in ("add", "mul", "pow"):
            return {"add": sp.Add, "mul": sp.Mul, "pow": sp.Pow}[op](*args)
        if op in _TREE_HEADS:
            return _TREE_HEADS[op](*args)
    raise InvalidInput(f"not a SymPy expression tree node: {tree!r:.80} (see docs/rigor.md, "
                       "\"SymPy models in the verifier\")")


def _step_free(e: sp.Expr) -> sp.Expr:
    """frac and Mod written with floor, so that their derivatives are those of floor (0 off a null set)."""
    return e.replace(lambda t: isinstance(t, (sp.frac, sp.Mod)), lambda t: t.rewrite(sp.floor))


def _almost_everywhere(d: sp.Expr) -> sp.Expr:
    """A derivative with DiracDelta terms and derivatives of floor/ceiling set to 0, their values off a null set."""
    def step(t: sp.Basic) -> bool:
        return (isinstance(t, sp.DiracDelta) or isinstance(t, (sp.Derivative, sp.Subs))
                and t.has(sp.floor, sp.ceiling))
    return d.replace(step, lambda t: sp.S.Zero)


class SympyModel(AdapterBall, Model):
    """F(w) from SymPy expressions; DF and the per-output Hessians derived once, symbolically.

    Where F is not differentiable (Abs, Max, sign, floor, ...), DF and the Hessians are its derivatives
    almost everywhere; such a model is never certified (``is_smooth`` is False, docs/theory.md §9).
    """

    family = "sympy"

    def __init__(self, outputs: Any, params: Sequence[sp.Symbol], *, inputs: Sequence[sp.Symbol] | None = None,
                 data: Any = None, w0: Any = None) -> None:
        params, inputs = _symbols(params, "params"), _symbols(inputs or (), "inputs")
        if not params:
            raise InvalidInput("params is empty: list the parameter symbols F depends on")
        if set(params) & set(inputs):
            both = sorted(map(str, set(params) & set(inputs)))[0]
            raise InvalidInput(f"{both} is both a parameter and an input: give it in one list only")
        names = [s.name for s in (*params, *inputs)]
        if len(set(names)) != len(names):
            twice = sorted(n for n in names if names.count(n) > 1)[0]
            raise InvalidInput(f"two symbols are named {twice!r}: give every parameter and input its own name")
        real = {s: sp.Symbol(s.name, real=True) for s in (*params, *inputs) if not s.is_real}
        self.params = tuple(real.get(s, s) for s in params)
        self.inputs = tuple(real.get(s, s) for s in inputs)
        self.exprs = [e.xreplace(real) for e in _expressions(outputs)]
        if self.inputs:
            if data is None:
                raise InvalidInput("inputs are given but no data: pass data=X with one column per input symbol")
            self.X = check_finite_matrix(data, "data")
            if self.X.shape[1] != len(self.inputs):
                raise InvalidInput(f"data has {self.X.shape[1]} columns but there are {len(self.inputs)} input symbols")
        elif data is not None:
            raise InvalidInput("data needs inputs=[...]: the input symbols, one per column of data")
        else:
            self.X = np.zeros((1, 0))
        known = set(self.params) | set(self.inputs)
        for i, e in enumerate(self.exprs):
            stray = sorted(e.free_symbols - known, key=str)
            if stray:
                raise InvalidInput(f"output {i} contains the symbol {stray[0]} that is not a parameter"
                                   f"{' or input' if self.inputs else ''}: substitute its value or list it in params")
            undefined = e.atoms(AppliedUndef)
            if undefined:
                raise InvalidInput(f"output {i} uses the undefined function {sorted(map(str, undefined))[0]}: "
                                   "write F with explicit functions")
        m = len(self.params)
        self._w0 = np.zeros(m) if w0 is None else np.asarray(w0, dtype=np.float64)
        if self._w0.shape != (m,) or not np.isfinite(self._w0).all():
            raise InvalidInput(f"w0 must be {m} finite numbers (one per parameter), got shape {self._w0.shape}")
        grads = [[_almost_everywhere(sp.diff(_step_free(e), p)) for p in self.params] for e in self.exprs]
        upper = list(zip(*np.triu_indices(m)))
        self._parts: dict[str, list[sp.Expr]] = {
            "F": self.exprs,
            "J": [g for row in grads for g in row],
            "H": [_almost_everywhere(sp.diff(row[j], self.params[k])) for row in grads for j, k in upper],
        }
        for part in ("J", "H"):
            left = [d for e in self._parts[part] for d in e.atoms(sp.Derivative, sp.Subs)]
            if left:
                raise InvalidInput(f"SymPy leaves the derivative {left[0]} unevaluated: write F without that "
                                   "function (e.g. Mod or frac of a non-linear expression)")
        self._compiled: dict[tuple[str, str], Callable[..., list]] = {}
        funcs = {type(f).__name__ for e in self.exprs for f in e.atoms(sp.Function)}
        self.exact_capable = all(_is_rational(e) for e in self.exprs)
        self.interval_obstacle = (f"no interval evaluator for {sorted(funcs - _IV_FUNCTIONS)[0]}"
                                  if funcs - _IV_FUNCTIONS else None)
        self.ball_obstacle = f"no ball evaluator for {sorted(funcs - _ARB_FUNCTIONS)[0]}" if funcs - _ARB_FUNCTIONS else None
        self.dd_obstacle = _dd_obstacle(funcs, [e for part in self._parts.values() for e in part])

    @property
    def array_generic(self) -> bool:  # type: ignore[override]
        """True when every function and power of F and its derivatives has a double-double evaluation."""
        return self.dd_obstacle is None

    @property
    def n_outputs(self) -> int:
        return self.X.shape[0] * len(self.exprs)

    @property
    def n_params(self) -> int:
        return len(self.params)

    @property
    def is_smooth(self) -> bool:
        """No non-smooth head (Abs, Max, floor, ...) applied to an expression of the parameters."""
        return not any(t.has(*self.params) for e in self.exprs for t in e.atoms(*NON_SMOOTH))

    def default_w0(self) -> np.ndarray:
        return self._w0.copy()

    # ------------------------------------------------------------------ compilation and evaluation
    def _function(self, part: str, backend: str) -> Callable[..., list]:
        key = (part, backend)
        if key not in self._compiled:
            args = self.params + self.inputs
            exprs = self._parts[part]
            if backend in ("numpy", "mpmath"):
                fn = sp.lambdify(args, exprs, modules=backend, cse=True)
            else:
                printer = MpmathPrinter({"fully_qualified_modules": False, "inline": True,
                                         "allow_unknown_functions": True, "user_functions": {}})
                ns = {"exact": lambda: {"mpf": _exact_const}, "interval": lambda: _IV_NAMESPACE,
                      "arb": lambda: _arb_namespace(require_flint()), "dd": _dd_namespace}[backend]()
                fn = sp.lambdify(args, exprs, modules=[ns], printer=printer, cse=True)
            self._compiled[key] = fn
        return self._compiled[key]

    def _rows(self, part: str, w: Sequence[Any], backend: str) -> np.ndarray:
        """Values of ``part`` at w for every data row: array (rows, entries)."""
        fn = self._function(part, backend)
        r = self.X.shape[0]
        if backend == "numpy":
            with np.errstate(all="ignore"):
                out = fn(*w, *self.X.T)
                vals = np.array([np.broadcast_to(np.asarray(v, dtype=complex), (r,)) for v in out]).T
            if not (np.isfinite(vals).all() and not vals.imag.any()):
                raise InvalidInput(_OUTSIDE_DOMAIN)
            return vals.real
        if backend == "dd":  # all rows at once: the data columns as arrays
            with np.errstate(all="ignore"):
                out = fn(*w, *(ddarray.DDArray(c) for c in self.X.T))
            vals = ddarray.stack([_dd_rows(v, r) for v in out], axis=1)
            if not np.isfinite(vals).all():
                raise InvalidInput(_OUTSIDE_DOMAIN)
            return vals
        conv = {"mpmath": mpmath.mpf, "exact": Fraction, "interval": _IV.mpf,
                "arb": lambda x: require_flint().arb(x)}[backend]
        try:
            vals = np.array([fn(*w, *map(conv, row.tolist())) for row in self.X], dtype=object)
        except ZeroDivisionError:
            raise InvalidInput("F or its derivatives divide by zero at this w: start elsewhere") from None
        if not all(map(_real_and_finite, vals.ravel())):
            raise InvalidInput(_OUTSIDE_DOMAIN)
        return vals

    def _backend(self, ar: Arith) -> str:
        if ar.exact:
            if not self.exact_capable:
                raise InvalidInput("these expressions are not rational functions of w, so they cannot be evaluated "
                                   "exactly: use precision(digits=...)")
            return "exact"
        if isinstance(ar, MPArith):
            return "mpmath"
        if isinstance(ar, DDArith):
            return "dd"
        if isinstance(ar, BallArith):
            if self.ball_obstacle:
                raise NotCertifiable(f"{self.ball_obstacle}: F cannot be enclosed in balls; use rigor high-precision")
            return "arb"
        if ar.dtype == np.float64:
            return "numpy"
        if ar.name == MIDRAD_NAME and not self.interval_obstacle:
            return "midrad"
        raise InvalidInput(f"SympyModel cannot evaluate in the {ar.name} namespace: use float64, digits, exact or balls")

    def _values(self, part: str, w: Any, ar: Arith, shape: tuple[int, ...]) -> np.ndarray:
        """``part`` at w, shaped; in the midpoint-radius namespace (docs/rigor.md §10) the interval evaluator at
        the point w (float parameters, exact), each interval turned into a midpoint and a covering radius."""
        backend = self._backend(ar)
        if backend != "midrad":
            return ar.asarray(self._rows(part, list(w), backend).reshape(shape))
        from plproof.verify.midrad import from_bounds

        with _iv_precision():
            vals = self._rows(part, self._box(ar.to_float(w), 0.0), "interval")
            return from_bounds(map(_ends, vals.ravel()), shape)

    def _F(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        return self._values("F", w, ar, (self.n_outputs,))

    def _jacobian(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        return self._values("J", w, ar, (self.n_outputs, self.n_params))

    def hessians(self, w: Any) -> np.ndarray:
        """Per-output Hessians H_{F_i}(w), float64 array (n, m, m)."""
        w_arr, _ = self._prepare(np.asarray(w, dtype=np.float64), FLOAT64)
        return self._assemble(self._rows("H", list(w_arr), "numpy"), np.float64)

    def hessian_vector_products(self, w: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Row i: H_{F_i}(w) V_i, from the symbolic Hessians (no finite differences near a domain boundary)."""
        return np.einsum("ijk,ik->ij", self.hessians(w), V)

    def _assemble(self, rows: np.ndarray, dtype: Any) -> np.ndarray:
        m = self.n_params
        iu = np.triu_indices(m)
        H = np.zeros((self.n_outputs, m, m), dtype=dtype)
        upper = rows.reshape(self.n_outputs, -1)
        H[:, iu[0], iu[1]] = upper
        H[:, iu[1], iu[0]] = upper
        return H

    # ------------------------------------------------------------------ verified bounds over the ball
    def _require_interval(self) -> None:
        if not self.is_smooth:
            raise NotCertifiable("the expressions are not smooth (Abs/Max/Min/Piecewise/...): no Hessian bound over "
                                 "a ball exists (docs/theory.md §9)")
        if self.interval_obstacle:
            raise NotCertifiable(f"{self.interval_obstacle}: only sampled ball bounds are available")

    @staticmethod
    def _box(w: np.ndarray, radius: float) -> list[Any]:
        """Intervals [w_j - R, w_j + R] rounded outward (R = 0: the point w, exactly)."""
        with _iv_precision():
            return [_IV.mpf(float(x)) + _IV.mpf([-radius, radius]) for x in w]

    def _interval_magnitudes(self, part: str, box: list[Any]) -> np.ndarray | None:
        """Entrywise upper bounds of |part| over the box, (rows, entries) of Fractions; None if undefined there."""
        with _iv_precision():
            try:
                vals = self._rows(part, box, "interval")
            except (ArithmeticError, ValueError):
                return None
            return np.frompyfunc(_magnitude, 1, 1)(vals)

    def _hessian_bounds(self, box: list[Any]) -> list[Fraction | float]:
        """Per output i, an upper bound on sup over the box of ||H_{F_i}||_2."""
        mags = self._interval_magnitudes("H", box)
        if mags is None:
            return [math.inf] * self.n_outputs
        return [perron_upper(H.tolist()) for H in self._assemble(mags, object)]

    def _jacobian_norm_upper(self, box: list[Any]) -> float:
        """Upper bound on sup over the box of ||DF||_2 <= || |DF| ||_2 = sqrt(rho(M M^T)), M the magnitudes."""
        mags = self._interval_magnitudes("J", box)
        if mags is None:
            return math.inf
        M = mags.reshape(self.n_outputs, self.n_params)
        if any(v == math.inf for v in M.ravel()):
            return math.inf
        G = M @ M.T if M.shape[0] <= M.shape[1] else M.T @ M
        return sqrt_up(_float_up(perron_upper(G.tolist())))

    def _verified(self, w0: Any, R: float) -> tuple[list[float], float]:
        """(eps_i, L_F): upper bounds on sup_B ||H_{F_i}||_2 per output and sup_B ||DF||_2 over B = B(w0, R).

        L_F is the smaller of the box bound and ||DF(w0)||_2 + R (sum_i eps_i^2)^{1/2} (row-wise mean value
        theorem, docs/theory.md §4.1): the box [w0 - R, w0 + R] reaches sqrt(m) R from w0, the ball only R.
        """
        self._require_interval()
        w, radius = check_ball(self, w0, R)
        box = self._box(w, radius)
        eps = self._hessian_bounds(box)
        drift = mul_up(radius, sqrt_up(_float_up(sum(e * e for e in eps))))
        lip = min(self._jacobian_norm_upper(box), add_up(self._jacobian_norm_upper(self._box(w, 0.0)), drift))
        return [_float_up(e) for e in eps], lip

    @property
    def ball_rigor(self) -> RigorLevel:
        """``verified`` by interval arithmetic, or ``sampled`` when a function has no interval evaluator."""
        return RigorLevel.SAMPLED if self.interval_obstacle else RigorLevel.VERIFIED

    def hessian_bounds_at(self, w0: Any, R: float) -> np.ndarray:
        """Per output i, an upper bound on sup_{B(w0,R)} ||H_{F_i}||_2 (``ball_rigor``; docs/theory.md §4.1)."""
        if self.interval_obstacle:
            return sampled_hessian_norms(self, *check_ball(self, w0, R))
        self._require_interval()
        return np.array([_float_up(e) for e in self._hessian_bounds(self._box(*check_ball(self, w0, R)))])

    def hessian_bound(self, w0: Any, R: float) -> float:
        """Verified upper bound on sup_{B(w0,R)} max_i ||H_{F_i}(w)||_2, by intervals over the box (docs/theory.md §4.1)."""
        self._require_interval()
        return float(self.hessian_bounds_at(w0, R).max())

    def jacobian_bound(self, w0: Any, R: float) -> float:
        """Verified upper bound on sup_{B(w0,R)} ||DF(w)||_2 (docs/theory.md §4.1)."""
        return self._verified(w0, R)[1]

    def bounds_at(self, w0: np.ndarray, R: float, *, samples: int = 8, seed: int = 0) -> BoundsAtRadius:
        """``verified`` bounds via interval arithmetic, or ``sampled`` ones when a function has no interval evaluator."""
        if self.interval_obstacle:
            return sampled_ball_bounds(self, w0, R, samples=samples, seed=seed)
        eps, lip = self._verified(w0, R)
        return BoundsAtRadius(float(R), Enclosure(0.0, max(eps), RigorLevel.VERIFIED, IV_ASSUMPTIONS),
                          Enclosure(0.0, lip, RigorLevel.VERIFIED, IV_ASSUMPTIONS), "interval box", tuple(eps))

    def jacobian_enclosure(self, w: Any) -> tuple[np.ndarray, np.ndarray]:
        """(J, E): float64 DF(w) and entrywise bounds |DF_true(w) - J| <= E, by interval evaluation (``verified``)."""
        self._require_interval()
        w_arr, _ = self._prepare(np.asarray(w, dtype=np.float64), FLOAT64)
        with _iv_precision():
            ends = [_ends(v) for v in self._rows("J", self._box(w_arr, 0.0), "interval").ravel()]
        mid = np.array([float((a + b) / 2) if math.inf not in (abs(a), abs(b)) else math.nan for a, b in ends])
        if not np.isfinite(mid).all():
            raise InvalidInput("DF is not finite at this w: start elsewhere")
        err = [_float_up(max(b - Fraction(c), Fraction(c) - a)) for (a, b), c in zip(ends, mid)]
        shape = (self.n_outputs, self.n_params)
        return mid.reshape(shape), np.array(err).reshape(shape)

    @property
    def ball_bound_sets(self) -> Mapping[str, str]:  # type: ignore[override]
        """:class:`VerifiableBall`, or the sampled grid bounds when a function has no interval evaluator
        (docs/theory.md §4.1, §10)."""
        return AdapterBall.ball_bound_sets if self.interval_obstacle else VERIFIABLE_BOUNDS

    def describe(self) -> dict:
        """Family, class and sizes; the parameter names; F as expression trees; with inputs, their names and X."""
        out = {**super().describe(), "params": [p.name for p in self.params],
               "outputs": [expression_tree(e) for e in self.exprs]}
        if self.inputs:
            out.update(inputs=[s.name for s in self.inputs], X=self.X.tolist())
        return out

    @classmethod
    def from_description(cls, desc: dict) -> SympyModel:
        """The model that ``desc`` (the output of :meth:`describe`) describes."""
        if not isinstance(desc, dict) or desc.get("family") != cls.family:
            raise InvalidInput("not the description of a SymPy model: expected family 'sympy'")
        names = {key: desc.get(key, []) for key in ("params", "inputs")}
        if not all(isinstance(v, list) and all(isinstance(n, str) for n in v) for v in names.values()):
            raise InvalidInput("params and inputs of a SymPy model description must be lists of names")
        params, inputs = ([sp.Symbol(n, real=True) for n in names[key]] for key in ("params", "inputs"))
        symbols = {s.name: s for s in (*params, *inputs)}
        outputs = desc.get("outputs")
        if not isinstance(outputs, list):
            raise InvalidInput("outputs of a SymPy model description must be a list of expression trees")
        return cls([tree_expression(t, symbols) for t in outputs], params, inputs=inputs or None, data=desc.get("X"))


@dataclass(frozen=True, eq=False)
class VerifiableBall(HessianGridBounds):
    """R -> bounds over B(w0, R) in the generic form of docs/theory.md §4.1, which the verifier re-derives.

    delta(R) = sqrt(n) eps R and curvature(R, rho) = sqrt(n) rho eps, with eps(r) >= max_i sup_{B(w0,r)}
    ||H_{F_i}||_2 the larger of this model's interval bound and the verifier's own ExprFamily.epsilon
    (plproof/verify/expr.py), on the grid radius r >= R. The verifier evaluates ExprFamily.epsilon at the
    certified R itself, which is no larger (that bound grows with the radius and is the same on every
    machine), so a radius certified here also closes there.
    """

    #: the verifier's model of F (None when it refuses the description, ``obstacle`` saying why)
    verifier_family: Any = None
    obstacle: str = ""
    #: grid radius -> why no Hessian bound exists on that ball (filled as radii are evaluated)
    _unbounded: dict[float, str] = field(default_factory=dict, init=False, repr=False)

    name = "sympy, interval Hessians of producer and verifier, generic bounds of docs/theory.md §4.1"

    @classmethod
    def _build(cls, model: Model, w0: np.ndarray) -> Self:
        from plproof.verify.exact import Failure
        from plproof.verify.expr import ExprFamily

        try:
            family, obstacle = ExprFamily(model.describe()), ""
        except Failure as exc:  # the verifier will refuse the certificate for this reason
            family, obstacle = None, str(exc)
        bounds = cls(model, w0, *cls._grid(model, w0), family, obstacle)
        if bounds.epsilon(FLOATS, bounds.radii[0]) == math.inf:
            why = bounds._unbounded.get(bounds.radii[0], "")
            raise NotCertifiable(f"no Hessian bound on the smallest ball tried, B(w0, {bounds.radii[0]:.3g}): "
                                 f"{why}; start w0 further inside the domain of F")
        return bounds

    def bounds_at_radius(self, radius: float) -> tuple[float, float]:
        """(eps, sqrt(n) eps) on B(w0, radius)."""
        own = float(np.max(self.model.hessian_bounds_at(self.w0, radius)))  # type: ignore[attr-defined]
        theirs, why = self._verifier_epsilon(radius)
        eps = max(own, theirs)
        if eps == math.inf:
            self._unbounded[radius] = why or "F is undefined or its Hessian unbounded there"
        return eps, mul_up(sqrt_up(float(self.n)), eps)

    def _verifier_epsilon(self, radius: float) -> tuple[float, str]:
        """ExprFamily.epsilon at ``radius`` rounded up (0 without a verifier model), or inf and the reason."""
        from plproof.verify.exact import Failure

        if self.verifier_family is None:
            return 0.0, ""
        try:
            return _float_up(self.verifier_family.epsilon(self.w0, Fraction(radius))), ""
        except Failure as exc:  # e.g. the box leaves the domain of log or sqrt
            return math.inf, str(exc)

    def hints(self) -> dict:
        out = super().hints()
        if self._unbounded:
            first = min(self._unbounded)
            out["no_hessian_bound"] = f"from R = {first:.6g}: {self._unbounded[first]}"
        return {**out, **({"not_re_checkable": self.obstacle} if self.obstacle else {})}
