"""The catalogue of certified examples: each certificate matches its textbook values and verifies after being
written; a wrong textbook value or an overstated bound is caught; ``plproof certify --suite catalogue`` runs
the same examples."""

from __future__ import annotations

import mpmath
import pytest

from plproof.catalogue import CATALOGUE, KNS, Example, toy_w1w2, wc_kns, wc_linear_least_squares
from plproof.suite import BUILTIN_PROBLEMS, EXPECTED_VERDICTS, SUITES
from plproof.verify import verify


@pytest.fixture(scope="module")
def linear(tmp_path_factory) -> Example:
    return wc_linear_least_squares(tmp_path_factory.mktemp("linear"))


@pytest.mark.parametrize("name", [n for n in CATALOGUE if n != "linear-least-squares"])
def test_each_example_matches_its_textbook_values_and_verifies(name, tmp_path):
    example = CATALOGUE[name](tmp_path)
    assert example.mismatches() == [], example.mismatches()
    assert example.textbook or example.steps or example.stated  # something is compared
    result = verify(example.path, run_code=example.certificate["kind"] == "property")
    assert result.valid, result.first_failure


def test_linear_least_squares_in_closed_form(linear):
    """mu and beta are the eigenvalues (9 -+ sqrt 13)/2 of K = [[6, 1], [1, 3]]; unpacks like PEPit's wc_*."""
    cert, textbook = linear
    assert cert["evidence"]["verdict"] == "certified" and linear.mismatches() == []
    with mpmath.workdps(30):
        assert abs(textbook["mu"] - (9 - mpmath.sqrt(13)) / 2) < mpmath.mpf(10) ** -29
    assert verify(linear.path).valid


def test_a_wrong_textbook_value_or_an_overstated_bound_is_caught(linear):
    """A textbook mu below the certified lower bound is flagged unsound; one far above it, untight; a
    certified upper bound below the textbook value, unsound."""
    mu = linear.textbook["mu"]
    for value, word in ((mu * (1 - mpmath.mpf(10) ** -6), "unsound"), (mu * 2, "from textbook")):
        wrong = Example("x", linear.certificate, {"mu": value}, tolerance=linear.tolerance)
        assert any(word in line for line in wrong.mismatches()), wrong.mismatches()
    low = Example("x", linear.certificate, {"beta": linear.textbook["beta"] * (1 + mpmath.mpf(10) ** -6)})
    assert any("upper bound" in line and "unsound" in line for line in low.mismatches())
    assert Example("x", linear.certificate, {"no_such": mu}).mismatches() == ["no_such: not in the certificate"]


def test_the_kns_example_states_the_textbook_constants(tmp_path):
    example = wc_kns(tmp_path)
    assert example.stated == f"L = {KNS['L']}, mu = {KNS['mu']}" and example.mismatches() == []
    changed = Example("kns", {**example.certificate, "claim": {**example.certificate["claim"], "symbols": "L = 8"}},
                      stated=example.stated)
    assert changed.mismatches() == [f"the claim does not state {example.stated!r}"]


def test_certify_suite_catalogue_runs_the_catalogue_examples():
    suite = SUITES["catalogue"]
    assert suite.derivations == ("linear-ls",) and suite.properties == ("test_pl_functions.py",)
    assert set(suite.problems) == {"linear-exact", "toy-w1w2", "two-layer-tanh-symmetric"}
    assert EXPECTED_VERDICTS["toy-w1w2"] == "certified"
    assert BUILTIN_PROBLEMS["toy-w1w2"]().describe() == toy_w1w2().describe()
