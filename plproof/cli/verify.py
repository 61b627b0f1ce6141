"""``plproof verify CERT... [--run-code] [--json]``: re-check certificates.

Exit 0 if every certificate is valid, 1 if a claim fails, 3 if one cannot be re-checked here (user
code without --run-code, a missing data file), 2 if a file cannot be read. The worst code wins.
"""

from __future__ import annotations

import argparse
import json
import sys

from plproof.errors import CertificateError
from plproof.verify import verify


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="re-check certificates from their stored inputs",
                       description="Re-derive every claim of each certificate from its inputs and hints (the digest "
                                   "alone proves nothing). Exit 0: all valid; 1: a claim fails; 3: not re-checkable "
                                   "here (say --run-code to run user code); 2: a file cannot be read.")
    p.add_argument("certificates", nargs="+", metavar="CERT", help="certificate JSON files")
    p.add_argument("--run-code", action="store_true",
                   help="run the code a certificate depends on (property tests, user models); off by default")
    p.add_argument("--json", action="store_true", help="one JSON object per certificate on stdout")
    p.add_argument("-v", "--verbose", action="store_true", help="list every claim re-checked")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    worst = 0
    rank = {0: 0, 3: 1, 1: 2, 2: 3}  # valid < not re-checkable < invalid < unreadable
    for path in args.certificates:
        try:
            result = verify(path, run_code=args.run_code)
        except CertificateError as exc:
            if args.json:
                print(json.dumps({"path": path, "outcome": "unreadable", "reason": str(exc), "exit_code": 2}))
            else:
                print(f"plproof verify: {exc}", file=sys.stderr)
            worst = max(worst, 2, key=rank.__getitem__)
            continue
        worst = max(worst, result.exit_code, key=rank.__getitem__)
        if args.json:
            print(json.dumps({"path": path, **result.to_json()}))
            continue
        print(f"{path}: {result.summary()}")
        if args.verbose:
            for line in result.checked:
                print(f"  ok  {line}")
    return worst
