"""The independent verifier on real certificates: linear (own producer and check()), two-layer, derivations, properties."""

from __future__ import annotations

import argparse
import json
import math
import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from plproof import Enclosure, Linear, Problem, RandomFeatures, RigorLevel, TwoLayer, gradient_descent
from plproof.certificate import (derivation_certificate, from_evidence, property_certificate, seal,
                                 write_certificate)
from plproof.check import check
from plproof.cli import verify as verify_cli
from plproof.data import uniform_targets, unit_inputs
from plproof.evidence import Evidence, Hypothesis, Status, Verdict
from plproof.suite import BUILTIN_PROBLEMS
from plproof.verify import verify
from plproof.verify import exact

X = [[1, 2, 0, 1], [0, 1, 1, -1]]
#: docs/theory.md §7: K = [[6, 1], [1, 3]], eigenvalues (9 -+ sqrt 13)/2, L0 = 29/2
LMIN, LMAX = (9 - math.sqrt(13)) / 2, (9 + math.sqrt(13)) / 2


def _below(x: float, rel: float = 1e-12) -> Fraction:
    return Fraction(x) * (1 - Fraction(rel))


def _above(x: float, rel: float = 1e-12) -> Fraction:
    return Fraction(x) * (1 + Fraction(rel))


def linear_evidence(convention: str = "A", step_factor: float = 1.0) -> tuple[Evidence, Problem]:
    """A small independent producer for the linear example: global PL* with mu = lambda_min, beta = lambda_max,
    R = R_fl = 2 sqrt(2 L0/mu)/(2 - beta eta) (docs/theory.md §2.5, §7), numbers padded by 1e-12."""
    problem = Problem(Linear(np.array(X, float)), [1, 2], [1, 0, -1, 2])
    lam = Enclosure(_below(LMIN), _above(LMIN), RigorLevel.EXACT)
    mu = lam.lo * (2 if convention == "B" else 1)
    beta = _above(LMAX)
    eta = Fraction(step_factor / float(beta))
    L0 = Fraction(29, 2)
    gap = 2 - beta * eta
    r_fl = 2 * math.sqrt(float(2 * L0 / lam.lo)) / float(gap)
    rate = 1 - eta * lam.lo * gap
    level = RigorLevel.EXACT

    def point(x: Fraction | float) -> Enclosure:
        return Enclosure(x, x, level)

    q = {"lambda0": lam, "jacobian_norm_w0": Enclosure(_below(math.sqrt(LMAX)), _above(math.sqrt(LMAX)), level),
         "residual_norm_w0": Enclosure(_below(math.sqrt(29)), _above(math.sqrt(29)), level), "L0": point(L0),
         "mu": point(mu), "beta": point(beta), "L_F": point(_above(math.sqrt(LMAX))), "epsilon": point(0),
         "delta": point(0), "step": point(eta), "R": point(_above(r_fl, 1e-6)), "R_fl": point(_above(r_fl, 1e-9)),
         "rate": point(rate)}
    hyps = [Hypothesis("R >= R_fl", "R >= 2 sqrt(2 L0/mu)/(2 - beta eta)", Status.HELD,
                       Enclosure(_above(r_fl, 1e-6) - _above(r_fl, 1e-9), _above(r_fl, 1e-6), level))]
    traj = gradient_descent(problem, float(eta), 40, lambda_min_every=4)
    ev = Evidence("L is mu-PL* on B(w0, R) and GD converges in it", "R >= R_fl", "ball", Verdict.CERTIFIED, "test",
                  problem.describe(), quantities=q, hypotheses=hyps, trajectory=traj, convention=convention,
                  hints={"lambda0_shift": lam.lo, "bounds": "linear", "reference": "docs/theory.md §7"})
    return ev, problem


def write(ev_problem: tuple[Evidence, Problem], path: Path) -> Path:
    return write_certificate(from_evidence(*ev_problem), path)


@pytest.fixture(scope="module")
def two_layer_cert(tmp_path_factory) -> Path:
    problem = Problem(TwoLayer(unit_inputs(3, 3, 7), 1024, "tanh", seed=7, init="symmetric"),
                      uniform_targets(3, 0.01, 7))
    ev = check(problem)
    assert ev.certified
    return write_certificate(from_evidence(ev, problem), tmp_path_factory.mktemp("tl") / "two_layer.json")


def test_exact_helpers():
    assert exact.sqrt_lo(Fraction(9, 4)) == exact.sqrt_hi(Fraction(9, 4)) == Fraction(3, 2)
    assert exact.sqrt_lo(Fraction(2)) ** 2 < 2 < exact.sqrt_hi(Fraction(2)) ** 2
    K = exact.exact_matrix(np.array([[Fraction(6), Fraction(1)], [Fraction(1), Fraction(3)]], dtype=object))
    assert K.lambda_min_above(_below(LMIN)) and not K.lambda_min_above(_above(LMIN))
    assert K.lambda_min_below(_above(LMIN)) and not K.lambda_min_below(_below(LMIN))
    assert K.lambda_max_below(_above(LMAX)) and K.lambda_max_above(_below(LMAX))


def test_float_cholesky_route_agrees_with_exact_route():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((30, 40))
    K = A @ A.T
    lam = np.linalg.eigvalsh(K)[0]
    for s, expected in ((lam * 0.999, True), (lam * 1.001, False)):
        M = [[Fraction(v) - (Fraction(s) if i == j else 0) for j, v in enumerate(row)] for i, row in enumerate(K)]
        assert exact._pd_exact(M) is expected and exact._pd_float(M) is expected


@pytest.mark.parametrize("convention", ["A", "B"])
def test_own_linear_certificates_verify_exactly(tmp_path, convention):
    result = verify(write(linear_evidence(convention), tmp_path / "lin.json"))
    assert result.valid, result.first_failure
    assert any("(exact)" in line and line.startswith("mu:") for line in result.checked)
    assert any("recorded GD run" in line for line in result.checked)


def test_step_up_to_two_over_beta_verifies_and_beyond_does_not(tmp_path):
    path = write(linear_evidence(step_factor=1.9), tmp_path / "a.json")
    assert verify(path).valid
    cert = json.loads(path.read_text())
    beta = Fraction(cert["evidence"]["quantities"]["beta"]["hi"])
    cert["evidence"]["quantities"]["step"] = {"lo": f"{2 / beta}", "hi": f"{2 / beta}", "rigor": "exact"}
    path.write_text(json.dumps(seal(cert)))
    bad = verify(path)
    assert not bad.valid and "beta eta < 2" in bad.first_failure


SMALL_PROBLEMS = {
    **{name: BUILTIN_PROBLEMS[name] for name in ("linear-exact", "two-layer-sigmoid", "under-parameterised")},
    "random-features": lambda: Problem(RandomFeatures(unit_inputs(4, 3, 1), 16, "tanh", seed=1),
                                       uniform_targets(4, 0.5, 1)),
}


@pytest.mark.parametrize("name", sorted(SMALL_PROBLEMS))
def test_certificates_of_check_verify(tmp_path, name):
    problem = SMALL_PROBLEMS[name]()
    result = verify(write_certificate(from_evidence(check(problem), problem), tmp_path / f"{name}.json"))
    assert result.valid, result.first_failure


def test_two_layer_certificate_recomputes_T1_T3(two_layer_cert):
    result = verify(two_layer_cert)
    assert result.valid, result.first_failure
    text = "\n".join(result.checked)
    assert "T1-T3" in text and "mu: lambda_min(K(w)) >= mu" in text and "(verified)" in text


def test_digest_mismatch_is_invalid(tmp_path):
    path = write(linear_evidence(), tmp_path / "c.json")
    cert = json.loads(path.read_text())
    cert["digest"] = cert["digest"][:-1] + ("0" if cert["digest"][-1] != "0" else "1")
    path.write_text(json.dumps(cert))
    result = verify(path)
    assert not result.valid and result.first_failure.startswith("digest")


def test_unknown_family_is_invalid_not_valid(tmp_path):
    path = write(linear_evidence(), tmp_path / "c.json")
    cert = json.loads(path.read_text())
    cert["inputs"]["model"]["family"] = "my_callable"
    path.write_text(json.dumps(seal(cert)))
    result = verify(path)
    assert not result.valid and "cannot be rebuilt" in result.first_failure


def test_derivation_certificates_are_rechecked(tmp_path):
    from plproof.symbolic.checker import check as check_derivation
    from plproof.symbolic.model import Assumptions, Derivation, Scalar, Step

    objects = Assumptions(objects=(Scalar("a"), Scalar("b")))
    good = check_derivation(Derivation("expand", objects, (Step("(a+b)**2", "=", "a**2 + 2*a*b + b**2"),),
                                       claim=Step("(a+b)**2", "=", "a**2 + 2*a*b + b**2")))
    wrong = check_derivation(Derivation("wrong", objects, (Step("(a+b)**2", "=", "a**2 + b**2"),),
                                        claim=Step("(a+b)**2", "=", "a**2 + b**2")))
    assert good.valid and not wrong.valid
    for result, name in ((good, "good"), (wrong, "wrong")):
        path = write_certificate(derivation_certificate(result), tmp_path / f"{name}.json")
        assert verify(path).valid  # the certificate states the checker's verdict, which the re-check confirms
    cert = json.loads((tmp_path / "wrong.json").read_text())
    cert["evidence"]["steps"][0]["status"] = "valid"
    cert["evidence"]["valid"] = cert["evidence"]["claim_proved"] = True
    (tmp_path / "forged.json").write_text(json.dumps(seal(cert)))
    forged = verify(tmp_path / "forged.json")
    assert not forged.valid and "step 1" in forged.first_failure and "'invalid'" in forged.first_failure


PROPERTY = '''
from hypothesis import given, strategies as st

@given(st.integers(-1000, 1000), st.integers(-1000, 1000))
def test_square_of_sum(a, b):
    assert (a + b) ** 2 == a * a + 2 * a * b + b * b
'''


def test_property_certificates_rerun_with_their_seed(tmp_path):
    (tmp_path / "props").mkdir()
    module = tmp_path / "props/test_prop.py"
    module.write_text(textwrap.dedent(PROPERTY))
    cert = property_certificate(module="props/test_prop.py", test="test_square_of_sum", seed=5, profile="ci",
                                max_examples=20, examples=20, claim="(a+b)^2 = a^2 + 2ab + b^2",
                                symbols="(a+b)**2 == a**2+2*a*b+b**2", rigor="sampled", root=tmp_path)
    path = write_certificate(cert, tmp_path / "prop.json")
    result = verify(path, quick=True)
    assert result.valid, result.first_failure
    assert any("2 examples, quick" in line for line in result.checked)
    path.write_text(json.dumps(seal({**cert, "evidence": {**cert["evidence"], "outcome": "failed"}})))
    assert "the re-run passed" in verify(path, quick=True).first_failure
    module.write_text(textwrap.dedent(PROPERTY).replace("2 * a * b", "3 * a * b"))
    path.write_text(json.dumps(cert))
    assert "changed since" in verify(path).first_failure


def _cli(*paths: str) -> int:
    parser = argparse.ArgumentParser()
    verify_cli.register(parser.add_subparsers())
    args = parser.parse_args(["verify", *paths])
    return args.run(args)


def test_cli_exit_codes(tmp_path, capsys):
    good = write(linear_evidence(), tmp_path / "good.json")
    cert = json.loads(good.read_text())
    cert["evidence"]["quantities"]["mu"]["lo"] = 3.0
    (tmp_path / "bad.json").write_text(json.dumps(seal(cert)))
    assert _cli(str(good)) == 0 and "valid" in capsys.readouterr().out
    assert _cli(str(good), str(tmp_path / "bad.json")) == 1
    assert "INVALID: mu" in capsys.readouterr().out
    assert _cli(str(good), str(tmp_path / "missing.json")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err
