"""The SGD ball route (docs/theory.md §3): closed forms on Linear, two-layer verdicts, bad input, CLI, sabotage."""

from __future__ import annotations

import copy
import json
import textwrap
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest

from plproof import InvalidInput, Linear, Problem, TwoLayer, check
from plproof.certificate.build import from_evidence
from plproof.certificate.format import seal, write_certificate
from plproof.data import uniform_targets, unit_inputs
from plproof.evidence import Status, Verdict
from plproof.verify import verify, verify_json

X2 = np.array([[1, 2, 0, 1], [0, 1, 1, -1]], dtype=float)
X3 = np.array([[1, 0, 0.5, 0, 2], [0, 1, 1, 1, 0], [1, 1, 0, 0, -1.5]])
CASES = [(X2, [1.0, 2.0], [1.0, 0, -1, 2], 1, 0.95), (X2, [1.0, 2.0], [1.0, 0, -1, 2], 2, 0.5),
         (X3, [0.5, -1.0, 2.0], [0.0, 0.25, 0, 1, -1], 2, 0.9)]


def mp(q: Fraction) -> mpmath.mpf:
    return mpmath.mpf(q.numerator) / q.denominator


def closed_forms(X: np.ndarray, y: list, w0: list, s: int, confidence: float) -> dict:
    """eta*, the rate at eta* and R of docs/theory.md §3 for F(w) = X w: beta = max_i ||x_i||^2 and L0 exactly in
    rationals, mu = lambda_min(X X^T) at 60 digits from the exact Gram matrix."""
    Xq = [[Fraction(v) for v in row] for row in X]
    n = len(Xq)
    beta = max(sum(v * v for v in row) for row in Xq)
    r = [sum(a * Fraction(w) for a, w in zip(row, w0)) - Fraction(t) for row, t in zip(Xq, y)]
    L0 = sum(v * v for v in r) / 2
    delta = 1 - Fraction(str(confidence))
    with mpmath.mp.workdps(60):
        K = mpmath.matrix([[mp(sum(a * b for a, b in zip(ri, rj))) for rj in Xq] for ri in Xq])
        mu = min(mpmath.eigsy(K)[0])
        eta = mu / (mp(beta) * (n * mp(beta) + mu * (s - 1)))
        return {"mu": mu, "beta": mp(beta), "eta": eta, "rate": 1 - mu * s * eta / n,
                "R": 2 * n * mpmath.sqrt(2 * mp(beta) * mp(L0)) / (mu * mp(delta)),
                "mean_step": s * (mu / n) / (mp(beta) * (mp(beta) + (mu / n) * (s - 1)))}


def close(x: float, exact: mpmath.mpf, rtol: float = 1e-12) -> bool:
    with mpmath.mp.workdps(60):
        return abs(mpmath.mpf(x) - exact) <= rtol * abs(exact)


@pytest.mark.parametrize("X, y, w0, s, confidence", CASES)
def test_linear_eta_rate_and_radius_are_the_closed_forms(X, y, w0, s, confidence):
    problem = Problem(Linear(X), y, w0)
    ev = check(problem, method="sgd", batch_size=s, confidence=confidence)
    assert ev.verdict is Verdict.CERTIFIED and ev.route == "sgd-ball", ev.reason
    exact = closed_forms(X, y, w0, s, confidence)
    q = ev.quantities
    assert close(q["beta"].hi, exact["beta"]) and close(q["mu"].lo, exact["mu"])
    for key, name in (("eta_star", "eta"), ("step", "eta"), ("rate", "rate"), ("R_sgd", "R")):
        assert close(q[key].lo, exact[name]) and close(q[key].hi, exact[name]), (key, q[key], exact[name])
    assert q["step"].hi <= q["eta_star"].lo and q["R"].lo >= q["R_sgd"].hi  # the premises, as numbers
    # the mean-loss form: mu/n, and the averaged step s eta equals s mu_bar / (beta (beta + mu_bar (s - 1)))
    assert close(q["mu_mean"].lo, exact["mu"] / len(y)) and close(q["step_mean"].hi, exact["mean_step"])
    assert q["step_mse"].hi == pytest.approx(q["step_mean"].hi / 2, rel=1e-15)
    # the certificate: the verifier's own numbers, exact rationals, agree with the closed forms too
    cert = from_evidence(ev, problem)
    assert cert["claim"]["theorem"] == "sgd-ball/A" and cert["rigor"] == "exact"
    assert cert["inputs"]["sgd"] == {"batch_size": s, "confidence": str(Fraction(str(confidence)))}
    cq = cert["evidence"]["quantities"]
    assert close(cq["eta_star"]["lo"], exact["eta"]) and close(cq["R_sgd"]["hi"], exact["R"])
    assert close(cq["rate"]["hi"], exact["rate"]) and cq["beta"]["hi"] == float(exact["beta"])
    assert f"probability >= {confidence}" in cert["claim"]["words"]
    assert verify_json(cert).valid


def two_layer(width: int) -> Problem:
    """n = 5 unit inputs in d = 4, targets in [-1e-4, 1e-4], tanh, symmetric init (F(w0) = 0)."""
    return Problem(TwoLayer(unit_inputs(5, 4, seed=1), width, "tanh", seed=1, init="symmetric"),
                   uniform_targets(5, 1e-4, seed=1))


def test_two_layer_certifies_when_wide_enough_and_its_certificate_verifies():
    problem = two_layer(512)
    ev = check(problem, method="sgd", batch_size=2, confidence=0.9)
    assert ev.certified and ev.rigor.label == "verified", ev.reason
    assert all(h.status is Status.HELD for h in ev.hypotheses)
    assert "(proved)" in ev.reason and "probability >= 0.9" in ev.conclusions[0]
    gd = check(problem, confirm=False)
    assert gd.certified and ev.quantities["R_sgd"].hi > 10 * gd.quantities["R_fl"].hi  # n sqrt(beta/mu)/delta larger
    cert = from_evidence(ev, problem)
    assert cert["evidence"]["verdict"] == "certified" and verify_json(cert).valid


def test_two_layer_too_narrow_is_not_certified_with_the_failing_premise_and_a_next_step():
    problem = two_layer(64)
    assert check(problem, confirm=False).certified  # GD's ball is small enough at this width
    ev = check(problem, method="sgd", batch_size=2, confidence=0.9)
    assert ev.verdict is Verdict.NOT_CERTIFIED
    failed = [h for h in ev.hypotheses if h.status is not Status.HELD]
    assert failed and failed[0].name in ev.reason and failed[0].margin.hi < 0
    assert "next: a wider model" in ev.reason and "a lower confidence" in ev.reason
    cert = from_evidence(ev, problem)
    assert cert["evidence"]["verdict"] == "not certified" and verify_json(cert).valid


def test_a_step_above_eta_star_fails_its_premise_and_suggests_a_smaller_step():
    problem = Problem(Linear(X2), [1.0, 2.0], [1.0, 0, -1, 2])
    eta_star = check(problem, method="sgd", batch_size=2, confidence=0.9).quantities["eta_star"].lo
    ev = check(problem, method="sgd", batch_size=2, confidence=0.9, step=1.01 * eta_star)
    assert ev.verdict is Verdict.NOT_CERTIFIED and "0 < eta <= eta*" in ev.reason
    assert "a smaller step" in ev.reason and "smaller batch" in ev.reason
    assert check(problem, method="sgd", batch_size=2, confidence=0.9, step=0.5 * eta_star).certified


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0, "confidence": 0.9}, "batch_size must be an integer in [1, n] = [1, 2], got 0"),
    ({"batch_size": 3, "confidence": 0.9}, "batch_size must be an integer in [1, n]"),
    ({"batch_size": 1.5, "confidence": 0.9}, "batch_size must be an integer"),
    ({"batch_size": True, "confidence": 0.9}, "batch_size must be an integer"),
    ({"confidence": 0.9}, "needs batch_size"),
    ({"batch_size": 1, "confidence": 1.0}, "confidence must be a number in (0, 1)"),
    ({"batch_size": 1, "confidence": 0}, "confidence must be a number in (0, 1)"),
    ({"batch_size": 1, "confidence": float("nan")}, "confidence must be a number in (0, 1)"),
    ({"batch_size": 1, "confidence": "0.9"}, "confidence must be a number in (0, 1)"),
    ({"batch_size": 1}, "needs confidence"),
    ({"method": "adam"}, "unknown method 'adam'"),
    ({"method": "gd", "batch_size": 1}, "apply to method='sgd' only"),
])
def test_bad_input_is_one_clear_line(kwargs, message):
    problem = Problem(Linear(X2), [1.0, 2.0])
    with pytest.raises(InvalidInput) as err:
        check(problem, **{"method": "sgd", **kwargs})
    assert message in str(err.value) and "\n" not in str(err.value)


# ---------------------------------------------------------------- the CLI
MODELS = textwrap.dedent('''
    import numpy as np
    from plproof import Linear, Problem
    linear = Problem(Linear(np.array([[1.0, 2, 0, 1], [0, 1, 1, -1]])), [1.0, 2.0], [1.0, 0, -1, 2])
''')


@pytest.fixture()
def models(tmp_path: Path) -> Path:
    (tmp_path / "models.py").write_text(MODELS)
    return tmp_path / "models.py"


def test_cli_sgd_writes_a_certificate_that_verifies(models, capsys):
    from plproof.cli.main import main

    out = models.parent / "sgd.json"
    argv = ["check", f"{models}:linear", "--method", "sgd", "--batch-size", "2", "--confidence", "19/20", "--out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "route: sgd-ball" in text and "[held   ] R >= R_sgd" in text and "mean loss: step s eta" in text
    cert = json.loads(out.read_text())
    assert cert["inputs"]["sgd"] == {"batch_size": 2, "confidence": "19/20"} and verify(out).valid


@pytest.mark.parametrize("args, message", [
    (["--batch-size", "0", "--confidence", "0.9"], "batch_size must be an integer in [1, n] = [1, 2], got 0"),
    (["--batch-size", "two", "--confidence", "0.9"], "--batch-size must be an integer in [1, n], got 'two'"),
    (["--batch-size", "1", "--confidence", "1.5"], "confidence must be a number in (0, 1)"),
    (["--batch-size", "1", "--confidence", "high"], "--confidence must be a number in (0, 1), got 'high'"),
    (["--batch-size", "1"], "--method sgd needs --confidence"),
    (["--route", "run"], "--method sgd needs --batch-size"),
])
def test_cli_bad_sgd_values_exit_2_with_one_line(models, capsys, args, message):
    from plproof.cli.main import main

    out = models.parent / "cert.json"
    assert main(["check", f"{models}:linear", "--method", "sgd", *args, "-q", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("plproof check:") and message in err[0]
    assert not out.exists()


def test_cli_run_route_certifies_a_seeded_sgd_run_that_verifies(models, capsys):
    """--route run --method sgd: the sampler and its seed reach the certificate, which verifies (docs/theory.md §12.6)."""
    from plproof.cli.main import main

    out = models.parent / "run.json"
    assert main(["check", f"{models}:linear", "--method", "sgd", "--batch-size", "1", "--route", "run",
                 "--sampler", "epochs", "--sampler-seed", "3", "-q", "--out", str(out)]) == 0
    cert = json.loads(out.read_text())
    sampler = cert["inputs"]["run"]["sampler"]
    assert (sampler["algorithm"], sampler["seed"], sampler["batch_size"]) == ("epochs", 3, 1)
    assert cert["claim"]["theorem"] == "sgd-run/A" and verify(out).valid


def test_cli_unknown_method_and_gd_with_batch_size_exit_2(models, capsys):
    from plproof.cli.main import main

    assert main(["check", f"{models}:linear", "--method", "adam", "-q"]) == 2
    assert main(["check", f"{models}:linear", "--batch-size", "2", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "unknown --method 'adam'" in err[0] and "--method sgd only" in err[1]


# ---------------------------------------------------------------- sabotage
@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[dict, Path]:
    problem = Problem(Linear(X3), [0.5, -1.0, 2.0], [0.0, 0.25, 0, 1, -1])
    base = tmp_path_factory.mktemp("sgd")
    path = write_certificate(from_evidence(check(problem, method="sgd", batch_size=2, confidence=0.9), problem),
                             base / "sgd.json")
    return json.loads(path.read_text()), base


def _edited(cert: dict, where: str, value: object) -> dict:
    out = copy.deepcopy(cert)
    node = out
    *path, last = where.split(".")
    for key in path:
        node = node[key]
    node[last] = value
    return seal(out)


@pytest.mark.parametrize("where, value", [
    ("evidence.quantities.eta_star.lo", "multiply:1.001"),
    ("hints.step", "multiply:1.001"),
    ("hints.step", "multiply:0.5"),          # a smaller step is fine for SGD, but not the one the evidence states
    ("evidence.quantities.R_sgd.hi", "multiply:0.999"),
    ("hints.radius", "multiply:0.9999"),
    ("hints.radius", "multiply:2"),
    ("evidence.quantities.rate.hi", "multiply:0.999"),
    ("inputs.sgd.batch_size", 1),
    ("inputs.sgd.batch_size", 3),
    ("inputs.sgd.batch_size", 4),            # beyond n
    ("inputs.sgd.confidence", "1/2"),
    ("inputs.sgd.confidence", "99/100"),
    ("inputs.sgd.confidence", "1"),
    ("evidence.setting.confidence", "1/2"),
    ("claim.theorem", "gd-ball/A"),
])
def test_the_verifier_rejects_an_edited_and_resealed_certificate(certificate, where, value):
    cert, base = certificate
    assert verify_json(cert, base=base).valid
    if isinstance(value, str) and value.startswith("multiply:"):
        node = cert
        for key in where.split("."):
            node = node[key]
        value = float(node) * float(value.split(":")[1])
    result = verify_json(_edited(cert, where, value), base=base)
    assert result.outcome == "invalid", (where, value, result.reason)


def test_a_gd_certificate_with_an_sgd_setting_is_rejected(certificate):
    cert, base = certificate
    gd_problem = Problem(Linear(X3), [0.5, -1.0, 2.0], [0.0, 0.25, 0, 1, -1])
    gd = from_evidence(check(gd_problem, confirm=False), gd_problem)
    gd["inputs"]["sgd"] = cert["inputs"]["sgd"]
    result = verify_json(seal(gd), base=base)
    assert result.outcome == "invalid" and "inputs.sgd" in result.reason


def test_the_exact_expectation_property_refutes_the_rate_of_a_doubled_mu():
    """plproof/properties/test_sgd_ball.py can fail: the exact E[L_1] exceeds (1 - 2 mu s eta/n) L0, the rate that
    mu = 2 lambda_min (erratum E1 of docs/theory.md §1.5) would claim, while the certified rate bounds it."""
    from plproof.properties.test_sgd_ball import certified, expected_losses

    problem = Problem(Linear(X2), [1.0, 2.0], [1.0, 0, -1, 2])
    ev = certified(problem, 1, 0.9)
    eta, rho = Fraction(ev.hints["step"]), Fraction(ev.quantities["rate"].hi)
    losses = expected_losses(problem, eta, 1, 3)
    assert all(loss <= rho**t * losses[0] for t, loss in enumerate(losses))
    assert losses[1] > (1 - 2 * (1 - rho)) * losses[0]
