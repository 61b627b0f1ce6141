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

from plproof import Linear, Problem, RandomFeatures, TwoLayer
from plproof.certificate import (derivation_certificate, from_evidence, property_certificate, seal,
                                 write_certificate)
from plproof.routes.ball import check
from plproof.cli import verify as verify_cli
from plproof.data import uniform_targets, unit_inputs
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


def linear_problem() -> Problem:
    return Problem(Linear(np.array(X, float)), [1, 2], [1, 0, -1, 2])


def linear_cert(convention: str = "A", step: float | None = None) -> dict:
    """The linear example of docs/theory.md §7 through check() (``convention`` B relabels the evidence)."""
    problem = linear_problem()
    ev = check(problem, step=step, confirm=False)
    ev.convention = convention
    return from_evidence(ev, problem)


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
def test_linear_certificates_are_exact_and_true(tmp_path, convention):
    """Against the exact eigenvalues (9 -+ sqrt 13)/2 and L0 = 29/2: every stated bound holds and is tight."""
    cert = linear_cert(convention)
    result = verify(write_certificate(cert, tmp_path / "lin.json"))
    assert result.valid and result.level == "exact", result.reason
    q = {k: {s: Fraction(v[s]) for s in ("lo", "hi") if s in v} for k, v in cert["evidence"]["quantities"].items()}
    scale = 2 if convention == "B" else 1
    assert _below(LMIN, 1e-9) * scale <= q["mu"]["lo"] <= Fraction(LMIN) * scale * (1 + Fraction(1, 10**12))
    assert q["beta"]["hi"] >= _below(LMAX) and q["L0"]["lo"] == q["L0"]["hi"] == Fraction(29, 2)
    assert cert["claim"]["theorem"] == f"gd-ball/{convention}"
    assert ("convention B" in cert["claim"]["words"]) == (convention == "B")


def test_step_up_to_two_over_beta_certifies_and_beyond_does_not(tmp_path):
    beta = LMAX * (1 + 1e-9)
    good = linear_cert(step=1.9 / beta)
    assert good["evidence"]["verdict"] == "certified" and verify(write_certificate(good, tmp_path / "a.json")).valid
    over = linear_cert(step=2.0 / LMAX)
    failed = [p["name"] for p in over["evidence"]["premises"] if p["status"] != "held"]
    assert over["evidence"]["verdict"] == "not certified" and "0 < eta beta < 2" in failed
    assert verify(write_certificate(over, tmp_path / "b.json")).valid  # a true certificate of a failed premise


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
    assert "T1-T3" in text and "positive-definiteness test" in text and result.level == "verified"


def test_digest_mismatch_is_invalid(tmp_path):
    path = write_certificate(linear_cert(), tmp_path / "c.json")
    cert = json.loads(path.read_text())
    cert["digest"] = cert["digest"][:-1] + ("0" if cert["digest"][-1] != "0" else "1")
    path.write_text(json.dumps(cert))
    result = verify(path)
    assert not result.valid and result.first_failure.startswith("digest")


def test_a_model_the_verifier_cannot_rebuild_is_not_rechecked_here_never_invalid(tmp_path):
    path = write_certificate(linear_cert(), tmp_path / "c.json")
    cert = json.loads(path.read_text())
    cert["inputs"]["model"]["family"] = "my_callable"
    path.write_text(json.dumps(seal(cert)))
    result = verify(path)
    assert result.outcome == "unverifiable" and result.exit_code == 3 and "--run-code" in result.reason


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
    assert verify(path).outcome == "unverifiable"  # re-running test code needs --run-code
    result = verify(path, run_code=True)
    assert result.valid and result.level == "sampled", result.reason
    assert any("20 examples" in line for line in result.checked)
    written = json.loads(path.read_text())
    path.write_text(json.dumps(seal({**written, "evidence": {**written["evidence"], "verdict": "failed"}})))
    assert "the re-run passed" in verify(path, run_code=True).first_failure
    module.write_text(textwrap.dedent(PROPERTY).replace("2 * a * b", "3 * a * b"))
    path.write_text(json.dumps(written))
    changed = verify(path, run_code=True)  # not the code the certificate names: not re-checkable, not invalid
    assert changed.outcome == "unverifiable" and "changed since" in changed.reason


def _cli(*paths: str) -> int:
    parser = argparse.ArgumentParser()
    verify_cli.register(parser.add_subparsers())
    args = parser.parse_args(["verify", *paths])
    return args.run(args)


def test_cli_exit_codes(tmp_path, capsys):
    good = write_certificate(linear_cert(), tmp_path / "good.json")
    cert = json.loads(good.read_text())
    cert["evidence"]["quantities"]["mu"]["lo"] = 3.0
    (tmp_path / "bad.json").write_text(json.dumps(seal(cert)))
    assert _cli(str(good)) == 0 and "valid" in capsys.readouterr().out
    assert _cli(str(good), str(tmp_path / "bad.json")) == 1
    assert "INVALID (problem): evidence.quantities.mu.lo" in capsys.readouterr().out
    assert _cli(str(good), str(tmp_path / "missing.json")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err
    unverifiable = json.loads(good.read_text())
    unverifiable["inputs"]["model"]["class"] = "my_module.MyLinear"
    (tmp_path / "user.json").write_text(json.dumps(seal(unverifiable)))
    assert _cli(str(good), str(tmp_path / "user.json")) == 3
    assert "not re-checkable here" in capsys.readouterr().out


def test_problem_certificates_carry_the_exact_one_step_rate(two_layer_cert):
    """docs/theory.md §6.5: where an exact PEP proof exists for (beta_ball, mu, eta), the certificate states its
    tau beside the descent-lemma rate; the verifier re-checks the proof in rationals; a forged tau fails."""
    cert = json.loads(two_layer_cert.read_text())
    q = cert["evidence"]["quantities"]
    assert Fraction(q["rate_exact"]["hi"]) < Fraction(q["rate"]["hi"])
    assert "exact one-step certificate" in cert["claim"]["words"]
    forged = json.loads(two_layer_cert.read_text())
    forged["hints"]["rate_proof"]["tau"] = str(Fraction(forged["hints"]["rate_proof"]["tau"]) / 2)
    forged["evidence"]["quantities"]["rate_exact"]["hi"] /= 2
    path = two_layer_cert.parent / "forged-rate.json"
    path.write_text(json.dumps(seal(forged)))
    assert verify(path).outcome == "invalid"


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus", "sin", "gelu"])
def test_the_verifiers_activation_constants_bound_and_nearly_attain_the_sup(name: str) -> None:
    """S1-S3 of plproof.verify.exact (its own proofs, docs/rigor.md §1) lie above max |sigma^(k)| on a fine grid
    and within 1e-6 of it: a constant too small would be unsound, one far too large would cost widths."""
    from plproof.models.activations import ACTIVATIONS
    from plproof.numeric.arith import FLOAT64
    from plproof.verify.exact import ACTIVATION_BOUNDS

    z = np.concatenate([np.linspace(-12, 12, 2_400_001), [-40.0, 40.0]])  # softplus: sup s' = 1 at infinity
    sampled = [float(np.max(np.abs(v))) for v in ACTIVATIONS[name].derivatives(z, FLOAT64, 3)[1:]]
    for bound, sup in zip(ACTIVATION_BOUNDS[name], sampled):
        assert sup <= float(bound) * (1 + 1e-12) and float(bound) <= sup * (1 + 1e-6) + 1e-12, (name, bound, sup)


def test_a_not_certified_re_check_without_a_radius_renders_its_failed_premise() -> None:
    """The verifier's evidence stops before any radius when lambda0 > 0 is not proved: the claim names it."""
    from plproof.verify.claims import render

    ev = {"verdict": "not certified", "quantities": {"L0": {"lo": 0.1, "hi": 0.1}},
          "premises": [{"name": "m >= n", "status": "held"}, {"name": "lambda0 > 0", "status": "unknown"}]}
    words, _ = render("gd-ball/A", ev)
    assert words.startswith("not certified: lambda0 > 0")


def test_the_verifiers_erf_encloses_mpmath_erf() -> None:
    """_iv_erf (series for |x| <= 6, erfc's asymptotic bracket beyond) contains erf at 50 digits, width <= 1e-20."""
    import mpmath

    from plproof.verify.exact import _iv_erf

    with mpmath.workdps(50):
        for x in [*np.linspace(-9, 9, 721), 1e-300, -6.0, 6.0, np.nextafter(6.0, 7), 30.0, 0.0]:
            e = _iv_erf(float(x))
            lo, hi, true = mpmath.mpf(e.a), mpmath.mpf(e.b), mpmath.erf(mpmath.mpf(float(x)))
            assert lo <= true <= hi and hi - lo <= 1e-20, x
