"""Derivation certificates are re-checked by exact evaluation, independently of the SymPy checker that wrote
them, and every stated status, counterexample and re-check setting is held to account (docs/rigor.md)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from plproof.certificate.build import derivation_certificate
from plproof.certificate.format import seal
from plproof.symbolic.catalogue import builtin, builtin_names, seed_notes
from plproof.symbolic.checker import check
from plproof.symbolic.model import Assumptions, Derivation, Hypothesis, MatrixVar, Scalar, SmoothMap, Step, Vector
from plproof.verify.algebra import Deg, Mat, NotExact, NotReal, eigen, sign, sqrt
from plproof.verify.derivation import check_derivation, parse, recheck_plan
from plproof.verify.exact import Failure, Unverifiable

REPO = Path(__file__).resolve().parent.parent
SLOW = {"gd-v1", "gd-v2"}  # the SymPy checker needs several seconds for these (the re-check well under one)

#: one step of each kind: a definition, identities (vector calculus, matrices), a valid and an invalid inequality
SMALL = Derivation(
    "small", Assumptions(objects=(Vector("w", "M"), Vector("y", "n"), SmoothMap("F", "w", "M", "n"),
                                  MatrixVar("X", "n", "n"), MatrixVar("Y", "n", "n"),
                                  Scalar("a", positive=True), Scalar("b", positive=True)),
                         hypotheses=(Hypothesis("b <= a"),)),
    (Step("L", "def", "(F(w) - y).T*(F(w) - y)/2"),
     Step("grad(L)", "=", "DF(w).T*(F(w) - y)", id="G"),
     Step("(X*Y).T", "=", "Y.T*X.T", id="T"),
     Step("a + b", ">=", "2*b", id="I"),
     Step("a*b", ">=", "b**2 + a", id="X")),
    claim=Step("grad(L)", "=", "DF(w).T*(F(w) - y)"))


def certify(derivation: Derivation) -> dict:
    """The producer's certificate, as the verifier reads it back from JSON."""
    return json.loads(json.dumps(derivation_certificate(check(derivation))))


def recheck(cert: dict) -> list[str]:
    checked: list[str] = []
    check_derivation(cert, None, False, checked)
    return checked


def step(cert: dict, sid: str) -> tuple[dict, dict]:
    """A step of the stored derivation and its evidence."""
    i = [s["id"] for s in cert["evidence"]["steps"]].index(sid)
    return cert["inputs"]["derivation"]["steps"][i], cert["evidence"]["steps"][i]


@pytest.fixture(scope="module")
def small() -> dict:
    cert = certify(SMALL)
    assert [s["status"] for s in cert["evidence"]["steps"]] == ["valid"] * 4 + ["invalid"]
    return cert


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in builtin_names()]
                         + [pytest.param("seed-notes", marks=pytest.mark.slow)])
def test_catalogue_and_lecture_notes_certify_and_recheck(name, monkeypatch):
    cert = certify(seed_notes.derivation() if name == "seed-notes" else builtin(name))
    monkeypatch.setitem(sys.modules, "sympy", None)  # the re-check cannot fall back on SymPy
    lines = recheck(cert)
    stated = cert["evidence"]["steps"]
    assert [line.split(",")[0] for line in lines[:-1]] == [f"step {s['id']}: {s['status']}" for s in stated]
    assert all("refuted exactly" in line for line in lines if ": invalid," in line)
    assert cert["evidence"]["valid"] == (name != "seed-notes") and ("not valid" in lines[-1]) == (name == "seed-notes")


def test_each_kind_of_step_is_rechecked(small):
    lines = recheck(small)
    assert lines[0].startswith("step 1: valid, defined at") and "(evidence)" in lines[0]
    assert all("identity at" in line for line in lines[1:3]) and "holds at" in lines[3]
    assert lines[4] == "step X: invalid, refuted exactly at its counterexample"


def test_committed_paper_certificates_carry_the_recheck_plan():
    for path in sorted((REPO / "certificates/paper/derivations").glob("*.json")):
        cert = json.loads(path.read_text())
        assert cert["inputs"]["recheck"] == recheck_plan(cert["inputs"]["derivation"])
        assert Fraction(cert["inputs"]["recheck"]["failure_probability"]) < Fraction(1, 10 ** 9)
        recheck(cert)


def tampered(cert: dict, change) -> dict:
    out = copy.deepcopy(cert)
    change(out)
    return seal(out)


def relabel(sid: str, status: str, cx=None):
    def change(cert: dict) -> None:
        ev = step(cert, sid)[1]
        ev["status"], ev["counterexample"] = status, cx
        cert["evidence"]["valid"] = all(s["status"] == "valid" for s in cert["evidence"]["steps"])
    return change


def rewrite(sid: str, rhs: str):
    """Change a step's right-hand side everywhere it is stated, with a recheck plan to match."""
    def change(cert: dict) -> None:
        s, ev = step(cert, sid)
        s["rhs"] = ev["rhs"] = rhs
        cert["inputs"]["recheck"] = recheck_plan(cert["inputs"]["derivation"])
    return change


@pytest.mark.parametrize("change, message", [
    (relabel("T", "invalid"), "without a counterexample"),
    (relabel("T", "invalid", {"M": "1", "n": "2", "a": "1", "b": "1"}), "does not refute"),
    (relabel("X", "valid"), "finds 'invalid'"),
    (rewrite("T", "X.T*Y.T"), "finds 'invalid'"),  # factors swapped: wrong for n >= 2
    (rewrite("G", "(F(w) - y)*DF(w).T"), "finds 'invalid'"),  # ill-typed
    (rewrite("I", "3*b"), "finds 'invalid'"),
], ids=["valid-as-invalid", "valid-with-bogus-cx", "invalid-as-valid", "swapped-matrices", "swapped-shapes",
        "changed-inequality"])
def test_a_changed_status_or_expression_is_rejected(small, change, message):
    with pytest.raises(Failure, match=message):
        recheck(tampered(small, change))


def test_a_wrong_counterexample_is_rejected(small):
    cx = dict(step(small, "X")[1]["counterexample"], a="10", b="5")  # a*b >= b**2 + a holds there
    with pytest.raises(Failure, match="does not refute"):
        recheck(tampered(small, relabel("X", "invalid", cx)))
    with pytest.raises(Failure, match="does not refute"):  # a valid step must carry no counterexample
        recheck(tampered(small, relabel("I", "valid", cx)))
    with pytest.raises(Failure, match="finds 'invalid': refuted exactly at its counterexample"):
        recheck(tampered(small, relabel("X", "valid", step(small, "X")[1]["counterexample"])))


@pytest.mark.parametrize("field, value", [("seed", 1), ("instances", 8), ("failure_probability", "1/2"),
                                          ("method", "trust me")])
def test_a_changed_recheck_plan_is_rejected(small, field, value):
    def change(cert: dict) -> None:
        cert["inputs"]["recheck"][field] = value
    with pytest.raises(Failure, match="inputs.recheck"):
        recheck(tampered(small, change))


def test_flags_must_be_what_the_statuses_give(small):
    for key in ("claim_proved", "valid"):
        with pytest.raises(Failure, match=key):
            recheck(tampered(small, lambda cert, key=key: cert["evidence"].__setitem__(key, not cert["evidence"][key])))


@pytest.mark.parametrize("text", ["__import__('os')", "w.__class__", "(lambda: 1)()", "sqrt(x=1)", "'w'",
                                  "[w for w in y]", "w if y else L", "w.conjugate()", "w[0]", "F(w)(y)"])
def test_expressions_outside_the_whitelist_are_rejected(text):
    with pytest.raises(Failure, match="not in the derivation language"):
        parse(text)


def test_a_hostile_expression_is_rejected_without_running_it(small, tmp_path):
    target = tmp_path / "ran"
    with pytest.raises(Failure, match="not in the derivation language"):
        recheck(tampered(small, rewrite("G", f"__import__('os').system('touch {target}')")))
    assert not target.exists()


def test_what_cannot_be_evaluated_exactly_is_unverifiable_not_invalid():
    d = Derivation("exp", Assumptions(objects=(Scalar("a"), Scalar("b"))),
                   (Step("exp(a)*exp(b)", "=", "exp(a + b)"),), claim=Step("exp(a)*exp(b)", "=", "exp(a + b)"))
    cert = certify(d)
    assert cert["evidence"]["valid"]
    with pytest.raises(Unverifiable):
        recheck(cert)
    with pytest.raises(Unverifiable):
        parse("0.5*w")


def test_importing_the_verifier_loads_no_producer_code():
    code = ("import sys, plproof.verify.derivation; "
            "print(sorted(m for m in sys.modules if m.startswith('plproof.symbolic')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_exact_arithmetic_with_square_roots():
    assert sqrt(8) - 2 * sqrt(2) == 0 and sqrt(Fraction(4, 9)) == Fraction(2, 3)
    assert sqrt(2) * sqrt(6) - 2 * sqrt(3) == 0 and sqrt(12) / sqrt(3) == 2
    assert (1 + sqrt(2)).inverse() - (sqrt(2) - 1) == 0
    assert sign(sqrt(2) + sqrt(3) - sqrt(10)) == -1 and sign(sqrt(10) - sqrt(2) - sqrt(3)) == 1  # 3.146 vs 3.162
    assert eigen(Mat([[Fraction(6), Fraction(1)], [Fraction(1), Fraction(3)]]), -1) - (9 - sqrt(13)) / 2 == 0
    with pytest.raises(NotReal):
        sqrt(Fraction(-1, 4))
    with pytest.raises(NotExact):
        sqrt(1 + sqrt(2))
    x = Deg(1)
    assert (x * x + x).bound() == 2 and (sqrt(x * x + 1) / x).bound() == 2  # one root: 2^1 * degree 1
