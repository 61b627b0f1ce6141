"""``plproof certify``: run the built-in problems and print a summary table."""

from __future__ import annotations

import argparse

from plproof.cli.output import progress, table
from plproof.suite import BUILTIN_PROBLEMS
from plproof.summary import summarize


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("certify", help="run the built-in suite and print a summary",
                       description="Run the built-in example problems: lambda_min(K(w0)) at 50 digits, "
                                   "a beta estimate and a GD run, one row per problem.")
    p.add_argument("--digits", type=int, default=50, help="decimal digits for lambda_min (default 50)")
    p.add_argument("--steps", type=int, default=500, help="GD steps per problem (default 500)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rows = []
    for name in progress(list(BUILTIN_PROBLEMS), "built-in problems"):
        s = summarize(BUILTIN_PROBLEMS[name](), digits=args.digits, steps=args.steps)
        final = f"{s.gd.final_loss:.3e}" if s.gd else "-"
        note = "not certifiable: " + s.obstruction.split(":")[0] if s.obstruction else ""
        rows.append((name, s.n, s.m, f"{s.lambda0.lo:.6e}", s.lambda0.rigor.label, f"{s.beta_estimate.hi:.4g}",
                     final, note))
    print(table(["problem", "n", "m", "lambda_min K(w0)", "rigor", "beta est.", f"GD loss ({args.steps})", "note"],
                rows))
    return 0
