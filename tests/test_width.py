"""min_certified_width: the smallest certified width beside the width at which GD converges."""

from __future__ import annotations

import pytest

from plproof import InvalidInput, min_certified_width
from plproof.data import uniform_targets, unit_inputs


def test_symmetric_small_targets_certify_at_a_small_width():
    """n = 20 unit inputs in d = 64, targets in [-0.01, 0.01], symmetric init (issue 3's reference)."""
    result = min_certified_width(unit_inputs(20, 64, 2026), uniform_targets(20, 0.01, 2026),
                                 init="symmetric", max_width=2**8)
    assert result.certified_width is not None and result.certified_width <= 2**6
    assert result.evidence.certified and result.evidence.rigor.label == "verified"
    assert result.empirical_width is not None and result.empirical_width <= result.certified_width
    assert result.conservativeness == result.certified_width / result.empirical_width
    assert result.extrapolated_width is None


def test_low_dimensional_data_certifies_nowhere_and_extrapolates():
    """n = 20 points in d = 5, targets in [-0.5, 0.5], standard init: none up to the limit."""
    result = min_certified_width(unit_inputs(20, 5, 2026), uniform_targets(20, 0.5, 2026), max_width=2**9)
    assert result.certified_width is None and result.evidence is None
    assert result.extrapolated_width is not None and result.extrapolated_width > 2**9
    assert any("estimate" in note for note in result.notes)
    assert result.empirical_width is not None  # GD itself converges at a modest width
    # widths 1 and 2 have 6 and 12 < 20 parameters: skipped, and said so
    assert set(result.tried) == {2**k for k in range(2, 10)} and not any(result.tried.values())
    assert any("skipped widths 1, 2" in note for note in result.notes)


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
