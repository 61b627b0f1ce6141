"""The ``plproof`` command line: argument parsing, progress and exit codes only (no maths here).

Each subcommand lives in its own module exposing ``register(subparsers)``; the module's
``run(args) -> int`` returns the exit code (0 certified/valid, 1 a claim failed, 2 bad input).
"""
