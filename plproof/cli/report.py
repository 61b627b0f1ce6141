"""``plproof report CERT... --format md|latex|html --out DIR``: text, booktabs tables and plots for papers."""

from __future__ import annotations

import argparse
import json

from plproof.report import FORMATS, make_report


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="render certificates as paste-ready text, LaTeX tables and plots",
                       description="Re-check each certificate, then write a short text of what was verified at "
                                   "which rigor, one booktabs table per certificate (with its digest) and plots "
                                   "(PNG and PDF; skipped with a note when matplotlib is missing). An invalid "
                                   "certificate is left out and the exit code is 1.")
    p.add_argument("certificates", nargs="+", metavar="CERT", help="certificate JSON files")
    p.add_argument("--format", choices=sorted(FORMATS), default="md", help="text format (default md)")
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
