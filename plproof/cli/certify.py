"""``plproof certify``: derivations, properties and built-in problems, with certificates and an index."""

from __future__ import annotations

import argparse

from plproof.certification import CertifyResult, certify_suite, suite_size
from plproof.cli.output import ProgressBar, add_output_options, print_json, style, table
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
    add_output_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = args.out or ("certificates/paper" if args.suite == "paper" else "certificates")
    with ProgressBar(suite_size(args.suite), "certify", quiet=args.quiet) as bar:
        result = certify_suite(out, suite=args.suite, profile=args.profile, seed=args.seed,
                               progress=lambda kind, name: bar.step(f"{kind} {name}"), resize=bar.grow)
    bad = [e for e in result.entries if not e.ok]
    if args.json:
        print_json({"suite": result.suite, "profile": result.profile, "seed": result.seed, "ok": result.ok,
                    "out": str(result.out_dir), "index": str(result.index),
                    "entries": [{**e.to_json(), "seconds": round(e.seconds, 3)} for e in result.entries]})
        return 0 if not bad else 1
    if not args.quiet:
        _report(result)
    summary = f"{len(result.entries) - len(bad)} of {len(result.entries)} as expected"
    print(f"{style(summary, 'red' if bad else 'green')}; certificates and index: {result.index}")
    return 0 if not bad else 1


def _report(result: CertifyResult) -> None:
    """The table of every item, then what was not as expected (with the property's failure report)."""
    rows = [(e.kind, e.name.removeprefix("test_"), e.status, "yes" if e.ok else "NO", e.rigor, f"{e.seconds:.1f}s")
            for e in result.entries]
    print(table(["kind", "name", "outcome", "as expected", "rigor", "time"], rows, shrink=1))
    for e in result.entries:
        if not e.ok:
            print(f"\n{e.kind} {e.name}: {e.status}, expected {e.expected}")
            if e.report:
                print(e.report)
    print()
