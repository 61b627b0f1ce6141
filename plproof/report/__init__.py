"""Reports for papers: ``make_report(paths, fmt, out)`` writes the text, tables and figures of certificates.

Each certificate is re-checked by :func:`plproof.verify.verify` first and the report states the outcome:
an invalid certificate is left out and none of its numbers are reported; one that cannot be re-checked
here is reported with that mark. Claims are rendered as mathematics from the structured claim and the
re-checked evidence (plproof.report.content); runs drawn from a certificate's ``record`` (the producer's
confirming GD run) were not re-checked by the verifier, and the captions say so.

Formats: ``md`` (report.md), ``latex`` (report.tex, one table-*.tex per certificate and preamble.tex with
the packages), ``html`` (report.html, self-contained: MathML maths and embedded figures). The figures are
written as PNG, and as PDF too for LaTeX; without matplotlib they are skipped with a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from plproof.certificate.format import load_certificate
from plproof.errors import InvalidInput, MissingDependency
from plproof.report import plots, text
from plproof.report.content import Entry, Figure, table

FORMATS = {"md": "report.md", "latex": "report.tex", "html": "report.html"}


@dataclass
class ReportResult:
    """The files written (relative to the output folder) and notes such as skipped plots."""

    out: Path
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def _entries(paths: list[Path], recheck: bool, result: ReportResult) -> list[Entry]:
    from plproof.verify import verify

    entries = []
    for path in paths:
        cert = load_certificate(path)
        if recheck:
            check = verify(path)
            if check.outcome == "invalid":
                result.invalid.append(f"{path}: INVALID: {check.reason}")
                continue
            status = (f"valid, re-checked at rigor {check.level}" if check.valid
                      else f"NOT RE-CHECKED here ({check.reason})")
        else:
            status = "not re-checked (--no-recheck)"
        entries.append(Entry(path.stem, cert, status, path.parent))
    names = [e.name for e in entries]
    for e in entries:  # two certificates of one name from different folders: the digest tells them apart
        if names.count(e.name) > 1:
            e.name = f"{e.name}-{e.cert['digest'].split(':')[-1][:8]}"
    return entries


def make_report(paths: list[str | Path], fmt: str, out: str | Path, *, recheck: bool = True) -> ReportResult:
    """Write the report in format ``fmt`` (``md``, ``latex`` or ``html``) and its figures into ``out``."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = ReportResult(out)
    entries = _entries([Path(p) for p in paths], recheck, result)
    result.notes += [f"{line}; left out of the report" for line in result.invalid]
    figures: list[Figure] = []
    try:
        figures = plots.all_figures(entries, out, result.notes, plots.EXTENSIONS[fmt])
    except MissingDependency as exc:
        result.notes.append(str(exc))
    tables = {e.name: tab for e in entries if (tab := table(e)) is not None}
    name = FORMATS[fmt]
    if fmt == "latex":
        for e in entries:
            if e.name in tables:
                (out / text.table_file(e)).write_text(text.tex_table(tables[e.name]), encoding="utf-8")
                result.files.append(text.table_file(e))
        (out / "preamble.tex").write_text(text.preamble(), encoding="utf-8")
        body = text.latex(entries, tables, figures, result.notes)
        result.files.append("preamble.tex")
    elif fmt == "html":
        body = text.html_page(entries, tables, figures, result.notes, out)
    else:
        body = text.markdown(entries, tables, figures, result.notes)
    (out / name).write_text(body, encoding="utf-8")
    result.files.append(name)
    drawn = [f for e in entries for f in e.figures] + figures
    result.files += [f"{f.stem}.{ext}" for f in drawn for ext in plots.EXTENSIONS[fmt]]
    return result


__all__ = ["FORMATS", "ReportResult", "make_report"]
