"""``plproof certify``: derivations, properties and built-in problems, with certificates and an index."""

from __future__ import annotations

import argparse

from plproof.certification import certify_suite, suite_size
from plproof.cli.output import ProgressBar, table
from plproof.suite import SUITES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("certify", help="run the built-in suite and write certificates",
                       description="Check the built-in derivations, run the property catalogue and check the "
                                   "built-in problems; write one certificate each and an index.json. "
                                   "Exit 0 when every item has its expected outcome, 1 otherwise.")
    p.add_argument("--suite", default="default", choices=list(SUITES))
    p.add_argument("--profile", default="ci", choices=["ci", "thorough"], help="Hypothesis settings profile")
    p.add_argument("--seed", type=int, default=0, help="Hypothesis seed (the ci profile is derandomised)")
    p.add_argument("--out", default=None, help="output folder (default certificates/, or certificates/paper)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = args.out or ("certificates/paper" if args.suite == "paper" else "certificates")
    with ProgressBar(suite_size(args.suite), "certify") as bar:
        result = certify_suite(out, suite=args.suite, profile=args.profile, seed=args.seed,
                               progress=lambda kind, name: bar.step(f"{kind} {name}"))
    rows = [(e.kind, e.name, e.status, "yes" if e.ok else f"NO (expected {e.expected})", e.rigor,
             f"{e.seconds:.1f}s", e.path or "-") for e in result.entries]
    print(table(["kind", "name", "outcome", "as expected", "rigor", "time", "certificate"], rows))
    bad = [e for e in result.entries if not e.ok]
    print(f"\n{len(result.entries) - len(bad)} of {len(result.entries)} as expected; index: {result.index}")
    return 0 if not bad else 1
