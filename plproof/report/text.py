"""Paste-ready renderings of a report's content (plproof.report.content): Markdown, LaTeX and HTML.

* LaTeX: maths as maths, one ``\\subsection`` per certificate, tables with ``\\caption`` and ``\\label``
  (``tab:plproof-NAME-DIGEST8``; a long derivation as a ``longtable``), figures with caption and label,
  numbers right-aligned; the packages are listed by :func:`preamble`. Table files and figures are found
  through ``\\plproofdir`` (empty by default: the folder of the main file).
* HTML: one self-contained page; the maths is MathML generated here (latex2mathml), the figures are
  embedded PNGs, so it renders offline in any current browser.
* Markdown: ``$...$`` maths, pipe tables, figures by file name.
"""

from __future__ import annotations

import base64
import html
import re
import unicodedata
from pathlib import Path

from plproof.report.content import Entry, Figure, Para, Table, claim, facts, plain

# ---------------------------------------------------------------- LaTeX
_TEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#",
        "$": r"\$", "^": r"\^{}", "~": r"\~{}", "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}
#: characters after which a long word (a path, a test name, a digest) may break
_BREAK_AFTER = "_./:-"
#: Unicode maths in plain text (titles, justifications, property descriptions) -> LaTeX
_UNICODE = {"∇": r"$\nabla$", "²": r"$^{2}$", "³": r"$^{3}$", "¹": r"$^{1}$", "⁻": r"$^{-}$",
            "ᵀ": r"$^{\top}$",
            "½": r"$\tfrac12$", "⇒": r"$\Rightarrow$", "→": r"$\to$", "≈": r"$\approx$", "≥": r"$\ge$",
            "≤": r"$\le$", "≠": r"$\ne$", "√": r"$\surd$", "∞": r"$\infty$", "‖": r"$\Vert$", "·": r"$\cdot$",
            "×": r"$\times$", "−": r"$-$", "–": "--", "—": "---", "∈": r"$\in$", "∀": r"$\forall$",
            "∃": r"$\exists$", "§": r"\S{}"}


def _char(ch: str) -> str:
    """One character of plain text in LaTeX: specials escaped, Greek letters and maths symbols as maths."""
    if ch in _TEX:
        return _TEX[ch]
    if ch.isascii():
        return ch
    if ch in _UNICODE:
        return _UNICODE[ch]
    name = unicodedata.name(ch, "")
    if name.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")):
        letter = name.rsplit(" ", 1)[-1].lower()
        return f"$\\{letter.capitalize() if 'CAPITAL' in name else letter}$"
    return ch

PACKAGES = (("amsmath", "display maths and \\text"), ("amssymb", "\\checkmark and symbols"),
            ("mathtools", "\\mathrlap in derivation blocks"), ("booktabs", "\\toprule, \\midrule, \\bottomrule"),
            ("longtable", "derivation steps across pages"), ("array", "column types"),
            ("tabularx", "tables as wide as the line"),
            ("graphicx", "\\includegraphics of the figures"))


def preamble() -> str:
    """The packages the LaTeX report needs, as lines for a paper's preamble."""
    lines = ["% plproof report: the packages it needs (all in TeX Live's latex-base and latex-recommended)"]
    lines += [f"\\usepackage{{{name}}} % {why}" for name, why in PACKAGES]
    lines += ["% the folder of the report's tables and figures, relative to the main file, e.g. {plproof/}",
              "\\providecommand{\\plproofdir}{}"]
    return "\n".join(lines) + "\n"


def tex_text(s: str) -> str:
    """Plain text safe in LaTeX; long words get break points after _ . / : -."""
    out = []
    for word in re.split(r"(\s+)", s):
        esc = "".join(_char(ch) + (r"\allowbreak{}" if len(word) > 10 and ch in _BREAK_AFTER else "")
                      for ch in word)
        out.append(esc)
    return "".join(out)


#: a break point inside code that can stretch a little (a line of code alone cannot be justified)
_CODE_BREAK = r"\hspace{0pt plus 2pt}"


def tex_code(s: str) -> str:
    """``\\texttt`` text that may break every 8 characters of a long run (digests) and after _ . / :."""
    pieces = []
    for word in re.split(r"(?<=[_./:])", s):
        chunks = [word[i:i + 8] for i in range(0, len(word), 8)] if len(word) > 16 else [word]
        pieces.append(_CODE_BREAK.join("".join(_TEX.get(ch, ch) for ch in chunk) for chunk in chunks))
    return r"\texttt{" + _CODE_BREAK.join(pieces) + "}"


def tex_para(p: Para) -> str:
    out = []
    for kind, s in p:
        out.append({"t": tex_text, "m": lambda x: f"${x}$", "d": lambda x: f"\n\\[ {x} \\]\n",
                    "c": tex_code}[kind](s))
    return "".join(out)


def _tex_column(table: Table, j: int, a: str) -> str:
    """``p`` columns: ragged-right X columns sharing the line (tabularx), or fixed shares of it (longtable)."""
    if a != "p":
        return a
    return r">{\raggedright\arraybackslash}" + (f"p{{{table.widths[j]}\\linewidth}}" if table.long else "X")


def tex_table(table: Table) -> str:
    """A booktabs table as wide as the line (``tabularx``; a ``longtable`` when ``table.long``), captioned and
    labelled."""
    spec = "@{}" + "".join(_tex_column(table, j, a) for j, a in enumerate(table.align)) + "@{}"
    head = " & ".join(tex_text(h) for h in table.head) + r" \\"
    body = "\n".join(" & ".join(tex_para(cell) for cell in row) + r" \\" for row in table.rows)
    caption = f"\\caption{{{tex_para(table.caption)}}}\\label{{{table.label}}}"
    if table.long:
        return (f"{{\\small\n\\begin{{longtable}}{{{spec}}}\n{caption}\\\\\n\\toprule\n{head}\n\\midrule\n"
                f"\\endfirsthead\n\\toprule\n{head}\n\\midrule\n\\endhead\n{body}\n\\bottomrule\n\\end{{longtable}}}}\n")
    return (f"\\begin{{table}}[htbp]\n\\centering\\small\n{caption}\n\\begin{{tabularx}}{{\\linewidth}}{{{spec}}}\n"
            f"\\toprule\n{head}\n\\midrule\n{body}\n\\bottomrule\n\\end{{tabularx}}\n\\end{{table}}\n")


def tex_figure(fig: Figure) -> str:
    return (f"\\begin{{figure}}[htbp]\n\\centering\n"
            f"\\includegraphics[width=0.75\\linewidth]{{\\plproofdir {fig.stem}}}\n"
            f"\\caption{{{tex_para(fig.caption)}}}\\label{{{fig.label}}}\n\\end{{figure}}\n")


def table_file(entry: Entry) -> str:
    """The name of an entry's table file in the LaTeX report."""
    return f"table-{entry.label.removeprefix('plproof-')}.tex"


def latex(entries: list[Entry], tables: dict[str, Table], figures: list[Figure], notes: list[str]) -> str:
    """The LaTeX report (``\\input`` it in a document whose preamble has :func:`preamble`)."""
    out = ["% plproof report: needs the packages of preamble.tex; tables are \\input from table-*.tex",
           "{\\emergencystretch=2em % long names and paths: break lines rather than run into the margin"]
    for e in entries:
        out += [f"\\subsection{{{tex_text(e.name)}}}\\label{{sec:{e.label}}}"]
        out += [tex_para(p) + "\n" for p in claim(e.cert)] + [tex_para(facts(e)) + "\n"]
        if e.name in tables:
            out.append(f"\\input{{\\plproofdir {table_file(e).removesuffix('.tex')}}}")
        out += [tex_figure(f) for f in e.figures]
    out += [tex_figure(f) for f in figures]
    out += ["}"] + [f"% note: {n}" for n in notes]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- Markdown
def md_para(p: Para, cell: bool = False) -> str:
    def text(s: str) -> str:
        s = s.replace("*", r"\*")
        return s.replace("|", r"\|") if cell else s
    return "".join({"t": text, "m": lambda x: f"${x}$", "c": lambda x: f"`{x}`",
                    "d": lambda x: f" ${x}$ " if cell else f"\n\n$$\n{x}\n$$\n\n"}[k](s) for k, s in p).strip()


def md_table(table: Table) -> str:
    align = {"l": ":---", "r": "---:", "p": ":---"}
    lines = [f"*Table ({table.label}).* {md_para(table.caption)}", "",
             "| " + " | ".join(table.head) + " |", "|" + "|".join(align[a] for a in table.align) + "|"]
    lines += ["| " + " | ".join(md_para(c, cell=True) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def md_figure(fig: Figure) -> str:
    return f"![{fig.stem}]({fig.stem}.png)\n\n*Figure ({fig.label}).* {md_para(fig.caption)}"


def markdown(entries: list[Entry], tables: dict[str, Table], figures: list[Figure], notes: list[str]) -> str:
    """The Markdown report."""
    out = ["# plproof report", ""]
    for e in entries:
        out += [f"## {e.name}", ""] + [md_para(p) + "\n" for p in claim(e.cert)] + [md_para(facts(e)), ""]
        if e.name in tables:
            out += [md_table(tables[e.name]), ""]
        out += [md_figure(f) + "\n" for f in e.figures]
    out += [md_figure(f) + "\n" for f in figures] + [f"> note: {n}" for n in notes]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- HTML
def mathml(latex_src: str, display: bool) -> str:
    """MathML for LaTeX maths (server side: no script, no network); double bars do not stretch."""
    from latex2mathml.converter import convert

    out = convert(latex_src, display="block" if display else "inline")
    return re.sub(r"<mo>(&#x02016;|&#x0007C;|\|)</mo>", r'<mo stretchy="false">\1</mo>', out)


def html_para(p: Para) -> str:
    return "".join({"t": html.escape, "m": lambda x: mathml(x, False), "d": lambda x: mathml(x, True),
                    "c": lambda x: f"<code>{html.escape(x)}</code>"}[k](s) for k, s in p)


def html_table(table: Table) -> str:
    cls = {"l": "l", "r": "r", "p": "l"}
    rows = "\n".join("<tr>" + "".join(f"<td class='{cls[a]}'>{html_para(c)}</td>" for a, c in zip(table.align, row))
                     + "</tr>" for row in table.rows)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.head)
    return (f"<table id='{table.label}'><caption>{html_para(table.caption)}</caption>\n<thead><tr>{head}</tr></thead>"
            f"\n<tbody>\n{rows}\n</tbody></table>")


def html_figure(fig: Figure, out: Path) -> str:
    png = out / f"{fig.stem}.png"
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return (f"<figure id='{fig.label}'><img src='data:image/png;base64,{data}' alt='{html.escape(plain(fig.caption))}'>"
            f"<figcaption>{html_para(fig.caption)}</figcaption></figure>")


_STYLE = """body{font-family:sans-serif;max-width:58em;margin:2em auto;padding:0 1em;line-height:1.45;
overflow-wrap:anywhere}
table{border-collapse:collapse;margin:1em 0}caption{caption-side:top;text-align:left;padding:.3em 0}
th,td{padding:.2em .6em;border-top:1px solid #bbb;vertical-align:top}thead th{border-bottom:1px solid #333}
td.r{text-align:right}code{font-size:90%;word-break:break-all}figure{margin:1.5em 0}
figure img{max-width:100%}figcaption{font-size:95%}math[display=block]{margin:.6em 0}.note{color:#555}"""


def html_page(entries: list[Entry], tables: dict[str, Table], figures: list[Figure], notes: list[str],
              out: Path) -> str:
    """One self-contained HTML page: MathML maths and embedded figures."""
    body = ["<h1>plproof report</h1>"]
    for e in entries:
        body += [f"<h2 id='sec:{e.label}'>{html.escape(e.name)}</h2>"]
        body += [f"<p>{html_para(p)}</p>" for p in claim(e.cert)] + [f"<p>{html_para(facts(e))}</p>"]
        if e.name in tables:
            body.append(html_table(tables[e.name]))
        body += [html_figure(f, out) for f in e.figures]
    body += [html_figure(f, out) for f in figures] + [f"<p class='note'>note: {html.escape(n)}</p>" for n in notes]
    return ("<!doctype html>\n<html lang='en'><head><meta charset='utf-8'><title>plproof report</title>"
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
