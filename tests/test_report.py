"""Reports: claims as maths from the structured claim, tables and figures with captions and stable labels,
outward-rounded numbers, readable figures, the radius search, the no-matplotlib fallback; and the report as a
reader gets it: the LaTeX report compiled by pdflatex without overfull boxes or undefined references, the
HTML report opened in headless Chromium with laid-out MathML and no raw LaTeX.

pdflatex and Chromium come from the distribution (Debian: texlive-latex-base texlive-latex-recommended
chromium fonts-dejavu-core); each of those tests skips with a message where its tool is absent."""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from plproof import Problem, TwoLayer
from plproof.certificate import derivation_certificate, from_evidence, write_certificate
from plproof.certificate.build import run_certificate
from plproof.certificate.format import load_certificate, seal
from plproof.routes.ball import check
from plproof.routes.trajectory import certify_run
from plproof.cli import report as report_cli
from plproof.data import uniform_targets, unit_inputs
from plproof.errors import InvalidInput
from plproof.report import make_report, plots
from plproof.report.content import Entry, claim, number, plain
from plproof.suite import BUILTIN_PROBLEMS
from plproof.symbolic import builtin, check_derivation

from tests.test_render_latex import compile_latex


def build_certificates(folder: Path) -> dict[str, Path]:
    """A certified linear problem with a recorded run, two-layer nets of one data set at two widths, one not
    certified, one not certifiable, an SGD ball certificate with its recorded runs, a seeded SGD run's certificate,
    and a derivation."""
    paths = {}
    linear = BUILTIN_PROBLEMS["linear-exact"]()
    paths["linear"] = write_certificate(from_evidence(check(linear, confirm_steps=40), linear), folder / "linear.json")
    for width in (128, 512):
        problem = Problem(TwoLayer(unit_inputs(2, 2, 7), width, "tanh", seed=7, init="symmetric"),
                          uniform_targets(2, 0.01, 7))
        ev = check(problem, confirm=False)
        assert ev.certified
        paths[f"w{width}"] = write_certificate(from_evidence(ev, problem), folder / f"w{width}.json")
    for name in ("two-layer-sigmoid", "under-parameterised"):
        problem = BUILTIN_PROBLEMS[name]()
        paths[name] = write_certificate(from_evidence(check(problem, confirm=False), problem), folder / f"{name}.json")
    sgd = BUILTIN_PROBLEMS["linear-exact"]()
    ev = check(sgd, method="sgd", batch_size=1, confidence=0.9, confirm_steps=40)
    paths["sgd-ball"] = write_certificate(from_evidence(ev, sgd), folder / "sgd-ball.json")
    net = Problem(TwoLayer(unit_inputs(5, 8, seed=3), 16, "tanh", seed=3, init="symmetric"),
                  uniform_targets(5, 0.05, seed=3))
    ev = certify_run(net, method="sgd", batch_size=2, sampler="epochs")
    paths["sgd-run"] = write_certificate(run_certificate(ev, net), folder / "sgd-run.json")
    for name in ("gradient", "linear-ls"):
        paths[name] = write_certificate(derivation_certificate(check_derivation(builtin(name))), folder / f"{name}.json")
    return paths


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> dict[str, Path]:
    return build_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def reports(certs, tmp_path_factory) -> dict:
    """The report of every certificate (and a property test with long names) in each format. The figures
    are drawn once, with the first report, and for each the axes that are hard to read are noted."""
    from plproof.pytest_plugin import catalogue_dir, run_properties

    summary = run_properties(tmp_path_factory.mktemp("properties"), paths=[catalogue_dir() / "test_conventions.py"],
                             pytest_args=("--disable-warnings", "--no-header"))
    paths = list(certs.values()) + [Path(o.certificate) for o in summary.outcomes if o.certificate]
    seen: list = []
    drawn: dict = {}
    save, draw = plots._save, plots.all_figures

    def checked(fig, folder, stem, exts):
        for ax in fig.axes:
            plots.readable_ticks(ax)  # as saving does
        seen.append((stem, plots.unreadable(fig)))
        save(fig, folder, stem, exts)

    def once(entries, folder, notes, exts):
        if not drawn:
            drawn.update(folder=folder, figures=draw(entries, folder, notes, exts), notes=list(notes),
                         per_entry={e.name: e.figures for e in entries})
        else:
            for e in entries:
                e.figures = drawn["per_entry"][e.name]
            for f in drawn["folder"].glob("*.p[nd][gf]"):
                shutil.copy(f, folder)
            notes += drawn["notes"]
        return drawn["figures"]

    out = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plots, "_save", checked)
        mp.setattr(plots, "all_figures", once)
        # drawn as PNG with the Markdown report: pdflatex includes PNG where there is no PDF
        results = {fmt: make_report(paths, fmt, out / fmt, recheck=fmt == "md") for fmt in ("md", "latex", "html")}
    return {"results": results, "figures": seen}


@pytest.fixture(scope="module")
def markdown(reports):
    result = reports["results"]["md"]
    return result, (result.out / "report.md").read_text()


def test_markdown_report(markdown, certs):
    result, text = markdown
    assert "Independent re-check: valid" in text and "sha256:" in text
    # claims are maths rendered from the theorem id and the evidence, never the ASCII words
    linear = text.split("## linear\n")[1].split("\n## ")[0]
    assert r"\tfrac12\lVert\nabla\mathcal{L}(w)\rVert^2 \ge \mu\,\mathcal{L}(w)" in linear
    assert "1/2 ||" not in linear and "Rigor per quantity" not in text
    assert r"| $\mu$ | PL\* constant on the ball" in text  # numbers under the quantity's symbol
    # derivation steps under their own headers, statements as maths with products in order
    assert "| step | statement | justification | check |" in text
    assert r"{DF(w)}^{\top}\, (F(w) - y)" in text
    # a not-certifiable problem says which premise fails, with no empty sentences
    assert r"Not certifiable: the premise $m \ge n$" in text
    assert "Not certified: at" in text  # the sigmoid net: nothing is claimed
    # Markdown writes no LaTeX tables; figures as PNG with captions that say the run is not re-checked
    assert not list(result.out.glob("*.tex"))
    assert "![linear-loss](linear-loss.png)" in text and "not re-checked by the verifier" in text
    for stem in ("linear-loss", "linear-lambda", "linear-distance", "linear-radius", "w128-radius",
                 "two-layer-sigmoid-radius", "hessian-vs-width"):
        assert (result.out / f"{stem}.png").stat().st_size > 1000, stem
    assert not (result.out / "under-parameterised-radius.png").exists()  # nothing to search: m < n
    # SGD: the recorded seeded runs against the expectation bound and R_sgd; the seeded run's loss and tube
    for stem in ("sgd-ball-sgd-loss", "sgd-ball-sgd-distance", "sgd-run-run-loss", "sgd-run-run-tube"):
        assert (result.out / f"{stem}.png").stat().st_size > 1000, stem
    sgd = text.split("## sgd-ball\n")[1].split("\n## ")[0]
    assert "expectation bound" in sgd and "16 runs" in sgd and "illustrate, they do not prove" in sgd
    run = text.split("## sgd-run\n")[1].split("\n## ")[0]
    assert "sampler epochs with seed 0 and batch size 2" in run and "re-checked" in run
    assert any("sweep" in note for note in result.notes)  # one n only: no width-against-n figure


def test_labels_are_stable_and_agree_between_report_and_table_files(certs, tmp_path, monkeypatch):
    """Labels are name + 8 hex digits of the digest: the same in report.tex, the table files and a second
    report of the certificates in another order."""
    a = make_report([certs["linear"], certs["gradient"]], "latex", tmp_path / "a", recheck=False)
    monkeypatch.setattr(plots, "all_figures", lambda *args: [])  # the table files do not depend on them
    b = make_report([certs["gradient"], certs["linear"]], "latex", tmp_path / "b", recheck=False)
    digest = load_certificate(certs["linear"])["digest"].split(":")[1][:8]
    table = (a.out / f"table-linear-{digest}.tex").read_text()
    assert f"\\label{{tab:plproof-linear-{digest}}}" in table
    assert f"\\input{{\\plproofdir table-linear-{digest}}}" in (a.out / "report.tex").read_text()
    assert table == (b.out / f"table-linear-{digest}.tex").read_text()
    labels = re.findall(r"\\label\{([^}]*)\}", (a.out / "report.tex").read_text())
    assert f"fig:plproof-linear-{digest}-radius" in labels and len(labels) == len(set(labels))
    assert {f for f in a.files if f.startswith("linear-")} == {f"linear-{k}.{e}" for k in ("radius", "loss", "lambda",
                                                                                          "distance") for e in ("png", "pdf")}
    assert r"\begin{tabularx}{\linewidth}{@{}l>{\raggedright\arraybackslash}Xrrl@{}}" in table  # numbers right
    preamble = (a.out / "preamble.tex").read_text()
    assert all(f"\\usepackage{{{p}}}" in preamble for p in ("booktabs", "graphicx", "amsmath", "longtable"))


def test_printed_bounds_round_outward():
    """A lower bound is printed rounded down and an upper bound rounded up (never a stronger bound)."""
    for value in (0.2892124051, 2.697224362268005, 1e-300, -0.3333333333, "1/3", 999999.9, 7.7786412768e-10):
        exact = Fraction(value)
        for side, ok in (("lo", lambda s: s <= exact), ("hi", lambda s: s >= exact)):
            text = number(value, side).replace(r" \times 10^{", "e").replace("10^{", "1e").rstrip("}")
            assert ok(Fraction(text)), (value, side, text)
    assert number(2.697224362268005, "lo") == "2.69722" and number(2.697224362268005, "hi") == "2.69723"
    assert number(7.7786412768e-10, "hi") == r"7.77865 \times 10^{-10}" and number("inf", "hi") == r"\infty"


def test_convention_b_claims_the_convention_b_inequality(certs):
    cert = load_certificate(certs["linear"])
    cert["claim"]["theorem"] = "gd-ball/B"
    text = plain(claim(cert)[0])
    assert r"\lVert\nabla\mathcal{L}(w)\rVert^2 \ge \mu" in text and r"\tfrac12\lVert\nabla" not in text


def test_every_axis_of_every_figure_has_a_label_and_labelled_ticks(reports):
    seen = reports["figures"]
    assert len(seen) == 12 and all(not problems for _, problems in seen), seen


def test_a_log_axis_inside_one_decade_gets_plain_ticks(tmp_path):
    plt = plots.pyplot()
    fig, ax = plt.subplots()
    ax.loglog([100, 200, 400], [0.031, 0.027, 0.024], "o")
    ax.set_xlabel("width")
    ax.set_ylabel("epsilon")
    plots.readable_ticks(ax)
    assert not plots.unreadable(fig)
    plt.close(fig)


def test_radius_search_closes_at_the_certified_radius(certs):
    """The curves of the figure: R_fl(R) <= R at the certificate's R for a certified net, nowhere near it for
    the sigmoid net that is not certified; mu decreases and beta increases with R."""
    import numpy as np

    entry = Entry("w128", load_certificate(certs["w128"]), "", certs["w128"].parent)
    R = float(entry.cert["evidence"]["quantities"]["R"]["hi"])
    curves = plots.radius_curves(entry, np.array([R / 10, R, 10 * R]))
    assert curves["R_fl"][1] <= R * (1 + 1e-9) and curves["R_fl"][0] > R / 10
    assert list(curves["mu"]) == sorted(curves["mu"], reverse=True) and list(curves["beta"]) == sorted(curves["beta"])
    sigmoid = Entry("s", load_certificate(certs["two-layer-sigmoid"]), "", certs["two-layer-sigmoid"].parent)
    radii = np.logspace(-6, 3, 60)
    assert not (plots.radius_curves(sigmoid, radii)["R_fl"] <= radii).any()


def test_slopes_are_fitted_only_within_one_data_set(certs, tmp_path, monkeypatch):
    """Certificates on different data are separate series; a fit needs three widths of one data set."""
    other = Problem(TwoLayer(unit_inputs(2, 2, 8), 256, "tanh", seed=8, init="symmetric"), uniform_targets(2, 0.01, 8))
    path = write_certificate(from_evidence(check(other, confirm=False), other), tmp_path / "other.json")
    entries = [Entry(p.stem, load_certificate(p), "", p.parent) for p in (certs["w128"], certs["w512"], path)]
    notes: list[str] = []
    figures = plots.width_figure(entries, tmp_path, notes, ("png",))
    assert len(figures) == 1 and "fitted slope" not in plain(figures[0].caption)  # two widths: points only
    assert plots.width_figure(entries[::2], tmp_path, notes, ("png",)) == [] and notes  # one width per data set
    assert plots.fitted_slope([100, 400, 1600], [1.0, 0.5, 0.25]) == pytest.approx(-0.5)


def test_without_matplotlib_text_and_tables_still_come_out(certs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = make_report([certs["linear"]], "latex", tmp_path, recheck=False)
    assert (tmp_path / "report.tex").exists() and list(tmp_path.glob("table-linear-*.tex"))
    assert not list(tmp_path.glob("*.png"))
    assert any("matplotlib is not installed" in note for note in result.notes)


def test_cli_report_and_invalid_certificates(certs, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    report_cli.register(parser.add_subparsers())
    args = parser.parse_args(["report", str(certs["linear"]), "--format", "latex", "--out", str(tmp_path / "ok")])
    assert args.run(args) == 0 and "report.tex" in capsys.readouterr().out
    bad = json.loads(certs["linear"].read_text())
    bad["evidence"]["quantities"]["mu"]["lo"] = 100.0
    (tmp_path / "bad.json").write_text(json.dumps(seal(bad)))
    user = json.loads(certs["linear"].read_text())
    user["inputs"]["model"]["class"] = "mine.MyLinear"
    (tmp_path / "user.json").write_text(json.dumps(seal(user)))
    result = make_report([tmp_path / "bad.json", tmp_path / "user.json"], "md", tmp_path / "out")
    text = (tmp_path / "out/report.md").read_text()
    assert result.invalid and "## bad" not in text and "NOT RE-CHECKED here" in text
    args = parser.parse_args(["report", str(tmp_path / "bad.json"), "--out", str(tmp_path / "o2"), "--json"])
    assert args.run(args) == 1 and json.loads(capsys.readouterr().out)["invalid"]
    with pytest.raises(InvalidInput):
        make_report([certs["linear"]], "docx", tmp_path / "x")


# ---------------------------------------------------------------- in pdflatex and in a browser
def test_latex_report_compiles_without_overfull_boxes(reports):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (Debian: apt-get install texlive-latex-base "
                    "texlive-latex-recommended): the LaTeX report is not compiled")
    result = reports["results"]["latex"]
    report = (result.out / "report.tex").read_text()
    labels = re.findall(r"\\label\{([^}]*)\}", report + "".join(
        (result.out / f).read_text() for f in result.files if f.startswith("table-")))
    refs = " ".join(f"\\ref{{{label}}}" for label in labels)
    log = compile_latex(result.out, f"\\input{{report}}\n\nLabels: {refs}", r"\input{preamble}")
    assert "Overfull" not in log, [line for line in log.splitlines() if "Overfull" in line]
    assert not re.search(r"undefined references|Reference .* undefined", log) and len(labels) == len(set(labels)) >= 20
    assert (result.out / "main.pdf").stat().st_size > 10_000


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
#: measures in the browser the MathML elements laid out, any LaTeX command left in the visible text, the images
PROBE = """<script>
const maths = [...document.querySelectorAll('math')];
const laid = maths.filter(m => { const r = m.getBoundingClientRect(); return r.width > 2 && r.height > 5; });
const raw = document.body.innerText.match(/\\\\[A-Za-z]+/g) || [];
document.title = JSON.stringify({maths: maths.length, laid: laid.length, raw: raw.slice(0, 20),
                                 images: [...document.images].filter(i => i.naturalWidth > 100).length});
</script>"""


def _browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    browser = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                   None)
    if browser is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium fonts-dejavu-core): the HTML "
                    "report is not opened in a browser")
    return subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def test_html_report_renders_mathml_in_chromium(reports, tmp_path):
    """Self-contained (no address but MathML's namespace), every <math> laid out, no LaTeX command visible,
    every figure decoded; the screenshot is neither blank nor black."""
    page = reports["results"]["html"].out / "report.html"
    text = page.read_text()
    assert "<math" in text and "http" not in text.replace("http://www.w3.org/1998/Math/MathML", "")
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = _browse(probe, tmp_path / "profile", "--dump-dom").stdout
    seen = json.loads(html.unescape(re.search(r"<title>(.*?)</title>", dom, re.S).group(1)))
    assert seen["maths"] > 100 and seen["laid"] == seen["maths"], seen
    assert seen["raw"] == [], seen
    assert seen["images"] == 12, seen
    shot = tmp_path / "report.png"
    _browse(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1100,2600", "--hide-scrollbars")
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    ink = (pixels[..., :3].mean(axis=2) < 0.5).mean()
    assert pixels.shape[:2] == (2600, 1100) and 0.005 < ink < 0.5, ink
