"""``plproof report CERT... --format md|latex|html --out DIR``: text, tables and figures for papers (docs/reports.md)."""

from __future__ import annotations

import argparse
import json

from plproof.report import FORMATS, make_report


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="render certificates as paste-ready text, tables and figures",
                       description="Re-check each certificate, then write its claim as mathematics, what was "
                                   "verified at which rigor, a captioned table per certificate (labelled by name and "
                                   "digest) and captioned figures (PNG, and PDF for LaTeX; skipped with a note when "
                                   "matplotlib is missing). LaTeX: report.tex, table-*.tex and preamble.tex with the "
                                   "packages; HTML: one self-contained page with MathML. An invalid certificate is "
                                   "left out and the exit code is 1 (docs/reports.md).")
    p.add_argument("certificates", nargs="+", metavar="CERT", help="certificate JSON files")
    p.add_argument("--format", choices=sorted(FORMATS), default="md", help="md, latex or html (default md)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--no-recheck", action="store_true", help="do not re-check the certificates first")
    p.add_argument("--json", action="store_true", help="print the files written, notes and invalid certificates as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = make_report(args.certificates, args.format, args.out, recheck=not args.no_recheck)
    if args.json:
        print(json.dumps({"out": str(result.out), "files": result.files, "notes": result.notes,
                          "invalid": result.invalid}, indent=2))
        return 1 if result.invalid else 0
    for name in result.files:
        print(result.out / name)
    for note in result.notes:
        print(f"note: {note}")
    return 1 if result.invalid else 0
