"""``plproof rate --class pl-cheap --L 1 --mu 0.2 --step 1 --steps N [--out F] [--json]``: an exact rate certificate.

Solves the performance-estimation SDP with PEPit (extra ``pep``), turns its dual into exact rational
multipliers and an LDL^T of the slack (docs/theory.md §6.4), and prints the certified tau beside the SDP
value and the textbook rates; ``--out`` writes the certificate, which ``plproof verify`` re-checks without
PEPit. Numbers are read exactly: ``0.2`` and ``1/5`` are the same mu.
"""

from __future__ import annotations

import argparse
import json
from fractions import Fraction

from plproof.verify.rate import CLASSES, MAX_STEPS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rate", help="an exact worst-case rate of GD on a PL class (needs PEPit to make)",
                       description="Certify f(x_N) - f* <= tau (f(x_0) - f*) for N GD steps with step h on every "
                                   "L-smooth mu-PL function (pl-cheap) or every function meeting the stronger "
                                   "necessary conditions of Rubbens-Hendrickx-Taylor 2025 (pl-expensive), from an "
                                   "exact rational dual of the performance-estimation SDP.")
    p.add_argument("--class", dest="cls", choices=CLASSES, default="pl-cheap", help="function class (default pl-cheap)")
    p.add_argument("--L", default="1", help="smoothness constant (default 1); decimals and p/q are exact")
    p.add_argument("--mu", required=True, help="PL constant, convention A: 1/2 ||grad f||^2 >= mu (f - f*)")
    p.add_argument("--step", required=True, help="GD step size h in (0, 2/L)")
    p.add_argument("--steps", type=int, default=1, help=f"number of GD steps N, 1 to {MAX_STEPS} (default 1)")
    p.add_argument("--tolerance", type=float, default=1e-6,
                   help="largest gap allowed between the certified tau and the SDP value (default 1e-6)")
    p.add_argument("--out", help="write the certificate to this file")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from plproof.certificate.format import write_certificate
    from plproof.rates.certificate import rate_certificate
    from plproof.rates.sweep import point

    cert = rate_certificate(args.cls, L=args.L, mu=args.mu, step=args.step, steps=args.steps,
                            tolerance=args.tolerance)
    path = str(write_certificate(cert, args.out)) if args.out else None
    p = point(cert, path)
    if args.json:
        print(json.dumps({"class": p.cls, "L": str(p.L), "mu": str(p.mu), "step": str(p.step), "steps": p.steps,
                          "tau": str(p.tau), "tau_float": float(p.tau), "sdp": p.sdp, "adz": p.adz,
                          "descent_lemma": p.descent, "gain": p.gain, "path": path, "claim": cert["claim"]["words"]}))
        return 0
    print(cert["claim"]["words"])
    print(f"certified tau  {p.tau} = {float(p.tau):.10f}")
    print(f"SDP value      {p.sdp:.10f}  (tau - SDP = {float(p.tau - Fraction(p.sdp)):.2e})")
    if p.adz is not None:
        print(f"ADZ (one step) {p.adz:.10f}")
    print(f"descent lemma  {p.descent:.10f}  (gain {p.gain:.6f})")
    if path:
        print(f"wrote {path}; check it with: plproof verify {path}")
    return 0
