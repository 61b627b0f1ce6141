"""Every certificate plproof writes verifies, for every model kind, after the files are copied to another
folder and verified from an unrelated working directory (issue: a verifier complete on what plproof writes)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

import plproof
from plproof.certificate.build import from_evidence
from plproof.certificate.format import load_certificate, write_certificate
from plproof.data import uniform_targets, unit_inputs
from plproof.certificate.build import run_certificate
from tests.test_run_dd import switched as switched_run
from plproof.verify import verify
from tests.test_graph_bounds import conv_problem, residual_problem
from tests.test_graph_run import bias_skip

CALLABLE = """
import numpy as np
from plproof import CallableModel, Problem


def f(w):
    return np.array([w[0] + 0.01 * w[2] ** 2, w[1] + 0.01 * w[0] * w[2]])


problem = Problem(CallableModel(f, 3, w0=[1.0, 1.0, 0.0]), [1.01, 1.0])
"""


def _two_layer(width: int, activation: str, train: str = "both", init: str = "symmetric", n: int = 4) -> plproof.Problem:
    X = unit_inputs(n, 3, seed=5)
    return plproof.Problem(plproof.TwoLayer(X, width, activation, seed=5, train=train, init=init),
                           uniform_targets(n, 0.01, seed=5))


def _problems(tmp: Path) -> dict[str, plproof.Problem]:
    import sympy as sp

    from plproof.loading import build_problem, load_object

    w1, w2 = sp.symbols("w1 w2")
    (tmp / "user_model.py").write_text(textwrap.dedent(CALLABLE))
    user = build_problem(load_object(f"{tmp / 'user_model.py'}:problem"))
    user.source = (tmp / "user_model.py", "problem")
    X = unit_inputs(3, 2, seed=1)
    return {
        "linear": plproof.Problem(plproof.Linear([[1.0, 2, 0], [0, 1, 1]]), [1.0, 2.0]),
        "random-features": plproof.Problem(plproof.RandomFeatures(X, 16, "tanh", seed=1), uniform_targets(3, 0.5, 1)),
        "two-layer-tanh": _two_layer(1024, "tanh"),
        "two-layer-sigmoid": _two_layer(512, "sigmoid"),
        "two-layer-softplus": _two_layer(256, "softplus"),
        "two-layer-sin-hidden": _two_layer(1024, "sin", train="hidden"),
        "two-layer-gelu": _two_layer(16, "gelu"),  # the verifier's interval erf (docs/rigor.md §2.2)
        "two-layer-relu": _two_layer(16, "relu"),
        "under-parameterised": plproof.Problem(plproof.Linear([[1.0, 2], [3, 4], [5, 7]]), [1.0, 0, 1], [1.0, 1.0]),
        "mlp-2": plproof.Problem(plproof.MLP(X, [128, 128], "tanh", seed=2, init="symmetric"),
                                 uniform_targets(3, 0.001, 2)),
        "sympy": plproof.Problem(plproof.SympyModel([w1 * w2], [w1, w2], w0=[10, 0]), [1.0], [10.0, 0.0]),
        "callable": user,
        "graph-residual": residual_problem(64),
        "graph-conv": conv_problem(8),
    }


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """Certificates of check() for every model kind and one of certify_run, written, then moved elsewhere."""
    work = tmp_path_factory.mktemp("work")
    verdicts = {}
    problems = _problems(work)
    for name, problem in problems.items():
        ev = plproof.check(problem, confirm=False)
        write_certificate(from_evidence(ev, problem), work / "certs" / f"{name}.json")
        verdicts[name] = ev.verdict.value
    for name, run_problem, precision in (("run", _two_layer(16, "tanh", n=5), "float64"),
                                         ("run-gelu", _two_layer(16, "gelu", n=5), "float64"),
                                         ("run-dd", _two_layer(32, "tanh", n=4), "double-double")):
        ev = plproof.certify_run(run_problem, precision=precision)
        write_certificate(run_certificate(ev, run_problem), work / "certs" / f"{name}.json")
        verdicts[name] = ev.verdict.value
    switched = plproof.Problem(plproof.TwoLayer(unit_inputs(4, 3, seed=0), 8, "tanh", seed=0),
                               uniform_targets(4, 0.2, seed=0))  # dd, then float64 (docs/rigor.md §9.8)
    ev = switched_run(switched, 40)
    write_certificate(run_certificate(ev, switched), work / "certs" / "run-dd-switch.json")
    verdicts["run-dd-switch"] = ev.verdict.value
    sgd = _two_layer(64, "tanh", n=5)  # a seeded SGD run (docs/theory.md §12.6; 1195 steps, at width 16 4017)
    ev = plproof.certify_run(sgd, method="sgd", batch_size=2, seed=3, sampler="iid")
    write_certificate(run_certificate(ev, sgd), work / "certs" / "run-sgd.json")
    verdicts["run-sgd"] = ev.verdict.value
    generic = _two_layer(64, "sigmoid", n=3)  # the midpoint-radius recipe of the run route
    ev = plproof.certify_run(generic)
    write_certificate(run_certificate(ev, generic), work / "certs" / "run-generic.json")
    verdicts["run-generic"] = ev.verdict.value
    import sympy as sp

    w1, w2, w3 = sp.symbols("w1 w2 w3")
    for name, run_problem in (  # the generic recipe for a deep net and a SymPy model
            ("run-mlp", plproof.Problem(plproof.MLP(unit_inputs(3, 3, seed=5), [8, 8], "tanh", seed=5,
                                                    init="symmetric"), uniform_targets(3, 0.001, seed=5))),
            ("run-sympy", plproof.Problem(plproof.SympyModel([w1 * w2 + w3, w1 + w2 ** 2], [w1, w2, w3],
                                                             w0=[0.5, -0.3, 0.2]), [1.0, 0.5]))):
        ev = plproof.certify_run(run_problem)
        write_certificate(run_certificate(ev, run_problem), work / "certs" / f"{name}.json")
        verdicts[name] = ev.verdict.value
    graph = bias_skip(16, 0.05)  # a layer graph's GD run (docs/rigor.md §10, layer graphs)
    ev = plproof.certify_run(graph)
    write_certificate(run_certificate(ev, graph), work / "certs" / "run-graph.json")
    verdicts["run-graph"] = ev.verdict.value
    for name, committed in (("rate-cheap", "pl-cheap-N1-mu1_20-h1_10.json"),
                            ("rate-expensive", "pl-expensive-N1-mu1_5-h13_10.json")):
        cert = load_certificate(Path(__file__).parent / "data" / "rates" / committed)
        write_certificate(cert, work / "certs" / f"{name}.json")
        verdicts[name] = cert["evidence"]["verdict"]
    sgd = {"sgd-linear": problems["linear"], "sgd-callable": problems["callable"],  # the SGD ball theorem (§3)
           "sgd-two-layer": plproof.Problem(plproof.TwoLayer(unit_inputs(5, 4, seed=1), 32, "tanh", seed=1,
                                                             init="symmetric"), uniform_targets(5, 1e-5, seed=1))}
    for name, problem in sgd.items():
        ev = plproof.check(problem, method="sgd", batch_size=2, confidence=0.9)
        write_certificate(from_evidence(ev, problem), work / "certs" / f"{name}.json")
        verdicts[name] = ev.verdict.value
    away = tmp_path_factory.mktemp("away") / "shipped"
    shutil.copytree(work, away)
    shutil.rmtree(work)  # nothing may be read from where the certificates were written
    return away, verdicts


def test_the_kinds_certify_as_expected(shipped):
    _, verdicts = shipped
    expected_failures = {"two-layer-relu": "not certifiable", "under-parameterised": "not certifiable"}
    for name, verdict in verdicts.items():
        assert verdict == expected_failures.get(name, "certified"), name


@pytest.mark.parametrize("name", ["linear", "random-features", "two-layer-tanh", "two-layer-sigmoid",
                                  "two-layer-softplus", "two-layer-sin-hidden", "two-layer-gelu", "two-layer-relu",
                                  "under-parameterised", "run-gelu", "mlp-2", "graph-residual", "graph-conv", "sympy", "callable", "run", "run-dd", "run-dd-switch", "run-sgd", "run-generic", "run-mlp", "run-sympy", "run-graph", "rate-cheap",
                                  "rate-expensive"])
def test_every_certificate_verifies_from_another_folder(shipped, name, tmp_path, monkeypatch):
    away, _ = shipped
    monkeypatch.chdir(tmp_path)
    result = verify(away / "certs" / f"{name}.json", run_code=True)
    assert result.valid, result.reason
    if name in ("callable", "sgd-callable"):  # user code runs only when asked
        assert verify(away / "certs" / f"{name}.json").outcome == "unverifiable"


@pytest.mark.parametrize("name", ["sgd-linear", "sgd-two-layer", "sgd-callable"])
def test_every_sgd_certificate_verifies_from_another_folder(shipped, name, tmp_path, monkeypatch):
    test_every_certificate_verifies_from_another_folder(shipped, name, tmp_path, monkeypatch)


def test_verify_help_works(capsys):
    from plproof.cli.main import main

    with pytest.raises(SystemExit) as stop:
        main(["verify", "--help"])
    assert stop.value.code == 0 and "--run-code" in capsys.readouterr().out


def test_report_renders_every_kind_without_crashing(shipped, tmp_path, monkeypatch):
    import sys

    from plproof.report import make_report

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # text and tables only: tests/test_report.py draws
    away, verdicts = shipped
    paths = [away / "certs" / f"{name}.json" for name in verdicts]
    result = make_report(paths, "md", tmp_path / "report")
    text = (tmp_path / "report" / "report.md").read_text()
    assert not result.invalid and all(f"## {name}" in text for name in verdicts)
    assert "NOT RE-CHECKED here" in text  # the user callable: its code runs only with --run-code


def test_every_quantity_a_certificate_states_has_a_symbol_and_a_meaning_in_the_report(shipped):
    """A quantity the report does not know is shown by its bare name with no meaning (a seeded SGD run's
    continuation_step was): every kind's quantities are in plproof.report.content.QUANTITIES."""
    import json

    from plproof.report.content import QUANTITIES

    away, verdicts = shipped
    for name in verdicts:
        cert = json.loads((away / "certs" / f"{name}.json").read_text())
        unknown = set(cert.get("evidence", {}).get("quantities", {})) - set(QUANTITIES)
        assert not unknown, (name, unknown)
