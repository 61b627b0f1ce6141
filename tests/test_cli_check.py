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
    (["{d}/models.py:model", "--data", "{d}/data.npz"], "2 rows but the model has 20 outputs"),
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
