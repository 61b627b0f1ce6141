"""The derivation checker: each step valid / invalid (with a counterexample) / unverified.

Identities: exact simplification for symbolic sizes, and with undefined functions F_i(w_1..w_M)
for every size up to a bound. Inequalities: the sign prover of :mod:`plproof.symbolic.prover`
under the hypotheses, the steps already proved, and Rayleigh's lemma for symmetric matrices
(hypothesis checked). Refutation: instances from :mod:`plproof.symbolic.search`, re-evaluated
before they are reported. A derivation is valid when every step is valid and a chain of steps
proves the claim (docs/derivations.md; docs/theory.md §0-§3, §7).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from plproof.errors import InvalidInput
from plproof.symbolic.model import Derivation, Scalar, SmoothMap, Step
from plproof.symbolic.prover import (
    Fact,
    Prover,
    domain_obligations,
    fact_from_relation,
    prove_domain,
)
from plproof.symbolic.realise import (
    LambdaMax,
    LambdaMin,
    Realisation,
    Unsupported,
    atomise,
    build,
    compile_statement,
    evaluate,
    is_gram,
    is_matrix,
    size_names,
    to_scalar,
)
from plproof.symbolic.search import Instance, Sampler, at, truth

VALID, INVALID, UNVERIFIED = "valid", "invalid", "unverified"
_FLIP = {"<=": ">=", ">=": "<=", "<": ">", ">": "<", "=": "="}


@dataclass
class StepResult:
    """The verdict on one step."""

    id: str
    statement: str
    relation: str
    status: str
    method: str
    scope: str
    counterexample: dict[str, Any] | None = None
    source: str = ""
    justification: str = ""
    corrected: str | None = None
    detail: str = ""
    lhs: str = ""
    rhs: str = ""


@dataclass
class CheckResult:
    """The verdict on a derivation: valid iff every step is valid and the claim is proved."""

    derivation: Derivation
    steps: list[StepResult]
    claim_proved: bool
    claim_detail: str
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.claim_proved and all(s.status == VALID for s in self.steps)

    def step(self, step_id: str) -> StepResult:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)


class _Opaque:
    """A definition this realisation cannot evaluate; any use raises Unsupported."""

    def __init__(self, why: str) -> None:
        self.why = why


class Context:
    """Realisations, definitions, facts and the results so far, for one derivation."""

    def __init__(self, d: Derivation, size_bound: int, samples: int) -> None:
        self.d = d
        self.a = d.assumptions
        self.size_bound = size_bound
        self.samples = samples
        self.defs = [(s.lhs, s.rhs) for s in d.steps if s.relation == "def"]
        self.hyps = [h.split() for h in self.a.hypotheses]
        self._check_names()
        self.sym = build(self.a, "symbolic")
        #: the symbolic realisation with each scalar definition kept as an opaque symbol
        self.atomic = build(self.a, "symbolic")
        self.atomic_facts: list[Fact] = []
        self._ns: dict[int, dict[str, Any]] = {}
        self._concrete: list[Realisation] | None = None
        self._instances: dict[tuple, Realisation] = {}
        self.chain_defs: set[str] = set()
        self.facts: list[Fact] = []
        #: valid inequality steps: every instance must satisfy them as well as the hypotheses
        self.proven: list[tuple[str, str, str]] = []
        self.results: list[StepResult] = []
        self._values: dict[tuple[int, str], Any] = {}
        for lhs, rel, rhs in self.hyps:
            self.add_fact(lhs, rel, rhs, f"hypothesis {lhs} {rel} {rhs}")
        self.general_F = any(isinstance(o, SmoothMap) for o in self.a.objects)
        for o in self.a.objects:
            if isinstance(o, Scalar) and o.integer and o.positive and isinstance(self.sym.ns.get(o.name), sp.Symbol):
                self.facts.append(Fact(self.sym.ns[o.name] - 1, False, f"{o.name} is a positive integer"))

    def _check_names(self) -> None:
        taken = {o.name for o in self.a.objects} | {"grad", "D", "norm", "lambda_min", "lambda_max", "eye", "inv",
                                                     "hessian", "transpose", "sqrt", "Sum"}
        for name, _ in self.defs:
            if name in taken:
                raise InvalidInput(f"'{name}' is defined twice or clashes with a declared object: rename it")
            taken.add(name)
        for text in [t for _, t in self.defs] + [x for h in self.hyps for x in (h[0], h[2])]:
            compile_statement(text)
        for s in self.d.steps:
            for text in (s.lhs, s.rhs):
                if text is not None and s.relation != "def":
                    compile_statement(text)

    def add_fact(self, lhs: str, rel: str, rhs: str, label: str) -> None:
        """Record ``lhs REL rhs`` as a fact, with definitions expanded and kept opaque."""
        for real, facts in ((self.sym, self.facts), (self.atomic, self.atomic_facts)):
            try:
                facts += fact_from_relation(self.scalar(real, lhs), rel, self.scalar(real, rhs), label)
            except (Unsupported, sp.ShapeError):
                continue

    # ---- evaluation -------------------------------------------------------
    def namespace(self, real: Realisation) -> dict[str, Any]:
        key = id(real)
        if key not in self._ns:
            ns = dict(real.ns)
            if real is self.atomic:
                def no_calculus(*_: Any) -> Any:
                    raise Unsupported("derivatives of opaque definitions")
                ns.update(grad=no_calculus, D=no_calculus, hessian=no_calculus)
                full = self.namespace(self.sym)
                for name, _ in self.defs:
                    v = full[name]
                    ns[name] = v if is_matrix(v) or isinstance(v, (_Opaque, MatrixExpr)) else sp.Symbol(name, real=True)
                self._ns[key] = ns
                return ns
            for name, rhs in self.defs:
                real.chain_rule = False
                try:
                    ns[name] = self._eval_in(ns, rhs)
                    if real.chain_rule or set(compile_statement(rhs).co_names) & self.chain_defs:
                        self.chain_defs.add(name)
                except (Unsupported, sp.ShapeError) as exc:
                    ns[name] = _Opaque(str(exc))
            self._ns[key] = ns
        return self._ns[key]

    def _eval_in(self, ns: dict[str, Any], text: str) -> Any:
        code = compile_statement(text)
        for name in code.co_names:
            if isinstance(ns.get(name), _Opaque):
                raise Unsupported(f"{name}: {ns[name].why}")
        try:
            return evaluate(text, ns)
        except (TypeError, AttributeError, sp.SympifyError) as exc:
            if isinstance(exc, TypeError) and "not callable" in str(exc):
                raise InvalidInput(f"{text!r}: {exc}") from None
            raise Unsupported(f"{exc.__class__.__name__}: {exc}") from None

    def value(self, real: Realisation, text: str) -> Any:
        key = (id(real), text)
        if key not in self._values:
            v = self._eval_in(self.namespace(real), text)
            if isinstance(v, sp.Basic) and not isinstance(v, MatrixExpr) and v.has(sp.Sum):
                v = v.doit()
            self._values[key] = v
        return self._values[key]

    def scalar(self, real: Realisation, text: str) -> sp.Expr:
        return to_scalar(self.value(real, text))

    def names_used(self, *texts: str) -> set[str]:
        """Names a statement depends on, through the definitions it uses."""
        defs = dict(self.defs)
        out: set[str] = set()
        todo = [n for t in texts for n in compile_statement(t).co_names]
        while todo:
            name = todo.pop()
            if name not in out:
                out.add(name)
                if name in defs:
                    todo += list(compile_statement(defs[name]).co_names)
        return out

    def concrete(self) -> list[Realisation]:
        """Concrete realisations: the fixed sizes, or every size up to the bound."""
        if self._concrete is None:
            names = size_names(self.a)
            if self.a.sizes:
                combos = [dict(self.a.sizes)]
            else:
                combos = [dict(zip(names, c)) for c in itertools.product(range(1, self.size_bound + 1), repeat=len(names))]
            self._concrete = [build(self.a, "concrete", c) for c in combos] if names else []
        return self._concrete

    def concrete_scope(self) -> str:
        if self.a.sizes:
            return ", ".join(f"{k}={v}" for k, v in self.a.sizes) + " (symbolic entries)"
        names = size_names(self.a)
        return ", ".join(names) + f" <= {self.size_bound}" + (", arbitrary smooth F (undefined F_i)" if self.general_F else "")

    def symbolic_scope(self) -> str:
        names = size_names(self.a)
        if not names:
            return "all real values satisfying the hypotheses"
        if self.a.sizes:
            return ", ".join(f"{k}={v}" for k, v in self.a.sizes) + " (symbolic entries)"
        return "all " + ", ".join(names) + (", arbitrary smooth F" if self.general_F else "")

    # ---- proving ------------------------------------------------------------
    def prover(self, values: list[Any], atomic: bool = False) -> Prover:
        if atomic:
            return Prover(self.atomic_facts + self._structural(values), budget=20)
        return Prover(self.facts + self._structural(values))

    def _structural(self, values: list[Any]) -> list[Fact]:
        """Facts from the matrix structure of the values: squared norms and products
        ``x^T B B^T x`` are >= 0; Rayleigh's lemma x^T A x >= λ_min(A)|x|^2 (<= λ_max(A)|x|^2)
        for every λ_min(A) present, after checking that A is symmetric."""
        roots = [v for v in values if isinstance(v, MatrixExpr)] + list(self.sym.seen)
        if not roots:
            return []
        out: list[Fact] = []
        vectors = self._vectors(roots)
        for x in vectors:
            out.append(Fact(atomise(x.T * x), False, f"|{x}|^2 >= 0"))
        for root in roots:
            for node in sp.preorder_traversal(root):
                if isinstance(node, sp.MatMul) and node.shape == (1, 1) and is_gram(node):
                    out.append(Fact(atomise(node), False, f"{node} is a squared norm"))
        lams = set()
        for v in values + [f.expr for f in self.facts]:
            if isinstance(v, sp.Basic):
                lams |= v.atoms(LambdaMin, LambdaMax)
        for lam in sorted(lams, key=str):
            A = lam.args[0]
            if not isinstance(A, MatrixExpr) or A.T.doit() != A.doit():
                continue
            for x in vectors:
                if x.shape[0] != A.shape[0]:
                    continue
                quad, norm2 = atomise(x.T * A * x), atomise(x.T * x)
                expr = quad - lam * norm2 if isinstance(lam, LambdaMin) else lam * norm2 - quad
                out.append(Fact(sp.expand(expr), False, f"Rayleigh for symmetric {A}"))
        return out

    def _vectors(self, roots: list[MatrixExpr]) -> list[MatrixExpr]:
        found: dict[str, MatrixExpr] = {}
        for root in roots:
            for node in sp.preorder_traversal(root):
                if isinstance(node, MatrixExpr) and 1 in node.shape:
                    col = node if node.shape[1] == 1 else node.T
                    col = col.doit()
                    found.setdefault(str(col), col)
        return list(found.values())

    def resolve(self, e: sp.Expr, prover: Prover) -> sp.Expr:
        """Replace each Piecewise (e.g. a summed geometric series) by its first provable branch."""
        if not e.has(sp.Piecewise):
            return e

        def holds(cond: Any) -> bool:
            if cond is sp.true:
                return True
            if isinstance(cond, sp.And):
                return all(holds(c) for c in cond.args)
            if isinstance(cond, sp.core.relational.Relational) and cond.rel_op in ("<", "<=", ">", ">="):
                return prover.relation(cond.lhs, cond.rel_op, cond.rhs)
            return False

        def pick(pw: sp.Piecewise) -> sp.Expr:
            for expr, cond in pw.args:
                if holds(cond):
                    return expr
            return pw
        return e.replace(lambda x: isinstance(x, sp.Piecewise), pick)

    def equal_symbolic(self, L: Any, R: Any, prover: Prover | None = None) -> bool:
        if is_matrix(L) or is_matrix(R):
            if not (is_matrix(L) and is_matrix(R)) or L.shape != R.shape:
                return False
            diff = (L - R).doit()
            if isinstance(diff, MatrixExpr) and not isinstance(diff, sp.MatrixBase):
                diff = diff.expand()
                return isinstance(diff, sp.ZeroMatrix) or diff == 0
            return all(_is_zero(x) for x in sp.Matrix(diff))
        l, r = to_scalar(L), to_scalar(R)
        if (l.has(sp.Piecewise) or r.has(sp.Piecewise)):
            prover = prover or self.prover([L, R])
            l, r = self.resolve(l, prover), self.resolve(r, prover)
        return _is_zero(l - r)

    # ---- refuting -----------------------------------------------------------
    def refute(self, lhs: str, rel: str, rhs: str, seed: str) -> tuple[dict | None, str]:
        """Search instances where ``lhs REL rhs`` fails; return the re-evaluated counterexample."""
        sampler = Sampler(self.a, self.hyps + self.proven, self.value, seed, self._instances)
        shape_cx: tuple[Instance, str] | None = None
        count = self.samples if self.a.has_vectors else self.samples * 2
        for inst, real in sampler.instances(count):
            try:
                ok = truth(at(self.value(real, lhs), inst, real), rel, at(self.value(real, rhs), inst, real))
            except sp.ShapeError as exc:
                shape_cx = shape_cx or (inst, str(exc))
                continue
            except (Unsupported, TypeError, ValueError, ZeroDivisionError):
                continue
            if ok is False and self._confirm(inst, lhs, rel, rhs):
                used = self.names_used(lhs, rhs)
                scalars = {o.name for o in self.a.objects if isinstance(o, Scalar)}
                cx = inst.to_json(lambda k, scalars=scalars, used=used: k not in scalars or k in used)
                cx["lhs"], cx["rhs"] = self._show(inst, lhs), self._show(inst, rhs)
                return cx, ""
        if shape_cx is not None:
            cx = shape_cx[0].to_json()
            cx["reason"] = f"ill-typed: {shape_cx[1]}"
            return cx, "ill-typed"
        return None, ""

    def _confirm(self, inst: Instance, lhs: str, rel: str, rhs: str) -> bool:
        """Re-evaluate from the recorded values in a fresh realisation."""
        fresh = Context.__new__(Context)
        fresh.__dict__.update(self.__dict__)
        fresh._ns, fresh._values = {}, {}
        real = build(self.a, "instance", dict(inst.sizes), dict(inst.maps))
        if not Sampler(self.a, self.hyps + self.proven, fresh.value, "confirm").satisfies(inst, real):
            return False
        try:
            return truth(at(fresh.value(real, lhs), inst, real), rel, at(fresh.value(real, rhs), inst, real)) is False
        except (Unsupported, sp.ShapeError, TypeError, ValueError):
            return False

    def _show(self, inst: Instance, text: str) -> str:
        real = build(self.a, "instance", dict(inst.sizes), dict(inst.maps))
        v = at(self.value(real, text), inst, real)
        if is_matrix(v):
            return str(sp.Matrix(v).tolist())
        v = sp.nsimplify(to_scalar(v)) if to_scalar(v).is_Rational else to_scalar(v)
        return str(v)

    def best_constant(self, lhs: str, rel: str, rhs: str, seed: str) -> str | None:
        """For a false ``lhs >= rhs`` (or <=), the sharp c with ``lhs >= c*rhs`` if it can be proved."""
        if rel not in ("<=", ">=", "<", ">"):
            return None
        sampler = Sampler(self.a, self.hyps + self.proven, self.value, seed + "#c", self._instances)
        ratios = []
        for inst, real in sampler.instances(12, tries=self.samples * 12):
            try:
                l = to_scalar(at(self.value(real, lhs), inst, real))
                r = to_scalar(at(self.value(real, rhs), inst, real))
            except (Unsupported, sp.ShapeError, TypeError, ValueError):
                continue
            if not (l.is_number and r.is_number) or r.is_zero or r.is_negative or not r.is_real or not l.is_real:
                continue
            ratios.append(sp.nsimplify(l / r))
        if len(ratios) < 3:
            return None
        up = rel in (">=", ">")
        best = min(ratios) if up else max(ratios)
        if not best.is_real or best <= 0:
            return None
        candidates = [best] if best.is_Rational else []
        for k in (2, 4, 10, 100):
            c = sp.Rational(sp.floor(best * k) if up else sp.ceiling(best * k), k)
            if c > 0 and c not in candidates:
                candidates.append(c)
        try:
            L, R = self.scalar(self.sym, lhs), self.scalar(self.sym, rhs)
        except (Unsupported, sp.ShapeError):
            return None
        prover = self.prover([self.value(self.sym, lhs), self.value(self.sym, rhs)])
        for c in candidates:
            if prover.relation(L, rel, c * R):
                sharp = "sharp: attained at an instance" if c in ratios else "valid, possibly not sharp"
                return f"{lhs} {rel} ({c})*({rhs})  [{sharp}]"
        return None


def _is_zero(e: sp.Expr) -> bool:
    e = sp.sympify(e)
    if e.is_zero:
        return True
    x = sp.expand(e)
    if x == 0 or sp.cancel(sp.together(x)) == 0:
        return True
    try:
        return sp.simplify(x) == 0
    except (TypeError, NotImplementedError):
        return False


def compose(rels: list[str]) -> str | None:
    """The relation a chain proves: = and >= give >=; any > makes it strict; <= with >= breaks it."""
    if any(r in ("<=", "<") for r in rels) and any(r in (">=", ">") for r in rels):
        return None
    if all(r == "=" for r in rels):
        return "="
    up = any(r in (">=", ">") for r in rels)
    strict = any(r in (">", "<") for r in rels)
    return (">" if strict else ">=") if up else ("<" if strict else "<=")


def implies(proved: str, claimed: str) -> bool:
    """Whether a proved relation gives the claimed one (``=`` gives ``<=`` and ``>=``)."""
    return claimed == proved or (proved == "=" and claimed in ("<=", ">=")) or \
        (proved == ">" and claimed == ">=") or (proved == "<" and claimed == "<=")


def check(derivation: Derivation, *, size_bound: int = 3, samples: int = 40) -> CheckResult:
    """Check every step of a derivation and whether its chains prove its claim."""
    if not isinstance(derivation, Derivation):
        raise InvalidInput(f"expected a Derivation, got {type(derivation).__name__}")
    if size_bound < 1:
        raise InvalidInput("size_bound must be at least 1")
    t0 = time.perf_counter()
    ctx = Context(derivation, size_bound, samples)
    ids = derivation.step_ids()
    prev_rhs: str | None = None
    chain: list[tuple[str, str]] = []  # (lhs, relation) of the valid steps of the current chain
    for sid, step in zip(ids, derivation.steps):
        lhs = step.lhs if step.lhs is not None else prev_rhs
        if lhs is None:
            raise InvalidInput(f"step {sid} continues a chain but no previous step has a right-hand side")
        if step.relation == "def":
            res = _check_definition(ctx, sid, step)
        elif step.by is not None:
            res = step.by.apply(ctx, sid, lhs, step)
        else:
            res = _check_relation(ctx, sid, lhs, step)
        res.source, res.justification, res.lhs, res.rhs = step.source, step.justification, lhs, step.rhs
        ctx.results.append(res)
        if step.relation != "def":
            prev_rhs = step.rhs
            chain = (chain if step.lhs is None else []) + [(lhs, step.relation)]
            if res.status != VALID:
                chain = []
                continue
            rel = compose([r for _, r in chain])
            for start, relation in sorted({(lhs, step.relation), (chain[0][0], rel or "")}):
                if relation in ("", "="):
                    continue
                ctx.add_fact(start, relation, step.rhs, f"step {sid}")
                ctx.proven.append((start, relation, step.rhs))
    proved, detail = _claim(ctx, derivation, ids)
    return CheckResult(derivation, ctx.results, proved, detail, time.perf_counter() - t0)


def _check_definition(ctx: Context, sid: str, step: Step) -> StepResult:
    stmt = f"{step.lhs} := {step.rhs}"
    try:
        v = ctx.value(ctx.sym, step.rhs)
    except (Unsupported, sp.ShapeError):
        return StepResult(sid, stmt, "def", VALID, "definition", ctx.concrete_scope())
    if is_matrix(v):
        return StepResult(sid, stmt, "def", VALID, "definition", ctx.symbolic_scope())
    e = to_scalar(v)
    prover = ctx.prover([v])
    for expr, kind in domain_obligations(e):
        if prove_domain(prover, expr, kind):
            continue
        rel = {"nonneg": ">=", "pos": ">", "nonzero": "!="}[kind]
        cx = _refute_expr(ctx, expr, kind, sid)
        what = f"{expr} {rel} 0 needed for {step.lhs} to be a real number"
        if cx is not None:
            return StepResult(sid, stmt, "def", INVALID, "domain check by counterexample", "", cx,
                              detail=f"not well defined: {what} fails")
        return StepResult(sid, stmt, "def", UNVERIFIED, "domain check", "", detail=f"could not prove {what}")
    for strict in (True, False):
        if prover.nonneg(e, strict, depth=0):
            ctx.atomic_facts.append(Fact(sp.Symbol(step.lhs, real=True), strict, f"sign of {step.lhs}"))
            break
    return StepResult(sid, stmt, "def", VALID, "definition (well defined: domain conditions proved)",
                      ctx.symbolic_scope())


def _refute_expr(ctx: Context, expr: sp.Expr, kind: str, sid: str) -> dict | None:
    """A counterexample to a domain condition of a scalar definition, from the symbolic value."""
    sampler = Sampler(ctx.a, ctx.hyps + ctx.proven, ctx.value, f"domain{sid}{expr}", ctx._instances)
    for inst, real in sampler.instances(ctx.samples * 2):
        sub = {s: sp.Rational(v) for s in expr.free_symbols for k, v in inst.values if s.name == k}
        if set(sub) != expr.free_symbols:
            continue
        val = expr.subs(sub)
        if not val.is_number:
            continue
        bad = val.is_negative if kind == "nonneg" else (val.is_nonpositive if kind == "pos" else val.is_zero)
        if bad:
            cx = inst.to_json()
            cx["reason"] = f"{expr} = {val}"
            return cx
    return None


def _check_relation(ctx: Context, sid: str, lhs: str, step: Step) -> StepResult:
    rel, rhs = step.relation, step.rhs
    stmt = f"{lhs} {rel} {rhs}"
    methods: list[str] = []
    scope = ""
    detail = ""
    # symbolic sizes
    try:
        ctx.namespace(ctx.sym)
        ctx.sym.chain_rule = False
        L, R = ctx.value(ctx.sym, lhs), ctx.value(ctx.sym, rhs)
        names = set(compile_statement(lhs).co_names) | set(compile_statement(rhs).co_names)
        chain_rule = ctx.sym.chain_rule or bool(names & ctx.chain_defs)
        sym_ok: bool | None = True
    except (Unsupported, sp.ShapeError) as exc:
        sym_ok, detail, chain_rule = None, f"symbolic sizes: {exc}", False
    if sym_ok and _atomic_proof(ctx, lhs, rel, rhs):
        methods.append("exact simplification" if rel == "=" else "sign reduction using hypotheses/lemmas")
        methods[-1] += " (definitions kept opaque)"
        scope = ctx.symbolic_scope()
    elif sym_ok:
        if rel == "=":
            if ctx.equal_symbolic(L, R):
                methods.append("exact simplification" + (" (matrix chain rule)" if chain_rule else ""))
                scope = ctx.symbolic_scope()
        else:
            try:
                prover = ctx.prover([L, R])
                l, r = ctx.resolve(to_scalar(L), prover), ctx.resolve(to_scalar(R), prover)
                domain_ok = all(prove_domain(prover, e, k) for e, k in domain_obligations(l) + domain_obligations(r))
                if domain_ok and prover.relation(l, rel, r):
                    methods.append("sign reduction" + (" using hypotheses/lemmas" if prover.used else ""))
                    scope = ctx.symbolic_scope()
                elif not domain_ok:
                    detail = "could not prove that both sides are real numbers"
            except sp.ShapeError as exc:
                detail = f"not scalars: {exc}"
    # concrete sizes with undefined functions (identities)
    needs_concrete = rel == "=" and ctx.concrete() and (not methods or chain_rule)
    if needs_concrete:
        ok = True
        for real in ctx.concrete():
            try:
                if not ctx.equal_symbolic(ctx.value(real, lhs), ctx.value(real, rhs)):
                    ok = False
                    break
            except (Unsupported, sp.ShapeError):
                ok = False
                break
        if ok:
            methods.append("exact expansion with undefined F_i" if ctx.general_F else "exact expansion")
            scope = scope + "; cross-checked for " + ctx.concrete_scope() if scope else ctx.concrete_scope()
        elif methods:
            return StepResult(sid, stmt, rel, UNVERIFIED, "checkers disagree", "",
                              detail="symbolic and concrete checks disagree: please report")
    if methods:
        return StepResult(sid, stmt, rel, VALID, " + ".join(methods), scope)
    cx, why = ctx.refute(lhs, rel, rhs, stmt)
    if cx is not None:
        corrected = None if why else ctx.best_constant(lhs, rel, rhs, stmt)
        return StepResult(sid, stmt, rel, INVALID, "counterexample" + (" (shapes)" if why else " (exact)"), "",
                          cx, corrected=corrected)
    return StepResult(sid, stmt, rel, UNVERIFIED, "no proof and no counterexample found", "",
                      detail=detail or "the prover could not reduce this to known signs")


def _atomic_proof(ctx: Context, lhs: str, rel: str, rhs: str) -> bool:
    """Prove a scalar step with every scalar definition kept as an opaque symbol (cheaper)."""
    if not ctx.defs:
        return False
    try:
        L, R = ctx.value(ctx.atomic, lhs), ctx.value(ctx.atomic, rhs)
        if is_matrix(L) or is_matrix(R) or isinstance(L, MatrixExpr) or isinstance(R, MatrixExpr):
            return False
        l, r = to_scalar(L), to_scalar(R)
    except (Unsupported, sp.ShapeError):
        return False
    names = {str(s) for s in (l.free_symbols | r.free_symbols)}
    if not names & {name for name, _ in ctx.defs}:
        return False
    if rel == "=":
        return _is_zero(l - r)
    prover = ctx.prover([], atomic=True)
    doms = domain_obligations(l) + domain_obligations(r)
    return all(prove_domain(prover, e, k) for e, k in doms) and prover.relation(l, rel, r)


def _same(ctx: Context, a: str, b: str, textual: bool = False) -> bool:
    if a.replace(" ", "") == b.replace(" ", ""):
        return True
    if textual:
        return False
    try:
        return ctx.equal_symbolic(ctx.value(ctx.sym, a), ctx.value(ctx.sym, b))
    except (Unsupported, sp.ShapeError):
        return False


def _claim(ctx: Context, d: Derivation, ids: list[str]) -> tuple[bool, str]:
    if d.claim is None:
        return False, "no claim stated"
    c = d.claim
    chains: list[list[tuple[str, str, str, str]]] = []
    current: list[tuple[str, str, str, str]] = []
    for sid, res, step in zip(ids, ctx.results, d.steps):
        if step.relation == "def":
            continue
        if (step.lhs is not None or res.status != VALID) and current:
            chains.append(current)
            current = []
        if res.status == VALID:
            current.append((res.lhs, res.relation, res.rhs, sid))
    if current:
        chains.append(current)
    for textual, chain in itertools.product((True, False), chains):
        exprs = [chain[0][0]] + [p[2] for p in chain]
        at_lhs = [_same(ctx, e, c.lhs, textual) for e in exprs]
        at_rhs = [_same(ctx, e, c.rhs, textual) for e in exprs]
        for i in range(len(exprs)):
            for j in range(i + 1, len(exprs)):
                rel = compose([p[1] for p in chain[i:j]])
                if rel is None:
                    continue
                span = f"steps {chain[i][3]}-{chain[j - 1][3]}"
                if at_lhs[i] and at_rhs[j] and implies(rel, c.relation):
                    return True, f"{span} prove {exprs[i]} {rel} {exprs[j]}"
                if at_rhs[i] and at_lhs[j] and implies(_FLIP[rel], c.relation):
                    return True, f"{span} prove {exprs[j]} {_FLIP[rel]} {exprs[i]}"
    return False, f"no chain of steps proves the claim {c.lhs} {c.relation} {c.rhs}"
