"""The derivation LaTeX printer: products keep their order, transposes, norms and names are typeset as a
reader writes them, every built-in step prints, and the align blocks compile without overfull boxes."""

from __future__ import annotations

import runpy
import shutil
import subprocess
from pathlib import Path

import pytest

from plproof.symbolic import builtin, builtin_derivations, check_derivation, seed_notes
from plproof.symbolic.render import (
    Unprintable,
    align_lines,
    derivation_to_latex,
    expr_latex,
    name_latex,
    statement_latex,
)

ROOT = Path(__file__).resolve().parent.parent


def test_products_keep_their_order():
    """DF(w)^T (F(w) - y), not (F(w) - y) DF^T: matrix products do not commute."""
    out = expr_latex("DF(w).T*(F(w) - y)")
    assert out.index(r"{DF(w)}^{\top}") < out.index("(F(w) - y)")
    assert expr_latex("(F(w) - y).T*DF(w)").index("^{\\top}") < expr_latex("(F(w) - y).T*DF(w)").index("DF(w)")
    assert expr_latex("X.T*X*w") == r"{X}^{\top} X w"
    assert expr_latex("r.T*DF(w)*DF(w).T*r") == r"{r}^{\top}\, DF(w)\, {DF(w)}^{\top}\, r"
    # the squared norm of a residual is an inner product, not an outer one
    assert expr_latex("(F(w) - y).T*(F(w) - y)/2") == r"\frac{{(F(w) - y)}^{\top}\, (F(w) - y)}{2}"


def test_transposes_norms_and_operators_as_a_reader_writes_them():
    assert expr_latex("norm(grad(L))**2/2") == r"\frac{{\lVert \nabla L\rVert}^{2}}{2}"
    assert expr_latex("grad(L).T") == r"{(\nabla L)}^{\top}"
    assert expr_latex("lambda_min(K)*L") == r"\lambda_{\min}(K)\, L"
    assert expr_latex("(eye(n) - eta*X*X.T)*(F(w) - y)") == r"(I_{n} - \eta X {X}^{\top})\, (F(w) - y)"
    assert expr_latex("inv(X*X.T)") == r"{(X {X}^{\top})}^{-1}"
    assert expr_latex("Sum(q**t, (t, 0, oo))") == r"\sum_{t=0}^{\infty} {q}^{t}"
    assert expr_latex("(2 - beta*eta)**(3/2)") == r"{(2 - \beta \eta)}^{3/2}"
    assert expr_latex("rho.subs(eta, eta_star)") == r"\rho\big|_{\eta = \eta^{\star}}"
    assert statement_latex("K", "def", "DF(w)*DF(w).T") == r"K := DF(w)\, {DF(w)}^{\top}"
    assert statement_latex(None, ">=", "mu*L") == r"\ge \mu L"


def test_signs_and_brackets():
    assert expr_latex("a - (b - c)") == "a - (b - c)"
    assert expr_latex("a - b + c") == "a - b + c"
    assert expr_latex("a + -b") == "a + (-b)"
    assert expr_latex("a*(-b)") == r"a\, (-b)"
    assert expr_latex("(a/b)**2") == r"{\left(\frac{a}{b}\right)}^{2}"
    assert expr_latex("2*3") == r"2 \cdot 3"


@pytest.mark.parametrize("name, tex", [("eta", r"\eta"), ("L0", "L_{0}"), ("eta_star", r"\eta^{\star}"),
                                       ("mubar", r"\bar{\mu}"), ("winf", r"w_{\infty}"), ("LF", "L_{F}"),
                                       ("DF", "DF"), ("betaF", r"\beta_{F}"), ("R_fl", r"R_{\mathrm{fl}}"),
                                       ("Lstar", r"L^{\star}"), ("lambda", r"\lambda")])
def test_names(name, tex):
    assert name_latex(name) == tex


def test_text_outside_the_language_is_refused():
    for text in ("a +* (", "x.conjugate()", "'text'"):
        with pytest.raises(Unprintable):
            expr_latex(text)


def _all_steps():
    derivations = {**builtin_derivations(), "seed-notes": seed_notes(),
                   "my-derivation": runpy.run_path(str(ROOT / "examples/my_derivation.py"))["derivation"]}
    for name, d in derivations.items():
        yield name, [(s.id or str(i), s.lhs, s.relation, s.rhs, "valid") for i, s in enumerate(d.steps)]


def test_every_builtin_and_example_step_prints():
    """No step of a built-in derivation, the lecture notes or examples/my_derivation.py falls back to text."""
    for name, steps in _all_steps():
        for sid, lhs, relation, rhs, _ in steps:
            assert statement_latex(lhs, relation, rhs), (name, sid)


def test_derive_latex_is_an_align_block_with_marks():
    out = derivation_to_latex(check_derivation(builtin("gradient")))
    assert r"\begin{align*}" in out and out.count(r"\checkmark") == 5
    assert r"{DF(w)}^{\top}\, (F(w) - y)" in out and "texttt" not in out


def _pdflatex() -> str:
    path = shutil.which("pdflatex")
    if path is None:
        pytest.skip("pdflatex is not installed (Debian: apt-get install texlive-latex-base "
                    "texlive-latex-recommended): the LaTeX output is not compiled")
    return path


def compile_latex(folder: Path, body: str, preamble: str) -> str:
    """Compile ``body`` in an article with ``preamble``; return the log (errors fail the test)."""
    (folder / "main.tex").write_text(f"\\documentclass{{article}}\n{preamble}\n\\begin{{document}}\n{body}\n"
                                     "\\end{document}\n", encoding="utf-8")
    for _ in range(2):  # twice: longtable settles its column widths on the second run
        run = subprocess.run([_pdflatex(), "-interaction=nonstopmode", "-halt-on-error", "main.tex"], cwd=folder,
                             capture_output=True, text=True, timeout=120)
    log = (folder / "main.log").read_text(encoding="utf-8", errors="replace")
    assert run.returncode == 0, log[-3000:]
    return log


def test_align_blocks_of_every_derivation_compile_without_overfull_boxes(tmp_path):
    """Long right-hand sides break before a + or -, long left-hand sides stand on their own row."""
    _pdflatex()
    blocks = ["{\\allowdisplaybreaks\\begin{align*}\n" + "\n".join(align_lines(steps)) + "\n\\end{align*}}"
              for _, steps in _all_steps()]
    blocks.append(derivation_to_latex(check_derivation(builtin("gradient"))))
    log = compile_latex(tmp_path, "\n\n".join(blocks), r"\usepackage{amsmath,amssymb,mathtools}")
    assert "Overfull" not in log, [line for line in log.splitlines() if "Overfull" in line]
