"""min_certified_width: the smallest certified width beside the width at which GD converges."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from plproof import InvalidInput, Problem, TwoLayer, min_certified_width
from plproof.data import uniform_targets, unit_inputs
from plproof.routes.trajectory import certify_run, default_step
from plproof.routes.width import WidthResult, _run_route, _smallest, empirical_run

REAL = Path(__file__).parent / "data" / "real"


def test_symmetric_small_targets_certify_at_a_small_width():
    """n = 20 unit inputs in d = 64, targets in [-0.01, 0.01], symmetric init (issue 3's reference)."""
    result = min_certified_width(unit_inputs(20, 64, 2026), uniform_targets(20, 0.01, 2026),
                                 init="symmetric", max_width=2**8, gd_steps=20_000)
    assert result.certified_width is not None and result.certified_width <= 2**6
    assert result.evidence.certified and result.evidence.rigor.label == "verified"
    assert result.empirical_width is not None and result.empirical_width <= result.certified_width
    assert result.conservativeness == result.certified_width / result.empirical_width
    assert result.extrapolated_width is None
    # GD from width 2 needs 381,420 steps here: 2e4 decide nothing at width 2, and the result says so
    assert result.empirical_width == 4 and set(result.budget_limited) == {2}
    assert "width 2: GD had not reached 1e-20 after 20000 steps" in result.notes[-1]


def test_low_dimensional_data_certifies_nowhere_and_extrapolates():
    """n = 20 points in d = 5, targets in [-0.5, 0.5], standard init: none up to the limit."""
    result = min_certified_width(unit_inputs(20, 5, 2026), uniform_targets(20, 0.5, 2026), max_width=2**9,
                                 gd_steps=20_000)
    assert result.certified_width is None and result.evidence is None
    assert result.extrapolated_width is not None and result.extrapolated_width > 2**9
    assert any("estimate" in note for note in result.notes)
    assert result.empirical_width is not None  # GD itself converges at a modest width
    # widths 1 and 2 have 6 and 12 < 20 parameters: skipped, and said so
    assert set(result.tried) == {2**k for k in range(2, 10)} and not any(result.tried.values())
    assert sum("fewer parameters" in note for note in result.notes) == 1
    assert any("skipped widths 1, 2:" in note for note in result.notes)
    assert result.to_json()["skipped_underparameterised"] == [1, 2]


def test_bad_arguments():
    with pytest.raises(InvalidInput, match="family"):
        min_certified_width(unit_inputs(4, 3), uniform_targets(4, 0.1), family="mlp")
    with pytest.raises(InvalidInput, match="max_width"):
        min_certified_width(unit_inputs(4, 3), uniform_targets(4, 0.1), max_width=0)


@pytest.mark.slow
def test_run_route_certifies_near_the_empirical_width_where_the_ball_needs_hundreds():
    """Issue 4's reference: targets in [-0.1, 0.1]; the run route closes within 2x of where GD converges."""
    result = min_certified_width(unit_inputs(20, 64, 2026), uniform_targets(20, 0.1, 2026), seed=2026,
                                 init="symmetric", max_width=2**11, route="both")
    assert result.run_width is not None and result.run_width <= 2 * result.empirical_width
    assert result.run_evidence.route == "run" and result.run_evidence.certified
    assert result.certified_width is not None and result.certified_width >= 2**8
    assert result.to_json()["run_ratio"] <= 2


def test_run_route_skips_under_parameterised_widths():
    """Issue 14, bug 12: standard init, widths 1 (4 parameters) < n = 6 used to raise NotCertifiable."""
    result = min_certified_width(unit_inputs(6, 3, 0), uniform_targets(6, 0.1, 0), route="run", max_width=2**3,
                                 empirical=False)
    assert result.run_width is not None and result.run_width >= 2 and result.run_evidence.certified
    assert any("skipped width 1:" in note for note in result.notes)


def test_every_width_under_parameterised_is_a_note_not_an_error():
    result = min_certified_width(unit_inputs(40, 3, 0), uniform_targets(40, 0.1, 0), route="both", max_width=4)
    assert result.certified_width is None and result.run_width is None and result.tried == {}
    assert "raise max_width" in result.notes[0]


def test_singular_kernel_is_named_by_the_run_route():
    """Issue 14, bug 12: duplicate inputs make K(w0) singular; the reason says so, not 'amplification e^0.0'."""
    from plproof import Problem, TwoLayer, certify_run

    X = unit_inputs(4, 3, 0)
    X[1] = X[0]
    ev = certify_run(Problem(TwoLayer(X, 8, "tanh", seed=0, init="symmetric"), uniform_targets(4, 0.1, 0)))
    assert not ev.certified and "lambda_min(K(w0)) = 0" in ev.reason and "amplification" not in ev.reason


def test_budget_limited_widths_are_reported_as_such():
    """A run-route budget of 50 steps and a GD budget of 100 decide nothing: every width says why it stopped."""
    result = min_certified_width(unit_inputs(20, 64, 2026), uniform_targets(20, 0.1, 2026), seed=2026,
                                 init="symmetric", route="run", max_width=8, gd_steps=100, run_steps=50)
    assert result.run_width is None and result.empirical_width is None
    assert set(result.budget_limited) == {2, 4, 8}
    for width, why in result.budget_limited.items():
        assert "after 50 steps: raise run_steps" in why and "after 100 steps" in why and "raise gd_steps" in why
        assert any(note.startswith(f"width {width}: GD had not reached 1e-20") for note in result.notes)
        assert result.empirical_runs[width].stop == "budget" and result.empirical_runs[width].steps == 100
    assert "budget-limited widths       2 (run route, GD)" in result.summary()
    data = result.to_json()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["budget_limited"]["4"] == result.budget_limited[4] and data["gd_steps"] == 100


def test_enough_budget_decides_and_nothing_is_budget_limited():
    """The same data with the default budgets (4e5 steps): both widths found at 2, no width budget-limited."""
    result = min_certified_width(unit_inputs(20, 64, 2026), uniform_targets(20, 0.1, 2026), seed=2026,
                                 init="symmetric", route="run", max_width=8)
    assert (result.run_width, result.empirical_width) == (2, 2) and result.budget_limited == {}
    assert result.empirical_runs[2].converged and result.empirical_runs[2].steps < 20_000
    assert result.run_evidence.hints["stop"] == "closed"


def test_gd_that_cannot_fit_the_data_stalls_early():
    """Two equal inputs with different targets: the loss stays above (y0 - y1)^2 / 4, GD stops at a quarter."""
    X, y = unit_inputs(6, 3, 0), uniform_targets(6, 0.1, 0)
    X[1], y[1] = X[0], -y[0]
    run = empirical_run(Problem(TwoLayer(X, 8, "tanh", 0, init="symmetric"), y), max_steps=20_000)
    assert run.stop == "stalled" and run.steps == 5000 and not run.converged
    assert run.loss >= (y[0] - y[1]) ** 2 / 4 and "stalled at loss" in run.describe()


def test_gd_run_takes_any_model_and_a_positive_target():
    """A random-features net (train='output') runs through its own F and vjp; a zero target is refused."""
    problem = Problem(TwoLayer(unit_inputs(6, 3, 0), 32, "tanh", 0, train="output"), uniform_targets(6, 0.1, 0))
    run = empirical_run(problem, target=1e-8, max_steps=20_000)
    assert run.converged and run.loss <= 1e-8
    with pytest.raises(InvalidInput, match="target"):
        empirical_run(problem, target=0.0)


def test_bisection_never_goes_below_the_parameter_floor():
    """Widths with m (d + 1) < n are never tried: with floor 8 the bisection below 8 stops at once."""
    calls: list[int] = []

    def certifies(width: int) -> bool:
        calls.append(width)
        return True

    assert _smallest([8, 16], certifies, 2, floor=8) == 8 and calls == [8]
    calls.clear()
    assert _smallest([8, 16], certifies, 2, floor=6) == 6 and calls == [8, 6]


def test_ratios_in_every_view():
    result = WidthResult(96, 8, 256, None, tried={96: True}, run_width=12, routes=("ball", "run"),
                         budget_limited={4: "GD had not reached 1e-20 after 10 steps"})
    assert (result.ball_ratio, result.run_ratio, result.conservativeness) == (12, 1.5, 12)
    lines = result.summary().splitlines()
    assert lines[-2].split()[-1] == "12" and lines[-2].startswith("ball / GD")
    assert lines[-1].split()[-1] == "1.5" and lines[-1].startswith("run / GD")
    assert "run / GD 1.5" in repr(result) and "1.5" in result._repr_html_()
    data = result.to_json()
    assert (data["ratio"], data["ball_ratio"], data["run_ratio"]) == (12, 12, 1.5)
    assert (data["ball_width"], data["run_width"], data["gd_width"]) == (96, 12, 8)
    assert data["certified_width"] == 96 and data["run_certified_width"] == 12 and data["empirical_width"] == 8
    assert data["budget_limited"] == {"4": "GD had not reached 1e-20 after 10 steps"}
    # a route that ran and found nothing still has its row
    none = WidthResult(None, 8, 256, None, routes=("ball", "run"))
    assert none.summary().splitlines()[1].split()[-4:] == ["none", "up", "to", "256"]
    assert "run / GD" not in none.summary()


@pytest.mark.parametrize("name, d", [("wine", 13), ("diabetes", 10), ("breast_cancer", 30)])
def test_real_data_files_are_as_their_readme_says(name, d):
    with np.load(REAL / f"{name}.npz") as f:
        X, y = f["X"], f["y"]
    assert X.shape == (100, d) and y.shape == (100,)
    assert np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-14)
    assert y.min() == -0.1 and y.max() == 0.1
    if name != "diabetes":
        assert set(np.unique(y)) == {-0.1, 0.1}
    assert len(np.unique(X, axis=0)) == 100  # no duplicate rows (they would make K singular)


@pytest.mark.slow
def test_real_data_gd_and_run_widths():
    """wine, n = 50: GD and the run route both find a width up to 2^8."""
    with np.load(REAL / "wine.npz") as f:
        X, y = f["X"][:50], f["y"][:50]
    result = min_certified_width(X, y, seed=2026, init="symmetric", route="run", max_width=2**8)
    assert result.empirical_width is not None and result.run_width is not None
    assert result.run_ratio == result.run_width / result.empirical_width


def test_run_route_tries_a_smaller_step_where_the_default_step_amplifies_too_much() -> None:
    """Case C seed 1 at width 8: at eta = 1/lambda_max(K(w0)) float64 stops at amplification (edge of stability);
    at eta/2 the run certifies, and the width search says which step it certified."""
    problem = Problem(TwoLayer(unit_inputs(20, 5, 1), 8, "tanh", 1), uniform_targets(20, 0.5, 1))
    assert certify_run(problem, precision="float64").hints["stop"] == "amplification"
    ev, fraction = _run_route(problem, 400_000, "verified")
    assert ev.certified and fraction == 0.5 and ev.hints["step"] == default_step(problem) * 0.5


def test_sgd_width_search_names_what_to_change():
    X, y = unit_inputs(6, 3, 0), uniform_targets(6, 0.1, 0)
    for kwargs, words in [({"method": "sgd", "route": "run"}, "needs batch_size"),
                          ({"batch_size": 2, "route": "run"}, "batch_size apply to method='sgd' only"),
                          ({"method": "sgd", "batch_size": 2}, "needs confidence"),
                          ({"method": "sgd", "batch_size": 7, "route": "run"}, "batch size"),
                          ({"method": "sgd", "batch_size": 2, "route": "run", "sampler": "cyclic"}, "unknown sampler"),
                          ({"method": "adam", "route": "run"}, "unknown method")]:
        with pytest.raises(InvalidInput, match=words):
            min_certified_width(X, y, max_width=4, **kwargs)


def test_the_empirical_sgd_run_is_the_seeded_run():
    """The width search's float64 SGD step over an i.i.d. sampler is plproof.numeric.runners.sgd with that seed
    (both draw Generator(PCG64(seed)).integers(0, n, s) per step); an epochs sampler draws other batches."""
    from plproof.numeric.runners import sgd
    from plproof.routes.trajectory.sampler import Sampler
    from plproof.routes.width import _step

    problem = Problem(TwoLayer(unit_inputs(6, 3, 0), 8, "tanh", 0, init="symmetric"), uniform_targets(6, 0.1, 0))
    eta = 0.3
    for model in (problem.model, TwoLayer(unit_inputs(6, 3, 0), 8, "tanh", 0, init="symmetric", train="hidden")):
        p = Problem(model, problem.y)
        step = _step(p, eta, Sampler("iid", 3, 2, 6))
        ours = [step() for _ in range(30)]
        assert np.allclose(ours, sgd(p, eta, 29, batch=2, seed=3).losses, rtol=1e-12, atol=0)
    epochs = _step(problem, eta, Sampler("epochs", 3, 2, 6))
    assert not np.allclose([epochs() for _ in range(30)], ours, rtol=1e-6, atol=0)


@pytest.mark.slow
def test_sgd_run_route_width_beside_the_seeded_sgd_run(tmp_path):
    """The run route certifies a seeded SGD run at a width where that run converges in float64; its certificate
    verifies and names the sampler; the result speaks of SGD, not GD."""
    from plproof.certificate import write_certificate
    from plproof.certificate.build import run_certificate
    from plproof.verify import verify

    X, y = unit_inputs(6, 8, 1), uniform_targets(6, 0.05, 1)
    result = min_certified_width(X, y, seed=1, init="symmetric", max_width=16, route="run", method="sgd",
                                 batch_size=2, sampler="epochs", sampler_seed=5, gd_steps=50_000, run_steps=50_000)
    assert result.run_width is not None and result.empirical_width is not None
    assert result.run_width <= 2 * result.empirical_width
    ev = result.run_evidence
    assert ev.certified and ev.hints["method"] == "sgd" and (ev.hints["sampler"], ev.hints["seed"]) == ("epochs", 5)
    assert all(run.method == "sgd" for run in result.empirical_runs.values())
    text = str(result.summary())
    assert "SGD converges from width" in text and "run / SGD" in text and "batch size 2" in text
    data = result.to_json()
    assert data["method"] == "sgd" and data["sgd_width"] == result.empirical_width and "gd_width" not in data
    problem = Problem(TwoLayer(X, result.run_width, "tanh", 1, init="symmetric"), y)
    path = write_certificate(run_certificate(ev, problem), tmp_path / "sgd.json")
    assert verify(path).valid
    assert json.loads(path.read_text())["inputs"]["run"]["sampler"]["algorithm"] == "epochs"
