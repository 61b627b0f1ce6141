"""Re-check a ``derivation`` certificate by exact evaluation at random rational instances (no SymPy).

Expressions are parsed with :mod:`ast` against a whitelist (nothing is executed) and evaluated exactly
(:mod:`plproof.verify.algebra`): vectors and matrices of random rationals, a smooth map F as a random quadratic
polynomial map, derivatives by dual numbers. There are INSTANCES instances, each a size assignment from SIZES
(and values of the integer scalars) with TRIES identity points, uniform on a grid of 2^BITS values per input
(hypotheses ignored), and one point satisfying the facts: the hypotheses and the earlier valid inequalities.
Acceptance rule (docs/rigor.md, "Derivation certificates: the independent re-check"):

* stated valid: an identity holds at the first identity point of each instance where both sides have exact
  values, and at one at least; refuted exactly otherwise. By Schwartz-Zippel on the norm of lhs - rhs
  (degree <= DEG_MAX, else the point does not count) each such test errs with probability at most
  TRIES * DEG_MAX / 2^BITS per instance. An inequality or a definition holds (is defined) at every point
  satisfying the facts: evidence only. An induction step: its identities likewise, c >= 0 as evidence;
* stated invalid: refuted exactly at a point satisfying the facts: the stored counterexample, which must then
  refute it if it has exact values, or else a point of the verifier;
* claim_proved and valid are what the stated statuses give (chains of valid steps, as the producer's checker).
A step neither confirmed nor refuted raises Unverifiable. ``quick`` changes nothing (this is fast).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import itertools
import operator
import random
import re
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

from plproof.certificate.format import canonical_json
from plproof.verify.algebra import (Deg, Dual, Mat, NotExact, NotReal, ShapeMismatch, Undefined, bounds, eigen,
                                    inverse, power, scalar, sign, sqrt)
from plproof.verify.exact import Failure, Unverifiable

METHOD = "exact evaluation at random rational instances"
INSTANCES, SIZES, TRIES, BITS, DEG_MAX = 16, (1, 2, 3, 4), 4, 64, 2 ** 16
TESTS_PER_STEP = 10  # identity tests per step at most: its own (an induction: 6), 4 matching sides of the claim
SEARCH, MAX_SIZE = 40, 8  # draws per instance looking for a point satisfying the facts; largest fixed size
_OPEN = (Undefined, ZeroDivisionError, NotExact, ShapeMismatch)
_FLIP = {"<=": ">=", ">=": "<=", "<": ">", ">": "<", "=": "="}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_NODES = (ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Call, ast.Attribute, ast.Tuple, ast.List, ast.Load,
          ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.BitXor, ast.USub, ast.UAdd)
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Pow: lambda a, b: power(a, scalar(b)), ast.BitXor: lambda a, b: power(a, scalar(b))}
_SYMPY_ONLY = {"Abs", "log", "exp", "Min", "Max", "pi", "factorial", "Integer", "Rational", "Float", "Symbol"}
_NO_DEFS = SimpleNamespace(defs={}, map=None, names=lambda node: set())  # for a counterexample's polynomials


def _mat(a: Any) -> Mat:
    return a if isinstance(a, Mat) else Mat([[a]])


def _eye(k: Any) -> Mat:
    if not (isinstance(k, Fraction) and k.denominator == 1 and 0 < k <= MAX_SIZE):
        raise ShapeMismatch(f"eye({k})")
    return Mat([[Fraction(int(i == j)) for j in range(int(k))] for i in range(int(k))])


def _norm(v: Any) -> Any:
    if 1 not in _mat(v).shape:
        raise NotExact("the norm of a matrix")
    return sqrt(sum((x * x for x in _mat(v).entries()), Fraction(0)))


_FUNCS: dict[str, Callable] = {
    "sqrt": lambda x: sqrt(scalar(x)), "norm": _norm, "eye": _eye, "transpose": lambda a: _mat(a).T,
    "inv": lambda a: a.inv() if isinstance(a, Mat) else inverse(a),
    "lambda_min": lambda a: eigen(_mat(a), -1), "lambda_max": lambda a: eigen(_mat(a), 1)}


def _allowed(node: ast.AST) -> bool:
    """The whitelist: arithmetic, integer and float literals, identifiers, calls by name, ``.T .det() .subs()``."""
    if isinstance(node, ast.Name):
        return bool(_NAME.match(node.id))
    if isinstance(node, ast.Attribute):
        return node.attr in ("T", "det", "subs")
    if isinstance(node, ast.Call):
        return not node.keywords and isinstance(node.func, (ast.Name, ast.Attribute))
    if isinstance(node, ast.Constant):
        return type(node.value) in (int, float)
    return isinstance(node, _NODES)


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> ast.expr:
    """The syntax tree of an expression whose every node is in the whitelist (else Failure); nothing is run."""
    try:
        tree = ast.parse(str(text).strip(), mode="eval").body
    except (SyntaxError, ValueError):
        raise Failure(f"derivation: {text!r} is not in the derivation language (syntax)") from None
    for node in ast.walk(tree):
        if not _allowed(node):
            raise Failure(f"derivation: {ast.dump(node)[:60]} in {text!r} is not in the derivation language")
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            raise Unverifiable(f"derivation: the float {node.value} in {text!r} has no exact value to re-check")
    return tree


def _split(text: str) -> tuple[str, str, str]:
    """``"a <= b"`` -> ``("a", "<=", "b")`` at the first relation outside brackets."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch in "([{") - (ch in ")]}")
        for rel in ("<=", ">=", "==", "<", ">", "="):
            if depth == 0 and text.startswith(rel, i):
                return text[:i], "=" if rel == "==" else rel, text[i + len(rel):]
    raise Failure(f"derivation: hypothesis {text!r} has no relation")


def jacobian(f: Callable[[Mat], Any], v: Mat) -> Mat:
    """The Jacobian (k x m) of a scalar- or vector-valued f at the column v (m x 1), by dual numbers."""
    m = v.shape[0]
    out = _mat(f(Mat([[Dual(x, [Fraction(int(i == j)) for j in range(m)])] for i, x in enumerate(v.entries())])))
    if 1 not in out.shape:
        raise NotExact("the derivative of a matrix")
    return Mat([[e.d[j] if isinstance(e, Dual) else Fraction(0) for j in range(m)] for e in out.entries()])


def holds(lhs: Any, rel: str, rhs: Any) -> bool:
    """Whether ``lhs REL rhs``, exactly (matrices only for =, of equal shapes)."""
    if rel == "=":
        return all(sign(x) == 0 for x in _mat(lhs - rhs).entries())
    s = sign(scalar(lhs) - scalar(rhs))
    return {"<=": s <= 0, "<": s < 0, ">=": s >= 0, ">": s > 0}[rel]


def compose(rels: list[str]) -> str | None:
    """The relation a chain proves: = and >= give >=; any > makes it strict; <= with >= breaks it."""
    up, down = any(r in (">=", ">") for r in rels), any(r in ("<=", "<") for r in rels)
    strict = any(r in (">", "<") for r in rels)
    return None if up and down else (">" if strict else ">=") if up else ("<" if strict else "<=") if down else "="


def implies(proved: str, claimed: str) -> bool:
    return claimed == proved or (proved, claimed) in (("=", "<="), ("=", ">="), (">", ">="), ("<", "<="))


def recheck_plan(derivation: dict) -> dict:
    """``inputs.recheck``: this method, its constants, the seed (sha256 of the derivation, so nobody chooses it)
    and a bound on the probability that an identity it confirms is false (a union over its tests)."""
    tests = TESTS_PER_STEP * len(derivation["steps"]) * INSTANCES
    return {"method": METHOD, "instances": INSTANCES, "sizes": list(SIZES),
            "seed": int(hashlib.sha256(canonical_json(derivation).encode()).hexdigest()[:16], 16),
            "failure_probability": str(Fraction(tests * TRIES * DEG_MAX, 2 ** BITS))}


class Env:
    """The values of the inputs at one point; definitions and expressions are evaluated on demand, once."""

    def __init__(self, spec: Any, values: dict, fmap: Callable | None = None) -> None:
        self.spec, self.values, self.fmap, self.cache = spec, values, fmap, {}

    def child(self, **over: Any) -> Env:
        return Env(self.spec, {**self.values, **over}, self.fmap)

    def __call__(self, text: str) -> Any:
        """The value of a definition's name or of an expression."""
        if text not in self.cache:
            self.cache[text] = None  # marks a definition in progress
            try:
                defined = text in self.spec.defs and text not in self.values
                self.cache[text] = self.ev(self.spec.defs[text] if defined else parse(text))
            finally:
                if self.cache[text] is None:
                    del self.cache[text]
        if self.cache[text] is None:
            raise Failure(f"derivation: {text} is defined in terms of itself")
        return self.cache[text]

    def ev(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return Fraction(node.value)
        if isinstance(node, ast.Name) and node.id in self.values:
            return self.values[node.id]
        if isinstance(node, ast.Name) and node.id in self.spec.defs:
            return self(node.id)
        if isinstance(node, ast.UnaryOp):
            return -self.ev(node.operand) if isinstance(node.op, ast.USub) else self.ev(node.operand)
        if isinstance(node, ast.BinOp):
            return _OPS[type(node.op)](self.ev(node.left), self.ev(node.right))
        if isinstance(node, ast.Attribute) and node.attr == "T":
            return _mat(self.ev(node.value)).T
        if isinstance(node, ast.Call):
            return self.call(node.func, node.args)
        raise (Unverifiable if getattr(node, "id", "") in _SYMPY_ONLY else Failure)(
            f"derivation: {ast.unparse(node)!r} is not a declared object, a definition or an expression here")

    def call(self, f: ast.expr, args: list[ast.expr]) -> Any:
        name, fmap = getattr(f, "id", None), self.spec.map
        if isinstance(f, ast.Attribute) and f.attr == "det" and not args:
            return _mat(self.ev(f.value)).det()
        if isinstance(f, ast.Attribute) and f.attr == "subs" and len(args) == 2 and isinstance(args[0], ast.Name):
            return self.child(**{args[0].id: self.ev(args[1])}).ev(f.value)
        if name == "Sum" and len(args) == 2:
            return self.series(*args)
        if name == "Matrix" and len(args) == 1 and isinstance(args[0], ast.List) and args[0].elts:
            rows = [r.elts if isinstance(r, ast.List) else [r] for r in args[0].elts]
            if len({len(r) for r in rows}) != 1:
                raise ShapeMismatch("Matrix rows of different lengths")
            return Mat([[scalar(self.ev(x)) for x in r] for r in rows])
        if name in ("grad", "D", "hessian") and len(args) == 1 and fmap is not None:
            at = lambda u: self.child(**{fmap["arg"]: u}).ev(args[0])  # noqa: E731
            if name == "D":
                return jacobian(at, self.values[fmap["arg"]])
            row = lambda u: jacobian(lambda v: scalar(at(v)), u)  # noqa: E731  (the gradient as a row)
            return jacobian(row, self.values[fmap["arg"]]) if name == "hessian" else \
                row(self.values[fmap["arg"]]) if self.spec.row else row(self.values[fmap["arg"]]).T
        if fmap is not None and name in (fmap["name"], "D" + fmap["name"]) and len(args) == 1:
            v = self.ev(args[0])
            return self.fmap(v) if name == fmap["name"] else jacobian(self.fmap, v)
        if name in _FUNCS and len(args) == 1:
            return _FUNCS[name](self.ev(args[0]))
        raise (Unverifiable if name in _SYMPY_ONLY else Failure)(
            f"derivation: the call {ast.unparse(f)}(...) is not in the derivation language")

    def series(self, body: ast.expr, limits: ast.expr) -> Any:
        """Sum(c*q**i, (i, a, oo)) = c q^a/(1 - q) if |q| < 1: a geometric series by the shape of its body."""
        i, lo, hi = limits.elts if isinstance(limits, ast.Tuple) and len(limits.elts) == 3 else (None,) * 3
        if not (isinstance(i, ast.Name) and getattr(hi, "id", "") == "oo" and self.geometric(body, i.id)):
            raise Unverifiable("derivation: only geometric series Sum(c*q**i, (i, a, oo)) are re-checked here")
        a = scalar(self.ev(lo))
        if not (isinstance(a, Fraction) and a.denominator == 1):
            raise NotExact("a series from a non-integer index")
        first = scalar(self.child(**{i.id: a}).ev(body))
        if isinstance(first, Fraction) and first == 0:
            return first
        q = scalar(self.child(**{i.id: a + 1}).ev(body)) / first
        if not isinstance(q, Deg) and (sign(1 - q) <= 0 or sign(1 + q) <= 0):
            raise Undefined("a divergent series")
        return first / (1 - q)

    def geometric(self, node: ast.expr, i: str) -> bool:
        """A product of factors free of i (through definitions too) and of powers X**i with X free of i."""
        free = lambda n: i not in self.spec.names(n)  # noqa: E731
        if free(node):
            return True
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
            return self.geometric(node.left, i) and (self.geometric(node.right, i) if isinstance(node.op, ast.Mult)
                                                      else free(node.right))
        return isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Pow, ast.BitXor)) and free(node.left) \
            and getattr(node.right, "id", "") == i


class Recheck:
    """A stored derivation read as plain data, its instances (drawn from the seed) and the tests made at them."""

    def __init__(self, d: dict, seed: int) -> None:
        a = d["assumptions"]
        self.objects, self.claim, self.title = a["objects"], d["claim"], d["title"]
        if {o["type"] for o in self.objects} - {"Scalar", "Vector", "MatrixVar", "SmoothMap", "LinearMap"}:
            raise Unverifiable(f"derivation: objects of types {sorted({o['type'] for o in self.objects})}")
        self.map = next((o for o in self.objects if o["type"] in ("SmoothMap", "LinearMap")), None)
        self.row, self.fixed = a["gradient"] == "row", {k: int(v) for k, v in a["sizes"]}
        if any(not 0 < v <= MAX_SIZE for v in self.fixed.values()):
            raise Unverifiable(f"derivation: sizes {self.fixed} above {MAX_SIZE} are not realised here")
        dims = [o.get(k) for o in self.objects for k in ("dim", "rows", "cols", "dim_out", "dim_in")]
        self.free = [s for s in dict.fromkeys(dims) if isinstance(s, str) and s not in self.fixed]
        self.facts = [(parse(x), rel, parse(y)) for x, rel, y in (_split(h["statement"]) for h in a["hypotheses"])]
        self.steps, prev = [], None
        for i, s in enumerate(d["steps"]):
            lhs = prev if s["lhs"] is None else s["lhs"]
            if lhs is None or s["relation"] not in ("=", "<=", ">=", "<", ">", "def"):
                raise Failure(f"derivation: step {i + 1} has no left-hand side or an unknown relation")
            self.steps.append(SimpleNamespace(id=s["id"] or str(i + 1), lhs=lhs, given=s["lhs"] is not None,
                                              rel=s["relation"], rhs=s["rhs"], by=s["by"]))
            prev = prev if s["relation"] == "def" else s["rhs"]
        self.defs = {s.lhs: parse(s.rhs) for s in self.steps if s.rel == "def"}
        self.rng, self.memo, self.chain, self.instances = random.Random(f"{seed}"), {}, [], []
        combos, grid = list(itertools.product(SIZES, repeat=len(self.free))), 2 ** BITS
        self.rng.shuffle(combos)

        def uniform(name: str, kind: str) -> Fraction:  # one of 2^BITS values in (0, 1], or in [-1, 1) if "real"
            return Fraction(self.rng.randrange(1, grid + 1) if kind != "real" else 2 * self.rng.randrange(grid) - grid,
                            grid)
        for i in range(INSTANCES):
            sizes = {**self.fixed, **dict(zip(self.free, combos[i % len(combos)]))}
            ints = {o["name"]: Fraction(self.rng.choice((1, 2, 3, 4) if o["positive"] else (0, 1, 2, 3)))
                    for o in self.objects if o["type"] == "Scalar" and o["integer"] and o["name"] not in sizes}
            self.instances.append(SimpleNamespace(
                sizes=sizes, ints=ints, deg=self.realise(sizes, ints, lambda *_: Deg(1)),
                points=[self.realise(sizes, ints, uniform) for _ in range(TRIES)]))
            self.instances[-1].fact = self.search(sizes, ints)

    def names(self, node: ast.expr) -> set[str]:
        """Every name an expression uses, through the definitions it uses."""
        out, todo = set(), [node]
        while todo:
            for n in ast.walk(todo.pop()):
                if isinstance(n, ast.Name) and n.id not in out:
                    out.add(n.id)
                    todo += [self.defs[n.id]] if n.id in self.defs else []
        return out

    def realise(self, sizes: dict, ints: dict, leaf: Callable[[str, str], Any], cx: dict | None = None) -> Env:
        """Every object at these sizes: each free input is ``leaf(name, kind)`` (kind pos, nonneg or real) unless
        the counterexample cx gives it; F is a random quadratic map, or the polynomials of cx."""
        def get(name: str, kind: str) -> Any:
            try:
                return Fraction(cx[name]) if cx is not None and name in cx else leaf(name, kind)
            except (TypeError, ValueError, ZeroDivisionError):
                raise Failure(f"derivation: the counterexample's {name} = {cx[name]!r} is not a rational") from None

        dim = lambda x: sizes[x] if isinstance(x, str) else int(x)  # noqa: E731
        vals: dict[str, Any] = {k: Fraction(v) for k, v in sizes.items()}  # a size name is its value
        for o in self.objects:
            n, t = o["name"], o["type"]
            if t == "Scalar" and n not in sizes:
                kind = "pos" if o["positive"] else "nonneg" if o["nonnegative"] else "real"
                vals[n] = ints[n] if o["integer"] else get(n, kind)
            elif t in ("Vector", "MatrixVar"):  # entries named as the producer's: w1, w2, ...; X11, X12, ...
                r, c = (dim(o["dim"]), 1) if t == "Vector" else (dim(o["rows"]), dim(o["cols"]))
                name = (lambda i, j: f"{n}{i + 1}") if t == "Vector" else (lambda i, j: f"{n}{i + 1}{j + 1}")
                vals[n] = Mat([[get(name(i, j), "real") for j in range(c)] for i in range(r)])
        m, fmap = self.map, None
        if m is not None and m["type"] == "LinearMap":
            fmap = lambda v, X=vals[m["matrix"]]: X * v  # noqa: E731
        elif m is not None:
            k, n_out, coef = dim(m["dim_in"]), dim(m["dim_out"]), {}
            if cx is not None and m["name"] in cx:
                polys = [parse(p) for p in cx[m["name"]]]
            else:  # F_i(w) = sum of c_ij * (1, w_j, w_j w_l), coefficients random inputs
                monos = [""] + [f"*w{j + 1}" for j in range(k)] + \
                    [f"*w{i + 1}*w{j + 1}" for i, j in itertools.combinations_with_replacement(range(k), 2)]
                coef = {f"c{i}_{j}": leaf(f"{m['name']}{i}_{j}", "real")
                        for i in range(n_out) for j in range(len(monos))}
                polys = [parse(" + ".join(f"c{i}_{j}{x}" for j, x in enumerate(monos))) for i in range(n_out)]
            if len(polys) != n_out:
                raise Failure(f"derivation: the map {m['name']} of a counterexample has {len(polys)} entries")

            def fmap(v: Any) -> Mat:
                if not (isinstance(v, Mat) and v.shape == (k, 1)):
                    raise ShapeMismatch(f"{m['name']} takes a {k} x 1 vector")
                at = Env(_NO_DEFS, {**coef, **{f"w{j + 1}": x for j, x in enumerate(v.entries())}})
                return Mat([[at.ev(p)] for p in polys])
        return Env(self, vals, fmap)

    def satisfied(self, env: Env) -> bool | None:
        """Declared signs and the facts hold exactly at env; None if a fact has no exact value at these sizes."""
        for o in (o for o in self.objects if o["type"] == "Scalar"):
            v = env.values[o["name"]]
            if o["positive"] and v <= 0 or o["nonnegative"] and v < 0 or o["integer"] and v.denominator != 1:
                return False
        try:
            return all(holds(env.ev(x), rel, env.ev(y)) for x, rel, y in self.facts)
        except NotExact:
            return None
        except _OPEN:
            return False

    def search(self, sizes: dict, ints: dict, cx: dict | None = None) -> Env | None:
        """A point satisfying the facts: small random rationals, a scalar x moved to the right side of a failing
        fact ``x REL e`` (three passes); None after SEARCH draws."""
        def leaf(name: str, kind: str) -> Fraction:  # 0 a quarter of the time if non-negative
            x = Fraction(self.rng.randint(1, 20), self.rng.randint(1, 8))
            if kind == "nonneg":
                return x * (self.rng.random() > 0.25)
            return -x if kind == "real" and self.rng.random() < 0.5 else x
        movable = {o["name"] for o in self.objects if o["type"] == "Scalar" and not o["integer"]} - set(cx or ())
        for _ in range(SEARCH):
            env = self.realise(sizes, ints, leaf, cx)
            for x, rel, y in self.facts * 3:
                for var, r, e in ((x, rel, y), (y, _FLIP[rel], x)):
                    if not (isinstance(var, ast.Name) and var.id in movable):
                        continue
                    try:
                        if holds(env.ev(var), r, env.ev(e)):
                            break
                        lo, hi = bounds(scalar(env.ev(e)), 64)
                    except _OPEN:
                        break
                    up = r in (">", ">=")
                    bound = hi if up else lo  # a rational on the right side of e (e itself if rational)
                    if (bound > 0 or bound == 0 and r in ("<=", ">=")) and (r != "=" or lo == hi):
                        factor = self.rng.choice([1] * (r in ("<=", ">=", "=")) + [Fraction(11, 10), 2, 10] * up +
                                                 [Fraction(1, 10), Fraction(1, 2)] * (r in ("<", "<=")))
                        env = env.child(**{var.id: bound * factor})
                    break
            if (ok := self.satisfied(env)) is not False:
                return env if ok else None
        return None

    def points(self) -> list[Env]:
        """Each instance's point satisfying the facts so far (drawn again when a new fact fails there)."""
        for inst in self.instances:
            if inst.fact is not None and not self.satisfied(inst.fact):
                inst.fact = self.search(inst.sizes, inst.ints)
        return [inst.fact for inst in self.instances if inst.fact is not None]

    def learn(self, s: Any, valid: bool) -> None:
        """The producer's facts after a step: a valid inequality and the relation its chain proves so far."""
        if s.rel != "def":
            self.chain = (self.chain if not s.given else []) + [s] if valid else []
            new = {(s.lhs, s.rel), (self.chain[0].lhs, compose([t.rel for t in self.chain]))} if valid else set()
            self.facts += [(parse(lhs), rel, parse(s.rhs)) for lhs, rel in new if rel not in (None, "=")]

    def outcome(self, env: Env, lhs: str, rel: str, rhs: str) -> bool | None:
        """Whether lhs REL rhs holds at env, exactly; None if undecided. A side that is not real fails an inequality
        or a definition; no value (a division by zero, a divergent sum) fails a definition only."""
        try:
            return env(lhs) is not None if rel == "def" else holds(env(lhs), rel, env(rhs))
        except ShapeMismatch:
            return False
        except NotReal:
            return None if rel == "=" else False
        except (Undefined, ZeroDivisionError):
            return False if rel == "def" else None
        except NotExact:
            return None

    def identity(self, a: str, b: str) -> tuple[str, str]:
        """a = b at the first identity point of each instance where it is decided: valid (at least once), invalid
        (refuted exactly) or open (never decided, or only where the degree bound exceeds DEG_MAX)."""
        if (a, b) not in self.memo:
            done = 0
            for inst in self.instances:
                r = next((r for r in (self.outcome(env, a, "=", b) for env in inst.points) if r is not None), None)
                if r is False:
                    self.memo[a, b] = "invalid", f"{a} = {b} fails at sizes {inst.sizes}"
                    break
                done += bool(r) and self.degree(inst, a, b) <= DEG_MAX
            else:
                self.memo[a, b] = ("valid", f"identity at {done}/{INSTANCES} instances") if done else \
                    ("open", f"{a} = {b} has exact values at no instance")
        return self.memo[a, b]

    def degree(self, inst: Any, a: str, b: str) -> int:
        try:
            return max(x.bound() if isinstance(x, Deg) else 0 for x in _mat(inst.deg(a) - inst.deg(b)).entries())
        except _OPEN:
            return DEG_MAX + 1

    def same(self, a: str, b: str) -> bool:
        return a.replace(" ", "") == b.replace(" ", "") or self.identity(a, b)[0] == "valid"

    def evidence(self, lhs: str, rel: str, rhs: str) -> tuple[str, str]:
        """lhs REL rhs at every point satisfying the facts: valid (evidence only), invalid (exactly) or open."""
        results = [self.outcome(env, lhs, rel, rhs) for env in self.points()]
        if False in results:
            return "invalid", f"{lhs} {rel} {rhs} fails at an instance satisfying the hypotheses"
        if True not in results:
            return "open", "no instance satisfying the hypotheses decides it"
        return "valid", f"{'defined' if rel == 'def' else 'holds'} at {results.count(True)} instances satisfying " \
            "the hypotheses (evidence)"

    def refute(self, lhs: str, rel: str, rhs: str, cx: Any) -> tuple[str, str]:
        """invalid where lhs REL rhs fails with the facts holding: at the counterexample, which must not be wrong if
        it has exact values, else at a point of the verifier; open if neither refutes it."""
        if not isinstance(cx, dict) or any(s not in cx for s in self.free):
            raise Failure(f"derivation: {lhs} {rel} {rhs} is stated invalid without a counterexample (with sizes)")
        sizes = {**self.fixed, **{s: int(Fraction(cx[s])) for s in self.free}}
        ints = {o["name"]: Fraction(cx.get(o["name"], self.rng.choice((1, 2, 3)))) for o in self.objects
                if o["type"] == "Scalar" and o["integer"] and o["name"] not in sizes}
        env = self.search(sizes, ints, cx)
        if (r := None if env is None else self.outcome(env, lhs, rel, rhs)) is not None:
            if r:
                raise Failure(f"derivation: the stored counterexample does not refute {lhs} {rel} {rhs}")
            return "invalid", "refuted exactly at its counterexample"
        if any(self.outcome(env, lhs, rel, rhs) is False for env in self.points()):
            return "invalid", "refuted exactly at an instance of the verifier"
        return "open", "neither its counterexample nor the verifier's instances refute it exactly"

    def induction(self, k: int, step: Any, said: str, cx: Any) -> tuple[str, str]:
        """Induction (plproof.symbolic.lemmas): a valid chain ending at the premise from ``next`` to c*current, c
        free of current, next and index, gives current <= c**index*initial; valid if c >= 0, invalid where c < 0."""
        lem, rels = step.by, [s for s in self.steps[:k] if s.rel != "def"]
        if lem.get("type") != "Induction" or lem.get("premise") not in [s.id for s in rels]:
            raise Unverifiable(f"derivation: step {step.id} cites {lem.get('type')}, premise {lem.get('premise')!r}")
        end = start = [s.id for s in rels].index(lem["premise"])
        while start > 0 and not rels[start].given:
            start -= 1
        chain, (cur, nxt, init, idx) = rels[start:end + 1], (lem[f] for f in ("current", "next", "initial", "index"))
        index = [o for o in self.objects if o["name"] == idx and o["type"] == "Scalar" and o["integer"]]
        ratio = f"(({chain[-1].rhs})/({cur}))"
        c = f"{ratio}.subs({cur}, 1)"
        if not (all(s.status == "valid" for s in chain) and compose([s.rel for s in chain]) in ("<=", "<", "=")
                and step.rel == "<=" and index and (index[0]["nonnegative"] or index[0]["positive"])
                and _NAME.match(cur) and _NAME.match(nxt)):
            return "unverified", "the premise chain, the relation or the index do not fit the induction lemma"
        for a, b in [(chain[0].lhs, nxt), (step.lhs, cur), (step.rhs, f"{c}**({idx})*({init})")] + \
                [(ratio, f"{ratio}.subs({x}, {x} + 1)") for x in (cur, nxt, idx)]:
            if not self.same(a, b):
                verdict, why = self.identity(a, b)
                return "unverified" if verdict == "invalid" else "open", f"induction: {why}"
        verdict, why = self.evidence(c, ">=", "0") if said == "valid" and cx is None else \
            self.refute(c, ">=", "0", cx)
        return verdict, f"induction, its hypothesis {c} >= 0: {why}"

    def claim_proved(self) -> bool:
        """A chain of valid steps from one side of the claim to the other, of a relation that gives the claim."""
        c, chains, cur = self.claim, [], []
        for s in (s for s in self.steps if s.rel != "def"):
            if (s.given or s.status != "valid") and cur:
                chains, cur = chains + [cur], []
            cur += [s] if s.status == "valid" else []
        for chain in [ch for ch in chains + [cur] if ch and c is not None]:
            exprs = [chain[0].lhs] + [s.rhs for s in chain]
            for i, j in itertools.combinations(range(len(exprs)), 2):
                rel = compose([s.rel for s in chain[i:j]])
                ends = ((c["lhs"], c["rhs"], rel), (c["rhs"], c["lhs"], _FLIP.get(rel)))
                if rel is not None and any(implies(r, c["relation"]) and self.same(exprs[i], x)
                                           and self.same(exprs[j], y) for x, y, r in ends):
                    return True
        return False


def check_derivation(cert: dict, base: Path | None, quick: bool, checked: list[str]) -> None:
    """Every step's status, claim_proved and valid, re-checked at random rational instances (module docstring)."""
    inputs, evidence = cert["inputs"], cert["evidence"]
    plan = recheck_plan(inputs["derivation"])
    if inputs.get("recheck") != plan:
        raise Failure(f"derivation: inputs.recheck is {inputs.get('recheck')}, this verifier's method gives {plan}")
    rc, stated = Recheck(inputs["derivation"], plan["seed"]), evidence["steps"]
    if [(e["id"], e.get("lhs"), e.get("relation"), e.get("rhs")) for e in stated] != \
            [(s.id, s.lhs, s.rel, s.rhs) for s in rc.steps]:
        raise Failure("derivation: the steps of the evidence are not those of the derivation")
    for s, e in zip(rc.steps, stated):
        s.status = e["status"]
    for k, (s, e) in enumerate(zip(rc.steps, stated)):
        said, cx = e["status"], e.get("counterexample")
        verdict, why = ("unverified", "no claim to re-check") if said == "unverified" else \
            rc.induction(k, s, said, cx) if s.by is not None else \
            rc.refute(s.lhs, s.rel, s.rhs, cx) if said == "invalid" or cx is not None else \
            rc.identity(s.lhs, s.rhs) if s.rel == "=" else rc.evidence(s.lhs, s.rel, s.rhs)
        if verdict != said:
            text = f"derivation step {s.id} ({s.lhs} {s.rel} {s.rhs}): the certificate says {said!r}, the re-check "
            raise Unverifiable(text + f"cannot decide it here: {why}") if verdict == "open" else \
                Failure(text + f"finds {verdict!r}: {why}")
        checked.append(f"step {s.id}: {said}, {why}")
        rc.learn(s, said == "valid")
    proved = rc.claim_proved()
    valid = proved and all(s.status == "valid" for s in rc.steps)
    for key, value in (("claim_proved", proved), ("valid", valid)):
        if evidence[key] != value:
            raise Failure(f"derivation: the certificate says {key} = {evidence[key]}, the re-check finds {value}")
    checked.append(f"derivation {rc.title!r}: {'valid' if valid else 'not valid'}, as stated; an identity confirmed "
                   f"here is false with probability <= {plan['failure_probability']}")
