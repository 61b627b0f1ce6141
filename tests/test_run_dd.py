"""The run route in double-double (docs/rigor.md §9.7): certify_run(precision=...), its certificate, sabotage."""

from __future__ import annotations

import copy
import dataclasses

import mpmath
import numpy as np
import pytest

from plproof import InvalidInput, Problem, TwoLayer
from plproof.certificate.build import run_certificate
from plproof.certificate.format import decode_array, encode_array, seal
from plproof.data import unit_inputs, uniform_targets
from plproof.evidence import Verdict
from plproof.numeric.arith import MPArith
from plproof.numeric.runners import gradient_descent
from plproof.routes.trajectory import certify_run, default_step, double_double, fused
from plproof.routes.trajectory.double_double import RECIPE_DD
from plproof.verify import check


def edge(n: int, d: int, seed: int) -> Problem:
    """n unit inputs in d, targets in [-0.5, 0.5], standard init, width 4: GD converges, but float64's error
    amplification stops the run route (measured with the sharp l_t of docs/rigor.md §10)."""
    return Problem(TwoLayer(unit_inputs(n, d, seed), 4, "tanh", seed, init="standard"),
                   uniform_targets(n, 0.5, seed))


def small() -> Problem:
    """A net float64 certifies in 32 steps: a cheap double-double certificate."""
    return Problem(TwoLayer(unit_inputs(5, 8, seed=3), 16, "tanh", seed=3, init="symmetric"),
                   uniform_targets(5, 0.05, seed=3))


def tiny() -> Problem:
    return Problem(TwoLayer(unit_inputs(5, 3, 1), 4, "tanh", 1), uniform_targets(5, 0.3, 1))


@pytest.fixture(scope="module")
def small_dd() -> tuple[Problem, object, dict]:
    problem = small()
    ev = certify_run(problem, checkpoint_every=10, precision="double-double")
    return problem, ev, run_certificate(ev, problem)


def _rejected(cert: dict, match: str) -> None:
    result = check(seal(cert), None)
    assert result.outcome == "invalid" and match in result.reason, result.reason


def test_auto_switches_to_double_double_where_float64_stops() -> None:
    """float64 stops with "amplification", so precision='auto' runs the same GD again in double-double (here it
    stops too, after more steps: the amplification is real, e^60 within 800 steps)."""
    problem = edge(20, 5, 4)
    flt = certify_run(problem, max_steps=100_000, precision="float64")
    assert flt.verdict is Verdict.NOT_CERTIFIED and flt.hints["stop"] == "amplification", flt.reason
    ev = certify_run(problem, max_steps=100_000)
    assert ev.hints["recipe"] == RECIPE_DD and ev.hints["T"] > flt.hints["T"]
    assert "double-double error amplification" in ev.reason


@pytest.mark.slow
def test_double_double_certifies_where_float64_stops() -> None:
    """n = 12, d = 4, seed 5 at width 4: float64 stops at step ~3555 with e^24; precision='auto' runs double-double
    to the step switch_step picks from that run's amplification, then float64 (docs/rigor.md §9.8), and certifies
    (T ~ 7300); the certificate's evidence is the verifier's own derivation (its re-run of every segment)."""
    problem = edge(12, 4, 5)
    flt = certify_run(problem, precision="float64")
    assert flt.hints["stop"] == "amplification"
    ev = certify_run(problem)
    assert ev.certified, ev.reason
    assert ev.hints["recipe"] == RECIPE_DD and double_double.DD_ASSUMPTION in ev.assumptions
    S = ev.hints["float_from"]
    assert 0 < S < flt.hints["T"] < ev.hints["T"]
    C, steps = ev.hints["checkpoints"], np.array(ev.hints["checkpoint_steps"])
    assert C.shape[1:] == (2, problem.w0.size) and np.array_equal(C[0, 0], problem.w0) and not C[0, 1].any()
    assert C[steps < S, 1].any() and not C[steps >= S, 1].any()  # the lo parts are real, then float points
    cert = run_certificate(ev, problem)
    assert cert["inputs"]["run"]["recipe"] == RECIPE_DD and cert["evidence"]["verdict"] == "certified"
    result = check(seal(cert), None)
    assert result.valid, result.reason
    assert any("double-double pairs" in c for c in result.checked)


def test_double_double_certificate_checks(small_dd) -> None:
    _, ev, cert = small_dd
    assert ev.certified and cert["inputs"]["run"]["recipe"] == RECIPE_DD
    result = check(seal(cert), None)
    assert result.valid, result.reason
    assert any("double-double pairs" in c for c in result.checked)


def _lo_edited(cert: dict, j: int, change: float) -> dict:
    """The certificate with change added to the first lo component of checkpoint j."""
    bad = copy.deepcopy(cert)
    C = decode_array(bad["inputs"]["run"]["checkpoints"], None)
    C[j, 1, 0] += change
    bad["inputs"]["run"]["checkpoints"] = encode_array(C)
    return bad


def test_recheck_rejects_a_corrupted_lo_part(small_dd) -> None:
    """A lo component of an interior checkpoint changed: the gap enters the re-derived e_T."""
    _rejected(_lo_edited(small_dd[2], 2, 1e-9), "e_T")


def test_recheck_rejects_a_float_checkpoint_for_the_dd_recipe(small_dd) -> None:
    _, _, cert = small_dd
    bad = copy.deepcopy(cert)
    C = decode_array(bad["inputs"]["run"]["checkpoints"], None)
    bad["inputs"]["run"]["checkpoints"] = encode_array(C[:, 0])
    _rejected(bad, "checkpoints")


def _gap(w: list, pair: np.ndarray) -> float:
    """||w - (hi + lo)|| at 40 digits."""
    with mpmath.workdps(40):
        return float(mpmath.sqrt(sum((wi - mpmath.mpf(h) - mpmath.mpf(lo)) ** 2 for wi, h, lo in zip(w, *pair))))


def test_shadowing_bound_holds_against_a_40_digit_trajectory() -> None:
    problem = tiny()
    eta = default_step(problem)
    ev = certify_run(problem, step=eta, max_steps=40, checkpoint_every=20, precision="double-double")
    C, E = ev.hints["checkpoints"], ev.hints["radii"]
    w = problem.w0
    for j in (1, 2):
        w = gradient_descent(problem, eta, 20, arith=MPArith(40), w0=w).w_final
        gap = _gap(w, C[j])
        assert 0 < gap <= E[j] < 1e-25, (j, gap, E[j])


def test_rho_zero_breaks_the_shadowing_bound(monkeypatch) -> None:
    """Sabotage: with dd_step's rho_t zeroed (numpy's, and the numba kernels' where they run) the radii stay below
    the real dd/exact gap (40 digits)."""
    problem = tiny()
    for owner in (double_double, fused.kernels("dd_kernels")):
        if owner is not None:
            monkeypatch.setattr(owner, "dd_step", lambda *a, real=owner.dd_step: dataclasses.replace(real(*a), rho=0.0))
    eta = default_step(problem)
    ev = certify_run(problem, step=eta, max_steps=20, checkpoint_every=20, precision="double-double")
    assert ev.hints["radii"][1] < 1e-300
    w = gradient_descent(problem, eta, 20, arith=MPArith(40)).w_final
    assert _gap(w, ev.hints["checkpoints"][1]) > ev.hints["radii"][1]


def test_step_above_two_over_beta_does_not_certify(small_dd) -> None:
    problem, honest, _ = small_dd
    eta = 5 * default_step(problem)
    assert eta * honest.quantities["beta_T"].hi > 2
    ev = certify_run(problem, step=eta, max_steps=300, precision="double-double")
    assert ev.verdict is Verdict.NOT_CERTIFIED, ev.reason


def test_rejects_an_unknown_precision() -> None:
    with pytest.raises(InvalidInput):
        certify_run(small(), precision="quad")


# ---------------------------------------------------------------- double-double, then float64 (docs/rigor.md §9.8)
def switched(problem: Problem, at: int, max_steps: int = 200_000, every: int = 10):
    """The run in double-double up to the first block start >= ``at``, float64 after (what precision='auto' runs
    where float64 stopped, at the step switch_step chooses)."""
    from plproof.routes.trajectory import certify

    recipe = double_double.TwoLayerDD(problem.model, problem.y, problem.w0, switch_at=at)
    eta = default_step(problem)
    return certify._evidence(problem, eta, certify._run(recipe, eta, max_steps, every), every, recipe)


@pytest.fixture(scope="module")
def switched_dd() -> tuple[Problem, object, dict]:
    problem = Problem(TwoLayer(unit_inputs(4, 3, seed=0), 8, "tanh", seed=0), uniform_targets(4, 0.2, seed=0))
    ev = switched(problem, 40)
    return problem, ev, run_certificate(ev, problem)


def test_switched_run_certifies_and_verifies(switched_dd) -> None:
    problem, ev, cert = switched_dd
    S, T = ev.hints["float_from"], ev.hints["T"]
    assert ev.certified and 40 <= S < T and cert["hints"]["float_from"] == S
    assert f"double-double up to step {S}, float64 after" in ev.reason
    C, steps = ev.hints["checkpoints"], np.array(ev.hints["checkpoint_steps"])
    assert C.shape[1:] == (2, problem.w0.size)
    assert C[steps < S, 1].any() and not C[steps >= S, 1].any()  # dd pairs before, float points after
    result = check(seal(cert), None)
    assert result.valid, result.reason
    assert any("float64 (docs/rigor.md §9.8)" in c for c in result.checked)


def test_switched_recheck_rejects_a_lo_part_after_the_switch(switched_dd) -> None:
    _rejected(_lo_edited(switched_dd[2], -2, 1e-20), "non-zero lo part")


@pytest.mark.parametrize("value", [-1, "40", True, 10**9, 0])
def test_switched_recheck_rejects_a_bad_float_from(switched_dd, value) -> None:
    """Not a step in [0, T], or a step before which checkpoints still hold dd pairs (0)."""
    _, _, cert = switched_dd
    bad = copy.deepcopy(cert)
    bad["hints"]["float_from"] = value
    _rejected(bad, "float_from")


def test_float_from_is_neutral(switched_dd) -> None:
    """A later switch step re-checks more segments in double-double: as sound, so the re-derivation still certifies
    (with its own e_T, which then differs from the evidence the certificate states)."""
    from plproof.verify.trajectory import derive_run

    _, ev, cert = switched_dd
    later = copy.deepcopy(cert)
    later["hints"]["float_from"] = ev.hints["T"]
    checked: list[str] = []
    assert derive_run(later, None, checked)["verdict"] == "certified"
    assert any(f"from step {ev.hints['T']} on" in c for c in checked)


def test_switched_shadowing_bound_holds_against_a_40_digit_trajectory() -> None:
    """Across the switch (the pair's lo part dropped, its norm added to e) the radii enclose exact GD."""
    problem = tiny()
    eta = default_step(problem)
    ev = switched(problem, 20, max_steps=100, every=20)
    assert 20 <= ev.hints["float_from"] < ev.hints["T"] == 100  # the first block start at or after step 20
    C, E, steps = ev.hints["checkpoints"], ev.hints["radii"], ev.hints["checkpoint_steps"]
    w, t = problem.w0, 0
    for j in range(1, len(steps)):
        w = gradient_descent(problem, eta, steps[j] - t, arith=MPArith(40), w0=w).w_final
        t = steps[j]
        assert 0 < _gap(w, C[j]) <= E[j], (steps[j], _gap(w, C[j]), E[j])


def test_auto_runs_double_double_throughout_where_the_switched_run_stops(monkeypatch) -> None:
    """A switch too early (at 0: float64 from the start) stops with amplification like float64 did; auto then
    runs double-double throughout, as before the switch existed."""
    from plproof.routes.trajectory import certify

    seen = []
    real = double_double.TwoLayerDD.__init__

    def spy(self, *args, **kwargs):
        real(self, *args, **kwargs)
        seen.append(self.switch_at)

    monkeypatch.setattr(certify, "switch_step", lambda rec: 0)
    monkeypatch.setattr(double_double.TwoLayerDD, "__init__", spy)
    problem = edge(20, 5, 4)
    ev = certify_run(problem, max_steps=20_000)
    assert seen == [0, None] and ev.hints["float_from"] is None and ev.hints["recipe"] == RECIPE_DD


def test_report_marks_the_switch_in_the_tube_figure(switched_dd, tmp_path) -> None:
    from plproof.certificate.format import write_certificate
    from plproof.report import make_report

    _, ev, cert = switched_dd
    path = write_certificate(cert, tmp_path / "switched.json")
    make_report([path], "md", tmp_path / "report")
    text = (tmp_path / "report" / "report.md").read_text()
    assert f"double-double before step {ev.hints['float_from']} and in float64 after" in text
