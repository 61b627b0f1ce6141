"""A researcher's first hour in a REPL or notebook (issue 14, bugs 6, 7, 8, 15 and the Premise name).

The truth value of evidence is its verdict; float() of an enclosure only where it is one number;
repr is one short line, summary() a few, _repr_html_ a table; to_json() is plain JSON; the repr of a
problem, generated or not, shows what rebuilds it.
"""

from __future__ import annotations

import json
from fractions import Fraction
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import find, given, settings

import plproof
from plproof import Enclosure, InvalidInput, Linear, Problem, TwoLayer, Verdict
from plproof import check
from plproof.data import uniform_targets, unit_inputs
from plproof.numeric.runners import gradient_descent
from plproof.problem import array_fingerprint
from plproof.routes.trajectory import certify_run
from plproof.strategies import GeneratedProblem, linear_problems, make_problem, problems
from plproof.routes.width import WidthResult


@pytest.fixture(scope="module")
def small() -> Problem:
    """A 2 x 3 linear problem: certified at rigor verified in a fraction of a second."""
    return Problem(Linear([[1.0, 0.5, 0.0], [0.0, 1.0, 0.25]]), [1.0, -1.0])


@pytest.fixture(scope="module")
def certified(small):
    return check(small)


@pytest.fixture(scope="module")
def refused(small):
    return check(small, radius=1e-8)  # far below the radius GD needs: not certified


@pytest.fixture(scope="module")
def run():
    """The run route on issue 4's reference data at width 4 (X is 20 x 64: a long repr on the old code)."""
    problem = Problem(TwoLayer(unit_inputs(20, 64, 2026), 4, "tanh", 2026, init="symmetric"),
                      uniform_targets(20, 0.1, 2026))
    return certify_run(problem)


# ---------------------------------------------------------------- bug 6: truth value and float()
def test_truth_value_is_the_verdict(certified, refused):
    assert certified.verdict is Verdict.CERTIFIED and bool(certified) is True
    assert refused.verdict is Verdict.NOT_CERTIFIED and bool(refused) is False
    under = check(Problem(Linear([[1.0], [2.0]]), [1.0, 2.0]))  # m < n
    assert under.verdict is Verdict.NOT_CERTIFIABLE and not under
    with pytest.raises(AssertionError):
        assert refused


def test_float_only_of_one_number(certified):
    assert float(Enclosure.point(0.25, "exact")) == 0.25
    assert float(Enclosure(Fraction(1, 3), Fraction(1, 3), "exact")) == 1 / 3
    mu = certified.quantities["mu"]
    assert mu.lo < mu.hi  # an infimum: a proved lower bound beside the value at w0
    with pytest.raises(InvalidInput) as info:
        float(mu)
    assert ".lo" in str(info.value) and ".hi" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert float(Enclosure(mu.lo, mu.lo, mu.rigor)) == mu.lo


# ---------------------------------------------------------------- bug 7: repr, summary, HTML
def test_repr_is_one_short_line(certified, refused, run):
    for ev in (certified, refused, run):
        text = repr(ev)
        assert "\n" not in text and len(text) < 200, text
        assert ev.verdict.value in text and ev.rigor.label in text and "mu" in text
    assert len(repr(run.quantities["mu_T"])) < 100


def test_summary_has_verdict_rigor_and_the_theorem_constants(certified, refused, run):
    s = certified.summary()
    lines = s.splitlines()
    assert repr(s) == str(s) and len(lines) <= 10
    assert lines[0].startswith("CERTIFIED") and "rigor verified" in lines[0]
    q = certified.quantities
    rows = {line.split()[0]: line.split(maxsplit=1)[1] for line in lines[1:6]}
    assert rows["mu"] == f">= {q['mu'].lo:.6g}" and rows["beta"] == f"<= {q['beta'].hi:.6g}"
    assert rows["rate"] == f"<= {q['rate'].hi:.6g}" and set(rows) == {"mu", "beta", "R", "step", "rate"}
    bad = refused.summary()
    assert bad.startswith("NOT CERTIFIED") and "failed: R >= R_fl" in bad
    assert "failed" not in s  # the paper's optional radii are not listed for a certified result
    assert run.summary().splitlines()[1].split()[:2] == ["mu_T", ">="]


def test_summary_of_an_estimate_says_it_is_not_proved(small):
    sampled = check(small, "sampled", confirm=False)
    assert sampled.certified and sampled.summary().startswith("CERTIFIED (holds on samples, not proved)")
    assert "not proved" not in check(small, confirm=False).summary()


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []

    def handle_data(self, data: str) -> None:
        self.cells.append(data)


def _cells(html: str) -> list[str]:
    parser = _Cells()
    parser.feed(html)
    return parser.cells


def test_html_is_an_escaped_table(certified):
    cells = _cells(certified._repr_html_())
    assert cells[cells.index("verdict") + 1] == "certified"
    assert cells[cells.index("mu") + 1] == f">= {certified.quantities['mu'].lo:.6g}"
    html = Enclosure(0.0, 1.0, "verified", ("a <b> c",))._repr_html_()
    assert html.startswith("<table>") and "&lt;b&gt;" in html and "<b>" not in html


def test_width_result_is_short_and_summarised(certified, run):
    result = WidthResult(64, 16, 256, certified, tried={1: False, 2: False, 64: True})
    assert "\n" not in repr(result) and len(repr(result)) < 250
    lines = result.summary().splitlines()
    assert lines[0].split()[-2:] == ["64", "(verified)"] and lines[-1].split()[-1] == "4"
    assert any(line.split()[-2:] == ["16", "(observed)"] for line in lines)
    only_run = WidthResult(None, 8, 256, None, run_width=16, run_evidence=run)
    assert "run route" in only_run.summary() and "ball route" not in only_run.summary()
    assert "16" in _cells(only_run._repr_html_())[2]


# ---------------------------------------------------------------- bug 8: plain JSON
def test_to_json_is_plain_json(certified, refused, run):
    for ev in (certified, refused, run):
        data = ev.to_json()
        assert json.loads(json.dumps(data, allow_nan=False)) == data  # only dicts, lists, str, numbers
    assert run.to_json()["hints"]["checkpoints"] == run.hints["checkpoints"].tolist()


def test_a_diverged_trajectory_is_plain_json(small):
    with np.errstate(over="ignore", invalid="ignore"):
        traj = gradient_descent(small, 100.0, 400)
    assert traj.diverged
    data = traj.to_json()
    assert json.loads(json.dumps(data, allow_nan=False)) == data and data["losses"][-1] in ("inf", "nan")


# ---------------------------------------------------------------- bug 15: reprs that replay
def test_problem_repr_replays_small_problems(small):
    problem = Problem(small.model, small.y, [0.1, -0.2, 0.3])
    again = eval(repr(problem), {"Problem": Problem, "Linear": Linear})
    for a, b in ((again.model.X, problem.model.X), (again.y, problem.y), (again.w0, problem.w0)):
        assert np.array_equal(a, b)


def test_problem_repr_summarises_large_arrays_with_a_fingerprint():
    X = unit_inputs(20, 3, seed=4)
    problem = Problem(TwoLayer(X, 8, "tanh", seed=5), uniform_targets(20, 0.1, seed=4))
    text = repr(problem)
    assert array_fingerprint(X) in text and array_fingerprint(problem.y) in text
    assert array_fingerprint(X).startswith("float64[20, 3] sha256:")
    assert "seed=5" in text and "default of seed 5" in text and len(text) < 400
    moved = Problem(problem.model, problem.y, problem.w0 + 1)
    assert array_fingerprint(moved.w0) in repr(moved) and "default" not in repr(moved)


@settings(max_examples=15)
@given(problems())
def test_a_generated_problem_repr_rebuilds_it(problem):
    assert isinstance(problem, GeneratedProblem)
    again = eval(repr(problem), {"make_problem": make_problem})
    assert type(again.model) is type(problem.model)
    for a, b in ((again.model.X, problem.model.X), (again.y, problem.y), (again.w0, problem.w0)):
        assert np.array_equal(a, b)


def test_a_shrunk_counterexample_names_its_seed_and_arrays():
    problem = find(linear_problems(), lambda p: p.n >= 2)
    text = repr(problem)
    assert text.startswith("make_problem('linear', n=2,") and "seed=" in text and "expect=" in text
    assert "'y': [" in text and "'w0': [" in text


def test_make_problem_refuses_what_it_cannot_rebuild():
    with pytest.raises(InvalidInput, match="unknown family"):
        make_problem("resnet", n=2)
    with pytest.raises(InvalidInput, match="takes"):
        make_problem("linear", n=2, width=3)
    good = make_problem("mlp", n=3, dim=2, widths=[2, 2], activation="tanh", seed=1, data_seed=2)
    with pytest.raises(InvalidInput, match="rebuilt y"):
        make_problem("mlp", n=3, dim=2, widths=[2, 2], activation="tanh", seed=1, data_seed=2,
                     expect={"y": list(good.y + 1e-12)})
    fingerprint = array_fingerprint(good.w0)
    assert make_problem("mlp", n=3, dim=2, widths=[2, 2], activation="tanh", seed=1, data_seed=2,
                        expect={"w0": fingerprint}).w0.tolist() == good.w0.tolist()


# ---------------------------------------------------------------- names
def test_premise_replaces_the_clashing_hypothesis_name(certified):
    from plproof import evidence

    assert plproof.Premise is evidence.Premise and "Premise" in plproof.__all__
    assert all(isinstance(h, plproof.Premise) for h in certified.hypotheses)
    assert "Hypothesis" not in plproof.__all__ and "Hypothesis" not in dir(plproof)
    with pytest.warns(DeprecationWarning, match="Premise"):
        alias = plproof.Hypothesis
    assert alias is plproof.Premise
