"""Entry point of the ``plproof`` console script."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from plproof._version import __version__
from plproof.errors import PlproofError

#: subcommand modules under plproof.cli, each with ``register(subparsers)``
SUBCOMMANDS = ("certify", "check", "derive", "verify", "report", "sweep", "rate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plproof",
        description="Machine-checked evidence for PL* and GD convergence of over-parameterised models.",
    )
    parser.add_argument("--version", action="version", version=f"plproof {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"plproof.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; errors a user can cause become one line on stderr and exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except PlproofError as exc:
        print(f"plproof {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"plproof {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
