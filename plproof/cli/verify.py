"""``plproof verify CERT... [--quick]``: re-check certificates; exit 0 valid, 1 invalid, 2 unreadable."""

from __future__ import annotations

import argparse
import sys

from plproof.errors import CertificateError
from plproof.verify import QUICK_FRACTION, verify


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="re-check certificates from their stored inputs",
                       description="Recompute every claim of each certificate (the digest alone proves nothing). "
                                   "Exit 0 if all are valid, 1 if a claim fails, 2 if a file cannot be read.")
    p.add_argument("certificates", nargs="+", metavar="CERT", help="certificate JSON files")
    p.add_argument("--quick", action="store_true",
                   help=f"property certificates re-run {QUICK_FRACTION:.0%} of their examples")
    p.add_argument("-v", "--verbose", action="store_true", help="list every claim re-checked")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    worst = 0
    for path in args.certificates:
        try:
            result = verify(path, quick=args.quick)
        except CertificateError as exc:
            print(f"plproof verify: {exc}", file=sys.stderr)
            worst = max(worst, 2)
            continue
        if result.valid:
            print(f"{path}: valid ({result.kind}, {len(result.checked)} checks)")
        else:
            print(f"{path}: INVALID: {result.first_failure}")
            worst = max(worst, 1)
        if args.verbose:
            for line in result.checked:
                print(f"  ok  {line}")
    return worst
