"""The SymPy derivation checker: built-ins valid, planted errors refuted, lecture notes checked.

Counterexamples are re-evaluated here by an independent evaluator (plain SymPy on the reported
values and the reported polynomial F), not by the checker's own realisations.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plproof.errors import InvalidInput
from plproof.symbolic import (
    INVALID,
    UNVERIFIED,
    VALID,
    Assumptions,
    Derivation,
    Hypothesis,
    LinearMap,
    MatrixVar,
    Scalar,
    SmoothMap,
    Step,
    Vector,
    builtin,
    builtin_derivations,
    builtin_names,
    check,
    derivation_to_json,
    derivation_to_latex,
    derivation_to_text,
    seed_notes,
)
from plproof.symbolic.catalogue import gd_v1
from plproof.symbolic.checker import compose, implies


# ---- an independent evaluator for counterexamples ----------------------------------------------
def _independent(d: Derivation, cx: dict, text: str):
    """Evaluate ``text`` at a counterexample with plain SymPy matrices (no checker code): the map's
    argument stays symbolic for derivatives and takes its reported value at the end."""
    a = d.assumptions
    ns: dict = {"sqrt": sp.sqrt, "Sum": sp.Sum, "oo": sp.oo, "Matrix": sp.Matrix}
    sizes = {k: int(v) for k, v in cx.items() if k in ("n", "M")}
    sizes.update(dict(a.sizes))
    point: dict = {}
    for o in a.objects:
        if isinstance(o, Scalar):
            ns[o.name] = sp.Rational(cx[o.name]) if o.name in cx else sizes.get(o.name, sp.Symbol(o.name))
        if isinstance(o, MatrixVar):
            r, c = (sizes[x] if isinstance(x, str) else x for x in (o.rows, o.cols))
            ns[o.name] = sp.Matrix(r, c, lambda i, j, nm=o.name: sp.Rational(cx[f"{nm}{i + 1}{j + 1}"]))
        if isinstance(o, Vector):
            k = sizes[o.dim] if isinstance(o.dim, str) else o.dim
            entries = sp.symbols(f"{o.name}_1:{k + 1}")
            ns[o.name] = sp.Matrix(entries)
            point.update({e: sp.Rational(cx[f"{o.name}{i + 1}"]) for i, e in enumerate(entries)})
    ws = None
    for o in a.objects:
        if isinstance(o, SmoothMap):
            ws = list(ns[o.arg])
            Fw = sp.Matrix([sp.sympify(p, locals={f"w{j + 1}": ws[j] for j in range(len(ws))}) for p in cx[o.name]])
            J = Fw.jacobian(ws)
            ns[o.name] = lambda v, Fw=Fw, ws=ws: Fw.subs(dict(zip(ws, v)), simultaneous=True)
            ns["D" + o.name] = lambda v, J=J, ws=ws: J.subs(dict(zip(ws, v)), simultaneous=True)
        if isinstance(o, LinearMap):
            ws = list(ns[o.arg])
            X = ns[o.matrix]
            ns[o.name], ns["D" + o.name] = (lambda v, X=X: X * v), (lambda v, X=X: X)

    def grad(e):
        e = e[0, 0] if isinstance(e, sp.MatrixBase) else e
        g = sp.Matrix([sp.diff(e, x) for x in ws])
        return g.T if a.gradient == "row" else g

    def lam_min(A):
        return min(sp.Poly(sp.Matrix(A).subs(point).charpoly().as_expr()).real_roots())

    def norm(v):
        return sp.sqrt(sum(x ** 2 for x in v))
    ns.update(norm=norm, lambda_min=lam_min, grad=grad, D=lambda e: grad(e).T if a.gradient == "column" else grad(e))
    for s in d.steps:
        if s.relation == "def":
            ns[s.lhs] = eval(s.rhs, {}, ns)
    value = eval(text, {}, ns)
    return value.subs(point) if hasattr(value, "subs") else value


def _refutes(d: Derivation, cx: dict, lhs: str, rel: str, rhs: str) -> bool:
    l, r = _independent(d, cx, lhs), _independent(d, cx, rhs)
    if isinstance(l, sp.MatrixBase) or isinstance(r, sp.MatrixBase):
        l, r = sp.Matrix([l]) if not isinstance(l, sp.MatrixBase) else l, sp.Matrix([r]) if not isinstance(r, sp.MatrixBase) else r
        return l.shape != r.shape or any(sp.nsimplify(x) != 0 for x in (l - r))
    diff = sp.N(sp.sympify(l) - sp.sympify(r), 50)
    holds = {"=": abs(diff) < 1e-40, "<=": diff <= 0, ">=": diff >= 0, "<": diff < 0, ">": diff > 0}[rel]
    return not holds


def _plant(d: Derivation, step_id: str, **changes) -> Derivation:
    steps = tuple(dataclasses.replace(s, **changes) if (s.id or str(i + 1)) == step_id else s
                  for i, s in enumerate(d.steps))
    return dataclasses.replace(d, steps=steps)


# ---- built-ins ------------------------------------------------------------------------------------
FAST = ["gradient", "gradient-linear", "kernel", "pl-star", "pl-star-b", "linear-ls", "sgd"]


@pytest.mark.parametrize("name", FAST)
def test_builtin_is_valid(name):
    r = check(builtin(name))
    assert r.valid, derivation_to_text(r)
    assert all(s.status == VALID and s.method and s.scope for s in r.steps)


@pytest.mark.slow  # 20 s; test_builtin_is_valid and test_verify_derivation check each built-in
def test_every_builtin_valid_within_a_minute():
    start = time.perf_counter()
    results = {name: check(d) for name, d in builtin_derivations().items()}
    assert time.perf_counter() - start < 60
    assert set(results) == set(builtin_names())
    assert all(r.valid for r in results.values()), [n for n, r in results.items() if not r.valid]


def test_scopes_are_honest():
    grad = check(builtin("gradient"))
    assert "M, n <= 3, arbitrary smooth F" in grad.step("2").scope  # undefined F_i cross-check
    lin = check(builtin("gradient-linear"))
    assert lin.step("3").scope == "all n, M"


@pytest.mark.slow
def test_gd_v1_without_mu_le_beta_is_not_valid():
    r = check(gd_v1.derivation(with_mu_le_beta=False))
    assert not r.valid
    q = r.step("q")
    assert q.status == INVALID and "1 - mu/beta" in q.counterexample["reason"]
    beta, mu = sp.Rational(q.counterexample["beta"]), sp.Rational(q.counterexample["mu"])
    assert mu > beta  # sqrt(1 - mu/beta) is not real there


@pytest.mark.slow
def test_gd_v1_with_mu_le_beta_is_valid():
    assert check(gd_v1.derivation(with_mu_le_beta=True)).valid


# ---- planted errors -------------------------------------------------------------------------------
PLANTED = [
    # (built-in, step id, changes, description)
    ("pl-star", "4", {"rhs": "r.T*K*r"}, "dropped 1/2"),
    ("gradient", "4", {"rhs": "DF(w)*(F(w) - y)"}, "missing transpose"),
    ("gradient-linear", "4", {"rhs": "X.T*(y - X*w)"}, "wrong sign"),
    ("pl-star", "6", {"rhs": "2*lambda_min(K)*L"}, "doubled constant in mu"),
    # 4-9 s each: slow (the four above cover refutation by counterexample in the default run)
    pytest.param("gd-rfl", "A3", {"rhs": "(1 - eta*mu*(2 - beta*eta))**2*La"}, "wrong power in the rate",
                 marks=pytest.mark.slow),
    pytest.param("gd-rfl", "Rv1", {"rhs": "4*sqrt(2*beta*L0)/mu"}, "wrong radius constant", marks=pytest.mark.slow),
    pytest.param("pl-star", "5", {"relation": "<="}, "inequality in the wrong direction", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name,step_id,changes,what", PLANTED,
                         ids=[(p.values if hasattr(p, "values") else p)[3] for p in PLANTED])
def test_planted_error_is_refuted(name, step_id, changes, what):
    d = _plant(builtin(name), step_id, **changes)
    r = check(d)
    res = r.step(step_id)
    assert res.status == INVALID, (what, res)
    assert not r.valid
    cx = res.counterexample
    assert cx, what
    if "reason" in cx:  # ill-typed at some sizes (e.g. a missing transpose with n != M)
        assert cx["n"] != cx["M"]
    else:
        assert _refutes(d, cx, res.lhs, res.relation, res.rhs), (what, cx)


@pytest.mark.slow
def test_wrong_radius_constant_gets_corrected():
    r = check(_plant(builtin("gd-v2"), "S6", rhs="LF*sqrt(2*L0)/mu"))
    assert r.step("S6").corrected is not None and "(2)*" in r.step("S6").corrected


def test_chain_direction_breaks_claim():
    assert compose(["=", ">=", ">"]) == ">" and compose(["<=", ">="]) is None and compose(["="]) == "="
    assert implies("=", "<=") and implies(">", ">=") and not implies(">=", ">") and not implies("<=", ">=")
    objs = Assumptions(objects=(Scalar("a", positive=True),))
    d = Derivation("mixed", objs, (Step("a + 1", ">=", "a"), Step(None, "<=", "a + 2")),
                   claim=Step("a + 1", ">=", "a + 2"))
    r = check(d)
    assert all(s.status == VALID for s in r.steps) and not r.claim_proved and not r.valid


# ---- Hypothesis: mutating a valid derivation never yields a false "valid" --------------------------
def _small() -> Derivation:
    return Derivation(
        "descent steps", Assumptions(
            objects=(Scalar("beta", positive=True), Scalar("mu", positive=True), Scalar("eta", positive=True),
                     Scalar("Lt", nonnegative=True), Scalar("Lt1", nonnegative=True), Scalar("G", nonnegative=True)),
            hypotheses=(Hypothesis("eta*beta <= 1"), Hypothesis("Lt1 <= Lt - eta*(1 - beta*eta/2)*G"),
                        Hypothesis("G >= 2*mu*Lt"))),
        (Step("eta*(1 - beta*eta/2)", ">=", "eta/2"),
         Step("Lt1", "<=", "Lt - eta*(1 - beta*eta/2)*G"),
         Step(None, "<=", "Lt - eta*G/2"),
         Step(None, "<=", "Lt - eta*mu*Lt"),
         Step(None, "=", "(1 - eta*mu)*Lt"),
         Step("(1 + sqrt(eta*beta))*(1 - sqrt(eta*beta))", "=", "1 - eta*beta")),
        claim=Step("Lt1", "<=", "(1 - eta*mu)*Lt"))


def _true_everywhere(d: Derivation, lhs: str, rel: str, rhs: str) -> bool | None:
    """An independent sampling oracle: False at a violation, True after 20 satisfying points without
    one, None when too few points satisfy the hypotheses."""
    import random
    rng = random.Random(0)
    names = [o.name for o in d.assumptions.objects]
    syms = {o.name: sp.Symbol(o.name) for o in d.assumptions.objects}
    env = {**syms, "sqrt": sp.sqrt}
    hyps = [h.split() for h in d.assumptions.hypotheses]
    checked = 0
    for _ in range(500):
        vals = {syms[n]: sp.Rational(rng.randint(0, 40), rng.randint(1, 10)) for n in names}
        if vals[syms["beta"]] == 0 or vals[syms["mu"]] == 0 or vals[syms["eta"]] == 0:
            continue
        def at(text: str, vals: dict = vals) -> sp.Expr:
            return sp.sympify(eval(text, {}, env)).subs(vals)
        if not all(_holds(at(a), r, at(b)) for a, r, b in hyps):
            continue
        checked += 1
        if not _holds(at(lhs), rel, at(rhs)):
            return False
    return True if checked > 20 else None


def _holds(l, rel, r) -> bool:
    d = sp.N(l - r, 40)
    if not d.is_real:
        return False
    return {"=": abs(d) < 1e-30, "<=": d <= 1e-30, ">=": d >= -1e-30, "<": d < 0, ">": d > 0}[rel]


MUTATIONS = ["double", "halve", "negate", "plus_one", "flip", "swap_symbol"]


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, 5), mutation=st.sampled_from(MUTATIONS))
def test_mutation_is_never_called_valid_unless_true(index, mutation):
    d = _small()
    step = d.steps[index]
    rhs = {"double": f"2*({step.rhs})", "halve": f"({step.rhs})/2", "negate": f"-({step.rhs})",
           "plus_one": f"({step.rhs}) + 1", "flip": step.rhs,
           "swap_symbol": step.rhs.replace("mu", "beta") if "mu" in step.rhs else step.rhs.replace("eta", "mu")}[mutation]
    flip = {"<=": ">=", ">=": "<=", "=": "=", "<": ">", ">": "<"}
    relation = flip[step.relation] if mutation == "flip" else step.relation
    mutated = _plant(d, str(index + 1), rhs=rhs, relation=relation)
    r = check(mutated, samples=20)
    res = r.steps[index]
    lhs = res.lhs
    oracle = _true_everywhere(mutated, lhs, relation, rhs)
    if res.status == VALID:
        assert oracle is not False, (mutation, res.statement)
    if res.status == INVALID:
        assert oracle is not True or res.counterexample.get("reason"), (mutation, res.statement, res.counterexample)


# ---- the lecture notes -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def notes():
    return check(seed_notes())


WRONG_NOTES = {"L39", "L59a", "L59d", "L83", "L91", "L93a", "L93b", "L93c"}


@pytest.mark.slow
def test_seed_notes_wrong_steps_found_and_correct_steps_valid(notes):
    assert not notes.valid
    invalid = {s.id for s in notes.steps if s.status == INVALID}
    assert invalid == WRONG_NOTES
    assert not [s.id for s in notes.steps if s.status == UNVERIFIED]
    for s in notes.steps:
        assert s.source.startswith("seed-notes.md:")
        if s.status == INVALID:
            assert s.counterexample
    assert notes.step("L83").corrected.startswith("norm(grad(L))**2/2 >= (1/2)*")  # mu = lambda_min, not 2 lambda_min
    assert notes.step("L91").corrected.startswith("R >= (1/2)*")  # the notes' R is half the needed radius


def test_seed_notes_do_not_consult_a_list_of_errors():
    import inspect

    from plproof.symbolic import checker, prover, search
    for module in (checker, prover, search):
        source = inspect.getsource(module)
        assert "seed" not in source.lower() or "seed_text" in source or "seed:" in source or "seed +" in source
        assert "L83" not in source and "L59" not in source


def test_gradient_chain_of_the_notes():
    # the two wrong lines of E4 (docs/theory.md §1.5), checked in a small extract of the notes
    full = seed_notes()
    keep = {"L59a", "L59b", "L59c", "L59d", "L49"}
    steps = tuple(s for s in full.steps if s.relation == "def" or s.id in keep)
    d = dataclasses.replace(full, steps=steps, claim=Step("grad(L)", "=", "(F(w) - y).T*DF(w)"))
    r = check(d)
    status = {s.id: s.status for s in r.steps}
    assert status["L59a"] == INVALID and status["L59d"] == INVALID
    assert status["L59b"] == VALID and status["L59c"] == VALID and status["L49"] == VALID
    cx = r.step("L59d").counterexample
    assert cx["lhs"] != cx["rhs"]


# ---- outputs and bad input -------------------------------------------------------------------------
def test_outputs():
    r = check(builtin("kernel"))
    js = derivation_to_json(r)
    assert js["valid"] is True and js["derivation"] == "kernel"
    for s in js["steps"]:
        assert {"id", "statement", "relation", "status", "method", "scope", "counterexample", "source"} <= set(s)
    assert r"\begin{align*}" in derivation_to_latex(r) and "checkmark" in derivation_to_latex(r)
    assert "VALID" in derivation_to_text(r)


def test_bad_input_is_invalid_input():
    objs = Assumptions(objects=(Scalar("a"),))
    with pytest.raises(InvalidInput, match="cannot parse"):
        check(Derivation("x", objs, (Step("a +* (", "=", "a"),)))
    with pytest.raises(InvalidInput, match="unknown name"):
        check(Derivation("x", objs, (Step("b", "=", "a"),)))
    with pytest.raises(InvalidInput, match="relation"):
        Step("a", "=>", "a")
    with pytest.raises(InvalidInput, match="not a Derivation|expected a Derivation"):
        check("not a derivation")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="unknown derivation"):
        builtin("nope")
