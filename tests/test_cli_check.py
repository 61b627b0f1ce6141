"""``plproof check``: verdicts and exit codes, one-line errors on bad input, no stray certificates."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from plproof.cli.main import main

MODELS = textwrap.dedent('''
    import numpy as np
    from plproof import Linear, Problem, TwoLayer
    from plproof.models.base import Model
    from plproof.data import unit_inputs, uniform_targets

    X = unit_inputs(20, 64, 2026)
    certified = Problem(TwoLayer(X, 64, "tanh", seed=2026, init="symmetric"), uniform_targets(20, 0.01, 2026))
    model = TwoLayer(X, 64, "tanh", seed=2026, init="symmetric")
    under = Problem(TwoLayer(unit_inputs(20, 3, 0), 1, "tanh"), np.zeros(20))
    relu = Problem(TwoLayer(X[:5], 8, "relu"), np.zeros(5))

    def linear(X, y):
        return Problem(Linear(X), y)

    from plproof.models.callable_model import CallableModel
    black_box = Problem(CallableModel(lambda w: np.array([w[0] * w[1] + w[2], w[0] + w[1] ** 2]), 3,
                                      w0=[0.5, -0.3, 0.2]), np.array([0.06, 0.6]))

    class WrongShape(Model):
        n_outputs = 3
        n_params = 4
        def _F(self, w, ar):
            return w
        def _jacobian(self, w, ar):
            return np.eye(4)

    class Nan(Model):
        n_outputs = 2
        n_params = 3
        def _F(self, w, ar):
            return np.array([np.nan, 1.0])
        def _jacobian(self, w, ar):
            return np.ones((2, 3))

    wrong_shape = Problem(WrongShape(), np.zeros(3))
    nan_output = Problem(Nan(), np.zeros(2))
    not_a_model = 42

    def raises():
        raise RuntimeError("boom")

    from plproof.models.callable_model import CallableModel
    from plproof.suite import BUILTIN_PROBLEMS

    # F(w) = w1 w2 as a black-box function: its ball bounds can only be sampled
    sampled = Problem(CallableModel(lambda w: np.array([w[0] * w[1]]), 2, w0=[10.0, 0.0],
                                    jacobian=lambda w: np.array([[w[1], w[0]]])), [1.0], [10.0, 0.0])
    sigmoid = BUILTIN_PROBLEMS["two-layer-sigmoid"]()  # not certified by the ball route
''')


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "models.py").write_text(MODELS)
    X = np.array([[1.0, 2, 0, 1], [0, 1, 1, -1]])
    np.savez(tmp_path / "data.npz", X=X, y=np.array([1.0, 2.0]))
    np.savez(tmp_path / "bad_rows.npz", X=np.ones((3, 4)), y=np.ones(2))
    np.savez(tmp_path / "nan.npz", X=X, y=np.array([np.nan, 2.0]))
    np.savez(tmp_path / "y_only.npz", y=np.zeros(20))
    return tmp_path


def test_certified_problem_exits_0_and_writes_a_certificate(workdir, capsys):
    out = workdir / "cert.json"
    assert main(["check", f"{workdir}/models.py:certified", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "verdict: CERTIFIED (rigor verified)" in text and "[held   ] R >= R_fl" in text
    assert json.loads(out.read_text())["kind"] == "problem"


def test_function_target_with_data_and_json_output(workdir, capsys):
    assert main(["check", f"{workdir}/models.py:linear", "--data", str(workdir / "data.npz"),
                 "--format", "json"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["verdict"] == "certified" and ev["quantities"]["lambda0"]["rigor"] == "exact"


def test_model_target_takes_y_from_the_data(workdir):
    assert main(["check", f"{workdir}/models.py:model", "--data", str(workdir / "y_only.npz"),
                 "--rigor", "sampled"]) == 0


@pytest.mark.parametrize("name, reason", [("under", "under-parameterised"), ("relu", "non-smooth")])
def test_claims_that_do_not_hold_exit_1_with_the_reason(workdir, capsys, name, reason):
    out = workdir / "cert.json"
    assert main(["check", f"{workdir}/models.py:{name}"]) == 1
    assert reason in capsys.readouterr().out
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["missing.py:x"], "does not exist"),
    (["{d}/models.py:nothing"], "has no attribute 'nothing'"),
    (["{d}/models.py"], "must look like"),
    (["{d}/models.py:wrong_shape"], "shape"),
    (["{d}/models.py:nan_output"], "NaN or Inf"),
    (["{d}/models.py:not_a_model"], "must be a plproof Model"),
    (["{d}/models.py:raises"], "RuntimeError: boom"),
    (["{d}/models.py:linear", "--data", "{d}/bad_rows.npz"], "3 rows but y has 2"),
    (["{d}/models.py:linear", "--data", "{d}/nan.npz"], "NaN or Inf"),
    (["{d}/models.py:linear", "--data", "{d}/none.npz"], "does not exist"),
    (["{d}/models.py:model", "--data", "{d}/data.npz"], "not the X of shape (2, 4)"),
    (["{d}/models.py:certified", "--step", "-1"], "step size must be a positive"),
])
def test_bad_input_exits_2_with_one_line_and_no_certificate(workdir, capsys, args, message):
    out = workdir / "cert.json"
    argv = ["check", *[a.format(d=workdir) for a in args], "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) >= 1 and message in err[-1] and err[-1].startswith("plproof check:")
    assert not out.exists()


def test_run_route_writes_a_run_certificate_that_verifies(tmp_path, capsys):
    (tmp_path / "ref.py").write_text(textwrap.dedent('''
        from plproof import Problem, TwoLayer
        from plproof.data import uniform_targets, unit_inputs
        problem = Problem(TwoLayer(unit_inputs(20, 64, 2026), 2, "tanh", seed=2026, init="symmetric"),
                          uniform_targets(20, 0.1, 2026))
    '''))
    out = tmp_path / "run.json"
    assert main(["check", f"{tmp_path}/ref.py:problem", "--route", "both", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "route: ball" in text and "route: run" in text and "T6 closed" in text
    assert main(["verify", str(out)]) == 0


def test_sympy_model_files_write_certificates_that_verify_from_another_folder(tmp_path, capsys, monkeypatch):
    """A SymPy model's description is the function: no code reference is recorded (the verifier's SymPy family refused
    the key, so neither route's certificate of a model file verified), and both verify without the file."""
    (tmp_path / "sym.py").write_text(textwrap.dedent('''
        import numpy as np
        import sympy as sp
        from plproof import Problem, SympyModel
        w1, w2, w3 = sp.symbols("w1 w2 w3")
        problem = Problem(SympyModel([w1 * w2 + w3, w1 + w2 ** 2], [w1, w2, w3], w0=[0.5, -0.3, 0.2]),
                          np.array([1.0, 0.5]))
    '''))
    for route in ("ball", "run"):
        out = tmp_path / f"{route}.json"
        assert main(["check", f"{tmp_path}/sym.py:problem", "--route", route, "--out", str(out)]) in (0, 1)
        assert "code" not in json.loads(out.read_text())["inputs"]["model"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for route in ("ball", "run"):
        (elsewhere / f"{route}.json").write_text((tmp_path / f"{route}.json").read_text())
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    assert main(["verify", "ball.json", "run.json"]) == 0, capsys.readouterr().out


# ----------------------------------------------------------------------------- issue 14


def test_a_sampled_result_is_not_called_proved_and_exits_1_unless_accepted(workdir, capsys):
    """Bug 14: rigor sampled is "holds on samples (not proved)"; exit 0 only with --require sampled."""
    target = f"{workdir}/models.py:sampled"
    assert main(["check", target]) == 1
    out, err = capsys.readouterr()
    verdict = out.strip().splitlines()[-1]
    assert "HOLDS ON SAMPLES, NOT PROVED" in verdict and "holds on samples (not proved)" in verdict
    assert "CERTIFIED" not in out and "proved on" not in out and "conclusion (not proved):" in out
    assert "requested rigor verified" in err and "--require sampled" in err.strip().splitlines()[-1]
    assert main(["check", target, "--require", "sampled", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "certified" and doc["rigor"] == "sampled" and doc["proved"] is False
    assert main(["check", target, "--rigor", "sampled", "--quiet"]) == 0  # asked for samples: accepted
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == 1 and out.startswith("verdict: HOLDS ON SAMPLES") and err == ""


def test_a_verified_result_fails_a_stronger_requirement(workdir, capsys):
    assert main(["check", f"{workdir}/models.py:linear", "--data", str(workdir / "data.npz"),
                 "--require", "exact", "--quiet"]) == 1
    assert "below the required exact" in capsys.readouterr().err


def test_not_certified_writes_its_certificate_says_so_and_suggests_a_next_step(workdir, capsys):
    """Bugs 10 and 13: --out writes the certificate whatever the verdict; the reason says what to try."""
    out = workdir / "cert.json"
    assert main(["check", f"{workdir}/models.py:sigmoid", "--out", str(out)]) == 1
    text = capsys.readouterr().out
    assert json.loads(out.read_text())["evidence"]["verdict"] == "not certified"
    assert f"certificate: {out} (verdict not certified" in text
    verdict = text.strip().splitlines()[-2]
    assert verdict.startswith("verdict: NOT CERTIFIED") and "; next: a wider model" in verdict
    assert main(["verify", str(out)]) == 0  # the certificate of a negative verdict re-checks too


def test_the_papers_radii_are_marked_optional(workdir, capsys):
    """Bug 13: LZB's v1/v2 radii are informational, not "[FAILED]" hypotheses of a certified verdict."""
    assert main(["check", f"{workdir}/models.py:certified"]) == 0
    text = capsys.readouterr().out
    head, _, paper = text.partition("the paper's own radii (LZB v1/v2; optional, not needed for this verdict):")
    assert paper and "paper v1" not in head and "FAILED" not in text


def test_no_progress_when_stderr_is_not_a_terminal(workdir, capsys):
    assert main(["check", f"{workdir}/models.py:certified"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and len(err.strip().splitlines()) == 1  # the one "checking ..." line


@pytest.mark.parametrize("name", ["model", "certified"])
def test_data_with_other_inputs_is_refused_for_a_model_or_problem(workdir, capsys, name):
    """Bug 3: an X other than the target's own inputs must not be ignored (it used to certify on the model's X)."""
    other = workdir / "other.npz"
    np.savez(other, X=np.ones((20, 5)), y=np.zeros(20))
    assert main(["check", f"{workdir}/models.py:{name}", "--data", str(other), "--rigor", "sampled"]) == 2
    assert "not the X of shape (20, 5)" in capsys.readouterr().err


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b""), "the file is empty"),
    (lambda p: np.savez(p, X=np.ones((5, 2)), y=np.ones((5, 2))), "has shape (5, 2)"),
])
def test_bad_data_files_exit_2_with_one_line(workdir, capsys, make, message):
    """Bug 5: an empty .npz (EOFError) and a y of shape (5, 2) (ravelled into a row mismatch)."""
    path = workdir / "bad.npz"
    make(path)
    assert main(["check", f"{workdir}/models.py:linear", "--data", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_route_both_keeps_the_ball_result_where_the_run_route_does_not_apply(workdir, capsys):
    code = main(["check", f"{workdir}/models.py:black_box", "--route", "both", "--rigor", "sampled", "--quiet"])
    captured = capsys.readouterr()
    assert "run route not available here" in captured.err  # a black-box callable has no rigorous ball bounds
    assert code == 0 and "HOLDS ON SAMPLES" in captured.out
