"""Re-check a ``derivation`` certificate by exact evaluation at random rational instances, not by SymPy.

Expressions are parsed with :mod:`ast` against a whitelist (never eval) and evaluated exactly
(:mod:`plproof.verify.algebra`): vectors and matrices of random rationals, a smooth map F as a random
quadratic polynomial map, derivatives by dual numbers, square roots in Q(sqrt a_1, ...), lambda_min of
matrices up to 2 x 2. INSTANCES instances, each a size assignment from SIZES (and values of the integer
scalars), with TRIES identity points (uniform on a grid of 2^BITS values per input, hypotheses ignored)
and one point satisfying the hypotheses. Acceptance rule (docs/rigor.md, "Derivation certificates"):

* stated valid: an identity (=) holds at the first identity point of every instance where it is
  defined (refuted exactly otherwise), at least once; by Schwartz-Zippel on the norm of lhs - rhs (degree
  <= DEG_MAX, else the instance does not count) every such confirmation is wrong with probability at
  most TRIES * DEG_MAX / 2^BITS. An inequality or a definition holds at every instance satisfying the
  hypotheses: evidence only. An induction step: its identities and the hypothesis c >= 0 likewise;
* stated invalid: refuted exactly at an instance satisfying the hypotheses, at the stored counterexample
  (which must then refute it whenever it can be evaluated) or at one of the verifier's own;
* claim_proved and valid are what the stated statuses give (chains of valid steps, as the checker).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import itertools
import math
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
TESTS_PER_STEP = 9  # identity tests: the step itself (5 for an induction) and at most 4 matching the claim
_OPEN = (Undefined, ZeroDivisionError, NotExact, ShapeMismatch)  # no exact value here
SEARCH = 40  # draws per instance when looking for a point that satisfies the hypotheses
FLIP = {"<=": ">=", ">=": "<=", "<": ">", ">": "<", "=": "="}
_NODES = (ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Call, ast.Attribute, ast.Tuple, ast.List, ast.Load,
          ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.BitXor, ast.USub, ast.UAdd)
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Pow: lambda a, b: power(a, scalar(b)), ast.BitXor: lambda a, b: power(a, scalar(b))}
_SYMPY_ONLY = {"Abs", "log", "exp", "Min", "Max", "pi", "factorial", "Integer", "Rational", "Float", "Symbol"}
_FUNCS: dict[str, Callable] = {
    "sqrt": lambda x: sqrt(scalar(x)), "transpose": lambda a: a.T if isinstance(a, Mat) else a,
    "inv": lambda a: a.inv() if isinstance(a, Mat) else inverse(a), "eye": lambda k: _eye(k),
    "lambda_min": lambda a: eigen(_mat(a), -1), "lambda_max": lambda a: eigen(_mat(a), 1), "norm": lambda v: _norm(v)}


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> ast.expr:
    """The syntax tree of an expression, every node in the whitelist (else Failure: nothing is executed)."""
    try:
        tree = ast.parse(str(text).strip(), mode="eval").body
    except (SyntaxError, ValueError):
        raise Failure(f"derivation: {text!r} is not in the derivation language (syntax)") from None
    for node in ast.walk(tree):
        if (not isinstance(node, _NODES) or isinstance(node, ast.Name) and not re.match(r"[A-Za-z][A-Za-z0-9_]*\Z", node.id)
                or isinstance(node, ast.Attribute) and node.attr not in ("T", "det", "subs")
                or isinstance(node, ast.Call) and (node.keywords or not isinstance(node.func, (ast.Name, ast.Attribute)))
                or isinstance(node, ast.Constant) and type(node.value) not in (int, float)):
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


def _mat(a: Any) -> Mat:
    return a if isinstance(a, Mat) else Mat([[a]])


def _eye(k: Any) -> Mat:
    if not (isinstance(k, Fraction) and k.denominator == 1 and k > 0):
        raise ShapeMismatch(f"eye({k})")
    return Mat([[Fraction(int(i == j)) for j in range(int(k))] for i in range(int(k))])


def _norm(v: Any) -> Any:
    if isinstance(v, Mat) and 1 not in v.shape:
        raise NotExact("the norm of a matrix")
    return sqrt(sum((x * x for x in _mat(v).entries()), Fraction(0)))


def jacobian(f: Callable[[Mat], Any], v: Mat) -> Mat:
    """The Jacobian (k x m) at the column v (m x 1) of f, scalar- or vector-valued, by dual numbers."""
    m = v.shape[0]
    out = f(Mat([[Dual(x, [Fraction(int(i == j)) for j in range(m)])] for i, x in enumerate(v.entries())]))
    if isinstance(out, Mat) and 1 not in out.shape:
        raise NotExact("the derivative of a matrix")
    return Mat([[e.d[j] if isinstance(e, Dual) else Fraction(0) for j in range(m)] for e in _mat(out).entries()])


def holds(lhs: Any, rel: str, rhs: Any) -> bool:
    """Whether ``lhs REL rhs``, exactly (matrices only for =, of equal shapes)."""
    if rel == "=":
        d = lhs - rhs
        return all(sign(x) == 0 for x in (d.entries() if isinstance(d, Mat) else [d]))
    s = sign(scalar(lhs) - scalar(rhs))
    return {"<=": s <= 0, "<": s < 0, ">=": s >= 0, ">": s > 0}[rel]


def compose(rels: list[str]) -> str | None:
    """The relation a chain proves: = and >= give >=; any > makes it strict; <= with >= breaks it."""
    up, down = any(r in (">=", ">") for r in rels), any(r in ("<=", "<") for r in rels)
    if up and down:
        return None
    strict = any(r in (">", "<") for r in rels)
    return ((">" if strict else ">=") if up else ("<" if strict else "<=")) if up or down else "="


def implies(proved: str, claimed: str) -> bool:
    return claimed == proved or (proved, claimed) in (("=", "<="), ("=", ">="), (">", ">="), ("<", "<="))


def recheck_plan(derivation: dict) -> dict:
    """The ``inputs.recheck`` field: this method, its constants, the seed (sha256 of the derivation) and the
    probability that some identity the re-check confirms is false (a union bound over its tests)."""
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
        if text not in self.cache:
            self.cache[text] = None  # a definition that uses itself finds this marker
            try:
                self.cache[text] = self.ev(self.spec.defs.get(text) or parse(text))
            finally:
                if self.cache[text] is None:
                    del self.cache[text]
        if self.cache[text] is None:
            raise Failure(f"derivation: {text} is defined in terms of itself")
        return self.cache[text]

    def ev(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return Fraction(node.value)
        if isinstance(node, ast.Name):
            if node.id in self.values:
                return self.values[node.id]
            if node.id in self.spec.defs:
                return self(node.id)
            raise (Unverifiable if node.id in _SYMPY_ONLY else Failure)(f"derivation: unknown name {node.id!r}")
        if isinstance(node, ast.UnaryOp):
            return -self.ev(node.operand) if isinstance(node.op, ast.USub) else self.ev(node.operand)
        if isinstance(node, ast.BinOp):
            return _OPS[type(node.op)](self.ev(node.left), self.ev(node.right))
        if isinstance(node, ast.Attribute) and node.attr == "T":
            return _mat(self.ev(node.value)).T
        if isinstance(node, ast.Call):
            return self.call(node.func, node.args)
        raise Failure(f"derivation: {ast.unparse(node)!r} is not in the derivation language here")

    def call(self, f: ast.expr, args: list[ast.expr]) -> Any:
        if isinstance(f, ast.Attribute) and f.attr == "det" and not args:
            return _mat(self.ev(f.value)).det()
        if isinstance(f, ast.Attribute) and f.attr == "subs" and len(args) == 2 and isinstance(args[0], ast.Name):
            return self.child(**{args[0].id: self.ev(args[1])}).ev(f.value)
        name, fmap = getattr(f, "id", None), self.spec.map
        if name == "Sum" and len(args) == 2:
            return self.series(*args)
        if name == "Matrix" and len(args) == 1 and isinstance(args[0], ast.List) and args[0].elts:
            rows = [r.elts if isinstance(r, ast.List) else [r] for r in args[0].elts]
            if len({len(r) for r in rows}) != 1:
                raise ShapeMismatch("rows of different lengths")
            return Mat([[scalar(self.ev(x)) for x in r] for r in rows])
        if name in ("grad", "D", "hessian") and len(args) == 1 and fmap is not None:
            w, x = self.values[fmap["arg"]], args[0]
            if name == "D":
                return jacobian(lambda u: self.child(**{fmap["arg"]: u}).ev(x), w)
            g = jacobian(lambda u: scalar(self.child(**{fmap["arg"]: u}).ev(x)), w)
            if name == "hessian":
                return jacobian(lambda u: jacobian(lambda v: scalar(self.child(**{fmap["arg"]: v}).ev(x)), u), w)
            return g if self.spec.row else g.T
        if fmap is not None and name in (fmap["name"], "D" + fmap["name"]) and len(args) == 1:
            v = self.ev(args[0])
            return self.fmap(v) if name == fmap["name"] else jacobian(self.fmap, v)
        if name in _FUNCS and len(args) == 1:
            return _FUNCS[name](self.ev(args[0]))
        raise (Unverifiable if name in _SYMPY_ONLY else Failure)(
            f"derivation: the call {ast.unparse(f)}(...) is not in the derivation language")

    def series(self, body: ast.expr, limits: ast.expr) -> Any:
        """Sum(c*q**i, (i, a, oo)) = c q^a/(1 - q) for |q| < 1, a geometric series by the shape of its body."""
        i, lo, hi = limits.elts if isinstance(limits, ast.Tuple) and len(limits.elts) == 3 else (None,) * 3
        if not (isinstance(i, ast.Name) and getattr(hi, "id", None) == "oo" and self.geometric(body, i.id)):
            raise Unverifiable(f"derivation: only geometric series Sum(c*q**i, (i, a, oo)) are re-checked, "
                               f"not {ast.unparse(body)}")
        a = scalar(self.ev(lo))
        first = scalar(self.child(**{i.id: a}).ev(body))
        if not isinstance(a, Fraction) or a.denominator != 1:
            raise NotExact("a series from a non-integer index")
        if isinstance(first, Fraction) and first == 0:
            return first
        q = scalar(self.child(**{i.id: a + 1}).ev(body)) / first
        if not isinstance(q, Deg) and (sign(1 - q) <= 0 or sign(1 + q) <= 0):
            raise Undefined("a divergent series")
        return first / (1 - q)

    def geometric(self, node: ast.expr, i: str) -> bool:
        """The body is a product of factors free of i and powers X**i with X free of i (definitions included)."""
        if i not in self.spec.names(node):
            return True
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
            return self.geometric(node.left, i) and (isinstance(node.op, ast.Mult) and self.geometric(node.right, i)
                                                      or i not in self.spec.names(node.right))
        return (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Pow, ast.BitXor)) and
                i not in self.spec.names(node.left) and getattr(node.right, "id", None) == i)


class Spec:
    """The stored derivation as plain data: objects, sizes, hypotheses, definitions and steps."""

    def __init__(self, d: dict) -> None:
        a = d["assumptions"]
        self.objects, self.claim, self.title = a["objects"], d["claim"], d["title"]
        kinds = {o["type"] for o in self.objects} - {"Scalar", "Vector", "MatrixVar", "SmoothMap", "LinearMap"}
        if kinds:
            raise Unverifiable(f"derivation: objects of type {sorted(kinds)} cannot be realised here")
        maps = [o for o in self.objects if o["type"] in ("SmoothMap", "LinearMap")]
        self.map, self.row, self.fixed = (maps or [None])[0], a["gradient"] == "row", {k: int(v) for k, v in a["sizes"]}
        dims = [o[k] for o in self.objects for k in ("dim", "rows", "cols", "dim_out", "dim_in") if isinstance(o.get(k), str)]
        self.free = [s for s in dict.fromkeys(dims) if s not in self.fixed]
        self.hyps = [(parse(lhs), rel, parse(rhs)) for lhs, rel, rhs in (_split(h["statement"]) for h in a["hypotheses"])]
        self.steps, prev = [], None
        for i, s in enumerate(d["steps"]):
            lhs = s["lhs"] if s["lhs"] is not None else prev
            if lhs is None or s["relation"] not in ("=", "<=", ">=", "<", ">", "def"):
                raise Failure(f"derivation: step {i + 1} has no left-hand side or an unknown relation")
            self.steps.append(SimpleNamespace(id=s["id"] or str(i + 1), lhs=lhs, given=s["lhs"] is not None,
                                              rel=s["relation"], rhs=s["rhs"], by=s["by"]))
            prev = prev if s["relation"] == "def" else s["rhs"]
        self.defs = {s.lhs: parse(s.rhs) for s in self.steps if s.rel == "def"}

    def names(self, node: ast.expr) -> set[str]:
        """Every name an expression uses, through the definitions it uses."""
        out: set[str] = set()
        todo = [node]
        while todo:
            for n in ast.walk(todo.pop()):
                if isinstance(n, ast.Name) and n.id not in out:
                    out.add(n.id)
                    todo += [self.defs[n.id]] if n.id in self.defs else []
        return out

    def realise(self, sizes: dict, ints: dict, leaf: Callable[[str, str], Any], cx: dict | None = None) -> Env:
        """Every object at the given sizes; ``leaf(name, kind)`` (kind pos, nonneg, real) for each free input,
        unless the counterexample ``cx`` gives it."""
        def get(name: str, kind: str) -> Any:
            if cx is not None and name in cx:
                try:
                    return Fraction(cx[name])
                except (TypeError, ValueError, ZeroDivisionError):
                    raise Failure(f"derivation: counterexample value {name} = {cx[name]!r} is not a rational") from None
            return leaf(name, kind)

        dim = lambda d: sizes[d] if isinstance(d, str) else int(d)  # noqa: E731
        vals: dict[str, Any] = {k: Fraction(v) for k, v in sizes.items()}  # a size name is its value
        for o in self.objects:
            n, t = o["name"], o["type"]
            if t == "Scalar":
                kind = "pos" if o["positive"] else "nonneg" if o["nonnegative"] else "real"
                vals[n] = Fraction(sizes[n]) if n in sizes else ints[n] if o["integer"] else get(n, kind)
            elif t in ("Vector", "MatrixVar"):
                r, c = (dim(o["dim"]), 1) if t == "Vector" else (dim(o["rows"]), dim(o["cols"]))
                vals[n] = Mat([[get(f"{n}{i + 1}" if t == "Vector" else f"{n}{i + 1}{j + 1}", "real") for j in range(c)]
                               for i in range(r)])
        fmap, m = None, self.map
        if m is not None and m["type"] == "LinearMap":
            fmap = lambda v, X=vals[m["matrix"]]: X * v  # noqa: E731
        elif m is not None:
            k, n_out = dim(m["dim_in"]), dim(m["dim_out"])
            monos = [()] + [(j,) for j in range(k)] + list(itertools.combinations_with_replacement(range(k), 2))
            if cx is not None and m["name"] in cx:
                polys = [parse(p) for p in cx[m["name"]]]
                if len(polys) != n_out:
                    raise Failure(f"derivation: the counterexample's map {m['name']} has {len(polys)} entries, not {n_out}")
                entry = lambda v, p: Env(SimpleNamespace(defs={}, map=None), {f"w{j + 1}": x for j, x in enumerate(v)}).ev(p)  # noqa: E731,E501
            else:
                polys = [[leaf(f"{m['name']}{i}.{j}", "real") for j in range(len(monos))] for i in range(n_out)]
                entry = lambda v, p: sum((c * math.prod((v[j] for j in mono), start=Fraction(1))  # noqa: E731
                                          for c, mono in zip(p, monos)), Fraction(0))

            def fmap(v: Any) -> Mat:
                if not (isinstance(v, Mat) and v.shape == (k, 1)):
                    raise ShapeMismatch(f"{m['name']} takes a {k} x 1 vector")
                return Mat([[entry(v.entries(), p)] for p in polys])
        return Env(self, vals, fmap)

    def satisfied(self, env: Env, facts: list) -> bool:
        """Declared signs and every fact (hypothesis, earlier valid inequality) hold exactly at env."""
        for o in self.objects:
            v = env.values.get(o["name"]) if o["type"] == "Scalar" else None
            if v is not None and (o["positive"] and v <= 0 or o["nonnegative"] and v < 0 or
                                  o["integer"] and v.denominator != 1):
                return False
        try:
            return all(holds(env.ev(lhs), rel, env.ev(rhs)) for lhs, rel, rhs in facts)
        except _OPEN:
            return False

    def repair(self, env: Env, rng: random.Random, movable: set[str], facts: list) -> Env:
        """Move a scalar x onto the right side of a failing fact ``x REL e`` (three passes)."""
        for _ in range(3):
            for lhs, rel, rhs in facts:
                for var, r, other in ((lhs, rel, rhs), (rhs, FLIP[rel], lhs)):
                    if not (isinstance(var, ast.Name) and var.id in movable):
                        continue
                    try:
                        if holds(env.ev(var), r, env.ev(other)):
                            break
                        lo, hi = bounds(scalar(env.ev(other)), 64)
                    except _OPEN:
                        break
                    up = r in (">", ">=")
                    factors = ([1] if r in ("<=", ">=", "=") else []) + ([] if r == "=" else [Fraction(11, 10), 2, 10]
                                                                          if up else [Fraction(1, 10), Fraction(1, 2)])
                    if (hi if up else lo) > 0 and (r != "=" or lo == hi):
                        env = env.child(**{var.id: (hi if up else lo) * rng.choice(factors)})
                    break
        return env

    def search(self, sizes: dict, ints: dict, rng: random.Random, facts: list, cx: dict | None = None) -> Env | None:
        """A point satisfying the facts (small random rationals, repaired), or None after SEARCH draws."""
        def leaf(name: str, kind: str) -> Fraction:
            if kind == "nonneg" and rng.random() < 0.25:
                return Fraction(0)
            x = Fraction(rng.randint(1, 20), rng.randint(1, 8))
            return x if kind != "real" or rng.random() < 0.5 else -x
        movable = {o["name"] for o in self.objects if o["type"] == "Scalar" and not o["integer"]} - set(cx or ())
        for _ in range(SEARCH):
            env = self.repair(self.realise(sizes, ints, leaf, cx), rng, movable, facts)
            if self.satisfied(env, facts):
                return env
        return None


class Recheck:
    """The instances of one derivation (drawn from the seed) and the tests run at them."""

    def __init__(self, spec: Spec, seed: int) -> None:
        self.spec, self.memo = spec, {}
        rng, grid = random.Random(f"{seed}:points"), 2 ** BITS
        combos = list(itertools.product(SIZES, repeat=len(spec.free)))
        rng.shuffle(combos)
        ints = [o for o in spec.objects if o["type"] == "Scalar" and o["integer"] and o["name"] not in spec.free]

        def point(name: str, kind: str) -> Fraction:  # uniform on 2^BITS values: (0, 1] or [-1, 1)
            return Fraction(rng.randrange(1, grid + 1), grid) if kind != "real" else Fraction(rng.randrange(grid) - grid // 2, grid // 2)
        self.instances = []
        for i in range(INSTANCES):
            sizes = {**spec.fixed, **dict(zip(spec.free, combos[i % len(combos)]))}
            iv = {o["name"]: Fraction(rng.choice((1, 2, 3, 4) if o["positive"] else (0, 1, 2, 3))) for o in ints}
            self.instances.append(SimpleNamespace(
                sizes=sizes, ints=iv, points=[spec.realise(sizes, iv, point) for _ in range(TRIES)],
                deg=spec.realise(sizes, iv, lambda name, kind: Deg(1)), hyp=spec.search(sizes, iv, rng, spec.hyps)))
        self.rng, self.facts, self.chain = rng, list(spec.hyps), []

    def points(self) -> list[Env]:
        """The instances' points satisfying the facts so far (one is drawn again when a new fact fails there)."""
        for inst in self.instances:
            if inst.hyp is not None and not self.spec.satisfied(inst.hyp, self.facts):
                inst.hyp = self.spec.search(inst.sizes, inst.ints, self.rng, self.facts)
        return [inst.hyp for inst in self.instances if inst.hyp is not None]

    def learn(self, s: Any, valid: bool) -> None:
        """The checker's facts after a step: a valid inequality, and the relation its chain proves so far."""
        if s.rel != "def":
            self.chain = (self.chain if not s.given else []) + [s] if valid else []
            for lhs, rel in {(s.lhs, s.rel), (self.chain[0].lhs, compose([t.rel for t in self.chain]))} if valid else ():
                self.facts += [(parse(lhs), rel, parse(s.rhs))] if rel not in (None, "=") else []

    def outcome(self, env: Env, lhs: str, rel: str, rhs: str) -> bool | None:
        """True or False if ``lhs REL rhs`` holds or fails at env, exactly; None when undecided. A side that is
        not real makes an inequality or a definition fail; no value (0 division, divergence) leaves an equation open."""
        try:
            return True if rel == "def" and env(lhs) is not None else holds(env(lhs), rel, env(rhs))
        except ShapeMismatch:
            return False
        except NotReal:
            return None if rel == "=" else False
        except (Undefined, ZeroDivisionError):
            return False if rel == "def" else None
        except NotExact:
            return None

    def identity(self, a: str, b: str) -> tuple[str, str]:
        """a = b at the first identity point of each instance where it is decided: valid (at least once),
        invalid (refuted exactly) or open (never decided, or only with a degree bound above DEG_MAX)."""
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
                    ("open", f"{a} = {b} has no exact value at any instance")
        return self.memo[a, b]

    def degree(self, inst: Any, a: str, b: str) -> int:
        try:
            d = inst.deg(a) - inst.deg(b)
        except _OPEN:
            return DEG_MAX + 1
        return max((x.bound() if isinstance(x, Deg) else 0) for x in _mat(d).entries())

    def evidence(self, lhs: str, rel: str, rhs: str) -> tuple[str, str]:
        """lhs REL rhs at every point satisfying the facts: valid (evidence only), invalid (exactly) or open."""
        results = [self.outcome(env, lhs, rel, rhs) for env in self.points()]
        what = "defined" if rel == "def" else "holds"
        if False in results:
            return "invalid", f"{lhs} {rel} {rhs} fails at an instance satisfying the hypotheses"
        return ("valid", f"{what} at {results.count(True)} instances satisfying the hypotheses (evidence)") \
            if True in results else ("open", "no instance satisfying the hypotheses decides it")

    def refute(self, lhs: str, rel: str, rhs: str, cx: Any) -> tuple[str, str]:
        """invalid where lhs REL rhs fails, the facts holding: at the counterexample (which must not be wrong)
        if it has an exact value, else at the verifier's own points; open if neither refutes it."""
        if cx is not None:
            if not isinstance(cx, dict) or any(s not in cx for s in self.spec.free):
                raise Failure(f"derivation: the counterexample {cx!r} does not give the sizes {self.spec.free}")
            sizes = {**self.spec.fixed, **{s: int(Fraction(cx[s])) for s in self.spec.free}}
            ints = {o["name"]: Fraction(cx.get(o["name"], self.rng.choice((1, 2, 3)))) for o in self.spec.objects
                    if o["type"] == "Scalar" and o["integer"] and o["name"] not in sizes}
            env = self.spec.search(sizes, ints, self.rng, self.facts, cx)
            r = None if env is None else self.outcome(env, lhs, rel, rhs)
            if r is not None:
                if r:
                    raise Failure(f"derivation: the stored counterexample does not refute {lhs} {rel} {rhs}")
                return "invalid", "refuted exactly at its counterexample"
        if any(self.outcome(env, lhs, rel, rhs) is False for env in self.points()):
            return "invalid", "refuted exactly at an instance of the verifier"
        return "open", "neither its counterexample nor the verifier's instances refute it exactly"

    def induction(self, k: int, step: Any, said: str, cx: Any, status: dict) -> tuple[str, str]:
        """Induction (plproof.symbolic.lemmas): a valid chain from ``next`` to c*current ending at the premise, c free
        of current, next and index, gives current <= c**index*initial; valid if c >= 0, invalid where c < 0."""
        lem, rels = step.by, [s for s in self.spec.steps[:k] if s.rel != "def"]
        if lem.get("type") != "Induction" or lem.get("premise") not in [s.id for s in rels]:
            raise Unverifiable(f"derivation: step {step.id} cites {lem.get('type')} with premise {lem.get('premise')!r}")
        end = start = [s.id for s in rels].index(lem["premise"])
        while start > 0 and not rels[start].given:
            start -= 1
        chain, (cur, nxt, init, idx) = rels[start:end + 1], (lem[f] for f in ("current", "next", "initial", "index"))
        ratio, index = f"(({chain[-1].rhs})/({cur}))", [o for o in self.spec.objects if o["name"] == idx]
        c = f"{ratio}.subs({cur}, 1)"
        if not (all(status[s.id] == "valid" for s in chain) and compose([s.rel for s in chain]) in ("<=", "<", "=")
                and step.rel == "<=" and index and index[0].get("integer") and not index[0].get("type") != "Scalar"
                and (index[0]["nonnegative"] or index[0]["positive"]) and all(re.match(r"[A-Za-z]\w*\Z", x) for x in (cur, nxt))):
            return "unverified", "the premise chain, the relation or the index do not fit the induction lemma"
        for a, b in [(chain[0].lhs, nxt), (step.lhs, cur), (step.rhs, f"{c}**({idx})*({init})")] + \
                [(ratio, f"{ratio}.subs({x}, {x} + 1)") for x in (cur, nxt, idx)]:
            verdict, why = self.same(a, b)
            if verdict != "valid":
                return "unverified" if verdict == "invalid" else "open", f"induction: {why}"
        verdict, why = self.evidence(c, ">=", "0") if said == "valid" else self.refute(c, ">=", "0", cx)
        return verdict, f"induction, hypothesis c = {c} >= 0: {why}"

    def same(self, a: str, b: str) -> tuple[str, str]:
        return ("valid", "same text") if a.replace(" ", "") == b.replace(" ", "") else self.identity(a, b)

    def claim_proved(self, status: dict) -> bool:
        """A chain of valid steps from one side of the claim to the other, of a relation that gives the claim."""
        c, chains, cur = self.spec.claim, [], []
        for s in (s for s in self.spec.steps if s.rel != "def"):
            if (s.given or status[s.id] != "valid") and cur:
                chains, cur = chains + [cur], []
            cur += [s] if status[s.id] == "valid" else []
        for chain in chains + [cur] if c is not None else []:
            exprs = [chain[0].lhs] + [s.rhs for s in chain] if chain else []
            for i, j in itertools.combinations(range(len(exprs)), 2):
                rel = compose([s.rel for s in chain[i:j]])
                if rel is not None and any(self.same(exprs[i], x)[0] == "valid" and self.same(exprs[j], y)[0] == "valid"
                                           and implies(r, c["relation"])
                                           for x, y, r in ((c["lhs"], c["rhs"], rel), (c["rhs"], c["lhs"], FLIP[rel]))):
                    return True
        return False


def check_derivation(cert: dict, base: Path | None, quick: bool, checked: list[str]) -> None:
    """Every step's status, claim_proved and valid, re-checked at random rational instances (module docstring)."""
    inputs, evidence = cert["inputs"], cert["evidence"]
    plan = recheck_plan(inputs["derivation"])
    if inputs.get("recheck") != plan:
        raise Failure(f"derivation: inputs.recheck is {inputs.get('recheck')}, this verifier's method gives {plan}")
    spec, stated = Spec(inputs["derivation"]), evidence["steps"]
    if [(e["id"], e.get("lhs"), e.get("relation"), e.get("rhs")) for e in stated] != \
            [(s.id, s.lhs, s.rel, s.rhs) for s in spec.steps]:
        raise Failure("derivation: the evidence's steps are not the derivation's steps")
    status, rc = {e["id"]: e["status"] for e in stated}, Recheck(spec, plan["seed"])
    for k, (s, e) in enumerate(zip(spec.steps, stated)):
        said, cx = e["status"], e.get("counterexample")
        if said == "valid" and cx is not None:
            raise Failure(f"derivation step {s.id}: stated valid, yet it carries a counterexample")
        verdict, why = ("unverified", "no claim to re-check") if said == "unverified" else \
            rc.induction(k, s, said, cx, status) if s.by is not None else \
            rc.refute(s.lhs, s.rel, s.rhs, cx) if said == "invalid" else \
            rc.identity(s.lhs, s.rhs) if s.rel == "=" else rc.evidence(s.lhs, s.rel, s.rhs)
        if verdict != said:
            text = f"derivation step {s.id} ({s.lhs} {s.rel} {s.rhs}): the certificate says {said!r}, the re-check "
            if verdict == "open":
                raise Unverifiable(text + f"cannot decide it here: {why}")
            raise Failure(text + f"finds {verdict!r}: {why}")
        checked.append(f"step {s.id}: {said}, {why}")
        rc.learn(s, said == "valid")
    proved = rc.claim_proved(status)
    valid = proved and all(v == "valid" for v in status.values())
    for key, value in (("claim_proved", proved), ("valid", valid)):
        if evidence[key] != value:
            raise Failure(f"derivation: the certificate says {key} = {evidence[key]}, the re-check finds {value}")
    checked.append(f"derivation {spec.title!r}: {'valid' if valid else 'not valid'}, as stated; a confirmed identity "
                   f"is false with probability <= {plan['failure_probability']}")
