"""SymPy models in the verifier: F as a whitelisted expression tree, with derivatives, in mpmath.iv.

The producer (``SympyModel.describe()``) stores each output as a JSON tree, never as text to evaluate
(docs/rigor.md, "SymPy models in the verifier"). Leaves: ``{"sym": name}`` (a declared parameter or
input), ``{"int": k}``, ``{"rational": "p/q"}``, ``{"const": "pi" | "e"}``; nodes ``{"op": name, "args":
[...]}`` with the ops of :data:`ARITY`. Anything else is a :class:`Failure`. With ``inputs`` and a data
matrix X, output k*r + i is tree i at row k of X (r trees).

Derivatives are second-order forward mode over intervals (no symbolic algebra): every node carries its
value, gradient and Hessian (sparse, upper triangle); for u = g(v), grad u = g'(v) grad v and
Hess u = g'(v) Hess v + g''(v) grad v grad v^T; sums and products by the sum and product rules. Over a
box containing B(w0, R) this encloses every Hessian entry; ||Hess f_k||_2 <= rho(M) for any M >= |Hess f_k|
entrywise (Perron-Frobenius), and rho(M) <= max_i (M x)_i / x_i for every x > 0 (Collatz-Wielandt).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

import numpy as np
from mpmath import iv

from plproof.verify.exact import Failure, IntervalNamespace, MatrixEnclosure, iv_bounds, iv_matrix

CLASS = "plproof.models.sympy_model.SympyModel"
SPEC_KEYS = frozenset({"family", "class", "n_outputs", "n_params", "outputs", "params", "inputs", "X"})
#: number of arguments of each op (None: two or more)
ARITY: dict[str, int | None] = {
    "add": None, "mul": None, "pow": 2, "exp": 1, "log": 1, "sin": 1, "cos": 1, "tan": 1, "tanh": 1,
    "sinh": 1, "cosh": 1, "abs": 1, "sign": 1, "max": None, "min": None}
#: ops without a second derivative: F is then not C^2 and no Hessian bound exists (docs/theory.md §9)
NON_SMOOTH = frozenset({"abs", "sign", "max", "min"})
DIGITS = 30  # decimal digits of the interval endpoints
POWER_STEPS = 64  # power-iteration steps for the Perron vector of the Hessian magnitudes at w0
MAX_EXPONENT = 1000  # |numerator| and denominator of a power's exponent
_RATIONAL = re.compile(r"-?[0-9]{1,4000}(/[0-9]{1,4000})?")

Iv = Any  # an mpmath.iv interval
Node = tuple  # ("param", j) | ("input", k) | ("num", Fraction) | ("const", name) | (op, child ids[, exponent])


class Jet:
    """Value v, gradient g = {j: d/dw_j} and Hessian h = {(i, j), i <= j: d^2/dw_i dw_j} of one node, in
    intervals (absent entries are 0)."""

    __slots__ = ("v", "g", "h")

    def __init__(self, v: Iv, g: dict[int, Iv] | None = None, h: dict[tuple[int, int], Iv] | None = None) -> None:
        self.v, self.g, self.h = v, g or {}, h or {}


def _merge(parts: list[tuple[Iv, dict]]) -> dict:
    """sum_k c_k d_k for scalars c_k and sparse dicts d_k (c = None: 1)."""
    out: dict = {}
    for c, d in parts:
        for key, value in d.items():
            term = value if c is None else c * value
            out[key] = out[key] + term if key in out else term
    return out


def _outer(a: dict[int, Iv], b: dict[int, Iv]) -> dict[tuple[int, int], Iv]:
    """The upper triangle of a b^T + b a^T."""
    out: dict[tuple[int, int], Iv] = {}
    for i, x in a.items():
        for j, y in b.items():
            key = (i, j) if i <= j else (j, i)
            term = x * y if i != j else 2 * x * y
            out[key] = out[key] + term if key in out else term
    return out


def _add(args: list[Jet], order: int) -> Jet:
    v = args[0].v
    for a in args[1:]:
        v = v + a.v
    if order == 0:
        return Jet(v)
    return Jet(v, _merge([(None, a.g) for a in args]), _merge([(None, a.h) for a in args]) if order > 1 else None)


def _mul(a: Jet, b: Jet, order: int) -> Jet:
    """(ab)' = a b' + b a';  (ab)'' = a b'' + b a'' + a' b'^T + b' a'^T."""
    if order == 0:
        return Jet(a.v * b.v)
    g = _merge([(a.v, b.g), (b.v, a.g)])
    if order == 1:
        return Jet(a.v * b.v, g)
    h = _merge([(a.v, b.h), (b.v, a.h), (None, _outer(a.g, b.g))])
    return Jet(a.v * b.v, g, h)


def _chain(u: Jet, f: Iv, f1: Iv, f2: Iv, order: int) -> Jet:
    """g(u): value f = g(u), gradient f1 grad u, Hessian f1 Hess u + f2 grad u grad u^T (f1 = g'(u), f2 = g''(u))."""
    if order == 0:
        return Jet(f)
    g = _merge([(f1, u.g)])
    if order == 1:
        return Jet(f, g)
    square = {key: value / 2 for key, value in _outer(u.g, u.g).items()}
    return Jet(f, g, _merge([(f1, u.h), (f2, square)]))


def _positive(u: Iv, what: str) -> None:
    if not u.a > 0:
        lo, _ = iv_bounds(u)
        raise Failure(f"{what} of an interval reaching {float(lo):.6g} <= 0: F is not C^2 on the box around w0")


def _real_power(u: Iv, q: Fraction) -> Iv:
    """u^q: integer q by repeated products (0 outside u when q < 0); otherwise u >= 0 for q > 0 (the range
    [0, sup u^q] when u touches 0) or u > 0, and exp(q log u)."""
    if q.denominator == 1:
        if q < 0 and not (u.a > 0 or u.b < 0):
            raise Failure(f"the power {q} of an interval containing 0 (a division by zero)")
        return u ** int(q)
    if q > 0 and u.a >= 0 and not u.a > 0:
        return iv.mpf([0, _real_power(u.b, q).b]) if u.b > 0 else iv.mpf(0)
    _positive(u, f"the real power {q}")
    return iv.sqrt(u) if q == Fraction(1, 2) else iv.exp(_to_iv(q) * iv.log(u))


def _tanh(u: Iv) -> Iv:
    """1 - 2/(exp(2u) + 1): u occurs once and every step is monotone, so this is the exact range, rounded out."""
    return 1 - 2 / (iv.exp(2 * u) + 1)


def _sinh(u: Iv) -> Iv:
    """(exp(u) - exp(-u))/2: both terms increase with u, so the interval difference is the exact range."""
    return (iv.exp(u) - iv.exp(-u)) / 2


def _unary(op: str, u: Iv) -> tuple[Iv, Iv, Iv]:
    """(g(u), g'(u), g''(u)) over the interval u for the smooth unary ops."""
    if op == "exp":
        e = iv.exp(u)
        return e, e, e
    if op == "log":
        _positive(u, "log")
        return iv.log(u), 1 / u, -1 / u**2
    if op == "sin":
        s = iv.sin(u)
        return s, iv.cos(u), -s
    if op == "cos":
        c = iv.cos(u)
        return c, -iv.sin(u), -c
    if op == "tan":
        t = iv.tan(u)
        if not (t.a > -math.inf and t.b < math.inf):
            raise Failure("tan of an interval containing a pole: F is unbounded on this box")
        return t, 1 + t**2, 2 * t * (1 + t**2)
    if op == "tanh":
        t = _tanh(u)
        d = 1 - t**2
        return t, d, -2 * t * d
    s = _sinh(u)
    c = iv.sqrt(1 + s**2)  # cosh = sqrt(1 + sinh^2), the exact range since s**2 is the range of the square
    return (s, c, s) if op == "sinh" else (c, s, c)


def _non_smooth(op: str, values: list[Iv], order: int) -> Jet:
    """abs, sign, max, min: values only (not differentiable everywhere, so no derivative is taken)."""
    if order > 0:
        raise Failure(f"F uses {op}, which is not differentiable: F is not C^2 (docs/theory.md §9)")
    u = values[0]
    if op == "abs":
        return Jet(abs(u))
    if op == "sign":
        return Jet(iv.mpf(1) if u.a > 0 else iv.mpf(-1) if u.b < 0 else iv.mpf([-1, 1]))
    pick = max if op == "max" else min
    return Jet(iv.mpf([pick(x.a for x in values), pick(x.b for x in values)]))


def _to_iv(q: Fraction) -> Iv:
    return iv.mpf(q.numerator) / q.denominator


def _float_up(q: Fraction) -> Fraction:
    """The least double >= q, as an exact rational (keeps the Collatz-Wielandt sums small)."""
    try:
        f = float(q)
    except OverflowError:
        raise Failure("a Hessian entry over the box exceeds the double range") from None
    if Fraction(f) < q:
        f = math.nextafter(f, math.inf)
    if math.isinf(f):
        raise Failure("a Hessian entry over the box exceeds the double range")
    return Fraction(f)


Magnitudes = dict[tuple[int, int], Fraction]  # the upper triangle of a symmetric M >= 0 (absent: 0)


def collatz_wielandt(M: Magnitudes, x: dict[int, Fraction]) -> Fraction:
    """max_i (M x)_i / x_i for x > 0: an upper bound on rho(M), hence on ||A||_2 for every symmetric A with
    |A| <= M entrywise (||A||_2 <= rho(|A|) <= rho(M), Perron-Frobenius). For a fixed x it grows with M."""
    Mx: dict[int, Fraction] = {}
    for (i, j), v in M.items():
        Mx[i] = Mx.get(i, 0) + v * x[j]
        if i != j:
            Mx[j] = Mx.get(j, 0) + v * x[i]
    return max((value / x[i] for i, value in Mx.items()), default=Fraction(0))


def perron_vector(M: Magnitudes, m: int) -> dict[int, Fraction]:
    """A positive x close to the Perron vector of M on each connected block (1 off the blocks), from
    POWER_STEPS steps of x <- (M + I) x in Python floats: the same x on every machine, so that producer and
    verifier compute the same bound (only x > 0 matters for the proof)."""
    rows: dict[int, list[tuple[int, float]]] = {}
    for (i, j), v in M.items():
        if v:
            rows.setdefault(i, []).append((j, float(v)))
            if i != j:
                rows.setdefault(j, []).append((i, float(v)))
    x = dict.fromkeys(range(m), 1.0)
    seen: set[int] = set()
    for start in sorted(rows):
        if start in seen:
            continue
        block, todo = [], [start]
        seen.add(start)
        while todo:
            i = todo.pop()
            block.append(i)
            for j, _ in rows[i]:
                if j not in seen:
                    seen.add(j)
                    todo.append(j)
        block.sort()
        for _ in range(POWER_STEPS):
            y = [x[i] + math.fsum(v * x[j] for j, v in rows[i]) for i in block]
            top = max(y)
            if not math.isfinite(top):
                break
            for i, v in zip(block, y):
                x[i] = max(v / top, 2.0**-60)
    return {i: Fraction(v) for i, v in x.items()}


class ExprFamily:
    """A SymPy model rebuilt from its expression tree; all bounds in the verifier's own interval arithmetic."""

    def __init__(self, spec: dict, X: np.ndarray | None = None) -> None:
        """``spec`` = certificate["inputs"]["model"]; ``X``: its data matrix, decoded by the caller when
        spec["X"] is stored as an encoded array (a nested list of numbers is read directly)."""
        if not isinstance(spec, dict):
            raise Failure("inputs.model is not an object")
        unknown = sorted(set(spec) - SPEC_KEYS)
        if unknown:
            raise Failure(f"inputs.model has the unknown key {unknown[0]!r} (a SymPy model has {sorted(SPEC_KEYS)})")
        if spec.get("family") != "sympy" or spec.get("class", CLASS) != CLASS:
            raise Failure(f"inputs.model is {spec.get('family')!r} / {spec.get('class')!r}, not a {CLASS}")
        self.params = _names(spec.get("params"), "params", allow_empty=False)
        self.inputs = _names(spec.get("inputs", []), "inputs", allow_empty=True)
        if set(self.params) & set(self.inputs):
            both = sorted(set(self.params) & set(self.inputs))[0]
            raise Failure(f"inputs.model: {both!r} is both a parameter and an input")
        self.X = _data(spec.get("X") if X is None else X, len(self.inputs))
        outputs = spec.get("outputs")
        if not isinstance(outputs, list) or not outputs:
            raise Failure("inputs.model.outputs must be a non-empty list of expression trees")
        self.nodes: list[Node] = []
        self._ids: dict[Node, int] = {}
        leaves = {**{p: ("param", j) for j, p in enumerate(self.params)},
                  **{s: ("input", k) for k, s in enumerate(self.inputs)}}
        try:
            self.roots = [self._parse(tree, leaves) for tree in outputs]
        except RecursionError:
            raise Failure("inputs.model.outputs is nested too deeply") from None
        self.m = len(self.params)
        self.n = self.X.shape[0] * len(self.roots)
        self._perron: dict[tuple, list[dict[int, Fraction]]] = {}
        depends: list[bool] = []
        for node in self.nodes:
            depends.append(node[0] == "param" or node[0] not in ("input", "num", "const")
                           and any(depends[i] for i in node[1]))
        #: False when a non-smooth op is applied to something depending on w (docs/theory.md §9)
        self.is_smooth = not any(node[0] in NON_SMOOTH and dep for node, dep in zip(self.nodes, depends))
        for key, value in (("n_outputs", self.n), ("n_params", self.m)):
            if key in spec and spec[key] != value:
                raise Failure(f"inputs.model.{key} = {spec[key]!r} but the expression trees give {value}")

    @property
    def n_outputs(self) -> int:
        return self.n

    @property
    def n_params(self) -> int:
        return self.m

    # ------------------------------------------------------------------ parsing (strict whitelist)
    def _intern(self, node: Node) -> int:
        """The id of ``node`` in the DAG (equal subtrees share one id; children precede parents)."""
        if node not in self._ids:
            self._ids[node] = len(self.nodes)
            self.nodes.append(node)
        return self._ids[node]

    def _parse(self, tree: Any, leaves: dict[str, Node]) -> int:
        if not isinstance(tree, dict) or len(tree) == 0:
            raise Failure(f"expression tree: expected an object, got {_show(tree)}")
        keys = set(tree)
        if keys == {"sym"}:
            name = tree["sym"]
            if not isinstance(name, str) or name not in leaves:
                raise Failure(f"expression tree: symbol {_show(name)} is not a declared parameter or input")
            return self._intern(leaves[name])
        if keys in ({"int"}, {"rational"}):
            return self._intern(("num", _number(tree)))
        if keys == {"const"}:
            if tree["const"] not in ("pi", "e"):
                raise Failure(f"expression tree: unknown constant {_show(tree['const'])} (known: pi, e)")
            return self._intern(("const", tree["const"]))
        if keys == {"unsupported"}:
            raise Failure(f"F uses {_show(tree['unsupported'])}, which the verifier cannot evaluate")
        if keys != {"op", "args"}:
            raise Failure(f"expression tree: unknown keys {sorted(map(str, keys))} (a node has op and args)")
        op, args = tree["op"], tree["args"]
        if not isinstance(op, str) or op not in ARITY:
            raise Failure(f"expression tree: unknown op {_show(op)} (known: {', '.join(sorted(ARITY))})")
        arity = ARITY[op]
        if not isinstance(args, list) or (len(args) != arity if arity else len(args) < 2):
            raise Failure(f"expression tree: {op} needs {arity or 'two or more'} arguments")
        if op == "pow":
            if not isinstance(args[1], dict) or set(args[1]) not in ({"int"}, {"rational"}):
                raise Failure("expression tree: the exponent of pow must be an int or rational leaf")
            q = _number(args[1])
            if abs(q.numerator) > MAX_EXPONENT or q.denominator > MAX_EXPONENT:
                raise Failure(f"expression tree: the exponent {q} is too large (at most {MAX_EXPONENT})")
            return self._intern(("pow", (self._parse(args[0], leaves),), q))
        return self._intern((op, tuple(self._parse(a, leaves) for a in args)))

    # ------------------------------------------------------------------ evaluation
    def _jets(self, w: list[Iv], order: int) -> list[list[Jet]]:
        """Per data row, the jets of the outputs at parameter intervals w (order 0: values, 1: and gradients,
        2: and Hessians)."""
        consts = {"pi": iv.pi, "e": iv.e}
        rows = []
        for row in self.X:
            x = [_to_iv(v) for v in row]
            vals: list[Jet] = []
            for node in self.nodes:
                vals.append(self._node(node, vals, w, x, consts, order))
            rows.append([vals[r] for r in self.roots])
        return rows

    @staticmethod
    def _node(node: Node, vals: list[Jet], w: list[Iv], x: list[Iv], consts: dict, order: int) -> Jet:
        kind = node[0]
        if kind == "param":
            j = node[1]
            return Jet(w[j], {j: iv.mpf(1)})
        if kind == "input":
            return Jet(x[node[1]])
        if kind == "num":
            return Jet(_to_iv(node[1]))
        if kind == "const":
            return Jet(consts[node[1]])
        args = [vals[i] for i in node[1]]
        if not any(a.g for a in args):  # independent of w: no derivatives to take
            order = 0
        if kind in NON_SMOOTH:
            return _non_smooth(kind, [a.v for a in args], order)
        if kind == "add":
            return _add(args, order)
        if kind == "mul":
            out = args[0]
            for a in args[1:]:
                out = _mul(out, a, order)
            return out
        u = args[0]
        if kind == "pow":
            q = node[2]
            f1 = _to_iv(q) * _real_power(u.v, q - 1) if order and q != 0 else iv.mpf(0)
            f2 = _to_iv(q * (q - 1)) * _real_power(u.v, q - 2) if order > 1 and q not in (0, 1) else iv.mpf(0)
            return _chain(u, _real_power(u.v, q), f1, f2, order)
        return _chain(u, *_unary(kind, u.v), order)

    def jets(self, w0: np.ndarray, R: Fraction = Fraction(0), order: int = 2) -> list[Jet]:
        """Per output, enclosures of f_k (order 0), grad f_k (order 1) and Hess f_k (order 2) over the box
        w0 +- R (R = 0: at the point w0), in mpmath.iv at DIGITS digits."""
        w = np.asarray(w0).ravel()
        if w.shape != (self.m,):
            raise Failure(f"w0 has {w.size} entries but the model has {self.m} parameters")
        R = Fraction(R)
        if R < 0:
            raise Failure(f"the radius must be >= 0, got {float(R):.6g}")
        try:
            point = [Fraction(v) for v in w.tolist()]
        except (ValueError, OverflowError, TypeError):
            raise Failure("w0 has a non-finite entry") from None
        with IntervalNamespace(DIGITS).active():
            box = [iv.mpf([_to_iv(v - R).a, _to_iv(v + R).b]) for v in point]
            return [jet for row in self._jets(box, order) for jet in row]

    def centre(self, w0: np.ndarray, y: np.ndarray) -> tuple[MatrixEnclosure, Fraction, Fraction, str]:
        """K(w0) = J J^T enclosure (J in intervals at the point w0), L0 = 1/2||F(w0) - y||^2 in [lo, hi],
        and the rigor reached ("verified")."""
        target = [Fraction(v) for v in np.asarray(y).ravel().tolist()]
        if len(target) != self.n:
            raise Failure(f"y has {len(target)} entries but the model has {self.n} outputs")
        jets = self.jets(w0, Fraction(0), 1)
        with IntervalNamespace(DIGITS).active():
            zero = iv.mpf(0)
            J = np.array([[jet.g.get(j, zero) for j in range(self.m)] for jet in jets], dtype=object)
            L0 = sum(((jet.v - _to_iv(t)) ** 2 for jet, t in zip(jets, target)), zero) / 2
            return iv_matrix(J @ J.T), *iv_bounds(L0), "verified"

    def epsilon(self, w0: np.ndarray, R: Fraction) -> Fraction:
        """>= max_k sup over B(w0, R) of ||Hess f_k||_2.

        M_k: upper bounds of |Hess f_k| entrywise over the box w0 +- R (which contains the ball), by the
        interval Hessian; then :func:`collatz_wielandt` with x_k the :func:`perron_vector` of M_k at R = 0.
        x_k depends on w0 alone and interval enclosures only grow with the box, so the bound grows with R.
        """
        if not self.is_smooth:
            raise Failure("F is not C^2 (abs/sign/max/min of w): no Hessian bound over a ball exists "
                          "(docs/theory.md §9)")
        key = tuple(np.asarray(w0).ravel().tolist())
        if key not in self._perron:  # one w0 at a time
            self._perron = {key: [perron_vector(M, self.m) for M in self._magnitudes(w0, Fraction(0))]}
        return max(collatz_wielandt(M, x) for M, x in zip(self._magnitudes(w0, R), self._perron[key]))

    def curvature(self, w: np.ndarray, box: float, y: np.ndarray) -> tuple[float, float]:
        """(sigma, h): sigma >= max(-lambda_min(S), 0) and h >= max(lambda_max(S), 0) of S = sum_k r_k Hess f_k
        at every w' with |w' - w|_inf <= box, r = F(w') - y. The interval jets over the box give S entrywise in
        intervals, enclosed as a float midpoint with covering radii (:func:`plproof.verify.midrad.from_bounds`);
        :func:`plproof.verify.eigen.extremes` bounds every symmetric matrix within the radii's Frobenius norm of
        the midpoint (docs/rigor.md §10, SymPy models). Raises Failure or ArithmeticError where an enclosure is
        unbounded."""
        from plproof.verify.eigen import extremes
        from plproof.verify.midrad import COVER, from_bounds, radius

        if not (math.isfinite(box) and box >= 0):
            raise ArithmeticError("the box is not finite")
        targets = [Fraction(t) for t in np.asarray(y, dtype=np.float64).tolist()]
        jets = self.jets(w, Fraction(box), 2)
        with IntervalNamespace(DIGITS).active():
            S: dict[tuple[int, int], Iv] = {}
            for jet, target in zip(jets, targets):
                c = jet.v - _to_iv(target)
                for key, value in jet.h.items():
                    S[key] = S[key] + c * value if key in S else c * value
            zero = (Fraction(0), Fraction(0))
            ends = [iv_bounds(S[key]) if (key := (min(a, b), max(a, b))) in S else zero
                    for a in range(self.m) for b in range(self.m)]
        enc = from_bounds(ends, (self.m, self.m))
        rad = radius(enc).ravel()
        err = math.nextafter(math.sqrt(float(rad @ rad)) * COVER, math.inf)
        lo, hi = extremes(enc.mid, np.array(err))
        return float(lo), float(hi)

    def _magnitudes(self, w0: np.ndarray, R: Fraction) -> list[Magnitudes]:
        """Per output, upper bounds (doubles, rounded up) on |Hess f_k| over the box w0 +- R."""
        return [{ij: _float_up(max(map(abs, iv_bounds(v)))) for ij, v in jet.h.items()}
                for jet in self.jets(w0, R, 2)]


class MidRadFormulas:
    """F, DF^T r and K = DF DF^T of an :class:`ExprFamily` at a float point as midpoint-radius arrays
    (plproof.verify.midrad, docs/rigor.md §10): the interval jets of order 1 at the point, each interval
    turned into a float midpoint and a covering radius. Duck-typed like the model formulas the generic run
    recipe's re-check evaluates (``F``, ``vjp``, ``kernel`` with a namespace argument, which is MIDRAD)."""

    def __init__(self, family: ExprFamily) -> None:
        self.family = family
        self._last: tuple[bytes, Any, Any] | None = None

    def _at(self, w: np.ndarray) -> tuple[Any, Any]:
        from plproof.verify.midrad import from_bounds

        key = np.asarray(w, dtype=np.float64).tobytes()
        if self._last is None or self._last[0] != key:
            jets = self.family.jets(np.asarray(w, dtype=np.float64), Fraction(0), 1)
            zero = (Fraction(0), Fraction(0))
            F = from_bounds((iv_bounds(j.v) for j in jets), (len(jets),))
            J = from_bounds((iv_bounds(j.g[k]) if k in j.g else zero for j in jets for k in range(self.family.m)),
                            (len(jets), self.family.m))
            self._last = key, F, J
        return self._last[1], self._last[2]

    def F(self, w: np.ndarray, ns: Any) -> Any:
        return self._at(w)[0]

    def vjp(self, w: np.ndarray, r: Any, ns: Any) -> Any:
        return self._at(w)[1].T @ r

    def kernel(self, w: np.ndarray, ns: Any) -> Any:
        J = self._at(w)[1]
        return J @ J.T


def _show(v: Any) -> str:
    return repr(v)[:60]


def _number(leaf: dict) -> Fraction:
    """An ``int`` leaf (a JSON integer) or a ``rational`` leaf (a "p" or "p/q" string), exactly."""
    if "int" in leaf:
        k = leaf["int"]
        if isinstance(k, bool) or not isinstance(k, int):
            raise Failure(f"expression tree: int leaf holds {_show(k)}, not an integer")
        return Fraction(k)
    s = leaf["rational"]
    if not isinstance(s, str) or not _RATIONAL.fullmatch(s):
        raise Failure(f"expression tree: rational leaf holds {_show(s)}, not a 'p/q' string")
    try:
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        raise Failure(f"expression tree: rational leaf {_show(s)} has a zero denominator") from None


def _names(items: Any, what: str, allow_empty: bool) -> list[str]:
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise Failure(f"inputs.model.{what} must be a list of names")
    if not items and not allow_empty:
        raise Failure(f"inputs.model.{what} is empty")
    if len(set(items)) != len(items):
        raise Failure(f"inputs.model.{what} lists a name twice")
    return list(items)


def _data(X: Any, d: int) -> np.ndarray:
    """The data matrix as exact rationals, shape (rows, d); no inputs: one empty row."""
    if d == 0:
        if X is not None:
            raise Failure("inputs.model has data X but no input symbols")
        return np.empty((1, 0), dtype=object)
    if X is None:
        raise Failure("inputs.model has input symbols but no data X")
    if isinstance(X, dict):
        raise Failure("inputs.model.X is an encoded array: decode it and pass it as ExprFamily(spec, X=...)")
    try:
        arr = np.array(X, dtype=object)
        if arr.ndim != 2 or arr.shape[1] != d or arr.shape[0] == 0:
            raise ValueError
        return np.vectorize(_exact, otypes=[object])(arr)
    except (ValueError, TypeError, OverflowError):
        raise Failure(f"inputs.model.X must be a non-empty matrix of finite numbers with {d} columns") from None


def _exact(v: Any) -> Fraction:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, Fraction, np.integer, np.floating)):
        raise TypeError(v)
    return Fraction(v)  # ValueError / OverflowError for NaN and inf


__all__ = ["ARITY", "ExprFamily", "Jet", "collatz_wielandt", "perron_vector"]
