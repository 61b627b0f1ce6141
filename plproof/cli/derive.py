"""``plproof derive``: check built-in derivations, the lecture notes, or a user's derivation file.

Exit 0 when every derivation checked is valid, 1 when a step is invalid or unverified (or a claim
is not proved), 2 on bad input (docs/derivations.md).
"""

from __future__ import annotations

import argparse
import runpy
from pathlib import Path

from plproof.cli.output import ProgressBar, add_output_options, print_json, style
from plproof.errors import InvalidInput
from plproof.symbolic import (
    Derivation,
    builtin,
    builtin_names,
    check,
    derivation_to_json,
    derivation_to_latex,
    derivation_to_text,
    seed_notes,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("derive", help="check derivations step by step with SymPy",
                       description="Check built-in derivations (all, or NAME), the lecture notes (--seed-notes) "
                                   "or FILE.py defining `derivation`. Each step is valid, invalid (with a "
                                   "counterexample) or unverified. Exit 0 if all valid, 1 otherwise, 2 on bad input.")
    p.add_argument("target", nargs="?", default=None,
                   help=f"a built-in name ({', '.join(builtin_names())}) or a FILE.py defining `derivation`")
    p.add_argument("--seed-notes", action="store_true", help="check the transcribed lecture notes")
    p.add_argument("--format", choices=("text", "json", "latex"), default="text", help="json is the same as --json")
    p.add_argument("--size-bound", type=int, default=3, help="largest n, M for identities with undefined F_i")
    p.add_argument("--samples", type=int, default=40, help="instances tried per counterexample search")
    add_output_options(p)
    p.set_defaults(run=run)


def load_file(path: str) -> Derivation:
    """The ``derivation`` a Python file defines (a Derivation, or a function returning one)."""
    file = Path(path)
    if not file.is_file():
        raise InvalidInput(f"derivation file {path} not found: give a path to a .py file defining `derivation`")
    try:
        ns = runpy.run_path(str(file), run_name="plproof_derivation")
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any error in the user's file is bad input, reported in one line
        raise InvalidInput(f"{path} failed to run: {exc.__class__.__name__}: {exc}") from None
    if "derivation" not in ns:
        raise InvalidInput(f"{path} defines no `derivation`: assign a plproof.symbolic.Derivation to it")
    d = ns["derivation"]
    if callable(d) and not isinstance(d, Derivation):
        d = d()
    if not isinstance(d, Derivation):
        raise InvalidInput(f"`derivation` in {path} is a {type(d).__name__}, not a plproof.symbolic.Derivation")
    return d


def _targets(args: argparse.Namespace) -> list[Derivation]:
    if args.seed_notes:
        if args.target:
            raise InvalidInput("give either --seed-notes or a derivation, not both")
        return [seed_notes()]
    if args.target is None:
        return [builtin(name) for name in builtin_names()]
    if args.target.endswith(".py") or Path(args.target).exists():
        return [load_file(args.target)]
    return [builtin(args.target)]


def run(args: argparse.Namespace) -> int:
    derivations = _targets(args)
    results = []
    with ProgressBar(len(derivations) if len(derivations) > 1 else None, "derive", quiet=args.quiet) as bar:
        for d in derivations:
            bar.step(d.name)
            results.append(check(d, size_bound=args.size_bound, samples=args.samples))
    bad = [r.derivation.name for r in results if not r.valid]
    if args.json or args.format == "json":
        docs = [derivation_to_json(r) for r in results]
        print_json(docs[0] if len(docs) == 1 else docs)
    elif args.quiet:
        for r in results:
            print(f"{r.derivation.name}: {style('valid', 'green') if r.valid else style('NOT VALID', 'red')}")
    else:
        render = derivation_to_latex if args.format == "latex" else derivation_to_text
        print("\n\n".join(render(r) for r in results))
        if len(results) > 1 and args.format == "text":
            total = sum(r.seconds for r in results)
            print(f"\n{len(results) - len(bad)} of {len(results)} derivations valid in {total:.1f} s"
                  + (f"; not valid: {', '.join(bad)}" if bad else ""))
    return 0 if not bad else 1
