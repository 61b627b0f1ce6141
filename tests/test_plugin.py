"""The plproof pytest plugin: certificates for passing properties, none for failing ones, profiles, run_properties."""

from __future__ import annotations

from pathlib import Path

import pytest

from plproof.certificate import load_certificate
from plproof.pytest_plugin import certificate_name, run_properties

pytest_plugins = ["pytester"]

PROPERTIES = '''
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.mark.plproof(theory="§1.3", symbols="x^2 + 1 >= 2 x", rigor="exact", source="AM-GM")
@settings(max_examples=7, derandomize=True, database=None)
@given(x=st.integers(-50, 50))
def test_passes(x, pl_record):
    """For every integer x, x^2 + 1 >= 2 x."""
    pl_record.margin(x * x + 1 - 2 * x, example={"x": x})
    assert x * x + 1 >= 2 * x


@pytest.mark.plproof(theory="§9")
@settings(max_examples=50, derandomize=True, database=None)
@given(x=st.integers(0, 100))
def test_fails(x, pl_record):
    """Every integer below 100 is below 10 (false)."""
    pl_record.margin(10 - x)
    assert x < 10, f"counterexample x = {x}"


def test_unmarked():
    assert True
'''


@pytest.fixture
def inprocess(pytester: pytest.Pytester):
    """pytester for in-process runs, restoring the Hypothesis profile and seed that a nested run changes."""
    from hypothesis import core, settings

    profile, seed = settings.get_current_profile_name(), core.global_force_seed
    yield pytester
    settings.load_profile(profile)
    core.global_force_seed = seed


def certificates(folder: Path) -> dict[str, dict]:
    return {p.name: load_certificate(p) for p in sorted(folder.glob("*.json"))}


def test_passing_property_gets_a_certificate_and_failing_one_none(inprocess: pytest.Pytester):
    inprocess.makepyfile(test_props=PROPERTIES)
    out = inprocess.path / "certs"
    out.mkdir()
    stale = out / certificate_name("test_props.py::test_fails")
    stale.write_text("{}")  # left by an earlier run in which the property passed
    result = inprocess.runpytest("--plproof-certificates", str(out), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*counterexample x = 10*", "*no certificate written*"])  # shrunk to the least x
    certs = certificates(out)
    assert list(certs) == [certificate_name("test_props.py::test_passes")]
    cert = certs[certificate_name("test_props.py::test_passes")]
    assert cert["kind"] == "property" and cert["rigor"] == "sampled"  # a property test checks samples
    assert cert["record"]["sample_rigor"] == "exact"
    assert cert["claim"]["words"] == "For every integer x, x^2 + 1 >= 2 x."
    assert cert["claim"]["symbols"] == "x^2 + 1 >= 2 x"
    assert cert["inputs"]["code"]["path"] == "../test_props.py" and cert["inputs"]["test"] == "test_passes"
    assert cert["inputs"]["reference"] == "docs/theory.md §1.3" and cert["inputs"]["max_examples"] == 7
    assert cert["record"]["examples"] == 7 and cert["evidence"] == {"verdict": "passed", "rigor": "sampled"}
    ev = cert["record"]
    x = ev["notes"]["margin_example"]["x"]  # which examples run is Hypothesis's choice: the record must agree
    assert ev["smallest_margin"] == (x - 1) ** 2 and -50 <= x <= 50
    assert ev["notes"]["source"] == "AM-GM" and "hypothesis" in cert["tool"]


def test_without_the_option_nothing_is_written(inprocess: pytest.Pytester):
    inprocess.makepyfile(test_props=PROPERTIES)
    result = inprocess.runpytest("-p", "no:cacheprovider", "-k", "passes")
    result.assert_outcomes(passed=1, deselected=2)
    assert not list(inprocess.path.rglob("*.json"))


def test_a_marker_without_theory_is_a_usage_error(inprocess: pytest.Pytester):
    inprocess.makepyfile(test_bad='''
import pytest

@pytest.mark.plproof(statement="no section")
def test_x():
    pass
''')
    result = inprocess.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*plproof(theory=*"])


def test_thorough_profile_runs_a_thousand_examples(inprocess: pytest.Pytester):
    inprocess.makepyfile(test_many='''
import pytest
from hypothesis import given
from hypothesis import strategies as st

@pytest.mark.plproof(theory="§0")
@given(x=st.integers(0, 10**9))
def test_many(x):
    """x >= 0."""
    assert x >= 0
''')
    out = inprocess.path / "certs"
    result = inprocess.runpytest("--plproof-certificates", str(out), "--hypothesis-profile", "thorough",
                                           "--hypothesis-seed", "3", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    (cert,) = certificates(out).values()
    assert cert["inputs"]["profile"] == "thorough" and cert["inputs"]["seed"] == 3
    assert cert["record"]["examples"] >= 1000


def test_run_properties_summary_and_reproducibility(inprocess: pytest.Pytester):
    """Same profile and seed, same certificates (pytester restores sys.modules, sys.path and the cwd)."""
    inprocess.makepyfile(test_props=PROPERTIES)
    runs = [run_properties(out, "thorough", 5, paths=["test_props.py"]) for out in ("first", "second")]
    first, second = runs
    assert first.exit_code == 1 and (first.profile, first.seed) == ("thorough", 5)
    assert [o.nodeid for o in first.passed] == ["test_props.py::test_passes"]
    assert [o.nodeid for o in first.failed] == ["test_props.py::test_fails"]
    assert "counterexample x = 10" in first.failed[0].report
    (a,), (b,) = first.certificates, second.certificates
    assert a != b and load_certificate(a)["digest"] == load_certificate(b)["digest"]
    assert load_certificate(a)["inputs"]["seed"] == 5


def test_run_properties_rejects_unknown_profiles(tmp_path: Path):
    with pytest.raises(ValueError, match="unknown profile"):
        run_properties(tmp_path, "nightly")


def test_the_user_example_writes_its_certificate(inprocess: pytest.Pytester):
    example = Path(__file__).resolve().parent.parent / "examples" / "my_property.py"
    inprocess.makepyfile(my_property=example.read_text())
    out = inprocess.path / "certs"
    result = inprocess.runpytest("my_property.py", "--plproof-certificates", str(out), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    (cert,) = certificates(out).values()
    assert cert["record"]["examples"] >= 1 and cert["record"]["smallest_margin"] >= -1e-25


def test_a_failure_report_shows_the_property_not_the_plugin(inprocess: pytest.Pytester):
    """Issue 14, bug 15: no frame of the plugin's example counter, no ``<Recorder object at ...>``."""
    inprocess.makepyfile(test_props=PROPERTIES)
    result = inprocess.runpytest("-p", "no:cacheprovider", "-k", "fails")
    result.assert_outcomes(failed=1, deselected=2)
    text = result.stdout.str()
    assert "counterexample x = 10" in text
    assert "pytest_plugin.py" not in text and "Recorder object" not in text and "pl_record=pl_record" in text


def test_marked_properties_run_under_ci_when_no_profile_is_chosen(inprocess: pytest.Pytester):
    """Issue 14, bug 15: outside this repository (no conftest loading a profile) marked properties use ``ci``,
    keeping the settings a test sets itself; unmarked tests keep Hypothesis's defaults."""
    from hypothesis import settings

    inprocess.makepyfile(test_default='''
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

@pytest.mark.plproof(theory="§0")
@given(x=st.integers(0, 10**9))
def test_marked(x):
    """x >= 0."""
    assert x >= 0

@pytest.mark.plproof(theory="§0")
@settings(max_examples=7)
@given(x=st.integers(0, 10**9))
def test_marked_with_settings(x):
    """x >= 0."""
    assert x >= 0

def test_unmarked_keeps_the_default_profile():
    assert settings.get_current_profile_name() == "default" and settings.default.max_examples == 100
''')
    settings.load_profile("default")  # as in a project without this repository's conftest.py
    out = inprocess.path / "certs"
    result = inprocess.runpytest("--plproof-certificates", str(out), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    certs = {c["inputs"]["test"]: c for c in certificates(out).values()}
    marked, own = certs["test_marked"], certs["test_marked_with_settings"]
    assert marked["inputs"]["profile"] == "ci" and marked["inputs"]["max_examples"] == 25
    assert marked["record"]["examples"] == 25 and marked["record"]["notes"]["derandomize"] is True
    assert own["inputs"]["profile"] == "ci" and own["inputs"]["max_examples"] == own["record"]["examples"] == 7
