"""Reports: Markdown/LaTeX/HTML text, booktabs tables with the digest, plots, and the no-matplotlib fallback."""

from __future__ import annotations

import argparse
import sys

import pytest

from plproof import Problem, TwoLayer
from plproof.certificate import from_evidence, write_certificate
from plproof.check import check
from plproof.cli import report as report_cli
from plproof.data import uniform_targets, unit_inputs
from plproof.errors import InvalidInput
from plproof.report import make_report, plots

from tests.test_verify import linear_problem


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> list:
    folder = tmp_path_factory.mktemp("certs")
    linear = linear_problem()
    paths = [write_certificate(from_evidence(check(linear, confirm_steps=40), linear), folder / "linear.json")]
    for width in (128, 512):
        problem = Problem(TwoLayer(unit_inputs(2, 2, 7), width, "tanh", seed=7, init="symmetric"),
                          uniform_targets(2, 0.01, 7))
        ev = check(problem, confirm=False)
        assert ev.certified
        paths.append(write_certificate(from_evidence(ev, problem), folder / f"w{width}.json"))
    return paths


def test_markdown_report_with_tables_and_plots(certs, tmp_path):
    result = make_report(certs, "md", tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "Independent re-check: valid" in text and "| $\\mu$ |" in text and "sha256:" in text
    for stem in ("linear-loss", "linear-lambda", "linear-distance", "hessian-vs-width"):
        for ext in ("png", "pdf"):
            assert (tmp_path / f"{stem}.{ext}").stat().st_size > 1000
    assert "![linear-loss.png](linear-loss.png)" in text
    table = (tmp_path / "table-1-linear.tex").read_text()
    assert "\\toprule" in table and "\\bottomrule" in table and "sha256:" in table and "$\\mu$" in table
    assert any("sweep" in note for note in result.notes)  # one n only: no width-against-n plot


def test_latex_and_html_reports(certs, tmp_path):
    make_report(certs[:1], "latex", tmp_path / "tex", recheck=False)
    tex = (tmp_path / "tex/report.tex").read_text()
    assert "\\paragraph{linear}" in tex and "\\includegraphics" in tex and "^" not in tex.replace("\\^{}", "")
    make_report(certs[:1], "html", tmp_path / "html")
    assert "<table>" in (tmp_path / "html/report.html").read_text()
    with pytest.raises(InvalidInput):
        make_report(certs[:1], "docx", tmp_path / "x")


def test_fitted_slope_of_hessian_bound_against_width():
    assert plots.fitted_slope([100, 400, 1600], [1.0, 0.5, 0.25]) == pytest.approx(-0.5)


def test_without_matplotlib_text_and_tables_still_come_out(certs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = make_report(certs[:1], "md", tmp_path, recheck=False)
    assert (tmp_path / "report.md").exists() and (tmp_path / "table-1-linear.tex").exists()
    assert not list(tmp_path.glob("*.png"))
    assert any("matplotlib is not installed" in note for note in result.notes)


def test_cli_report(certs, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    report_cli.register(parser.add_subparsers())
    args = parser.parse_args(["report", str(certs[0]), "--format", "latex", "--out", str(tmp_path)])
    assert args.run(args) == 0
    assert "report.tex" in capsys.readouterr().out


def test_invalid_certificates_are_left_out_and_unverifiable_ones_marked(certs, tmp_path, capsys):
    import json

    from plproof.certificate.format import seal

    bad = json.loads(certs[0].read_text())
    bad["evidence"]["quantities"]["mu"]["lo"] = 100.0
    (tmp_path / "bad.json").write_text(json.dumps(seal(bad)))
    user = json.loads(certs[0].read_text())
    user["inputs"]["model"]["class"] = "mine.MyLinear"
    (tmp_path / "user.json").write_text(json.dumps(seal(user)))
    result = make_report([tmp_path / "bad.json", tmp_path / "user.json"], "md", tmp_path / "out")
    text = (tmp_path / "out/report.md").read_text()
    assert result.invalid and "## bad" not in text and "NOT RE-CHECKED here" in text
    parser = argparse.ArgumentParser()
    report_cli.register(parser.add_subparsers())
    args = parser.parse_args(["report", str(tmp_path / "bad.json"), "--out", str(tmp_path / "o2"), "--json"])
    assert args.run(args) == 1 and json.loads(capsys.readouterr().out)["invalid"]


def test_printed_bounds_round_outward():
    """A lower bound is printed rounded down and an upper bound rounded up (never a stronger bound)."""
    from fractions import Fraction

    from plproof.report.text import _num

    for value in (0.2892124051, 2.697224362268005, 1e-300, -0.3333333333, "1/3", 999999.9):
        exact = Fraction(value) if not isinstance(value, str) else Fraction(value)
        assert Fraction(_num(value, "down")) <= exact <= Fraction(_num(value, "up"))
