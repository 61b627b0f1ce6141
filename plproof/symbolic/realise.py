"""Realisations: evaluate a derivation's expression strings as SymPy objects.

* ``symbolic``: sizes are symbols (``MatrixSymbol``); a general F is an opaque vector with an
  opaque Jacobian and gradients use the matrix chain rule; scope "all sizes".
* ``concrete``: sizes are small integers; a general F has entries ``F_i(w_1..w_M)`` (undefined
  SymPy functions, i.e. arbitrary smooth); scope "n, M <= bound".
* ``instance``: concrete sizes and a concrete polynomial F, for counterexamples.

1x1 matrix expressions become scalars whose quadratic-form "atoms" (e.g. ``r.T*J*J.T*r``) are
canonical symbols, so the scalar prover can reason about them (docs/derivations.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr
from sympy.parsing.sympy_parser import (
    TokenError,
    auto_number,
    convert_xor,
    stringify_expr,
)

from plproof.errors import InvalidInput
from plproof.symbolic.model import (
    Assumptions,
    LinearMap,
    MatrixVar,
    Scalar,
    SmoothMap,
    Vector,
)


class Unsupported(Exception):
    """This realisation cannot evaluate the expression (not a statement about the maths)."""


class LambdaMin(sp.Function):
    """λ_min of a symmetric matrix; evaluates exactly (real algebraic) for numeric matrices."""

    nargs = 1
    is_real = True

    @classmethod
    def eval(cls, a):
        return _extreme_eigenvalue(a, min)


class LambdaMax(sp.Function):
    """λ_max of a symmetric matrix; evaluates exactly for numeric matrices."""

    nargs = 1
    is_real = True

    @classmethod
    def eval(cls, a):
        return _extreme_eigenvalue(a, max)


def _extreme_eigenvalue(a: Any, pick: Callable) -> sp.Expr | None:
    if isinstance(a, sp.MatrixBase) and all(x.is_number for x in a):
        if a.shape[0] != a.shape[1] or a != a.T or not all(x.is_rational for x in a):
            return None
        return pick(sp.Poly(a.charpoly().as_expr()).real_roots())
    return None


#: the canonical scalar symbol of each 1x1 matrix product, and the product it stands for
ATOMS: dict[sp.Symbol, MatrixExpr] = {}


def is_gram(product: object) -> bool:
    """``a_1 ... a_k`` with k even and ``a_i = a_{k+1-i}^T``: ``B Bᵀ``, a squared norm or PSD matrix."""
    factors = [a for a in product.args if isinstance(a, MatrixExpr)] if isinstance(product, sp.MatMul) else [product]
    k = len(factors)
    return k % 2 == 0 and all(factors[i].T.doit() == factors[k - 1 - i].doit() for i in range(k // 2))


def atom(product: MatrixExpr) -> sp.Symbol:
    """The canonical scalar symbol of a 1x1 product, identifying ``P`` with ``P.T``."""
    candidates = sorted({str(product), str(product.T.doit())}, key=lambda s: (len(s), s))
    name = candidates[0]
    sym = sp.Symbol(f"<{name}>", real=True, nonnegative=True) if is_gram(product) else sp.Symbol(f"<{name}>", real=True)
    if sym not in ATOMS:
        ATOMS[sym] = product if name == str(product) else product.T.doit()
    return sym


def atomise(expr: MatrixExpr) -> sp.Expr:
    """A 1x1 matrix expression as a scalar in canonical atoms."""
    e = expr.doit().expand()
    if isinstance(e, sp.ZeroMatrix) or e == 0:
        return sp.Integer(0)
    terms = e.args if isinstance(e, sp.MatAdd) else (e,)
    out = sp.Integer(0)
    for term in terms:
        if isinstance(term, sp.MatMul):
            coeff, rest = term.as_coeff_mmul()
            out += coeff * atom(rest.doit())
        elif isinstance(term, sp.ZeroMatrix):
            continue
        else:
            out += atom(term)
    return out


def to_scalar(x: Any) -> sp.Expr:
    """A value as a scalar expression; 1x1 matrices become their entry or canonical atoms."""
    if isinstance(x, MatrixExpr):
        if x.shape != (1, 1):
            raise sp.ShapeError(f"{x} has shape {x.shape}, not a scalar")
        return atomise(x)
    if isinstance(x, sp.MatrixBase):
        if x.shape != (1, 1):
            raise sp.ShapeError(f"matrix of shape {x.shape} used as a scalar")
        return x[0, 0]
    return sp.sympify(x)


def is_matrix(x: Any) -> bool:
    return isinstance(x, (MatrixExpr, sp.MatrixBase)) and x.shape != (1, 1)


_GLOBALS: dict[str, Any] = {
    "__builtins__": {},
    "Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational, "Symbol": sp.Symbol,
    "sqrt": sp.sqrt, "Sum": sp.Sum, "oo": sp.oo, "Abs": sp.Abs, "log": sp.log, "exp": sp.exp,
    "Min": sp.Min, "Max": sp.Max, "pi": sp.pi, "factorial": sp.factorial, "Matrix": sp.ImmutableMatrix,
}


@lru_cache(maxsize=4096)
def compile_statement(text: str):
    """Parse a SymPy-syntax expression once (``^`` is power); bad syntax is InvalidInput."""
    try:
        code = stringify_expr(text, {}, _GLOBALS, (auto_number, convert_xor))
        return compile(code, "<statement>", "eval")
    except (SyntaxError, TypeError, ValueError, TokenError) as exc:
        raise InvalidInput(f"cannot parse {text!r}: {exc.__class__.__name__}: fix the SymPy syntax") from None


def evaluate(text: str, ns: Mapping[str, Any]) -> Any:
    """Evaluate a statement in a realisation's namespace."""
    code = compile_statement(text)
    try:
        return eval(code, _GLOBALS, dict(ns))
    except NameError as exc:
        name = str(exc).split("'")[1] if "'" in str(exc) else str(exc)
        raise InvalidInput(f"unknown name {name!r} in {text!r}: declare it as an object or define it in a 'def' step") from None


@dataclass
class Realisation:
    """A namespace in which statements are evaluated (its kind: symbolic, concrete or instance)."""

    kind: str
    ns: dict[str, Any]
    sizes: dict[str, int]
    maps: dict[str, tuple[str, ...]]
    chain_rule: bool = False
    #: vectors whose norms were taken (candidates for Rayleigh's lemma)
    seen: list = field(default_factory=list)


def _dim(d: str | int, dims: dict[str, Any]) -> Any:
    if isinstance(d, int):
        return d
    if d not in dims:
        raise InvalidInput(f"size {d!r} has no value")
    return dims[d]


def _scalar_symbol(s: Scalar) -> sp.Symbol:
    kwargs: dict[str, bool] = {"real": True}
    if s.positive:
        kwargs["positive"] = True
    elif s.nonnegative:
        kwargs["nonnegative"] = True
    if s.integer:
        kwargs["integer"] = True
    return sp.Symbol(s.name, **kwargs)


def size_names(assumptions: Assumptions) -> list[str]:
    """The size names used by vectors, matrices and maps, in order of appearance."""
    out: list[str] = []
    for o in assumptions.objects:
        dims = {Vector: ("dim",), MatrixVar: ("rows", "cols"), SmoothMap: ("dim_out", "dim_in")}.get(type(o), ())
        for attr in dims:
            d = getattr(o, attr)
            if isinstance(d, str) and d not in out:
                out.append(d)
    return out


def build(assumptions: Assumptions, kind: str, sizes: Mapping[str, int] | None = None,
          maps: Mapping[str, tuple[str, ...]] | None = None) -> Realisation:
    """Build the namespace of one realisation (``symbolic``, ``concrete`` or ``instance``)."""
    sizes = dict(sizes or {})
    maps = dict(maps or {})
    scalars = {o.name: o for o in assumptions.objects if isinstance(o, Scalar)}
    ns: dict[str, Any] = {}
    dims: dict[str, Any] = {}
    fixed = dict(assumptions.sizes)
    for d in size_names(assumptions):
        if kind == "symbolic" and d in fixed:
            dims[d] = fixed[d]
        elif kind == "symbolic":
            dims[d] = _scalar_symbol(scalars[d]) if d in scalars else sp.Symbol(d, integer=True, positive=True)
        else:
            dims[d] = sizes[d]
    for s in scalars.values():
        ns[s.name] = dims[s.name] if s.name in dims else _scalar_symbol(s)
    for d, v in dims.items():
        ns.setdefault(d, v)
    objects = {o.name: o for o in assumptions.objects}
    for o in assumptions.objects:
        if isinstance(o, Vector):
            k = _dim(o.dim, dims)
            ns[o.name] = (sp.MatrixSymbol(o.name, k, 1) if kind == "symbolic"
                          else sp.Matrix([sp.Symbol(f"{o.name}{i + 1}", real=True) for i in range(k)]))
        elif isinstance(o, MatrixVar):
            r, c = _dim(o.rows, dims), _dim(o.cols, dims)
            if kind == "symbolic":
                ns[o.name] = sp.MatrixSymbol(o.name, r, c)
            else:
                ns[o.name] = sp.Matrix(r, c, lambda i, j, nm=o.name: sp.Symbol(f"{nm}{i + 1}{j + 1}", real=True))
    maps_used = [o for o in assumptions.objects if isinstance(o, (SmoothMap, LinearMap))]
    if len(maps_used) > 1:
        raise InvalidInput("declare at most one map F (SmoothMap or LinearMap)")
    real = Realisation(kind, ns, {k: v for k, v in dims.items() if isinstance(v, int)}, dict(maps))
    row = assumptions.gradient == "row"
    w = None
    if maps_used:
        fmap = maps_used[0]
        if fmap.arg not in objects or not isinstance(objects[fmap.arg], Vector):
            raise InvalidInput(f"the argument {fmap.arg!r} of map {fmap.name!r} must be a declared Vector")
        w = ns[fmap.arg]
        if isinstance(fmap, LinearMap):
            if fmap.matrix not in objects or not isinstance(objects[fmap.matrix], MatrixVar):
                raise InvalidInput(f"the matrix {fmap.matrix!r} of linear map {fmap.name!r} must be a declared MatrixVar")
            X = ns[fmap.matrix]
            ns[fmap.name] = lambda v: X * v
            ns["D" + fmap.name] = lambda v: X
            _install_calculus(real, w, None, row, linear=True)
        elif kind == "symbolic":
            n_out = _dim(fmap.dim_out, dims)
            Fw = sp.MatrixSymbol(fmap.name, n_out, 1)
            DFw = sp.MatrixSymbol("D" + fmap.name, n_out, w.shape[0])

            def F_sym(v, Fw=Fw):
                if v != w:
                    raise Unsupported("a general F is opaque away from w")
                return Fw

            def DF_sym(v, DFw=DFw):
                if v != w:
                    raise Unsupported("a general F is opaque away from w")
                return DFw

            ns[fmap.name], ns["D" + fmap.name] = F_sym, DF_sym
            _install_calculus(real, w, (Fw, DFw), row, linear=False)
        else:
            n_out = _dim(fmap.dim_out, dims)
            if fmap.name in maps:
                entries = [evaluate(p, {f"w{j + 1}": w[j] for j in range(w.shape[0])}) for p in maps[fmap.name]]
                if len(entries) != n_out:
                    raise InvalidInput(f"polynomial map {fmap.name} needs {n_out} entries")
                F_at_w = sp.Matrix(entries)
            else:
                F_at_w = sp.Matrix([sp.Function(f"{fmap.name}_{i + 1}", real=True)(*w) for i in range(n_out)])
            J = F_at_w.jacobian(w)

            def F_conc(v, F_at_w=F_at_w):
                return F_at_w if v == w else F_at_w.subs(dict(zip(w, v)), simultaneous=True)

            def DF_conc(v, J=J):
                return J if v == w else J.subs(dict(zip(w, v)), simultaneous=True)

            ns[fmap.name], ns["D" + fmap.name] = F_conc, DF_conc
            _install_calculus(real, w, None, row, linear=False)
    _install_common(real)
    return real


def _install_calculus(real: Realisation, w: Any, opaque: tuple | None, row: bool, linear: bool) -> None:
    ns = real.ns
    symbolic = real.kind == "symbolic"

    def gradient_column(e: Any) -> Any:
        if symbolic:
            if not isinstance(e, MatrixExpr):
                # a scalar in canonical atoms: chain rule through each atom's matrix product
                s = sp.sympify(e)
                if s.has(LambdaMin, LambdaMax):
                    raise Unsupported("gradient of an eigenvalue")
                g = sp.ZeroMatrix(w.shape[0], 1)
                for a in sorted(s.free_symbols & set(ATOMS), key=str):
                    g = g + sp.diff(s, a) * gradient_column(ATOMS[a])
                return g
            if e.shape != (1, 1):
                raise sp.ShapeError(f"gradient of a non-scalar of shape {e.shape}")
            if opaque is None:
                g = e.diff(w)
            else:
                Fw, DFw = opaque
                if DFw in e.free_symbols:
                    raise Unsupported("second derivatives of a general F")
                g = sp.ZeroMatrix(w.shape[0], 1)
                if w in e.free_symbols:
                    g = g + e.diff(w)
                if Fw in e.free_symbols:
                    g = g + DFw.T * e.diff(Fw)
                    real.chain_rule = True
            if g.has(sp.Derivative):
                raise Unsupported("SymPy cannot differentiate this matrix expression")
            return g.doit()
        s = to_scalar(e)
        return sp.Matrix([sp.diff(s, wi) for wi in w])

    def grad(e: Any) -> Any:
        g = gradient_column(e)
        return g.T if row else g

    def D(e: Any) -> Any:
        """Derivative in w: a row for a scalar, the Jacobian for a vector."""
        if not is_matrix(e):
            return gradient_column(e).T
        if symbolic:
            if opaque is not None and e == opaque[0]:
                return opaque[1]
            if linear:
                raise Unsupported("Jacobian of a matrix expression")
            raise Unsupported("Jacobian of a general expression")
        return sp.Matrix(e).jacobian(w)

    def hessian(e: Any) -> Any:
        if symbolic:
            raise Unsupported("Hessian for symbolic sizes")
        return sp.hessian(to_scalar(e), list(w))

    ns.update(grad=grad, D=D, hessian=hessian)


def _install_common(real: Realisation) -> None:
    symbolic = real.kind == "symbolic"

    def norm(v: Any) -> Any:
        if isinstance(v, MatrixExpr):
            real.seen.append(v)
            if v.shape[1] == 1:
                return sp.sqrt(atomise(v.T * v))
            if v.shape[0] == 1:
                return sp.sqrt(atomise(v * v.T))
            raise Unsupported("norm of a matrix")
        if isinstance(v, sp.MatrixBase):
            if 1 not in v.shape:
                raise Unsupported("norm of a matrix")
            return sp.sqrt(sum(x ** 2 for x in v))
        return sp.Abs(v)

    def eye(k: Any) -> Any:
        return sp.Identity(k) if symbolic else sp.eye(int(k))

    def inv(a: Any) -> Any:
        if isinstance(a, MatrixExpr):
            return a.I
        return a.inv()

    def lam(cls: type) -> Callable:
        def f(a: Any) -> Any:
            if a.shape[0] != a.shape[1]:
                raise sp.ShapeError(f"eigenvalue of a non-square matrix of shape {a.shape}")
            return cls(a if isinstance(a, MatrixExpr) else sp.ImmutableMatrix(a))
        return f

    def transpose(a: Any) -> Any:
        return a.T

    real.ns.update(norm=norm, eye=eye, inv=inv, lambda_min=lam(LambdaMin), lambda_max=lam(LambdaMax),
                   transpose=transpose)
