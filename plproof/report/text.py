"""Paste-ready text (Markdown, LaTeX, HTML) and a booktabs table from certificates (DESIGN.md: report/)."""

from __future__ import annotations

import html
import math
from decimal import Decimal
from fractions import Fraction

from plproof.certificate.format import decode_number

#: quantities shown for problem certificates, in this order, with their symbols
PROBLEM_ROWS = (("lambda0", r"\lambda_{\min}(K(w_0))"), ("L0", r"\mathcal L(w_0)"), ("mu", r"\mu"),
                ("beta", r"\beta"), ("L_F", "L_F"), ("epsilon", r"\epsilon"), ("R", "R"), ("R_fl", r"R_{fl}"),
                ("step", r"\eta"), ("rate", r"1-\eta\mu(2-\beta\eta)"))


def _num(v: object, direction: str = "nearest") -> str:
    """6 significant digits; a lower bound is rounded down and an upper bound up, so printing never
    weakens a bound."""
    x = decode_number(v)
    if isinstance(x, Fraction) and x.denominator == 1:
        return str(x)
    text = f"{float(x):.6g}"
    if direction == "nearest" or not math.isfinite(float(x)):
        return text
    shown = Fraction(Decimal(text))
    exact = Fraction(x)
    if (direction == "down" and shown <= exact) or (direction == "up" and shown >= exact):
        return text
    ulp = Decimal(1).scaleb(Decimal(text).adjusted() - 5)  # one unit in the 6th significant digit
    return f"{float(Decimal(text) + (ulp if direction == 'up' else -ulp)):.6g}"


def summary(cert: dict, status: str) -> str:
    """One paragraph: what the certificate claims, at which rigor, and what the re-check found."""
    ev, kind, record = cert["evidence"], cert["kind"], cert.get("record", {})
    head = f"{cert['claim']['words']}"
    if kind == "problem":
        model = cert["inputs"]["model"]
        q = ev["quantities"]
        levels = ", ".join(f"{k} {q[k]['rigor']}" for k, _ in PROBLEM_ROWS if k in q)
        failed = [p["name"] for p in ev["premises"] if p["status"] != "held"]
        facts = (f"Model: {model['family']} (n = {model.get('n_outputs', '?')}, m = {model.get('n_params', '?')}). "
                 f"Verdict: {ev['verdict']}" + (f" ({', '.join(failed)} not held)" if failed else "") + "."
                 + (f" Rigor per quantity: {levels}." if levels else ""))
    elif kind == "property":
        inp = cert["inputs"]
        facts = (f"Property {inp['code']['path']}::{inp['test']}: {ev['verdict']} (seed {inp['seed']}, "
                 f"{inp['max_examples']} examples, profile {inp['profile']}).")
    elif kind == "derivation":
        bad = [s["id"] for s in ev.get("steps", []) if s["status"] != "valid"]
        facts = (f"Derivation of {len(ev.get('steps', []))} steps: {ev['verdict']}"
                 + (f"; steps not valid: {', '.join(bad)}" if bad else "") + ".")
    else:
        facts = f"Verdict: {ev['verdict']}."
    convention = cert["claim"]["theorem"].rsplit("/", 1)[-1] if "/" in cert["claim"]["theorem"] else "A"
    return (f"{head}. {facts} Overall rigor: {cert['rigor']} (convention {convention}, docs/theory.md §1.4). "
            f"Independent re-check: {status}. Certificate digest {cert['digest']}.")


def rows(cert: dict) -> list[tuple[str, str, str, str]]:
    """(name, lower, upper, rigor) rows of the certificate's numbers ("-" for the side a bound does not state)."""
    ev, record = cert["evidence"], cert.get("record", {})
    if cert["kind"] in ("problem", "run"):
        q = ev["quantities"]
        names = PROBLEM_ROWS if cert["kind"] == "problem" else tuple((k, k) for k in q)
        return [(sym, _num(q[k]["lo"], "down") if "lo" in q[k] else "-",
                 _num(q[k]["hi"], "up") if "hi" in q[k] else "-", q[k]["rigor"]) for k, sym in names if k in q]
    if cert["kind"] == "property":
        m = record.get("smallest_margin")
        return [("examples (recorded, not re-checked)", str(record.get("examples", "-")), "-", cert["rigor"]),
                ("smallest margin (recorded, not re-checked)", "-" if m is None else f"{m:.6g}", "-", cert["rigor"])]
    if cert["kind"] == "derivation":
        return [(f"step {s['id']}", s["status"], s.get("method", ""), cert["rigor"]) for s in ev.get("steps", [])]
    return []


_TEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#",
        "$": r"\$", "^": r"\^{}", "~": r"\~{}", "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}


def _tex(s: str) -> str:
    """Plain text safe inside LaTeX."""
    return "".join(_TEX.get(ch, ch) for ch in s)


def latex_table(cert: dict, label: str) -> str:
    """A booktabs table of the certificate's numbers, captioned with its claim and digest."""
    maths = cert["kind"] == "problem"
    body = "\n".join(f"{('$' + n + '$') if maths else _tex(n)} & {_tex(lo)} & {_tex(hi)} & {rig} \\\\"
                     for n, lo, hi, rig in rows(cert))
    head = "quantity & lower & upper & rigor" if maths else "item & value & detail & rigor"
    return (f"\\begin{{table}}[ht]\n\\centering\n\\begin{{tabular}}{{lllr}}\n\\toprule\n{head} \\\\\n\\midrule\n"
            f"{body}\n\\bottomrule\n\\end{{tabular}}\n\\caption{{{_tex(cert['claim']['words'])}. "
            f"Certificate \\texttt{{{cert['digest'][:23]}\\ldots}}}}\n\\label{{tab:{label}}}\n\\end{{table}}\n")


def markdown(entries: list[tuple[str, dict, str]], plots: list[str], notes: list[str]) -> str:
    """The Markdown report: per certificate a paragraph and a table; then the plots and notes."""
    out = ["# plproof report", ""]
    for name, cert, status in entries:
        out += [f"## {name}", "", summary(cert, status), "", "| quantity | lower | upper | rigor |",
                "|---|---|---|---|"]
        maths = cert["kind"] == "problem"
        out += [f"| {'$' + n + '$' if maths else n} | {lo} | {hi} | {r} |" for n, lo, hi, r in rows(cert)] + [""]
    out += [f"![{p}]({p})" for p in plots] + [""] + [f"> {n}" for n in notes]
    return "\n".join(out).rstrip() + "\n"


def latex(entries: list[tuple[str, dict, str]], plots: list[str], notes: list[str]) -> str:
    """A LaTeX fragment (needs booktabs and graphicx): paragraphs, tables and figures."""
    out = []
    for i, (name, cert, status) in enumerate(entries):
        out += [f"\\paragraph{{{_tex(name)}}} {_tex(summary(cert, status))}", "", latex_table(cert, f"plproof-{i}")]
    out += [f"\\begin{{figure}}[ht]\\centering\\includegraphics[width=0.6\\linewidth]{{{p.rsplit('.', 1)[0]}.pdf}}"
            f"\\end{{figure}}" for p in plots]
    out += [f"% {n}" for n in notes]
    return "\n".join(out) + "\n"


def html_page(entries: list[tuple[str, dict, str]], plots: list[str], notes: list[str]) -> str:
    """A standalone HTML page with the same content."""
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>plproof report</title></head><body>",
           "<h1>plproof report</h1>"]
    for name, cert, status in entries:
        out += [f"<h2>{html.escape(name)}</h2><p>{html.escape(summary(cert, status))}</p>",
                "<table><tr><th>quantity</th><th>lower</th><th>upper</th><th>rigor</th></tr>"]
        out += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows(cert)]
        out.append("</table>")
    out += [f"<p><img src='{html.escape(p)}' alt='{html.escape(p)}'></p>" for p in plots]
    out += [f"<p><em>{html.escape(n)}</em></p>" for n in notes] + ["</body></html>"]
    return "\n".join(out) + "\n"
