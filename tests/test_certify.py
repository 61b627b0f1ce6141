"""``plproof certify``: every item gets its expected outcome, certificates verify, runs are reproducible."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plproof import InvalidInput, check, verify
from plproof.certificate import from_evidence, write_certificate
from plproof.certification import certify_suite
from plproof.cli.main import main
from plproof.suite import BUILTIN_PROBLEMS

REPO = Path(__file__).resolve().parent.parent
PAPER = REPO / "certificates" / "paper"


@pytest.mark.slow  # .ci/run runs the README's main job (plproof certify on this suite) in full
def test_paper_suite_is_reproducible_and_every_certificate_verifies(tmp_path, monkeypatch, capsys):
    """The CLI from any folder (issue 14, bugs 9 and 11: the catalogue ships in the package; stdout carries
    the JSON alone; each property's time is its own) and the API write the same certificates; every one
    verifies after the folder is moved."""
    import shutil

    from plproof.pytest_plugin import catalogue_dir

    assert catalogue_dir().parent == Path(__import__("plproof").__file__).parent
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    assert main(["certify", "--suite", "paper", "--out", str(tmp_path / "a"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    props = [e for e in doc["entries"] if e["kind"] == "property"]
    assert doc["ok"] and len(props) == 6 and all(e["status"] == "passed" and e["path"] for e in props)
    assert len({e["seconds"] for e in props}) > 1
    second = certify_suite(tmp_path / "b", suite="paper")
    assert second.ok
    assert [e["digest"] for e in doc["entries"]] == [e.digest for e in second.entries]
    assert {e.kind for e in second.entries} == {"derivation", "property", "problem"}
    shutil.move(tmp_path / "a", tmp_path / "shipped")  # from another folder and another working directory
    for entry in second.entries:
        result = verify(tmp_path / "shipped" / entry.path, run_code=entry.kind == "property")
        assert result.valid, (entry.name, result.reason)


@pytest.mark.parametrize("path", sorted(p for p in PAPER.rglob("*.json") if p.name != "index.json"),
                         ids=lambda p: p.relative_to(PAPER).as_posix())
def test_committed_paper_certificates_still_verify(path):
    """A change that breaks an old certificate shows up here (issue 7, the paper set)."""
    result = verify(path)  # property re-runs: tests/test_verify.py and the tamper campaign
    assert result.valid or (result.outcome == "unverifiable" and "--run-code" in result.reason), result.reason


def test_committed_paper_set_is_complete():
    index = json.loads((PAPER / "index.json").read_text())
    assert index["ok"] and index["suite"] == "paper"
    for entry in index["entries"]:
        assert (PAPER / entry["path"]).is_file()


def test_unknown_suite_and_cli_exit_codes(tmp_path, capsys):
    with pytest.raises(InvalidInput, match="unknown suite"):
        certify_suite(tmp_path, suite="everything")
    # the CLI's run of the paper suite: tests/test_cli.py::test_certify_json_from_any_folder


@pytest.mark.parametrize("name", list(BUILTIN_PROBLEMS))
def test_every_builtin_problem_certificate_verifies(tmp_path, name):
    """The problem certificates of the default suite, whatever their verdict, re-check as valid."""
    problem = BUILTIN_PROBLEMS[name]()
    path = write_certificate(from_evidence(check(problem, confirm=False), problem), tmp_path / f"{name}.json")
    result = verify(path)
    assert result.valid, result.first_failure


def test_a_false_obstruction_is_rejected(tmp_path):
    """A "not certifiable: non-smooth" certificate whose model is smooth after tampering is invalid."""
    problem = BUILTIN_PROBLEMS["two-layer-relu"]()
    cert = from_evidence(check(problem), problem)
    cert["inputs"]["model"]["activation"] = "tanh"
    path = write_certificate(cert, tmp_path / "tampered.json")
    result = verify(path)
    assert result.outcome == "invalid"
